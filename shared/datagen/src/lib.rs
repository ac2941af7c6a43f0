//! Deterministic synthetic lake generator with planted cases and ground truth.
//!
//! [`generate`] writes a whole input lake of data-contract.md for one year — institutions,
//! catalogue, monthly claims and items, assessments, investigations and `policy/Y.toml` — plus the
//! ground truth under `truth/` (see [`truth`] for its schemas):
//!
//! ```text
//! reference/institutions/part-000.parquet      reference/catalog/part-000.parquet
//! claims/year=Y/month=MM/part-NNN.parquet      claim_items/year=Y/month=MM/part-NNN.parquet
//! inputs/assessments/year=Y/part-000.parquet   inputs/investigations/year=Y/part-000.parquet
//! policy/Y.toml                                truth/{quarantine_counts,reconciliation,suspicions,warned}.parquet
//! ```
//!
//! **Determinism.** Every random decision comes from a stream keyed by what it decides
//! ([`rng`]); a month is split into parts (a slice of the population each, `part-000` …) that are
//! generated in parallel but each depend only on `(seed, month, part)`; the last part of a month
//! holds the planted cases and the mirrors of last month's reversals. The same configuration gives
//! byte-identical files on any machine and thread count.
//!
//! **Scale and memory.** Patients are indices whose profile and monthly behaviour are pure
//! functions of the seed ([`patients`]): no per-patient state is kept. Rows are built into
//! 64k-row record batches and encoded straight into the part's Parquet file; at most one part per
//! worker thread is in memory at a time.
//!
//! **Correctness by construction.** Every valid row satisfies every validation rule (fee and payer
//! parts sum to the fen, settle times inside the partition month …); bad rows fail exactly their
//! intended rule first ([`badrows`]); the background cannot produce a suspicion pattern or a
//! warned institution ([`claims`], [`patients`]); planted cases are where [`plants`] says.

pub mod badrows;
pub mod cal;
pub mod catalog;
pub mod claims;
pub mod error;
pub mod inputs;
pub mod institutions;
pub mod patients;
pub mod plants;
pub mod policy;
pub mod rng;
pub mod stats;
pub mod truth;

use std::collections::HashSet;
use std::ops::RangeInclusive;
use std::str::FromStr;

use bytes::Bytes;
use claimlake_domain::Month;
use claimlake_lake::{Lake, layout};

pub use error::DatagenError;

use crate::catalog::Roles;
use crate::claims::PartOutput;
use crate::institutions::{Class, Registry};
use crate::plants::{Plan, WarnState};
use crate::policy::{MONTHLY_WEIGHTS_MILLI, YearAcc};
use crate::stats::PartStats;
use crate::truth::{MonthCounts, WarnedRow};

/// Keys of the random streams (first key after the seed).
pub mod tags {
    pub const PROFILE: u64 = 0x01;
    pub const STAY: u64 = 0x02;
    pub const MONTH: u64 = 0x03;
    pub const ROLES: u64 = 0x04;
    pub const BAD: u64 = 0x05;
    pub const PLANT: u64 = 0x06;
    pub const HEAVY: u64 = 0x07;
    pub const ASSESS: u64 = 0x08;
}

/// Size of the generated city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// ~20 institutions, ~2k claims a month (unit tests).
    Tiny,
    /// ~200 institutions, ~50k claims a month.
    Small,
    /// ~5,000 institutions, ~5M claims a month.
    City,
}

impl Scale {
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Small => "small",
            Scale::City => "city",
        }
    }
}

impl FromStr for Scale {
    type Err = DatagenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tiny" => Ok(Scale::Tiny),
            "small" => Ok(Scale::Small),
            "city" => Ok(Scale::City),
            other => Err(DatagenError::Config(format!(
                "unknown scale {other:?}: expected tiny, small or city"
            ))),
        }
    }
}

impl std::fmt::Display for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    pub year: i32,
    pub scale: Scale,
    pub seed: u64,
    /// Months of `year` to generate (claims, items, plants); default `1..=12`.
    pub months: RangeInclusive<u32>,
    /// Bad rows per 100,000 background claims (spread over all quarantine reasons); default 30.
    pub bad_rows_per_100k: u32,
}

impl GenConfig {
    pub fn new(year: i32, scale: Scale, seed: u64) -> Self {
        GenConfig {
            year,
            scale,
            seed,
            months: 1..=12,
            bad_rows_per_100k: 30,
        }
    }
}

/// Progress report, called after each written batch of parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub month: u32,
    pub claims_written: u64,
    pub claims_total_estimate: u64,
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSummary {
    pub institutions: usize,
    /// Claim rows written (all rows, bad rows and reversals included).
    pub claims: u64,
    /// Item rows written.
    pub items: u64,
    /// Quarantined rows a correct validation finds (claims and orphan items; not counting the
    /// items of quarantined claims).
    pub bad_rows: u64,
    /// Rows of `truth/suspicions.parquet`.
    pub planted_suspicions: u64,
}

/// Parameters of a scale.
#[derive(Debug, Clone)]
pub struct ScaleParams {
    /// Institutions per class in [`Class::ALL`] order.
    pub counts: [u32; 6],
    pub population: u64,
    pub patients_per_part: u64,
    /// One chemo and one dialysis patient per this many patients.
    pub special_period: u64,
    /// Cases per suspicion rule and quarter.
    pub plants_per_rule: u32,
    /// `warnings.min_visits` of the generated policy.
    pub min_visits: u32,
    /// Heavy patients per warned institution and quarter (more are added when needed).
    pub heavy_patients: u32,
    /// Warned institutions: class, size rank within the class, quarters.
    pub warned: &'static [(Class, usize, &'static [u32])],
    /// Expected claims per patient and month (for progress estimates and doctor counts).
    pub claims_per_patient_month: f64,
}

impl ScaleParams {
    pub fn of(scale: Scale) -> ScaleParams {
        use Class::*;
        match scale {
            Scale::Tiny => ScaleParams {
                counts: [2, 3, 2, 5, 3, 5],
                population: 3_600,
                patients_per_part: 1_000_000,
                special_period: 3_600,
                plants_per_rule: 3,
                min_visits: 100,
                heavy_patients: 5,
                warned: &[
                    (FamilyDoctor, 0, &[1, 3]),
                    (Pharmacy, 0, &[2, 4]),
                    (Secondary, 0, &[2]),
                ],
                claims_per_patient_month: 0.56,
            },
            Scale::Small => ScaleParams {
                counts: [8, 22, 10, 60, 30, 70],
                population: 90_000,
                patients_per_part: 50_000,
                special_period: 5_000,
                plants_per_rule: 6,
                min_visits: 300,
                heavy_patients: 6,
                warned: &[
                    (FamilyDoctor, 1, &[1, 3]),
                    (Pharmacy, 1, &[2, 4]),
                    (Secondary, 2, &[2]),
                    (OtherPrimary, 1, &[1, 4]),
                    (Tcm, 1, &[3]),
                ],
                claims_per_patient_month: 0.56,
            },
            Scale::City => ScaleParams {
                counts: [120, 380, 150, 1_350, 1_000, 2_000],
                population: 9_000_000,
                patients_per_part: 600_000,
                special_period: 5_000,
                plants_per_rule: 24,
                min_visits: 300,
                heavy_patients: 10,
                warned: &[
                    (FamilyDoctor, 1, &[1, 3]),
                    (FamilyDoctor, 5, &[2]),
                    (Pharmacy, 1, &[2, 4]),
                    (Pharmacy, 4, &[1]),
                    (Pharmacy, 7, &[3]),
                    (Secondary, 2, &[2, 3]),
                    (OtherPrimary, 1, &[1, 4]),
                    (OtherPrimary, 3, &[3]),
                    (Tcm, 1, &[3]),
                ],
                claims_per_patient_month: 0.56,
            },
        }
    }
}

/// Everything shared by the generation of all parts.
#[derive(Debug)]
pub struct Ctx {
    pub cfg: GenConfig,
    pub params: ScaleParams,
    pub reg: Registry,
    pub roles: Roles,
    /// Monthly volume factor (12 × the month's budget weight).
    pub season: [f64; 12],
    /// `(institution, absolute month)` whose agreement a planted red card suspends.
    pub suspended: HashSet<(u32, i32)>,
    pub plan: Plan,
}

impl Ctx {
    pub fn new(cfg: &GenConfig) -> Result<Ctx, DatagenError> {
        let (a, b) = (*cfg.months.start(), *cfg.months.end());
        if a < 1 || b > 12 || a > b {
            return Err(DatagenError::Config(format!(
                "months {a}..={b} must be a non-empty range within 1..=12"
            )));
        }
        if !(1900..=2999).contains(&cfg.year) {
            return Err(DatagenError::Config(format!(
                "year {} out of range",
                cfg.year
            )));
        }
        if cfg.bad_rows_per_100k > 100_000 {
            return Err(DatagenError::Config(
                "bad_rows_per_100k must be at most 100000".into(),
            ));
        }
        let params = ScaleParams::of(cfg.scale);
        let monthly_outpatient = params.population as f64 * 0.45;
        let reg = Registry::build(cfg.seed, cfg.year, params.counts, monthly_outpatient);
        let (under, withheld) = inputs::investigated(&reg);
        let reserved: Vec<u32> = [under, withheld].into_iter().flatten().collect();
        let plan = plants::plan(&reg, params.warned, &reserved);
        let mut season = [1.0; 12];
        for (s, w) in season.iter_mut().zip(MONTHLY_WEIGHTS_MILLI) {
            *s = 12.0 * w as f64 / 1000.0;
        }
        let mut ctx = Ctx {
            cfg: cfg.clone(),
            params,
            reg,
            roles: Roles::new(),
            season,
            suspended: HashSet::new(),
            plan,
        };
        // red cards: from the second warned quarter of the year on, the agreement is suspended
        // in the first month after the quarter (red_suspend_months = 1)
        for w in &ctx.plan.warned {
            let mut qs: Vec<u32> = w
                .quarters
                .iter()
                .copied()
                .filter(|q| ctx.quarter_complete(*q))
                .collect();
            qs.sort_unstable();
            for q in qs.iter().skip(1) {
                let m = q * 3 + 1;
                if m <= 12 {
                    ctx.suspended.insert((w.inst, cal::month_abs(cfg.year, m)));
                }
            }
        }
        Ok(ctx)
    }

    /// Whether all three months of a quarter are generated.
    pub fn quarter_complete(&self, q: u32) -> bool {
        let m0 = (q - 1) * 3 + 1;
        self.cfg.months.contains(&m0) && self.cfg.months.contains(&(m0 + 2))
    }

    /// Number of background parts of a month.
    pub fn background_parts(&self) -> u32 {
        self.params
            .population
            .div_ceil(self.params.patients_per_part) as u32
    }

    /// The warned institutions of the generated complete quarters.
    pub fn warned_rows(&self) -> Vec<WarnedRow> {
        let mut rows = Vec::new();
        for w in &self.plan.warned {
            let mut qs: Vec<u32> = w
                .quarters
                .iter()
                .copied()
                .filter(|q| self.quarter_complete(*q))
                .collect();
            qs.sort_unstable();
            let twice = qs.len() >= 2;
            for (n, q) in qs.iter().enumerate() {
                rows.push(WarnedRow {
                    year: self.cfg.year,
                    quarter: *q as i32,
                    institution_id: self.reg.get(w.inst).id.clone(),
                    twice_in_year: twice,
                    yellow_count_in_year: n as i32 + 1,
                });
            }
        }
        rows
    }
}

fn part_key(folder: &str, part: u32) -> String {
    format!("{folder}/part-{part:03}.parquet")
}

fn month_of(year: i32, month: u32) -> Month {
    Month { year, month }
}

/// Runs `n` background parts of a month on up to `threads` threads, in waves of `threads`.
fn run_wave(ctx: &Ctx, month: u32, parts: &[u32]) -> Result<Vec<(u32, PartOutput)>, DatagenError> {
    let pop = ctx.params.population;
    let per = ctx.params.patients_per_part;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|&p| {
                s.spawn(move || {
                    let lo = p as u64 * per;
                    let hi = ((p as u64 + 1) * per).min(pop);
                    claims::background_part(ctx, month, p, lo, hi).map(|o| (p, o))
                })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            match h.join() {
                Ok(r) => out.push(r?),
                Err(e) => {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".to_string());
                    return Err(DatagenError::Worker(msg));
                }
            }
        }
        Ok(out)
    })
}

async fn put_part(
    lake: &Lake,
    year: i32,
    month: u32,
    part: u32,
    out: &mut PartOutput,
) -> Result<(), DatagenError> {
    let m = month_of(year, month);
    let claims = std::mem::take(&mut out.claims);
    let items = std::mem::take(&mut out.items);
    lake.put(
        &part_key(&layout::claims_month(m), part),
        Bytes::from(claims),
    )
    .await?;
    lake.put(
        &part_key(&layout::claim_items_month(m), part),
        Bytes::from(items),
    )
    .await?;
    Ok(())
}

/// Generates the lake of `cfg` into `lake`, calling `progress` as parts are written.
pub async fn generate(
    lake: &Lake,
    cfg: &GenConfig,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<GenSummary, DatagenError> {
    let ctx = Ctx::new(cfg)?;
    let year = cfg.year;

    // reference data and annual inputs
    let inst = ctx.reg.batch()?;
    lake.write_parquet(
        &part_key(layout::INSTITUTIONS, 0),
        &claimlake_lake::contract::institutions(),
        &[inst],
    )
    .await?;
    lake.write_parquet(
        &part_key(layout::CATALOG, 0),
        &claimlake_lake::contract::catalog(),
        &[catalog::batch()?],
    )
    .await?;
    lake.write_parquet(
        &part_key(&layout::assessments(year), 0),
        &claimlake_lake::contract::assessments(),
        &[inputs::assessments(&ctx)?],
    )
    .await?;
    lake.write_parquet(
        &part_key(&layout::investigations(year), 0),
        &claimlake_lake::contract::investigations(),
        &[inputs::investigations(&ctx)?],
    )
    .await?;

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(1);
    let n_parts = ctx.background_parts();
    let months: Vec<u32> = cfg.months.clone().collect();
    let estimate = (ctx.params.population as f64
        * ctx.params.claims_per_patient_month
        * months
            .iter()
            .map(|m| ctx.season[(*m - 1) as usize])
            .sum::<f64>()) as u64;

    let mut year_acc = YearAcc::new(ctx.reg.len(), ctx.reg.total_doctors as usize);
    let mut counts: Vec<MonthCounts> = Vec::new();
    let mut suspicions = Vec::new();
    let mut ws = WarnState::new();
    let mut quarter_scope: Vec<(i64, i64)> = vec![(0, 0); ctx.reg.len()];
    let mut xmonth = Vec::new();
    let mut written = 0u64;
    let mut items = 0u64;

    // the generated partitions are replaced as a whole (no stale part files of an earlier run)
    for &month in &months {
        let m = month_of(year, month);
        lake.delete_prefix(&layout::claims_month(m)).await?;
        lake.delete_prefix(&layout::claim_items_month(m)).await?;
    }
    lake.delete_prefix(&layout::truth("")).await?;

    for &month in &months {
        if (month - 1) % 3 == 0 || month == months[0] {
            quarter_scope.iter_mut().for_each(|s| *s = (0, 0));
        }
        let mut month_stats = PartStats::new(ctx.reg.len(), ctx.reg.total_doctors as usize);
        let all: Vec<u32> = (0..n_parts).collect();
        for wave in all.chunks(threads) {
            let outs = run_wave(&ctx, month, wave)?;
            for (p, mut out) in outs {
                put_part(lake, year, month, p, &mut out).await?;
                written += out.stats.claim_rows;
                month_stats.merge(out.stats);
            }
            progress(&Progress {
                month,
                claims_written: written,
                claims_total_estimate: estimate,
            });
        }
        // the quarter so far, for sizing the warned institutions' heavy patients
        for (a, b) in quarter_scope.iter_mut().zip(&month_stats.scope) {
            a.0 += b.0;
            a.1 += b.1;
        }
        let mut plants =
            plants::plants_part(&ctx, month, n_parts, &xmonth, &quarter_scope, &mut ws)?;
        put_part(lake, year, month, n_parts, &mut plants).await?;
        written += plants.stats.claim_rows;
        for (a, b) in quarter_scope.iter_mut().zip(&plants.stats.scope) {
            a.0 += b.0;
            a.1 += b.1;
        }
        month_stats.merge(plants.stats);
        progress(&Progress {
            month,
            claims_written: written,
            claims_total_estimate: estimate,
        });

        xmonth = std::mem::take(&mut month_stats.xmonth);
        suspicions.append(&mut month_stats.suspicions);
        items += month_stats.item_rows;
        counts.push(MonthCounts::of(year, month, &month_stats));
        year_acc.points.merge(&month_stats.points);
        year_acc.close_month(&ctx, month);
    }

    // the policy, with budgets fitted to the generated points
    let (toml, _cells) = policy::policy_toml(&ctx, &year_acc);
    lake.put(&layout::policy(year), Bytes::from(toml)).await?;

    // ground truth
    let mut warned = ctx.warned_rows();
    let planted = suspicions.len() as u64;
    truth::write(lake, &counts, &mut suspicions, &mut warned).await?;

    let bad_rows = counts
        .iter()
        .map(|m| m.q_claims.iter().sum::<u64>() + m.q_orphan_items)
        .sum();
    Ok(GenSummary {
        institutions: ctx.reg.len(),
        claims: written,
        items,
        bad_rows,
        planted_suspicions: planted,
    })
}
