//! Conformance: settling every month of `../shared/conformance/lake` (2025-01..2025-12, then
//! 2026-01), with the expected card ledger copied in until the warnings exist, gives exactly the
//! six settlement tables of `expected/` (compare.py), and settling `--through` in one go gives
//! byte-identical tables to settling month by month.

use claimlake_domain::period::Month;
use claimlake_engine::settle::settle_month;
use claimlake_lake::Lake;
use claimlake_tests::{assert_compare, conformance_dir, copy_tree};

const TABLES: &str =
    "point_values,settlement_lines,volume_price,statements,fund_split,excluded_claims";

fn months() -> Vec<Month> {
    let mut v: Vec<Month> = (1..=12).map(|month| Month { year: 2025, month }).collect();
    v.push(Month {
        year: 2026,
        month: 1,
    });
    v
}

async fn settled_lake(dir: &std::path::Path) -> Lake {
    copy_tree(&conformance_dir().join("lake"), dir).unwrap();
    copy_tree(
        &conformance_dir().join("expected/results/cards"),
        &dir.join("results/cards"),
    )
    .unwrap();
    let lake = Lake::open(dir.to_str().unwrap()).unwrap();
    for m in months() {
        settle_month(&lake, m)
            .await
            .unwrap_or_else(|e| panic!("settle {m}: {e}"));
    }
    lake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_tables_match_expected() {
    let work = tempfile::tempdir().unwrap();
    let lake_dir = work.path().join("lake");
    settled_lake(&lake_dir).await;
    assert_compare(&lake_dir, &["--tables", TABLES], "ALL MATCH (6 tables)");

    // Re-running the last month with the same inputs gives byte-identical result files.
    let lake = Lake::open(lake_dir.to_str().unwrap()).unwrap();
    let last = Month {
        year: 2026,
        month: 1,
    };
    let before: Vec<_> = read_results(&lake, last).await;
    settle_month(&lake, last).await.unwrap();
    assert_eq!(
        before,
        read_results(&lake, last).await,
        "re-run is byte-identical"
    );
}

async fn read_results(lake: &Lake, m: Month) -> Vec<(String, bytes::Bytes)> {
    let mut out = Vec::new();
    for t in TABLES.split(',') {
        let key = claimlake_lake::layout::monthly_result(t, m);
        out.push((key.clone(), lake.get(&key).await.unwrap()));
    }
    let report = claimlake_lake::layout::report("settlement", &m.to_string());
    out.push((report.clone(), lake.get(&report).await.unwrap()));
    out
}
