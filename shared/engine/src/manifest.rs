//! Run manifests (`runs/<run_id>.json`, outputs.md): what a run read, what it wrote, and row
//! counts that reconcile (`read = used + quarantined + netted`).

use std::collections::BTreeMap;

use claimlake_lake::publish::Replaced;
use claimlake_lake::write::WrittenObject;
use claimlake_lake::{InputObject, Lake};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Row counts of one input table in one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableCounts {
    pub read: u64,
    pub used: u64,
    pub netted: u64,
    /// Quarantined rows by reason (sorted by reason).
    pub quarantined: BTreeMap<String, u64>,
    /// Valid rows not settled, by reason (settlement only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyRef {
    pub year: i32,
    pub version: i64,
    pub sha256: String,
}

/// How a run's interrupted publish was resolved by a later run (outputs.md: "completed or
/// redone by the next run of the period (the manifest says which)").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Recovery {
    /// The interrupted run.
    pub run_id: String,
    pub kind: String,
    pub period: String,
    /// `completed` (its staged outputs copied into place), `rolled_back` (official objects
    /// restored from history), `discarded` (interrupted before anything official changed: the
    /// period's next run recomputes it), or `finalized` (it had published; only clean-up was left).
    pub action: String,
    /// The run that resolved it.
    pub by: String,
    pub at: String,
}

/// A run manifest. Field order is the JSON key order.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Official objects this run replaced, each kept in `history/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<Replaced>,
    /// Interrupted publishes of earlier runs this run resolved before computing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<Recovery>,
    /// Set when this run's own publish was interrupted and a later run resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
    /// What else an auditor should know (a lock taken over, cards re-derived, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
            replaced: Vec::new(),
            recovered: Vec::new(),
            recovery: None,
            notes: Vec::new(),
        }
    }

    /// Marks the run finished (succeeded, or failed with the error) and writes it.
    pub async fn finish(&mut self, lake: &Lake, error: Option<String>) -> Result<WrittenObject> {
        self.close(error);
        self.write(lake).await
    }

    /// Marks the run finished (succeeded, or failed with the error) without writing it.
    pub fn close(&mut self, error: Option<String>) {
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
    }

    /// The manifest's bytes: pretty JSON, newline-terminated.
    pub fn to_bytes(&self) -> Result<bytes::Bytes> {
        let mut text = serde_json::to_vec_pretty(self).map_err(claimlake_lake::LakeError::from)?;
        text.push(b'\n');
        Ok(bytes::Bytes::from(text))
    }

    /// Writes `runs/<run_id>.json` in the lake's own space, through the one door for retained
    /// objects ([`Lake::put_retained`]).
    pub async fn write(&self, lake: &Lake) -> Result<WrittenObject> {
        let key = claimlake_lake::layout::run_manifest(&self.run_id);
        Ok(lake.put_retained(&key, self.to_bytes()?).await?)
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

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
