//! Scenarios (policy.md, "Versions and recomputation"): a run with `--scenario NAME` and an
//! alternative policy file writes the same layout under `scenarios/NAME/` and never touches the
//! official results (`claimlake_lake::scenario`). [`impact`] recomputes the chain of closed
//! months under the scenario's policy and reports, per institution, the correction the next
//! official settlement will carry if the policy is adopted.
//!
//! Why the correction is the difference of cumulative fund settlement at the latest settled
//! month `L`: every month pays `fund_month = fund_cum(m) - fund_cum(m-1)`, and `fund_cum(m)` is
//! built from months 1..m alone. So when the new version is adopted for month `L+1`, it pays
//! `fund_cum_new(L+1) - fund_cum_official(L)` = what `L+1` pays under the new version all along
//! (`fund_cum_new(L+1) - fund_cum_new(L)`) + the correction
//! `fund_cum_new(L) - fund_cum_official(L)`.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use bytes::Bytes;
use claimlake_domain::period::Month;
use claimlake_domain::policy::Policy;
use claimlake_lake::{Lake, layout};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::cells::{decimal, text};
use crate::error::{EngineError, Result};
use crate::manifest::PolicyRef;
use crate::publish::{self, Computed};
use crate::recompute::{self, read_table};
use crate::runs::{Recorded, RunOptions};

/// Stores `bytes` as scenario `lake`'s policy file (`policy/<year>.toml` of its space) after
/// validating it. When it differs from the policy the scenario used so far (its own, or the
/// official one it fell back to), the scenario's results, restricted tables and reports are
/// removed: they were computed under another policy and a chain must not mix the two.
pub async fn set_policy(lake: &Lake, bytes: &[u8]) -> Result<PolicyRef> {
    let Some(name) = lake.scenario_name() else {
        return Err(EngineError::Precondition(
            "a policy file is for scenarios only: an official adjustment is a new version of \
             policy/YYYY.toml in the lake"
                .into(),
        ));
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        EngineError::Precondition(format!(
            "scenario {name}: the policy file is not UTF-8: {e}"
        ))
    })?;
    let policy = Policy::from_toml_str(text, None)
        .map_err(|e| EngineError::Precondition(format!("scenario {name}: policy file: {e}")))?;
    let year = policy.policy.year;
    let key = layout::policy(year);
    if lake.get_opt(&key).await?.as_deref() != Some(bytes) {
        let own = lake.own_lake();
        for prefix in ["results", "restricted", "reports"] {
            own.delete_prefix(prefix).await?;
        }
        own.put(&key, Bytes::copy_from_slice(bytes)).await?;
    }
    Ok(PolicyRef {
        year,
        version: policy.policy.version as i64,
        sha256: claimlake_lake::write::sha256_hex(bytes),
    })
}

/// One institution's correction.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstitutionImpact {
    pub institution_id: String,
    pub official_fund_cum: Decimal,
    pub scenario_fund_cum: Decimal,
    /// `scenario_fund_cum - official_fund_cum`: added to (or clawed back from) the next official
    /// settlement's `fund_month` when the scenario's policy is adopted.
    pub correction: Decimal,
    pub official_settlement_cum: Decimal,
    pub scenario_settlement_cum: Decimal,
}

/// One cell's point values in one month, official and under the scenario.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CellImpact {
    pub month: String,
    pub payment_class: String,
    pub budget_class: String,
    pub fee_class: String,
    pub official_point_value: Option<Decimal>,
    pub scenario_point_value: Option<Decimal>,
    pub point_value_delta: Option<Decimal>,
    pub official_item_point_value: Option<Decimal>,
    pub scenario_item_point_value: Option<Decimal>,
}

/// `scenarios/<name>/reports/impact/<latest settled month>.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    pub scenario: String,
    pub from: String,
    /// The latest officially settled month (the open one): the corrections are as of it.
    pub latest_settled: String,
    /// The month whose settlement would carry the corrections (none after December).
    pub carried_by: Option<String>,
    pub official_policy: Option<PolicyRef>,
    pub scenario_policy: Option<PolicyRef>,
    pub total_correction: Decimal,
    pub institutions: Vec<InstitutionImpact>,
    /// Per cell and month of the chain, in month then cell order.
    pub point_values: Vec<CellImpact>,
    pub notes: Vec<String>,
}

/// The latest settled month of `year` in the official lake, refusing a year already closed.
async fn latest_settled(lake: &Lake, year: i32) -> Result<Option<Month>> {
    let next_jan = Month {
        year: year + 1,
        month: 1,
    };
    if lake
        .exists(&layout::monthly_result("statements", next_jan))
        .await?
    {
        return Err(EngineError::Precondition(format!(
            "{year} is closed: {next_jan} has been settled, and cumulative settlement restarts \
             each year, so no later settlement can carry a correction of {year}"
        )));
    }
    let mut latest = None;
    for month in 1..=12 {
        let m = Month { year, month };
        if lake
            .exists(&layout::monthly_result("statements", m))
            .await?
        {
            latest = Some(m);
        }
    }
    Ok(latest)
}

/// (fund_cum, settlement_cum) per institution of a statements table.
fn fund_cums(batches: &[RecordBatch]) -> BTreeMap<String, (Decimal, Decimal)> {
    let mut out = BTreeMap::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.insert(
                text(b, "institution_id", i),
                (
                    decimal(b, "fund_cum", i).unwrap_or_default(),
                    decimal(b, "settlement_cum", i).unwrap_or_default(),
                ),
            );
        }
    }
    out
}

type CellKey = (String, String, String);

/// (point_value, item_point_value) per cell of a point-values table.
fn cell_values(batches: &[RecordBatch]) -> BTreeMap<CellKey, (Option<Decimal>, Option<Decimal>)> {
    let mut out = BTreeMap::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.insert(
                (
                    text(b, "payment_class", i),
                    text(b, "budget_class", i),
                    text(b, "fee_class", i),
                ),
                (
                    decimal(b, "point_value", i),
                    decimal(b, "item_point_value", i),
                ),
            );
        }
    }
    out
}

/// `impact --scenario NAME --from YYYY-MM`: settles months `from`..latest of the year in the
/// scenario (its chain starts from the official month before `from`: the scenario's own months
/// before `from` are removed) and reports the corrections (see the module docs). With
/// `opts.policy`, the scenario's policy file is set first.
pub async fn impact(
    lake: &Lake,
    name: &str,
    from: Month,
    opts: &RunOptions,
) -> Result<Recorded<ImpactReport>> {
    let Some(latest) = latest_settled(lake, from.year).await? else {
        return Err(EngineError::Precondition(format!(
            "no month of {} has been settled in {}: there is nothing to compare",
            from.year,
            lake.root()
        )));
    };
    if from > latest {
        return Err(EngineError::Precondition(format!(
            "--from {from} is after the latest settled month {latest}: an impact compares \
             months already settled"
        )));
    }
    let scenario = lake.scenario(name)?;
    let chain_opts = RunOptions {
        scenario: Some(name.to_string()),
        policy: None,
        publish: opts.publish.clone(),
    };
    let policy = opts.policy.clone();
    let official = lake.clone();
    let view = scenario.clone();
    let p = publish::run(
        &scenario,
        "impact",
        &latest.to_string(),
        &opts.publish,
        |staged| async move {
            if let Some(bytes) = &policy {
                set_policy(&view, bytes).await?;
            }
            let own = view.own_lake();
            // The chain starts from what was actually paid before `from`.
            for month in 1..from.month {
                let m = Month {
                    year: from.year,
                    month,
                };
                for t in crate::settle::TABLES {
                    own.delete_prefix(
                        layout::monthly_result(t, m).trim_end_matches("/data.parquet"),
                    )
                    .await?;
                }
                own.delete(&layout::report("settlement", &m.to_string()))
                    .await?;
                own.delete(&layout::diff_report("settlement", &m.to_string()))
                    .await?;
            }
            let mut m = from;
            loop {
                crate::runs::settle_with(&official, m, &chain_opts).await?;
                if m == latest {
                    break;
                }
                m = m.next();
            }
            let report = build_report(&official, &view, name, from, latest).await?;
            staged
                .write_json(&layout::report("impact", &latest.to_string()), &report)
                .await?;
            let mut c = Computed::new((report.clone(), None));
            c.policy = report.scenario_policy.clone();
            Ok(c)
        },
    )
    .await?;
    let (outcome, diff) = p.outcome;
    Ok(Recorded {
        run_id: p.run_id,
        outcome,
        manifest: p.manifest,
        diff,
    })
}

async fn build_report(
    official: &Lake,
    scenario: &Lake,
    name: &str,
    from: Month,
    latest: Month,
) -> Result<ImpactReport> {
    let own = scenario.own_lake();
    let statements = layout::monthly_result("statements", latest);
    let off = fund_cums(&read_table(official, &statements).await?.unwrap_or_default());
    let scn = fund_cums(&read_table(&own, &statements).await?.unwrap_or_default());
    let mut institutions = Vec::new();
    let ids: std::collections::BTreeSet<&String> = off.keys().chain(scn.keys()).collect();
    for id in ids {
        let (of, os) = off.get(id).copied().unwrap_or_default();
        let (sf, ss) = scn.get(id).copied().unwrap_or_default();
        institutions.push(InstitutionImpact {
            institution_id: id.clone(),
            official_fund_cum: of,
            scenario_fund_cum: sf,
            correction: sf - of,
            official_settlement_cum: os,
            scenario_settlement_cum: ss,
        });
    }
    let mut point_values = Vec::new();
    let mut m = from;
    loop {
        let key = layout::monthly_result("point_values", m);
        let off = cell_values(&read_table(official, &key).await?.unwrap_or_default());
        let scn = cell_values(&read_table(&own, &key).await?.unwrap_or_default());
        let cells: std::collections::BTreeSet<&CellKey> = off.keys().chain(scn.keys()).collect();
        for cell in cells {
            let (opv, oipv) = off.get(cell).copied().unwrap_or_default();
            let (spv, sipv) = scn.get(cell).copied().unwrap_or_default();
            point_values.push(CellImpact {
                month: m.to_string(),
                payment_class: cell.0.clone(),
                budget_class: cell.1.clone(),
                fee_class: cell.2.clone(),
                official_point_value: opv,
                scenario_point_value: spv,
                point_value_delta: opv.zip(spv).map(|(o, s)| s - o),
                official_item_point_value: oipv,
                scenario_item_point_value: sipv,
            });
        }
        if m == latest {
            break;
        }
        m = m.next();
    }
    let report_key = layout::report("settlement", &latest.to_string());
    let total_correction = institutions.iter().map(|i| i.correction).sum();
    let mut notes = Vec::new();
    let changed = institutions
        .iter()
        .filter(|i| !i.correction.is_zero())
        .count();
    let carried_by = if latest.month == 12 {
        notes.push(format!(
            "{latest} is the last month of {}: cumulative settlement restarts in January, so no \
             later settlement carries these corrections",
            latest.year
        ));
        None
    } else {
        notes.push(format!(
            "{changed} institution(s) get a correction; the settlement of {} carries it if the \
             scenario's policy is adopted as the next version of policy/{}.toml",
            latest.next(),
            latest.year
        ));
        Some(latest.next().to_string())
    };
    Ok(ImpactReport {
        scenario: name.to_string(),
        from: from.to_string(),
        latest_settled: latest.to_string(),
        carried_by,
        official_policy: recompute::report_policy(official, &report_key).await?,
        scenario_policy: recompute::report_policy(&own, &report_key).await?,
        total_correction,
        institutions,
        point_values,
        notes,
    })
}
