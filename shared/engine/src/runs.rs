//! Runs with their manifest: the entry points the CLI (and the Lambda functions) call. Each run
//! goes through the one publishing path ([`crate::publish::run`]): a lock per (kind, period),
//! outputs staged then copied into place with history, and `runs/<run_id>.json` (outputs.md):
//! succeeded with inputs, row counts and outputs, or failed with the error, so every attempt
//! leaves a trace an auditor can read.
//!
//! Official periods follow policy.md's "Versions and recomputation": a closed period is refused,
//! the open one may be re-run and replaced with a diff report. A scenario (`RunOptions::scenario`)
//! runs the same computation in `scenarios/<name>/` with its own policy file and is never refused.

use bytes::Bytes;
use claimlake_domain::period::{Month, Quarter};
use claimlake_lake::{Lake, layout};

use crate::error::{EngineError, Result};
use crate::ingest::{MonthValidation, validate_month};
use crate::manifest::RunManifest;
use crate::publish::{self, Computed, PublishOptions};
use crate::recompute::{
    self, PeriodStatus, ScoresBefore, ScoresDiff, SettlementBefore, SettlementDiff, WarningsBefore,
    WarningsDiff,
};
use crate::score::{ScoreOutcome, score_year};
use crate::session::new_session;
use crate::settle::{SettleOutcome, settle_month};
use crate::warn::{WarnOutcome, warn_quarter};

/// How a run is made.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run as this scenario: read the official inputs, write only under `scenarios/<name>/`.
    pub scenario: Option<String>,
    /// The scenario's policy file (its bytes); it replaces the official policy of its year in
    /// the scenario. Only with `scenario`.
    pub policy: Option<Bytes>,
    pub publish: PublishOptions,
}

impl RunOptions {
    /// Options of scenario `name`.
    pub fn scenario(name: &str) -> Self {
        RunOptions {
            scenario: Some(name.to_string()),
            ..RunOptions::default()
        }
    }

    /// The same options with the scenario's policy file.
    pub fn with_policy(mut self, bytes: impl Into<Bytes>) -> Self {
        self.policy = Some(bytes.into());
        self
    }

    /// The lake the run works on: the official lake or the scenario's.
    pub fn target(&self, lake: &Lake) -> Result<Lake> {
        match &self.scenario {
            Some(name) => Ok(lake.scenario(name)?),
            None if self.policy.is_some() => Err(EngineError::Precondition(
                "a policy file (--policy) is for scenarios only (--scenario NAME): an official \
                 adjustment is a new version of policy/YYYY.toml in the lake"
                    .into(),
            )),
            None => Ok(lake.clone()),
        }
    }
}

/// What a recomputation replaced, as its diff report says.
#[derive(Debug, Clone)]
pub enum Diff {
    Settlement(Box<SettlementDiff>),
    Warnings(Box<WarningsDiff>),
    Scores(Box<ScoresDiff>),
}

/// A finished run: its outcome, its manifest, and the diff report when it replaced a period.
#[derive(Debug, Clone)]
pub struct Recorded<T> {
    pub run_id: String,
    pub outcome: T,
    pub manifest: RunManifest,
    pub diff: Option<Diff>,
}

fn recorded<T>(p: publish::Published<(T, Option<Diff>)>) -> Recorded<T> {
    let (outcome, diff) = p.outcome;
    Recorded {
        run_id: p.run_id,
        outcome,
        manifest: p.manifest,
        diff,
    }
}

/// `validate`: validates month `m` (quarantine and ledger published like any result).
pub async fn validate(lake: &Lake, m: Month) -> Result<Recorded<MonthValidation>> {
    validate_with(lake, m, &RunOptions::default()).await
}

/// `validate` with options.
pub async fn validate_with(
    lake: &Lake,
    m: Month,
    opts: &RunOptions,
) -> Result<Recorded<MonthValidation>> {
    let target = opts.target(lake)?;
    let p = publish::run(
        &target,
        "validate",
        &m.to_string(),
        &opts.publish,
        |staged| async move {
            let ctx = new_session(None);
            let v = validate_month(&staged, &ctx, m).await?;
            let mut c = Computed::new((v.clone(), None));
            c.inputs = v.inputs.clone();
            c.row_counts.insert("claims".into(), v.claims.clone());
            c.row_counts.insert("claim_items".into(), v.items.clone());
            Ok(c)
        },
    )
    .await?;
    Ok(recorded(p))
}

/// `settle`: settles month `m` and writes its manifest (counts include exclusions by reason).
pub async fn settle(lake: &Lake, m: Month) -> Result<Recorded<SettleOutcome>> {
    settle_with(lake, m, &RunOptions::default()).await
}

/// `settle` with options. Settling an already settled month re-runs it: allowed while it is
/// open (it is replaced, with `reports/settlement/YYYY-MM.diff.json`), refused once closed.
pub async fn settle_with(
    lake: &Lake,
    m: Month,
    opts: &RunOptions,
) -> Result<Recorded<SettleOutcome>> {
    settle_run(lake, m, opts, false).await
}

/// `recompute --month`: re-runs the open month `m` (it must have been settled) and replaces it.
pub async fn recompute_month(
    lake: &Lake,
    m: Month,
    opts: &RunOptions,
) -> Result<Recorded<SettleOutcome>> {
    settle_run(lake, m, opts, true).await
}

/// Stores the scenario's policy file, if the options give one (under the run's lock).
async fn apply_policy(target: &Lake, policy: &Option<Bytes>) -> Result<()> {
    if let Some(bytes) = policy {
        crate::scenario::set_policy(target, bytes).await?;
    }
    Ok(())
}

async fn settle_run(
    lake: &Lake,
    m: Month,
    opts: &RunOptions,
    recompute: bool,
) -> Result<Recorded<SettleOutcome>> {
    let target = opts.target(lake)?;
    let own = target.own_lake();
    let official = target.scenario_name().is_none();
    let policy = opts.policy.clone();
    let view = target.clone();
    let p = publish::run(
        &target,
        "settle",
        &m.to_string(),
        &opts.publish,
        |staged| async move {
            apply_policy(&view, &policy).await?;
            let status = recompute::month_status(&own, m).await?;
            match status {
                PeriodStatus::Closed { by } if official => {
                    return Err(recompute::closed_month(m, by));
                }
                PeriodStatus::NotRun if recompute => {
                    return Err(EngineError::Precondition(format!(
                        "{m} has not been settled yet in {}: there is nothing to recompute \
                         (settle it: claimlake settle --month {m})",
                        own.root()
                    )));
                }
                _ => {}
            }
            let before = match status {
                PeriodStatus::NotRun => None,
                _ => Some(SettlementBefore::read(&own, m).await?),
            };
            let o = settle_month(&staged, m).await?;
            let diff = match before {
                Some(before) => {
                    let d = before.diff(&o.policy, o.table("statements"), o.table("point_values"));
                    staged
                        .write_json(&layout::diff_report("settlement", &m.to_string()), &d)
                        .await?;
                    Some(Diff::Settlement(Box::new(d)))
                }
                None => None,
            };
            let mut claims = o.validation.claims.clone();
            claims.excluded = o.report.excluded.clone();
            let mut c = Computed::new((o.clone(), diff));
            c.policy = Some(o.policy.clone());
            c.inputs = o.inputs.clone();
            c.row_counts.insert("claims".into(), claims);
            c.row_counts
                .insert("claim_items".into(), o.validation.items.clone());
            Ok(c)
        },
    )
    .await?;
    Ok(recorded(p))
}

/// `warn`: runs a quarter's warnings and writes its manifest.
pub async fn warn(lake: &Lake, q: Quarter) -> Result<Recorded<WarnOutcome>> {
    warn_with(lake, q, &RunOptions::default()).await
}

/// `warn` with options. Re-running a quarter is allowed while its cards are not yet in effect
/// (replaced, with `reports/warnings/YYYY-Qn.diff.json`); it re-derives the later quarters' red
/// cards and says which settlement months they touch.
pub async fn warn_with(
    lake: &Lake,
    q: Quarter,
    opts: &RunOptions,
) -> Result<Recorded<WarnOutcome>> {
    warn_run(lake, q, opts, false).await
}

/// `recompute --quarter`: re-runs the open quarter `q`'s warnings and replaces them.
pub async fn recompute_quarter(
    lake: &Lake,
    q: Quarter,
    opts: &RunOptions,
) -> Result<Recorded<WarnOutcome>> {
    warn_run(lake, q, opts, true).await
}

async fn warn_run(
    lake: &Lake,
    q: Quarter,
    opts: &RunOptions,
    recompute: bool,
) -> Result<Recorded<WarnOutcome>> {
    let target = opts.target(lake)?;
    let own = target.own_lake();
    let official = target.scenario_name().is_none();
    let policy = opts.policy.clone();
    let view = target.clone();
    let p = publish::run(
        &target,
        "warn",
        &q.to_string(),
        &opts.publish,
        |staged| async move {
            apply_policy(&view, &policy).await?;
            let status = recompute::quarter_status(&own, q).await?;
            match status {
                PeriodStatus::Closed { by } if official => {
                    return Err(recompute::closed_quarter(q, by));
                }
                PeriodStatus::NotRun if recompute => {
                    return Err(EngineError::Precondition(format!(
                        "{q}'s warnings have not been run yet in {}: there is nothing to \
                         recompute (claimlake warn --quarter {q})",
                        own.root()
                    )));
                }
                _ => {}
            }
            let before = match status {
                PeriodStatus::NotRun => None,
                _ => Some(WarningsBefore::read(&own, q).await?),
            };
            let o = warn_quarter(&staged, q).await?;
            let diff = match before {
                Some(before) => {
                    let d = before.diff(&o);
                    staged
                        .write_json(&layout::diff_report("warnings", &q.report_stem()), &d)
                        .await?;
                    Some(Diff::Warnings(Box::new(d)))
                }
                None => None,
            };
            let mut c = Computed::new((o.clone(), diff));
            c.policy = Some(o.policy.clone());
            c.inputs = o.inputs.clone();
            c.notes = o.rederived.clone();
            Ok(c)
        },
    )
    .await?;
    Ok(recorded(p))
}

/// `score`: runs the annual scores of `year` through the publishing path.
pub async fn score(lake: &Lake, year: i32) -> Result<Recorded<ScoreOutcome>> {
    score_with(lake, year, &RunOptions::default()).await
}

/// `score` with options (scenario, policy file, publishing). A year's scores stay open until the
/// next year is scored (policy.md); `score_year` refuses a closed year.
pub async fn score_with(
    lake: &Lake,
    year: i32,
    opts: &RunOptions,
) -> Result<Recorded<ScoreOutcome>> {
    score_run(lake, year, opts, false).await
}

/// `recompute --year`: re-runs the open year's scores and replaces them, with
/// `reports/scores/YYYY.diff.json`.
pub async fn recompute_year(
    lake: &Lake,
    year: i32,
    opts: &RunOptions,
) -> Result<Recorded<ScoreOutcome>> {
    score_run(lake, year, opts, true).await
}

async fn score_run(
    lake: &Lake,
    year: i32,
    opts: &RunOptions,
    recompute: bool,
) -> Result<Recorded<ScoreOutcome>> {
    let target = opts.target(lake)?;
    let own = target.own_lake();
    let policy = opts.policy.clone();
    let view = target.clone();
    let p = publish::run(
        &target,
        "score",
        &year.to_string(),
        &opts.publish,
        |staged| async move {
            apply_policy(&view, &policy).await?;
            let scored = own.exists(&layout::annual_result("scores", year)).await?;
            if recompute && !scored {
                return Err(EngineError::Precondition(format!(
                    "the scores of {year} have not been run yet in {}: there is nothing to \
                     recompute (claimlake score --year {year})",
                    own.root()
                )));
            }
            let before = if scored {
                Some(ScoresBefore::read(&own, year).await?)
            } else {
                None
            };
            let o = score_year(&staged, year).await?;
            let diff = match before {
                Some(before) => {
                    let d = before.diff(&o.policy, o.table("scores"));
                    staged
                        .write_json(&layout::diff_report("scores", &year.to_string()), &d)
                        .await?;
                    Some(Diff::Scores(Box::new(d)))
                }
                None => None,
            };
            let mut c = Computed::new((o.clone(), diff));
            c.policy = Some(o.policy.clone());
            c.inputs = o.inputs.clone();
            c.row_counts = o.row_counts.clone();
            Ok(c)
        },
    )
    .await?;
    Ok(recorded(p))
}
