//! Conformance, the whole interleaved year as in production (conformance README): settle each
//! month, run each quarter's warnings after its third month (its cards act on the following
//! months), settle January 2026 — with the engine's own card ledger, nothing copied from
//! `expected/`. Then score 2025 (the lake holds 2024's scores for the no-renewal rule). The
//! settlement, warning and score tables must equal `expected/` exactly (compare.py). Every run
//! goes through the production path (`runs`: lock, staging, publish, manifest), so this also
//! shows that publishing leaves the results byte-for-byte what the computation made.

use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::runs;
use claimlake_lake::Lake;
use claimlake_tests::{assert_compare, conformance_dir, copy_tree};

const TABLES: &str = "point_values,settlement_lines,volume_price,statements,fund_split,\
excluded_claims,indicators,warnings,cards,suspicions,top_patients,scores,score_items";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_year_matches_expected() {
    let work = tempfile::tempdir().unwrap();
    let lake_dir = work.path().join("lake");
    copy_tree(&conformance_dir().join("lake"), &lake_dir).unwrap();
    let lake = Lake::open(lake_dir.to_str().unwrap()).unwrap();
    for quarter in 1..=4u32 {
        for k in 1..=3u32 {
            let m = Month {
                year: 2025,
                month: (quarter - 1) * 3 + k,
            };
            runs::settle(&lake, m)
                .await
                .unwrap_or_else(|e| panic!("settle {m}: {e}"));
        }
        let q = Quarter {
            year: 2025,
            quarter,
        };
        runs::warn(&lake, q)
            .await
            .unwrap_or_else(|e| panic!("warn {q}: {e}"));
    }
    runs::settle(
        &lake,
        Month {
            year: 2026,
            month: 1,
        },
    )
    .await
    .unwrap();
    let scored = runs::score(&lake, 2025)
        .await
        .unwrap_or_else(|e| panic!("score 2025: {e}"))
        .outcome;

    assert_compare(&lake_dir, &["--tables", TABLES], "ALL MATCH (13 tables)");

    // The report's guarantee totals reconcile exactly and carry the conformance pool
    // (expected/summary.json: 202713.08).
    let g = &scored.report.guarantee;
    assert_eq!(g.pool.to_string(), "202713.08");
    assert_eq!(g.reserve, g.released + g.forfeited + g.held_pending);
    assert_eq!(g.pool, g.bonus + g.undistributed);
    assert!(g.undistributed.is_zero());
    assert_eq!(scored.report.history.failing_without_history, 1);
    // Every publish finished: no journal, no staging, no lock left behind.
    for folder in ["publish/journal", "staging", "locks"] {
        assert!(
            lake.list(folder).await.unwrap().is_empty(),
            "{folder} is empty after the year"
        );
    }
}
