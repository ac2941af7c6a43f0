//! The `lambda_runtime` loop shared by every function: cold start once, then per invocation
//! parse the event, resolve the period, run, and answer with a [`Response`] or a typed error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use claimlake_lake::Lake;
use lambda_runtime::{LambdaEvent, service_fn};
use tracing::Instrument;

use crate::clock::{PeriodKind, Zone};
use crate::error::{ErrorClass, FunctionError};
use crate::event::{Event, Request};
use crate::logging;
use crate::resources::Resources;
use crate::response::{Outcome, Response, rows_by_table};

/// A function: its name (for logs and responses) and the kind of period it computes.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub kind: PeriodKind,
}

/// What the cold start prepared. A configuration error is kept and returned by every
/// invocation (non-retryable), so it shows up as a typed error rather than a crash loop.
struct ColdStart {
    zone: Zone,
    default_lake: Option<String>,
    /// Lakes opened so far, by root: the default lake is opened at cold start, so its
    /// object-store client (and connection pool) and S3 settings are reused by warm invocations.
    lakes: Mutex<HashMap<String, Lake>>,
}

impl ColdStart {
    fn init(function: Function) -> Result<ColdStart, FunctionError> {
        let resources = Resources::from_env()?;
        claimlake_engine::session::configure(resources.session_settings()?);
        let zone = Zone::from_env()?;
        let default_lake = std::env::var("CLAIMLAKE_LAKE")
            .ok()
            .filter(|s| !s.is_empty());
        let cold = ColdStart {
            zone,
            default_lake,
            lakes: Mutex::new(HashMap::new()),
        };
        if let Some(root) = cold.default_lake.clone() {
            cold.lake(&root)?;
        }
        tracing::info!(
            function = function.name,
            memory_mb = resources.memory_mb,
            target_partitions = resources.target_partitions,
            memory_pool_mb = resources.pool_mb,
            spill_dir = %resources.spill_dir.display(),
            spill_mb = resources.spill_mb,
            time_zone = ?cold.zone,
            lake = cold.default_lake.as_deref().unwrap_or(""),
            "cold start"
        );
        Ok(cold)
    }

    fn lake(&self, root: &str) -> Result<Lake, FunctionError> {
        let mut lakes = self.lakes.lock().expect("lake cache lock");
        if let Some(l) = lakes.get(root) {
            return Ok(l.clone());
        }
        let lake = Lake::open(root).map_err(|e| {
            let mut fe = FunctionError::from(e);
            if !fe.retryable {
                fe.class = ErrorClass::Config;
            }
            fe
        })?;
        lakes.insert(root.to_string(), lake.clone());
        Ok(lake)
    }
}

/// Runs the Lambda runtime loop for `function`; `run` does one computation for a validated
/// [`Request`]. The session settings, time zone and default lake are prepared once, at cold
/// start, before the first event is fetched.
pub async fn serve<F, Fut>(function: Function, run: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Outcome, FunctionError>>,
{
    logging::init();
    let cold = Arc::new(ColdStart::init(function).inspect_err(|e| {
        tracing::error!(
            function = function.name,
            error_type = %e.error_type(),
            error = %e.message,
            "cold start failed; every invocation will return this error"
        );
    }));
    let run = Arc::new(run);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let cold = cold.clone();
        let run = run.clone();
        async move {
            let cold = cold.as_ref().as_ref().map_err(Clone::clone)?;
            invoke(function, cold, run.as_ref(), event.payload).await
        }
    }))
    .await
}

async fn invoke<F, Fut>(
    function: Function,
    cold: &ColdStart,
    run: &F,
    payload: serde_json::Value,
) -> Result<Response, FunctionError>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Outcome, FunctionError>>,
{
    let parsed = Event::from_json(payload).and_then(|event| {
        let (period, scenario, policy) = event.resolve(function.kind, cold.zone, Utc::now())?;
        let lake = cold.lake(event.lake_root(cold.default_lake.as_deref())?)?;
        Ok(Request {
            lake,
            period,
            scenario,
            policy,
            recompute: event.recompute,
        })
    });
    let request = match parsed {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(function = function.name, error_type = %e.error_type(), error = %e.message, "bad event");
            return Err(e);
        }
    };
    let period = request.period.to_string();
    let scenario = request.scenario.clone();
    let for_keys = request.clone();
    let stored = move |key: &str| for_keys.stored_key(key);
    let lake = request.lake.clone();
    let span = tracing::info_span!("run", function = function.name, period = %period);
    async move {
        tracing::info!(
            period = %period,
            lake = lake.root(),
            scenario = scenario.as_deref().unwrap_or(""),
            "run started"
        );
        let outcome = match run(request).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(
                    period = %period,
                    error_type = %e.error_type(),
                    retryable = e.retryable,
                    error = %e.message,
                    "run failed"
                );
                return Err(e);
            }
        };
        // Keys as stored: a scenario's objects live under `scenarios/<name>/`.
        let report_key = stored(&outcome.report_key);
        let diff_key = outcome.diff_key.as_deref().map(&stored);
        let report_url = presign(&lake, &report_key).await;
        let diff_url = match &diff_key {
            Some(k) => presign(&lake, k).await,
            None => None,
        };
        let response = Response {
            status: "succeeded",
            function: function.name.to_string(),
            period: period.clone(),
            scenario,
            manifest_key: stored(&claimlake_lake::layout::run_manifest(&outcome.run_id)),
            run_id: outcome.run_id,
            rows: rows_by_table(&outcome.outputs),
            inputs: outcome.inputs,
            report_key,
            report_url,
            diff_key,
            diff_url,
        };
        tracing::info!(
            period = %period,
            run_id = %response.run_id,
            rows = ?response.rows,
            report_key = %response.report_key,
            "run succeeded"
        );
        Ok(response)
    }
    .instrument(span)
    .await
}

/// A presigned GET URL of `key` on an S3 lake. A run that succeeded stays a success when
/// signing fails: the report is still at its key.
async fn presign(lake: &Lake, key: &str) -> Option<String> {
    match lake.presigned_url(key).await {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(key, error = %e, "could not presign the report URL");
            None
        }
    }
}
