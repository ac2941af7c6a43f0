//! Golden settlement tests: tiny hand-built lakes whose every expected number is worked out by
//! hand (monthly-settlement.md, README.md rounding) in the comment beside its assertion.
//!
//! Conventions of every lake here (tests/src/golden.rs): monthly weights 0.10 in January to
//! August, so `CB(Jan) = annual × 0.10` and `CB(Feb) = annual × 0.20`; item point value cap
//! 1.00; case surplus retention 0.50; quality guarantee rate 0.05; inpatient item conversion
//! `round4(total × 100 / (12000.00 × 1.0300))`. Registry: H1 and H3 tertiary hospitals, H2 TCM
//! hospital, C1 other-primary clinic, P1 and P2 pharmacies (unless a test writes its own).
//! round2/round4/round6 are half away from zero.

use claimlake_domain::period::Month;
use claimlake_engine::settle::{SettleOutcome, settle_month};
use claimlake_lake::Lake;
use claimlake_tests::fixtures::{ClaimRow, d, write_claims};
use claimlake_tests::golden::{
    Card, GoldenClaim, GoldenPolicy, Inst, ResultTable, golden_registry, write_cards, write_policy,
    write_registry, write_statements,
};

const JAN: Month = Month {
    year: 2025,
    month: 1,
};
const FEB: Month = Month {
    year: 2025,
    month: 2,
};
const MAR: Month = Month {
    year: 2025,
    month: 3,
};

/// 10 January 2025, 09:30: the settle time of most claims here.
const JAN10: &str = "2025-01-10 09:30:00";

async fn lake_with(registry: &[Inst], policy: &GoldenPolicy) -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_registry(&lake, registry).await;
    write_policy(&lake, 2025, policy);
    (dir, lake)
}

/// Settles month `m`; every hand-made claim must be valid (a quarantined row would silently
/// change the expected numbers).
async fn settle(lake: &Lake, m: Month) -> SettleOutcome {
    let out = settle_month(lake, m)
        .await
        .unwrap_or_else(|e| panic!("settle {m}: {e}"));
    assert_eq!(
        out.validation.claims.quarantined_total(),
        0,
        "no hand-made claim is quarantined: {:?}",
        out.validation.claims
    );
    out
}

fn table(out: &SettleOutcome, name: &str) -> ResultTable {
    ResultTable::new(name, out.table(name))
}

/// A claim at H1 (tertiary) on 10 January.
fn h1(id: &str) -> ClaimRow {
    ClaimRow::outpatient(id, "H1", JAN10)
}

// ---------------------------------------------------------------------------------------------

/// Step 6: a capped outpatient cell (PV above 1.00, item points paid at 1.00) and an uncapped one;
/// VBP bonus points accrue at PV_item; the statement chain of Step 9.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capped_and_uncapped_outpatient_cells() {
    let policy = GoldenPolicy::default().outpatient("tertiary", "6000.00", "2000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            // drug = 300 - 100 (vbp_amount) + 130 (vbp_points) = 330; other = 200
            h1("A1")
                .fees("300.00", "0", "0", "0", "200.00")
                .vbp("100.00", "130.00")
                .payers("400.00", "0", "0", "60.00", "40.00"),
            // drug = 100 + 20 + 10 = 130; other = 45
            h1("A2")
                .fees("100.00", "20.00", "0", "10.00", "45.00")
                .payers("100.00", "25.00", "0", "30.00", "20.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;

    let pv = table(&out, "point_values");
    let drug = pv.row(&[
        ("payment_class", "outpatient"),
        ("budget_class", "tertiary"),
        ("fee_class", "drug"),
    ]);
    assert_eq!(drug.dec("cumulative_budget"), d("600.00")); // 6000.00 × 0.10
    assert_eq!(drug.dec("effective_points"), d("460.0000")); // 330 + 130
    assert_eq!(drug.dec("point_value"), d("1.304348")); // round6(600 / 460 = 1.3043478…)
    assert_eq!(drug.dec("item_point_value"), d("1.000000")); // min(1.304348, cap 1.00)
    assert!(!drug.flag("floored"));
    let other = pv.row(&[
        ("payment_class", "outpatient"),
        ("budget_class", "tertiary"),
        ("fee_class", "other"),
    ]);
    assert_eq!(other.dec("cumulative_budget"), d("200.00")); // 2000.00 × 0.10
    assert_eq!(other.dec("effective_points"), d("245.0000")); // 200 + 45
    assert_eq!(other.dec("point_value"), d("0.816327")); // round6(200 / 245 = 0.8163265…)
    assert_eq!(other.dec("item_point_value"), d("0.816327")); // below the cap
    assert_eq!(pv.len(), 2);

    let lines = table(&out, "settlement_lines");
    assert_eq!(lines.len(), 2);
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("declared_points"), d("460.0000"));
    assert_eq!(l.dec("reduction_points"), d("0.0000"));
    assert_eq!(l.dec("effective_points"), d("460.0000"));
    assert_eq!(l.dec("actual_cost"), d("430.00")); // 300 + 100 + 20 + 10
    assert_eq!(l.dec("amount"), d("460.00")); // round2(460 × 1.00): capped, not 460 × 1.304348
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("effective_points"), d("245.0000"));
    assert_eq!(l.dec("amount"), d("200.00")); // round2(245 × 0.816327 = 200.000115)

    let st = table(&out, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("settlement_cum"), d("660.00")); // 460.00 + 200.00
    assert_eq!(s.dec("personal_burden_cum"), d("150.00")); // (60 + 40) + (30 + 20)
    assert_eq!(s.dec("fund_cum"), d("510.00")); // 660 - 150
    assert_eq!(s.dec("fund_month"), d("510.00")); // January: nothing settled before
    // VBP bonus B = max(0, 130 - 100) = 30 points of A1; round2(30 × PV_item 1.00)
    assert_eq!(s.dec("vbp_accrued_cum"), d("30.00"));
    assert_eq!(s.dec("vbp_accrued_month"), d("30.00"));
    assert_eq!(s.dec("withheld_month"), d("24.00")); // round2((510 - 30) × 0.05)
    assert_eq!(s.dec("payable_month"), d("456.00")); // 510 - 30 - 24
    assert!(!s.flag("on_hold"));
    assert_eq!(s.dec("held_month"), d("0.00"));
    assert_eq!(s.dec("held_balance"), d("0.00"));
    assert_eq!(s.dec("released_month"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("456.00")); // 456 - 0 + 0
    assert_eq!(s.dec("account_month"), d("90.00")); // 60 + 30
    assert_eq!(s.int("claims_settled_month"), 2);
    assert_eq!(s.int("claims_excluded_month"), 0);

    // No thresholds configured: two volume_price rows, threshold and excess null, reduction 0.
    let vp = table(&out, "volume_price");
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "drug")]);
    assert_eq!(v.dec("adjustable_points"), d("330.0000")); // (300 - 100) + (100 + 20 + 10)
    assert_eq!(v.int("doctor_days"), 1); // D1 on 10 January
    assert_eq!(v.opt_dec("threshold"), None);
    assert_eq!(v.opt_dec("excess"), None);
    assert_eq!(v.dec("reduction"), d("0.0000"));
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "other")]);
    assert_eq!(v.dec("adjustable_points"), d("245.0000")); // service 200 + 45
    assert_eq!(v.dec("reduction"), d("0.0000"));

    // Fund split: 510.00 over pool 500 and serious illness 25 (employee, total 525):
    // round2(510 × 500/525 = 485.714…) = 485.71; round2(510 × 25/525 = 24.285…) = 24.29;
    // 485.71 + 24.29 = 510.00, no residual.
    let fs = table(&out, "fund_split");
    assert_eq!(fs.len(), 2);
    let f = fs.row(&[
        ("institution_id", "H1"),
        ("payment_class", "outpatient"),
        ("insurance_type", "employee"),
        ("fund_kind", "pool"),
    ]);
    assert_eq!(f.dec("amount_cum"), d("485.71"));
    assert_eq!(f.dec("amount_month"), d("485.71"));
    let f = fs.row(&[("institution_id", "H1"), ("fund_kind", "serious_illness")]);
    assert_eq!(f.dec("amount_cum"), d("24.29"));
}

/// Step 6, case payment: an allocation above actual cost keeps actual + 50% of the surplus; one
/// below actual cost is paid the allocation. Case points use the uncapped PV, item points PV_item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_surplus_above_and_below_actual() {
    let policy = GoldenPolicy::default().outpatient("tertiary", "4600.00", "700.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            // case 180: raw drug 80 → drug = min(80, 180) = 80, other = 180 - 80 = 100;
            // drug_cost 80, other_cost 120
            h1("C1")
                .case("180.0000")
                .fees("80.00", "0", "0", "0", "120.00")
                .payers("160.00", "0", "0", "0", "40.00"),
            // case 120: raw drug 150 → drug = min(150, 120) = 120, other = 0;
            // drug_cost 150, other_cost 30 (counts as actual though it has no other points)
            h1("C2")
                .case("120.0000")
                .fees("150.00", "0", "0", "0", "30.00")
                .payers("150.00", "0", "0", "0", "30.00"),
            // item: drug 100, other 0
            h1("I1")
                .fees("100.00", "0", "0", "0", "0")
                .payers("90.00", "0", "0", "0", "10.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;

    let pv = table(&out, "point_values");
    let drug = pv.row(&[("budget_class", "tertiary"), ("fee_class", "drug")]);
    assert_eq!(drug.dec("cumulative_budget"), d("460.00")); // 4600 × 0.10
    assert_eq!(drug.dec("effective_points"), d("300.0000")); // case 80 + 120, item 100
    assert_eq!(drug.dec("point_value"), d("1.533333")); // round6(460 / 300 = 1.5333…)
    assert_eq!(drug.dec("item_point_value"), d("1.000000"));
    let other = pv.row(&[("budget_class", "tertiary"), ("fee_class", "other")]);
    assert_eq!(other.dec("cumulative_budget"), d("70.00"));
    assert_eq!(other.dec("effective_points"), d("100.0000")); // case 100 + 0, item 0
    assert_eq!(other.dec("point_value"), d("0.700000")); // 70 / 100

    let lines = table(&out, "settlement_lines");
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "case"),
    ]);
    assert_eq!(l.dec("effective_points"), d("200.0000"));
    assert_eq!(l.dec("actual_cost"), d("230.00")); // 80 + 150
    // alloc = round2(200 × 1.533333 = 306.6666) = 306.67 > actual 230.00:
    // 230.00 + round2(0.50 × 76.67 = 38.335) = 230.00 + 38.34 = 268.34
    assert_eq!(l.dec("amount"), d("268.34"));
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "case"),
    ]);
    assert_eq!(l.dec("effective_points"), d("100.0000"));
    assert_eq!(l.dec("actual_cost"), d("150.00")); // 120 + 30
    // alloc = round2(100 × 0.700000) = 70.00 ≤ actual 150.00: paid the allocation
    assert_eq!(l.dec("amount"), d("70.00"));
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("amount"), d("100.00")); // round2(100 × PV_item 1.00), not × 1.533333
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("amount"), d("0.00")); // I1 has no other points

    let s = table(&out, "statements");
    let s = s.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("settlement_cum"), d("438.34")); // 268.34 + 70.00 + 100.00 + 0.00
    assert_eq!(s.dec("personal_burden_cum"), d("80.00")); // 40 + 30 + 10
    assert_eq!(s.dec("fund_cum"), d("358.34"));
    assert_eq!(s.dec("withheld_month"), d("17.92")); // round2(358.34 × 0.05 = 17.917)
    assert_eq!(s.dec("payable_month"), d("340.42")); // 358.34 - 0 - 17.92
    assert_eq!(s.dec("paid_month"), d("340.42"));

    // Case claims have no adjustable points (art 18(3)): only I1's 100 drug points.
    let vp = table(&out, "volume_price");
    assert_eq!(
        vp.row(&[("institution_id", "H1"), ("fee_class", "drug")])
            .dec("adjustable_points"),
        d("100.0000")
    );
    assert_eq!(
        vp.row(&[("institution_id", "H1"), ("fee_class", "other")])
            .dec("adjustable_points"),
        d("0.0000")
    );
}

/// Step 4: every volume-price tier, an institution override, an institution under the class
/// threshold (excess 0), and a budget institution with zero doctor-days (flowed-in only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_price_tiers_override_and_zero_doctor_days() {
    let policy = GoldenPolicy::default()
        .outpatient("tertiary", "10000.00", "10000.00")
        .outpatient("other_primary", "1000.00", "1000.00")
        .threshold("tertiary", "drug", "100.00")
        .threshold("tertiary", "other", "500.00")
        .threshold("other_primary", "drug", "50.00")
        .threshold_override("H1", "other", "25.00")
        .example_tiers(); // 0–0.10 at 0.90, 0.10–0.20 at 0.70, 0.20– at 0.50
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            // H1: doctors D1 and D2 on 10 January → D = 2 doctor-days (V3 repeats D1's day)
            h1("V1")
                .doctor("D1")
                .fees("150.55", "0", "0", "0", "30.00")
                .payers("150.55", "0", "0", "0", "30.00"),
            h1("V2")
                .doctor("D2")
                .fees("120.00", "0", "0", "0", "20.00")
                .payers("120.00", "0", "0", "0", "20.00"),
            h1("V3")
                .doctor("D1")
                .fees("30.00", "0", "0", "0", "10.00")
                .payers("30.00", "0", "0", "0", "10.00"),
            // H3: one doctor-day, under the class thresholds
            ClaimRow::outpatient("W1", "H3", JAN10)
                .doctor("D3")
                .fees("10.00", "0", "0", "0", "400.00")
                .payers("300.00", "0", "0", "0", "110.00"),
            // C1: only a prescription filled at P1 → adjustable 80, no own visits, D = 0
            ClaimRow::pharmacy("F1", "P1", Some("C1"), JAN10)
                .fees("80.00", "0", "0", "0", "0")
                .payers("60.00", "0", "0", "0", "20.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;
    let vp = table(&out, "volume_price");
    assert_eq!(vp.len(), 6, "two rows for each of H1, H3, C1");

    // H1 drug: A = 150.55 + 120 + 30 = 300.55; T = 100.00 × 2 = 200; E = 100.55.
    // tier 1 [0, 20):  20 × (1 - 0.90) = 2.00
    // tier 2 [20, 40): 20 × (1 - 0.70) = 6.00
    // tier 3 [40, ∞): 60.55 × (1 - 0.50) = 30.275
    // reduction = round4(38.275) = 38.2750
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "drug")]);
    assert_eq!(v.dec("adjustable_points"), d("300.5500"));
    assert_eq!(v.int("doctor_days"), 2);
    assert_eq!(v.dec("threshold"), d("200.0000"));
    assert_eq!(v.dec("excess"), d("100.5500"));
    assert_eq!(v.dec("reduction"), d("38.2750"));
    // H1 other: override 25.00 (not the class's 500.00) → T = 50; A = 30 + 20 + 10 = 60; E = 10.
    // tier 1 [0, 5): 5 × 0.10 = 0.5; tier 2 [5, 10): 5 × 0.30 = 1.5; tier 3: nothing → 2.0000
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "other")]);
    assert_eq!(v.dec("adjustable_points"), d("60.0000"));
    assert_eq!(v.dec("threshold"), d("50.0000"));
    assert_eq!(v.dec("excess"), d("10.0000"));
    assert_eq!(v.dec("reduction"), d("2.0000"));
    // H3: class thresholds, D = 1: drug T = 100 ≥ A 10, other T = 500 ≥ A 400 → E = 0
    let v = vp.row(&[("institution_id", "H3"), ("fee_class", "drug")]);
    assert_eq!(
        (
            v.int("doctor_days"),
            v.dec("threshold"),
            v.dec("excess"),
            v.dec("reduction")
        ),
        (1, d("100.0000"), d("0.0000"), d("0.0000"))
    );
    let v = vp.row(&[("institution_id", "H3"), ("fee_class", "other")]);
    assert_eq!(v.dec("adjustable_points"), d("400.0000"));
    assert_eq!(
        (v.dec("threshold"), v.dec("excess"), v.dec("reduction")),
        (d("500.0000"), d("0.0000"), d("0.0000"))
    );
    // C1: a threshold is configured (50.00) but D = 0 → threshold and excess null, no reduction
    let v = vp.row(&[("institution_id", "C1"), ("fee_class", "drug")]);
    assert_eq!(v.dec("adjustable_points"), d("80.0000"));
    assert_eq!(v.int("doctor_days"), 0);
    assert_eq!(v.opt_dec("threshold"), None);
    assert_eq!(v.opt_dec("excess"), None);
    assert_eq!(v.dec("reduction"), d("0.0000"));
    let v = vp.row(&[("institution_id", "C1"), ("fee_class", "other")]);
    assert_eq!(
        (
            v.dec("adjustable_points"),
            v.opt_dec("threshold"),
            v.dec("reduction")
        ),
        (d("0.0000"), None, d("0.0000"))
    );

    // The reductions come off H1's item lines.
    let lines = table(&out, "settlement_lines");
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("declared_points"), d("300.5500"));
    assert_eq!(l.dec("reduction_points"), d("38.2750"));
    assert_eq!(l.dec("effective_points"), d("262.2750")); // 300.55 - 38.275
    // tertiary drug PV = round6(1000 / (262.275 + 10) = 3.67…) > 1 → PV_item 1.00;
    // round2(262.275 × 1.00) = 262.28
    assert_eq!(l.dec("amount"), d("262.28"));
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("effective_points"), d("58.0000")); // 60 - 2
    assert_eq!(l.dec("amount"), d("58.00"));
    let pv = table(&out, "point_values");
    let drug = pv.row(&[("budget_class", "tertiary"), ("fee_class", "drug")]);
    assert_eq!(drug.dec("effective_points"), d("272.2750")); // 262.275 + H3's 10
    assert_eq!(drug.dec("point_value"), d("3.672757")); // round6(1000 / 272.275 = 3.6727573…)
    let other = pv.row(&[("budget_class", "tertiary"), ("fee_class", "other")]);
    assert_eq!(other.dec("effective_points"), d("458.0000")); // 58 + 400
}

/// Steps 3, 6 and 7: chemo claims valued at the outpatient point values and deducted from the
/// inpatient budget; the inpatient item conversion (round4); inpatient case surplus; a TCM
/// inpatient cell floored at 0 by its chemo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chemo_deduction_inpatient_conversion_and_floored_cell() {
    let policy = GoldenPolicy::default()
        .outpatient("tertiary", "1500.00", "800.00")
        .outpatient("tcm", "500.00", "1000.00")
        .budget("inpatient", "western", "all", "20000.00")
        .budget("inpatient", "tcm", "all", "1000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    let stay =
        |id: &str, inst: &str| ClaimRow::inpatient(id, inst, JAN10, "2025-01-02", "2025-01-09");
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            // H1 (tertiary → inpatient western)
            h1("O1")
                .fees("100.00", "0", "0", "0", "100.00")
                .payers("160.00", "0", "0", "0", "40.00"),
            h1("K1") // chemo, item: drug 60, other 40
                .special("cancer_chemo")
                .fees("60.00", "0", "0", "0", "40.00")
                .payers("90.00", "0", "0", "0", "10.00"),
            stay("N1", "H1") // DRG case 120.5 points, actual 1000.00
                .case("120.5000")
                .fees("400.00", "0", "0", "0", "600.00")
                .payers("800.00", "0", "0", "0", "200.00"),
            stay("N2", "H1") // item: converted points
                .item()
                .fees("2000.00", "0", "0", "0", "3000.00")
                .payers("4500.00", "0", "0", "0", "500.00"),
            // H2 (tcm → inpatient tcm)
            ClaimRow::outpatient("O2", "H2", JAN10)
                .fees("50.00", "0", "0", "0", "50.00")
                .payers("80.00", "0", "0", "0", "20.00"),
            ClaimRow::outpatient("K2", "H2", JAN10) // chemo: drug 200
                .special("cancer_chemo")
                .fees("200.00", "0", "0", "0", "0")
                .payers("180.00", "0", "0", "0", "20.00"),
            stay("N3", "H2")
                .case("50.0000")
                .fees("0", "0", "0", "0", "800.00")
                .payers("700.00", "0", "0", "0", "100.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;
    let pv = table(&out, "point_values");
    let lines = table(&out, "settlement_lines");

    // Outpatient tertiary: chemo points stay out of the cell (EP = O1 only).
    let c = pv.row(&[
        ("payment_class", "outpatient"),
        ("budget_class", "tertiary"),
        ("fee_class", "drug"),
    ]);
    assert_eq!(c.dec("effective_points"), d("100.0000"));
    assert_eq!(c.dec("point_value"), d("1.500000")); // 150.00 / 100 → PV_item 1.00
    let c = pv.row(&[
        ("payment_class", "outpatient"),
        ("budget_class", "tertiary"),
        ("fee_class", "other"),
    ]);
    assert_eq!(c.dec("point_value"), d("0.800000")); // 80.00 / 100

    // Chemo K1: round2(60 × PV_item 1.00) + round2(40 × 0.800000) = 60.00 + 32.00 = 92.00
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("payment_class", "inpatient"),
        ("line_kind", "chemo"),
    ]);
    assert_eq!(l.text("budget_class"), "western");
    assert_eq!(l.text("fee_class"), "all");
    assert_eq!(l.dec("declared_points"), d("100.0000")); // 60 + 40
    assert_eq!(l.dec("actual_cost"), d("100.00"));
    assert_eq!(l.dec("amount"), d("92.00"));

    // Inpatient western: CB = 2000.00, chemo deduction 92.00 → CB' = 1908.00.
    // N2 points = round4(5000.00 × 100 / (12000.00 × 1.0300) = 40.453074…) = 40.4531
    // EP = 120.5 + 40.4531 = 160.9531; PV = round6(1908 / 160.9531 = 11.8543849…) = 11.854385
    let w = pv.row(&[("payment_class", "inpatient"), ("budget_class", "western")]);
    assert_eq!(w.dec("cumulative_budget"), d("2000.00"));
    assert_eq!(w.dec("chemo_deduction"), d("92.00"));
    assert_eq!(w.dec("effective_points"), d("160.9531"));
    assert_eq!(w.dec("point_value"), d("11.854385"));
    assert_eq!(w.dec("item_point_value"), d("11.854385")); // no cap on inpatient
    assert!(!w.flag("floored"));
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("payment_class", "inpatient"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("declared_points"), d("40.4531"));
    assert_eq!(l.dec("amount"), d("479.55")); // round2(40.4531 × 11.854385 = 479.5466…)
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("payment_class", "inpatient"),
        ("line_kind", "case"),
    ]);
    assert_eq!(l.dec("declared_points"), d("120.5000"));
    assert_eq!(l.dec("actual_cost"), d("1000.00"));
    // alloc = round2(120.5 × 11.854385 = 1428.4533…) = 1428.45 > 1000.00:
    // 1000.00 + round2(0.50 × 428.45 = 214.225) = 1000.00 + 214.23 = 1214.23
    assert_eq!(l.dec("amount"), d("1214.23"));

    // Inpatient tcm: K2 = round2(200 × PV_item(tcm drug) = min(50.00/50, 1.00) = 1.00) = 200.00
    // > CB 100.00 → CB' floored at 0; PV = 0 / 50 = 0; N3 alloc 0.00 ≤ 800.00 → 0.00
    let t = pv.row(&[("payment_class", "inpatient"), ("budget_class", "tcm")]);
    assert_eq!(t.dec("cumulative_budget"), d("100.00"));
    assert_eq!(t.dec("chemo_deduction"), d("200.00"));
    assert!(t.flag("floored"));
    assert_eq!(t.dec("effective_points"), d("50.0000"));
    assert_eq!(t.dec("point_value"), d("0.000000"));
    let l = lines.row(&[
        ("institution_id", "H2"),
        ("payment_class", "inpatient"),
        ("line_kind", "chemo"),
    ]);
    assert_eq!(
        (l.text("budget_class"), l.dec("amount")),
        ("tcm".to_string(), d("200.00"))
    );
    let l = lines.row(&[
        ("institution_id", "H2"),
        ("payment_class", "inpatient"),
        ("line_kind", "case"),
    ]);
    assert_eq!(l.dec("amount"), d("0.00"));

    let st = table(&out, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    // 100.00 + 80.00 (outpatient) + 92.00 (chemo) + 479.55 + 1214.23 (inpatient)
    assert_eq!(s.dec("settlement_cum"), d("1965.78"));
    assert_eq!(s.dec("personal_burden_cum"), d("750.00")); // 40 + 10 + 200 + 500
    assert_eq!(s.dec("fund_cum"), d("1215.78"));
    let s = st.row(&[("institution_id", "H2")]);
    assert_eq!(s.dec("settlement_cum"), d("300.00")); // 50 + 50 + 200 + 0
    assert_eq!(s.dec("fund_cum"), d("160.00")); // 300 - (20 + 20 + 100)

    // Fund split by payment class; chemo counts as inpatient.
    // H1 inpatient: 92.00 + 479.55 + 1214.23 - (10 + 200 + 500) = 1075.78, all employee pool.
    let fs = table(&out, "fund_split");
    let f = fs.row(&[("institution_id", "H1"), ("payment_class", "inpatient")]);
    assert_eq!(f.dec("amount_cum"), d("1075.78"));
    let f = fs.row(&[("institution_id", "H1"), ("payment_class", "outpatient")]);
    assert_eq!(f.dec("amount_cum"), d("140.00")); // 180.00 - 40
    let f = fs.row(&[("institution_id", "H2"), ("payment_class", "inpatient")]);
    assert_eq!(f.dec("amount_cum"), d("80.00")); // 200 + 0 - (20 + 100)
}

/// Step 8: prescriptions filled at pharmacies; each (pharmacy, prescriber) pair is paid
/// min(flow, actual); an account-only purchase is excluded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pharmacy_flow_capped_at_actual() {
    let policy = GoldenPolicy::default().outpatient("tertiary", "5000.00", "1100.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            h1("O1")
                .fees("100.00", "0", "0", "0", "100.00")
                .payers("150.00", "0", "0", "30.00", "20.00"),
            // H1's prescription at P1: drug 80, other (herbal) 20, actual 100.00
            ClaimRow::pharmacy("F1", "P1", Some("H1"), JAN10)
                .fees("80.00", "0", "20.00", "0", "0")
                .payers("70.00", "0", "0", "20.00", "10.00"),
            // H1's prescription at P2: drug = 50 - 40 + 60 = 70 points, actual 50.00
            ClaimRow::pharmacy("F2", "P2", Some("H1"), JAN10)
                .fees("50.00", "0", "0", "0", "0")
                .vbp("40.00", "60.00")
                .payers("40.00", "0", "0", "0", "10.00"),
            // H3's prescription at P2: other (herbal) 100 points, actual 100.00
            ClaimRow::pharmacy("F4", "P2", Some("H3"), JAN10)
                .fees("0", "0", "100.00", "0", "0")
                .payers("90.00", "0", "0", "0", "10.00"),
            // personal-account purchase at P1
            ClaimRow::pharmacy("A1", "P1", None, JAN10)
                .fees("30.00", "0", "0", "0", "0")
                .payers("0", "0", "0", "25.00", "5.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;

    // drug EP = 100 + 80 + 70 = 250 → PV = 500 / 250 = 2.000000, PV_item 1.00;
    // other EP = 100 + 20 (H1) + 100 (H3) = 220 → PV = 110 / 220 = 0.500000
    let pv = table(&out, "point_values");
    assert_eq!(
        pv.row(&[("fee_class", "drug")]).dec("effective_points"),
        d("250.0000")
    );
    assert_eq!(
        pv.row(&[("fee_class", "drug")]).dec("point_value"),
        d("2.000000")
    );
    assert_eq!(
        pv.row(&[("fee_class", "other")]).dec("point_value"),
        d("0.500000")
    );

    let lines = table(&out, "settlement_lines");
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("declared_points"), d("250.0000")); // own 100 + flowed-in 80 + 70
    assert_eq!(l.dec("amount"), d("250.00"));
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("amount"), d("60.00")); // round2(120 × 0.5)
    // P1 ← H1: flow = round2(80 × 1.00) + round2(20 × 0.50) = 90.00 ≤ actual 100.00 → 90.00
    let l = lines.row(&[("institution_id", "P1"), ("line_kind", "flow_in")]);
    assert_eq!(
        (
            l.text("payment_class"),
            l.text("budget_class"),
            l.text("fee_class")
        ),
        ("outpatient".into(), "tertiary".into(), "all".into())
    );
    assert_eq!(l.dec("declared_points"), d("100.0000"));
    assert_eq!(l.dec("effective_points"), d("100.0000"));
    assert_eq!(l.dec("reduction_points"), d("0.0000"));
    assert_eq!(l.dec("actual_cost"), d("100.00"));
    assert_eq!(l.dec("amount"), d("90.00"));
    // P2 ← H1: flow = round2(70 × 1.00) = 70.00 > actual 50.00 → capped at 50.00;
    // P2 ← H3: flow = round2(100 × 0.50) = 50.00 ≤ actual 100.00 → 50.00;
    // one flow_in line of the pairs: 50.00 + 50.00 = 100.00 (capping the pharmacy's total
    // instead, min(70 + 50, 50 + 100) = 120.00, would be wrong: the cap is per pair)
    let l = lines.row(&[("institution_id", "P2"), ("line_kind", "flow_in")]);
    assert_eq!(l.dec("declared_points"), d("170.0000")); // 70 + 100
    assert_eq!(l.dec("actual_cost"), d("150.00")); // 50 + 100
    assert_eq!(l.dec("amount"), d("100.00"));
    // H3 has no visits of its own: its item line holds the flowed-in points, its flow_out
    // passes them on, and it still gets a statement (settlement 50.00 - 50.00 = 0).
    let l = lines.row(&[
        ("institution_id", "H3"),
        ("fee_class", "other"),
        ("line_kind", "item"),
    ]);
    assert_eq!(
        (l.dec("declared_points"), l.dec("amount")),
        (d("100.0000"), d("50.00"))
    );
    let l = lines.row(&[("institution_id", "H3"), ("line_kind", "flow_out")]);
    assert_eq!(
        (
            l.dec("declared_points"),
            l.dec("actual_cost"),
            l.dec("amount")
        ),
        (d("-100.0000"), d("-100.00"), d("-50.00"))
    );
    // H1's flow_out: both pairs, negated
    let l = lines.row(&[("institution_id", "H1"), ("line_kind", "flow_out")]);
    assert_eq!(l.text("fee_class"), "all");
    assert_eq!(l.dec("declared_points"), d("-170.0000")); // -(100 + 70)
    assert_eq!(l.dec("actual_cost"), d("-150.00")); // -(100 + 50)
    assert_eq!(l.dec("amount"), d("-140.00")); // -(90 + 50)

    let st = table(&out, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("settlement_cum"), d("170.00")); // 250 + 60 - 140
    assert_eq!(s.dec("personal_burden_cum"), d("50.00")); // O1 only: 30 + 20
    assert_eq!(s.dec("fund_cum"), d("120.00"));
    assert_eq!(s.dec("vbp_accrued_cum"), d("0.00")); // F2's VBP bonus is P2-filled, not own
    let s = st.row(&[("institution_id", "P1")]);
    assert_eq!(s.dec("settlement_cum"), d("90.00"));
    assert_eq!(s.dec("personal_burden_cum"), d("30.00")); // F1: 20 + 10 (A1 is not settled)
    assert_eq!(s.dec("fund_cum"), d("60.00"));
    assert_eq!(s.dec("account_month"), d("45.00")); // F1 20 + account-only A1 25
    assert_eq!(
        (
            s.int("claims_settled_month"),
            s.int("claims_excluded_month")
        ),
        (1, 1)
    );
    let s = st.row(&[("institution_id", "P2")]);
    assert_eq!(s.dec("settlement_cum"), d("100.00"));
    assert_eq!(s.dec("fund_cum"), d("80.00")); // 100 - (10 + 10)
    let s = st.row(&[("institution_id", "H3")]);
    assert_eq!(
        (
            s.dec("settlement_cum"),
            s.dec("fund_cum"),
            s.dec("paid_month")
        ),
        (d("0.00"), d("0.00"), d("0.00"))
    );
    assert_eq!(st.texts("institution_id"), ["H1", "H3", "P1", "P2"]);

    let ex = table(&out, "excluded_claims");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex.row(&[("claim_id", "A1")]).text("reason"), "account_only");

    // Flowed-in claims count in the prescriber's adjustable points (no doctor-days of their own):
    // drug 100 + 80 + (50 - 40) = 190; other 100 (herbal is exempt)
    let vp = table(&out, "volume_price");
    assert_eq!(
        vp.row(&[("institution_id", "H1"), ("fee_class", "drug")])
            .dec("adjustable_points"),
        d("190.0000")
    );
    assert_eq!(
        vp.row(&[("institution_id", "H1"), ("fee_class", "other")])
            .dec("adjustable_points"),
        d("100.0000")
    );
}

/// Step 1: a red card suspends H1 (its own claims and prescriptions filled elsewhere); claims
/// outside an agreement's dates (settling institution or prescriber); an account-only purchase;
/// the order of the checks (outside_agreement before account_only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_card_outside_agreement_and_account_only() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::clinic("C1", "other_primary").agreement(Some("2024-01-01"), Some("2025-01-15")),
        Inst::pharmacy("P1"),
        Inst::pharmacy("P2").agreement(None, Some("2024-12-31")),
    ];
    let policy = GoldenPolicy::default()
        .outpatient("tertiary", "1000.00", "1000.00")
        .outpatient("other_primary", "1000.00", "300.00");
    let (_dir, lake) = lake_with(&registry, &policy).await;
    // Q4 2024 red card for H1, issued and in force in January 2025 (one month).
    write_cards(&lake, 2024, 4, &[Card::red("H1", "2025-01", 1)]).await;
    let jan20 = "2025-01-20 10:00:00";
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            h1("X1"),                                          // agreement_suspended
            ClaimRow::pharmacy("X2", "P1", Some("H1"), JAN10), // prescriber suspended
            ClaimRow::outpatient("X3", "C1", jan20),           // after C1's agreement_end
            ClaimRow::pharmacy("X4", "P1", Some("C1"), jan20), // prescriber's agreement ended
            ClaimRow::pharmacy("X5", "P1", None, JAN10),       // account_only
            ClaimRow::pharmacy("X6", "P2", None, JAN10),       // outside_agreement first
            ClaimRow::outpatient("S1", "C1", JAN10) // settled
                .fees("40.00", "0", "0", "0", "60.00")
                .payers("70.00", "0", "0", "20.00", "10.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;

    let ex = table(&out, "excluded_claims");
    assert_eq!(ex.texts("claim_id"), ["X1", "X2", "X3", "X4", "X5", "X6"]);
    let reason = |id: &str| ex.row(&[("claim_id", id)]).text("reason");
    assert_eq!(reason("X1"), "agreement_suspended");
    assert_eq!(reason("X2"), "agreement_suspended");
    assert_eq!(reason("X3"), "outside_agreement");
    assert_eq!(reason("X4"), "outside_agreement");
    assert_eq!(reason("X5"), "account_only");
    assert_eq!(reason("X6"), "outside_agreement");
    assert_eq!(ex.row(&[("claim_id", "X2")]).text("institution_id"), "P1");

    // Only S1 is settled: other_primary drug 40 points (PV 100/40 → PV_item 1.00) = 40.00,
    // other 60 points at PV round6(30 / 60) = 0.5 → 30.00
    let lines = table(&out, "settlement_lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines
            .row(&[("institution_id", "C1"), ("fee_class", "drug")])
            .dec("amount"),
        d("40.00")
    );
    assert_eq!(
        lines
            .row(&[("institution_id", "C1"), ("fee_class", "other")])
            .dec("amount"),
        d("30.00")
    );

    let st = table(&out, "statements");
    assert_eq!(st.texts("institution_id"), ["C1", "H1", "P1", "P2"]);
    let s = st.row(&[("institution_id", "H1")]); // suspended: a row of zeros
    assert_eq!(s.dec("settlement_cum"), d("0.00"));
    assert_eq!(s.dec("fund_month"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("0.00"));
    assert_eq!(s.dec("account_month"), d("0.00")); // excluded (not account-only) claims
    assert_eq!(
        (
            s.int("claims_settled_month"),
            s.int("claims_excluded_month")
        ),
        (0, 1)
    );
    let s = st.row(&[("institution_id", "C1")]);
    assert_eq!(s.dec("settlement_cum"), d("70.00"));
    assert_eq!(s.dec("personal_burden_cum"), d("30.00")); // S1 only
    assert_eq!(s.dec("fund_cum"), d("40.00"));
    assert_eq!(s.dec("withheld_month"), d("2.00")); // round2(40 × 0.05)
    assert_eq!(s.dec("payable_month"), d("38.00"));
    assert_eq!(s.dec("account_month"), d("20.00")); // S1's 20; X3 (outside agreement) not
    assert_eq!(
        (
            s.int("claims_settled_month"),
            s.int("claims_excluded_month")
        ),
        (1, 1)
    );
    let s = st.row(&[("institution_id", "P1")]);
    assert_eq!(s.dec("settlement_cum"), d("0.00"));
    assert_eq!(s.dec("account_month"), d("80.00")); // X5 (account_only) only
    assert_eq!(
        (
            s.int("claims_settled_month"),
            s.int("claims_excluded_month")
        ),
        (0, 3)
    );
    let s = st.row(&[("institution_id", "P2")]);
    assert_eq!(s.dec("account_month"), d("0.00")); // X6 is outside_agreement, not account_only
}

/// Step 9: a yellow card holds January's payable; February (no hold) releases it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yellow_hold_and_release_next_month() {
    let policy = GoldenPolicy::default()
        .outpatient("tertiary", "100000.00", "100000.00")
        .outpatient("other_primary", "100000.00", "100000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_cards(&lake, 2024, 4, &[Card::yellow("H1", "2025-01", 1)]).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[h1("Y1")
            .fees("100.00", "0", "0", "0", "101.23")
            .payers("151.23", "0", "0", "30.00", "20.00")],
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[ClaimRow::outpatient("Y2", "H1", "2025-02-12 11:00:00")
            .fees("60.00", "0", "0", "0", "40.00")
            .payers("70.00", "0", "0", "20.00", "10.00")],
    )
    .await;

    // Both cells far above 1.00 per point: PV_item 1.00, amounts = points.
    // January: settlement 201.23, burden 50.00, fund 151.23;
    // withheld round2(151.23 × 0.05 = 7.5615) = 7.56; payable 143.67, all held.
    let jan = settle(&lake, JAN).await;
    let st = table(&jan, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_cum"), d("151.23"));
    assert_eq!(s.dec("fund_month"), d("151.23"));
    assert_eq!(s.dec("withheld_month"), d("7.56")); // withholding still applies under hold
    assert_eq!(s.dec("payable_month"), d("143.67"));
    assert!(s.flag("on_hold"));
    assert_eq!(s.dec("held_month"), d("143.67"));
    assert_eq!(s.dec("held_balance"), d("143.67"));
    assert_eq!(s.dec("released_month"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("0.00")); // 143.67 - 143.67 + 0

    // February: fund_cum 151.23 + (100 - 30) = 221.23, fund_month 70.00; withheld 3.50;
    // payable 66.50; released 143.67; paid 66.50 - 0 + 143.67 = 210.17; balance 0.
    let feb = settle(&lake, FEB).await;
    let st = table(&feb, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_cum"), d("221.23"));
    assert_eq!(s.dec("fund_month"), d("70.00"));
    assert_eq!(s.dec("withheld_month"), d("3.50"));
    assert_eq!(s.dec("payable_month"), d("66.50"));
    assert!(!s.flag("on_hold"));
    assert_eq!(s.dec("held_month"), d("0.00"));
    assert_eq!(s.dec("released_month"), d("143.67"));
    assert_eq!(s.dec("held_balance"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("210.17"));

    // March: no claim of H1 (only one at C1), nothing held or released; H1 still has a
    // statement row (it has claims in months 1..3).
    write_claims(
        &lake,
        2025,
        3,
        "part-000.parquet",
        &[ClaimRow::outpatient("Z1", "C1", "2025-03-03 09:00:00")],
    )
    .await;
    let mar = settle(&lake, MAR).await;
    let st = table(&mar, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_cum"), d("221.23"));
    assert_eq!(s.dec("fund_month"), d("0.00"));
    assert_eq!(s.dec("released_month"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("0.00"));
}

/// Step 9 claw-back: a February reversal of a January claim makes February's fund_month
/// negative; nothing is withheld from a negative month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_month_reversal_claws_back() {
    let policy = GoldenPolicy::default().outpatient("tertiary", "100000.00", "100000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    let a = h1("A")
        .fees("100.00", "0", "0", "0", "100.00")
        .payers("150.00", "0", "0", "30.00", "20.00");
    let b = h1("B")
        .fees("50.00", "0", "0", "0", "50.00")
        .payers("60.00", "0", "0", "20.00", "20.00");
    write_claims(&lake, 2025, 1, "part-000.parquet", &[a.clone(), b]).await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[a.reversal("RA", "2025-02-05 08:00:00")],
    )
    .await;

    // January: settlement 300.00 (PV_item 1.00), burden 90.00, fund 210.00;
    // withheld round2(210 × 0.05) = 10.50; payable = paid = 199.50.
    let jan = settle(&lake, JAN).await;
    let s = table(&jan, "statements");
    let s = s.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_cum"), d("210.00"));
    assert_eq!(s.dec("withheld_month"), d("10.50"));
    assert_eq!(s.dec("paid_month"), d("199.50"));

    // February: A's mirror takes its points and burden back: settlement 100.00, burden 40.00,
    // fund_cum 60.00; fund_month = 60 - 210 = -150.00; withheld round2(max(0, -150) × 0.05) = 0;
    // payable = paid = -150.00.
    let feb = settle(&lake, FEB).await;
    let lines = table(&feb, "settlement_lines");
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("declared_points"), d("50.0000")); // 100 + 50 - 100
    assert_eq!(l.dec("amount"), d("50.00"));
    let st = table(&feb, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("settlement_cum"), d("100.00"));
    assert_eq!(s.dec("personal_burden_cum"), d("40.00"));
    assert_eq!(s.dec("fund_cum"), d("60.00"));
    assert_eq!(s.dec("fund_month"), d("-150.00"));
    assert_eq!(s.dec("withheld_month"), d("0.00"));
    assert_eq!(s.dec("payable_month"), d("-150.00"));
    assert_eq!(s.dec("paid_month"), d("-150.00"));
    assert_eq!(s.dec("account_month"), d("-30.00")); // the mirror's account part, settled
    assert_eq!(s.int("claims_settled_month"), 0); // a mirror is not counted
    // The fund split follows: employee pool 210.00 → 60.00, month -150.00.
    let fs = table(&feb, "fund_split");
    let f = fs.row(&[
        ("institution_id", "H1"),
        ("insurance_type", "employee"),
        ("fund_kind", "pool"),
    ]);
    assert_eq!(f.dec("amount_cum"), d("60.00"));
    assert_eq!(f.dec("amount_month"), d("-150.00"));
    // A mirror adds no doctor-days: H1 has no February item claims of its own except the mirror,
    // whose volume_price row shows adjustable -100 (A's 100 negated) and D = 0.
    let vp = table(&feb, "volume_price");
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "drug")]);
    assert_eq!(v.dec("adjustable_points"), d("-100.0000"));
    assert_eq!(v.int("doctor_days"), 0);
}

/// Step 10: round2 shares that do not sum to fund_cum; the share with the largest actual
/// payments absorbs the residual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fund_split_residual_goes_to_largest_share() {
    let policy = GoldenPolicy::default()
        .outpatient("tertiary", "1200.00", "1000.00")
        .outpatient("other_primary", "10000.00", "10000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            h1("E1")
                .fees("30.00", "0", "0", "0", "0")
                .payers("20.00", "0", "0", "0", "10.00"),
            h1("E2")
                .fees("30.00", "0", "0", "0", "0")
                .payers("0", "20.00", "0", "0", "10.00"),
            h1("R1")
                .resident()
                .fees("30.00", "0", "0", "0", "0")
                .payers("20.00", "0", "0", "0", "10.00"),
            h1("R2")
                .resident()
                .fees("40.00", "0", "0", "0", "0")
                .payers("0", "0", "30.00", "0", "10.00"),
            // C1: paid in cash only (no fund payments), one employee and one resident claim;
            // drug points 50 - 20 + 35 = 65 each (VBP points above the price)
            ClaimRow::outpatient("K1", "C1", JAN10)
                .fees("50.00", "0", "0", "0", "0")
                .vbp("20.00", "35.00")
                .payers("0", "0", "0", "0", "50.00"),
            ClaimRow::outpatient("K2", "C1", JAN10)
                .resident()
                .fees("50.00", "0", "0", "0", "0")
                .vbp("20.00", "35.00")
                .payers("0", "0", "0", "0", "50.00"),
        ],
    )
    .await;
    let out = settle(&lake, JAN).await;

    // drug EP 130, CB 120.00 → PV = round6(120 / 130 = 0.9230769…) = 0.923077 (below the cap);
    // amount round2(130 × 0.923077 = 120.00001) = 120.00; burden 4 × 10 = 40 → fund_cum 80.00.
    let pv = table(&out, "point_values");
    assert_eq!(
        pv.row(&[("budget_class", "tertiary"), ("fee_class", "drug")])
            .dec("point_value"),
        d("0.923077")
    );
    let st = table(&out, "statements");
    assert_eq!(
        st.row(&[("institution_id", "H1")]).dec("fund_cum"),
        d("80.00")
    );

    // Payments 20 (employee pool), 20 (employee serious), 20 (resident pool), 30 (resident
    // other); total 90. round2(80 × 20/90 = 17.777…) = 17.78 three times, round2(80 × 30/90 =
    // 26.666…) = 26.67; Σ = 80.01 → residual -0.01 to resident other (largest, 30) = 26.66.
    let fs = table(&out, "fund_split");
    assert_eq!(fs.filter(&[("institution_id", "H1")]).len(), 4);
    let share = |t: &str, k: &str| {
        fs.row(&[
            ("institution_id", "H1"),
            ("payment_class", "outpatient"),
            ("insurance_type", t),
            ("fund_kind", k),
        ])
        .dec("amount_cum")
    };
    assert_eq!(share("employee", "pool"), d("17.78"));
    assert_eq!(share("employee", "serious_illness"), d("17.78"));
    assert_eq!(share("resident", "pool"), d("17.78"));
    assert_eq!(share("resident", "other"), d("26.66"));
    let month: rust_decimal::Decimal = fs
        .filter(&[("institution_id", "H1")])
        .iter()
        .map(|r| r.dec("amount_month"))
        .sum();
    assert_eq!(month, d("80.00")); // January: month = cumulative, Σ = fund_cum

    // C1: settlement round2(130 × 1.00) = 130.00 (PV 1000 / 130 capped), burden 100.00,
    // fund_cum 30.00 with no fund payments at all → the whole 30.00 to (resident, pool): one
    // employee and one resident claim, and employee wins only with strictly more claims.
    let c1 = fs.filter(&[("institution_id", "C1")]);
    assert_eq!(c1.len(), 1);
    assert_eq!(
        (c1[0].text("insurance_type"), c1[0].text("fund_kind")),
        ("resident".into(), "pool".into())
    );
    assert_eq!(c1[0].dec("amount_cum"), d("30.00"));
    let s = st.row(&[("institution_id", "C1")]);
    assert_eq!(s.dec("fund_cum"), d("30.00"));
    // VBP bonus 2 × (35 - 20) = 30 points × PV_item 1.00 = 30.00 accrued, not paid:
    // withheld round2(max(0, 30 - 30) × 0.05) = 0; payable 30 - 30 - 0 = 0.00
    assert_eq!(s.dec("vbp_accrued_month"), d("30.00"));
    assert_eq!(s.dec("withheld_month"), d("0.00"));
    assert_eq!(s.dec("payable_month"), d("0.00"));
}

/// Step 9 claw-back by point value: more points in the cell in February lower the cumulative
/// point value, so an institution without new claims is paid less cumulatively.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lower_point_value_claws_back() {
    let policy = GoldenPolicy::default().outpatient("tertiary", "100000.00", "1000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[h1("L1")
            .fees("0", "0", "0", "0", "100.00")
            .payers("80.00", "0", "0", "0", "20.00")],
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[ClaimRow::outpatient("L2", "H3", "2025-02-12 10:00:00")
            .fees("0", "0", "0", "0", "300.00")
            .payers("240.00", "0", "0", "0", "60.00")],
    )
    .await;

    // January: other CB 100.00, EP 100 → PV 1.000000; H1 100.00 - 20 = fund 80.00;
    // withheld 4.00; paid 76.00.
    let jan = settle(&lake, JAN).await;
    let s = table(&jan, "statements");
    let s = s.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_cum"), d("80.00"));
    assert_eq!(s.dec("paid_month"), d("76.00"));

    // February: CB 200.00, EP 100 + 300 = 400 → PV 0.500000.
    // H1: round2(100 × 0.5) = 50.00, fund_cum 30.00, fund_month 30 - 80 = -50.00, withheld 0.
    // H3: round2(300 × 0.5) = 150.00, fund_cum 90.00, withheld 4.50, paid 85.50.
    let feb = settle(&lake, FEB).await;
    let pv = table(&feb, "point_values");
    let c = pv.row(&[("fee_class", "other")]);
    assert_eq!(c.dec("cumulative_budget"), d("200.00"));
    assert_eq!(c.dec("point_value"), d("0.500000"));
    let st = table(&feb, "statements");
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("settlement_cum"), d("50.00"));
    assert_eq!(s.dec("fund_cum"), d("30.00"));
    assert_eq!(s.dec("fund_month"), d("-50.00"));
    assert_eq!(s.dec("withheld_month"), d("0.00"));
    assert_eq!(s.dec("payable_month"), d("-50.00"));
    assert_eq!(s.dec("paid_month"), d("-50.00"));
    assert_eq!(s.int("claims_settled_month"), 0);
    let s = st.row(&[("institution_id", "H3")]);
    assert_eq!(s.dec("fund_month"), d("90.00"));
    assert_eq!(s.dec("withheld_month"), d("4.50"));
    assert_eq!(s.dec("paid_month"), d("85.50"));
}

/// Step 4 over two months: doctor-days count case claims too; round4 of the reduction; a
/// month's reduction stays in the cumulative effective points of later months, and
/// `volume_price` shows month m only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_price_reductions_accumulate_over_months() {
    let policy = GoldenPolicy::default()
        .outpatient("tertiary", "10000.00", "1000.00")
        .threshold("tertiary", "drug", "100.03")
        .tier("0.00", Some("0.10"), "0.875")
        .tier("0.10", None, "0.50");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            h1("V1")
                .doctor("D1")
                .fees("300.00", "0", "0", "0", "0")
                .payers("250.00", "0", "0", "0", "50.00"),
            // a case visit by D2 on another day: a doctor-day, but no adjustable points
            ClaimRow::outpatient("V2", "H1", "2025-01-11 09:00:00")
                .doctor("D2")
                .case("100.0000")
                .fees("0", "0", "0", "0", "100.00")
                .payers("80.00", "0", "0", "0", "20.00"),
        ],
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[ClaimRow::outpatient("V3", "H1", "2025-02-03 09:00:00")
            .doctor("D1")
            .fees("20.00", "0", "0", "0", "0")
            .payers("15.00", "0", "0", "0", "5.00")],
    )
    .await;

    // January drug: A = 300.00; D = 2 (D1 10 Jan, D2 11 Jan); T = 100.03 × 2 = 200.06;
    // E = 99.94. tier 1 [0, 20.006): 20.006 × (1 - 0.875) = 2.50075;
    // tier 2 [20.006, ∞): 79.934 × (1 - 0.50) = 39.967; Σ = 42.46775 → round4 = 42.4678.
    let jan = settle(&lake, JAN).await;
    let vp = table(&jan, "volume_price");
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "drug")]);
    assert_eq!(v.dec("adjustable_points"), d("300.0000"));
    assert_eq!(v.int("doctor_days"), 2);
    assert_eq!(v.dec("threshold"), d("200.0600"));
    assert_eq!(v.dec("excess"), d("99.9400"));
    assert_eq!(v.dec("reduction"), d("42.4678"));
    // no `other` threshold configured: null threshold and excess, no reduction
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "other")]);
    assert_eq!(
        (
            v.opt_dec("threshold"),
            v.opt_dec("excess"),
            v.dec("reduction")
        ),
        (None, None, d("0.0000"))
    );
    let lines = table(&jan, "settlement_lines");
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("effective_points"), d("257.5322")); // 300 - 42.4678
    assert_eq!(l.dec("amount"), d("257.53")); // PV 1000 / 257.5322 capped at 1.00
    // the case line: other CB 100.00, EP 100 → PV 1.000000; alloc 100.00 ≤ actual 100.00
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "case"),
    ]);
    assert_eq!(l.dec("amount"), d("100.00"));

    // February: A = 20, D = 1, T = 100.03, E = 0 → no reduction this month; the cumulative
    // item line keeps January's: declared 320, reduction 42.4678, effective 277.5322.
    let feb = settle(&lake, FEB).await;
    let vp = table(&feb, "volume_price");
    assert_eq!(vp.len(), 2);
    let v = vp.row(&[("institution_id", "H1"), ("fee_class", "drug")]);
    assert_eq!(v.dec("adjustable_points"), d("20.0000"));
    assert_eq!(v.int("doctor_days"), 1);
    assert_eq!(v.dec("threshold"), d("100.0300"));
    assert_eq!(v.dec("excess"), d("0.0000"));
    assert_eq!(v.dec("reduction"), d("0.0000"));
    let lines = table(&feb, "settlement_lines");
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "drug"),
        ("line_kind", "item"),
    ]);
    assert_eq!(l.dec("declared_points"), d("320.0000"));
    assert_eq!(l.dec("reduction_points"), d("42.4678"));
    assert_eq!(l.dec("effective_points"), d("277.5322"));
    assert_eq!(l.dec("amount"), d("277.53"));
    // the case line: other CB 200.00, EP 100 → PV 2.000000; alloc 200.00 > actual 100.00:
    // 100.00 + round2(0.50 × 100.00) = 150.00
    let l = lines.row(&[
        ("institution_id", "H1"),
        ("fee_class", "other"),
        ("line_kind", "case"),
    ]);
    assert_eq!(l.dec("amount"), d("150.00"));
    let s = table(&feb, "statements");
    let s = s.row(&[("institution_id", "H1")]);
    // Jan: 257.53 + 100.00 - (50 + 20) = 287.53; Feb: 277.53 + 150.00 - 75 = 352.53
    assert_eq!(s.dec("fund_cum"), d("352.53"));
    assert_eq!(s.dec("fund_month"), d("65.00"));
}

/// Step 9 across the year end: January reads December's held balance (and releases it when not
/// on hold), but its fund_month starts from zero; an institution whose only link to the year is
/// a held balance still gets a statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_balance_carries_across_year_end() {
    let policy = GoldenPolicy::default().outpatient("tertiary", "100000.00", "100000.00");
    let (_dir, lake) = lake_with(&golden_registry(), &policy).await;
    // December 2024's official statements: (institution, fund_cum, vbp_accrued_cum, held_balance)
    write_statements(
        &lake,
        2024,
        12,
        &[
            ("H1", "999.99", "11.11", "10.00"),
            ("H2", "500.00", "0.00", "55.55"),
            ("H3", "700.00", "0.00", "0.00"),
        ],
    )
    .await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[h1("J1")
            .fees("100.00", "0", "0", "0", "0")
            .payers("80.00", "0", "0", "0", "20.00")],
    )
    .await;
    let out = settle(&lake, JAN).await;
    let st = table(&out, "statements");
    // H3 had nothing held and nothing in 2025: no row.
    assert_eq!(st.texts("institution_id"), ["H1", "H2"]);
    // H1: fund_cum 100 - 20 = 80.00; fund_month 80.00 (not 80 - 999.99: a new year);
    // withheld 4.00; payable 76.00; released 10.00; paid 86.00.
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_month"), d("80.00"));
    assert_eq!(s.dec("vbp_accrued_month"), d("0.00"));
    assert_eq!(s.dec("payable_month"), d("76.00"));
    assert_eq!(s.dec("released_month"), d("10.00"));
    assert_eq!(s.dec("held_balance"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("86.00"));
    // H2: only December's held balance: zeros, released and paid 55.55.
    let s = st.row(&[("institution_id", "H2")]);
    assert_eq!(s.dec("settlement_cum"), d("0.00"));
    assert_eq!(s.dec("fund_month"), d("0.00"));
    assert_eq!(s.dec("released_month"), d("55.55"));
    assert_eq!(s.dec("paid_month"), d("55.55"));
    assert_eq!(s.dec("held_balance"), d("0.00"));
}
