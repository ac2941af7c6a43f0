//! The month's validation record (`ledger/validation/year=/month=/data.parquet`) and its reuse.
//!
//! A settlement validates its month: every rule on every claim and item row. The quarterly
//! warnings need the used rows of three settled months (and of the month before), the annual
//! score those of twelve; validating each again cost a city month ~26 s and republished its
//! quarantine and ledger from a run that has no business replacing them.
//!
//! So each validation also writes what it decided about the rows that are **not** plain used rows:
//! the quarantined, netted and reversal claim rows (`final_reason`, `netted`, `target_month`, as
//! step 03 gave them) and the quarantined and netted item rows, keyed by file and row. Every other
//! row of the month's files is used. Its metadata holds what the validation read: the month's
//! claim and item files and the registry (key, size, ETag or modification time: a new delivery is
//! a new version), the earlier months' ledgers by SHA-256 of their bytes (a run that re-validates
//! January with the same rows writes the same ledger), and a hash of the ingest SQL. A later run
//! rebuilds `claims_valid` and `items_valid` from the files and the record ([`reuse`]) only while
//! all of those are unchanged; otherwise it validates the month again, as before.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use claimlake_domain::period::Month;
use claimlake_lake::ordered_scan::ScanFile;
use claimlake_lake::write::{WrittenObject, sha256_hex};
use claimlake_lake::{InputObject, Lake, layout};
use datafusion::prelude::SessionContext;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use super::{MonthValidation, month_files, month_params, register_batches, tables};
use crate::error::{EngineError, Result};
use crate::manifest::TableCounts;
use crate::sql::{self, ingest as steps};

/// The schema metadata key holding the record's [`Header`] (JSON).
const META_KEY: &str = "claimlake.validation";

/// What a record was computed from, and the month's reconciliation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Header {
    /// SHA-256 of the ingest SQL and of this record's format: a change of the rules makes every
    /// record stale.
    rules: String,
    /// The month's claim and item files and the registry, as listed when it was validated.
    inputs: Vec<InputObject>,
    /// The earlier months' ledgers the validation read, by content: a ledger the same run
    /// rewrote with the same rows (a recomputation re-validating January before February) is
    /// the same ledger, though the store holds a new version of it.
    ledgers: Vec<LedgerDigest>,
    claims: TableCounts,
    claim_items: TableCounts,
}

/// One earlier ledger read by a validation: its key and the SHA-256 of its bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct LedgerDigest {
    key: String,
    sha256: String,
}

/// The ledgers of months `1..m` of `m`'s year, by content (absent ones are left out: a
/// validation refuses to run without them, so a record never names one).
async fn ledger_digests(lake: &Lake, m: Month) -> Result<Vec<LedgerDigest>> {
    let listed = lake
        .list_parquet(&format!("ledger/claims/year={}/", m.year))
        .await?;
    let mut out = Vec::new();
    for k in 1..m.month {
        let key = layout::claim_ledger(Month {
            year: m.year,
            month: k,
        });
        if let Some(object) = listed.iter().find(|o| o.key == key) {
            out.push(LedgerDigest {
                sha256: ledger_sha256(lake, object).await?,
                key,
            });
        }
    }
    Ok(out)
}

/// The SHA-256 of a ledger object as listed, hashed at most once per listing in a process.
///
/// Every record check of a run hashes the earlier ledgers (~57 MB each at city scale): a Q4
/// warning checks four months (38 ledger reads), the annual score twelve (66), where eleven
/// different objects exist. The digest is remembered under the lake's root and the object's
/// key, size and ETag or modification time, the evidence by which records already compare
/// their input files, so a new version of a ledger is always read again.
async fn ledger_sha256(lake: &Lake, object: &InputObject) -> Result<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static DIGESTS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let digests = DIGESTS.get_or_init(Default::default);
    let id = format!(
        "{}\n{}\n{}\n{}\n{}",
        lake.root(),
        object.key,
        object.size,
        object.etag.as_deref().unwrap_or(""),
        object.modified
    );
    if let Some(sha) = digests.lock().expect("digest cache").get(&id) {
        return Ok(sha.clone());
    }
    // (Were the object replaced between the listing and this read, the entry would pair the
    // old listing with the new bytes; no later listing shows the old version again.)
    let sha = sha256_hex(&lake.get(&object.key).await?);
    let mut map = digests.lock().expect("digest cache");
    if map.len() >= 1024 {
        map.clear(); // a long-lived function container: keep the cache small
    }
    map.insert(id, sha.clone());
    Ok(sha)
}

fn rules_hash() -> String {
    let mut text = String::from("claimlake validation record v1\n");
    for s in [
        steps::ROW_CHECKS,
        steps::DUPLICATES,
        steps::MIRROR_KEYS,
        steps::MIRROR_ROWS,
        steps::REVERSALS,
        steps::USED_CLAIMS,
        steps::CLAIM_STATUS_BY_ID,
        steps::ITEMS,
        steps::PRIOR_TARGET_KEYS,
        steps::PRIOR_TARGETS,
        steps::LEDGER,
        steps::COUNTS,
        steps::USED_ITEMS,
    ] {
        text.push_str(s.name);
        text.push('\n');
        text.push_str(s.text);
    }
    sha256_hex(text.as_bytes())
}

/// The record's rows: one per claim or item row that is not a plain used row.
fn schema(header: Option<&Header>) -> Result<SchemaRef> {
    let fields = vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("row_no", DataType::Int64, false),
        Field::new("final_reason", DataType::Utf8, true),
        Field::new("netted", DataType::Boolean, true),
        Field::new("target_month", DataType::Int32, true),
    ];
    let mut meta = std::collections::HashMap::new();
    if let Some(h) = header {
        meta.insert(
            META_KEY.to_string(),
            serde_json::to_string(h).map_err(|e| internal(&e.to_string()))?,
        );
    }
    Ok(Arc::new(Schema::new_with_metadata(fields, meta)))
}

/// The exception rows of one table with the keys of their files (`file_no` → key).
fn keyed(
    table: &str,
    files: &[ScanFile],
    batches: &[RecordBatch],
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let column = |name: &str, to: &DataType| -> Result<ArrayRef> {
            match b.column_by_name(name) {
                Some(c) => Ok(arrow::compute::cast(c, to)?),
                None => Ok(arrow::array::new_null_array(to, b.num_rows())),
            }
        };
        let file_no = column("file_no", &DataType::Int32)?;
        let file_no = file_no
            .as_any()
            .downcast_ref::<Int32Array>()
            .ok_or_else(|| internal("file_no is not Int32"))?;
        let keys = super::file_keys(file_no, files);
        if keys.null_count() > 0 {
            return Err(internal("an exception row names no file of the scan"));
        }
        out.push(RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![table; b.num_rows()])),
                Arc::new(keys),
                column("row_no", &DataType::Int64)?,
                column("final_reason", &DataType::Utf8)?,
                column("netted", &DataType::Boolean)?,
                column("target_month", &DataType::Int32)?,
            ],
        )?);
    }
    Ok(out)
}

/// What [`write`] records about one validated month.
pub(super) struct Validated<'a> {
    pub month: Month,
    pub claim_files: &'a [ScanFile],
    /// `exceptions` of step 03: `file_no`, `row_no`, `final_reason`, `netted`, `target_month`.
    pub claim_exceptions: &'a [RecordBatch],
    pub item_files: &'a [ScanFile],
    /// The items pass's exceptions: `file_no`, `row_no`, `final_reason`, `netted`.
    pub item_exceptions: &'a [RecordBatch],
    pub inputs: &'a [InputObject],
    pub claims: &'a TableCounts,
    pub items: &'a TableCounts,
}

/// Writes the month's validation record.
pub(super) async fn write(lake: &Lake, v: Validated<'_>) -> Result<WrittenObject> {
    let header = Header {
        rules: rules_hash(),
        inputs: v
            .inputs
            .iter()
            .filter(|i| !i.key.starts_with("ledger/"))
            .cloned()
            .collect(),
        ledgers: ledger_digests(lake, v.month).await?,
        claims: v.claims.clone(),
        claim_items: v.items.clone(),
    };
    let schema = schema(Some(&header))?;
    let mut batches = keyed("claims", v.claim_files, v.claim_exceptions, &schema)?;
    batches.extend(keyed(
        "claim_items",
        v.item_files,
        v.item_exceptions,
        &schema,
    )?);
    // In (table, file, row) order: the exceptions come from parallel partitions in no fixed
    // order, and the same validation must write the same bytes.
    let all = arrow::compute::concat_batches(&schema, &batches)?;
    let order = arrow::compute::lexsort_to_indices(
        &[0, 1, 2].map(|c| arrow::compute::SortColumn {
            values: all.column(c).clone(),
            options: None,
        }),
        None,
    )?;
    let sorted = arrow::compute::take_record_batch(&all, &order)?;
    Ok(lake
        .write_parquet(&layout::month_validation(v.month), &schema, &[sorted])
        .await?)
}

/// The month's claim and item files and the registry, listed now, in the order `validate_one`
/// reads them.
async fn current_inputs(
    lake: &Lake,
    m: Month,
) -> Result<(Vec<ScanFile>, Vec<ScanFile>, Vec<InputObject>)> {
    let (claim_files, mut inputs) = month_files(lake, &layout::claims_month(m), m).await?;
    let (item_files, objs) = month_files(lake, &layout::claim_items_month(m), m).await?;
    inputs.extend(objs);
    inputs.extend(lake.list_parquet(layout::INSTITUTIONS).await?);
    Ok((claim_files, item_files, inputs))
}

/// Why a record cannot be reused, or the record.
enum Found {
    Usable(Box<Header>, Vec<RecordBatch>),
    Stale(&'static str),
}

async fn read(lake: &Lake, m: Month, inputs: &[InputObject]) -> Result<Found> {
    let Some(bytes) = lake.get_opt(&layout::month_validation(m)).await? else {
        return Ok(Found::Stale("no validation record"));
    };
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(claimlake_lake::LakeError::from)?;
    let Some(json) = reader.schema().metadata().get(META_KEY) else {
        return Ok(Found::Stale("the validation record has no header"));
    };
    let Ok(header) = serde_json::from_str::<Header>(json) else {
        return Ok(Found::Stale("the validation record's header is unreadable"));
    };
    if header.rules != rules_hash() {
        return Ok(Found::Stale("the validation rules changed"));
    }
    if header.inputs != inputs {
        return Ok(Found::Stale("the month's files or the registry changed"));
    }
    if header.ledgers != ledger_digests(lake, m).await? {
        return Ok(Found::Stale("an earlier month's ledger changed"));
    }
    let batches = reader
        .with_batch_size(64 * 1024)
        .build()
        .map_err(claimlake_lake::LakeError::from)?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Found::Usable(Box::new(header), batches))
}

/// The exceptions as the validation's steps key them: by position of the file in the scan.
fn unkeyed_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file_no", DataType::Int32, false),
        Field::new("row_no", DataType::Int64, false),
        Field::new("final_reason", DataType::Utf8, true),
        Field::new("netted", DataType::Boolean, true),
        Field::new("target_month", DataType::Int32, true),
    ]))
}

/// The record's rows of `table` as (`file_no`, `row_no`, `final_reason`, `netted`,
/// `target_month`), `file_no` being the position of the row's file in `files`.
fn unkeyed(table: &str, files: &[ScanFile], batches: &[RecordBatch]) -> Result<Vec<RecordBatch>> {
    let positions: BTreeMap<&str, i32> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.key.as_str(), i as i32))
        .collect();
    let out_schema = unkeyed_schema();
    let mut out = Vec::new();
    for b in batches {
        let tables = crate::cells::utf8(b.column(0))?;
        let mask: arrow::array::BooleanArray =
            tables.iter().map(|t| Some(t == Some(table))).collect();
        let b = arrow::compute::filter_record_batch(b, &mask)?;
        let sources = crate::cells::utf8(b.column(1))?;
        let mut file_no = Vec::with_capacity(b.num_rows());
        for s in sources.iter() {
            let Some(no) = s.and_then(|s| positions.get(s)) else {
                return Err(internal("the record names a file the month no longer has"));
            };
            file_no.push(*no);
        }
        out.push(RecordBatch::try_new(
            out_schema.clone(),
            vec![
                Arc::new(Int32Array::from(file_no)),
                b.column(2).clone(),
                b.column(3).clone(),
                b.column(4).clone(),
                b.column(5).clone(),
            ],
        )?);
    }
    Ok(out)
}

/// Registers `claims_valid` and `items_valid` of month `m` in `ctx` from its validation record
/// when the record exists and its inputs and rules are unchanged; `None` (nothing registered)
/// when the month must be validated again.
pub async fn reuse(lake: &Lake, ctx: &SessionContext, m: Month) -> Result<Option<MonthValidation>> {
    let started = std::time::Instant::now();
    let (claim_files, item_files, inputs) = current_inputs(lake, m).await?;
    if claim_files.is_empty() {
        return Ok(None);
    }
    let (header, batches) = match read(lake, m, &inputs).await? {
        Found::Usable(h, b) => (h, b),
        Found::Stale(why) => {
            if std::env::var_os("CLAIMLAKE_PROFILE").is_some() {
                eprintln!("ingest {m}: validating again ({why})");
            }
            return Ok(None);
        }
    };
    lake.register_in(ctx);
    let params = month_params(m);
    let (claims_scan, items_scan) =
        tables::register_month_scans(lake, ctx, &claim_files, &item_files).await?;

    let claim_ex = unkeyed("claims", &claim_files, &batches)?;
    let ex_schema = claim_ex.first().map(|b| b.schema());
    let item_ex = unkeyed("claim_items", &item_files, &batches)?;
    let schema_of = |found: Option<SchemaRef>| found.unwrap_or_else(unkeyed_schema);
    let item_schema = item_ex.first().map(|b| b.schema());
    register_batches(ctx, "exceptions", schema_of(ex_schema), claim_ex)?;
    register_batches(ctx, "item_exceptions", schema_of(item_schema), item_ex)?;

    super::register_valid(
        ctx,
        (&claims_scan, &claim_files),
        (items_scan.as_ref(), &item_files),
        &params,
    )
    .await?;
    sql::profile(
        sql::Step {
            name: "ingest (validation record reused)",
            text: "",
        },
        started,
        &batches,
    );
    Ok(Some(MonthValidation {
        month: m,
        claims: header.claims,
        items: header.claim_items,
        inputs,
        outputs: Vec::new(),
        reused: true,
    }))
}

fn internal(what: &str) -> EngineError {
    EngineError::Precondition(format!("internal error in the validation record: {what}"))
}
