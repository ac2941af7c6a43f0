//! Generates a lake and reports the time taken:
//!
//! ```text
//! cargo run --release -p claimlake-datagen --example datagen -- LAKE_ROOT [tiny|small|city] [FIRST-LAST] [SEED] [BAD_PER_100K]
//! cargo run --release -p claimlake-datagen --example datagen -- /tmp/citylake city 1-1
//! ```

use std::time::Instant;

use claimlake_datagen::{GenConfig, Progress, Scale, generate};
use claimlake_lake::Lake;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = args.first().cloned().unwrap_or_else(|| "./lake".into());
    let scale: Scale = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(Scale::Tiny);
    let mut cfg = GenConfig::new(2025, scale, 2025);
    if let Some(m) = args.get(2) {
        let (a, b) = m.split_once('-').unwrap_or((m, m));
        cfg.months = a.parse()?..=b.parse()?;
    }
    if let Some(s) = args.get(3) {
        cfg.seed = s.parse()?;
    }
    if let Some(s) = args.get(4) {
        cfg.bad_rows_per_100k = s.parse()?;
    }
    let lake = Lake::open(&root)?;
    let t0 = Instant::now();
    let progress = move |p: &Progress| {
        eprintln!(
            "[{:>7.1}s] month {:02}: {} of ~{} claims",
            t0.elapsed().as_secs_f64(),
            p.month,
            p.claims_written,
            p.claims_total_estimate
        );
    };
    let summary = generate(&lake, &cfg, &progress).await?;
    let secs = t0.elapsed().as_secs_f64();
    println!("{summary:?}");
    println!(
        "generated {} claims and {} items in {:.1}s ({:.0} claims/s)",
        summary.claims,
        summary.items,
        secs,
        summary.claims as f64 / secs
    );
    Ok(())
}
