//! End-to-end tests of the generator at tiny scale.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{Decimal128Type, Int32Type, Int64Type, TimestampMillisecondType};
use claimlake_datagen::{GenConfig, Scale, generate};
use claimlake_lake::Lake;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let f = File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

async fn gen_into(dir: &Path, cfg: &GenConfig) -> claimlake_datagen::GenSummary {
    let lake = Lake::open(dir.to_str().unwrap()).unwrap();
    generate(&lake, cfg, &|_| {}).await.unwrap()
}

fn tiny(seed: u64, months: std::ops::RangeInclusive<u32>) -> GenConfig {
    let mut cfg = GenConfig::new(2025, Scale::Tiny, seed);
    cfg.months = months;
    cfg
}

#[tokio::test]
async fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let cfg = tiny(7, 1..=2);
    let sa = gen_into(a.path(), &cfg).await;
    let sb = gen_into(b.path(), &cfg).await;
    assert_eq!(sa, sb);
    let fa = files(a.path());
    let fb = files(b.path());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(v == &fb[k], "{} differs between two runs", k.display());
    }
    assert!(
        fa.keys()
            .any(|k| k.starts_with("claims/year=2025/month=02"))
    );
    assert!(fa.contains_key(Path::new("policy/2025.toml")));
    assert!(fa.contains_key(Path::new("truth/quarantine_counts.parquet")));

    let _ = gen_into(c.path(), &tiny(8, 1..=2)).await;
    let fc = files(c.path());
    let key = Path::new("claims/year=2025/month=01/part-000.parquet");
    assert_ne!(fa[key], fc[key], "another seed must give other claims");
}

fn dec(b: &RecordBatch, name: &str, i: usize) -> i128 {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<Decimal128Type>()
        .value(i)
}

#[tokio::test]
async fn valid_rows_satisfy_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny(11, 1..=2);
    cfg.bad_rows_per_100k = 0; // every row must be valid
    let summary = gen_into(dir.path(), &cfg).await;
    assert_eq!(summary.bad_rows, 0);
    assert!(summary.claims > 2_000, "{summary:?}");
    let root = dir.path();
    let mut seen_visits = BTreeSet::new();
    let mut pays = BTreeSet::new();
    let mut pharmacy_account_only = 0;
    let mut pharmacy_prescribed = 0;
    for month in 1..=2u32 {
        let folder = root.join(format!("claims/year=2025/month={month:02}"));
        let mut item_totals: BTreeMap<String, i128> = BTreeMap::new();
        let ifolder = root.join(format!("claim_items/year=2025/month={month:02}"));
        for e in std::fs::read_dir(&ifolder).unwrap() {
            for b in read(&e.unwrap().path()) {
                let ids = b
                    .column_by_name("claim_id")
                    .unwrap()
                    .as_string::<i32>()
                    .clone();
                for i in 0..b.num_rows() {
                    *item_totals.entry(ids.value(i).to_string()).or_default() +=
                        dec(&b, "amount", i);
                }
            }
        }
        let (lo, hi) = {
            let d0 = chrono::NaiveDate::from_ymd_opt(2025, month, 1).unwrap();
            let d1 = chrono::NaiveDate::from_ymd_opt(2025, month + 1, 1).unwrap();
            let e = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            (
                (d0 - e).num_days() * 86_400_000,
                (d1 - e).num_days() * 86_400_000,
            )
        };
        for e in std::fs::read_dir(&folder).unwrap() {
            for b in read(&e.unwrap().path()) {
                let ids: StringArray = b
                    .column_by_name("claim_id")
                    .unwrap()
                    .as_string::<i32>()
                    .clone();
                let rev = b.column_by_name("reverses_claim_id").unwrap();
                let vt = b
                    .column_by_name("visit_type")
                    .unwrap()
                    .as_string::<i32>()
                    .clone();
                let pm = b
                    .column_by_name("pay_method")
                    .unwrap()
                    .as_string::<i32>()
                    .clone();
                let presc = b
                    .column_by_name("prescriber_institution_id")
                    .unwrap()
                    .clone();
                let st = b
                    .column_by_name("settle_time")
                    .unwrap()
                    .as_primitive::<TimestampMillisecondType>()
                    .clone();
                for i in 0..b.num_rows() {
                    let m = |n| dec(&b, n, i);
                    let total = m("total_amount");
                    assert_eq!(
                        total,
                        m("western_drug_amount")
                            + m("patent_drug_amount")
                            + m("herbal_amount")
                            + m("consumable_amount")
                            + m("service_amount"),
                        "fee parts of {}",
                        ids.value(i)
                    );
                    assert_eq!(
                        total,
                        m("pool_fund_paid")
                            + m("serious_illness_paid")
                            + m("other_fund_paid")
                            + m("account_paid")
                            + m("cash_paid"),
                        "payer parts of {}",
                        ids.value(i)
                    );
                    let t = st.value(i);
                    assert!(t >= lo && t < hi, "settle time of {}", ids.value(i));
                    let is_rev = !rev.is_null(i);
                    for c in claimlake_lake::contract::CLAIM_MONEY_COLUMNS {
                        let v = m(c);
                        assert!(
                            if is_rev { v <= 0 } else { v >= 0 },
                            "{c} of {}",
                            ids.value(i)
                        );
                    }
                    assert!(
                        m("vbp_amount").abs()
                            <= (m("western_drug_amount") + m("patent_drug_amount")).abs()
                    );
                    assert!(
                        m("key_drug_amount").abs()
                            <= (m("western_drug_amount")
                                + m("patent_drug_amount")
                                + m("herbal_amount"))
                            .abs()
                    );
                    if !is_rev {
                        assert!(m("vbp_points") >= m("vbp_amount"));
                        assert_eq!(
                            item_totals.get(ids.value(i)).copied(),
                            Some(total),
                            "items of {}",
                            ids.value(i)
                        );
                    }
                    seen_visits.insert(vt.value(i).to_string());
                    pays.insert((vt.value(i).to_string(), pm.value(i).to_string()));
                    if vt.value(i) == "pharmacy" && !is_rev {
                        if presc.is_null(i) {
                            assert_eq!(m("pool_fund_paid"), 0);
                            pharmacy_account_only += 1;
                        } else {
                            pharmacy_prescribed += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(seen_visits.len(), 4, "{seen_visits:?}");
    assert!(pays.contains(&("inpatient".to_string(), "case".to_string())));
    assert!(pays.contains(&("inpatient".to_string(), "item".to_string())));
    assert!(pays.contains(&("special_outpatient".to_string(), "case".to_string())));
    assert!(pharmacy_account_only > 0 && pharmacy_prescribed > 0);
}

#[tokio::test]
async fn policy_and_truth() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny(3, 1..=3);
    cfg.bad_rows_per_100k = 3_000;
    let summary = gen_into(dir.path(), &cfg).await;
    let root = dir.path();

    // the policy parses and validates, with every section and every cell
    let text = std::fs::read_to_string(root.join("policy/2025.toml")).unwrap();
    let policy = claimlake_domain::Policy::from_toml_str(&text, Some(2025))
        .unwrap_or_else(|e| panic!("policy does not validate: {e}\n{text}"));
    assert_eq!(policy.budgets.len(), 12);
    for section in [
        "[policy]",
        "[settlement]",
        "[settlement.inpatient_item_conversion]",
        "[[budget]]",
        "[[volume_price.threshold]]",
        "[[volume_price.override]]",
        "[[volume_price.tier]]",
        "[cards]",
        "[warnings]",
        "[warnings.margins]",
        "[warnings.associated]",
        "[rules]",
        "[rules.cluster_min_patients]",
        "[rules.institution]",
        "[score]",
        "[[score.release]]",
        "[[score.indicator]]",
    ] {
        assert!(text.contains(section), "missing {section}");
    }

    // every quarantine reason appears in the truth at a raised bad-row rate
    let q = read(&root.join("truth/quarantine_counts.parquet"));
    let mut reasons = BTreeSet::new();
    let mut total_claims_q = 0i64;
    for b in &q {
        let t = b.column_by_name("table").unwrap().as_string::<i32>();
        let r = b.column_by_name("reason").unwrap().as_string::<i32>();
        let n = b
            .column_by_name("rows")
            .unwrap()
            .as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            assert!(n.value(i) > 0);
            reasons.insert((t.value(i).to_string(), r.value(i).to_string()));
            if t.value(i) == "claims" {
                total_claims_q += n.value(i);
            }
        }
    }
    let claims_reasons = [
        "missing_field",
        "bad_enum",
        "fee_parts_mismatch",
        "payer_parts_mismatch",
        "negative_amount",
        "vbp_exceeds_drugs",
        "unknown_institution",
        "invalid_prescriber",
        "visit_type_mismatch",
        "wrong_partition",
        "duplicate_claim",
        "orphan_reversal",
        "reversal_mismatch",
        "inpatient_dates",
        "pharmacy_fund_without_prescriber",
    ];
    for r in claims_reasons {
        assert!(
            reasons.contains(&("claims".into(), r.into())),
            "no {r} in {reasons:?}"
        );
    }
    for r in ["orphan_item", "claim_quarantined"] {
        assert!(
            reasons.contains(&("claim_items".into(), r.into())),
            "no {r}"
        );
    }

    // reconciliation adds up
    for b in read(&root.join("truth/reconciliation.parquet")) {
        let col = |n| {
            b.column_by_name(n)
                .unwrap()
                .as_primitive::<Int64Type>()
                .clone()
        };
        let (rd, us, qu, ne) = (col("read"), col("used"), col("quarantined"), col("netted"));
        for i in 0..b.num_rows() {
            assert_eq!(rd.value(i), us.value(i) + qu.value(i) + ne.value(i));
        }
    }
    assert_eq!(
        summary.bad_rows as i64,
        total_claims_q
            + q.iter()
                .map(|b| {
                    let t = b.column_by_name("table").unwrap().as_string::<i32>();
                    let r = b.column_by_name("reason").unwrap().as_string::<i32>();
                    let n = b
                        .column_by_name("rows")
                        .unwrap()
                        .as_primitive::<Int64Type>();
                    (0..b.num_rows())
                        .filter(|&i| t.value(i) == "claim_items" && r.value(i) == "orphan_item")
                        .map(|i| n.value(i))
                        .sum::<i64>()
                })
                .sum::<i64>()
    );

    // suspicions: every rule planted in Q1; warned institutions of Q1
    let s = read(&root.join("truth/suspicions.parquet"));
    let mut rules = BTreeSet::new();
    for b in &s {
        let r = b.column_by_name("rule_id").unwrap().as_string::<i32>();
        let qq = b
            .column_by_name("quarter")
            .unwrap()
            .as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            assert_eq!(qq.value(i), 1);
            rules.insert(r.value(i).to_string());
        }
    }
    assert_eq!(rules.len(), 8, "{rules:?}");
    assert_eq!(
        summary.planted_suspicions as usize,
        s.iter().map(|b| b.num_rows()).sum::<usize>()
    );
    let w = read(&root.join("truth/warned.parquet"));
    assert_eq!(
        w.iter().map(|b| b.num_rows()).sum::<usize>(),
        1,
        "one institution warned in Q1"
    );
}

#[test]
fn generate_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let cfg = tiny(1, 1..=1);
    let progress = |_: &claimlake_datagen::Progress| {};
    let fut = generate(&lake, &cfg, &progress);
    assert_send(&fut);
    drop(fut);
}

#[test]
fn scale_parses() {
    assert_eq!("city".parse::<Scale>().unwrap(), Scale::City);
    assert_eq!("Small".parse::<Scale>().unwrap(), Scale::Small);
    assert!("huge".parse::<Scale>().is_err());
    let cfg = GenConfig::new(2025, Scale::Tiny, 1);
    assert_eq!(cfg.months, 1..=12);
    assert_eq!(cfg.bad_rows_per_100k, 30);
}
