//! Comparing lakes that hold months' validation records (`ledger/validation/…`).
//!
//! A record's header names the objects its validation read with the store's version evidence
//! (ETag on S3, modification time in a folder or memory store), so the same validation on two
//! copies of a lake writes records that differ in those fields, and hence in bytes and SHA-256.
//! Tests that compare lakes object for object compare a record by its rows and by its header
//! without that evidence.

use bytes::Bytes;

/// Whether `key` is a validation record, or the history copy or lineage of one.
pub fn is_record(key: &str) -> bool {
    let key = key.trim_start_matches("publish/lineage/");
    key.starts_with("ledger/validation/") || key.starts_with("history/ledger/validation/")
}

/// Removes the version evidence (`etag`, `modified`) from a JSON list of input objects.
pub fn without_versions(inputs: &mut serde_json::Value) {
    for input in inputs.as_array_mut().expect("a list of inputs") {
        let i = input.as_object_mut().expect("an input object");
        i.remove("etag");
        assert!(i.remove("modified").is_some(), "an input has `modified`");
    }
}

/// A record's rows and its header without version evidence, as comparable text; bytes that are
/// no Parquet file (a torn write in the fault tests) unchanged.
pub fn normalized_record(bytes: Bytes) -> Bytes {
    let Ok(reader) =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes.clone())
    else {
        return bytes;
    };
    let mut header: serde_json::Value = serde_json::from_str(
        reader
            .schema()
            .metadata()
            .get("claimlake.validation")
            .expect("a record header"),
    )
    .unwrap();
    without_versions(header.get_mut("inputs").expect("header inputs"));
    let rows: Vec<arrow::array::RecordBatch> =
        reader.build().unwrap().map(|b| b.unwrap()).collect();
    Bytes::from(format!("{header}\n{rows:?}"))
}

/// The bytes of `key` as tests compare them: a record normalized, a record's lineage without
/// its SHA-256, anything else unchanged.
pub fn comparable(key: &str, bytes: Bytes) -> Bytes {
    if !is_record(key) {
        return bytes;
    }
    if key.starts_with("publish/lineage/") {
        let mut l: serde_json::Value = serde_json::from_slice(&bytes).expect("lineage JSON");
        l.as_object_mut().unwrap().remove("sha256");
        return Bytes::from(l.to_string());
    }
    normalized_record(bytes)
}
