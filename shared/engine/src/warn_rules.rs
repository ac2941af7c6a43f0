//! Suspicion rules R01–R08 and the institution inpatient indicators (quarterly-warnings.md
//! Part D). One SQL step per rule under `sql/warn/rules/`; this module passes them the policy's
//! parameters and gathers their rows.
//!
//! The caller registers, in the session: `q_claims` (the quarter's valid claims, netted within the
//! quarter), `q_items` (their items), `prev_claims` (the month before the quarter, netted within
//! itself; may be empty), `catalog` and `institutions`. [`run`] adds two small policy tables,
//! `warn_cluster_min_patients` (R03) and `warn_inpatient_policy` (the indicators' margin).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use claimlake_domain::period::Quarter;
use claimlake_domain::policy::Policy;
use datafusion::prelude::SessionContext;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::Result;
use crate::sql::{self, warn_rules as steps};
use crate::tables::{self, Col};

/// What [`run`] produces.
#[derive(Debug, Clone)]
pub struct RuleOutputs {
    /// One row per (rule_id, claim_id), sorted by rule_id then claim_id, with
    /// [`suspicions_schema`].
    pub suspicions: Vec<RecordBatch>,
    /// The `indicators` rows of `admissions_per_patient` and `cmi`, sorted by institution_id then
    /// indicator, with [`inpatient_indicators_schema`].
    pub inpatient_indicators: Vec<RecordBatch>,
}

/// Columns of `restricted/suspicions` as the rules produce them (without policy_year/version).
pub fn suspicions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("rule_id", DataType::Utf8, false),
        Field::new("claim_id", DataType::Utf8, false),
        Field::new("institution_id", DataType::Utf8, false),
        Field::new("patient_id", DataType::Utf8, false),
        Field::new("settle_date", DataType::Date32, false),
        Field::new("detail", DataType::Utf8, true),
    ]))
}

/// Columns of the inpatient `indicators` rows (without policy_year/version).
pub fn inpatient_indicators_schema() -> SchemaRef {
    let value = DataType::Decimal128(20, 6);
    Arc::new(Schema::new(vec![
        Field::new("institution_id", DataType::Utf8, false),
        Field::new("indicator", DataType::Utf8, false),
        Field::new("budget_class", DataType::Utf8, true),
        Field::new("value", value.clone(), true),
        Field::new("peer_value", value.clone(), true),
        Field::new("threshold", value, true),
        Field::new("hit", DataType::Boolean, false),
        Field::new("eligible", DataType::Boolean, false),
    ]))
}

/// The rule steps in rule_id order (their concatenation is sorted by rule_id, claim_id).
const RULES: [sql::Step; 8] = [
    steps::R01,
    steps::R02,
    steps::R03,
    steps::R04,
    steps::R05,
    steps::R06,
    steps::R07,
    steps::R08,
];

/// Working tables that rules read more than once, in the order they are computed: each is
/// spilled to a working file once, because DataFusion inlines a CTE at every reference and a
/// rule reading one twice would redo its joins over the quarter (R02's drug lines join the
/// quarter's ~80M items; the outpatient claims, which R03 and R04 group, are most of its ~15M
/// claims).
const WORKING_TABLES: [(&str, sql::Step); 4] = [
    ("q_outpatient", steps::OUTPATIENT),
    ("r02_lines", steps::R02_LINES),
    ("r03_bucketed", steps::R03_BUCKETED),
    ("r03_candidates", steps::R03_CANDIDATES),
];

/// An amount threshold rounded up to the fen: on 2-decimal amounts, `x ≥ t ⇔ x ≥ ceil2(t)`.
fn ceil_fen(t: Decimal) -> String {
    let mut v = t.round_dp_with_strategy(2, RoundingStrategy::ToPositiveInfinity);
    v.rescale(2);
    v.to_string()
}

/// R02's limit as an integer: Σ days_supply (an integer) > days × (1 + tolerance) ⇔
/// Σ > floor(days × (1 + tolerance)).
fn overbuy_max_days(quarter: Quarter, tolerance: Decimal) -> i64 {
    let limit = Decimal::from(quarter.days()) * (Decimal::ONE + tolerance);
    let floor = limit.floor();
    i64::try_from(floor).unwrap_or(i64::MAX)
}

/// The `${…}` parameters of the rule steps.
fn params(policy: &Policy, quarter: Quarter) -> Vec<(&'static str, String)> {
    let r = &policy.rules;
    vec![
        ("readmission_days", r.readmission_days.to_string()),
        (
            "overbuy_max_days",
            overbuy_max_days(quarter, r.overbuy_tolerance).to_string(),
        ),
        (
            "cluster_bucket_minutes",
            r.cluster_bucket_minutes.to_string(),
        ),
        ("repeat_same_day_min", r.repeat_same_day_min.to_string()),
        (
            "large_outpatient_amount",
            ceil_fen(r.large_outpatient_amount),
        ),
        (
            "cross_province_inpatient_amount",
            ceil_fen(r.cross_province_inpatient_amount),
        ),
        ("min_admissions", r.institution.min_admissions.to_string()),
    ]
}

/// Registers the policy tables the steps read.
fn register_policy_tables(ctx: &SessionContext, policy: &Policy) -> Result<()> {
    let r = &policy.rules;
    let (classes, mins): (Vec<_>, Vec<_>) = r
        .cluster_min_patients
        .iter()
        .map(|(class, min)| (Some(class.as_str().to_string()), Some(Decimal::from(*min))))
        .unzip();
    tables::register(
        ctx,
        "warn_cluster_min_patients",
        vec![
            Col::Text("budget_class", classes),
            Col::Dec("min_patients", mins),
        ],
    )?;
    tables::register(
        ctx,
        "warn_inpatient_policy",
        vec![Col::Dec("margin", vec![Some(r.institution.margin)])],
    )
}

/// Casts a step's batch to `schema` (same columns in the same order).
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| cast(c, f.data_type()))
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Runs R01–R08 and the inpatient indicators of `quarter` on the tables registered in `ctx`;
/// the rules' working tables are written under `work` (a local folder the caller removes).
pub async fn run(
    ctx: &SessionContext,
    policy: &Policy,
    quarter: Quarter,
    work: &Path,
) -> Result<RuleOutputs> {
    register_policy_tables(ctx, policy)?;
    let p = params(policy, quarter);
    for (name, step) in WORKING_TABLES {
        sql::spill(ctx, name, step, &p, work).await?;
    }

    let schema = suspicions_schema();
    let mut suspicions = Vec::new();
    for step in RULES {
        for batch in sql::collect(ctx, step, &p).await? {
            if batch.num_rows() > 0 {
                suspicions.push(conform(&batch, &schema)?);
            }
        }
    }

    let schema = inpatient_indicators_schema();
    let inpatient_indicators = sql::collect(ctx, steps::INPATIENT_INDICATORS, &p)
        .await?
        .iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| conform(b, &schema))
        .collect::<Result<Vec<_>>>()?;

    Ok(RuleOutputs {
        suspicions,
        inpatient_indicators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact() {
        assert_eq!(ceil_fen("5000".parse().unwrap()), "5000.00");
        assert_eq!(ceil_fen("5000.001".parse().unwrap()), "5000.01");
        let q1 = Quarter::new(2025, 1).unwrap(); // 90 days
        assert_eq!(overbuy_max_days(q1, "0.20".parse().unwrap()), 108);
        assert_eq!(overbuy_max_days(q1, "0.205".parse().unwrap()), 108); // 108.45
        let q3 = Quarter::new(2025, 3).unwrap(); // 92 days
        assert_eq!(overbuy_max_days(q3, "0.20".parse().unwrap()), 110); // 110.4
    }
}
