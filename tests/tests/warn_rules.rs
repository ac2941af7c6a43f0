//! Suspicion rules R01–R08 and the institution inpatient indicators (quarterly-warnings.md
//! Part D) on hand-built input tables: which claims each rule flags, with the edges of the spec
//! (day 15 vs 16, admission and discharge days, exactly at a threshold, one patient short of the
//! cluster minimum, a null gender, items outside the catalogue).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray,
};
use arrow::util::display::array_value_to_string;
use claimlake_domain::codes::BudgetClass;
use claimlake_domain::period::Quarter;
use claimlake_domain::policy::Policy;
use claimlake_engine::warn_rules::{RuleOutputs, run};
use claimlake_lake::contract;
use claimlake_tests::conformance_dir;
use claimlake_tests::fixtures::{ClaimRow, claims_batch, d};

/// One item line: (claim_id, line_no, item_code, days_supply).
type Item = (&'static str, i32, &'static str, Option<i32>);

fn items_batch(rows: &[Item]) -> RecordBatch {
    let qty = Decimal128Array::from(vec![Some(1000i128); rows.len()])
        .with_precision_and_scale(12, 3)
        .unwrap();
    let amount = Decimal128Array::from(vec![Some(1000i128); rows.len()])
        .with_precision_and_scale(18, 2)
        .unwrap();
    RecordBatch::try_new(
        contract::claim_items(),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(qty),
            Arc::new(amount),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

/// W1 western and W2 patent drugs, S1 a service, G1 an exam for women only, G2 a drug for men
/// only.
fn catalog_batch() -> RecordBatch {
    let rows: [(&str, &str, Option<&str>); 5] = [
        ("W1", "western", None),
        ("W2", "patent", None),
        ("S1", "service", None),
        ("G1", "service", Some("F")),
        ("G2", "western", Some("M")),
    ];
    RecordBatch::try_new(
        contract::catalog(),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(BooleanArray::from(vec![false; rows.len()])),
            Arc::new(BooleanArray::from(vec![false; rows.len()])),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

/// H1, H3, H4 tertiary hospitals, H2 a TCM hospital, C1 an other-primary clinic, P1 and P2
/// pharmacies.
fn institutions_batch() -> RecordBatch {
    let rows = [
        ("H1", "hospital", "tertiary", 3),
        ("H2", "hospital", "tcm", 2),
        ("H3", "hospital", "tertiary", 3),
        ("H4", "hospital", "tertiary", 3),
        ("C1", "clinic", "other_primary", 1),
        ("P1", "pharmacy", "pharmacy", 0),
        ("P2", "pharmacy", "pharmacy", 0),
    ];
    let n = rows.len();
    RecordBatch::try_new(
        contract::institutions(),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "d1"))),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
            Arc::new(Date32Array::from(vec![None::<i32>; n])),
            Arc::new(Date32Array::from(vec![None::<i32>; n])),
        ],
    )
    .unwrap()
}

/// The example policy with R03 configured for pharmacies only (3 patients) and 2 admissions
/// making an institution eligible.
fn policy() -> Policy {
    let path = conformance_dir().join("../spec/policy-example.toml");
    let text = std::fs::read_to_string(&path).expect("policy-example.toml");
    let mut p = Policy::from_toml_str(&text, Some(2025)).expect("example policy");
    p.rules.readmission_days = 15;
    p.rules.overbuy_tolerance = d("0.20");
    p.rules.cluster_bucket_minutes = 10;
    p.rules.repeat_same_day_min = 3;
    p.rules.large_outpatient_amount = d("5000.00");
    p.rules.cross_province_inpatient_amount = d("30000.00");
    p.rules.cluster_min_patients = [(BudgetClass::Pharmacy, 3)].into_iter().collect();
    p.rules.institution.margin = d("0.25");
    p.rules.institution.min_admissions = 2;
    p
}

fn q1() -> Quarter {
    Quarter::new(2025, 1).unwrap()
}

async fn run_on(claims: &[ClaimRow], prev: &[ClaimRow], items: &[Item]) -> RuleOutputs {
    let ctx = claimlake_engine::session::new_session(Some(2));
    ctx.register_batch("q_claims", claims_batch(claims))
        .unwrap();
    ctx.register_batch("prev_claims", claims_batch(prev))
        .unwrap();
    ctx.register_batch("q_items", items_batch(items)).unwrap();
    ctx.register_batch("catalog", catalog_batch()).unwrap();
    ctx.register_batch("institutions", institutions_batch())
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    run(&ctx, &policy(), q1(), work.path())
        .await
        .expect("rules run")
}

/// Every row of `batches` as display strings.
fn table(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            "null".to_string()
                        } else {
                            array_value_to_string(c, r).unwrap()
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

/// (claim_id, detail) of the suspicions of `rule`.
fn flagged(out: &RuleOutputs, rule: &str) -> Vec<(String, String)> {
    table(&out.suspicions)
        .into_iter()
        .filter(|r| r[0] == rule)
        .map(|r| (r[1].clone(), r[5].clone()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn stay(id: &str, inst: &str, patient: &str, admit: &str, discharge: &str, dx: &str) -> ClaimRow {
    let mut r = ClaimRow::inpatient(id, inst, &format!("{discharge} 10:00:00"), admit, discharge);
    r.patient_id = Some(patient.to_string());
    r.diagnosis_code = Some(dx.to_string());
    r
}

fn visit(id: &str, inst: &str, patient: &str, time: &str, visit_type: &str) -> ClaimRow {
    let mut r = ClaimRow::outpatient(id, inst, time);
    r.patient_id = Some(patient.to_string());
    r.visit_type = Some(visit_type.to_string());
    if visit_type == "special_outpatient" {
        r.special_disease = Some("diabetes".to_string());
    }
    if visit_type == "pharmacy" {
        r.doctor_id = None;
    }
    r
}

#[tokio::test]
async fn r01_readmission_window_diagnosis_and_month_before() {
    let claims = [
        // day 15 after discharge, same 3-char prefix: flagged
        stay("A1", "H1", "A", "2025-01-01", "2025-01-05", "J18.000"),
        stay("A2", "H3", "A", "2025-01-20", "2025-01-25", "J18.900"),
        // day 16: not flagged
        stay("B1", "H1", "B", "2025-01-01", "2025-01-05", "J18.000"),
        stay("B2", "H1", "B", "2025-01-21", "2025-01-25", "J18.000"),
        // other diagnosis: not flagged
        stay("C1", "H1", "C", "2025-01-01", "2025-01-05", "J18.000"),
        stay("C2", "H1", "C", "2025-01-10", "2025-01-12", "K35.800"),
        // admitted the day of the discharge: day 0, flagged
        stay("E1", "H1", "E", "2025-01-25", "2025-02-01", "I21.000"),
        stay("E2", "H1", "E", "2025-02-01", "2025-02-06", "I21.100"),
        // overlapping stays (discharge after the admission): not flagged
        stay("F1", "H1", "F", "2025-01-01", "2025-01-10", "J18.000"),
        stay("F2", "H1", "F", "2025-01-05", "2025-01-12", "J18.000"),
        // readmitted after a stay of the month before the quarter: flagged
        stay("D1", "H1", "D", "2025-01-02", "2025-01-08", "N18.500"),
        // two earlier stays: detail names the closest one
        stay("G1", "H1", "G", "2025-02-01", "2025-02-03", "E11.900"),
        stay("G2", "H1", "G", "2025-02-05", "2025-02-08", "E11.200"),
        stay("G3", "H1", "G", "2025-02-10", "2025-02-12", "E11.900"),
        // an outpatient visit is no stay
        visit("V1", "C1", "H", "2025-01-03 09:00:00", "general_outpatient"),
        stay("H2", "H1", "H", "2025-01-05", "2025-01-07", "J06.900"),
    ];
    let prev = [stay("D0", "H2", "D", "2024-12-20", "2024-12-28", "N18.100")];
    let out = run_on(&claims, &prev, &[]).await;
    assert_eq!(
        flagged(&out, "R01"),
        pairs(&[
            ("A2", "readmitted 15 days after A1"),
            ("D1", "readmitted 5 days after D0"),
            ("E2", "readmitted 0 days after E1"),
            ("G2", "readmitted 2 days after G1"),
            ("G3", "readmitted 2 days after G2"),
        ])
    );
    // the flagged row carries the claim's own institution, patient and settle date
    let row = table(&out.suspicions)
        .into_iter()
        .find(|r| r[1] == "A2")
        .unwrap();
    assert_eq!(row[..5], ["R01", "A2", "H3", "A", "2025-01-25"]);
}

#[tokio::test]
async fn r02_overbuying_needs_two_institutions_and_more_than_the_limit() {
    // 2025Q1 has 90 days: limit 90 × 1.20 = 108 days
    let claims = [
        // 60 + 49 = 109 > 108 at H1 and P1: both flagged, not X3 (a service line only)
        visit("X1", "H1", "X", "2025-01-10 09:00:00", "special_outpatient"),
        visit("X2", "P1", "X", "2025-02-10 09:00:00", "pharmacy"),
        visit("X3", "P1", "X", "2025-02-11 09:00:00", "pharmacy"),
        // 60 + 48 = 108: exactly the limit, not flagged
        visit("Y1", "H1", "Y", "2025-01-10 09:00:00", "special_outpatient"),
        visit("Y2", "P1", "Y", "2025-02-10 09:00:00", "pharmacy"),
        // 120 days at one institution: not flagged
        visit("Z1", "H1", "Z", "2025-01-10 09:00:00", "special_outpatient"),
        visit("Z2", "H1", "Z", "2025-02-10 09:00:00", "special_outpatient"),
        // no special-outpatient claim: not flagged
        visit("V1", "P1", "V", "2025-01-10 09:00:00", "pharmacy"),
        visit("V2", "P2", "V", "2025-02-10 09:00:00", "pharmacy"),
        // a general-outpatient line does not count
        visit("U1", "H1", "U", "2025-01-10 09:00:00", "special_outpatient"),
        visit("U2", "C1", "U", "2025-02-10 09:00:00", "general_outpatient"),
        // two drugs over the limit on the same claims: one row per claim, smallest item named
        visit("T1", "H1", "T", "2025-01-10 09:00:00", "special_outpatient"),
        visit("T2", "P2", "T", "2025-02-10 09:00:00", "pharmacy"),
    ];
    let items = [
        ("X1", 1, "W1", Some(60)),
        ("X1", 2, "S1", None),
        ("X2", 1, "W1", Some(49)),
        ("X3", 1, "S1", Some(30)),
        ("Y1", 1, "W1", Some(60)),
        ("Y2", 1, "W1", Some(48)),
        ("Z1", 1, "W1", Some(60)),
        ("Z2", 1, "W1", Some(60)),
        ("V1", 1, "W1", Some(60)),
        ("V2", 1, "W1", Some(60)),
        ("U1", 1, "W1", Some(60)),
        ("U2", 1, "W1", Some(60)),
        ("T1", 1, "W2", Some(60)),
        ("T1", 2, "W1", Some(50)),
        ("T1", 3, "W1", Some(10)),
        ("T2", 1, "W2", Some(60)),
        ("T2", 2, "W1", Some(60)),
    ];
    let out = run_on(&claims, &[], &items).await;
    assert_eq!(
        flagged(&out, "R02"),
        pairs(&[
            ("T1", "W1: 120 days at 2 institutions"),
            ("T2", "W1: 120 days at 2 institutions"),
            ("X1", "W1: 109 days at 2 institutions"),
            ("X2", "W1: 109 days at 2 institutions"),
        ])
    );
}

#[tokio::test]
async fn r03_cluster_of_distinct_patients_in_one_bucket() {
    let claims = [
        // P1, bucket 15:40–15:49 on 2025-03-03: patients A, B, C (≥ 3): all 4 claims flagged
        visit("A1", "P1", "A", "2025-03-03 15:40:00", "pharmacy"),
        visit("A2", "P1", "A", "2025-03-03 15:41:00", "pharmacy"),
        visit("B1", "P1", "B", "2025-03-03 15:45:30", "pharmacy"),
        visit("C1", "P1", "C", "2025-03-03 15:49:59", "pharmacy"),
        // next bucket, same institution
        visit("D1", "P1", "D", "2025-03-03 15:50:00", "pharmacy"),
        // same time another day
        visit("E1", "P1", "E", "2025-03-04 15:45:00", "pharmacy"),
        // P2: 3 claims of 2 patients, one patient short
        visit("F1", "P2", "F", "2025-03-03 15:40:00", "pharmacy"),
        visit("F2", "P2", "F", "2025-03-03 15:42:00", "pharmacy"),
        visit("G1", "P2", "G", "2025-03-03 15:44:00", "pharmacy"),
        // C1 (other_primary has no cluster minimum): 3 patients, not checked
        visit("K1", "C1", "K", "2025-03-03 15:40:00", "general_outpatient"),
        visit("L1", "C1", "L", "2025-03-03 15:41:00", "general_outpatient"),
        visit("M1", "C1", "M", "2025-03-03 15:42:00", "general_outpatient"),
    ];
    let out = run_on(&claims, &[], &[]).await;
    let detail = "4 claims in bucket 2025-03-03 15:40";
    assert_eq!(
        flagged(&out, "R03"),
        pairs(&[
            ("A1", detail),
            ("A2", detail),
            ("B1", detail),
            ("C1", detail)
        ])
    );
}

#[tokio::test]
async fn r04_repeated_same_day_settlements() {
    let claims = [
        // 3 outpatient-type claims of Q at C1 on 2025-02-10: all flagged
        visit("Q1", "C1", "Q", "2025-02-10 08:00:00", "general_outpatient"),
        visit("Q2", "C1", "Q", "2025-02-10 11:00:00", "general_outpatient"),
        visit("Q3", "C1", "Q", "2025-02-10 16:00:00", "special_outpatient"),
        // 2 claims: not flagged
        visit("R1", "C1", "R", "2025-02-10 08:00:00", "general_outpatient"),
        visit("R2", "C1", "R", "2025-02-10 09:00:00", "general_outpatient"),
        // 3 claims over two days: not flagged
        visit("S1", "C1", "S", "2025-02-10 08:00:00", "general_outpatient"),
        visit("S2", "C1", "S", "2025-02-10 23:59:59", "general_outpatient"),
        visit("S3", "C1", "S", "2025-02-11 00:00:00", "general_outpatient"),
        // 3 claims at two institutions: not flagged
        visit("T1", "C1", "T", "2025-02-10 08:00:00", "general_outpatient"),
        visit("T2", "C1", "T", "2025-02-10 09:00:00", "general_outpatient"),
        visit("T3", "H1", "T", "2025-02-10 10:00:00", "general_outpatient"),
    ];
    let out = run_on(&claims, &[], &[]).await;
    let detail = "3 claims on 2025-02-10";
    assert_eq!(
        flagged(&out, "R04"),
        pairs(&[("Q1", detail), ("Q2", detail), ("Q3", detail)])
    );
}

fn with_total(mut r: ClaimRow, total: &str) -> ClaimRow {
    r.fees[0] = Some(d(total));
    r
}

#[tokio::test]
async fn r05_and_r08_amount_thresholds_are_inclusive() {
    let cross = |id: &str, total: &str, region: &str| {
        let mut r = stay(id, "H1", id, "2025-01-01", "2025-01-10", "C34.100");
        r.insured_region = Some(region.to_string());
        with_total(r, total)
    };
    let claims = [
        // R05: exactly at the threshold is flagged, one fen below is not
        with_total(
            visit(
                "O1",
                "C1",
                "O1",
                "2025-01-10 09:00:00",
                "general_outpatient",
            ),
            "5000.00",
        ),
        with_total(
            visit(
                "O2",
                "C1",
                "O2",
                "2025-01-10 09:00:00",
                "general_outpatient",
            ),
            "4999.99",
        ),
        with_total(
            visit("O3", "P1", "O3", "2025-01-10 09:00:00", "pharmacy"),
            "6000.00",
        ),
        // special outpatient (门特) is expected to be large
        with_total(
            visit(
                "O4",
                "H1",
                "O4",
                "2025-01-10 09:00:00",
                "special_outpatient",
            ),
            "9000.00",
        ),
        // R08
        cross("I1", "30000.00", "cross_province"),
        cross("I2", "29999.99", "cross_province"),
        cross("I3", "90000.00", "in_province"),
        // a large cross-province outpatient claim is R05's, not R08's
        {
            let mut r = with_total(
                visit(
                    "O5",
                    "C1",
                    "O5",
                    "2025-01-10 09:00:00",
                    "general_outpatient",
                ),
                "40000.00",
            );
            r.insured_region = Some("cross_province".to_string());
            r
        },
    ];
    let out = run_on(&claims, &[], &[]).await;
    assert_eq!(
        flagged(&out, "R05"),
        pairs(&[
            ("O1", "total 5000.00"),
            ("O3", "total 6000.00"),
            ("O5", "total 40000.00"),
        ])
    );
    assert_eq!(flagged(&out, "R08"), pairs(&[("I1", "total 30000.00")]));
}

#[tokio::test]
async fn r06_outpatient_strictly_during_a_stay() {
    let claims = [
        stay("M0", "H1", "M", "2025-01-10", "2025-01-20", "J18.000"),
        // admission day and discharge day are not "during"
        visit("M1", "C1", "M", "2025-01-10 15:00:00", "general_outpatient"),
        visit("M2", "C1", "M", "2025-01-11 00:00:00", "general_outpatient"),
        visit("M3", "P1", "M", "2025-01-19 23:59:59", "pharmacy"),
        visit("M4", "C1", "M", "2025-01-20 08:00:00", "general_outpatient"),
        // another patient the same day
        visit("X1", "C1", "X", "2025-01-15 08:00:00", "general_outpatient"),
        // a stay of the quarter that began in the month before
        stay("N0", "H1", "N", "2024-12-28", "2025-01-05", "J18.000"),
        visit("N2", "C1", "N", "2025-01-02 09:00:00", "special_outpatient"),
    ];
    let prev = [
        // an outpatient claim of the month before during a quarter stay: flagged
        visit("N1", "C1", "N", "2024-12-30 09:00:00", "general_outpatient"),
        // a stay of the month before is not a quarter stay
        stay("K0", "H1", "K", "2024-12-01", "2024-12-31", "J18.000"),
        visit("K1", "C1", "K", "2024-12-15 09:00:00", "general_outpatient"),
    ];
    let out = run_on(&claims, &prev, &[]).await;
    assert_eq!(
        flagged(&out, "R06"),
        pairs(&[
            ("M2", "during stay M0"),
            ("M3", "during stay M0"),
            ("N1", "during stay N0"),
            ("N2", "during stay N0"),
        ])
    );
    let row = table(&out.suspicions)
        .into_iter()
        .find(|r| r[1] == "N1")
        .unwrap();
    assert_eq!(row[..5], ["R06", "N1", "C1", "N", "2024-12-30"]);
}

#[tokio::test]
async fn r07_gender_limited_items() {
    let gendered = |id: &str, gender: Option<&str>| {
        let mut r = visit(id, "C1", id, "2025-01-10 09:00:00", "general_outpatient");
        r.patient_gender = gender.map(str::to_string);
        r
    };
    let claims = [
        gendered("G1", Some("M")),
        gendered("G2", Some("F")),
        gendered("G3", None),
        gendered("G4", Some("F")),
        gendered("G5", Some("F")),
    ];
    let items = [
        // a man with a women-only exam: flagged
        ("G1", 1, "G1", None),
        ("G1", 2, "S1", None),
        // a woman with it: fine
        ("G2", 1, "G1", None),
        // null gender: not judged
        ("G3", 1, "G1", None),
        ("G3", 2, "G2", None),
        // item not in the catalogue: not judged
        ("G4", 1, "XX9", None),
        // a woman with a men-only drug, twice: one row
        ("G5", 1, "G2", Some(10)),
        ("G5", 2, "G2", Some(10)),
        // the line of a claim not in q_claims (cancelled within the quarter: warn/00b keeps
        // such lines, 00a drops the claim): not judged
        ("G6", 1, "G1", None),
    ];
    let out = run_on(&claims, &[], &items).await;
    assert_eq!(
        flagged(&out, "R07"),
        pairs(&[
            ("G1", "item G1 limited to F"),
            ("G5", "item G2 limited to M")
        ])
    );
}

#[tokio::test]
async fn suspicions_are_sorted_by_rule_then_claim_with_the_contract_schema() {
    let claims = [
        stay("Z1", "H1", "A", "2025-01-01", "2025-01-05", "J18.000"),
        stay("A2", "H1", "A", "2025-01-10", "2025-01-12", "J18.000"),
        visit("B1", "C1", "A", "2025-01-11 09:00:00", "general_outpatient"),
        with_total(
            visit("A1", "C1", "B", "2025-01-11 09:00:00", "general_outpatient"),
            "7000.00",
        ),
    ];
    let out = run_on(&claims, &[], &[]).await;
    let keys: Vec<(String, String)> = table(&out.suspicions)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(keys, pairs(&[("R01", "A2"), ("R05", "A1"), ("R06", "B1")]));
    for b in &out.suspicions {
        assert_eq!(
            b.schema(),
            claimlake_engine::warn_rules::suspicions_schema()
        );
    }
}

#[tokio::test]
async fn inpatient_indicators_pooled_peers_exact_threshold_and_eligibility() {
    let case = |id: &str, inst: &str, patient: &str, weight: Option<&str>| {
        let mut r = stay(id, inst, patient, "2025-01-01", "2025-01-05", "J18.000");
        match weight {
            Some(w) => r.drg_weight = Some(d(w)),
            None => {
                r.pay_method = Some("item".to_string());
                r.case_group = None;
                r.case_points = None;
                r.drg_weight = None;
            }
        }
        r
    };
    let mut item_with_weight = case("H1c", "H1", "b", None);
    item_with_weight.drg_weight = Some(d("9.0000")); // item-paid: not a case claim, not in CMI
    let claims = [
        // H1: 3 admissions of 2 patients (1.5); CMI of its 2 case claims = 2.0
        case("H1a", "H1", "a", Some("2.0000")),
        case("H1b", "H1", "a", Some("2.0000")),
        item_with_weight,
        // H3: 3 admissions of 3 patients; CMI 1.0
        case("H3a", "H3", "c", Some("1.0000")),
        case("H3b", "H3", "d", Some("1.0000")),
        case("H3c", "H3", "e", Some("1.0000")),
        // H4: 1 admission, below min_admissions = 2: neither peer nor flagged
        case("H4a", "H4", "g", Some("5.0000")),
        // H2 (tcm): item-paid only, so no CMI value
        case("H2a", "H2", "h", None),
        case("H2b", "H2", "i", None),
        // outpatient claims are not admissions
        visit("O1", "H1", "z", "2025-01-10 09:00:00", "general_outpatient"),
    ];
    let out = run_on(&claims, &[], &[]).await;
    let rows: Vec<Vec<String>> = table(&out.inpatient_indicators);
    let expect = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows,
        vec![
            // tertiary admissions per patient: pooled (3 + 3) / (2 + 3) = 1.2; threshold
            // 1.2 × 1.25 = 1.5 exactly, H1 at 1.5 is not above it
            expect(&[
                "H1",
                "admissions_per_patient",
                "tertiary",
                "1.500000",
                "1.200000",
                "1.500000",
                "false",
                "true"
            ]),
            // tertiary CMI: pooled (4 + 3) / (2 + 3) = 1.4; threshold 1.75; H1 at 2.0 is flagged
            expect(&[
                "H1", "cmi", "tertiary", "2.000000", "1.400000", "1.750000", "true", "true"
            ]),
            expect(&[
                "H2",
                "admissions_per_patient",
                "tcm",
                "1.000000",
                "1.000000",
                "1.250000",
                "false",
                "true"
            ]),
            expect(&["H2", "cmi", "tcm", "null", "null", "null", "false", "true"]),
            expect(&[
                "H3",
                "admissions_per_patient",
                "tertiary",
                "1.000000",
                "1.200000",
                "1.500000",
                "false",
                "true"
            ]),
            expect(&[
                "H3", "cmi", "tertiary", "1.000000", "1.400000", "1.750000", "false", "true"
            ]),
            expect(&[
                "H4",
                "admissions_per_patient",
                "tertiary",
                "1.000000",
                "null",
                "null",
                "false",
                "false"
            ]),
            expect(&[
                "H4", "cmi", "tertiary", "5.000000", "null", "null", "false", "false"
            ]),
        ]
    );
    // no suspicion rule fires on these
    assert!(out.suspicions.is_empty());
}

#[tokio::test]
async fn r01_and_r06_are_hash_joins_on_patient_not_cross_joins() {
    use claimlake_engine::sql::{self, warn_rules as steps};
    let ctx = claimlake_engine::session::new_session(Some(2));
    let stays = [stay("A1", "H1", "A", "2025-01-01", "2025-01-05", "J18.000")];
    ctx.register_batch("q_claims", claims_batch(&stays))
        .unwrap();
    ctx.register_batch("prev_claims", claims_batch(&stays))
        .unwrap();
    for step in [steps::R01, steps::R06] {
        let df = sql::frame(&ctx, step, &[("readmission_days", "15".to_string())])
            .await
            .unwrap();
        let plan = df.create_physical_plan().await.unwrap();
        let text = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string();
        assert!(text.contains("HashJoinExec"), "{}: {text}", step.name);
        assert!(text.contains("patient_id"), "{}: {text}", step.name);
        assert!(
            !text.contains("NestedLoopJoinExec"),
            "{}: {text}",
            step.name
        );
        assert!(!text.contains("CrossJoinExec"), "{}: {text}", step.name);
    }
}

/// Registers the conformance lake's claims of `months` as valid, netted claims (rows listed in
/// the expected quarantine left out; a reversal and the claim it cancels both dropped; reversals
/// of claims outside `months` ignored) under `name`, and their items under `items` when given.
/// A test-only stand-in for the engine's quarter inputs, good enough for the rule check.
async fn register_conformance_claims(
    ctx: &datafusion::prelude::SessionContext,
    months: &[(i32, u32)],
    name: &str,
    items: Option<&str>,
) {
    use datafusion::prelude::ParquetReadOptions;
    let lake = conformance_dir().join("lake");
    let quarantine = conformance_dir().join("expected/quarantine");
    let mut claim_parts = Vec::new();
    let mut item_parts = Vec::new();
    for (i, (y, m)) in months.iter().enumerate() {
        let part = format!("year={y}/month={m:02}");
        let raw = format!("{name}_raw{i}");
        let dir = lake.join("claims").join(&part);
        ctx.register_parquet(&raw, dir.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
        let q = quarantine.join("claims").join(&part);
        let filter = if q.exists() {
            let qn = format!("{name}_quar{i}");
            ctx.register_parquet(&qn, q.to_str().unwrap(), ParquetReadOptions::default())
                .await
                .unwrap();
            format!(
                "WHERE NOT EXISTS (SELECT 1 FROM {qn} x WHERE x.claim_id = r.claim_id \
                 AND x.settle_time = r.settle_time AND x.patient_id = r.patient_id \
                 AND x.total_amount = r.total_amount)"
            )
        } else {
            String::new()
        };
        claim_parts.push(format!("SELECT r.* FROM {raw} r {filter}"));
        let idir = lake.join("claim_items").join(&part);
        let iraw = format!("{name}_items{i}");
        ctx.register_parquet(&iraw, idir.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
        let iq = quarantine.join("claim_items").join(&part);
        let ifilter = if iq.exists() {
            let qn = format!("{name}_iquar{i}");
            ctx.register_parquet(&qn, iq.to_str().unwrap(), ParquetReadOptions::default())
                .await
                .unwrap();
            format!(
                "WHERE NOT EXISTS (SELECT 1 FROM {qn} x WHERE x.claim_id = r.claim_id \
                 AND x.line_no = r.line_no AND x.item_code = r.item_code)"
            )
        } else {
            String::new()
        };
        item_parts.push(format!("SELECT r.* FROM {iraw} r {ifilter}"));
    }
    let valid = claim_parts.join(" UNION ALL ");
    let netted = format!(
        "WITH v AS ({valid}) SELECT * FROM v WHERE reverses_claim_id IS NULL \
         AND claim_id NOT IN (SELECT reverses_claim_id FROM v WHERE reverses_claim_id IS NOT NULL)"
    );
    let df = ctx.sql(&netted).await.unwrap();
    ctx.register_table(name, df.into_view()).unwrap();
    if let Some(items) = items {
        let all = item_parts.join(" UNION ALL ");
        let sql = format!(
            "WITH i AS ({all}) SELECT i.* FROM i WHERE i.claim_id IN (SELECT claim_id FROM {name})"
        );
        let df = ctx.sql(&sql).await.unwrap();
        ctx.register_table(items, df.into_view()).unwrap();
    }
}

/// Runs the rules on the conformance lake's quarter `q` of 2025 and compares with
/// `expected/restricted/suspicions`.
async fn conformance_quarter(q: u32) {
    use datafusion::prelude::ParquetReadOptions;
    let ctx = claimlake_engine::session::new_session(Some(2));
    let quarter = Quarter::new(2025, q).unwrap();
    let months: Vec<(i32, u32)> = quarter.months().iter().map(|m| (m.year, m.month)).collect();
    register_conformance_claims(&ctx, &months, "q_claims", Some("q_items")).await;
    let prev = quarter.prev_month_before();
    if prev.year == 2025 {
        register_conformance_claims(&ctx, &[(prev.year, prev.month)], "prev_claims", None).await;
    } else {
        ctx.register_batch("prev_claims", claims_batch(&[]))
            .unwrap();
    }
    let lake = conformance_dir().join("lake");
    for (t, dir) in [
        ("catalog", "reference/catalog"),
        ("institutions", "reference/institutions"),
    ] {
        ctx.register_parquet(
            t,
            lake.join(dir).to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
    }
    let text = std::fs::read_to_string(lake.join("policy/2025.toml")).unwrap();
    let policy = Policy::from_toml_str(&text, Some(2025)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = run(&ctx, &policy, quarter, work.path()).await.unwrap();
    let got = table(&out.suspicions);

    let mut want: Vec<Vec<String>> = table(&read_expected(&format!(
        "restricted/suspicions/year=2025/quarter={q}"
    )))
    .into_iter()
    .map(|r| r[..6].to_vec())
    .collect();
    want.sort();
    assert_eq!(got, want, "suspicions of quarter {q}");

    let got = table(&out.inpatient_indicators);
    let want: Vec<Vec<String>> = table(&read_expected(&format!(
        "results/indicators/year=2025/quarter={q}"
    )))
    .into_iter()
    .filter(|r| r[1] == "admissions_per_patient" || r[1] == "cmi")
    .map(|r| r[..8].to_vec())
    .collect();
    assert_eq!(got, want, "inpatient indicators of quarter {q}");
}

/// The batches of `expected/<dir>/data.parquet`.
fn read_expected(dir: &str) -> Vec<RecordBatch> {
    let path = conformance_dir()
        .join("expected")
        .join(dir)
        .join("data.parquet");
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

#[tokio::test]
async fn conformance_suspicions_and_inpatient_indicators_q1_to_q4() {
    for q in 1..=4 {
        conformance_quarter(q).await;
    }
}
