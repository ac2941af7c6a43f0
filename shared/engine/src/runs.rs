//! Runs with their manifest: the entry points the CLI (and later the Lambda functions) call.
//! Each writes `runs/<run_id>.json` (outputs.md): succeeded with inputs, row counts and outputs,
//! or failed with the error, so every attempt leaves a trace an auditor can read.

use claimlake_domain::period::Month;
use claimlake_lake::Lake;

use crate::error::Result;
use crate::ingest::{MonthValidation, validate_month};
use crate::manifest::RunManifest;
use crate::score::{ScoreOutcome, score_year};
use crate::session::new_session;
use crate::settle::{SettleOutcome, settle_month};
use crate::warn::{WarnOutcome, warn_quarter};

/// A finished run: its outcome and the id of its manifest.
#[derive(Debug, Clone)]
pub struct Recorded<T> {
    pub run_id: String,
    pub outcome: T,
}

async fn record_failure<T>(
    lake: &Lake,
    mut manifest: RunManifest,
    e: crate::error::EngineError,
) -> Result<T> {
    // The manifest records the failure; the error itself is what the caller sees (a failure to
    // write the manifest must not hide it).
    let _ = manifest.finish(lake, Some(e.to_string())).await;
    Err(e)
}

/// `validate`: validates month `m` and writes its manifest.
pub async fn validate(lake: &Lake, m: Month) -> Result<Recorded<MonthValidation>> {
    let ctx = new_session(None);
    let mut manifest = RunManifest::start("validate", &m.to_string(), None);
    match validate_month(lake, &ctx, m).await {
        Ok(v) => {
            manifest.inputs = v.inputs.clone();
            manifest.outputs = v.outputs.clone();
            manifest
                .row_counts
                .insert("claims".into(), v.claims.clone());
            manifest
                .row_counts
                .insert("claim_items".into(), v.items.clone());
            manifest.finish(lake, None).await?;
            Ok(Recorded {
                run_id: manifest.run_id,
                outcome: v,
            })
        }
        Err(e) => record_failure(lake, manifest, e).await,
    }
}

/// `settle`: settles month `m` and writes its manifest (counts include exclusions by reason).
pub async fn settle(lake: &Lake, m: Month) -> Result<Recorded<SettleOutcome>> {
    let mut manifest = RunManifest::start("settle", &m.to_string(), None);
    match settle_month(lake, m).await {
        Ok(o) => {
            manifest.policy = Some(o.policy.clone());
            manifest.inputs = o.inputs.clone();
            manifest.outputs = o.outputs.clone();
            let mut claims = o.validation.claims.clone();
            claims.excluded = o.report.excluded.clone();
            manifest.row_counts.insert("claims".into(), claims);
            manifest
                .row_counts
                .insert("claim_items".into(), o.validation.items.clone());
            manifest.finish(lake, None).await?;
            Ok(Recorded {
                run_id: manifest.run_id,
                outcome: o,
            })
        }
        Err(e) => record_failure(lake, manifest, e).await,
    }
}

/// `warn`: runs a quarter's warnings and writes its manifest.
pub async fn warn(
    lake: &Lake,
    q: claimlake_domain::period::Quarter,
) -> Result<Recorded<WarnOutcome>> {
    let mut manifest = RunManifest::start("warn", &q.to_string(), None);
    match warn_quarter(lake, q).await {
        Ok(o) => {
            manifest.policy = Some(o.policy.clone());
            manifest.inputs = o.inputs.clone();
            manifest.outputs = o.outputs.clone();
            manifest.finish(lake, None).await?;
            Ok(Recorded {
                run_id: manifest.run_id,
                outcome: o,
            })
        }
        Err(e) => record_failure(lake, manifest, e).await,
    }
}

/// `score`: runs the annual scores of `year` and writes its manifest.
pub async fn score(lake: &Lake, year: i32) -> Result<Recorded<ScoreOutcome>> {
    let mut manifest = RunManifest::start("score", &year.to_string(), None);
    match score_year(lake, year).await {
        Ok(o) => {
            manifest.policy = Some(o.policy.clone());
            manifest.inputs = o.inputs.clone();
            manifest.row_counts = o.row_counts.clone();
            manifest.outputs = o.outputs.clone();
            manifest.finish(lake, None).await?;
            Ok(Recorded {
                run_id: manifest.run_id,
                outcome: o,
            })
        }
        Err(e) => record_failure(lake, manifest, e).await,
    }
}
