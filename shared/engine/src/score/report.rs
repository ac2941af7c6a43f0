//! The scores report (`reports/scores/YYYY.json`, outputs.md): the score distribution per peer
//! group, the decisions with their reasons, and the quality-guarantee totals, which must
//! reconcile exactly (annual-scores.md): Σ reserve = Σ released + Σ forfeited + Σ reserve of
//! pending institutions, and pool = Σ bonus + undistributed. Fixed key order, no run times.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use claimlake_domain::round2;
use datafusion::prelude::SessionContext;
use rust_decimal::Decimal;
use serde::Serialize;

use super::inputs::History;
use crate::cells::{decimal, text};
use crate::error::{EngineError, Result};
use crate::manifest::PolicyRef;
use crate::settle::LoadedPolicy;

/// Counts of the scored institutions by status and grade.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct Counts {
    pub institutions: u64,
    pub scored: u64,
    pub pending: u64,
    pub disqualified: u64,
    pub excellent: u64,
    pub pass: u64,
    pub fail: u64,
}

/// The score distribution of one peer group (budget class).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerDistribution {
    pub budget_class: String,
    pub counts: Counts,
    /// Lowest, highest and mean (`round2`) total of its scored institutions.
    pub min_total: Option<Decimal>,
    pub max_total: Option<Decimal>,
    pub mean_total: Option<Decimal>,
}

/// A decision other than `renew`, with its reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Decision {
    pub institution_id: String,
    pub budget_class: String,
    pub status: String,
    pub total: Option<Decimal>,
    pub grade: Option<String>,
    pub decision: String,
    pub reason: String,
}

/// The quality guarantee totals over every scored institution.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct Guarantee {
    pub reserve: Decimal,
    pub released: Decimal,
    pub forfeited: Decimal,
    /// Reserve of pending institutions: held until their case closes (not in the pool).
    pub held_pending: Decimal,
    /// Σ forfeited, disqualified institutions' whole reserve included.
    pub pool: Decimal,
    pub bonus: Decimal,
    pub undistributed: Decimal,
    pub recipients: u64,
    /// Reserve of institutions with statements but neither claims nor an assessment (not
    /// scored, not in the totals above).
    pub unscored_reserve: Decimal,
}

/// An institution with a reserve that is not scored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unscored {
    pub institution_id: String,
    pub reserve: Decimal,
}

/// What the no-renewal rule knew of earlier years.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HistoryNote {
    pub years_needed: Vec<i32>,
    pub years_missing: Vec<i32>,
    /// Institutions failing this year whose earlier scores were missing (no_renewal not applied).
    pub failing_without_history: u64,
}

/// The report document.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreReport {
    pub period: String,
    pub policy: PolicyRef,
    pub counts: Counts,
    pub distribution: Vec<PeerDistribution>,
    pub decision_counts: BTreeMap<String, u64>,
    pub decisions: Vec<Decision>,
    pub guarantee: Guarantee,
    pub unscored: Vec<Unscored>,
    pub history: HistoryNote,
    pub notes: Vec<String>,
}

fn opt_text(b: &RecordBatch, col: &str, i: usize) -> Option<String> {
    let t = text(b, col, i);
    (!t.is_empty()).then_some(t)
}

fn count_into(c: &mut Counts, status: &str, grade: Option<&str>) {
    c.institutions += 1;
    match status {
        "scored" => c.scored += 1,
        "pending" => c.pending += 1,
        _ => c.disqualified += 1,
    }
    match grade {
        Some("excellent") => c.excellent += 1,
        Some("pass") => c.pass += 1,
        Some("fail") => c.fail += 1,
        _ => {}
    }
}

/// Builds the report from the written tables and checks that the guarantee reconciles.
pub async fn build(
    ctx: &SessionContext,
    year: i32,
    policy: &LoadedPolicy,
    tables: &[(String, Vec<RecordBatch>)],
    history: &History,
) -> Result<ScoreReport> {
    let scores: &[RecordBatch] = tables
        .iter()
        .find(|(n, _)| n == "scores")
        .map(|(_, b)| b.as_slice())
        .unwrap_or(&[]);
    let mut counts = Counts::default();
    let mut groups: BTreeMap<String, (Counts, Vec<Decimal>)> = BTreeMap::new();
    let mut decision_counts = BTreeMap::new();
    let mut decisions = Vec::new();
    let mut g = Guarantee::default();
    let mut failing_without_history = 0;
    for b in scores {
        for i in 0..b.num_rows() {
            let id = text(b, "institution_id", i);
            let status = text(b, "status", i);
            let grade = opt_text(b, "grade", i);
            let total = decimal(b, "total", i);
            let class = text(b, "budget_class", i);
            let decision = text(b, "decision", i);
            let money = |c: &str| decimal(b, c, i).unwrap_or_default();
            let (reserve, released, forfeited) =
                (money("reserve"), money("released"), money("forfeited"));
            count_into(&mut counts, &status, grade.as_deref());
            let group = groups.entry(class.clone()).or_default();
            count_into(&mut group.0, &status, grade.as_deref());
            if let Some(t) = total {
                group.1.push(t);
            }
            *decision_counts.entry(decision.clone()).or_insert(0) += 1;
            if decision != "renew" {
                decisions.push(Decision {
                    institution_id: id.clone(),
                    budget_class: class,
                    status: status.clone(),
                    total,
                    grade: grade.clone(),
                    decision,
                    reason: text(b, "decision_reason", i),
                });
            }
            if text(b, "flags", i).contains("no_renewal_not_applied") {
                failing_without_history += 1;
            }
            g.reserve += reserve;
            g.released += released;
            g.forfeited += forfeited;
            g.bonus += money("bonus");
            if policy.policy.score.redistribute_forfeit
                && grade.as_deref() == Some("excellent")
                && text(b, "decision", i) == "renew"
                && reserve > Decimal::ZERO
            {
                g.recipients += 1;
            }
            if status == "pending" {
                g.held_pending += reserve;
                if !released.is_zero() || !forfeited.is_zero() {
                    return Err(reconcile_error(format!(
                        "pending institution {id} has released {released} / forfeited {forfeited}"
                    )));
                }
            } else if reserve != released + forfeited {
                return Err(reconcile_error(format!(
                    "{id}: reserve {reserve} ≠ released {released} + forfeited {forfeited}"
                )));
            }
        }
    }
    g.pool = g.forfeited;
    g.undistributed = g.pool - g.bonus;
    let mut notes = Vec::new();
    if g.reserve != g.released + g.forfeited + g.held_pending {
        return Err(reconcile_error(format!(
            "Σ reserve {} ≠ Σ released {} + Σ forfeited {} + Σ pending {}",
            g.reserve, g.released, g.forfeited, g.held_pending
        )));
    }
    // With a recipient the whole pool is distributed to the fen; without one nothing is.
    let recipients_exist = g.recipients > 0;
    if recipients_exist && !g.undistributed.is_zero() || !recipients_exist && !g.bonus.is_zero() {
        return Err(reconcile_error(format!(
            "pool {} ≠ Σ bonus {} + undistributed",
            g.pool, g.bonus
        )));
    }
    if !g.undistributed.is_zero() {
        notes.push(if policy.policy.score.redistribute_forfeit {
            format!(
                "forfeited pool {} undistributed: no excellent institution decided renew with a \
                 reserve",
                g.undistributed
            )
        } else {
            format!(
                "forfeited pool {} undistributed: score.redistribute_forfeit is false",
                g.undistributed
            )
        });
    }

    // Institutions with statements of the year but neither claims nor an assessment.
    let mut unscored = Vec::new();
    let rows = ctx
        .sql(
            "SELECT s.institution_id, SUM(s.withheld_month) AS reserve \
             FROM population p RIGHT JOIN year_statements s ON s.institution_id = p.institution_id \
             WHERE p.institution_id IS NULL GROUP BY s.institution_id ORDER BY s.institution_id",
        )
        .await?
        .collect()
        .await?;
    for b in &rows {
        for i in 0..b.num_rows() {
            let u = Unscored {
                institution_id: text(b, "institution_id", i),
                reserve: decimal(b, "reserve", i).unwrap_or_default(),
            };
            g.unscored_reserve += u.reserve;
            notes.push(format!(
                "{} has statements in {year} (reserve {}) but neither claims nor an assessment: \
                 not scored",
                u.institution_id, u.reserve
            ));
            unscored.push(u);
        }
    }
    let rows = ctx
        .sql(
            "SELECT i.institution_id, i.status FROM population p \
             RIGHT JOIN investigations i ON i.institution_id = p.institution_id \
             WHERE p.institution_id IS NULL ORDER BY i.institution_id, i.status",
        )
        .await?
        .collect()
        .await?;
    for b in &rows {
        for i in 0..b.num_rows() {
            notes.push(format!(
                "{} is {} in inputs/investigations but has neither claims nor an assessment in \
                 {year}: not scored",
                text(b, "institution_id", i),
                text(b, "status", i)
            ));
        }
    }
    for y in &history.missing {
        notes.push(format!(
            "results/scores/year={y} is missing: institutions failing in {year} are not known to \
             have failed in {y}"
        ));
    }
    if failing_without_history > 0 {
        notes.push(format!(
            "{year}: {failing_without_history} failing institution(s) lacked earlier scores; \
             no_renewal not applied to them"
        ));
    }
    let assessed = ctx
        .sql("SELECT COUNT(*) AS n FROM assessments")
        .await?
        .collect()
        .await?;
    if assessed
        .first()
        .map(|b| crate::cells::count(b, "n", 0))
        .unwrap_or(0)
        == 0
    {
        notes.push(format!(
            "no rows in inputs/assessments/year={year}: every assessment indicator is missing"
        ));
    }

    let distribution = groups
        .into_iter()
        .map(|(budget_class, (counts, totals))| {
            let n = Decimal::from(totals.len() as u64);
            let sum: Decimal = totals.iter().sum();
            PeerDistribution {
                budget_class,
                counts,
                min_total: totals.iter().min().copied(),
                max_total: totals.iter().max().copied(),
                mean_total: (!totals.is_empty()).then(|| round2(sum / n)),
            }
        })
        .collect();
    Ok(ScoreReport {
        period: year.to_string(),
        policy: policy.reference(),
        counts,
        distribution,
        decision_counts,
        decisions,
        guarantee: g,
        unscored,
        history: HistoryNote {
            years_needed: history.needed.clone(),
            years_missing: history.missing.clone(),
            failing_without_history,
        },
        notes,
    })
}

fn reconcile_error(what: String) -> EngineError {
    EngineError::Precondition(format!(
        "internal error: the quality guarantee does not reconcile: {what}"
    ))
}
