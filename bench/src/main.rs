//! `claimlake-bench`: times claimlake's computations on a generated lake and compares each with
//! its scan floor (bench/README.md).
//!
//! Every figure comes from running the real `claimlake` binary as a child process, so wall time,
//! CPU time and peak RSS are that command's own. The lake is generated once per (scale, seed) and
//! kept in the cache folder; before each run the bench removes everything claimlake wrote, so a
//! run always starts from the same inputs.

mod error;
mod floor;
mod measure;
mod plan;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{BenchError, Result};

#[derive(Debug, Parser)]
#[command(
    name = "claimlake-bench",
    about = "Benchmarks of claimlake against the scan floor"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// city: one generated quarter of a ~5M-claims-a-month city (validate, settle January and
    /// March, warn Q1, and their scan floors); small: the whole small year (12 settlements,
    /// 4 quarters, the annual score) and the December/January ratio.
    #[arg(long, default_value = "city")]
    scale: String,
    /// Generator seed (the cached lake is per scale and seed).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where generated lakes and logs are kept between runs.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// The claimlake binary to measure (default: beside this one).
    #[arg(long)]
    claimlake: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Internal: reads the columns a computation reads (the scan floor); the bench runs it as a
    /// child process to measure it like the computation itself.
    Floor {
        #[arg(long)]
        lake: String,
        /// settle or warn
        #[arg(long)]
        kind: String,
        /// 2025-01 (settle) or 2025Q1 (warn)
        #[arg(long)]
        period: String,
    },
}

fn main() {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Floor { lake, kind, period }) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| BenchError::Io("tokio runtime".into(), e))
            .and_then(|rt| rt.block_on(floor::run(&lake, &kind, &period))),
        None => run(cli.scale, cli.seed, cli.cache, cli.claimlake),
    };
    if let Err(e) = outcome {
        eprintln!("claimlake-bench: {e}");
        std::process::exit(1);
    }
}

fn run(scale: String, seed: u64, cache: Option<PathBuf>, claimlake: Option<PathBuf>) -> Result<()> {
    let me = std::env::current_exe().map_err(|e| BenchError::Io("current_exe".into(), e))?;
    let claimlake = claimlake.unwrap_or_else(|| me.with_file_name("claimlake"));
    if !claimlake.exists() {
        return Err(BenchError::Usage(format!(
            "{} not found: build it first (bench/run.sh does) or pass --claimlake",
            claimlake.display()
        )));
    }
    let cache = cache.unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".cache/claimlake/bench")
    });
    let plan = match scale.as_str() {
        "city" => plan::city(),
        "small" => plan::small(),
        other => {
            return Err(BenchError::Usage(format!(
                "unknown scale `{other}` (city or small)"
            )));
        }
    };
    plan::execute(
        &plan,
        &plan::Tools {
            claimlake,
            bench: me,
        },
        &cache,
        seed,
    )
}
