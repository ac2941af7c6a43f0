//! `claimlake`: the command line over the claimlake library. Every subcommand calls the same
//! library functions the Lambda functions call; this file only parses flags and prints.

mod commands;
mod explain;
mod recompute;
mod summary;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc returns freed Arrow buffers to the system; glibc malloc kept them resident, which
/// put a city settlement ~0.6 GiB above what it holds (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// claimlake settles and supervises a city's medical-insurance fund over a data lake of claims.
///
/// A lake is a local folder (default `./lake`) or `s3://bucket/prefix`. For S3-compatible
/// storage set CLAIMLAKE_S3_ENDPOINT (e.g. http://127.0.0.1:9000) and the usual AWS_*
/// credentials.
#[derive(Debug, Parser)]
#[command(name = "claimlake", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a synthetic lake: claims, items, registry, catalogue, assessments,
    /// investigations, a fitting policy file, and the ground truth of what was planted.
    Generate(commands::GenerateArgs),
    /// Validate one month's claims and items against the data contract: writes the quarantine
    /// partitions and a run manifest, prints the counts by quarantine reason.
    Validate(commands::ValidateArgs),
    /// Settle a month (or January..a month) under the regional point-method budget: writes
    /// point values, settlement lines, volume-price, statements, fund split, excluded claims,
    /// the report and the run manifest.
    Settle(commands::SettleArgs),
    /// Explain one institution's statement of a settled month: every figure traced to its
    /// points, point values, reductions and the rule that produced it, with arithmetic checks.
    Explain(explain::ExplainArgs),
    /// Run a quarter's warnings: operating indicators, associated patients, warned
    /// institutions and their yellow/red cards (the card ledger the settlement reads).
    Warn(commands::WarnArgs),
    /// Run the annual agreement assessment of a year (after December's settlement and Q4's
    /// warnings): 100-point scores, grades, decisions and the quality-guarantee release.
    Score(commands::ScoreArgs),
    /// Re-run the open (latest) month or quarter after a policy adjustment and replace it,
    /// writing reports/<kind>/<period>.diff.json; a closed period is refused (see `impact`).
    Recompute(recompute::RecomputeArgs),
    /// What a scenario's policy would have changed in closed months: recomputes the chain of
    /// months under it and reports the correction the next official settlement would carry.
    Impact(recompute::ImpactArgs),
    /// The demo: generate a `small` lake into ./lake, then settle every month and warn every
    /// quarter in order (cards act on the following months), score the year, with a closing
    /// summary.
    Demo(commands::DemoArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(a) => commands::generate(a).await,
        Command::Validate(a) => commands::validate(a).await,
        Command::Settle(a) => commands::settle(a).await,
        Command::Explain(a) => explain::explain(a).await,
        Command::Warn(a) => commands::warn(a).await,
        Command::Score(a) => commands::score(a).await,
        Command::Recompute(a) => recompute::recompute(a).await,
        Command::Impact(a) => recompute::impact(a).await,
        Command::Demo(a) => commands::demo(a).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
