//! Ingest validation and quarantine (data-contract.md).
//!
//! A month's run scans only that month's files. What it must know about the year's earlier
//! months (which `claim_id`s are held, which claims are valid, which were already cancelled) comes
//! from their **ledgers** (`ledger/claims/year=/month=/`), written when those months were
//! validated; a missing ledger is rebuilt first, in month order, so `validate --month 9` on a fresh
//! lake validates months 1..9. Only the few earlier claims that this month's reversals name are
//! read back, for the mirror check.
//!
//! Steps (SQL under `sql/ingest/`): 01 row checks → 02 duplicates → 05/06 prior targets →
//! 03 reversals and netting → 04 items → 07 ledger → 08 counts. Outputs: the quarantine
//! partitions, the ledger, the month's validation record (`record`), and the DataFusion tables
//! `claims_valid` / `items_valid` (used rows: not quarantined, not netted) registered in the
//! session for the computations (03b used claims, 10 used items: the month's files without the
//! exceptions' rows). Runs that read a validated month (warnings, scores, and the settlement
//! itself) rebuild those two tables from the record's exceptions while the month is unchanged
//! ([`validate_or_reuse`], [`validate_or_reuse_for_settlement`]).

mod items;
mod record;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use claimlake_domain::period::Month;
use claimlake_lake::ordered_scan::{OrderedScan, ScanFile, ordered_schema};
use claimlake_lake::write::{ParquetEncoder, WrittenObject};
use claimlake_lake::{InputObject, Lake, contract, layout};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::error::{EngineError, Result};
use crate::manifest::TableCounts;
use crate::sql::{self, ingest as steps};

pub use tables::{ledger_schema, register_institutions, register_ordered_or_empty};

/// What validating one month did.
#[derive(Debug, Clone)]
pub struct MonthValidation {
    pub month: Month,
    pub claims: TableCounts,
    pub items: TableCounts,
    /// Every object read (claims and item files, registry, earlier ledgers).
    pub inputs: Vec<InputObject>,
    /// Quarantine partitions, the ledger and the validation record written (none when reused).
    pub outputs: Vec<WrittenObject>,
    /// Whether the used rows came from the month's validation record ([`validate_or_reuse`]).
    pub reused: bool,
}

/// Registers `claims_valid` and `items_valid` of month `m` in `ctx`: from its validation record
/// (`ledger/validation/…`) when the month was validated before and nothing it read has changed
/// since, else by validating it ([`validate_month`], which writes its quarantine, ledger and a
/// new record). For the runs that read settled months (quarterly warnings, annual score) and
/// must not redo or republish their validation. `claims_basis` is not registered on reuse.
pub async fn validate_or_reuse(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
) -> Result<MonthValidation> {
    match record::reuse(lake, ctx, m).await? {
        Some(v) => Ok(v),
        None => validate_month(lake, ctx, m).await,
    }
}

/// For a settlement: registers `claims_valid`, `items_valid` and `claims_basis` of month `m` in
/// `ctx`, from its validation record when nothing the record was computed from has changed (the
/// month's files, the registry, the earlier ledgers, the ingest rules), else by validating it.
///
/// A settlement does not depend on validating again what a `validate` run (or an earlier
/// settlement) already decided about the same inputs: the record holds that decision row by row,
/// and a validation of unchanged inputs writes the same quarantine, ledger and record. Reusing
/// it keeps a month's settlement after `validate`, and a recomputation after a policy change
/// (which settles the year's months again), from re-running every rule on every row. On reuse,
/// `claims_basis` needs only the targets of the month's mirrors: 05 is `05b`, which starts from
/// the used reversals (read back by row) instead of the whole month.
pub async fn validate_or_reuse_for_settlement(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
) -> Result<MonthValidation> {
    let Some(mut v) = record::reuse(lake, ctx, m).await? else {
        return validate_month(lake, ctx, m).await;
    };
    let params = month_params(m);
    // The registry is among the inputs the record was checked against (`v.inputs`) already.
    tables::register_institutions(lake, ctx).await?;
    v.inputs
        .extend(tables::register_ledger_prior(lake, ctx, m).await?);
    register_prior_targets(lake, ctx, steps::MIRROR_TARGET_KEYS, &params).await?;
    register_basis(ctx, &params).await?;
    Ok(v)
}

/// Validates month `m`, first rebuilding any missing ledger of months `1..m` of its year, and
/// leaves `claims_valid`, `items_valid` and `claims_basis` registered in `ctx`.
pub async fn validate_month(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
) -> Result<MonthValidation> {
    for k in 1..m.month {
        let earlier = Month {
            year: m.year,
            month: k,
        };
        if !lake.exists(&layout::claim_ledger(earlier)).await? {
            if lake
                .list_parquet(&layout::claims_month(earlier))
                .await?
                .is_empty()
            {
                // An earlier month without claims holds no ids: its ledger is empty.
                lake.write_parquet(&layout::claim_ledger(earlier), &ledger_schema(), &[])
                    .await?;
            } else {
                validate_one(lake, ctx, earlier).await?;
            }
        }
    }
    validate_one(lake, ctx, m).await
}

/// Lists a month folder's Parquet files as ordered-scan inputs.
async fn month_files(
    lake: &Lake,
    folder: &str,
    m: Month,
) -> Result<(Vec<ScanFile>, Vec<InputObject>)> {
    let objects = lake.list_parquet(folder).await?;
    let files = objects
        .iter()
        .map(|o| ScanFile {
            key: o.key.clone(),
            part_month: m.month as i32,
        })
        .collect();
    Ok((files, objects))
}

fn month_params(m: Month) -> Vec<(&'static str, String)> {
    let next = if m.month == 12 {
        (m.year + 1, 1)
    } else {
        (m.year, m.month + 1)
    };
    vec![
        ("year", m.year.to_string()),
        ("mm", format!("{:02}", m.month)),
        ("month", m.month.to_string()),
        (
            "month_start",
            format!("{:04}-{:02}-01T00:00:00", m.year, m.month),
        ),
        (
            "next_month_start",
            format!("{:04}-{:02}-01T00:00:00", next.0, next.1),
        ),
    ]
}

/// The keys of the files that `file_no` (positions in `files`, the scan's list) name; null
/// where a position names no file.
pub(crate) fn file_keys(file_no: &arrow::array::Int32Array, files: &[ScanFile]) -> StringArray {
    file_no
        .iter()
        .map(|f| {
            f.and_then(|f| files.get(f as usize))
                .map(|file| file.key.as_str())
        })
        .collect()
}

/// Registers batches as an in-memory table (replacing any table of that name).
pub(crate) fn register_batches(
    ctx: &SessionContext,
    name: &str,
    schema: arrow::datatypes::SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

async fn validate_one(lake: &Lake, ctx: &SessionContext, m: Month) -> Result<MonthValidation> {
    lake.register_in(ctx);
    let params = month_params(m);
    let mut inputs = Vec::new();

    // Inputs of the month, schema-checked file by file before anything runs.
    let (claim_files, objs) = month_files(lake, &layout::claims_month(m), m).await?;
    if claim_files.is_empty() {
        return Err(EngineError::Precondition(format!(
            "no claims files under {}/ in the lake {}: month {m} has no data",
            layout::claims_month(m),
            lake.root()
        )));
    }
    inputs.extend(objs);
    let (item_files, objs) = month_files(lake, &layout::claim_items_month(m), m).await?;
    inputs.extend(objs);
    let (claims_scan, items_scan) =
        tables::register_month_scans(lake, ctx, &claim_files, &item_files).await?;

    inputs.extend(tables::register_institutions(lake, ctx).await?);
    inputs.extend(tables::register_ledger_prior(lake, ctx, m).await?);

    // The files of the scan, by position (rows are keyed (file_no, row_no) in reading order).
    crate::tables::register(
        ctx,
        "scan_files",
        vec![crate::tables::Col::Text(
            "source_file",
            claim_files.iter().map(|f| Some(f.key.clone())).collect(),
        )],
    )?;
    let files_view = ctx
        .sql("SELECT CAST(ROW_NUMBER() OVER (ORDER BY source_file) - 1 AS INT) AS file_no, source_file FROM scan_files")
        .await?;
    let files_schema = Arc::new(files_view.schema().as_arrow().clone());
    let files_batches = files_view.collect().await?;
    let files_schema = files_batches
        .first()
        .map(|b| b.schema())
        .unwrap_or(files_schema);
    register_batches(ctx, "scan_files", files_schema, files_batches)?;

    // 01 row checks, 02 duplicates: narrow tables (keys and reasons only).
    sql::materialize(ctx, "checked", steps::ROW_CHECKS, &params).await?;
    sql::materialize(ctx, "deduped", steps::DUPLICATES, &params).await?;
    ctx.deregister_table("checked")?;

    // 05/06: the earlier claims this month's reversals name, read back from their files.
    register_prior_targets(lake, ctx, steps::PRIOR_TARGET_KEYS, &params).await?;

    // 03a full rows for the mirror check (just those rows read back from the files), 03
    // reversals and netting (narrow claim_status); its exceptions (rows not plainly used) key
    // the quarantine and the used rows (03b, a view re-reading the files).
    let mirror_keys = sql::materialize(ctx, "mirror_keys", steps::MIRROR_KEYS, &params).await?;
    let mirror_rows = rows_by_file(&mirror_keys)?;
    ctx.deregister_table("mirror_in")?;
    ctx.register_table(
        "mirror_in",
        Arc::new(claims_scan.clone().only_rows(&mirror_rows)),
    )?;
    sql::materialize(ctx, "mirror_rows", steps::MIRROR_ROWS, &params).await?;
    ctx.deregister_table("mirror_keys")?;
    ctx.deregister_table("mirror_in")?;
    sql::materialize(ctx, "claim_status", steps::REVERSALS, &params).await?;
    ctx.deregister_table("deduped")?;
    ctx.deregister_table("mirror_rows")?;
    let exceptions = ctx
        .sql(
            "SELECT file_no, row_no, final_reason, netted, target_month FROM claim_status \
              WHERE final_reason IS NOT NULL OR netted OR is_reversal",
        )
        .await?;
    let ex_schema = Arc::new(exceptions.schema().as_arrow().clone());
    let ex_batches = exceptions.collect().await?;
    let ex_schema = ex_batches.first().map(|b| b.schema()).unwrap_or(ex_schema);
    register_batches(ctx, "exceptions", ex_schema, ex_batches.clone())?;

    // 04a/04 items: a view over the item files joined with each claim id's status.
    sql::materialize(
        ctx,
        "claim_status_by_id",
        steps::CLAIM_STATUS_BY_ID,
        &params,
    )
    .await?;
    let item_rows = sql::frame(ctx, steps::ITEMS, &params).await?;
    ctx.deregister_table("item_rows")?;
    ctx.register_table("item_rows", item_rows.into_view())?;

    // Outputs: quarantine, ledger.
    let mut outputs = Vec::new();
    outputs.push(write_quarantine(lake, ctx, (&claims_scan, &claim_files), m).await?);
    let items_pass = items::count_and_quarantine(lake, ctx, &item_files, m).await?;
    outputs.push(items_pass.written);
    let items = items_pass.counts;
    outputs.push(write_ledger(lake, ctx, m, &params).await?);

    register_batches(
        ctx,
        "item_exceptions",
        items_pass.schema.clone(),
        items_pass.exceptions.clone(),
    )?;
    register_valid(
        ctx,
        (&claims_scan, &claim_files),
        (items_scan.as_ref(), &item_files),
        &params,
    )
    .await?;

    register_basis(ctx, &params).await?;

    let claims = counts(ctx, "claim_status").await?;
    // The month-sized status tables (~5M rows each in a city month) are done with: what the
    // computations read (`claims_valid`, `items_valid`) re-reads the files. Dropping them here
    // keeps them out of the settlement's peak memory.
    for table in ["claim_status", "claim_status_by_id", "item_rows"] {
        ctx.deregister_table(table)?;
    }
    for (name, c) in [("claims", &claims), ("claim_items", &items)] {
        if !c.reconciles() {
            return Err(EngineError::Precondition(format!(
                "internal error: {name} of {m} do not reconcile: {c:?}"
            )));
        }
    }
    let started = std::time::Instant::now();
    outputs.push(
        record::write(
            lake,
            record::Validated {
                month: m,
                claim_files: &claim_files,
                claim_exceptions: &ex_batches,
                item_files: &item_files,
                item_exceptions: &items_pass.exceptions,
                inputs: &inputs,
                claims: &claims,
                items: &items,
            },
        )
        .await?,
    );
    sql::profile_rows(
        sql::Step {
            name: "ingest (validation record written)",
            text: "",
        },
        started,
        0,
    );
    Ok(MonthValidation {
        month: m,
        claims,
        items,
        inputs,
        outputs,
        reused: false,
    })
}

/// 09: registers `claims_basis`, the used claims as the computations see them (a mirror carries
/// the values of the claim it cancels, from `prior_targets`): a view over `claims_valid`.
async fn register_basis(ctx: &SessionContext, params: &[(&str, String)]) -> Result<()> {
    let basis = sql::frame(ctx, steps::CLAIMS_BASIS, params).await?;
    ctx.deregister_table("claims_basis")?;
    ctx.register_table("claims_basis", basis.into_view())?;
    Ok(())
}

/// 05/06: registers `prior_targets`, the earlier-month claims named by the keys `keys_step`
/// gives (`source_file`, `row_no`, `part_month` of their rows, from `ledger_prior`), read back
/// from their files: only the named rows (a city month's reversals name ~2k claims).
async fn register_prior_targets(
    lake: &Lake,
    ctx: &SessionContext,
    keys_step: sql::Step,
    params: &[(&str, String)],
) -> Result<()> {
    let keys = sql::collect(ctx, keys_step, params).await?;
    let schema = keys
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(tables::prior_key_schema);
    let mut prior_files = BTreeSet::new();
    for b in &keys {
        let files = crate::cells::utf8(b.column(0))?;
        let months = b
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>()
            .expect("part_month is Int32");
        for i in 0..b.num_rows() {
            prior_files.insert((files.value(i).to_string(), months.value(i)));
        }
    }
    let prior_rows = rows_by_file(&keys)?;
    register_batches(ctx, "prior_target_keys", schema, keys)?;
    let prior_scan: Vec<ScanFile> = prior_files
        .into_iter()
        .map(|(key, part_month)| ScanFile { key, part_month })
        .collect();
    // Only the named rows of those files are read (a city month's reversals name ~2k claims).
    tables::register_ordered_rows(
        lake,
        ctx,
        "prior_raw",
        &prior_scan,
        &contract::claims(),
        &prior_rows,
    )
    .await?;
    sql::materialize(ctx, "prior_targets", steps::PRIOR_TARGETS, params).await?;
    Ok(())
}

/// Registers the month's used rows (not quarantined, not netted) as `claims_valid` /
/// `items_valid`, the computations' inputs: the month's files without the rows listed in
/// `exceptions` (claims quarantined, netted or reversals) and `item_exceptions` (items
/// quarantined or netted), plus the used reversals read back (03b, 10). Parquet skips the
/// listed rows: no join of every row of the month with the exceptions' keys.
async fn register_valid(
    ctx: &SessionContext,
    (claims, claim_files): (&OrderedScan, &[ScanFile]),
    (items, item_files): (Option<&OrderedScan>, &[ScanFile]),
    params: &[(&str, String)],
) -> Result<()> {
    let claim_rows = keyed_rows(
        ctx,
        "SELECT file_no, row_no, final_reason IS NULL AND NOT netted AS used FROM exceptions",
        claim_files,
    )
    .await?;
    let item_rows = keyed_rows(
        ctx,
        "SELECT file_no, row_no, FALSE AS used FROM item_exceptions",
        item_files,
    )
    .await?;
    for (name, table) in [
        ("plain_in", claims.clone().except_rows(&claim_rows.all)),
        ("reversals_in", claims.clone().only_rows(&claim_rows.used)),
    ] {
        ctx.deregister_table(name)?;
        ctx.register_table(name, Arc::new(table))?;
    }
    match items {
        Some(items) => {
            ctx.deregister_table("used_items_in")?;
            ctx.register_table(
                "used_items_in",
                Arc::new(items.clone().except_rows(&item_rows.all)),
            )?;
        }
        None => register_batches(
            ctx,
            "used_items_in",
            ordered_schema(&contract::claim_items()),
            vec![],
        )?,
    }
    for (name, step) in [
        ("claims_valid", steps::USED_CLAIMS),
        ("items_valid", steps::USED_ITEMS),
    ] {
        let view = sql::frame(ctx, step, params).await?;
        ctx.deregister_table(name)?;
        ctx.register_table(name, view.into_view())?;
    }
    Ok(())
}

/// Row numbers by file key: all the rows given, and those marked used.
pub(crate) struct KeyedRows {
    pub all: BTreeMap<String, Vec<i64>>,
    pub used: BTreeMap<String, Vec<i64>>,
}

/// Runs `query` (`file_no`, `row_no`, `used`) and keys its rows by the key of their file.
async fn keyed_rows(ctx: &SessionContext, query: &str, files: &[ScanFile]) -> Result<KeyedRows> {
    rows_by_position(&ctx.sql(query).await?.collect().await?, files, Some(2))
}

/// Rows given by their position (columns 0 and 1: `file_no`, the position of their file in
/// `files`, and `row_no`) keyed by their file's key: the row selections of an ordered scan. With
/// `used`, the index of a Boolean column: those rows whose value is true are also in `used`.
pub(crate) fn rows_by_position(
    batches: &[RecordBatch],
    files: &[ScanFile],
    used: Option<usize>,
) -> Result<KeyedRows> {
    let mut out = KeyedRows {
        all: BTreeMap::new(),
        used: BTreeMap::new(),
    };
    for b in batches {
        let file_no = b
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>()
            .ok_or_else(|| internal("a row's file_no is not Int32"))?;
        let row_no = b
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| internal("a row's row_no is not Int64"))?;
        let used = used
            .map(|c| {
                b.column(c)
                    .as_any()
                    .downcast_ref::<arrow::array::BooleanArray>()
                    .ok_or_else(|| internal("a row's status is not Boolean"))
            })
            .transpose()?;
        for (i, key) in file_keys(file_no, files).iter().enumerate() {
            let key = key.ok_or_else(|| internal("a row names no file of the month"))?;
            out.all
                .entry(key.to_string())
                .or_default()
                .push(row_no.value(i));
            if used.is_some_and(|u| u.is_valid(i) && u.value(i)) {
                out.used
                    .entry(key.to_string())
                    .or_default()
                    .push(row_no.value(i));
            }
        }
    }
    Ok(out)
}

fn internal(what: &str) -> EngineError {
    EngineError::Precondition(format!("internal error in ingest: {what}"))
}

/// Writes `quarantine/claims/year=/month=/data.parquet`: the rejected rows (`exceptions` with a
/// `final_reason`) with their contract columns, `reason` and `source_file`, in reading order.
/// The rows are read back from their files with a Parquet row selection: a city month rejects
/// ~1.5k of ~5M rows, and a full scan decoded every column of every row to keep them.
async fn write_quarantine(
    lake: &Lake,
    ctx: &SessionContext,
    (scan, files): (&OrderedScan, &[ScanFile]),
    m: Month,
) -> Result<WrittenObject> {
    let started = std::time::Instant::now();
    let rows = keyed_rows(
        ctx,
        "SELECT file_no, row_no, TRUE AS used FROM exceptions WHERE final_reason IS NOT NULL",
        files,
    )
    .await?
    .all;
    ctx.deregister_table("rejected_claims_in")?;
    ctx.register_table(
        "rejected_claims_in",
        Arc::new(scan.clone().only_rows(&rows)),
    )?;
    let cols: Vec<String> = contract::claims()
        .fields()
        .iter()
        .map(|f| format!("c.\"{}\"", f.name()))
        .collect();
    let query = format!(
        "SELECT {}, e.final_reason AS reason, c.source_file FROM exceptions e \
         JOIN rejected_claims_in c ON c.file_no = e.file_no AND c.row_no = e.row_no \
         WHERE e.final_reason IS NOT NULL ORDER BY c.file_no, c.row_no",
        cols.join(", ")
    );
    let df = ctx.sql(&query).await?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    ctx.deregister_table("rejected_claims_in")?;
    let written = lake
        .write_parquet(&layout::quarantine("claims", m), &schema, &batches)
        .await?;
    sql::profile(
        sql::Step {
            name: "ingest quarantine (claims, read back)",
            text: "",
        },
        started,
        &batches,
    );
    Ok(written)
}

/// Writes `ledger/claims/year=/month=/data.parquet` (07), encoding the step's ordered rows as
/// they stream out of the sort: a city month's ledger is ~5M rows, and collecting them before
/// encoding held them twice (the sort's buffer and the collected copy) at the run's peak.
async fn write_ledger(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
    params: &[(&str, String)],
) -> Result<WrittenObject> {
    let started = std::time::Instant::now();
    let sql_error = |source| EngineError::Sql {
        step: steps::LEDGER.name.to_string(),
        source,
    };
    let mut stream = sql::frame(ctx, steps::LEDGER, params)
        .await?
        .execute_stream()
        .await
        .map_err(sql_error)?;
    let mut encoder = ParquetEncoder::new(&ledger_schema())?;
    while let Some(batch) = stream.next().await {
        encoder.write(&batch.map_err(sql_error)?)?;
    }
    let (bytes, rows) = encoder.finish()?;
    let written = lake
        .write_encoded(&layout::claim_ledger(m), (bytes, rows))
        .await?;
    sql::profile_rows(steps::LEDGER, started, rows as usize);
    Ok(written)
}

/// The `row_no`s of a step's rows by their `source_file`: the row selection of an ordered scan
/// that reads back only those rows ([`claimlake_lake::ordered_scan::OrderedScan::only_rows`]).
fn rows_by_file(batches: &[RecordBatch]) -> Result<BTreeMap<String, Vec<i64>>> {
    let column = |b: &RecordBatch, name: &str| {
        b.column_by_name(name).cloned().ok_or_else(|| {
            EngineError::Precondition(format!("internal error: a key step has no {name}"))
        })
    };
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for b in batches {
        let files = crate::cells::utf8(&column(b, "source_file")?)?;
        let rows = arrow::compute::cast(&column(b, "row_no")?, &arrow::datatypes::DataType::Int64)?;
        let rows = rows
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("cast to Int64");
        for i in 0..b.num_rows() {
            out.entry(files.value(i).to_string())
                .or_default()
                .push(rows.value(i));
        }
    }
    Ok(out)
}

/// Reads the reconciliation of one validated table.
async fn counts(ctx: &SessionContext, table: &str) -> Result<TableCounts> {
    let batches = sql::collect(ctx, steps::COUNTS, &[("table", table.to_string())]).await?;
    let mut c = TableCounts::default();
    for b in &batches {
        let outcome = crate::cells::utf8(b.column(0))?;
        let reason = crate::cells::utf8(b.column(1))?;
        let rows = b
            .column(2)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("int64");
        for i in 0..b.num_rows() {
            let n = rows.value(i) as u64;
            c.read += n;
            match outcome.value(i) {
                "used" => c.used += n,
                "netted" => c.netted += n,
                _ => {
                    let r = if reason.is_null(i) {
                        "?"
                    } else {
                        reason.value(i)
                    };
                    *c.quarantined.entry(r.to_string()).or_default() += n;
                }
            }
        }
    }
    Ok(c)
}

/// The schema an ordered scan of `contract` produces (re-exported for tests).
pub fn scan_schema(contract: &arrow::datatypes::SchemaRef) -> arrow::datatypes::SchemaRef {
    ordered_schema(contract)
}
