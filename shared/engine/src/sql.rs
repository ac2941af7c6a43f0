//! The SQL files of the engine, embedded at build time, and their parameters.
//!
//! Parameters are written `${name}` in the files and replaced by [`render`] with values the
//! engine computed itself (integers, dates), never with user text.

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::{DataFrame, SessionContext};

use crate::error::{EngineError, Result};

/// One SQL step: its file name (for error messages) and text.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! step {
    ($path:literal) => {
        Step {
            name: $path,
            text: include_str!(concat!("../sql/", $path)),
        }
    };
}

/// Ingest validation steps (data-contract.md).
pub mod ingest {
    use super::Step;
    pub const ROW_CHECKS: Step = step!("ingest/01_row_checks.sql");
    pub const DUPLICATES: Step = step!("ingest/02_duplicates.sql");
    pub const MIRROR_KEYS: Step = step!("ingest/03a_mirror_keys.sql");
    pub const MIRROR_ROWS: Step = step!("ingest/03a_mirror_rows.sql");
    pub const REVERSALS: Step = step!("ingest/03_reversals.sql");
    pub const USED_CLAIMS: Step = step!("ingest/03b_used_claims.sql");
    pub const CLAIM_STATUS_BY_ID: Step = step!("ingest/04a_claim_status_by_id.sql");
    pub const ITEMS: Step = step!("ingest/04_items.sql");
    pub const PRIOR_TARGET_KEYS: Step = step!("ingest/05_prior_target_keys.sql");
    pub const MIRROR_TARGET_KEYS: Step = step!("ingest/05b_mirror_target_keys.sql");
    pub const PRIOR_TARGETS: Step = step!("ingest/06_prior_targets.sql");
    pub const LEDGER: Step = step!("ingest/07_ledger.sql");
    pub const COUNTS: Step = step!("ingest/08_counts.sql");
    pub const CLAIMS_BASIS: Step = step!("ingest/09_claims_basis.sql");
    pub const USED_ITEMS: Step = step!("ingest/10_used_items.sql");
}

/// Replaces every `${name}` of `params` in `text`; fails if a placeholder is left.
pub fn render(step: Step, params: &[(&str, String)]) -> Result<String> {
    let mut out = step.text.to_string();
    for (k, v) in params {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    if let Some(pos) = out.find("${") {
        let end = out[pos..]
            .find('}')
            .map(|e| pos + e + 1)
            .unwrap_or(out.len());
        return Err(EngineError::Precondition(format!(
            "SQL step {}: parameter {} not provided",
            step.name,
            &out[pos..end]
        )));
    }
    Ok(out)
}

/// Values as a list of SQL string literals for `x IN (${…})` parameters, quotes doubled. An
/// empty list is `NULL`: `x IN (NULL)` matches nothing but is NULL, not FALSE, so a step that
/// needs a boolean wraps it in `COALESCE(…, FALSE)`.
pub fn string_list<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = values
        .into_iter()
        .map(|v| format!("'{}'", v.to_string().replace('\'', "''")))
        .collect();
    if items.is_empty() {
        "NULL".to_string()
    } else {
        items.join(", ")
    }
}

/// Plans a step as a DataFrame.
pub async fn frame(
    ctx: &SessionContext,
    step: Step,
    params: &[(&str, String)],
) -> Result<DataFrame> {
    let text = render(step, params)?;
    explain_analyze(ctx, step, &text).await?;
    ctx.sql(&text).await.map_err(|source| EngineError::Sql {
        step: step.name.to_string(),
        source,
    })
}

/// Runs a step and keeps its result in memory as table `name` for the steps after it
/// (replacing any table of that name); returns the batches.
pub async fn materialize(
    ctx: &SessionContext,
    name: &str,
    step: Step,
    params: &[(&str, String)],
) -> Result<Vec<RecordBatch>> {
    let started = std::time::Instant::now();
    let df = frame(ctx, step, params).await?;
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|source| EngineError::Sql {
        step: step.name.to_string(),
        source,
    })?;
    profile(step, started, &batches);
    // The collected batches carry the physical schema (nullability may be narrower than the
    // plan's); the table must use theirs.
    let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
    crate::ingest::register_batches(ctx, name, schema, batches.clone())?;
    Ok(batches)
}

/// Runs a step and keeps its result as table `name` in local Parquet working files under `dir`
/// (replacing any table of that name); returns the number of rows.
///
/// For working sets too large to hold in memory (a city quarter's claims and items): later steps
/// read back only the columns they use, streaming, with exact row counts for join planning.
pub async fn spill(
    ctx: &SessionContext,
    name: &str,
    step: Step,
    params: &[(&str, String)],
    dir: &std::path::Path,
) -> Result<u64> {
    use datafusion::dataframe::DataFrameWriteOptions;
    use datafusion::prelude::ParquetReadOptions;
    let started = std::time::Instant::now();
    let folder = format!("{}/", dir.join(name).display());
    let sql_error = |source| EngineError::Sql {
        step: step.name.to_string(),
        source,
    };
    let df = frame(ctx, step, params).await?;
    // The plan's schema, given explicitly: an empty result writes no file to infer it from.
    let schema = df.schema().as_arrow().clone();
    let written = df
        .write_parquet(
            &folder,
            DataFrameWriteOptions::new(),
            Some(working_file_options()),
        )
        .await
        .map_err(sql_error)?;
    ctx.deregister_table(name)?;
    // Read back with the files' own schema: it is what the plan computed (the physical types).
    // A plan's logical schema can name another decimal scale than the batches it produces (e.g.
    // `CASE … THEN 0 … END` over decimals), and reading through it would cast the values. The
    // logical schema is only for a result without rows, which leaves no file to read one from.
    let has_files = std::fs::read_dir(dir.join(name))
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    let options = if has_files {
        ParquetReadOptions::default()
    } else {
        ParquetReadOptions::default().schema(&schema)
    };
    ctx.register_parquet(name, &folder, options)
        .await
        .map_err(sql_error)?;
    profile(step, started, &[]);
    let rows = written
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0);
    Ok(rows)
}

/// Writer settings of working files: local, written once and read back a few times in the
/// same run, so they are not compressed, dictionary-encoded or given statistics (zstd was a
/// third of the claim treatment's time), and their row groups are small so the writer buffers
/// 64k rows, not a million (uncompressed million-row groups took a city settlement to 3.4 GB).
fn working_file_options() -> datafusion::config::TableParquetOptions {
    let mut options = datafusion::config::TableParquetOptions::default();
    options.global.compression = Some("uncompressed".to_string());
    options.global.dictionary_enabled = Some(false);
    options.global.statistics_enabled = Some("none".to_string());
    options.global.max_row_group_size = 65_536;
    options
}

/// Runs a step and collects its batches.
pub async fn collect(
    ctx: &SessionContext,
    step: Step,
    params: &[(&str, String)],
) -> Result<Vec<RecordBatch>> {
    let started = std::time::Instant::now();
    let batches = frame(ctx, step, params)
        .await?
        .collect()
        .await
        .map_err(|source| EngineError::Sql {
            step: step.name.to_string(),
            source,
        })?;
    profile(step, started, &batches);
    Ok(batches)
}

/// With `CLAIMLAKE_PROFILE` set, prints each step's wall time, rows and the process's resident
/// memory to stderr: the cheapest way to see which step of a city-scale run dominates.
/// With `CLAIMLAKE_EXPLAIN` set to part of a step's name (e.g. `claim_treatment`), runs that
/// step once more under `EXPLAIN ANALYZE` and prints the plan with each operator's rows, time
/// and memory: the tool behind bench/RESULTS.md's optimisations, never set in production.
async fn explain_analyze(ctx: &SessionContext, step: Step, text: &str) -> Result<()> {
    let Some(wanted) = std::env::var_os("CLAIMLAKE_EXPLAIN") else {
        return Ok(());
    };
    if !step.name.contains(wanted.to_string_lossy().as_ref()) {
        return Ok(());
    }
    let sql_error = |source| EngineError::Sql {
        step: step.name.to_string(),
        source,
    };
    let batches = ctx
        .sql(&format!("EXPLAIN ANALYZE {text}"))
        .await
        .map_err(sql_error)?
        .collect()
        .await
        .map_err(sql_error)?;
    eprintln!(
        "[explain] {}\n{}",
        step.name,
        arrow::util::pretty::pretty_format_batches(&batches)?
    );
    Ok(())
}

/// With `CLAIMLAKE_PROFILE` set, prints one line per step: when it ended (seconds since the
/// first step), how long it took, the rows it returned and the process's resident memory.
pub(crate) fn profile(step: Step, started: std::time::Instant, batches: &[RecordBatch]) {
    profile_rows(step, started, batches.iter().map(|b| b.num_rows()).sum());
}

/// [`profile`] for a step whose rows were streamed, not collected.
pub(crate) fn profile_rows(step: Step, started: std::time::Instant, rows: usize) {
    if std::env::var_os("CLAIMLAKE_PROFILE").is_none() {
        return;
    }
    let rss_mb = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4096 / (1024 * 1024));
    // The process's peak so far: a step that raises it is the one that sets the run's peak.
    let peak_mb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb / 1024)
        });
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let since = START.get_or_init(|| started).elapsed().as_secs_f64();
    let mb = |m: Option<u64>| m.map_or("?".to_string(), |m| m.to_string());
    eprintln!(
        "[profile] at {since:>7.1} s  {:<40} {:>8.1} s {:>10} rows  rss {} MB  peak {} MB",
        step.name,
        started.elapsed().as_secs_f64(),
        rows,
        mb(rss_mb),
        mb(peak_mb)
    );
}

/// Monthly settlement steps (monthly-settlement.md).
pub mod settle {
    use super::Step;
    pub const CARD_MONTHS: Step = step!("settle/00_card_months.sql");
    pub const CLAIM_TREATMENT: Step = step!("settle/01_claim_treatment.sql");
    pub const MONTH_AGGREGATES: Step = step!("settle/02_month_aggregates.sql");
    pub const DOCTOR_DAYS: Step = step!("settle/03_doctor_days.sql");
    pub const VOLUME_PRICE_ALL: Step = step!("settle/04_volume_price.sql");
    pub const OUTPATIENT_LINES: Step = step!("settle/05_outpatient_lines.sql");
    pub const OUTPATIENT_POINT_VALUES: Step = step!("settle/06_outpatient_point_values.sql");
    pub const CHEMO: Step = step!("settle/07_chemo.sql");
    pub const INPATIENT: Step = step!("settle/08_inpatient.sql");
    pub const FLOWS: Step = step!("settle/09_flows.sql");
    pub const SETTLEMENT_LINES: Step = step!("settle/10_settlement_lines.sql");
    pub const POINT_VALUES: Step = step!("settle/11_point_values.sql");
    pub const STATEMENTS: Step = step!("settle/12_statements.sql");
    pub const FUND_SPLIT: Step = step!("settle/13_fund_split.sql");
    pub const VOLUME_PRICE: Step = step!("settle/14_volume_price.sql");
    pub const EXCLUDED_CLAIMS: Step = step!("settle/15_excluded_claims.sql");
}

/// Explanation of one institution's statement (monthly-settlement.md Steps 1-10), one step per
/// section, reading the published results.
pub mod explain {
    use super::Step;
    pub const INSTITUTION: Step = step!("explain/00_institution.sql");
    pub const STATEMENT: Step = step!("explain/01_statement.sql");
    pub const LINES: Step = step!("explain/02_lines.sql");
    pub const POINT_VALUES: Step = step!("explain/03_point_values.sql");
    pub const VOLUME_PRICE: Step = step!("explain/04_volume_price.sql");
    pub const FUND_SPLIT: Step = step!("explain/05_fund_split.sql");
    pub const EXCLUDED_CLAIMS: Step = step!("explain/06_excluded_claims.sql");
    pub const CARDS: Step = step!("explain/07_cards.sql");
}

/// Quarterly warnings steps (quarterly-warnings.md Parts A-C).
pub mod warn {
    use super::Step;
    pub const QUARTER_CLAIMS: Step = step!("warn/00a_quarter_claims.sql");
    pub const PREV_CLAIMS: Step = step!("warn/00c_prev_claims.sql");
    pub const OPERATING_BASE: Step = step!("warn/01a_operating_base.sql");
    pub const OPERATING: Step = step!("warn/01b_operating_indicators.sql");
    pub const QUARTER_PATIENTS: Step = step!("warn/02a_quarter_patients.sql");
    pub const TOP_PATIENTS: Step = step!("warn/02b_top_patients.sql");
    pub const WARNINGS: Step = step!("warn/03_warnings.sql");
    pub const CARDS: Step = step!("warn/04_cards.sql");
    pub const QUARTER_ITEMS: Step = step!("warn/00b_quarter_items.sql");
    pub const INDICATORS: Step = step!("warn/06_indicators.sql");
    pub const SUSPICIONS: Step = step!("warn/07_suspicions.sql");
}

/// Suspicion rules R01–R08 and the institution inpatient indicators (quarterly-warnings.md
/// Part D), one step per rule.
pub mod warn_rules {
    use super::Step;
    pub const OUTPATIENT: Step = step!("warn/rules/outpatient_claims.sql");
    pub const R01: Step = step!("warn/rules/r01_readmission.sql");
    pub const R02_LINES: Step = step!("warn/rules/r02a_overbuy_lines.sql");
    pub const R02: Step = step!("warn/rules/r02_overbuy.sql");
    pub const R03_BUCKETED: Step = step!("warn/rules/r03a_outpatient_buckets.sql");
    pub const R03_CANDIDATES: Step = step!("warn/rules/r03b_crowded_claims.sql");
    pub const R03: Step = step!("warn/rules/r03_clustered_settlements.sql");
    pub const R04: Step = step!("warn/rules/r04_repeat_same_day.sql");
    pub const R05: Step = step!("warn/rules/r05_large_outpatient.sql");
    pub const R06: Step = step!("warn/rules/r06_outpatient_during_stay.sql");
    pub const R07: Step = step!("warn/rules/r07_gender_mismatch.sql");
    pub const R08: Step = step!("warn/rules/r08_cross_province_inpatient.sql");
    pub const INPATIENT_INDICATORS: Step = step!("warn/rules/inpatient_indicators.sql");
}

/// Annual scores steps (annual-scores.md), one per spec step.
pub mod score {
    use super::Step;
    pub const MONTH_CLAIMS: Step = step!("score/00a_month_claims.sql");
    pub const YEAR_CLAIMS: Step = step!("score/00b_year_claims.sql");
    pub const INPUT_CHECKS: Step = step!("score/01_input_checks.sql");
    pub const POPULATION: Step = step!("score/02_population.sql");
    pub const INDICATOR_VALUES: Step = step!("score/03_indicator_values.sql");
    pub const SCORE_ITEMS: Step = step!("score/04_score_items.sql");
    pub const TOTALS: Step = step!("score/05_totals.sql");
    pub const DECISIONS: Step = step!("score/06_decisions.sql");
    pub const GUARANTEE: Step = step!("score/07_guarantee.sql");
    pub const BONUS: Step = step!("score/08_bonus.sql");
    pub const SCORES: Step = step!("score/09_scores.sql");
    pub const SCORE_ITEMS_OUT: Step = step!("score/10_score_items.sql");
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    /// A list parameter is SQL string literals with quotes doubled; an empty one matches nothing
    /// (`x IN (NULL)` is NULL, which `COALESCE(…, FALSE)` reads as false).
    #[tokio::test]
    async fn string_lists_are_quoted_and_an_empty_one_matches_nothing() {
        assert_eq!(string_list(["C34", "O'Neil"]), "'C34', 'O''Neil'");
        assert_eq!(string_list(Vec::<String>::new()), "NULL");
        let ctx = SessionContext::new();
        for (list, want) in [
            (string_list(["a", "O'Neil"]), true),
            (string_list([""; 0]), false),
        ] {
            let sql = format!("SELECT COALESCE('O''Neil' IN ({list}), FALSE) AS hit");
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            let hit = batches[0]
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::BooleanArray>()
                .unwrap()
                .value(0);
            assert_eq!(hit, want, "{sql}");
        }
    }

    /// A spilled step reads back the values it computed. The settlement's claim treatment has
    /// columns like `CASE … THEN 0 … ELSE amount END * sign` whose logical type can differ from
    /// the type of the batches; reading the files through the logical schema once truncated
    /// every point of a city month to whole numbers.
    #[tokio::test]
    async fn spilled_steps_keep_their_values() {
        let ctx = SessionContext::new();
        ctx.sql(
            "CREATE TABLE c AS SELECT * FROM (VALUES \
               (CAST(69.33 AS DECIMAL(18,2)), CAST(1.5 AS DECIMAL(18,4)), 'item', 1), \
               (CAST(12.07 AS DECIMAL(18,2)), CAST(2.25 AS DECIMAL(18,4)), 'case', -1)) \
             AS t(amount, weight, pay_method, sign)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        let step = Step {
            name: "test/spill.sql",
            text: "SELECT pay_method, \
                     CASE WHEN pay_method = 'none' THEN 0 \
                          WHEN pay_method = 'item' THEN amount \
                          ELSE LEAST(amount, weight) END * sign AS points, \
                     amount * weight AS product \
                   FROM c",
        };
        let dir = tempfile::tempdir().unwrap();
        let rows = spill(&ctx, "spilled", step, &[], dir.path()).await.unwrap();
        assert_eq!(rows, 2);
        let got = ctx
            .sql("SELECT pay_method, CAST(points AS VARCHAR) AS p, CAST(product AS VARCHAR) AS x FROM spilled ORDER BY pay_method")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&got)
            .unwrap()
            .to_string();
        assert!(text.contains("| case       | -2.25"), "{text}");
        assert!(text.contains("| item       | 69.33"), "{text}");
        assert!(text.contains("103.995"), "{text}");
    }
}
