//! Step 04 of ingest for `claim_items`: the reconciliation counts and the quarantine partition
//! from **one** pass over the month's items.
//!
//! The status of every item is SQL (`04_items.sql`, the `item_rows` view: each item joined with
//! its claim id's status). A city month has ~26M items; reading them once for the quarantine and
//! again for the counts (`08_counts.sql`, as the claims do) cost a second scan and a second probe
//! of the ~5M claim ids. SQL has no statement with two outputs, so this pass streams `item_rows`
//! once and, per batch, counts outcomes with Arrow kernels and keeps only the rejected rows (a
//! few thousand), which are then ordered in reading order by SQL and written.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray};
use arrow::compute::{and, filter_record_batch, is_not_null, is_null, or};
use claimlake_domain::period::Month;
use claimlake_lake::ordered_scan::ScanFile;
use claimlake_lake::write::WrittenObject;
use claimlake_lake::{Lake, contract, layout};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::register_batches;
use crate::error::{EngineError, Result};
use crate::manifest::TableCounts;
use crate::sql;

/// What the one pass over the items produced.
pub(super) struct ItemsPass {
    /// `quarantine/claim_items/year=/month=/data.parquet`.
    pub written: WrittenObject,
    pub counts: TableCounts,
    /// The items that are not used (`file_no`, `row_no`, `final_reason`, `netted`), for the
    /// month's validation record.
    pub exceptions: Vec<RecordBatch>,
}

/// Reads `item_rows` once: returns the items' reconciliation and their exceptions, and writes
/// `quarantine/claim_items/year=/month=/data.parquet` (the contract columns, `reason` and
/// `source_file` of each rejected item, in reading order), exactly as a separate quarantine
/// query and count would.
pub(super) async fn count_and_quarantine(
    lake: &Lake,
    ctx: &SessionContext,
    files: &[ScanFile],
    m: Month,
) -> Result<ItemsPass> {
    let started = std::time::Instant::now();
    let cols: Vec<String> = contract::claim_items()
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let cols = cols.join(", ");
    // The quarantine's schema, as the rejected rows are read back below.
    let out_schema = ctx
        .sql(&format!(
            "SELECT {cols}, final_reason AS reason, source_file FROM item_rows"
        ))
        .await?
        .schema()
        .as_arrow()
        .clone();

    let mut stream = ctx
        .sql(&format!(
            "SELECT {cols}, final_reason, netted, file_no, row_no FROM item_rows"
        ))
        .await?
        .execute_stream()
        .await?;
    let schema = stream.schema();
    let mut counts = TableCounts::default();
    let mut rejected = Vec::new();
    let mut exceptions = Vec::new();
    let key_columns = ["file_no", "row_no", "final_reason", "netted"]
        .map(|c| schema.index_of(c).expect("selected above"));
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let reason = batch
            .column_by_name("final_reason")
            .expect("selected above");
        let netted = batch
            .column_by_name("netted")
            .expect("selected above")
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| internal("netted is not Boolean"))?;
        let n = batch.num_rows() as u64;
        let unused = or(&is_not_null(reason)?, netted)?;
        if unused.true_count() > 0 {
            exceptions.push(filter_record_batch(&batch.project(&key_columns)?, &unused)?);
        }
        let netted = and(&is_null(reason)?, netted)?.true_count() as u64;
        let quarantined = (reason.len() - reason.null_count()) as u64;
        counts.read += n;
        counts.netted += netted;
        counts.used += n - netted - quarantined;
        if quarantined > 0 {
            let kept = filter_record_batch(&batch, &is_not_null(reason)?)?;
            let reasons = kept
                .column_by_name("final_reason")
                .expect("selected above")
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| internal("final_reason is not Utf8"))?;
            for r in reasons.iter().flatten() {
                *counts.quarantined.entry(r.to_string()).or_default() += 1;
            }
            rejected.push(kept);
        }
    }

    // The rejected rows in reading order, with their file's key.
    register_batches(ctx, "rejected_items", schema, rejected)?;
    let ordered = ctx
        .sql(&format!(
            "SELECT {cols}, final_reason, file_no FROM rejected_items ORDER BY file_no, row_no"
        ))
        .await?
        .collect()
        .await?;
    ctx.deregister_table("rejected_items")?;
    let mut batches = Vec::with_capacity(ordered.len());
    for b in &ordered {
        let file_no = b
            .column(b.num_columns() - 1)
            .as_any()
            .downcast_ref::<Int32Array>()
            .ok_or_else(|| internal("file_no is not Int32"))?;
        let keys = super::file_keys(file_no, files);
        let mut columns: Vec<ArrayRef> = b.columns()[..b.num_columns() - 1].to_vec();
        columns.push(Arc::new(keys));
        batches.push(RecordBatch::try_new(Arc::new(out_schema.clone()), columns)?);
    }
    let written = lake
        .write_parquet(
            &layout::quarantine("claim_items", m),
            &Arc::new(out_schema),
            &batches,
        )
        .await?;
    sql::profile(
        sql::Step {
            name: "ingest/04_items.sql (count, quarantine)",
            text: "",
        },
        started,
        &batches,
    );
    Ok(ItemsPass {
        written,
        counts,
        exceptions,
    })
}

fn internal(what: &str) -> EngineError {
    EngineError::Precondition(format!("internal error in the items pass: {what}"))
}
