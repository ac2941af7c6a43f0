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

/// Internal per-month record of a validation: the rows of the month that are not used
/// (quarantined, netted, and the valid reversals with the month they reach back to), keyed by
/// file and row, and in its metadata the inputs it was computed from. The warnings and the
/// annual score rebuild a month's used rows from it instead of validating the month again,
/// while those inputs are unchanged.
pub fn month_validation(m: Month) -> String {
    format!(
        "ledger/validation/year={}/month={:02}/data.parquet",
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

/// `reports/<kind>/<period>.diff.json`: what a recomputation changed against the results it
/// replaced (outputs.md, Publishing rules).
pub fn diff_report(kind: &str, period: &str) -> String {
    format!("reports/{kind}/{period}.diff.json")
}

/// The lock of a run's (kind, period): `locks/<kind>/<period>.json`. A scenario's locks live
/// under its own prefix, so the lock key of outputs.md's (kind, period, scenario) is this key
/// in the scenario's space.
pub fn lock(kind: &str, period: &str) -> String {
    format!("locks/{kind}/{period}.json")
}

/// The marker a run creates (create-only) to take over the stale lock of `stale_run_id`: only
/// one run can win the takeover of a given stale lock. Markers are kept (they are tiny and rare)
/// so that a slow contender cannot replay an old takeover.
pub fn lock_takeover(kind: &str, period: &str, stale_run_id: &str) -> String {
    format!("locks/{kind}/{period}.takeover-{stale_run_id}.json")
}

/// Folder of everything a run writes before it publishes: `staging/<run_id>/<official key>`.
pub fn staging(run_id: &str) -> String {
    format!("staging/{run_id}")
}

/// Folder of the publish journals (one per (kind, period) being published).
pub const JOURNALS: &str = "publish/journal";

/// The publish journal of run `run_id` of a (kind, period): what is being copied into place,
/// and what it replaces, so that an interrupted publish can be completed or rolled back. Keyed
/// by run too, so a run whose lock was taken over can never overwrite its successor's journal.
pub fn journal(kind: &str, period: &str, run_id: &str) -> String {
    format!("{JOURNALS}/{kind}/{period}/{run_id}.json")
}

/// Which run wrote the official object `key` (and its SHA-256): `publish/lineage/<key>.json`.
/// Read when the object is replaced, to name its history copy.
pub fn lineage(key: &str) -> String {
    format!("publish/lineage/{key}.json")
}

/// Where the replaced version of an official object is kept:
///
/// - `results/<table>/<partition>/data.parquet` → `history/<table>/<partition>/<run_id>.parquet`
///   (outputs.md's `history/<table>/…/<replaced_run_id>.parquet`: the history of a table is
///   itself a hive-partitioned folder of every version, queryable like the table);
/// - any other `<top>/<path>/data.<ext>` (restricted tables, quarantine, ledger) →
///   `history/<top>/<path>/<run_id>.<ext>`;
/// - a named object `<top>/<path>/<name>.<ext>` (reports) →
///   `history/<top>/<path>/<name>/<run_id>.<ext>`.
///
/// `run_id` is the run that wrote the replaced version (from its lineage record), or
/// `unrecorded-<sha256 prefix>` for an object no recorded run wrote.
pub fn history(key: &str, run_id: &str) -> String {
    let rest = key.strip_prefix("results/").unwrap_or(key);
    let (folder, file) = rest.rsplit_once('/').unwrap_or(("", rest));
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let ext = if ext.is_empty() {
        String::new()
    } else {
        format!(".{ext}")
    };
    let mut out = String::from("history/");
    if !folder.is_empty() {
        out.push_str(folder);
        out.push('/');
    }
    if stem != "data" {
        out.push_str(stem);
        out.push('/');
    }
    out.push_str(run_id);
    out.push_str(&ext);
    out
}

/// Prefix of a scenario's own objects: `scenarios/<name>/` holds the same layout as the lake.
pub fn scenario(name: &str) -> String {
    format!("scenarios/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys() {
        assert_eq!(
            history("results/statements/year=2025/month=09/data.parquet", "R1"),
            "history/statements/year=2025/month=09/R1.parquet"
        );
        assert_eq!(
            history(
                "restricted/suspicions/year=2025/quarter=1/data.parquet",
                "R1"
            ),
            "history/restricted/suspicions/year=2025/quarter=1/R1.parquet"
        );
        assert_eq!(
            history("reports/settlement/2025-09.json", "R1"),
            "history/reports/settlement/2025-09/R1.json"
        );
        assert_eq!(
            history("reports/settlement/2025-09.diff.json", "R1"),
            "history/reports/settlement/2025-09.diff/R1.json"
        );
    }
}
