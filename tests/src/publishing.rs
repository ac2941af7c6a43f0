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
