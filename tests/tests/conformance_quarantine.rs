//! Conformance: `validate` on every month of `../shared/conformance/lake` gives exactly the
//! quarantine counts of `../shared/conformance/expected` — checked here in Rust against
//! `quarantine_counts.parquet`, and by the reference `compare.py --quarantine-only`.

use std::collections::BTreeMap;

use arrow::array::{Array, Int32Array, Int64Array, StringArray};
use claimlake_domain::period::Month;
use claimlake_engine::ingest::validate_month;
use claimlake_engine::session::new_session;
use claimlake_lake::Lake;
use claimlake_tests::{assert_compare, conformance_dir, copy_tree};

type Counts = BTreeMap<(String, i32, u32, String), u64>;

fn expected_counts() -> Counts {
    let path = conformance_dir().join("expected/quarantine_counts.parquet");
    let file = std::fs::File::open(&path).expect("expected quarantine counts");
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024).unwrap();
    let mut out = Counts::new();
    for b in reader {
        let b = b.unwrap();
        let t = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        let y = b.column(1).as_any().downcast_ref::<Int32Array>().unwrap();
        let m = b.column(2).as_any().downcast_ref::<Int32Array>().unwrap();
        let r = b.column(3).as_any().downcast_ref::<StringArray>().unwrap();
        let n = b.column(4).as_any().downcast_ref::<Int64Array>().unwrap();
        for i in 0..b.num_rows() {
            assert!(!n.is_null(i));
            out.insert(
                (
                    t.value(i).to_string(),
                    y.value(i),
                    m.value(i) as u32,
                    r.value(i).to_string(),
                ),
                n.value(i) as u64,
            );
        }
    }
    out
}

fn months() -> Vec<Month> {
    let mut v: Vec<Month> = (1..=12).map(|month| Month { year: 2025, month }).collect();
    v.push(Month {
        year: 2026,
        month: 1,
    });
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_counts_match_expected() {
    let work = tempfile::tempdir().unwrap();
    let lake_dir = work.path().join("lake");
    copy_tree(&conformance_dir().join("lake"), &lake_dir).unwrap();
    let lake = Lake::open(lake_dir.to_str().unwrap()).unwrap();

    let mut got = Counts::new();
    for m in months() {
        let ctx = new_session(Some(2));
        let v = validate_month(&lake, &ctx, m)
            .await
            .unwrap_or_else(|e| panic!("{m}: {e}"));
        assert!(
            v.claims.reconciles() && v.items.reconciles(),
            "{m} reconciles"
        );
        for (table, c) in [("claims", &v.claims), ("claim_items", &v.items)] {
            for (reason, n) in &c.quarantined {
                got.insert((table.to_string(), m.year, m.month, reason.clone()), *n);
            }
        }
    }
    let expected = expected_counts();
    assert_eq!(
        got, expected,
        "quarantine counts differ from the conformance lake's"
    );

    // The reference comparison, as the conformance README prescribes.
    assert_compare(&lake_dir, &["--quarantine-only"], "ALL MATCH");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_matches_summary() {
    // summary.json is informative, but its reconciliation must agree with ours.
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(conformance_dir().join("expected/summary.json")).unwrap(),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let lake_dir = work.path().join("lake");
    copy_tree(&conformance_dir().join("lake"), &lake_dir).unwrap();
    let lake = Lake::open(lake_dir.to_str().unwrap()).unwrap();
    let mut totals: BTreeMap<(i32, &str), [u64; 4]> = BTreeMap::new();
    for m in months() {
        let ctx = new_session(Some(2));
        let v = validate_month(&lake, &ctx, m).await.unwrap();
        for (table, c) in [("claims", &v.claims), ("claim_items", &v.items)] {
            let t = totals.entry((m.year, table)).or_default();
            t[0] += c.read;
            t[1] += c.used;
            t[2] += c.quarantined_total();
            t[3] += c.netted;
        }
    }
    let text = summary.to_string();
    // every year's claim totals appear in the summary's reconciliation
    for ((year, table), [read, used, quarantined, netted]) in &totals {
        let rec = find_reconciliation(&summary, *year, table)
            .unwrap_or_else(|| panic!("no reconciliation for {year} {table} in {text:.400}"));
        assert_eq!(
            rec.get("read").and_then(|v| v.as_u64()),
            Some(*read),
            "{year} {table} read"
        );
        assert_eq!(
            rec.get("used").and_then(|v| v.as_u64()),
            Some(*used),
            "{year} {table} used"
        );
        assert_eq!(
            rec.get("quarantined").and_then(|v| v.as_u64()),
            Some(*quarantined),
            "{year} {table} quarantined"
        );
        assert_eq!(
            rec.get("netted").and_then(|v| v.as_u64()),
            Some(*netted),
            "{year} {table} netted"
        );
    }
}

/// Finds `{read, used, quarantined, netted}` for a year and table anywhere in summary.json.
fn find_reconciliation<'a>(
    v: &'a serde_json::Value,
    year: i32,
    table: &str,
) -> Option<&'a serde_json::Value> {
    let y = v
        .get(year.to_string())
        .or_else(|| v.get("years").and_then(|ys| ys.get(year.to_string())))?;
    let rec = y.get("reconciliation").or_else(|| y.get("rows"))?;
    rec.get(table)
}
