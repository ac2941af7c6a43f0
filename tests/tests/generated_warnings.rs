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

/// A generated year run as in production (settle each month, warn each quarter after its third
/// month): the institution planted with a Q1 yellow card has April's payment held and released
/// in May, and its later red card excludes its claims in the suspension month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_cards_act_on_the_settlement() {
    use claimlake_domain::period::Month;
    use claimlake_engine::cells::decimal;
    use claimlake_engine::settle::settle_month;

    let (_dir, lake) = claimlake_tests::fixtures::generated_lake(Scale::Tiny, 3).await;
    let mut statements = Vec::new();
    let mut excluded = Vec::new();
    let mut cards = Vec::new();
    for month in 1..=12u32 {
        let m = Month { year: 2025, month };
        let o = settle_month(&lake, m)
            .await
            .unwrap_or_else(|e| panic!("{m}: {e}"));
        statements.push(o.table("statements").to_vec());
        excluded.push(o.table("excluded_claims").to_vec());
        if month % 3 == 0 {
            let w = warn_quarter(&lake, m.quarter()).await.unwrap();
            cards.push(w.table("cards").to_vec());
        }
    }
    let row = |month: usize, id: &str| {
        statements[month - 1]
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |i| (b, i)))
            .find(|(b, i)| text(b, "institution_id", *i) == id)
            .map(|(b, i)| {
                let on_hold = b
                    .column_by_name("on_hold")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow::array::BooleanArray>()
                    .unwrap()
                    .value(i);
                let d = |c: &str| decimal(b, c, i).unwrap();
                (
                    on_hold,
                    d("payable_month"),
                    d("held_month"),
                    d("released_month"),
                    d("held_balance"),
                    d("paid_month"),
                )
            })
            .unwrap_or_else(|| panic!("{id} has a statement in month {month}"))
    };
    // The Q1 yellow that is followed by a red card later in the year.
    let mut q1_yellow = BTreeSet::new();
    for b in &cards[0] {
        for i in 0..b.num_rows() {
            q1_yellow.insert(text(b, "institution_id", i));
        }
    }
    let mut red: Option<(String, String)> = None;
    for q in &cards[1..] {
        for b in q {
            for i in 0..b.num_rows() {
                let id = text(b, "institution_id", i);
                if text(b, "color", i) == "red" && q1_yellow.contains(&id) && red.is_none() {
                    red = Some((id, text(b, "effect_from_month", i)));
                }
            }
        }
    }
    let (id, from) = red.expect("a planted institution gets a Q1 yellow and a later red card");

    // April: held (also a negative payable would be held); nothing paid.
    let (on_hold, payable, held, _, balance, paid) = row(4, &id);
    assert!(on_hold, "{id} on hold in April");
    assert_eq!(held, payable);
    assert_eq!(balance, held);
    assert_eq!(paid, rust_decimal::Decimal::ZERO);
    // The first month without hold releases the balance (the tiny plan holds 1 month).
    let hold_months = (4..=12).take_while(|m| row(*m, &id).0).count();
    let release = 4 + hold_months;
    assert!(release <= 12, "the hold ends within the year");
    {
        let (on_hold, payable, held, released, balance, paid) = row(release, &id);
        assert!(!on_hold);
        assert_eq!(held, rust_decimal::Decimal::ZERO);
        assert_eq!(released, row(release - 1, &id).4);
        assert_eq!(balance, rust_decimal::Decimal::ZERO);
        assert_eq!(paid, payable + released);
    }
    // The red card's month: the institution's claims are excluded as agreement_suspended.
    let month: usize = from[5..7].parse().unwrap();
    assert!(
        from.starts_with("2025"),
        "the tiny plan's red card acts in 2025: {from}"
    );
    {
        let n = excluded[month - 1]
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |i| (b, i)))
            .filter(|(b, i)| {
                text(b, "institution_id", *i) == id
                    && text(b, "reason", *i) == "agreement_suspended"
            })
            .count();
        assert!(n > 0, "{id}'s claims of {from} are excluded");
    }
}
