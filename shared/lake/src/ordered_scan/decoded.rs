//! A record of which contract columns ordered scans decode, file by file.
//!
//! The benchmark's scan floor must read exactly the columns a computation decodes from the
//! lake's files; a hand-kept list drifts as soon as a step reads one more column. With the
//! record on, a test runs the computation and compares the columns decoded with the floor's
//! list. Off (the default), the scans pay one uncontended lock per file opened.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

static DECODED: Mutex<Option<BTreeMap<String, BTreeSet<String>>>> = Mutex::new(None);

/// Starts (or restarts, forgetting what was recorded) the process-wide record.
pub fn record_decoded_columns() {
    *DECODED.lock().unwrap_or_else(|e| e.into_inner()) = Some(BTreeMap::new());
}

/// What was recorded since [`record_decoded_columns`]: each file key (relative to the lake
/// root) with the contract columns decoded from it; empty when the record is off.
pub fn decoded_columns() -> BTreeMap<String, BTreeSet<String>> {
    DECODED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Notes that a scan of `key` decodes `columns` (no-op while the record is off).
pub(super) fn note<'a>(key: &str, columns: impl Iterator<Item = &'a str>) {
    let mut guard = DECODED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(record) = guard.as_mut() {
        record
            .entry(key.to_string())
            .or_default()
            .extend(columns.map(str::to_string));
    }
}
