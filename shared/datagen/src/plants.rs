//! Planted cases: the suspicion patterns R01–R08 of quarterly-warnings.md (several cases per
//! rule and quarter, at known institutions, with fresh patients so nothing else touches them), the
//! warned institutions (operating-detected and associated, eligible) of given quarters, and the
//! cross-month reversal mirrors. All of it goes to the last part file of each month.
//!
//! How each rule is planted (case `c` of a quarter falls in the quarter's month `c mod 3`;
//! patients are fresh ids `P9…`; the truth lists exactly the claims the rule flags):
//! - **R01** two stays of one patient with the same diagnosis, the second admitted 0, 6 or 15
//!   days after the first discharge (same or another hospital); flags the second stay.
//! - **R02** a diabetic with a monthly 门特 claim (insulin, 30 days) and two pharmacy purchases of
//!   the same insulin (45 days each) at a pharmacy: 120 days > 1.2 × the quarter's days, at two
//!   institutions; flags the three claims.
//! - **R03** `cluster_min_patients` (+0..2) fresh patients settled within 22:30–22:34 at one
//!   pharmacy or primary clinic (the background never settles after 21:00); flags them all.
//! - **R04** one patient settled three (or four) times at one institution on one day; flags all.
//! - **R05** a general-outpatient claim at a large hospital (every fourth case a pharmacy
//!   purchase, on the small and city scales) of exactly 5,000.00 or more; flags it.
//! - **R06** a stay and an outpatient claim of the same patient strictly inside it; flags the
//!   outpatient claim.
//! - **R07** a claim with an item for the other sex (妇科检查 for a man, PSA for a woman).
//! - **R08** a cross-province stay of exactly 30,000.00 or more.
//!
//! Warned institutions: each gets a few fresh "heavy" patients who visit it on separate days,
//! four times in each of the quarter's first two months and at least four times in the third
//! (≥ 12 visits: `high_frequency_share` is positive there and zero everywhere else, so it is
//! operating-detected), at 1,000–4,000 yuan a visit. In the third month the generator knows the
//! institution's in-scope cost of the quarter and sizes the last visits so that the heavy patients
//! carry at least 37.5% of it (≥ 20% needed) and the institution has ≥ 1.2 × `min_visits`
//! visits: they are top patients (each costs ≥ 12,000 yuan, far above 5 × the median), so the
//! institution is associated and eligible.

use std::collections::BTreeMap;

use crate::Ctx;
use crate::cal;
use crate::catalog::CATALOG;
use crate::claims::{
    self, Claim, Head, Line, PartGen, PartOutput, Payer, TOTAL, day_seconds, header_from_lines,
    split_payers,
};
use crate::error::Result;
use crate::institutions::{Class, Registry};
use crate::patients::{INPATIENT_DIAG, Profile, Segment};
use crate::rng::Rng;
use crate::tags;
use crate::truth::SuspicionRow;

/// An institution to be warned in the given quarters.
#[derive(Debug, Clone)]
pub struct WarnPlan {
    pub inst: u32,
    pub quarters: Vec<u32>,
}

/// Where planted cases go.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pub inpatient: Vec<u32>,
    pub tertiary: Vec<u32>,
    pub large_hospitals: Vec<u32>,
    pub outpatient: Vec<u32>,
    pub cluster: Vec<u32>,
    pub chronic_homes: Vec<u32>,
    pub pharmacies: Vec<u32>,
    pub primary: Vec<u32>,
}

/// The plan of planted cases.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub warned: Vec<WarnPlan>,
    pub pools: Pools,
}

fn by_size(reg: &Registry, classes: &[Class], exclude: &[u32]) -> Vec<u32> {
    let mut v: Vec<u32> = classes
        .iter()
        .flat_map(|c| reg.members[c.index()].iter().copied())
        .filter(|i| reg.get(*i).full_year && !exclude.contains(i))
        .collect();
    v.sort_by(|a, b| reg.get(*b).weight.cmp(&reg.get(*a).weight).then(a.cmp(b)));
    v
}

/// Chooses the warned institutions (`spec`: class, size rank, quarters) and the plant pools.
pub fn plan(reg: &Registry, spec: &[(Class, usize, &[u32])], reserved: &[u32]) -> Plan {
    let mut used: Vec<u32> = reserved.to_vec();
    let mut warned = Vec::new();
    for (class, rank, quarters) in spec {
        let cands = by_size(reg, &[*class], &used);
        if cands.is_empty() {
            continue;
        }
        let inst = cands[(*rank).min(cands.len() - 1)];
        used.push(inst);
        warned.push(WarnPlan {
            inst,
            quarters: quarters.to_vec(),
        });
    }
    let ex: Vec<u32> = warned.iter().map(|w| w.inst).collect();
    let pharmacies = by_size(reg, &[Class::Pharmacy], &ex);
    let pools = Pools {
        inpatient: by_size(reg, &[Class::Tertiary, Class::Secondary], &ex),
        tertiary: by_size(reg, &[Class::Tertiary], &ex),
        large_hospitals: by_size(reg, &[Class::Tertiary, Class::Secondary], &ex),
        outpatient: by_size(
            reg,
            &[Class::FamilyDoctor, Class::OtherPrimary, Class::Secondary],
            &ex,
        ),
        cluster: by_size(
            reg,
            &[Class::Pharmacy, Class::FamilyDoctor, Class::OtherPrimary],
            &ex,
        ),
        chronic_homes: by_size(
            reg,
            &[Class::Secondary, Class::Tertiary, Class::FamilyDoctor],
            &ex,
        ),
        pharmacies,
        primary: by_size(reg, &[Class::FamilyDoctor, Class::OtherPrimary], &ex),
    };
    Plan { warned, pools }
}

/// Heavy-patient bookkeeping of a warned institution in a quarter.
#[derive(Debug, Clone, Default)]
pub struct HeavyState {
    pub cost: i64,
    pub visits: i64,
    pub patients: u32,
}

/// Heavy-patient state of all warned (institution, quarter) pairs.
pub type WarnState = BTreeMap<(usize, u32), HeavyState>;

/// A planted patient.
struct Pp {
    id: String,
    gender: &'static str,
    employee: bool,
    region: &'static str,
}

impl Pp {
    fn new(rule: u32, period: u32, case: u32, k: u32, r: &mut Rng) -> Pp {
        Pp {
            id: format!("P9{rule:02}{period:02}{case:03}{k:02}"),
            gender: if r.below(2) == 0 { "M" } else { "F" },
            employee: r.below(100) < 56,
            region: "local",
        }
    }

    fn payer(&self) -> Payer {
        Payer {
            employee: self.employee,
            civil: false,
        }
    }
}

fn phead<'c>(
    g: &mut PartGen<'c>,
    inst: u32,
    pp: &Pp,
    day: i32,
    secs: u32,
    r: &mut Rng,
) -> Head<'c> {
    let institution = g.ctx.reg.get(inst);
    Head {
        claim_id: g.next_id(),
        inst,
        institution,
        patient_id: pp.id.clone(),
        gender: pp.gender,
        employee: pp.employee,
        region: pp.region,
        settle_ms: cal::millis(day, secs),
        doctor: r.below(institution.doctors as u64) as u32,
    }
}

fn flag(g: &mut PartGen<'_>, rule: &'static str, quarter: u32, c: &Claim) {
    let year = g.ctx.cfg.year;
    g.stats.suspicions.push(SuspicionRow {
        year,
        quarter: quarter as i32,
        rule_id: rule,
        claim_id: c.claim_id.clone(),
        institution_id: c.institution_id.clone(),
        patient_id: c.patient_id.clone().unwrap_or_default(),
    });
}

/// A general outpatient claim, or a pharmacy purchase without prescriber at a pharmacy.
fn outpatient(
    g: &mut PartGen<'_>,
    inst: u32,
    pp: &Pp,
    day: i32,
    secs: u32,
    total: Option<i64>,
    r: &mut Rng,
) -> Claim {
    let ctx = g.ctx;
    let h = phead(g, inst, pp, day, secs, r);
    if ctx.reg.get(inst).class == Class::Pharmacy {
        claims::pharmacy(ctx, r, h, pp.payer(), None, total)
    } else {
        claims::general(ctx, r, h, pp.payer(), total)
    }
}

fn add_line(c: &mut Claim, line: Line, payer: Payer) {
    c.lines.push(line);
    header_from_lines(c);
    split_payers(c, payer);
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1).div_euclid(b)
}

fn rot(pool: &[u32], k: usize) -> Option<u32> {
    if pool.is_empty() {
        None
    } else {
        Some(pool[k % pool.len()])
    }
}

/// Plants case `case` of rule `rule` (1..=8) of `quarter` in the current month.
fn plant(g: &mut PartGen<'_>, rule: u32, quarter: u32, case: u32, r: &mut Rng) -> Result<()> {
    let ctx = g.ctx;
    let pools = &ctx.plan.pools;
    let first = cal::first_day(g.mabs);
    let days = cal::days_of(g.mabs) as i32;
    let k = (quarter as usize) * 1000 + case as usize;
    let month = g.month;
    let daytime = |r: &mut Rng| day_seconds(r);
    match rule {
        1 => {
            let Some(h1) = rot(&pools.inpatient, k) else {
                return Ok(());
            };
            let h2 = if case % 2 == 1 {
                rot(&pools.inpatient, k + 1).unwrap_or(h1)
            } else {
                h1
            };
            let pp = Pp::new(1, month, case, 0, r);
            let choices = [0usize, 2, 4, 5, 6, 7, 12, 15];
            let diag = choices[case as usize % choices.len()];
            let a1 = first + 1 + r.below(3) as i32;
            let d1 = a1 + 2 + r.below(3) as i32;
            let gap = [0, 6, 15][case as usize % 3];
            let a2 = d1 + gap;
            let d2 = a2 + 2 + r.below(3) as i32;
            let h = phead(g, h1, &pp, d1, 10 * 3600 + r.below(3600) as u32, r);
            let c1 = claims::inpatient(
                ctx,
                r,
                h,
                pp.payer(),
                a1,
                d1,
                diag,
                case.is_multiple_of(2),
                None,
            );
            g.write_valid(&c1)?;
            let h = phead(g, h2, &pp, d2, 11 * 3600 + r.below(3600) as u32, r);
            let c2 = claims::inpatient(ctx, r, h, pp.payer(), a2, d2, diag, case % 2 == 1, None);
            g.write_valid(&c2)?;
            flag(g, "R01", quarter, &c2);
        }
        2 => {
            let (Some(a), Some(b)) = (rot(&pools.chronic_homes, k), rot(&pools.pharmacies, k))
            else {
                return Ok(());
            };
            let pp = Pp::new(2, month, case, 0, r);
            let profile = Profile {
                idx: 1, // regimen: chronic_dm[1..=2] = insulin glargine, acarbose
                gender: pp.gender,
                employee: pp.employee,
                civil: false,
                region: pp.region,
                segment: Segment::Diabetes,
                gen_rate: 0.0,
                ph_rate: 0.0,
                home_primary: a,
                home_hospital: a,
                home_pharmacy: b,
                special_home: a,
                adm_slot: 0,
                adm_rate: 0.0,
                special_diag: "E11.900",
            };
            let insulin = ctx.roles.chronic_dm[1];
            let d1 = first + 1 + r.below(5) as i32;
            let s = daytime(r);
            let h = phead(g, a, &pp, d1, s, r);
            let c1 = claims::chronic(ctx, r, h, pp.payer(), &profile);
            debug_assert!(c1.lines.iter().any(|l| l.item == insulin));
            g.write_valid(&c1)?;
            flag(g, "R02", quarter, &c1);
            for (n, dd) in [3, 10].into_iter().enumerate() {
                let s = daytime(r);
                let h = phead(g, b, &pp, d1 + dd, s, r);
                let presc = (n == 0).then(|| (a, ctx.reg.get(a).id.as_str()));
                let mut c = claims::pharmacy(ctx, r, h, pp.payer(), presc, None);
                let amount = r.range(8_000, 20_000);
                add_line(
                    &mut c,
                    Line {
                        item: insulin,
                        qty_milli: 3_000,
                        amount,
                        days: Some(45),
                    },
                    pp.payer(),
                );
                g.write_valid(&c)?;
                flag(g, "R02", quarter, &c);
            }
        }
        3 => {
            let Some(x) = rot(&pools.cluster, k) else {
                return Ok(());
            };
            let min = match ctx.reg.get(x).class {
                Class::Pharmacy => 15,
                Class::Tertiary => 200,
                Class::Secondary | Class::Tcm => 80,
                _ => 20,
            };
            let n = min + case % 3;
            let day = first + 2 + ((case as i32 * 5) % (days - 4));
            for i in 0..n {
                let pp = Pp::new(3, month, case, i, r);
                let secs = (22 * 60 + 30) * 60 + i * 13;
                let c = outpatient(g, x, &pp, day, secs, None, r);
                g.write_valid(&c)?;
                flag(g, "R03", quarter, &c);
            }
        }
        4 => {
            let Some(x) = rot(&pools.outpatient, k) else {
                return Ok(());
            };
            let pp = Pp::new(4, month, case, 0, r);
            let day = first + 1 + r.below((days - 2) as u64) as i32;
            let n = if case % 2 == 1 { 4 } else { 3 };
            let times: [u32; 4] = [
                9 * 3600,
                11 * 3600 + 1200,
                15 * 3600 + 600,
                17 * 3600 + 2400,
            ];
            for t in times.iter().take(n) {
                let c = outpatient(g, x, &pp, day, *t + r.below(600) as u32, None, r);
                g.write_valid(&c)?;
                flag(g, "R04", quarter, &c);
            }
        }
        5 => {
            let pharmacy_case = ctx.cfg.scale != crate::Scale::Tiny && case % 4 == 3;
            // the largest institutions first, one case each, so a 5,000-yuan claim never weighs
            // on a small institution's indicators
            let slot = ((quarter - 1) * ctx.params.plants_per_rule + case) as usize;
            let x = if pharmacy_case {
                rot(&pools.pharmacies, slot / 4)
            } else {
                rot(&pools.large_hospitals, slot)
            };
            let Some(x) = x else {
                return Ok(());
            };
            let pp = Pp::new(5, month, case, 0, r);
            let day = first + 1 + r.below((days - 2) as u64) as i32;
            let amount = if case.is_multiple_of(3) {
                500_000
            } else {
                500_000 + r.range(10_000, 400_000)
            };
            let s = daytime(r);
            let c = outpatient(g, x, &pp, day, s, Some(amount), r);
            debug_assert_eq!(c.money[TOTAL], amount);
            g.write_valid(&c)?;
            flag(g, "R05", quarter, &c);
        }
        6 => {
            let (Some(hosp), Some(clinic)) = (rot(&pools.inpatient, k), rot(&pools.primary, k))
            else {
                return Ok(());
            };
            let pp = Pp::new(6, month, case, 0, r);
            let a = first + 2 + r.below(12) as i32;
            let d = a + 6;
            let h = phead(g, hosp, &pp, d, 10 * 3600, r);
            let diag = [0usize, 2, 4, 5, 15][case as usize % 5];
            let stay = claims::inpatient(
                ctx,
                r,
                h,
                pp.payer(),
                a,
                d,
                diag,
                case.is_multiple_of(2),
                None,
            );
            g.write_valid(&stay)?;
            let od = a + 1 + r.below(5) as i32;
            let s = daytime(r);
            let c = outpatient(g, clinic, &pp, od, s, None, r);
            g.write_valid(&c)?;
            flag(g, "R06", quarter, &c);
        }
        7 => {
            let Some(x) = rot(&pools.outpatient, k) else {
                return Ok(());
            };
            let mut pp = Pp::new(7, month, case, 0, r);
            pp.gender = if case.is_multiple_of(2) { "M" } else { "F" };
            let day = first + 1 + r.below((days - 2) as u64) as i32;
            let s = daytime(r);
            let mut c = outpatient(g, x, &pp, day, s, None, r);
            let item = if pp.gender == "M" {
                ctx.roles.female_service
            } else {
                ctx.roles.male_service
            };
            debug_assert!(
                CATALOG[item as usize]
                    .gender
                    .is_some_and(|x| x != pp.gender)
            );
            add_line(
                &mut c,
                Line {
                    item,
                    qty_milli: 1_000,
                    amount: r.range(3_000, 8_000),
                    days: None,
                },
                pp.payer(),
            );
            g.write_valid(&c)?;
            flag(g, "R07", quarter, &c);
        }
        8 => {
            let Some(hosp) = rot(&pools.tertiary, k).or_else(|| rot(&pools.inpatient, k)) else {
                return Ok(());
            };
            let mut pp = Pp::new(8, month, case, 0, r);
            pp.region = "cross_province";
            let diag = [8usize, 9, 1][case as usize % 3];
            let a = first + 1 + r.below(10) as i32;
            let d = a + 5 + r.below(8) as i32;
            let total = if case.is_multiple_of(3) {
                3_000_000
            } else {
                3_000_000 + r.range(100_000, 3_000_000)
            };
            let h = phead(g, hosp, &pp, d, 10 * 3600 + r.below(7200) as u32, r);
            let c = claims::inpatient(
                ctx,
                r,
                h,
                pp.payer(),
                a,
                d,
                diag,
                case.is_multiple_of(2),
                Some(total),
            );
            debug_assert!(INPATIENT_DIAG[diag].gender.is_none());
            g.write_valid(&c)?;
            flag(g, "R08", quarter, &c);
        }
        _ => {}
    }
    Ok(())
}

/// Visits of a warned institution's heavy patients in the current month.
fn heavy(
    g: &mut PartGen<'_>,
    wi: usize,
    inst: u32,
    quarter: u32,
    month_in_quarter: u32,
    quarter_scope: &[(i64, i64)],
    ws: &mut WarnState,
) -> Result<()> {
    let ctx = g.ctx;
    let first = cal::first_day(g.mabs);
    let days = cal::days_of(g.mabs);
    let mut r = Rng::stream(ctx.cfg.seed, &[tags::HEAVY, wi as u64, g.month as u64]);
    let st = ws.entry((wi, quarter)).or_insert_with(|| HeavyState {
        cost: 0,
        visits: 0,
        patients: ctx.params.heavy_patients,
    });
    // (patients, visits each, amount range in fen)
    let (patients, visits, lo, hi) = if month_in_quarter < 2 {
        (st.patients, 4, 100_000, 150_000)
    } else {
        let sc = quarter_scope[inst as usize];
        let own = g.stats.scope[inst as usize];
        let v_bg = sc.0 + own.0 - st.visits;
        let c_bg = sc.1 + own.1 - st.cost;
        // heavy share ≥ 37.5%: heavy ≥ 0.6 × background
        let need_cost = ((c_bg as i128 * 6 / 10) as i64 - st.cost).max(0);
        let want_visits = ceil_div(ctx.params.min_visits as i64 * 12, 10);
        let need_visits = (want_visits - v_bg - st.visits).max(0);
        let max_v = days.saturating_sub(3).max(4);
        let mut patients = st.patients.max(1);
        let mut v3 = 4u32.max(ceil_div(need_visits, patients as i64) as u32);
        while v3 > max_v && patients < 99 {
            patients += 1;
            v3 = 4u32.max(ceil_div(need_visits, patients as i64) as u32);
        }
        let v3 = v3.min(max_v);
        let mut per = ceil_div(need_cost, (patients * v3) as i64).clamp(100_000, 400_000);
        while per * ((patients * v3) as i64) < need_cost && patients < 99 {
            patients += 1;
            per = ceil_div(need_cost, (patients * v3) as i64).clamp(100_000, 400_000);
        }
        (patients, v3, (per - 5_000).max(100_000), per)
    };
    for k in 0..patients {
        let pp = Pp {
            id: format!("P9{:02}{:02}000{:02}", 20 + wi, quarter, k),
            gender: if k % 2 == 0 { "F" } else { "M" },
            employee: k % 3 != 0,
            region: "local",
        };
        let mut free: u32 = (1u32 << days) - 1;
        for _ in 0..visits {
            // a distinct day per visit
            let n = free.count_ones();
            if n == 0 {
                break;
            }
            let mut pick = r.below(n as u64) as u32;
            let mut day = 0;
            for d in 0..days {
                if free & (1 << d) != 0 {
                    if pick == 0 {
                        day = d;
                        break;
                    }
                    pick -= 1;
                }
            }
            free &= !(1 << day);
            let amount = r.range(lo, hi);
            let s = day_seconds(&mut r);
            let c = outpatient(g, inst, &pp, first + day as i32, s, Some(amount), &mut r);
            g.write_valid(&c)?;
            st.cost += c.money[TOTAL];
            st.visits += 1;
        }
    }
    st.patients = st.patients.max(patients);
    Ok(())
}

/// Generates the plants part of `month`: mirrors of last month's chosen claims, R01–R08 cases
/// and the warned institutions' heavy patients.
pub fn plants_part(
    ctx: &Ctx,
    month: u32,
    part: u32,
    xmonth: &[Claim],
    quarter_scope: &[(i64, i64)],
    ws: &mut WarnState,
) -> Result<PartOutput> {
    let mut g = PartGen::new(ctx, month, part, false)?;
    let mabs = g.mabs;
    let first = cal::first_day(mabs);
    let days = cal::days_of(mabs);
    let quarter = (month - 1) / 3 + 1;
    let jm = (month - 1) % 3;
    let mut r = Rng::stream(ctx.cfg.seed, &[tags::PLANT, month as u64]);
    // 1. cross-month reversals: exact mirrors of claims of the previous month
    for orig in xmonth {
        let id = g.next_id();
        let day = first + r.below(days.min(7) as u64) as i32;
        let secs = day_seconds(&mut r);
        let m = orig.mirror(id, cal::millis(day, secs));
        g.w.claim(&m, false)?;
        g.stats.points.add(ctx, orig, mabs, -1);
        let (oy, om, _) = cal::date_of(orig.settle_day());
        if oy == ctx.cfg.year && (om - 1) / 3 + 1 == quarter && orig.visit.outpatient_type() {
            // netted within the quarter for the warnings
            let s = &mut g.stats.scope[orig.inst as usize];
            s.0 -= 1;
            s.1 -= orig.money[TOTAL];
        }
    }
    // 2. suspicion rules
    let n = ctx.params.plants_per_rule;
    for rule in 1..=8u32 {
        for case in (0..n).filter(|c| c % 3 == jm) {
            let mut cr = Rng::stream(
                ctx.cfg.seed,
                &[tags::PLANT, month as u64, rule as u64, case as u64],
            );
            plant(&mut g, rule, quarter, case, &mut cr)?;
        }
    }
    // 3. warned institutions of complete quarters
    if ctx.quarter_complete(quarter) {
        for (wi, wp) in ctx.plan.warned.iter().enumerate() {
            if wp.quarters.contains(&quarter) {
                heavy(&mut g, wi, wp.inst, quarter, jm, quarter_scope, ws)?;
            }
        }
    }
    g.finish()
}
