//! The lake layout of `data-contract.md` and `outputs.md` as functions, so no other code spells a
//! partition path by hand.

use claimlake_domain::period::{Month, Quarter};

/// Folder of a month's claims: `claims/year=YYYY/month=MM`.
pub fn claims_month(m: Month) -> String {
    format!("claims/year={}/month={:02}", m.year, m.month)
}

/// Folder of a month's claim items.
pub fn claim_items_month(m: Month) -> String {
    format!("claim_items/year={}/month={:02}", m.year, m.month)
}

pub const INSTITUTIONS: &str = "reference/institutions";
pub const CATALOG: &str = "reference/catalog";

pub fn assessments(year: i32) -> String {
    format!("inputs/assessments/year={year}")
}

pub fn investigations(year: i32) -> String {
    format!("inputs/investigations/year={year}")
}

/// The policy file of a year.
pub fn policy(year: i32) -> String {
    format!("policy/{year}.toml")
}

/// `quarantine/<table>/year=YYYY/month=MM/data.parquet`.
pub fn quarantine(table: &str, m: Month) -> String {
    format!(
        "quarantine/{table}/year={}/month={:02}/data.parquet",
        m.year, m.month
    )
}

/// Internal per-month validation ledger (ids that hold their `claim_id`, valid reversals):
/// what a later month of the year must know about earlier months without re-reading them.
pub fn claim_ledger(m: Month) -> String {
    format!(
        "ledger/claims/year={}/month={:02}/data.parquet",
        m.year, m.month
    )
}

/// `results/<table>/year=YYYY/month=MM/data.parquet`.
pub fn monthly_result(table: &str, m: Month) -> String {
    format!(
        "results/{table}/year={}/month={:02}/data.parquet",
        m.year, m.month
    )
}

/// `results/<table>/year=YYYY/quarter=Q/data.parquet`.
pub fn quarterly_result(table: &str, q: Quarter) -> String {
    format!(
        "results/{table}/year={}/quarter={}/data.parquet",
        q.year, q.quarter
    )
}

/// `restricted/<table>/year=YYYY/quarter=Q/data.parquet`.
pub fn restricted_result(table: &str, q: Quarter) -> String {
    format!(
        "restricted/{table}/year={}/quarter={}/data.parquet",
        q.year, q.quarter
    )
}

/// `results/<table>/year=YYYY/data.parquet`.
pub fn annual_result(table: &str, year: i32) -> String {
    format!("results/{table}/year={year}/data.parquet")
}

/// `reports/<kind>/<period>.json`.
pub fn report(kind: &str, period: &str) -> String {
    format!("reports/{kind}/{period}.json")
}

/// `runs/<run_id>.json`.
pub fn run_manifest(run_id: &str) -> String {
    format!("runs/{run_id}.json")
}

/// Ground truth written by the generator.
pub fn truth(name: &str) -> String {
    format!("truth/{name}")
}
