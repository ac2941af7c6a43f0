//! Recomputation (policy.md, "Versions and recomputation"): which periods are still **open**,
//! the refusal of closed ones, and the diff report a replacement writes
//! (`reports/<kind>/<period>.diff.json`, outputs.md).
//!
//! A month is closed once a later month has been settled on top of it (its statements were the
//! `prev` of that month's payment), and a quarter's warnings once the settlement of its issue
//! month has applied its cards. Closed periods are never replaced: the cumulative method carries
//! any adjustment into the next month settled, and scenarios show what it would have changed.

use arrow::array::{Array, BooleanArray, Decimal128Array, Int32Array, Int64Array, RecordBatch};
use arrow::datatypes::DataType;
use claimlake_domain::period::{Month, Quarter};
use claimlake_lake::{Lake, layout};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cells;
use crate::error::{EngineError, Result};
use crate::manifest::PolicyRef;

/// Where a month stands in the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodStatus {
    /// No official results yet.
    NotRun,
    /// The latest: may be re-run and replaced (with a diff report).
    Open,
    /// Closed by the settlement of `by`: never replaced.
    Closed { by: Month },
}

/// The status of month `m`: settled when its statements exist, closed when the next month's do
/// (January of the next year closes December: the held balance carries across the year end).
pub async fn month_status(lake: &Lake, m: Month) -> Result<PeriodStatus> {
    if !lake
        .exists(&layout::monthly_result("statements", m))
        .await?
    {
        return Ok(PeriodStatus::NotRun);
    }
    let next = m.next();
    Ok(
        if lake
            .exists(&layout::monthly_result("statements", next))
            .await?
        {
            PeriodStatus::Closed { by: next }
        } else {
            PeriodStatus::Open
        },
    )
}

/// The status of quarter `q`'s warnings: run when its cards exist, closed once its issue month
/// has been settled (its cards then held or suspended a payment).
pub async fn quarter_status(lake: &Lake, q: Quarter) -> Result<PeriodStatus> {
    if !lake.exists(&layout::quarterly_result("cards", q)).await? {
        return Ok(PeriodStatus::NotRun);
    }
    let issue = q.issue_month();
    Ok(
        if lake
            .exists(&layout::monthly_result("statements", issue))
            .await?
        {
            PeriodStatus::Closed { by: issue }
        } else {
            PeriodStatus::Open
        },
    )
}

/// The refusal of a closed month, saying why and what to do instead.
pub fn closed_month(m: Month, by: Month) -> EngineError {
    EngineError::Precondition(format!(
        "{m} is closed: {by} has been settled on top of it, so {m}'s official results were the \
         basis of a payment and are never replaced (policy.md, Versions and recomputation). Only \
         the latest settled month is open. An adjustment is carried by the cumulative method: \
         adopt it as a new policy version and the next month settled pays the whole cumulative \
         difference. To see what it would have changed in closed months, run it as a scenario: \
         claimlake impact --scenario NAME --policy FILE --from {m}"
    ))
}

/// The refusal of a closed quarter.
pub fn closed_quarter(q: Quarter, by: Month) -> EngineError {
    EngineError::Precondition(format!(
        "{q}'s warnings are closed: the settlement of {by} has applied their cards, so they are \
         never replaced (policy.md, Versions and recomputation). To see what other warnings \
         would have changed, run them as a scenario: claimlake warn --quarter {q} --scenario \
         NAME --policy FILE"
    ))
}

/// Reads a Parquet object of the lake as batches (`None` when absent).
pub async fn read_table(lake: &Lake, key: &str) -> Result<Option<Vec<RecordBatch>>> {
    let Some(bytes) = lake.get_opt(key).await? else {
        return Ok(None);
    };
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 8192)
        .map_err(claimlake_lake::LakeError::from)?;
    Ok(Some(reader.collect::<std::result::Result<Vec<_>, _>>()?))
}

/// Reads the `policy` object of a JSON report (`None` when the report is absent).
pub async fn report_policy(lake: &Lake, key: &str) -> Result<Option<PolicyRef>> {
    let Some(bytes) = lake.get_opt(key).await? else {
        return Ok(None);
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(claimlake_lake::LakeError::from)?;
    Ok(v.get("policy")
        .cloned()
        .and_then(|p| serde_json::from_value(p).ok()))
}

/// One cell as JSON: decimals as exact strings (as in every report), counts as numbers.
fn cell(b: &RecordBatch, col: &str, i: usize) -> Value {
    let Some(c) = b.column_by_name(col) else {
        return Value::Null;
    };
    if c.is_null(i) {
        return Value::Null;
    }
    match c.data_type() {
        DataType::Decimal128(_, _) => cells::decimal(b, col, i)
            .map(|d| Value::String(d.to_string()))
            .unwrap_or(Value::Null),
        DataType::Boolean => c
            .as_any()
            .downcast_ref::<BooleanArray>()
            .map(|a| Value::Bool(a.value(i)))
            .unwrap_or(Value::Null),
        DataType::Int64 => c
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| Value::from(a.value(i)))
            .unwrap_or(Value::Null),
        DataType::Int32 => c
            .as_any()
            .downcast_ref::<Int32Array>()
            .map(|a| Value::from(a.value(i)))
            .unwrap_or(Value::Null),
        _ => Value::String(cells::text(b, col, i)),
    }
}

fn is_decimal(b: &[RecordBatch], col: &str) -> bool {
    b.first()
        .and_then(|b| b.column_by_name(col))
        .is_some_and(|c| c.as_any().downcast_ref::<Decimal128Array>().is_some())
}

/// Named figures of one row (JSON object, in column order).
type Figures = Map<String, Value>;

/// A row's key and its old and new figures.
type Versions = (Vec<Value>, Option<Figures>, Option<Figures>);

/// One keyed row of a diff: old and new figures (absent on one side when the row is new or
/// gone) and, for money and counts, the delta `new - old` (a missing side counts as zero).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowDiff {
    #[serde(flatten)]
    pub key: Map<String, Value>,
    pub old: Option<Map<String, Value>>,
    pub new: Option<Map<String, Value>>,
    pub delta: Map<String, Value>,
    pub changed: bool,
}

fn rows(
    batches: &[RecordBatch],
    key: &[&str],
    figures: &[&str],
) -> Vec<(Vec<Value>, Map<String, Value>)> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let k = key.iter().map(|c| cell(b, c, i)).collect();
            let f = figures
                .iter()
                .map(|c| (c.to_string(), cell(b, c, i)))
                .collect();
            out.push((k, f));
        }
    }
    out
}

fn number(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        Value::Null => Some(Decimal::ZERO),
        _ => None,
    }
}

/// Compares two versions of a table row by row on `key`, over `figures`.
pub fn diff_rows(
    old: &[RecordBatch],
    new: &[RecordBatch],
    key: &[&str],
    figures: &[&str],
) -> Vec<RowDiff> {
    use std::collections::BTreeMap;
    let sort_key = |k: &[Value]| k.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    let mut all: BTreeMap<Vec<String>, Versions> = BTreeMap::new();
    for (k, f) in rows(old, key, figures) {
        all.entry(sort_key(&k)).or_insert((k, None, None)).1 = Some(f);
    }
    for (k, f) in rows(new, key, figures) {
        all.entry(sort_key(&k)).or_insert((k, None, None)).2 = Some(f);
    }
    let numeric: Vec<bool> = figures
        .iter()
        .map(|c| {
            is_decimal(old, c) || is_decimal(new, c) || {
                let first = old.first().or(new.first());
                first
                    .and_then(|b| b.column_by_name(c))
                    .is_some_and(|a| matches!(a.data_type(), DataType::Int64 | DataType::Int32))
            }
        })
        .collect();
    all.into_values()
        .map(|(k, o, n)| {
            let mut delta = Map::new();
            for (c, numeric) in figures.iter().zip(&numeric) {
                if !numeric {
                    continue;
                }
                let get = |side: &Option<Map<String, Value>>| match side {
                    Some(m) => number(m.get(*c)),
                    None => Some(Decimal::ZERO),
                };
                if let (Some(a), Some(b)) = (get(&o), get(&n)) {
                    let d = b - a;
                    let v = if is_decimal(old, c) || is_decimal(new, c) {
                        Value::String(d.to_string())
                    } else {
                        d.to_string()
                            .parse::<i64>()
                            .map(Value::from)
                            .unwrap_or(Value::String(d.to_string()))
                    };
                    delta.insert(c.to_string(), v);
                }
            }
            let changed = o != n;
            RowDiff {
                key: key.iter().map(|c| c.to_string()).zip(k).collect(),
                old: o,
                new: n,
                delta,
                changed,
            }
        })
        .collect()
}

/// Key figures of a statement compared by the settlement diff.
pub const STATEMENT_FIGURES: [&str; 12] = [
    "settlement_cum",
    "fund_cum",
    "fund_month",
    "vbp_accrued_month",
    "withheld_month",
    "payable_month",
    "on_hold",
    "held_month",
    "released_month",
    "held_balance",
    "paid_month",
    "claims_settled_month",
];

/// Figures of a point value compared by the settlement diff.
pub const POINT_VALUE_FIGURES: [&str; 5] = [
    "cumulative_budget",
    "chemo_deduction",
    "effective_points",
    "point_value",
    "item_point_value",
];

/// `reports/settlement/YYYY-MM.diff.json`: a month's statements and point values before and
/// after a recomputation.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementDiff {
    pub period: String,
    /// The run whose results were replaced (from their lineage record).
    pub replaced_run: Option<String>,
    pub old_policy: Option<PolicyRef>,
    pub new_policy: PolicyRef,
    pub changed_institutions: u64,
    pub totals: RowDiff,
    pub institutions: Vec<RowDiff>,
    pub point_values: Vec<RowDiff>,
}

/// The official version of a month, read before it is replaced.
#[derive(Debug, Clone)]
pub struct SettlementBefore {
    pub month: Month,
    pub replaced_run: Option<String>,
    pub policy: Option<PolicyRef>,
    pub statements: Vec<RecordBatch>,
    pub point_values: Vec<RecordBatch>,
}

impl SettlementBefore {
    /// Reads month `m`'s official statements, point values and report policy.
    pub async fn read(lake: &Lake, m: Month) -> Result<Self> {
        let statements_key = layout::monthly_result("statements", m);
        Ok(SettlementBefore {
            month: m,
            replaced_run: lake.lineage_of(&statements_key).await?,
            policy: report_policy(lake, &layout::report("settlement", &m.to_string())).await?,
            statements: read_table(lake, &statements_key).await?.unwrap_or_default(),
            point_values: read_table(lake, &layout::monthly_result("point_values", m))
                .await?
                .unwrap_or_default(),
        })
    }

    /// The diff against the new version of the month.
    pub fn diff(
        &self,
        policy: &PolicyRef,
        statements: &[RecordBatch],
        point_values: &[RecordBatch],
    ) -> SettlementDiff {
        let institutions = diff_rows(
            &self.statements,
            statements,
            &["institution_id"],
            &STATEMENT_FIGURES,
        );
        let money: Vec<&str> = STATEMENT_FIGURES
            .iter()
            .copied()
            .filter(|c| *c != "on_hold")
            .collect();
        SettlementDiff {
            period: self.month.to_string(),
            replaced_run: self.replaced_run.clone(),
            old_policy: self.policy.clone(),
            new_policy: policy.clone(),
            changed_institutions: institutions.iter().filter(|r| r.changed).count() as u64,
            totals: totals(&institutions, &money),
            institutions,
            point_values: diff_rows(
                &self.point_values,
                point_values,
                &["payment_class", "budget_class", "fee_class"],
                &POINT_VALUE_FIGURES,
            ),
        }
    }
}

/// Sums the old, new and delta of numeric figures over rows.
fn totals(rows: &[RowDiff], figures: &[&str]) -> RowDiff {
    let sum = |side: &dyn Fn(&RowDiff) -> Option<&Map<String, Value>>, c: &str| {
        rows.iter()
            .filter_map(|r| side(r).and_then(|m| number(m.get(c))))
            .sum::<Decimal>()
    };
    let mut old = Map::new();
    let mut new = Map::new();
    let mut delta = Map::new();
    for c in figures {
        let o = sum(&|r: &RowDiff| r.old.as_ref(), c);
        let n = sum(&|r: &RowDiff| r.new.as_ref(), c);
        let as_value = |d: Decimal| {
            if *c == "claims_settled_month" {
                d.to_string()
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::Null)
            } else {
                Value::String(d.to_string())
            }
        };
        old.insert(c.to_string(), as_value(o));
        new.insert(c.to_string(), as_value(n));
        delta.insert(c.to_string(), as_value(n - o));
    }
    let changed = old != new;
    RowDiff {
        key: Map::new(),
        old: Some(old),
        new: Some(new),
        delta,
        changed,
    }
}

/// Figures of the warnings compared by the warnings diff.
pub const WARNING_FIGURES: [&str; 7] = [
    "visits",
    "hits",
    "operating_detected",
    "top_patients",
    "top_patient_cost_share",
    "associated",
    "warned",
];

/// Figures of a card compared by the warnings diff.
pub const CARD_FIGURES: [&str; 4] = [
    "effect",
    "effect_from_month",
    "effect_months",
    "yellow_count_in_year",
];

/// `reports/warnings/YYYY-Qn.diff.json`: a quarter's warnings and cards before and after.
#[derive(Debug, Clone, Serialize)]
pub struct WarningsDiff {
    pub period: String,
    pub replaced_run: Option<String>,
    pub old_policy: Option<PolicyRef>,
    pub new_policy: PolicyRef,
    pub changed_institutions: u64,
    pub institutions: Vec<RowDiff>,
    pub cards: Vec<RowDiff>,
    /// Later quarters whose red cards were re-derived, and the settlement months they touch.
    pub rederived: Vec<crate::warn::RederivedCards>,
}

/// The official version of a quarter's warnings, read before they are replaced.
#[derive(Debug, Clone)]
pub struct WarningsBefore {
    pub quarter: Quarter,
    pub replaced_run: Option<String>,
    pub policy: Option<PolicyRef>,
    pub warnings: Vec<RecordBatch>,
    pub cards: Vec<RecordBatch>,
}

impl WarningsBefore {
    pub async fn read(lake: &Lake, q: Quarter) -> Result<Self> {
        let cards_key = layout::quarterly_result("cards", q);
        Ok(WarningsBefore {
            quarter: q,
            replaced_run: lake.lineage_of(&cards_key).await?,
            policy: report_policy(lake, &layout::report("warnings", &q.report_stem())).await?,
            warnings: read_table(lake, &layout::quarterly_result("warnings", q))
                .await?
                .unwrap_or_default(),
            cards: read_table(lake, &cards_key).await?.unwrap_or_default(),
        })
    }

    pub fn diff(&self, outcome: &crate::warn::WarnOutcome) -> WarningsDiff {
        let institutions = diff_rows(
            &self.warnings,
            outcome.table("warnings"),
            &["institution_id"],
            &WARNING_FIGURES,
        );
        WarningsDiff {
            period: self.quarter.to_string(),
            replaced_run: self.replaced_run.clone(),
            old_policy: self.policy.clone(),
            new_policy: outcome.policy.clone(),
            changed_institutions: institutions.iter().filter(|r| r.changed).count() as u64,
            institutions,
            cards: diff_rows(
                &self.cards,
                outcome.table("cards"),
                &["institution_id", "color"],
                &CARD_FIGURES,
            ),
            rederived: outcome.rederived_cards.clone(),
        }
    }
}

/// Figures of a `scores` row compared by the scores diff (outputs.md).
pub const SCORE_FIGURES: [&str; 9] = [
    "status",
    "total",
    "grade",
    "decision",
    "reserve",
    "released",
    "forfeited",
    "bonus",
    "flags",
];

/// `reports/scores/YYYY.diff.json`: a year's scores before and after a recomputation, per
/// institution.
#[derive(Debug, Clone, Serialize)]
pub struct ScoresDiff {
    pub period: String,
    /// The run whose results were replaced (from their lineage record).
    pub replaced_run: Option<String>,
    pub old_policy: Option<PolicyRef>,
    pub new_policy: PolicyRef,
    pub changed_institutions: u64,
    pub institutions: Vec<RowDiff>,
}

/// The official scores of a year, read before they are replaced.
#[derive(Debug, Clone)]
pub struct ScoresBefore {
    pub year: i32,
    pub replaced_run: Option<String>,
    pub policy: Option<PolicyRef>,
    pub scores: Vec<RecordBatch>,
}

impl ScoresBefore {
    /// Reads year `year`'s official scores and report policy.
    pub async fn read(lake: &Lake, year: i32) -> Result<Self> {
        let key = layout::annual_result("scores", year);
        Ok(ScoresBefore {
            year,
            replaced_run: lake.lineage_of(&key).await?,
            policy: report_policy(lake, &layout::report("scores", &year.to_string())).await?,
            scores: read_table(lake, &key).await?.unwrap_or_default(),
        })
    }

    /// The diff against the new scores.
    pub fn diff(&self, policy: &PolicyRef, scores: &[RecordBatch]) -> ScoresDiff {
        let institutions = diff_rows(&self.scores, scores, &["institution_id"], &SCORE_FIGURES);
        ScoresDiff {
            period: self.year.to_string(),
            replaced_run: self.replaced_run.clone(),
            old_policy: self.policy.clone(),
            new_policy: policy.clone(),
            changed_institutions: institutions.iter().filter(|r| r.changed).count() as u64,
            institutions,
        }
    }
}
