//! What each scale measures, in order, and the table it prints.

use std::path::{Path, PathBuf};

use crate::error::{BenchError, Result};
use crate::measure::{self, Cost};

/// Inputs of a lake; everything else at its root was written by claimlake and is removed by
/// [`Step::Reset`].
const INPUTS: [&str; 7] = [
    "claims",
    "claim_items",
    "reference",
    "inputs",
    "policy",
    "truth",
    ".bench-complete",
];

/// One step of a plan.
pub enum Step {
    /// Remove every output so the next step starts from the inputs alone.
    Reset,
    /// Run `claimlake <args> --lake LAKE`; with `floor`, first measure the scan floor of
    /// (computation, period) and print the ratio.
    Run {
        label: String,
        args: Vec<String>,
        floor: Option<(&'static str, String)>,
        /// Skipped (with a note) when the claimlake binary lacks this subcommand.
        optional: bool,
    },
}

pub struct Plan {
    pub scale: &'static str,
    pub months: u32,
    pub steps: Vec<Step>,
}

pub struct Tools {
    pub claimlake: PathBuf,
    pub bench: PathBuf,
}

fn run(label: &str, args: &[&str], floor: Option<(&'static str, &str)>) -> Step {
    Step::Run {
        label: label.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        floor: floor.map(|(k, p)| (k, p.to_string())),
        optional: false,
    }
}

/// One quarter of the city: validate a month, settle January and March (February official in
/// between), March again with its validation record reused, warn Q1.
pub fn city() -> Plan {
    Plan {
        scale: "city",
        months: 3,
        steps: vec![
            Step::Reset,
            run(
                "validate 2025-01",
                &["validate", "--month", "2025-01"],
                Some(("settle", "2025-01")),
            ),
            Step::Reset,
            run(
                "settle 2025-01",
                &["settle", "--month", "2025-01"],
                Some(("settle", "2025-01")),
            ),
            run("settle 2025-02", &["settle", "--month", "2025-02"], None),
            run(
                "settle 2025-03",
                &["settle", "--month", "2025-03"],
                Some(("settle", "2025-03")),
            ),
            // March settled again with its validation record current (as after `validate`, or
            // in a recomputation after a policy adjustment): the settlement without validation.
            run(
                "settle 2025-03 again, record reused",
                &["recompute", "--month", "2025-03"],
                Some(("settle-reused", "2025-03")),
            ),
            run(
                "warn 2025Q1",
                &["warn", "--quarter", "2025Q1"],
                Some(("warn", "2025Q1")),
            ),
        ],
    }
}

/// The whole small year as production runs it, then the annual score.
pub fn small() -> Plan {
    let mut steps = vec![Step::Reset];
    for m in 1..=12u32 {
        let month = format!("2025-{m:02}");
        let floor = (m == 1 || m == 12).then_some(("settle", month.as_str()));
        steps.push(run(
            &format!("settle {month}"),
            &["settle", "--month", &month],
            floor,
        ));
        if m % 3 == 0 {
            let q = format!("2025Q{}", m / 3);
            let floor = (m == 3).then_some(("warn", q.as_str()));
            steps.push(run(&format!("warn {q}"), &["warn", "--quarter", &q], floor));
        }
    }
    steps.push(Step::Run {
        label: "score 2025".into(),
        args: vec!["score".into(), "--year".into(), "2025".into()],
        floor: None,
        optional: true,
    });
    Plan {
        scale: "small",
        months: 12,
        steps,
    }
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |e| BenchError::Io(what.display().to_string(), e)
}

fn reset(lake: &Path) -> Result<()> {
    for entry in std::fs::read_dir(lake).map_err(io(lake))? {
        let entry = entry.map_err(io(lake))?;
        let name = entry.file_name();
        if INPUTS.iter().any(|i| name == *i) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        } else {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

fn has_subcommand(claimlake: &Path, name: &str) -> bool {
    std::process::Command::new(claimlake)
        .args([name, "--help"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores, {mem_gib:.1} GiB memory")
}

/// Generates the lake if the cache lacks it, runs the plan and prints the table.
pub fn execute(plan: &Plan, tools: &Tools, cache: &Path, seed: u64) -> Result<()> {
    let lake = cache.join(format!("{}-seed{seed}", plan.scale));
    let log = cache.join(format!("{}-seed{seed}.log", plan.scale));
    std::fs::create_dir_all(cache).map_err(io(cache))?;
    let lake_arg = lake.display().to_string();
    if !lake.join(".bench-complete").exists() {
        eprintln!(
            "generating the {} lake (seed {seed}, {} months) into {lake_arg}; log: {}",
            plan.scale,
            plan.months,
            log.display()
        );
        if lake.exists() {
            std::fs::remove_dir_all(&lake).map_err(io(&lake))?;
        }
        let args: Vec<String> = [
            "generate",
            "--out",
            &lake_arg,
            "--scale",
            plan.scale,
            "--seed",
            &seed.to_string(),
            "--months",
            &plan.months.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cost = measure::run(&tools.claimlake, &args, &log, &[])?;
        eprintln!("generated in {:.0} s", cost.wall_s);
        std::fs::write(lake.join(".bench-complete"), b"").map_err(io(&lake))?;
    }

    println!(
        "claimlake-bench: scale {} seed {seed}; {}",
        plan.scale,
        machine()
    );
    println!();
    println!(
        "| step | wall s | CPU s | peak RSS MiB | scan floor wall s | floor CPU s | floor RSS MiB | wall ÷ floor |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut by_label: Vec<(String, Cost)> = Vec::new();
    for step in &plan.steps {
        match step {
            Step::Reset => reset(&lake)?,
            Step::Run {
                label,
                args,
                floor,
                optional,
            } => {
                if *optional && !has_subcommand(&tools.claimlake, &args[0]) {
                    println!(
                        "| {label} | n/a: this claimlake has no `{}` command | | | | | | |",
                        args[0]
                    );
                    continue;
                }
                let floor_cost = match floor {
                    Some((kind, period)) => {
                        let fargs: Vec<String> = [
                            "floor", "--lake", &lake_arg, "--kind", kind, "--period", period,
                        ]
                        .iter()
                        .map(|s| s.to_string())
                        .collect();
                        Some(measure::run(&tools.bench, &fargs, &log, &[])?)
                    }
                    None => None,
                };
                let mut full = args.clone();
                full.push("--lake".into());
                full.push(lake_arg.clone());
                let cost = measure::run(&tools.claimlake, &full, &log, &[])?;
                let (fw, fc, fr, ratio) = match floor_cost {
                    Some(f) => (
                        format!("{:.1}", f.wall_s),
                        format!("{:.1}", f.cpu_s),
                        format!("{:.0}", f.peak_rss_mb),
                        format!("{:.2}", cost.wall_s / f.wall_s.max(1e-9)),
                    ),
                    None => Default::default(),
                };
                println!(
                    "| {label} | {:.1} | {:.1} | {:.0} | {fw} | {fc} | {fr} | {ratio} |",
                    cost.wall_s, cost.cpu_s, cost.peak_rss_mb
                );
                by_label.push((label.clone(), cost));
            }
        }
    }
    let get = |l: &str| by_label.iter().find(|(n, _)| n == l).map(|(_, c)| *c);
    if let (Some(jan), Some(dec)) = (get("settle 2025-01"), get("settle 2025-12")) {
        println!();
        println!(
            "settle December ÷ January: wall {:.2}, CPU {:.2}, peak RSS {:.2}",
            dec.wall_s / jan.wall_s.max(1e-9),
            dec.cpu_s / jan.cpu_s.max(1e-9),
            dec.peak_rss_mb / jan.peak_rss_mb.max(1e-9)
        );
    }
    println!();
    println!("logs: {}", log.display());
    Ok(())
}
