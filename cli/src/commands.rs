//! The subcommands: flag parsing, progress, and printing around library calls.

use std::time::Instant;

use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::Month;
use claimlake_engine::ingest::MonthValidation;
use claimlake_engine::publish::PublishOptions;
use claimlake_engine::recompute::{PeriodStatus, month_status};
use claimlake_engine::runs::{self, RunOptions};
use claimlake_engine::settle::SettleOutcome;
use claimlake_engine::warn::WarnOutcome;
use claimlake_lake::{Lake, layout};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::summary;

/// A command's error: printed as one line, exit status 1.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Lake root to write into: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub out: String,
    /// Calendar year of the generated claims.
    #[arg(long, default_value_t = 2025)]
    pub year: i32,
    /// tiny (~20 institutions, ~2k claims/month), small (~200, ~50k) or city (~5,000, ~5M).
    #[arg(long, default_value = "small")]
    pub scale: String,
    /// Random seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Generate only the first N months (1..=12).
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Bad rows planted per 100,000 claims, spread over every quarantine reason.
    #[arg(long)]
    pub bad_rows_per_100k: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// Month to validate, YYYY-MM. Earlier months of the year without a ledger are validated
    /// first.
    #[arg(long)]
    pub month: String,
}

#[derive(Debug, Args)]
pub struct SettleArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// The month to settle, YYYY-MM (needs the previous month's official results).
    #[arg(long, conflicts_with = "through", required_unless_present = "through")]
    pub month: Option<String>,
    /// Settle January..this month (YYYY-MM) of its year, in order (months already settled and
    /// closed are kept).
    #[arg(long)]
    pub through: Option<String>,
    /// Settle in this scenario (under scenarios/NAME/): official inputs, never official results.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The scenario's policy file (with --scenario).
    #[arg(long, requires = "scenario")]
    pub policy: Option<String>,
}

#[derive(Debug, Args)]
pub struct WarnArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// The quarter, e.g. 2025Q1 (its three months must have claims).
    #[arg(long)]
    pub quarter: String,
    /// Run in this scenario (under scenarios/NAME/): official inputs, never official results.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The scenario's policy file (with --scenario).
    #[arg(long, requires = "scenario")]
    pub policy: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// The year to score (its twelve months settled and four quarters warned).
    #[arg(long)]
    pub year: i32,
    /// Run in this scenario (under scenarios/NAME/): official inputs, never official results.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The scenario's policy file (with --scenario).
    #[arg(long, requires = "scenario")]
    pub policy: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Lake root for the demo.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// Scale of the generated lake.
    #[arg(long, default_value = "small")]
    pub scale: String,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} {elapsed}")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

pub async fn generate(a: GenerateArgs) -> CliResult {
    let scale: Scale = a.scale.parse()?;
    let lake = Lake::open(&a.out)?;
    let mut cfg = GenConfig::new(a.year, scale, a.seed);
    cfg.months = 1..=a.months.clamp(1, 12);
    if let Some(r) = a.bad_rows_per_100k {
        cfg.bad_rows_per_100k = r;
    }
    let started = Instant::now();
    let pb = bar(0, "generate");
    let summary = claimlake_datagen::generate(&lake, &cfg, &|p| {
        pb.set_length(p.claims_total_estimate);
        pb.set_position(p.claims_written);
        pb.set_message(format!("month {:02}", p.month));
    })
    .await?;
    pb.finish_and_clear();
    println!(
        "generated {} claims, {} items, {} institutions ({} bad rows, {} planted suspicions) into {} in {:.1}s",
        summary.claims,
        summary.items,
        summary.institutions,
        summary.bad_rows,
        summary.planted_suspicions,
        lake.root(),
        started.elapsed().as_secs_f32()
    );
    Ok(())
}

/// Validates one month and writes its run manifest.
pub async fn validate_and_record(
    lake: &Lake,
    m: Month,
) -> Result<MonthValidation, Box<dyn std::error::Error>> {
    Ok(runs::validate(lake, m).await?.outcome)
}

/// Settles one month and writes its run manifest.
pub async fn settle_and_record(
    lake: &Lake,
    m: Month,
) -> Result<SettleOutcome, Box<dyn std::error::Error>> {
    Ok(runs::settle(lake, m).await?.outcome)
}

/// Run options from the `--scenario` and `--policy` flags (the policy file is read here).
pub fn run_options(
    scenario: Option<&str>,
    policy: Option<&str>,
) -> Result<RunOptions, Box<dyn std::error::Error>> {
    let mut opts = RunOptions {
        scenario: scenario.map(str::to_string),
        policy: None,
        publish: PublishOptions::from_env(),
    };
    if let Some(path) = policy {
        let bytes = std::fs::read(path).map_err(|e| format!("policy file {path}: {e}"))?;
        opts.policy = Some(bytes.into());
    }
    Ok(opts)
}

/// Prints where a run's report is and, on an S3 lake, a presigned URL to fetch it
/// (`CLAIMLAKE_PRESIGN_SECONDS`, one hour by default) for people without lake credentials.
pub async fn print_report(
    lake: &Lake,
    opts: &RunOptions,
    key: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let target = opts.target(lake)?;
    println!("  report: {}", target.root_key(key));
    if let Some(url) = target.presigned_url(key).await? {
        println!("  report URL: {url}");
    }
    Ok(())
}

pub fn print_settlement(o: &SettleOutcome) {
    let t = &o.report.totals;
    println!(
        "{} settled: {} institutions, {} claims settled, {} excluded; fund {} this month, paid {}, withheld {}, held {}",
        o.month,
        t.institutions,
        t.claims_settled_month,
        t.claims_excluded_month,
        t.fund_month,
        t.paid_month,
        t.withheld_month,
        t.held_month
    );
}

pub async fn settle(a: SettleArgs) -> CliResult {
    let lake = Lake::open(&a.lake)?;
    let (first, last) = match (&a.month, &a.through) {
        (Some(m), _) => {
            let m: Month = m.parse()?;
            (m, m)
        }
        (None, Some(t)) => {
            let t: Month = t.parse()?;
            (
                Month {
                    year: t.year,
                    month: 1,
                },
                t,
            )
        }
        (None, None) => return Err("give --month or --through".into()),
    };
    let opts = run_options(a.scenario.as_deref(), a.policy.as_deref())?;
    let mut m = first;
    loop {
        let closed = match month_status(&lake, m).await? {
            PeriodStatus::Closed { by } => Some(by),
            _ => None,
        };
        match closed {
            // `--through` settles what is missing; a single closed month is refused (and says why).
            Some(by) if a.through.is_some() && opts.scenario.is_none() => {
                println!("{m} already settled and closed (by {by}): kept");
            }
            _ => {
                let r = runs::settle_with(&lake, m, &opts).await?;
                print_settlement(&r.outcome);
                print_report(&lake, &opts, &layout::report("settlement", &m.to_string())).await?;
                if let Some(d) = &r.diff {
                    crate::recompute::print_diff(
                        d,
                        &claimlake_lake::layout::diff_report("settlement", &m.to_string()),
                    );
                }
            }
        }
        if m == last {
            break;
        }
        m = m.next();
    }
    Ok(())
}

pub async fn warn(a: WarnArgs) -> CliResult {
    let q: claimlake_domain::period::Quarter = a.quarter.parse()?;
    let lake = Lake::open(&a.lake)?;
    let opts = run_options(a.scenario.as_deref(), a.policy.as_deref())?;
    let r = runs::warn_with(&lake, q, &opts).await?;
    print_warnings(&r.outcome);
    print_report(&lake, &opts, &layout::report("warnings", &q.report_stem())).await?;
    if let Some(d) = &r.diff {
        crate::recompute::print_diff(
            d,
            &claimlake_lake::layout::diff_report("warnings", &q.report_stem()),
        );
    }
    Ok(())
}

pub fn print_warnings(o: &WarnOutcome) {
    let r = &o.report;
    println!(
        "{} warnings: {} institutions ({} eligible), {} operating-detected, {} associated, {} warned, {} top patients",
        r.period,
        r.institutions,
        r.eligible,
        r.operating_detected,
        r.associated,
        r.warned,
        r.top_patients
    );
    for c in &r.cards {
        println!(
            "    {} {:6} card: {} for {} month(s) from {} (yellow #{} of the year)",
            c.institution_id,
            c.color,
            c.effect,
            c.effect_months,
            c.effect_from_month,
            c.yellow_count_in_year
        );
    }
    for line in &o.rederived {
        println!("    {line}");
    }
}

pub async fn score(a: ScoreArgs) -> CliResult {
    let lake = Lake::open(&a.lake)?;
    let opts = run_options(a.scenario.as_deref(), a.policy.as_deref())?;
    let r = runs::score_with(&lake, a.year, &opts).await?;
    summary::print_scores(&r.outcome);
    print_report(&lake, &opts, &layout::report("scores", &a.year.to_string())).await?;
    if let Some(d) = &r.diff {
        crate::recompute::print_diff(
            d,
            &claimlake_lake::layout::diff_report("scores", &a.year.to_string()),
        );
    }
    Ok(())
}

fn print_validation(v: &MonthValidation) {
    for (name, c) in [("claims", &v.claims), ("claim_items", &v.items)] {
        println!(
            "{} {name}: read {}, used {}, netted {}, quarantined {}",
            v.month,
            c.read,
            c.used,
            c.netted,
            c.quarantined_total()
        );
        for (reason, n) in &c.quarantined {
            println!("    {reason:36} {n}");
        }
    }
}

pub async fn validate(a: ValidateArgs) -> CliResult {
    let m: Month = a.month.parse()?;
    let lake = Lake::open(&a.lake)?;
    let v = validate_and_record(&lake, m).await?;
    print_validation(&v);
    Ok(())
}

pub async fn demo(a: DemoArgs) -> CliResult {
    // The demo starts from a fresh lake: results of an earlier demo would close its months.
    let lake = Lake::open(&a.lake)?;
    for derived in [
        "results",
        "restricted",
        "reports",
        "runs",
        "history",
        "staging",
        "publish",
        "locks",
        "ledger",
        "quarantine",
        "scenarios",
    ] {
        lake.delete_prefix(derived).await?;
    }
    generate(GenerateArgs {
        out: a.lake.clone(),
        year: 2025,
        scale: a.scale,
        seed: a.seed,
        months: 12,
        bad_rows_per_100k: None,
    })
    .await?;
    let lake = Lake::open(&a.lake)?;
    // As in production: each month is settled, and each quarter's warnings run after its third
    // month, so their cards act on the following months' settlement.
    let pb = bar(17, "year");
    let mut settled = Vec::new();
    let mut warned = Vec::new();
    for month in 1..=12 {
        let m = Month { year: 2025, month };
        settled.push(settle_and_record(&lake, m).await?);
        pb.inc(1);
        if month % 3 == 0 {
            let q = m.quarter();
            warned.push(runs::warn(&lake, q).await?.outcome);
            pb.inc(1);
        }
    }
    let scored = runs::score(&lake, 2025).await?.outcome;
    pb.inc(1);
    pb.finish_and_clear();
    for o in &settled {
        print_validation(&o.validation);
    }
    for o in &settled {
        print_settlement(o);
    }
    for w in &warned {
        let r = &w.report;
        println!(
            "{} warnings: {} institutions, {} warned, cards: {}",
            r.period,
            r.institutions,
            r.warned,
            r.cards
                .iter()
                .map(|c| format!(
                    "{} {} from {}",
                    c.institution_id, c.color, c.effect_from_month
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(dec) = settled.last() {
        summary::print_year(&settled, dec);
    }
    summary::print_scores(&scored);
    println!("demo lake at {} (results/, reports/, runs/)", lake.root());
    Ok(())
}
