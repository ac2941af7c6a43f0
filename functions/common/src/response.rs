//! What a successful invocation returns.

use std::collections::BTreeMap;

use claimlake_engine::manifest::TableCounts;
use claimlake_lake::write::WrittenObject;
use serde::Serialize;

/// What a run produced, as a function binary reports it to [`crate::serve`].
#[derive(Debug, Clone)]
pub struct Outcome {
    pub run_id: String,
    pub outputs: Vec<WrittenObject>,
    /// The run's JSON report (`reports/<kind>/<period>.json`).
    pub report_key: String,
    /// The diff report, when the run replaced a period (`reports/<kind>/<period>.diff.json`).
    pub diff_key: Option<String>,
    /// Input row counts (`read`, `used`, `quarantined`, `netted`, `excluded`) by input table.
    pub inputs: BTreeMap<String, TableCounts>,
}

/// The invocation's response. Field order is the JSON key order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Response {
    pub status: &'static str,
    pub function: String,
    pub period: String,
    pub scenario: Option<String>,
    pub run_id: String,
    /// Rows written per result table (`results/` and `restricted/` Parquet outputs).
    pub rows: BTreeMap<String, u64>,
    /// Input row counts by input table.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, TableCounts>,
    pub report_key: String,
    /// A presigned GET URL of the report, when the lake is on S3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// The diff report of a run that replaced a period (a recomputation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_key: Option<String>,
    /// A presigned GET URL of the diff report, when the lake is on S3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_url: Option<String>,
    /// `runs/<run_id>.json`.
    pub manifest_key: String,
}

/// The table a result key belongs to: `results/<table>/…` or `restricted/<table>/…`.
pub fn result_table(key: &str) -> Option<&str> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next()) {
        (Some("results" | "restricted"), Some(table)) if key.ends_with(".parquet") => Some(table),
        _ => None,
    }
}

/// Rows per result table of a run's outputs (a table written for several partitions sums).
pub fn rows_by_table(outputs: &[WrittenObject]) -> BTreeMap<String, u64> {
    let mut rows = BTreeMap::new();
    for o in outputs {
        if let Some(t) = result_table(&o.key) {
            *rows.entry(t.to_string()).or_insert(0) += o.rows;
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_summed_per_result_table() {
        let w = |key: &str, rows| WrittenObject {
            key: key.into(),
            rows,
            bytes: 1,
            sha256: String::new(),
        };
        let rows = rows_by_table(&[
            w("results/statements/year=2025/month=03/data.parquet", 20),
            w("results/cards/year=2025/quarter=1/data.parquet", 2),
            w("results/cards/year=2025/quarter=2/data.parquet", 1),
            w("restricted/suspicions/year=2025/quarter=1/data.parquet", 7),
            w("reports/settlement/2025-03.json", 0),
            w("quarantine/claims/year=2025/month=03/data.parquet", 4),
        ]);
        assert_eq!(
            rows.into_iter().collect::<Vec<_>>(),
            vec![
                ("cards".to_string(), 3),
                ("statements".to_string(), 20),
                ("suspicions".to_string(), 7)
            ]
        );
    }
}
