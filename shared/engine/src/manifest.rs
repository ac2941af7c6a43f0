//! Run manifests (`runs/<run_id>.json`, outputs.md): what a run read, what it wrote, and row
//! counts that reconcile (`read = used + quarantined + netted`).

use std::collections::BTreeMap;

use claimlake_lake::write::WrittenObject;
use claimlake_lake::{InputObject, Lake};
use serde::Serialize;

use crate::error::Result;

/// Row counts of one input table in one run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TableCounts {
    pub read: u64,
    pub used: u64,
    pub netted: u64,
    /// Quarantined rows by reason (sorted by reason).
    pub quarantined: BTreeMap<String, u64>,
    /// Valid rows not settled, by reason (settlement only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub excluded: BTreeMap<String, u64>,
}

impl TableCounts {
    pub fn quarantined_total(&self) -> u64 {
        self.quarantined.values().sum()
    }

    /// `read = used + quarantined + netted`.
    pub fn reconciles(&self) -> bool {
        self.read == self.used + self.quarantined_total() + self.netted
    }
}

/// The policy a run used.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PolicyRef {
    pub year: i32,
    pub version: i64,
    pub sha256: String,
}

/// A run manifest. Field order is the JSON key order.
#[derive(Debug, Clone, Serialize)]
pub struct RunManifest {
    pub run_id: String,
    pub kind: String,
    pub period: String,
    pub scenario: Option<String>,
    pub policy: Option<PolicyRef>,
    pub engine_version: String,
    pub started: String,
    pub finished: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub inputs: Vec<InputObject>,
    pub row_counts: BTreeMap<String, TableCounts>,
    pub outputs: Vec<WrittenObject>,
}

impl RunManifest {
    /// Starts a manifest for a run of `kind` over `period`.
    pub fn start(kind: &str, period: &str, scenario: Option<String>) -> Self {
        RunManifest {
            run_id: new_run_id(),
            kind: kind.into(),
            period: period.into(),
            scenario,
            policy: None,
            engine_version: env!("CARGO_PKG_VERSION").into(),
            started: now_rfc3339(),
            finished: None,
            status: "running".into(),
            error: None,
            inputs: Vec::new(),
            row_counts: BTreeMap::new(),
            outputs: Vec::new(),
        }
    }

    /// Marks the run finished (succeeded, or failed with the error) and writes it.
    pub async fn finish(&mut self, lake: &Lake, error: Option<String>) -> Result<WrittenObject> {
        self.finished = Some(now_rfc3339());
        self.status = if error.is_some() {
            "failed"
        } else {
            "succeeded"
        }
        .into();
        self.error = error;
        self.inputs.sort_by(|a, b| a.key.cmp(&b.key));
        self.inputs.dedup_by(|a, b| a.key == b.key);
        let key = claimlake_lake::layout::run_manifest(&self.run_id);
        Ok(lake.write_json(&key, self).await?)
    }
}

/// A time-ordered unique run id: UTC time to the microsecond, then process id and a counter.
pub fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now();
    format!(
        "{}-{:05x}{:03x}",
        now.format("%Y%m%dT%H%M%S%6fZ"),
        std::process::id() & 0xfffff,
        COUNTER.fetch_add(1, Ordering::Relaxed) & 0xfff
    )
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
