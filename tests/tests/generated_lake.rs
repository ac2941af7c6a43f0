//! On a generated lake, the quarantine counts and the row reconciliation that `validate` reports
//! equal the generator's ground truth exactly (`truth/quarantine_counts.parquet`,
//! `truth/reconciliation.parquet`).

use std::collections::BTreeMap;

use arrow::array::{Array, Int32Array, Int64Array, RecordBatch, StringArray};
use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::Month;
use claimlake_engine::ingest::validate_month;
use claimlake_engine::session::new_session;
use claimlake_lake::Lake;

async fn read_truth(lake: &Lake, name: &str) -> Vec<RecordBatch> {
    let bytes = lake
        .get(&format!("truth/{name}"))
        .await
        .expect("truth file");
    parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 4096)
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> &'a T {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("type of {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_matches_generator_truth() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let mut cfg = GenConfig::new(2025, Scale::Tiny, 7);
    cfg.months = 1..=3;
    cfg.bad_rows_per_100k = 2_000;
    claimlake_datagen::generate(&lake, &cfg, &|_| {})
        .await
        .expect("generate");

    let mut got: BTreeMap<(String, i32, i32, String), i64> = BTreeMap::new();
    let mut got_rec: BTreeMap<(String, i32, i32), [i64; 4]> = BTreeMap::new();
    for month in 1..=3u32 {
        let m = Month { year: 2025, month };
        let ctx = new_session(Some(2));
        let v = validate_month(&lake, &ctx, m).await.expect("validate");
        for (table, c) in [("claims", &v.claims), ("claim_items", &v.items)] {
            for (reason, n) in &c.quarantined {
                got.insert(
                    (table.into(), 2025, month as i32, reason.clone()),
                    *n as i64,
                );
            }
            got_rec.insert(
                (table.into(), 2025, month as i32),
                [
                    c.read as i64,
                    c.used as i64,
                    c.quarantined_total() as i64,
                    c.netted as i64,
                ],
            );
        }
    }

    let mut truth = BTreeMap::new();
    for b in read_truth(&lake, "quarantine_counts.parquet").await {
        let (t, y, m, r, n) = (
            col::<StringArray>(&b, "table"),
            col::<Int32Array>(&b, "year"),
            col::<Int32Array>(&b, "month"),
            col::<StringArray>(&b, "reason"),
            col::<Int64Array>(&b, "rows"),
        );
        for i in 0..b.num_rows() {
            if m.value(i) <= 3 && !n.is_null(i) && n.value(i) > 0 {
                truth.insert(
                    (
                        t.value(i).to_string(),
                        y.value(i),
                        m.value(i),
                        r.value(i).to_string(),
                    ),
                    n.value(i),
                );
            }
        }
    }
    assert!(!truth.is_empty(), "the generator planted bad rows");
    assert_eq!(got, truth, "quarantine counts equal the ground truth");

    let mut truth_rec = BTreeMap::new();
    for b in read_truth(&lake, "reconciliation.parquet").await {
        let (t, y, m) = (
            col::<StringArray>(&b, "table"),
            col::<Int32Array>(&b, "year"),
            col::<Int32Array>(&b, "month"),
        );
        let (read, used, q, netted) = (
            col::<Int64Array>(&b, "read"),
            col::<Int64Array>(&b, "used"),
            col::<Int64Array>(&b, "quarantined"),
            col::<Int64Array>(&b, "netted"),
        );
        for i in 0..b.num_rows() {
            if m.value(i) <= 3 {
                truth_rec.insert(
                    (t.value(i).to_string(), y.value(i), m.value(i)),
                    [read.value(i), used.value(i), q.value(i), netted.value(i)],
                );
            }
        }
    }
    assert_eq!(
        got_rec, truth_rec,
        "read/used/quarantined/netted equal the ground truth"
    );
}
