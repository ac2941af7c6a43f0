//! On generated lakes, the warned institutions of every quarter equal the ones the generator
//! planted (`truth/warned.parquet`), and yellow counts follow the plan (a second yellow in the
//! year brings a red card).

use std::collections::BTreeSet;

use arrow::array::{Array, Int32Array, StringArray};
use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::Quarter;
use claimlake_engine::cells::{count, text};
use claimlake_engine::warn::warn_quarter;
use claimlake_lake::Lake;

async fn planted(lake: &Lake, q: Quarter) -> BTreeSet<(String, u64)> {
    let bytes = lake.get("truth/warned.parquet").await.unwrap();
    let mut out = BTreeSet::new();
    for b in parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 4096).unwrap() {
        let b = b.unwrap();
        let quarter = b
            .column_by_name("quarter")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone();
        let id = b
            .column_by_name("institution_id")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .clone();
        let yc = b
            .column_by_name("yellow_count_in_year")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone();
        for i in 0..b.num_rows() {
            if quarter.value(i) as u32 == q.quarter && !id.is_null(i) {
                out.insert((id.value(i).to_string(), yc.value(i) as u64));
            }
        }
    }
    out
}

/// The planted suspicions of a quarter: (rule_id, claim_id).
async fn planted_suspicions(lake: &Lake, q: Quarter) -> BTreeSet<(String, String)> {
    let bytes = lake.get("truth/suspicions.parquet").await.unwrap();
    let mut out = BTreeSet::new();
    for b in parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 8192).unwrap() {
        let b = b.unwrap();
        let quarter = b
            .column_by_name("quarter")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone();
        for i in 0..b.num_rows() {
            if quarter.value(i) as u32 == q.quarter {
                out.insert((text(&b, "rule_id", i), text(&b, "claim_id", i)));
            }
        }
    }
    out
}

async fn check_year(scale: Scale, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    claimlake_datagen::generate(&lake, &GenConfig::new(2025, scale, seed), &|_| {})
        .await
        .unwrap();
    let mut reds = 0;
    for quarter in 1..=4 {
        let q = Quarter {
            year: 2025,
            quarter,
        };
        let o = warn_quarter(&lake, q)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        let mut warned = BTreeSet::new();
        for b in o.table("cards") {
            for i in 0..b.num_rows() {
                if text(b, "color", i) == "yellow" {
                    warned.insert((
                        text(b, "institution_id", i),
                        count(b, "yellow_count_in_year", i),
                    ));
                } else {
                    reds += 1;
                    assert!(count(b, "yellow_count_in_year", i) >= 2);
                }
            }
        }
        assert_eq!(
            warned,
            planted(&lake, q).await,
            "{scale:?} {q}: warned = planted"
        );
        // Recall and precision 1.0 for R01-R08: exactly the planted (rule, claim) pairs.
        let mut found = BTreeSet::new();
        for b in o.table("suspicions") {
            for i in 0..b.num_rows() {
                found.insert((text(b, "rule_id", i), text(b, "claim_id", i)));
            }
        }
        let truth = planted_suspicions(&lake, q).await;
        let missed: Vec<_> = truth.difference(&found).take(5).collect();
        let extra: Vec<_> = found.difference(&truth).take(5).collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "{scale:?} {q}: missed {missed:?}, extra {extra:?}"
        );
        for rule in ["R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08"] {
            assert!(
                truth.iter().any(|(r, _)| r == rule),
                "{scale:?} {q}: {rule} planted"
            );
        }
    }
    assert!(
        reds > 0,
        "the plan warns some institution twice in the year"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_year_warned_equals_planted() {
    check_year(Scale::Tiny, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_year_warned_equals_planted() {
    check_year(Scale::Small, 5).await;
}
