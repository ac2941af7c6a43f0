//! The annual agreement assessment (协议考核, seed 003; options from seeds 002 and 004):
//! annual-scores.md. Run for year `Y` after December's settlement and Q4's warnings.
//!
//! Inputs (registered by [`inputs`]): the year's valid claims validated month by month and
//! netted within the year, the registry, `policy/Y.toml` (its `[score]` section as the tables
//! `score_policy`, `score_releases`, `score_indicators`, `score_indicator_kinds`: the rubric is
//! data), the card ledger and suspicions of the four quarters, the twelve official statements,
//! `inputs/assessments` and `inputs/investigations` of `Y`, and earlier years' scores.
//!
//! SQL steps under `sql/score/`: 00a/00b the year's claims per institution (month by month,
//! then summed), 01 input checks,
//! 02 population and status, 03 indicator source values, 04 indicator points, 05 totals and
//! grades, 06 decisions, 07 quality guarantee, 08 redistribution, 09–10 the output tables
//! `scores` and `score_items` (`results/<table>/year=Y/data.parquet`), then the report
//! `reports/scores/Y.json`, whose guarantee totals are checked to reconcile exactly.

pub mod inputs;
pub mod report;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use claimlake_lake::write::WrittenObject;
use claimlake_lake::{InputObject, Lake, layout};
use datafusion::prelude::SessionContext;

use crate::cells::{decimal, text};
use crate::error::{EngineError, Result};
use crate::ingest::register_institutions;
use crate::manifest::{PolicyRef, TableCounts};
use crate::session::new_session;
use crate::settle::{LoadedPolicy, load_policy};
use crate::sql::{self, score as steps};

pub use report::ScoreReport;

/// The annual result tables, in the order they are written.
pub const TABLES: [&str; 2] = ["scores", "score_items"];

/// What scoring a year produced.
#[derive(Debug, Clone)]
pub struct ScoreOutcome {
    pub year: i32,
    pub policy: PolicyRef,
    /// Result tables in memory (name, batches), as written.
    pub tables: Vec<(String, Vec<RecordBatch>)>,
    pub report: ScoreReport,
    pub inputs: Vec<InputObject>,
    /// Row counts of the year's claims and items (summed over the twelve validations).
    pub row_counts: BTreeMap<String, TableCounts>,
    pub outputs: Vec<WrittenObject>,
}

impl ScoreOutcome {
    /// The batches of a result table.
    pub fn table(&self, name: &str) -> &[RecordBatch] {
        self.tables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&[])
    }
}

fn params(year: i32, policy: &LoadedPolicy) -> Vec<(&'static str, String)> {
    let scope = sql::string_list(&policy.policy.warnings.scope_visit_types);
    vec![
        ("year", year.to_string()),
        ("scope_visit_types", scope),
        ("min_visits", policy.policy.warnings.min_visits.to_string()),
        ("policy_year", policy.policy.policy.year.to_string()),
        ("policy_version", policy.policy.policy.version.to_string()),
    ]
}

/// Scores year `year` and writes `scores`, `score_items` and the report.
pub async fn score_year(lake: &Lake, year: i32) -> Result<ScoreOutcome> {
    let loaded = load_policy(lake, year).await?;
    loaded
        .policy
        .validate_for_scoring()
        .map_err(|e| EngineError::Precondition(format!("{}: {e}", layout::policy(year))))?;
    let policy = &loaded.policy;
    // policy.md "Versions and recomputation": a year's scores stay open until the next year is
    // scored (its no-renewal rule read them); after that they are never replaced.
    let next = layout::annual_result("scores", year + 1);
    if !lake
        .list_parquet(next.trim_end_matches("/data.parquet"))
        .await?
        .is_empty()
    {
        return Err(EngineError::Precondition(format!(
            "the scores of {year} are closed: {} has been scored ({next} exists in {}), and its \
             no-renewal decisions read {year}'s scores; they are not replaced",
            year + 1,
            lake.root()
        )));
    }
    let ctx = new_session(None);
    lake.register_in(&ctx);
    let mut read = vec![loaded.object.clone()];
    // The cheap preconditions first: the year must be settled and warned.
    read.extend(inputs::register_statements(lake, &ctx, year).await?);
    read.extend(inputs::register_warnings(lake, &ctx, year).await?);
    read.extend(register_institutions(lake, &ctx).await?);
    read.extend(inputs::register_annual_inputs(lake, &ctx, year).await?);
    let p = params(year, &loaded);
    check_inputs(&ctx, &p).await?;
    let (history, objects) = inputs::register_history(lake, &ctx, year, policy).await?;
    read.extend(objects);
    inputs::register_policy(&ctx, policy)?;
    let year_claims = inputs::register_month_claims(lake, &ctx, year, &p).await?;
    read.extend(year_claims.inputs);

    sql::materialize(&ctx, "year_claims", steps::YEAR_CLAIMS, &p).await?;
    let population = sql::materialize(&ctx, "population", steps::POPULATION, &p).await?;
    check_registry(&population, year)?;
    sql::materialize(&ctx, "indicator_values", steps::INDICATOR_VALUES, &p).await?;
    sql::materialize(&ctx, "score_items_all", steps::SCORE_ITEMS, &p).await?;
    let totals = sql::materialize(&ctx, "score_totals", steps::TOTALS, &p).await?;
    check_weights(&totals, year)?;
    sql::materialize(&ctx, "score_decisions", steps::DECISIONS, &p).await?;
    sql::materialize(&ctx, "score_guarantee", steps::GUARANTEE, &p).await?;
    sql::materialize(&ctx, "score_bonus", steps::BONUS, &p).await?;
    let scores = sql::materialize(&ctx, "scores", steps::SCORES, &p).await?;
    let items = sql::materialize(&ctx, "score_items", steps::SCORE_ITEMS_OUT, &p).await?;
    let tables = vec![
        ("scores".to_string(), scores),
        ("score_items".to_string(), items),
    ];

    let report = report::build(&ctx, year, &loaded, &tables, &history).await?;
    let mut outputs = Vec::new();
    for (name, batches) in &tables {
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => Arc::new(ctx.table(name.as_str()).await?.schema().as_arrow().clone()),
        };
        outputs.push(
            lake.write_parquet(&layout::annual_result(name, year), &schema, batches)
                .await?,
        );
    }
    outputs.push(
        lake.write_json(&layout::report("scores", &year.to_string()), &report)
            .await?,
    );
    Ok(ScoreOutcome {
        year,
        policy: loaded.reference(),
        tables,
        report,
        inputs: read,
        row_counts: year_claims.counts,
        outputs,
    })
}

/// Step 01: a failing assessment or investigation row stops the run, naming file and row.
async fn check_inputs(ctx: &SessionContext, p: &[(&str, String)]) -> Result<()> {
    let problems = sql::collect(ctx, steps::INPUT_CHECKS, p).await?;
    let mut lines = Vec::new();
    for b in &problems {
        for i in 0..b.num_rows() {
            // row_no counts from 0 in reading order; people count rows from 1.
            lines.push(format!(
                "{} row {}: {}",
                text(b, "source_file", i),
                crate::cells::count(b, "row_no", i) + 1,
                text(b, "problem", i)
            ));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let more = if lines.len() > 5 {
        format!(" (and {} more)", lines.len() - 5)
    } else {
        String::new()
    };
    lines.truncate(5);
    Err(EngineError::Precondition(format!(
        "annual inputs are not usable: {}{more}",
        lines.join("; ")
    )))
}

/// Every institution to score must be in the registry (its kind decides `applies_to`, its
/// budget class the peer group).
fn check_registry(population: &[RecordBatch], year: i32) -> Result<()> {
    for b in population {
        for i in 0..b.num_rows() {
            if text(b, "kind", i).is_empty() || text(b, "budget_class", i).is_empty() {
                let id = text(b, "institution_id", i);
                let flag = |c: &str| {
                    b.column_by_name(c)
                        .and_then(|a| {
                            a.as_any()
                                .downcast_ref::<arrow::array::BooleanArray>()
                                .map(|a| a.value(i))
                        })
                        .unwrap_or(false)
                };
                let origin = match (flag("has_claims"), flag("has_assessment")) {
                    (true, true) => "claims and inputs/assessments",
                    (true, false) => "claims",
                    _ => "inputs/assessments",
                };
                return Err(EngineError::Precondition(format!(
                    "institution {id:?} has {origin} in {year} but is not in the registry \
                     ({}): it cannot be scored (its kind and budget class are unknown)",
                    layout::INSTITUTIONS
                )));
            }
        }
    }
    Ok(())
}

/// A scored institution needs at least one applicable indicator (the total divides by their
/// weights): a rubric whose indicators all skip an institution cannot score it.
fn check_weights(totals: &[RecordBatch], year: i32) -> Result<()> {
    for b in totals {
        for i in 0..b.num_rows() {
            let weight = decimal(b, "applicable_weight", i).unwrap_or_default();
            if text(b, "status", i) == "scored" && weight.is_zero() {
                return Err(EngineError::Precondition(format!(
                    "{}: no [[score.indicator]] applies to institution {} (kind {}) with a value \
                     in {year}, so it cannot be scored: give an indicator that applies to its kind",
                    layout::policy(year),
                    text(b, "institution_id", i),
                    text(b, "kind", i)
                )));
            }
        }
    }
    Ok(())
}
