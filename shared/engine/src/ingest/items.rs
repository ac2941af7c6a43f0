//! Step 04 of ingest for `claim_items`: the reconciliation counts and the quarantine partition
//! from **one** pass over the month's items.
//!
//! The status of every item is SQL (`04_items.sql`, the `item_rows` view: each item joined with
//! its claim id's status). A city month has ~26M items; reading them once for the quarantine and
//! again for the counts (`08_counts.sql`, as the claims do) cost a second scan and a second probe
//! of the ~5M claim ids. SQL has no statement with two outputs, so this pass streams `item_rows`
//! once and, per batch, counts outcomes with Arrow kernels and keeps the keys of the items that
//! are not used. The pass decodes only `claim_id` (an item's one rule is its claim's status); the
//! rejected items (a few thousand) are then read back whole from their files by a Parquet row
//! selection, ordered in reading order by SQL and written.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int32Array, RecordBatch};
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
    /// month's validation record and `items_valid`.
    pub exceptions: Vec<RecordBatch>,
    /// Their schema (the batches may be none).
    pub schema: arrow::datatypes::SchemaRef,
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
    let cols = |prefix: &str| {
        contract::claim_items()
            .fields()
            .iter()
            .map(|f| format!("{prefix}\"{}\"", f.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The quarantine's schema, as the rejected rows are read back below.
    let out_schema = ctx
        .sql(&format!(
            "SELECT {}, final_reason AS reason, source_file FROM item_rows",
            cols("")
        ))
        .await?
        .schema()
        .as_arrow()
        .clone();

    // Only the claim id is decoded for every item (the join with its claim's status); the
    // contract columns are read back for the rejected rows alone, below.
    let mut stream = ctx
        .sql("SELECT final_reason, netted, file_no, row_no FROM item_rows")
        .await?
        .execute_stream()
        .await?;
    let exceptions_schema = Arc::new(stream.schema().project(&[2, 3, 0, 1])?);
    let mut counts = TableCounts::default();
    let mut rejected = Vec::new();
    let mut exceptions = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let reason = batch.column(0);
        let netted = batch
            .column(1)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| internal("netted is not Boolean"))?;
        let n = batch.num_rows() as u64;
        let unused = or(&is_not_null(reason)?, netted)?;
        if unused.true_count() > 0 {
            exceptions.push(filter_record_batch(
                &batch.project(&[2, 3, 0, 1])?,
                &unused,
            )?);
        }
        let netted = and(&is_null(reason)?, netted)?.true_count() as u64;
        let quarantined = (reason.len() - reason.null_count()) as u64;
        counts.read += n;
        counts.netted += netted;
        counts.used += n - netted - quarantined;
        if quarantined > 0 {
            let kept = filter_record_batch(&batch.project(&[2, 3, 0])?, &is_not_null(reason)?)?;
            let reasons = crate::cells::utf8(kept.column(2))?;
            for r in reasons.iter().flatten() {
                *counts.quarantined.entry(r.to_string()).or_default() += 1;
            }
            rejected.push(kept);
        }
    }

    // The rejected rows read back from their files (a Parquet row selection: a city month
    // rejects a few thousand of ~26M items), in reading order, with their file's key.
    let batches = if rejected.iter().all(|b| b.num_rows() == 0) {
        Vec::new()
    } else {
        read_back(lake, ctx, files, rejected, &cols("i.")).await?
    };
    let batches = batches
        .iter()
        .map(|b| {
            let file_no = b
                .column(b.num_columns() - 1)
                .as_any()
                .downcast_ref::<Int32Array>()
                .ok_or_else(|| internal("file_no is not Int32"))?;
            let keys = super::file_keys(file_no, files);
            let mut columns: Vec<ArrayRef> = b.columns()[..b.num_columns() - 1].to_vec();
            // The key column in the string encoding the schema has (`Utf8` from today's scan).
            let key_type = out_schema.field(out_schema.fields().len() - 1).data_type();
            columns.push(arrow::compute::cast(&keys, key_type)?);
            Ok(RecordBatch::try_new(Arc::new(out_schema.clone()), columns)?)
        })
        .collect::<Result<Vec<_>>>()?;
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
        schema: exceptions_schema,
    })
}

/// The contract columns of the `rejected` items (`file_no`, `row_no`, `final_reason`), then
/// `final_reason` and `file_no`, ordered by (`file_no`, `row_no`).
async fn read_back(
    lake: &Lake,
    ctx: &SessionContext,
    files: &[ScanFile],
    rejected: Vec<RecordBatch>,
    cols: &str,
) -> Result<Vec<RecordBatch>> {
    let rows = super::rows_by_position(&rejected, files, None)?.all;
    let schema = rejected[0].schema();
    register_batches(ctx, "rejected_items", schema, rejected)?;
    let scan = lake
        .ordered_scan(files, &contract::claim_items())
        .await?
        .only_rows(&rows);
    ctx.deregister_table("rejected_items_in")?;
    ctx.register_table("rejected_items_in", Arc::new(scan))?;
    let read = ctx
        .sql(&format!(
            "SELECT {cols}, r.final_reason, r.file_no FROM rejected_items r \
             JOIN rejected_items_in i ON i.file_no = r.file_no AND i.row_no = r.row_no \
             ORDER BY r.file_no, r.row_no"
        ))
        .await?
        .collect()
        .await?;
    ctx.deregister_table("rejected_items")?;
    ctx.deregister_table("rejected_items_in")?;
    Ok(read)
}

fn internal(what: &str) -> EngineError {
    EngineError::Precondition(format!("internal error in the items pass: {what}"))
}
