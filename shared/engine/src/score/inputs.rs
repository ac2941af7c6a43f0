//! What the annual scores read besides the policy: the year's claims (validated month by month as
//! ingest does), the external annual inputs, the results of settlement and warnings (statements,
//! cards, suspicions), and earlier years' scores. Each is registered in the session as a small
//! table named after what it holds; the SQL steps read only these names.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use claimlake_domain::period::{Month, Quarter};
use claimlake_domain::policy::Policy;
use claimlake_lake::ordered_scan::ScanFile;
use claimlake_lake::{InputObject, Lake, contract, layout};
use datafusion::prelude::SessionContext;

use crate::error::{EngineError, Result};
use crate::ingest::{register_batches, register_ordered_or_empty, validate_or_reuse};
use crate::manifest::TableCounts;
use crate::session::new_session;
use crate::sql::{self, score as steps};
use crate::tables::{Col, register};

/// The year's claims as read: the objects and the row counts of the twelve validations.
#[derive(Debug, Clone, Default)]
pub struct YearClaims {
    pub inputs: Vec<InputObject>,
    /// `claims` and `claim_items`, summed over the months (each month reconciles, so the sums
    /// do: `read = used + quarantined + netted`).
    pub counts: BTreeMap<String, TableCounts>,
}

fn add(total: &mut TableCounts, month: &TableCounts) {
    total.read += month.read;
    total.used += month.used;
    total.netted += month.netted;
    for (reason, n) in &month.quarantined {
        *total.quarantined.entry(reason.clone()).or_default() += n;
    }
}

/// Reads months 1..12 of `year` (each from its validation record, or validated again when it
/// changed), each in its own session as the warnings do, sums each
/// month's used claims per institution (step 00a) and registers the twelve months' sums as
/// `month_claims`. Only these sums outlive a month's session, so a city year is never held in
/// memory.
pub async fn register_month_claims(
    lake: &Lake,
    ctx: &SessionContext,
    year: i32,
    params: &[(&str, String)],
) -> Result<YearClaims> {
    let mut out = YearClaims::default();
    let mut batches = Vec::new();
    let mut schema = None;
    for month in 1..=12u32 {
        let m = Month { year, month };
        let sub = new_session(None);
        let v = validate_or_reuse(lake, &sub, m).await?;
        out.inputs.extend(v.inputs);
        add(out.counts.entry("claims".into()).or_default(), &v.claims);
        add(
            out.counts.entry("claim_items".into()).or_default(),
            &v.items,
        );
        let mut p = params.to_vec();
        p.push(("month", month.to_string()));
        let df = sql::frame(&sub, steps::MONTH_CLAIMS, &p).await?;
        schema.get_or_insert_with(|| Arc::new(df.schema().as_arrow().clone()));
        let found = df.collect().await.map_err(|source| EngineError::Sql {
            step: steps::MONTH_CLAIMS.name.to_string(),
            source,
        })?;
        batches.extend(found);
    }
    let schema = batches
        .first()
        .map(|b| b.schema())
        .or(schema)
        .expect("twelve months were planned");
    register_batches(ctx, "month_claims", schema, batches)?;
    Ok(out)
}

/// Registers `assessments` and `investigations` of `year` (ordered scans with `source_file` and
/// `row_no`, so a check can name the row); empty when the folder has no file.
pub async fn register_annual_inputs(
    lake: &Lake,
    ctx: &SessionContext,
    year: i32,
) -> Result<Vec<InputObject>> {
    let mut inputs = Vec::new();
    for (name, folder, schema) in [
        (
            "assessments",
            layout::assessments(year),
            contract::assessments(),
        ),
        (
            "investigations",
            layout::investigations(year),
            contract::investigations(),
        ),
    ] {
        let objects = lake.list_parquet(&folder).await?;
        let files: Vec<ScanFile> = objects
            .iter()
            .map(|o| ScanFile {
                key: o.key.clone(),
                part_month: 0,
            })
            .collect();
        register_ordered_or_empty(lake, ctx, name, &files, &schema).await?;
        inputs.extend(objects);
    }
    Ok(inputs)
}

/// The batches of the named columns of every Parquet object under `folder`, cast to the given
/// types, with the objects read; `None` when the folder holds no Parquet file. A missing column
/// is an error naming the object and the column.
async fn read_columns(
    lake: &Lake,
    folder: &str,
    columns: &[(&str, DataType)],
) -> Result<Option<(Vec<RecordBatch>, Vec<InputObject>)>> {
    let objects = lake.list_parquet(folder).await?;
    if objects.is_empty() {
        return Ok(None);
    }
    let schema = columns_schema(columns);
    let mut out = Vec::new();
    for o in &objects {
        let bytes = lake.get(&o.key).await?;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 8192)
            .map_err(claimlake_lake::LakeError::from)?;
        for batch in reader {
            let batch = batch?;
            let mut arrays: Vec<ArrayRef> = Vec::new();
            for (name, dt) in columns {
                let col = batch.column_by_name(name).ok_or_else(|| {
                    EngineError::Precondition(format!(
                        "{} has no column {name}: the annual scores read it",
                        o.key
                    ))
                })?;
                arrays.push(arrow::compute::cast(col, dt)?);
            }
            out.push(RecordBatch::try_new(schema.clone(), arrays)?);
        }
    }
    Ok(Some((out, objects)))
}

fn columns_schema(columns: &[(&str, DataType)]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

/// The folder of a partition object (`…/year=2025/month=01/data.parquet` → `…/month=01`).
fn folder_of(key: &str) -> &str {
    key.trim_end_matches("/data.parquet")
}

/// Registers `year_statements` (institution_id, month, withheld_month): the official statements
/// of months 1..12 of `year`, every one required (the scores run after December's settlement).
pub async fn register_statements(
    lake: &Lake,
    ctx: &SessionContext,
    year: i32,
) -> Result<Vec<InputObject>> {
    let cols = [
        ("institution_id", DataType::Utf8),
        ("withheld_month", DataType::Decimal128(18, 2)),
    ];
    let mut batches = Vec::new();
    let mut inputs = Vec::new();
    for month in 1..=12u32 {
        let m = Month { year, month };
        let key = layout::monthly_result("statements", m);
        let Some((found, objects)) = read_columns(lake, folder_of(&key), &cols).await? else {
            return Err(EngineError::Precondition(format!(
                "month {m} has no official statements ({key} is missing in {}): the annual \
                 scores of {year} run after December's settlement (settle --through {year}-12)",
                lake.root()
            )));
        };
        inputs.extend(objects);
        for b in found {
            let month_col: ArrayRef = Arc::new(Int32Array::from(vec![month as i32; b.num_rows()]));
            let mut arrays = b.columns().to_vec();
            arrays.insert(1, month_col);
            batches.push(arrays);
        }
    }
    let schema = columns_schema(&[
        ("institution_id", DataType::Utf8),
        ("month", DataType::Int32),
        ("withheld_month", DataType::Decimal128(18, 2)),
    ]);
    let batches = batches
        .into_iter()
        .map(|a| RecordBatch::try_new(schema.clone(), a))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    register_batches(ctx, "year_statements", schema, batches)?;
    Ok(inputs)
}

/// Registers `year_cards` (institution_id, color) and `year_suspicions` (claim_id,
/// institution_id) from the four quarters of `year`; each quarter's warnings are required.
pub async fn register_warnings(
    lake: &Lake,
    ctx: &SessionContext,
    year: i32,
) -> Result<Vec<InputObject>> {
    let mut inputs = Vec::new();
    for (table, key_of, cols) in [
        (
            "year_cards",
            layout::quarterly_result as fn(&str, Quarter) -> String,
            vec![
                ("institution_id", DataType::Utf8),
                ("color", DataType::Utf8),
            ],
        ),
        (
            "year_suspicions",
            layout::restricted_result,
            vec![
                ("claim_id", DataType::Utf8),
                ("institution_id", DataType::Utf8),
            ],
        ),
    ] {
        let source = if table == "year_cards" {
            "cards"
        } else {
            "suspicions"
        };
        let mut batches = Vec::new();
        for quarter in 1..=4u32 {
            let q = Quarter { year, quarter };
            let key = key_of(source, q);
            let Some((found, objects)) = read_columns(lake, folder_of(&key), &cols).await? else {
                return Err(EngineError::Precondition(format!(
                    "quarter {q} has no {source} ({key} is missing in {}): the annual scores of \
                     {year} run after each quarter's warnings (warn --quarter {q})",
                    lake.root()
                )));
            };
            inputs.extend(objects);
            batches.extend(found);
        }
        register_batches(ctx, table, columns_schema(&cols), batches)?;
    }
    Ok(inputs)
}

/// Earlier years' scores as the no-renewal rule reads them (003 art 15).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The years the rule needs (`year − 1` … `year − (consecutive_fail_years − 1)`).
    pub needed: Vec<i32>,
    /// The needed years with no `results/scores/year=…` in the lake.
    pub missing: Vec<i32>,
}

/// Registers `score_history` (institution_id, year, failed) from `results/scores/year=Y−k` for
/// the years the no-renewal rule needs, and `score_history_years` (year) listing them.
pub async fn register_history(
    lake: &Lake,
    ctx: &SessionContext,
    year: i32,
    policy: &Policy,
) -> Result<(History, Vec<InputObject>)> {
    let cols = [
        ("institution_id", DataType::Utf8),
        ("status", DataType::Utf8),
        ("grade", DataType::Utf8),
    ];
    let mut history = History::default();
    let mut inputs = Vec::new();
    let mut ids = Vec::new();
    let mut years = Vec::new();
    let mut failed = Vec::new();
    for k in 1..policy.score.consecutive_fail_years as i32 {
        let y = year - k;
        history.needed.push(y);
        let key = layout::annual_result("scores", y);
        let Some((found, objects)) = read_columns(lake, folder_of(&key), &cols).await? else {
            history.missing.push(y);
            continue;
        };
        inputs.extend(objects);
        for b in &found {
            for i in 0..b.num_rows() {
                let status = crate::cells::text(b, "status", i);
                let grade = crate::cells::text(b, "grade", i);
                ids.push(Some(crate::cells::text(b, "institution_id", i)));
                years.push(Some(y));
                failed.push(Some(grade == "fail" || status == "disqualified"));
            }
        }
    }
    let schema = columns_schema(&[
        ("institution_id", DataType::Utf8),
        ("year", DataType::Int32),
        ("failed", DataType::Boolean),
    ]);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow::array::StringArray::from(ids)),
            Arc::new(Int32Array::from(years)),
            Arc::new(arrow::array::BooleanArray::from(failed)),
        ],
    )?;
    register_batches(ctx, "score_history", schema, vec![batch])?;
    let schema = columns_schema(&[("year", DataType::Int32)]);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(history.needed.clone()))],
    )?;
    register_batches(ctx, "score_history_years", schema, vec![batch])?;
    Ok((history, inputs))
}

/// Registers the `[score]` section as tables: `score_policy` (one row), `score_releases`,
/// `score_indicators` (the rubric, one row per indicator in file order) and
/// `score_indicator_kinds` (the kinds each indicator applies to; every kind when its
/// `applies_to` is absent).
pub fn register_policy(ctx: &SessionContext, policy: &Policy) -> Result<()> {
    use claimlake_domain::codes::InstitutionKind;
    let s = &policy.score;
    register(
        ctx,
        "score_policy",
        vec![
            Col::Dec("excellent_from", vec![Some(s.excellent_from)]),
            Col::Dec("pass_from", vec![Some(s.pass_from)]),
            Col::Dec(
                "fail_years_before",
                vec![Some((s.consecutive_fail_years.max(1) - 1).into())],
            ),
            Col::Dec("terminate_below", vec![Some(s.terminate_below)]),
            Col::Dec(
                "bottom_elimination_share",
                vec![Some(s.bottom_elimination_share)],
            ),
            Col::Bool("redistribute_forfeit", vec![Some(s.redistribute_forfeit)]),
        ],
    )?;
    register(
        ctx,
        "score_releases",
        vec![
            Col::Dec(
                "min_score",
                s.releases.iter().map(|t| Some(t.min_score)).collect(),
            ),
            Col::Dec("ratio", s.releases.iter().map(|t| Some(t.ratio)).collect()),
        ],
    )?;
    let ind = &s.indicators;
    let text = |f: &dyn Fn(&claimlake_domain::policy::Indicator) -> Option<String>| {
        ind.iter().map(f).collect::<Vec<_>>()
    };
    let dec =
        |f: &dyn Fn(&claimlake_domain::policy::Indicator) -> Option<rust_decimal::Decimal>| {
            ind.iter().map(f).collect::<Vec<_>>()
        };
    register(
        ctx,
        "score_indicators",
        vec![
            Col::Dec(
                "ord",
                (0..ind.len()).map(|i| Some((i as i64).into())).collect(),
            ),
            Col::Text("indicator_id", text(&|i| Some(i.id.clone()))),
            Col::Text("name", text(&|i| Some(i.name.clone()))),
            Col::Dec("weight", dec(&|i| Some(i.weight))),
            Col::Text("source", text(&|i| Some(i.source.to_string()))),
            Col::Text(
                "part",
                text(&|i| i.source.assessment_part().map(str::to_string)),
            ),
            Col::Text("method", text(&|i| Some(i.method.to_string()))),
            Col::Dec("per_yellow", dec(&|i| i.per_yellow)),
            Col::Dec("per_red", dec(&|i| i.per_red)),
            Col::Dec("good", dec(&|i| i.good)),
            Col::Dec("bad", dec(&|i| i.bad)),
        ],
    )?;
    let mut ids = Vec::new();
    let mut kinds = Vec::new();
    for i in ind {
        for k in InstitutionKind::ALL {
            if i.applies_to_kind(*k) {
                ids.push(Some(i.id.clone()));
                kinds.push(Some(k.to_string()));
            }
        }
    }
    register(
        ctx,
        "score_indicator_kinds",
        vec![Col::Text("indicator_id", ids), Col::Text("kind", kinds)],
    )?;
    Ok(())
}
