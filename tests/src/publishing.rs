//! A small hand-built year for the publishing tests (locks, faults, recomputation, scenarios):
//! four institutions with a few outpatient claims every month, amounts varying by month so each
//! month's point values differ, and a policy whose budgets a test can change (a new version).

use claimlake_lake::Lake;

use crate::fixtures::{ClaimRow, write_claims};
use crate::golden::{GoldenClaim, GoldenPolicy, golden_registry, write_policy, write_registry};

/// The small lake's policy: outpatient budgets of the three budget classes that get claims;
/// `tertiary_drug` is the annual tertiary drug budget (the figure an adjustment changes).
pub fn small_policy(version: i32, tertiary_drug: &str) -> GoldenPolicy {
    let mut p = GoldenPolicy::default()
        .outpatient("tertiary", tertiary_drug, "4000.00")
        .outpatient("tcm", "1500.00", "1000.00")
        .outpatient("other_primary", "800.00", "900.00");
    p.version = version;
    p
}

/// A claim of `total` split 60% western drugs, 40% services, paid 70% by the pool, 20% from the
/// account and 10% in cash.
fn claim(id: &str, institution: &str, month: u32, day: u32, total: i64) -> ClaimRow {
    let d = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    let cents = total * 100;
    let western = cents * 6 / 10;
    let pool = cents * 7 / 10;
    let account = cents * 2 / 10;
    ClaimRow::outpatient(
        id,
        institution,
        &format!("2025-{month:02}-{day:02} 09:30:00"),
    )
    .fees(&d(western), "0", "0", "0", &d(cents - western))
    .payers(&d(pool), "0", "0", &d(account), &d(cents - pool - account))
}

/// Writes the registry, `policy` as `policy/2025.toml` and the claims of months 1..=`months`.
pub async fn write_small_lake(lake: &Lake, months: u32, policy: &GoldenPolicy) {
    write_registry(lake, &golden_registry()).await;
    write_policy(lake, 2025, policy);
    for month in 1..=months {
        let k = month as i64;
        let rows = vec![
            claim(&format!("A{month}"), "H1", month, 3, 300 + 20 * k),
            claim(&format!("B{month}"), "H1", month, 12, 150 + 35 * (k % 3)),
            claim(&format!("C{month}"), "H3", month, 7, 420 - 15 * k),
            claim(&format!("D{month}"), "H2", month, 9, 180 + 10 * k),
            claim(&format!("E{month}"), "C1", month, 15, 90 + 5 * (k % 4)),
        ];
        write_claims(lake, 2025, month, "part-000.parquet", &rows).await;
    }
}

/// The official objects of a lake (what the publishing rules protect): results, restricted
/// tables, reports, quarantine and ledger.
pub const OFFICIAL: [&str; 5] = ["results", "restricted", "reports", "quarantine", "ledger"];

/// The `[warnings]` section of the warnings lake's policy: ratio method with `margin`, every
/// other threshold permissive (one visit, one hit), `high_frequency_visits = 99`.
fn warnings_toml(margin: &str) -> String {
    format!(
        "\n[warnings]\nscope_visit_types = [\"general_outpatient\", \"special_outpatient\", \
         \"pharmacy\"]\nmin_visits = 1\nmethod = \"ratio\"\nmargin = \"{margin}\"\n\
         percentile = 90\nmin_hits = 1\nhigh_frequency_visits = 99\n\
         \n[warnings.associated]\ntop_share = \"0.50\"\nmedian_multiple = \"2\"\n\
         min_cost_share = \"0.50\"\nmin_top_patients = 1\n"
    )
}

/// The warnings lake's policy file: tertiary outpatient budgets, one-month yellow holds and red
/// suspensions, and the warnings margin (the figure an adjustment changes).
pub fn warnings_policy(version: i32, margin: &str) -> String {
    let mut p = GoldenPolicy::default().outpatient("tertiary", "6000.00", "4000.00");
    p.version = version;
    p.yellow_hold_months = 1;
    p.red_suspend_months = 1;
    p.to_toml(2025) + &warnings_toml(margin)
}

/// Writes [`warnings_policy`] as `policy/2025.toml`.
pub async fn write_warnings_policy(lake: &Lake, version: i32, margin: &str) {
    lake.put(
        "policy/2025.toml",
        warnings_policy(version, margin).into_bytes().into(),
    )
    .await
    .expect("write policy");
}

/// A pool-paid outpatient claim of `patient` at `institution` on the 10th of `month` 2025.
fn pool_claim(
    id: &str,
    inst: &str,
    patient: &str,
    month: u32,
    drugs: &str,
    other: &str,
) -> ClaimRow {
    let mut r = ClaimRow::outpatient(id, inst, &format!("2025-{month:02}-10 09:30:00"))
        .fees(drugs, "0", "0", "0", other);
    r.patient_id = Some(patient.into());
    let total: rust_decimal::Decimal = crate::fixtures::d(drugs) + crate::fixtures::d(other);
    r.payers(&total.to_string(), "0", "0", "0", "0")
}

/// A lake for warnings: H1 and H3 (tertiary); in each of `quarters`, H1's first-month visit
/// costs 1,000 (90% drugs) against H3's 100, so under a 0.30 margin H1 is warned every quarter
/// (a yellow card, and a red one from its second yellow), and under a margin of 9 never.
pub async fn write_warnings_lake(lake: &Lake, quarters: &[u32]) {
    write_registry(
        lake,
        &[
            crate::golden::Inst::hospital("H1", "tertiary"),
            crate::golden::Inst::hospital("H3", "tertiary"),
        ],
    )
    .await;
    for &q in quarters {
        let first = (q - 1) * 3 + 1;
        for (k, (h1p, h3p)) in [("A", "B"), ("D", "C"), ("E", "F")].iter().enumerate() {
            let m = first + k as u32;
            let ((dr, ot), h3) = if k == 0 {
                (("900.00", "100.00"), "50.00")
            } else {
                (("50.00", "50.00"), "50.00")
            };
            write_claims(
                lake,
                2025,
                m,
                "part-000.parquet",
                &[
                    pool_claim(
                        &format!("Q{q}-H1-{k}"),
                        "H1",
                        &format!("{h1p}{q}"),
                        m,
                        dr,
                        ot,
                    ),
                    pool_claim(
                        &format!("Q{q}-H3-{k}"),
                        "H3",
                        &format!("{h3p}{q}"),
                        m,
                        h3,
                        h3,
                    ),
                ],
            )
            .await;
        }
    }
}
