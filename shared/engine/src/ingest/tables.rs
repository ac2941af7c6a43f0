//! Registration of the tables ingest reads: the registry, earlier months' ledgers, and ordered
//! scans that may have no files.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use claimlake_domain::period::Month;
use claimlake_lake::ordered_scan::{OrderedScan, ScanFile, ordered_schema};
use claimlake_lake::register::monthly_partitions;
use claimlake_lake::{InputObject, Lake, contract, layout};
use datafusion::prelude::SessionContext;

use super::register_batches;
use crate::error::{EngineError, Result};

/// Schema of `ledger/claims/year=/month=/data.parquet`.
pub fn ledger_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("claim_id", DataType::Utf8, true),
        Field::new("part_month", DataType::Int32, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("row_no", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("reverses_claim_id", DataType::Utf8, true),
        Field::new("netted", DataType::Boolean, true),
    ]))
}

/// Schema of the prior-target keys (step 05).
pub fn prior_key_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source_file", DataType::Utf8, false),
        Field::new("row_no", DataType::Int64, false),
        Field::new("part_month", DataType::Int32, false),
    ]))
}

/// Registers an ordered scan of `files`, or an empty table of the same schema when there are
/// none (a month without items, a month whose reversals name no earlier claim). Returns the
/// scan (none when empty), for registering restrictions of it to some rows.
pub async fn register_ordered_or_empty(
    lake: &Lake,
    ctx: &SessionContext,
    name: &str,
    files: &[ScanFile],
    contract: &SchemaRef,
) -> Result<Option<OrderedScan>> {
    if files.is_empty() {
        register_batches(ctx, name, ordered_schema(contract), vec![])?;
        Ok(None)
    } else {
        let scan = lake.ordered_scan(files, contract).await?;
        ctx.deregister_table(name)?;
        ctx.register_table(name, Arc::new(scan.clone()))?;
        Ok(Some(scan))
    }
}

/// Registers a month's input scans, `claims_in` and `items_in` (empty when the month has no
/// item files), as validation and its reuse from a record both read them. Returns the scans,
/// for registering restrictions of them to some rows.
pub async fn register_month_scans(
    lake: &Lake,
    ctx: &SessionContext,
    claim_files: &[ScanFile],
    item_files: &[ScanFile],
) -> Result<(OrderedScan, Option<OrderedScan>)> {
    let claims_scan = lake.ordered_scan(claim_files, &contract::claims()).await?;
    ctx.deregister_table("claims_in")?;
    ctx.register_table("claims_in", Arc::new(claims_scan.clone()))?;
    let items_scan =
        register_ordered_or_empty(lake, ctx, "items_in", item_files, &contract::claim_items())
            .await?;
    Ok((claims_scan, items_scan))
}

/// Registers `name` as an ordered scan of only the given rows of `files` (see
/// [`claimlake_lake::ordered_scan::OrderedScan::only_rows`]); empty when there are no files.
pub async fn register_ordered_rows(
    lake: &Lake,
    ctx: &SessionContext,
    name: &str,
    files: &[ScanFile],
    contract: &SchemaRef,
    rows: &std::collections::BTreeMap<String, Vec<i64>>,
) -> Result<()> {
    if files.is_empty() {
        return register_batches(ctx, name, ordered_schema(contract), vec![]);
    }
    let scan = lake.ordered_scan(files, contract).await?.only_rows(rows);
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(scan))?;
    Ok(())
}

/// Registers `institutions` from `reference/institutions/*.parquet` (required).
pub async fn register_institutions(lake: &Lake, ctx: &SessionContext) -> Result<Vec<InputObject>> {
    let objects = lake.list_parquet(layout::INSTITUTIONS).await?;
    if objects.is_empty() {
        return Err(EngineError::Precondition(format!(
            "no institution registry: {}/*.parquet is missing in the lake {}",
            layout::INSTITUTIONS,
            lake.root()
        )));
    }
    let files: Vec<ScanFile> = objects
        .iter()
        .map(|o| ScanFile {
            key: o.key.clone(),
            part_month: 0,
        })
        .collect();
    register_ordered_or_empty(lake, ctx, "institutions", &files, &contract::institutions()).await?;
    Ok(objects)
}

/// Registers `ledger_prior`: the ledgers of months `1..m` of `m`'s year.
pub async fn register_ledger_prior(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
) -> Result<Vec<InputObject>> {
    let mut objects = Vec::new();
    for k in 1..m.month {
        let key = layout::claim_ledger(Month {
            year: m.year,
            month: k,
        });
        let folder = key.trim_end_matches("/data.parquet");
        let mut found = lake.list_parquet(folder).await?;
        if found.is_empty() {
            return Err(EngineError::Precondition(format!(
                "ledger {key} missing: validate months in order"
            )));
        }
        objects.append(&mut found);
    }
    ctx.deregister_table("ledger_prior")?;
    if objects.is_empty() {
        register_batches(ctx, "ledger_prior", ledger_schema(), vec![])?;
    } else {
        lake.register_table(
            ctx,
            "ledger_all",
            "ledger/claims",
            ledger_schema(),
            monthly_partitions(),
        )
        .await?;
        let view = ctx
            .sql(&format!(
                "SELECT claim_id, part_month, source_file, row_no, status, reverses_claim_id, netted \
                 FROM ledger_all WHERE year = {} AND month < {}",
                m.year, m.month
            ))
            .await?
            .into_view();
        ctx.register_table("ledger_prior", view)?;
    }
    Ok(objects)
}
