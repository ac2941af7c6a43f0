//! A settlement under a new policy version rebuilds the stored aggregates of the earlier months
//! first (they may depend on the policy: volume-price reductions, chemo diseases, conversion),
//! and the month's results record the version they were computed under.

use arrow::array::{Array, Int32Array};
use claimlake_domain::period::Month;
use claimlake_engine::settle::settle_month;
use claimlake_lake::{Lake, layout};
use claimlake_tests::{conformance_dir, copy_tree};

async fn versions(lake: &Lake, key: &str) -> Vec<i32> {
    let bytes = lake.get(key).await.unwrap();
    let mut out = Vec::new();
    for b in parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 4096).unwrap() {
        let b = b.unwrap();
        let v = b
            .column_by_name("policy_version")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone();
        out.extend((0..v.len()).map(|i| v.value(i)));
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_policy_version_rebuilds_earlier_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&conformance_dir().join("lake"), dir.path()).unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let jan = Month {
        year: 2025,
        month: 1,
    };
    let feb = Month {
        year: 2025,
        month: 2,
    };
    let mar = Month {
        year: 2025,
        month: 3,
    };
    settle_month(&lake, jan).await.unwrap();
    settle_month(&lake, feb).await.unwrap();
    let agg_jan = layout::monthly_result("settlement_aggregates", jan);
    assert_eq!(versions(&lake, &agg_jan).await, vec![1]);

    // The administrator adopts version 2 before March (same figures: the version is what the
    // stored aggregates are checked against).
    let text = String::from_utf8(lake.get("policy/2025.toml").await.unwrap().to_vec()).unwrap();
    let text = text.replacen("version = 1", "version = 2", 1);
    assert!(text.contains("version = 2"));
    lake.put("policy/2025.toml", bytes::Bytes::from(text))
        .await
        .unwrap();

    let o = settle_month(&lake, mar).await.unwrap();
    assert_eq!(o.policy.version, 2);
    assert_eq!(
        versions(&lake, &agg_jan).await,
        vec![2],
        "January's aggregates rebuilt"
    );
    assert_eq!(
        versions(&lake, &layout::monthly_result("settlement_aggregates", feb)).await,
        vec![2]
    );
    assert_eq!(
        versions(&lake, &layout::monthly_result("statements", mar)).await,
        vec![2],
        "March's results record the version"
    );
    // The official results of the closed months are untouched.
    assert_eq!(
        versions(&lake, &layout::monthly_result("statements", jan)).await,
        vec![1]
    );
}
