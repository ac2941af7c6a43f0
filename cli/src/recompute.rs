//! `recompute` and `impact`: re-running the open period after a policy adjustment, and what an
//! adjustment would change in closed months (policy.md, "Versions and recomputation").

use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::recompute::RowDiff;
use claimlake_engine::runs::{self, Diff, RunOptions};
use claimlake_engine::scenario::ImpactReport;
use claimlake_lake::Lake;
use clap::Args;

use crate::commands::{CliResult, print_report, print_settlement, print_warnings, run_options};

/// Lines of a table printed before "... N more (see the report)".
const MAX_LINES: usize = 40;

#[derive(Debug, Args)]
pub struct RecomputeArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// The open (latest settled) month to re-run, YYYY-MM.
    #[arg(long, conflicts_with_all = ["quarter", "year"], required_unless_present_any = ["quarter", "year"])]
    pub month: Option<String>,
    /// The open quarter whose warnings to re-run, e.g. 2025Q3 (its cards not yet in effect).
    #[arg(long, conflicts_with = "year")]
    pub quarter: Option<String>,
    /// The open year whose scores to re-run (open until the next year is scored).
    #[arg(long)]
    pub year: Option<i32>,
    /// Recompute in this scenario (under scenarios/NAME/) instead of the official results.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The scenario's policy file (with --scenario).
    #[arg(long, requires = "scenario")]
    pub policy: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// The scenario (its results go under scenarios/NAME/).
    #[arg(long)]
    pub scenario: String,
    /// The scenario's policy file; without it, the one the scenario was given before.
    #[arg(long)]
    pub policy: Option<String>,
    /// First month of the chain to recompute, YYYY-MM (the months before keep their official
    /// results).
    #[arg(long)]
    pub from: String,
}

/// Prints the rows of a diff that changed, with one figure's old, new and delta.
fn print_changed(rows: &[RowDiff], label: &str, figure: &str) {
    let changed: Vec<&RowDiff> = rows.iter().filter(|r| r.changed).collect();
    println!("    {} {label} changed", changed.len());
    for r in changed.iter().take(MAX_LINES) {
        let key: Vec<String> = r
            .key
            .values()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect();
        let get = |side: &Option<serde_json::Map<String, serde_json::Value>>| {
            side.as_ref()
                .and_then(|m| m.get(figure))
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .unwrap_or_else(|| "-".into())
        };
        let delta = r
            .delta
            .get(figure)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default();
        println!(
            "    {:28} {figure} {:>16} -> {:>16}  {:>14}",
            key.join(" "),
            get(&r.old),
            get(&r.new),
            delta
        );
    }
    if changed.len() > MAX_LINES {
        println!("    ... {} more", changed.len() - MAX_LINES);
    }
}

pub fn print_diff(diff: &Diff, key: &str) {
    match diff {
        Diff::Settlement(d) => {
            println!(
                "  replaced the results of run {} (policy v{} -> v{}); diff in {key}",
                d.replaced_run.as_deref().unwrap_or("(unrecorded)"),
                d.old_policy
                    .as_ref()
                    .map(|p| p.version.to_string())
                    .unwrap_or_else(|| "?".into()),
                d.new_policy.version
            );
            print_changed(&d.institutions, "statements", "fund_month");
            print_changed(&d.point_values, "point values", "point_value");
        }
        Diff::Warnings(d) => {
            println!(
                "  replaced the warnings of run {}; diff in {key}",
                d.replaced_run.as_deref().unwrap_or("(unrecorded)")
            );
            print_changed(&d.institutions, "institutions' warnings", "warned");
            print_changed(&d.cards, "cards", "effect_from_month");
        }
        Diff::Scores(d) => {
            println!(
                "  replaced the scores of run {}; diff in {key}",
                d.replaced_run.as_deref().unwrap_or("(unrecorded)")
            );
            print_changed(&d.institutions, "institutions' scores", "total");
        }
    }
}

pub async fn recompute(a: RecomputeArgs) -> CliResult {
    let lake = Lake::open(&a.lake)?;
    let opts = run_options(a.scenario.as_deref(), a.policy.as_deref())?;
    if let Some(m) = &a.month {
        let m: Month = m.parse()?;
        let r = runs::recompute_month(&lake, m, &opts).await?;
        print_settlement(&r.outcome);
        print_report(
            &lake,
            &opts,
            &claimlake_lake::layout::report("settlement", &m.to_string()),
        )
        .await?;
        if r.diff.is_some() {
            print_report(
                &lake,
                &opts,
                &claimlake_lake::layout::diff_report("settlement", &m.to_string()),
            )
            .await?;
        }
        if let Some(d) = &r.diff {
            print_diff(
                d,
                &claimlake_lake::layout::diff_report("settlement", &m.to_string()),
            );
        }
    } else if let Some(q) = &a.quarter {
        let q: Quarter = q.parse()?;
        let r = runs::recompute_quarter(&lake, q, &opts).await?;
        print_warnings(&r.outcome);
        print_report(
            &lake,
            &opts,
            &claimlake_lake::layout::report("warnings", &q.report_stem()),
        )
        .await?;
        if r.diff.is_some() {
            print_report(
                &lake,
                &opts,
                &claimlake_lake::layout::diff_report("warnings", &q.report_stem()),
            )
            .await?;
        }
        if let Some(d) = &r.diff {
            print_diff(
                d,
                &claimlake_lake::layout::diff_report("warnings", &q.report_stem()),
            );
        }
    } else if let Some(y) = a.year {
        let r = runs::recompute_year(&lake, y, &opts).await?;
        crate::summary::print_scores(&r.outcome);
        print_report(
            &lake,
            &opts,
            &claimlake_lake::layout::report("scores", &y.to_string()),
        )
        .await?;
        if r.diff.is_some() {
            print_report(
                &lake,
                &opts,
                &claimlake_lake::layout::diff_report("scores", &y.to_string()),
            )
            .await?;
        }
        if let Some(d) = &r.diff {
            print_diff(
                d,
                &claimlake_lake::layout::diff_report("scores", &y.to_string()),
            );
        }
    }
    Ok(())
}

fn opt(d: Option<rust_decimal::Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

pub fn print_impact(r: &ImpactReport) {
    println!(
        "scenario {}: months {}..{} recomputed (policy v{} vs official v{})",
        r.scenario,
        r.from,
        r.latest_settled,
        r.scenario_policy
            .as_ref()
            .map(|p| p.version.to_string())
            .unwrap_or_else(|| "?".into()),
        r.official_policy
            .as_ref()
            .map(|p| p.version.to_string())
            .unwrap_or_else(|| "?".into()),
    );
    println!(
        "  {:12} {:>18} {:>18} {:>16}",
        "institution", "official fund_cum", "scenario fund_cum", "correction"
    );
    let changed: Vec<_> = r
        .institutions
        .iter()
        .filter(|i| !i.correction.is_zero())
        .collect();
    for i in changed.iter().take(MAX_LINES) {
        println!(
            "  {:12} {:>18} {:>18} {:>16}",
            i.institution_id, i.official_fund_cum, i.scenario_fund_cum, i.correction
        );
    }
    if changed.len() > MAX_LINES {
        println!("  ... {} more", changed.len() - MAX_LINES);
    }
    println!(
        "  total correction {} over {} institution(s)",
        r.total_correction,
        changed.len()
    );
    println!(
        "  point values in {}: {:34} {:>10} {:>10} {:>10}",
        r.latest_settled, "cell", "official", "scenario", "delta"
    );
    for c in r
        .point_values
        .iter()
        .filter(|c| c.month == r.latest_settled)
    {
        println!(
            "  {:>49} {:>10} {:>10} {:>10}",
            format!("{}/{}/{}", c.payment_class, c.budget_class, c.fee_class),
            opt(c.official_point_value),
            opt(c.scenario_point_value),
            opt(c.point_value_delta)
        );
    }
    for n in &r.notes {
        println!("  {n}");
    }
}

pub async fn impact(a: ImpactArgs) -> CliResult {
    let lake = Lake::open(&a.lake)?;
    let from: Month = a.from.parse()?;
    let opts: RunOptions = run_options(Some(&a.scenario), a.policy.as_deref())?;
    let r = claimlake_engine::scenario::impact(&lake, &a.scenario, from, &opts).await?;
    print_impact(&r.outcome);
    println!(
        "  report: {}/scenarios/{}/{}",
        lake.root(),
        a.scenario,
        claimlake_lake::layout::report("impact", &r.outcome.latest_settled)
    );
    Ok(())
}
