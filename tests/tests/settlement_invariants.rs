//! Invariants of the settlement on a generated `small` year (monthly-settlement.md, "Invariants
//! checked by tests"), and incremental = full: settling months one by one gives the same
//! December as a from-scratch rebuild of December.

use std::collections::BTreeMap;

use arrow::array::{Array, BooleanArray, Date32Array, Decimal128Array, RecordBatch, StringArray};
use claimlake_datagen::Scale;
use claimlake_domain::period::Month;
use claimlake_engine::ingest::validate_month;
use claimlake_engine::session::new_session;
use claimlake_engine::settle::{SettleOutcome, settle_month};
use claimlake_lake::Lake;
use rust_decimal::Decimal;

fn dec(b: &RecordBatch, col: &str, i: usize) -> Option<Decimal> {
    let a = b
        .column_by_name(col)?
        .as_any()
        .downcast_ref::<Decimal128Array>()?;
    (!a.is_null(i)).then(|| Decimal::from_i128_with_scale(a.value(i), a.scale() as u32))
}

fn text(b: &RecordBatch, col: &str, i: usize) -> Option<String> {
    let c = b
        .column_by_name(col)
        .unwrap_or_else(|| panic!("column {col}"));
    let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap();
    let a = c.as_any().downcast_ref::<StringArray>().unwrap();
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Budget conservation per outpatient cell: Σ amounts ≤ CB + EP × 0.0000005 + 0.005 per line;
/// an uncapped cell with only item points allocates its CB within that tolerance.
fn check_conservation(o: &SettleOutcome) {
    let mut sums: BTreeMap<(String, String), (Decimal, u32, bool)> = BTreeMap::new();
    for b in o.table("settlement_lines") {
        for i in 0..b.num_rows() {
            if text(b, "payment_class", i).as_deref() != Some("outpatient") {
                continue;
            }
            let fee = text(b, "fee_class", i).unwrap();
            if fee == "all" {
                continue; // flow lines re-route amounts already counted in the item lines
            }
            let key = (text(b, "budget_class", i).unwrap(), fee);
            let e = sums.entry(key).or_insert((Decimal::ZERO, 0, false));
            e.0 += dec(b, "amount", i).unwrap();
            e.1 += 1;
            e.2 |= text(b, "line_kind", i).as_deref() == Some("case")
                && dec(b, "effective_points", i).unwrap() != Decimal::ZERO;
        }
    }
    for b in o.table("point_values") {
        for i in 0..b.num_rows() {
            if text(b, "payment_class", i).as_deref() != Some("outpatient") {
                continue;
            }
            let key = (
                text(b, "budget_class", i).unwrap(),
                text(b, "fee_class", i).unwrap(),
            );
            let Some((sum, lines, has_case)) = sums.get(&key) else {
                continue;
            };
            let cb = dec(b, "cumulative_budget", i).unwrap();
            let ep = dec(b, "effective_points", i).unwrap();
            let tol = ep.abs() * d("0.0000005") + d("0.005") * Decimal::from(*lines);
            assert!(
                *sum <= cb + tol,
                "{} {key:?}: Σ amounts {sum} > CB {cb} + {tol}",
                o.month
            );
            let pv = dec(b, "point_value", i);
            let uncapped = pv.is_some() && pv == dec(b, "item_point_value", i);
            if uncapped && !has_case {
                assert!(
                    (*sum - cb).abs() <= tol,
                    "{} {key:?}: Σ {sum} vs CB {cb}",
                    o.month
                );
            }
        }
    }
}

/// Σ settlement_lines per institution = its settlement_cum; fund_cum = settlement - burden.
fn check_lines_sum(o: &SettleOutcome) -> BTreeMap<String, (Decimal, Decimal)> {
    let mut lines: BTreeMap<String, Decimal> = BTreeMap::new();
    for b in o.table("settlement_lines") {
        for i in 0..b.num_rows() {
            *lines
                .entry(text(b, "institution_id", i).unwrap())
                .or_default() += dec(b, "amount", i).unwrap();
        }
    }
    let mut out = BTreeMap::new();
    for b in o.table("statements") {
        for i in 0..b.num_rows() {
            let id = text(b, "institution_id", i).unwrap();
            let cum = dec(b, "settlement_cum", i).unwrap();
            assert_eq!(
                lines.get(&id).copied().unwrap_or_default(),
                cum,
                "{} {id}",
                o.month
            );
            let fund = dec(b, "fund_cum", i).unwrap();
            assert_eq!(fund, cum - dec(b, "personal_burden_cum", i).unwrap());
            out.insert(id, (fund, dec(b, "fund_month", i).unwrap()));
        }
    }
    out
}

/// Independent Step 3: Σ declared points of the month's settled claims, per payment class,
/// computed in Rust from the validated claims (no cards in this lake: exclusions are the
/// agreement dates and account-only purchases).
async fn declared_points_of_month(lake: &Lake, m: Month) -> (Decimal, Decimal) {
    let ctx = new_session(Some(2));
    validate_month(lake, &ctx, m).await.unwrap();
    let inst: Vec<RecordBatch> = ctx
        .sql("SELECT institution_id, agreement_start, agreement_end FROM institutions")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut agreement: BTreeMap<String, (Option<i32>, Option<i32>)> = BTreeMap::new();
    for b in &inst {
        let s = b.column(1).as_any().downcast_ref::<Date32Array>().unwrap();
        let e = b.column(2).as_any().downcast_ref::<Date32Array>().unwrap();
        for i in 0..b.num_rows() {
            agreement.insert(
                text(b, "institution_id", i).unwrap(),
                (
                    (!s.is_null(i)).then(|| s.value(i)),
                    (!e.is_null(i)).then(|| e.value(i)),
                ),
            );
        }
    }
    let rows: Vec<RecordBatch> = ctx
        .sql(
            "SELECT institution_id, prescriber_id, visit_type, special_disease, pay_method, \
              CAST(CAST(treat_time AS DATE) AS INT) AS day, sign, case_points, total_amount, \
              western_drug_amount, patent_drug_amount, herbal_amount, consumable_amount, \
              service_amount, vbp_amount, vbp_points FROM claims_basis",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let policy = claimlake_engine::settle::LoadedPolicy::clone(
        &claimlake_engine::settle::load_policy(lake, m.year)
            .await
            .unwrap(),
    );
    let conv = &policy.policy.settlement.inpatient_item_conversion;
    let (mut outpatient, mut inpatient) = (Decimal::ZERO, Decimal::ZERO);
    for b in &rows {
        let day = b
            .column_by_name("day")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>()
            .unwrap();
        let sign = b
            .column_by_name("sign")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        for i in 0..b.num_rows() {
            let visit = text(b, "visit_type", i).unwrap();
            let prescriber = text(b, "prescriber_id", i);
            if visit == "pharmacy" && prescriber.is_none() {
                continue; // account_only
            }
            let outside = |id: &str| {
                let (s, e) = agreement[id];
                s.is_some_and(|s| day.value(i) < s) || e.is_some_and(|e| day.value(i) > e)
            };
            if outside(&text(b, "institution_id", i).unwrap())
                || prescriber.as_deref().is_some_and(outside)
            {
                continue; // outside_agreement
            }
            let v = |c: &str| dec(b, c, i).unwrap_or_default();
            let case = text(b, "pay_method", i).as_deref() == Some("case");
            let s = Decimal::from(sign.value(i));
            if visit == "inpatient" {
                let p = if case {
                    v("case_points")
                } else {
                    (v("total_amount") * conv.points_per_weight
                        / (conv.base_avg_cost * conv.cpi_factor))
                        .round_dp_with_strategy(
                            4,
                            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                        )
                };
                inpatient += p * s;
            } else {
                let p = if case {
                    v("case_points")
                } else {
                    v("western_drug_amount") + v("patent_drug_amount") + v("consumable_amount")
                        - v("vbp_amount")
                        + v("vbp_points")
                        + v("herbal_amount")
                        + v("service_amount")
                };
                let chemo = visit == "special_outpatient"
                    && text(b, "special_disease", i).is_some_and(|d| {
                        policy
                            .policy
                            .settlement
                            .inpatient_budget_diseases
                            .contains(&d)
                    });
                if chemo {
                    inpatient += p * s
                } else {
                    outpatient += p * s
                }
            }
        }
    }
    (outpatient, inpatient)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_year_invariants_and_incremental_equals_full() {
    let (_dir, lake) = claimlake_tests::fixtures::generated_lake(Scale::Small, 11).await;

    let mut fund_month_sum: BTreeMap<String, Decimal> = BTreeMap::new();
    let (mut want_out, mut want_in) = (Decimal::ZERO, Decimal::ZERO);
    let mut last = None;
    for month in 1..=12 {
        let m = Month { year: 2025, month };
        let o = settle_month(&lake, m)
            .await
            .unwrap_or_else(|e| panic!("{m}: {e}"));
        check_conservation(&o);
        for (id, (_, fm)) in check_lines_sum(&o) {
            *fund_month_sum.entry(id).or_default() += fm;
        }
        let (po, pi) = declared_points_of_month(&lake, m).await;
        want_out += po;
        want_in += pi;
        last = Some(o);
    }
    let dec_outcome = last.unwrap();

    // December's fund_cum = Σ of the year's fund_month.
    for (id, (fund_cum, _)) in check_lines_sum(&dec_outcome) {
        assert_eq!(
            fund_month_sum[&id], fund_cum,
            "{id}: Σ fund_month = December fund_cum"
        );
    }

    // Every settled claim's points land in exactly one cell: Σ declared points over the cells
    // equals the independent per-claim computation (outpatient cells; inpatient cells incl. chemo).
    let (mut got_out, mut got_in) = (Decimal::ZERO, Decimal::ZERO);
    for b in dec_outcome.table("settlement_lines") {
        for i in 0..b.num_rows() {
            let kind = text(b, "line_kind", i).unwrap();
            if kind.starts_with("flow") {
                continue;
            }
            let p = dec(b, "declared_points", i).unwrap();
            if text(b, "payment_class", i).as_deref() == Some("outpatient") {
                got_out += p
            } else {
                got_in += p
            }
        }
    }
    assert_eq!(got_out, want_out, "outpatient declared points");
    assert_eq!(
        got_in, want_in,
        "inpatient declared points (converted, case and chemo)"
    );
    let floored = dec_outcome.table("point_values").iter().any(|b| {
        b.column_by_name("floored")
            .unwrap()
            .as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap()
            .true_count()
            > 0
    });
    assert!(!floored, "the generated budgets never floor");

    // Incremental = full: drop every stored aggregate and ledger, rebuild December from scratch.
    let dec_m = Month {
        year: 2025,
        month: 12,
    };
    let keys = [
        "point_values",
        "settlement_lines",
        "volume_price",
        "statements",
        "fund_split",
        "excluded_claims",
    ];
    let mut before = Vec::new();
    for t in keys {
        before.push(
            lake.get(&claimlake_lake::layout::monthly_result(t, dec_m))
                .await
                .unwrap(),
        );
    }
    for folder in [
        "results/settlement_aggregates",
        "results/settlement_doctor_days",
        "ledger",
    ] {
        lake.delete_prefix(folder).await.unwrap();
    }
    settle_month(&lake, dec_m).await.unwrap();
    for (t, b) in keys.iter().zip(before) {
        let after = lake
            .get(&claimlake_lake::layout::monthly_result(t, dec_m))
            .await
            .unwrap();
        assert!(
            after == b,
            "{t}: a from-scratch December equals the incremental one"
        );
    }
}
