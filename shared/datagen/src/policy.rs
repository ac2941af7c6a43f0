//! The policy file `policy/YYYY.toml`, written after the claims so that its budgets fit the
//! generated volume.
//!
//! While claims are generated, every settled claim's declared points are accumulated per budget
//! institution exactly as monthly-settlement.md Steps 1–3 define them (account-only pharmacy
//! purchases and claims of an agreement suspended by a planted red card are left out; a
//! cross-month reversal counts the cancelled claim's points negated in its own month), together
//! with each month's volume-price inputs (adjustable points and doctor-days, Step 4).
//!
//! At the end the volume-price thresholds are set from the data (the 90th percentile of the
//! tertiary and secondary institution-months' adjustable points per doctor-day, so roughly one
//! institution-month in ten is reduced), one institution gets an override from its own history,
//! the reductions are computed with the policy's tiers, and each cell's budget is
//! `round2(effective points × factor / Σ weights of the generated months)`:
//! - outpatient cells: factor 0.96 (point value ≈ 0.96, below the 1.00 cap), except the cell
//!   (`outpatient`, `secondary`, `other`) with 1.04 (point value ≈ 1.04, item value capped);
//! - inpatient cells: `0.96 × (conversion × inpatient points + chemo points)`, where the
//!   conversion is `base_avg_cost × cpi_factor / points_per_weight` = 123.6 yuan per point, so the
//!   inpatient point value comes out near 0.96 × 123.6 ≈ 118.7 yuan per point after the chemo
//!   deduction (chemo claims are valued near 0.96 per point).
//!
//! Monthly seasonality of the claims follows the default `monthly_weights`, so the cumulative
//! point values stay near the factor in every month, not only in December.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::Ctx;
use crate::cal;
use crate::claims::{
    CONSUMABLE, Claim, HERBAL, PATENT, SERVICE, TOTAL, VBP_AMOUNT, VBP_POINTS, Visit, WESTERN,
};
use crate::institutions::Class;

/// Default monthly weights (thousandths), as in policy-example.toml; claims follow them.
pub const MONTHLY_WEIGHTS_MILLI: [u32; 12] = [80, 70, 85, 83, 83, 84, 85, 85, 85, 85, 85, 90];

/// Inpatient item conversion: 12,000.00 × 1.0300 / 100 = 123.6 yuan per point, i.e. a claim of
/// `t` fen converts to `t / 12,360` points (×10⁴ below).
pub const CONVERSION_FEN_PER_POINT: i128 = 12_360;

/// Declared points accumulated per budget institution (points ×10⁴), and the current month's
/// volume-price inputs.
#[derive(Debug, Clone, Default)]
pub struct PointsAcc {
    /// Outpatient item-kind declared points, `[drug, other]`.
    pub out_item: Vec<[i128; 2]>,
    /// Outpatient case-kind declared points, `[drug, other]`.
    pub out_case: Vec<[i128; 2]>,
    /// Declared points of chemo claims.
    pub chemo: Vec<i128>,
    /// Inpatient points (case points, or converted item points).
    pub inp: Vec<i128>,
    /// This month's adjustable points (fen), `[drug, other]`.
    pub adj: Vec<[i64; 2]>,
    /// This month's doctor-day bitsets (bit = day of month), per global doctor.
    pub doc_days: Vec<u32>,
}

fn round_div(n: i128, d: i128) -> i128 {
    // half away from zero
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() {
        q + n.signum() * d.signum()
    } else {
        q
    }
}

impl PointsAcc {
    pub fn new(institutions: usize, doctors: usize) -> Self {
        PointsAcc {
            out_item: vec![[0; 2]; institutions],
            out_case: vec![[0; 2]; institutions],
            chemo: vec![0; institutions],
            inp: vec![0; institutions],
            adj: vec![[0; 2]; institutions],
            doc_days: vec![0; doctors],
        }
    }

    /// Adds a valid claim (`sign = 1`), or the mirror of a cancelled claim of an earlier month
    /// (`sign = -1`, no doctor-days), settled in absolute month `mabs`.
    pub fn add(&mut self, ctx: &Ctx, c: &Claim, mabs: i32, sign: i128) {
        if c.reverses.is_some() {
            return;
        }
        // Step 1: exclusions
        if c.visit == Visit::Pharmacy && c.presc.is_none() {
            return; // account_only
        }
        if ctx.suspended.contains(&(c.inst, mabs))
            || c.presc.is_some_and(|p| ctx.suspended.contains(&(p, mabs)))
        {
            return; // agreement_suspended
        }
        // Step 2: budget institution
        let b = if c.visit == Visit::Pharmacy {
            c.presc.unwrap_or(c.inst)
        } else {
            c.inst
        } as usize;
        let m = &c.money;
        // Step 3: declared points
        if c.visit == Visit::Inpatient {
            let pts = match c.case_points {
                Some(cp) if c.is_case() => cp as i128,
                _ => round_div(m[TOTAL] as i128 * 10_000, CONVERSION_FEN_PER_POINT),
            };
            self.inp[b] += sign * pts;
            return;
        }
        let raw =
            (m[WESTERN] + m[PATENT] + m[CONSUMABLE] - m[VBP_AMOUNT] + m[VBP_POINTS]) as i128 * 100;
        let (drug, other) = match c.case_points {
            Some(cp) if c.is_case() => {
                let cp = cp as i128;
                let d = raw.min(cp);
                (d, cp - d)
            }
            _ => (raw, (m[HERBAL] + m[SERVICE]) as i128 * 100),
        };
        if c.is_chemo() {
            self.chemo[b] += sign * (drug + other);
            if sign > 0 {
                self.doctor_day(ctx, c);
            }
            return;
        }
        if c.is_case() {
            self.out_case[b][0] += sign * drug;
            self.out_case[b][1] += sign * other;
        } else {
            self.out_item[b][0] += sign * drug;
            self.out_item[b][1] += sign * other;
            let s = sign as i64;
            self.adj[b][0] += s * (m[WESTERN] + m[PATENT] + m[CONSUMABLE] - m[VBP_AMOUNT]);
            self.adj[b][1] += s * m[SERVICE];
        }
        if sign > 0 && matches!(c.visit, Visit::General | Visit::Special) {
            self.doctor_day(ctx, c);
        }
    }

    fn doctor_day(&mut self, ctx: &Ctx, c: &Claim) {
        let (_, _, d) = cal::date_of(c.settle_day());
        let g = ctx.reg.doctor_base[c.inst as usize] + c.doctor;
        self.doc_days[g as usize] |= 1 << (d - 1);
    }

    pub fn merge(&mut self, o: &PointsAcc) {
        for (a, b) in self.out_item.iter_mut().zip(&o.out_item) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.out_case.iter_mut().zip(&o.out_case) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.chemo.iter_mut().zip(&o.chemo) {
            *a += b;
        }
        for (a, b) in self.inp.iter_mut().zip(&o.inp) {
            *a += b;
        }
        for (a, b) in self.adj.iter_mut().zip(&o.adj) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.doc_days.iter_mut().zip(&o.doc_days) {
            *a |= b;
        }
    }
}

/// Volume-price inputs of one institution-month.
#[derive(Debug, Clone, Copy)]
pub struct VpMonth {
    pub inst: u32,
    pub adj: [i64; 2],
    pub doctor_days: u32,
}

/// The year's accumulation: cumulative declared points and each month's volume-price inputs.
#[derive(Debug, Clone, Default)]
pub struct YearAcc {
    pub points: PointsAcc,
    pub vp: Vec<VpMonth>,
    pub months: BTreeSet<u32>,
}

impl YearAcc {
    pub fn new(institutions: usize, doctors: usize) -> Self {
        YearAcc {
            points: PointsAcc::new(institutions, doctors),
            vp: Vec::new(),
            months: BTreeSet::new(),
        }
    }

    /// Closes a month: records its volume-price inputs and clears the monthly parts.
    pub fn close_month(&mut self, ctx: &Ctx, month: u32) {
        self.months.insert(month);
        let p = &mut self.points;
        for (i, inst) in ctx.reg.list.iter().enumerate() {
            let base = ctx.reg.doctor_base[i] as usize;
            let dd: u32 = p.doc_days[base..base + inst.doctors as usize]
                .iter()
                .map(|b| b.count_ones())
                .sum();
            if p.adj[i] != [0, 0] || dd > 0 {
                self.vp.push(VpMonth {
                    inst: i as u32,
                    adj: p.adj[i],
                    doctor_days: dd,
                });
            }
        }
        p.adj.iter_mut().for_each(|a| *a = [0, 0]);
        p.doc_days.iter_mut().for_each(|d| *d = 0);
    }
}

fn dec(units: i128, scale: u32) -> Decimal {
    Decimal::from_i128_with_scale(units, scale)
}

fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Volume-price tiers: (from, to, coefficient) in hundredths.
const TIERS: [(i64, Option<i64>, i64); 3] = [(0, Some(10), 90), (10, Some(20), 70), (20, None, 50)];

fn reduction(a_fen: i64, per_doctor_day: Decimal, dd: u32) -> Decimal {
    if dd == 0 {
        return Decimal::ZERO;
    }
    let a = dec(a_fen as i128, 2);
    let t = per_doctor_day * Decimal::from(dd);
    let e = (a - t).max(Decimal::ZERO);
    let mut sum = Decimal::ZERO;
    for (from, to, coef) in TIERS {
        let lo = t * dec(from as i128, 2);
        let hi = to.map(|x| t * dec(x as i128, 2));
        let top = match hi {
            Some(h) => e.min(h),
            None => e,
        };
        let part = (top - lo).max(Decimal::ZERO);
        sum += part * (Decimal::ONE - dec(coef as i128, 2));
    }
    round(sum, 4)
}

/// Volume-price thresholds chosen from the data.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// `(class, fee index, per_doctor_day)`.
    pub by_class: Vec<(Class, usize, Decimal)>,
    /// `(institution index, fee index, per_doctor_day)`.
    pub overrides: Vec<(u32, usize, Decimal)>,
}

fn choose_thresholds(ctx: &Ctx, acc: &YearAcc) -> Thresholds {
    let mut by_class = Vec::new();
    // override: the tertiary/secondary institution with the highest drug points per doctor-day
    let mut best: Option<(u32, i64, i64)> = None; // inst, mean ratio, max ratio (fen)
    {
        let mut per: std::collections::BTreeMap<u32, (i64, i64, i64)> = Default::default();
        for v in &acc.vp {
            let c = ctx.reg.get(v.inst).class;
            if !matches!(c, Class::Tertiary | Class::Secondary) || v.doctor_days == 0 {
                continue;
            }
            let r = v.adj[0] / v.doctor_days as i64;
            let e = per.entry(v.inst).or_insert((0, 0, 0));
            e.0 += r;
            e.1 += 1;
            e.2 = e.2.max(r);
        }
        for (&i, &(s, n, mx)) in &per {
            let mean = s / n;
            if best.is_none_or(|b| mean > b.1) {
                best = Some((i, mean, mx));
            }
        }
    }
    let override_inst = best.map(|b| b.0);
    for class in [Class::Tertiary, Class::Secondary] {
        for f in 0..2 {
            let mut ratios: Vec<i64> = acc
                .vp
                .iter()
                .filter(|v| {
                    ctx.reg.get(v.inst).class == class
                        && v.doctor_days > 0
                        && !(f == 0 && Some(v.inst) == override_inst)
                })
                .map(|v| v.adj[f] / v.doctor_days as i64)
                .collect();
            ratios.sort_unstable();
            let fen = if ratios.is_empty() {
                if f == 0 { 260_000 } else { 150_000 }
            } else {
                let rank = (ratios.len() * 9).div_ceil(10).max(1);
                ratios[rank - 1]
            };
            let yuan = (fen + 99) / 100; // whole yuan, rounded up
            by_class.push((class, f, Decimal::from(yuan.max(1))));
        }
    }
    let overrides = best
        .map(|(i, _, mx)| {
            let yuan = (mx * 105 / 100 + 99) / 100;
            vec![(i, 0usize, Decimal::from(yuan.max(1)))]
        })
        .unwrap_or_default();
    Thresholds {
        by_class,
        overrides,
    }
}

/// Per budget cell: the generated effective points and the annual budget written.
#[derive(Debug, Clone)]
pub struct CellBudget {
    pub payment_class: &'static str,
    pub budget_class: &'static str,
    pub fee_class: &'static str,
    pub effective_points: Decimal,
    pub annual: Decimal,
}

/// Computes the budgets of all twelve cells.
pub fn budgets(ctx: &Ctx, acc: &YearAcc, th: &Thresholds) -> Vec<CellBudget> {
    let p = &acc.points;
    let n = ctx.reg.len();
    // reductions per institution and fee class
    let mut red = vec![[Decimal::ZERO; 2]; n];
    for v in &acc.vp {
        let inst = ctx.reg.get(v.inst);
        for (f, r) in red[v.inst as usize].iter_mut().enumerate() {
            let thr = th
                .overrides
                .iter()
                .find(|o| o.0 == v.inst && o.1 == f)
                .map(|o| o.2)
                .or_else(|| {
                    th.by_class
                        .iter()
                        .find(|t| t.0 == inst.class && t.1 == f)
                        .map(|t| t.2)
                });
            if let Some(t) = thr {
                *r += reduction(v.adj[f], t, v.doctor_days);
            }
        }
    }
    let weight_sum: u32 = acc
        .months
        .iter()
        .map(|m| MONTHLY_WEIGHTS_MILLI[(*m - 1) as usize])
        .sum();
    let wsum = dec(weight_sum.max(1) as i128, 3);
    let mut out = Vec::new();
    for class in Class::OUTPATIENT {
        for (f, fee) in ["drug", "other"].into_iter().enumerate() {
            let mut ep = Decimal::ZERO;
            for &i in &ctx.reg.members[class.index()] {
                let i = i as usize;
                ep += dec(p.out_item[i][f], 4) - red[i][f] + dec(p.out_case[i][f], 4);
            }
            let factor = if class == Class::Secondary && fee == "other" {
                dec(104, 2)
            } else {
                dec(96, 2)
            };
            let annual = round((ep * factor / wsum).max(Decimal::ZERO), 2);
            out.push(CellBudget {
                payment_class: "outpatient",
                budget_class: class.as_str(),
                fee_class: fee,
                effective_points: ep,
                annual,
            });
        }
    }
    for (name, tcm) in [("western", false), ("tcm", true)] {
        let mut ep = Decimal::ZERO;
        let mut chemo = Decimal::ZERO;
        for (i, inst) in ctx.reg.list.iter().enumerate() {
            if inst.class == Class::Pharmacy || inst.is_tcm() != tcm {
                continue;
            }
            ep += dec(p.inp[i], 4);
            chemo += dec(p.chemo[i], 4);
        }
        let conv = dec(1236, 1);
        let annual = round(
            (dec(96, 2) * (conv * ep + chemo) / wsum).max(Decimal::ZERO),
            2,
        );
        out.push(CellBudget {
            payment_class: "inpatient",
            budget_class: name,
            fee_class: "all",
            effective_points: ep,
            annual,
        });
    }
    out
}

fn q(d: Decimal) -> String {
    format!("\"{d}\"")
}

/// A decimal with exactly two decimals (money keys of the policy file).
fn q2(d: Decimal) -> String {
    let mut d = round(d, 2);
    d.rescale(2);
    q(d)
}

/// The whole policy file text.
pub fn policy_toml(ctx: &Ctx, acc: &YearAcc) -> (String, Vec<CellBudget>) {
    let th = choose_thresholds(ctx, acc);
    let cells = budgets(ctx, acc, &th);
    let cfg = &ctx.cfg;
    let mut s = String::new();
    let w = |s: &mut String, line: &str| {
        s.push_str(line);
        s.push('\n');
    };
    w(
        &mut s,
        &format!(
            "# policy/{}.toml written by claimlake-datagen (scale {}, seed {}).",
            cfg.year,
            cfg.scale.as_str(),
            cfg.seed
        ),
    );
    w(
        &mut s,
        "# Budgets fit the generated volume: outpatient point values near 0.96 (one cell near 1.04),",
    );
    w(
        &mut s,
        "# inpatient near 0.96 x 123.6 yuan per point; volume-price thresholds from the data.",
    );
    w(&mut s, "");
    w(&mut s, "[policy]");
    w(&mut s, &format!("year = {}", cfg.year));
    w(&mut s, "version = 1");
    w(
        &mut s,
        &format!(
            "name = \"synthetic {} lake {} (claimlake-datagen, seed {})\"",
            cfg.scale.as_str(),
            cfg.year,
            cfg.seed
        ),
    );
    w(&mut s, "");
    w(&mut s, "[settlement]");
    w(&mut s, "item_point_value_cap = \"1.00\"");
    w(&mut s, "case_surplus_retention = \"0.50\"");
    w(&mut s, "quality_guarantee_rate = \"0.05\"");
    w(&mut s, "inpatient_budget_diseases = [\"cancer_chemo\"]");
    let weights: Vec<String> = MONTHLY_WEIGHTS_MILLI
        .iter()
        .map(|m| format!("\"{}\"", dec(*m as i128, 3)))
        .collect();
    w(
        &mut s,
        &format!(
            "monthly_weights = [{},\n                   {}]",
            weights[..6].join(", "),
            weights[6..].join(", ")
        ),
    );
    w(&mut s, "");
    w(&mut s, "[settlement.inpatient_item_conversion]");
    w(&mut s, "base_avg_cost = \"12000.00\"");
    w(&mut s, "cpi_factor = \"1.0300\"");
    w(&mut s, "points_per_weight = \"100\"");
    for c in &cells {
        w(&mut s, "");
        w(
            &mut s,
            &format!(
                "# generated effective points {}",
                round(c.effective_points, 4)
            ),
        );
        w(&mut s, "[[budget]]");
        w(&mut s, &format!("payment_class = \"{}\"", c.payment_class));
        w(&mut s, &format!("budget_class = \"{}\"", c.budget_class));
        w(&mut s, &format!("fee_class = \"{}\"", c.fee_class));
        w(&mut s, &format!("annual = {}", q2(c.annual)));
    }
    for (class, f, t) in &th.by_class {
        w(&mut s, "");
        w(&mut s, "[[volume_price.threshold]]");
        w(&mut s, &format!("budget_class = \"{}\"", class.as_str()));
        w(
            &mut s,
            &format!("fee_class = \"{}\"", if *f == 0 { "drug" } else { "other" }),
        );
        w(&mut s, &format!("per_doctor_day = {}", q2(*t)));
    }
    for (i, f, t) in &th.overrides {
        w(&mut s, "");
        w(
            &mut s,
            "[[volume_price.override]]            # 专科特色: own history",
        );
        w(
            &mut s,
            &format!("institution_id = \"{}\"", ctx.reg.get(*i).id),
        );
        w(
            &mut s,
            &format!("fee_class = \"{}\"", if *f == 0 { "drug" } else { "other" }),
        );
        w(&mut s, &format!("per_doctor_day = {}", q2(*t)));
    }
    for (from, to, coef) in TIERS {
        w(&mut s, "");
        w(&mut s, "[[volume_price.tier]]");
        w(
            &mut s,
            &format!("over_ratio_from = {}", q(dec(from as i128, 2))),
        );
        if let Some(to) = to {
            w(
                &mut s,
                &format!("over_ratio_to = {}", q(dec(to as i128, 2))),
            );
        }
        w(
            &mut s,
            &format!("coefficient = {}", q(dec(coef as i128, 2))),
        );
    }
    let mut rest = String::new();
    let _ = write!(
        rest,
        r#"
[cards]
yellow_hold_months = 1
red_suspend_months = 1

[warnings]
scope_visit_types = ["general_outpatient", "special_outpatient", "pharmacy"]
min_visits = {min_visits}
method = "ratio"
margin = "0.30"
percentile = 90
min_hits = 1
high_frequency_visits = 12

[warnings.margins]
cost_per_visit = "0.25"

[warnings.associated]
top_share = "0.01"
median_multiple = "5"
min_cost_share = "0.20"
min_top_patients = 3

[rules]
readmission_days = 15
overbuy_tolerance = "0.20"
cluster_bucket_minutes = 10
repeat_same_day_min = 3
large_outpatient_amount = "5000.00"
cross_province_inpatient_amount = "30000.00"

[rules.cluster_min_patients]
tertiary = 200
secondary = 80
tcm = 80
family_doctor_primary = 20
other_primary = 20
pharmacy = 15

[rules.institution]
margin = "0.30"
min_admissions = 50

[score]
excellent_from = "90"
pass_from = "60"
consecutive_fail_years = 2
terminate_below = "0"
bottom_elimination_share = "0"
redistribute_forfeit = true

[[score.release]]
min_score = "90"
ratio = "1.00"

[[score.release]]
min_score = "80"
ratio = "0.90"

[[score.release]]
min_score = "70"
ratio = "0.80"

[[score.release]]
min_score = "60"
ratio = "0.60"

[[score.release]]
min_score = "0"
ratio = "0.00"

[[score.indicator]]
id = "cards"
name = "预警亮牌"
weight = "20"
source = "cards"
method = "deduct"
per_yellow = "5"
per_red = "20"

[[score.indicator]]
id = "suspicions"
name = "疑点发生率 (per 1000 claims)"
weight = "20"
source = "suspicion_rate"
method = "lower_better"
good = "1"
bad = "10"

[[score.indicator]]
id = "drug_ratio"
name = "药占比 vs peers"
weight = "10"
source = "drug_ratio_vs_peer"
method = "lower_better"
good = "1.0"
bad = "1.5"
applies_to = ["hospital", "clinic"]

[[score.indicator]]
id = "vbp_share"
name = "集采中选药品使用占比"
weight = "10"
source = "vbp_share"
method = "higher_better"
good = "0.60"
bad = "0.20"
applies_to = ["hospital", "clinic"]

[[score.indicator]]
id = "onsite"
name = "实地考核"
weight = "25"
source = "assessment:onsite"
method = "scaled"

[[score.indicator]]
id = "procurement"
name = "医药采购管理考核"
weight = "15"
source = "assessment:procurement"
method = "scaled"
"#,
        min_visits = ctx.params.min_visits
    );
    s.push_str(&rest);
    (s, cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_tiers() {
        // A = 1,300, T = 1,000: excess 300 → 100×0.1 + 100×0.3 + 100×0.5 = 90
        let r = reduction(130_000, Decimal::from(100), 10);
        assert_eq!(r, Decimal::from(90));
        assert_eq!(reduction(50_000, Decimal::from(100), 10), Decimal::ZERO);
        assert_eq!(reduction(50_000, Decimal::from(100), 0), Decimal::ZERO);
    }

    #[test]
    fn half_away() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-14, 10), -1);
    }
}
