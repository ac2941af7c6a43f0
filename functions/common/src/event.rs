//! The event a function receives.
//!
//! Scheduled (EventBridge Scheduler's input, see `infra/template.yaml`):
//! `{"lake": "s3://bucket/lake", "period": "auto", "scheduled_time": "<aws.scheduler.scheduled-time>"}`.
//! On demand: `{"period": "2025-03", "scenario": "drug-plus-5", "policy": "policy/scenarios/drug-plus-5.toml"}`
//! (a what-if run under `scenarios/<name>/`), or `{"period": "2025-09", "recompute": true}` (the
//! open period re-run under the lake's current policy version and replaced, with a diff report).
//! `lake` may be left out when the function has `CLAIMLAKE_LAKE` set. Unknown fields are
//! refused, so a misspelt `"perod"` fails loudly instead of running the wrong period.

use chrono::{DateTime, Utc};
use claimlake_engine::publish::PublishOptions;
use claimlake_engine::runs::RunOptions;
use claimlake_lake::Lake;
use serde::Deserialize;

use crate::clock::{Period, PeriodKind, Zone, closed_period};
use crate::error::{ErrorClass, FunctionError};

/// The event as sent.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Lake root (`s3://bucket/prefix` or a folder); defaults to `CLAIMLAKE_LAKE`.
    #[serde(default)]
    pub lake: Option<String>,
    /// `"auto"` or an explicit period (`2025-03`, `2025Q1`, `2025`).
    pub period: String,
    /// For `"auto"`: the instant the schedule fired (RFC 3339); the current time when absent.
    #[serde(default)]
    pub scheduled_time: Option<String>,
    /// A what-if run under `scenarios/<name>/`, never touching official results.
    #[serde(default)]
    pub scenario: Option<String>,
    /// An alternative policy file (lake-relative key) for a scenario or a recomputation.
    #[serde(default)]
    pub policy: Option<String>,
    /// Re-run the latest open period (e.g. under a new policy version), with a diff report.
    #[serde(default)]
    pub recompute: bool,
}

/// A validated request: the period resolved, the options checked, the lake opened.
#[derive(Debug, Clone)]
pub struct Request {
    pub lake: Lake,
    pub period: Period,
    pub scenario: Option<String>,
    pub policy: Option<String>,
    pub recompute: bool,
}

impl Request {
    /// The engine's run options: the scenario, and the scenario's policy file read from the
    /// lake (`policy` is a lake-relative key, e.g. `policy/scenarios/drug-plus-5.toml`).
    pub async fn run_options(&self) -> Result<RunOptions, FunctionError> {
        let mut opts = RunOptions {
            scenario: self.scenario.clone(),
            policy: None,
            publish: PublishOptions::from_env(),
        };
        if let Some(key) = &self.policy {
            let bytes = self.lake.get_opt(key).await?.ok_or_else(|| {
                FunctionError::permanent(
                    ErrorClass::Policy,
                    format!(
                        "policy file {key} not found in the lake {} (the event's \"policy\" is a \
                         key inside the lake)",
                        self.lake.root()
                    ),
                )
            })?;
            opts.policy = Some(bytes);
        }
        Ok(opts)
    }

    /// The key of `key` (a report or manifest) as stored: under `scenarios/<name>/` for a
    /// scenario run.
    pub fn stored_key(&self, key: &str) -> String {
        match &self.scenario {
            Some(name) => format!("{}/{key}", claimlake_lake::layout::scenario(name)),
            None => key.to_string(),
        }
    }
}

impl Event {
    /// Parses an event, naming the offending field.
    pub fn from_json(value: serde_json::Value) -> Result<Event, FunctionError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                FunctionError::bad_event(format!("event: {inner}"))
            } else {
                FunctionError::bad_event(format!("event field \"{path}\": {inner}"))
            }
        })
    }

    /// The lake root: the event's, else `default`.
    pub fn lake_root<'a>(&'a self, default: Option<&'a str>) -> Result<&'a str, FunctionError> {
        self.lake.as_deref().or(default).ok_or_else(|| {
            FunctionError::bad_event(
                "event: no \"lake\" and the function has no CLAIMLAKE_LAKE to fall back on",
            )
        })
    }

    /// Resolves the period (`auto` in `zone`, at the scheduled time or `now`) and validates the
    /// scenario name and policy key.
    pub fn resolve(
        &self,
        kind: PeriodKind,
        zone: Zone,
        now: DateTime<Utc>,
    ) -> Result<(Period, Option<String>, Option<String>), FunctionError> {
        let period = if self.period == "auto" {
            let at = match &self.scheduled_time {
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .map_err(|e| {
                        FunctionError::bad_event(format!(
                            "field \"scheduled_time\": {t:?} is not an RFC 3339 time ({e})"
                        ))
                    })?
                    .with_timezone(&Utc),
                None => now,
            };
            closed_period(kind, at, zone)
        } else {
            if self.scheduled_time.is_some() {
                return Err(FunctionError::bad_event(
                    "field \"scheduled_time\" only goes with \"period\": \"auto\"",
                ));
            }
            Period::parse(kind, &self.period)?
        };
        if let Some(s) = &self.scenario {
            let ok = !s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !ok {
                return Err(FunctionError::bad_event(format!(
                    "field \"scenario\": {s:?} must be 1-64 characters of a-z, 0-9, - and _ \
                     (it names the folder scenarios/<name>/)"
                )));
            }
        }
        if let Some(p) = &self.policy {
            let ok = p.ends_with(".toml")
                && !p.starts_with('/')
                && !p.contains("://")
                && !p
                    .split('/')
                    .any(|seg| seg.is_empty() || seg == "." || seg == "..");
            if !ok {
                return Err(FunctionError::bad_event(format!(
                    "field \"policy\": {p:?} must be a key inside the lake ending in .toml, \
                     e.g. \"policy/scenarios/drug-plus-5.toml\""
                )));
            }
            if self.scenario.is_none() {
                return Err(FunctionError::bad_event(
                    "field \"policy\" needs \"scenario\" (a what-if run): an official policy \
                     adjustment is a new version of policy/YYYY.toml in the lake, applied with \
                     \"recompute\": true",
                ));
            }
        }
        Ok((period, self.scenario.clone(), self.policy.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sh() -> Zone {
        Zone::parse("Asia/Shanghai").unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-15T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn scheduled_event_uses_the_schedules_time() {
        let e = Event::from_json(json!({
            "lake": "s3://b/lake", "period": "auto", "scheduled_time": "2025-04-04T18:00:00Z"
        }))
        .unwrap();
        let (p, s, pol) = e.resolve(PeriodKind::Month, sh(), now()).unwrap();
        assert_eq!(p.to_string(), "2025-03");
        assert_eq!((s, pol), (None, None));
        assert_eq!(e.lake_root(None).unwrap(), "s3://b/lake");
        // Without the schedule's time, "auto" means the month before now.
        let e = Event::from_json(json!({"period": "auto"})).unwrap();
        let (p, _, _) = e.resolve(PeriodKind::Month, sh(), now()).unwrap();
        assert_eq!(p.to_string(), "2025-05");
        assert_eq!(e.lake_root(Some("s3://d")).unwrap(), "s3://d");
        assert_eq!(
            e.lake_root(None).unwrap_err().error_type(),
            "NonRetryable.BadEvent"
        );
    }

    #[test]
    fn on_demand_event_with_scenario_and_policy() {
        let e = Event::from_json(json!({
            "period": "2025-03", "scenario": "drug-plus-5",
            "policy": "policy/scenarios/drug-plus-5.toml"
        }))
        .unwrap();
        let (p, s, pol) = e.resolve(PeriodKind::Month, sh(), now()).unwrap();
        assert_eq!(p.to_string(), "2025-03");
        assert_eq!(s.as_deref(), Some("drug-plus-5"));
        assert_eq!(pol.as_deref(), Some("policy/scenarios/drug-plus-5.toml"));
    }

    #[test]
    fn bad_events_are_refused_naming_the_field() {
        let cases = [
            (json!({"perod": "auto"}), "perod"),
            (json!({"period": 3}), "period"),
            (json!({"period": "2025-13"}), "period"),
            (
                json!({"period": "2025-03", "scheduled_time": "2025-04-04T18:00:00Z"}),
                "scheduled_time",
            ),
            (
                json!({"period": "auto", "scheduled_time": "yesterday"}),
                "scheduled_time",
            ),
            (
                json!({"period": "2025-03", "scenario": "Bad Name"}),
                "scenario",
            ),
            (
                json!({"period": "2025-03", "scenario": "a", "policy": "../x.toml"}),
                "policy",
            ),
            (
                json!({"period": "2025-03", "policy": "policy/2025.toml"}),
                "policy",
            ),
            (
                json!({"period": "2025-03", "policy": "policy/2025.toml", "recompute": true}),
                "policy",
            ),
        ];
        for (event, field) in cases {
            let err = Event::from_json(event.clone())
                .and_then(|e| e.resolve(PeriodKind::Month, sh(), now()).map(|_| ()))
                .unwrap_err();
            assert_eq!(err.error_type(), "NonRetryable.BadEvent", "{event}");
            assert!(err.message.contains(field), "{event}: {}", err.message);
        }
    }
}
