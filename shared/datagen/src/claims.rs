//! Claims and their items: the row model, the builders of each kind of claim (general and
//! special outpatient, chemo, dialysis, pharmacy with and without a prescriber, inpatient DRG and
//! item stays), the Arrow batch builders and the per-part Parquet writers, and the background
//! generation of one part of a month (a slice of the population).
//!
//! Money is integer fen (`i64`) from the first line to the Parquet column: a claim's lines are
//! priced first, the header sub-totals are the sums of its lines by fee class (so fee parts sum to
//! the total exactly), and the payer split gives the last payer the remainder (so payer parts sum
//! exactly). Log-normal draws shape a total in yuan as `f64` and are converted to fen at once.
//!
//! Background bounds that keep the suspicion rules silent:
//! - at most one outpatient-type claim of a patient per day (R04), never during a stay (R06);
//! - at most three in-scope claims of a patient at one institution per month, so fewer than 12
//!   in a quarter (no high-frequency patient, operating indicator `high_frequency_share` is 0);
//! - general outpatient totals ≤ 3,000 yuan and pharmacy totals ≤ 2,000 yuan (R05 at 5,000);
//! - `days_supply` 30 only on chronic-drug lines of the monthly 门特 claim and ≤ 7 on acute-drug
//!   lines (≤ 2 pharmacy purchases a month), so no patient exceeds a quarter's days (R02);
//! - gender-limited items only for patients of that sex (R07);
//! - outpatient settle times between 07:30 and 20:59; planted clusters use the night (R03).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int32Builder, RecordBatch, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;

use crate::Ctx;
use crate::badrows::BadState;
use crate::cal;
use crate::catalog::{CATALOG, Fee};
use crate::error::Result;
use crate::institutions::{Class, Institution};
use crate::patients::{
    self, FEMALE_DIAG, GENERAL_DIAG, INPATIENT_DIAG, MALE_DIAG, Profile, Segment,
};
use crate::rng::Rng;
use crate::stats::PartStats;
use crate::tags;

// indices of the 14 money columns (contract order)
pub const TOTAL: usize = 0;
pub const WESTERN: usize = 1;
pub const PATENT: usize = 2;
pub const HERBAL: usize = 3;
pub const CONSUMABLE: usize = 4;
pub const SERVICE: usize = 5;
pub const VBP_AMOUNT: usize = 6;
pub const VBP_POINTS: usize = 7;
pub const KEY_DRUG: usize = 8;
pub const POOL: usize = 9;
pub const SERIOUS: usize = 10;
pub const OTHER_FUND: usize = 11;
pub const ACCOUNT: usize = 12;
pub const CASH: usize = 13;

/// Rows per record batch handed to the Parquet writer.
pub const BATCH_ROWS: usize = 65_536;

/// Visit type of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    General,
    Special,
    Inpatient,
    Pharmacy,
}

impl Visit {
    pub fn as_str(self) -> &'static str {
        match self {
            Visit::General => "general_outpatient",
            Visit::Special => "special_outpatient",
            Visit::Inpatient => "inpatient",
            Visit::Pharmacy => "pharmacy",
        }
    }

    /// In `warnings.scope_visit_types` (and outpatient-type for R03/R04/R06).
    pub fn outpatient_type(self) -> bool {
        !matches!(self, Visit::Inpatient)
    }
}

/// One fee line.
#[derive(Debug, Clone)]
pub struct Line {
    pub item: u16,
    pub qty_milli: i64,
    pub amount: i64,
    pub days: Option<i32>,
}

/// One claim row (and its lines). Optional fields exist so bad rows can null them.
#[derive(Debug, Clone)]
pub struct Claim {
    pub claim_id: String,
    /// Settling institution (index; for accounting — `institution_id` is what is written).
    pub inst: u32,
    pub institution_id: String,
    pub presc: Option<u32>,
    pub prescriber_id: Option<String>,
    pub patient_id: Option<String>,
    pub gender: Option<&'static str>,
    pub insurance_type: Option<&'static str>,
    pub region: Option<&'static str>,
    pub visit: Visit,
    pub visit_type: Option<&'static str>,
    pub special_disease: Option<&'static str>,
    pub pay_method: Option<&'static str>,
    pub case_group: Option<&'static str>,
    /// ×10⁴.
    pub case_points: Option<i64>,
    /// ×10⁴.
    pub drg_weight: Option<i64>,
    pub diagnosis: Option<&'static str>,
    pub doctor_id: Option<String>,
    pub doctor: u32,
    pub settle_ms: i64,
    pub admit: Option<i32>,
    pub discharge: Option<i32>,
    pub money: [i64; 14],
    pub herbal_doses: i32,
    pub reverses: Option<String>,
    pub lines: Vec<Line>,
}

impl Claim {
    /// Day number of the settle time.
    pub fn settle_day(&self) -> i32 {
        self.settle_ms.div_euclid(86_400_000) as i32
    }

    pub fn is_chemo(&self) -> bool {
        self.visit == Visit::Special && self.special_disease == Some("cancer_chemo")
    }

    pub fn is_case(&self) -> bool {
        self.pay_method == Some("case")
    }

    /// The exact mirror of this claim (a reversal row): money, herbal doses and case points
    /// negated, everything else equal; no lines.
    pub fn mirror(&self, claim_id: String, settle_ms: i64) -> Claim {
        let mut m = self.clone();
        m.claim_id = claim_id;
        m.settle_ms = settle_ms;
        m.reverses = Some(self.claim_id.clone());
        for v in m.money.iter_mut() {
            *v = -*v;
        }
        m.herbal_doses = -self.herbal_doses;
        m.case_points = self.case_points.map(|p| -p);
        m.lines.clear();
        m
    }
}

/// Who pays: the patient's insurance facts.
#[derive(Debug, Clone, Copy)]
pub struct Payer {
    pub employee: bool,
    pub civil: bool,
}

impl Payer {
    pub fn of(p: &Profile) -> Payer {
        Payer {
            employee: p.employee,
            civil: p.civil,
        }
    }
}

/// Basic facts of a new claim.
pub struct Head<'a> {
    pub claim_id: String,
    pub inst: u32,
    pub institution: &'a Institution,
    pub patient_id: String,
    pub gender: &'static str,
    pub employee: bool,
    pub region: &'static str,
    pub settle_ms: i64,
    pub doctor: u32,
}

fn new_claim(h: Head<'_>, visit: Visit) -> Claim {
    Claim {
        claim_id: h.claim_id,
        inst: h.inst,
        institution_id: h.institution.id.clone(),
        presc: None,
        prescriber_id: None,
        patient_id: Some(h.patient_id),
        gender: Some(h.gender),
        insurance_type: Some(if h.employee { "employee" } else { "resident" }),
        region: Some(h.region),
        visit,
        visit_type: Some(visit.as_str()),
        special_disease: None,
        pay_method: Some("item"),
        case_group: None,
        case_points: None,
        drg_weight: None,
        diagnosis: None,
        doctor_id: Some(h.institution.doctor_id(h.doctor)),
        doctor: h.doctor,
        settle_ms: h.settle_ms,
        admit: None,
        discharge: None,
        money: [0; 14],
        herbal_doses: 0,
        reverses: None,
        lines: Vec::with_capacity(6),
    }
}

/// Lines under construction.
struct Lines<'r> {
    r: &'r mut Rng,
    lines: Vec<Line>,
}

impl<'r> Lines<'r> {
    fn new(r: &'r mut Rng) -> Self {
        Lines {
            r,
            lines: Vec::with_capacity(6),
        }
    }

    /// Adds a line of `amount` fen (skipped when zero) with a plausible quantity.
    fn add(&mut self, item: u16, amount: i64, days: Option<i32>) {
        if amount <= 0 {
            return;
        }
        let qty = match CATALOG[item as usize].fee {
            Fee::Herbal => self.r.range(5, 14),
            Fee::Service => self.r.range(1, 3),
            _ => self.r.range(1, 6),
        };
        self.lines.push(Line {
            item,
            qty_milli: qty * 1000,
            amount,
            days,
        });
    }

    fn add_qty(&mut self, item: u16, amount: i64, qty: i64, days: Option<i32>) {
        if amount <= 0 {
            return;
        }
        self.lines.push(Line {
            item,
            qty_milli: qty * 1000,
            amount,
            days,
        });
    }

    /// Splits `amount` over one or two lines of `items`.
    fn add_split(&mut self, items: &[u16], amount: i64, days: Option<i32>) {
        if amount <= 0 {
            return;
        }
        if amount >= 2_000 && items.len() > 1 && self.r.below(2) == 0 {
            let a = amount * self.r.range(30, 70) / 100;
            let i = self.r.index(items.len());
            let j = (i + 1 + self.r.index(items.len() - 1)) % items.len();
            self.add(items[i], a, days);
            self.add(items[j], amount - a, days);
        } else {
            let i = *self.r.pick(items);
            self.add(i, amount, days);
        }
    }
}

/// Sets the header sub-totals from the lines (fee parts sum to the total exactly).
pub fn header_from_lines(c: &mut Claim) {
    let mut m = [0i64; 14];
    let mut doses = 0i64;
    for l in &c.lines {
        let it = &CATALOG[l.item as usize];
        let slot = match it.fee {
            Fee::Western => WESTERN,
            Fee::Patent => PATENT,
            Fee::Herbal => {
                doses += l.qty_milli / 1000;
                HERBAL
            }
            Fee::Consumable => CONSUMABLE,
            Fee::Service => SERVICE,
        };
        m[slot] += l.amount;
        if it.vbp && matches!(it.fee, Fee::Western | Fee::Patent) {
            m[VBP_AMOUNT] += l.amount;
        }
        if it.key {
            m[KEY_DRUG] += l.amount;
        }
    }
    m[TOTAL] = m[WESTERN] + m[PATENT] + m[HERBAL] + m[CONSUMABLE] + m[SERVICE];
    // VBP points as the policy sets them: the winning price plus 25% (never below the amount)
    m[VBP_POINTS] = m[VBP_AMOUNT] + m[VBP_AMOUNT] / 4;
    c.money[..9].copy_from_slice(&m[..9]);
    c.herbal_doses = doses as i32;
}

/// Splits the total over the payers; the cash payment takes the remainder (exact).
pub fn split_payers(c: &mut Claim, payer: Payer) {
    let t = c.money[TOTAL];
    let (mut pool, mut serious, mut other, mut account) = (0i64, 0i64, 0i64, 0i64);
    match c.visit {
        Visit::General => {
            pool = t * if payer.employee { 50 } else { 45 } / 100;
            if payer.employee {
                account = (t - pool) * 60 / 100;
            }
        }
        Visit::Special => {
            pool = t * if payer.employee { 80 } else { 70 } / 100;
            if payer.civil {
                other = t * 5 / 100;
            }
            if payer.employee {
                account = (t - pool - other) / 2;
            }
        }
        Visit::Pharmacy => {
            if c.presc.is_some() {
                pool = t / 2;
                if payer.employee {
                    account = (t - pool) / 2;
                }
            } else if payer.employee {
                account = t * 9 / 10;
            }
        }
        Visit::Inpatient => {
            let base = (t - 80_000).max(0);
            pool = base * if payer.employee { 85 } else { 70 } / 100;
            if t > 3_000_000 {
                serious = ((t - 3_000_000) / 2).min(t - pool);
            }
            if payer.civil {
                other = (t * 5 / 100).min(t - pool - serious);
            }
            if payer.employee {
                account = (t - pool - serious - other).min(20_000);
            }
        }
    }
    c.money[POOL] = pool;
    c.money[SERIOUS] = serious;
    c.money[OTHER_FUND] = other;
    c.money[ACCOUNT] = account;
    c.money[CASH] = t - pool - serious - other - account;
}

/// A random outpatient settle time (seconds of the day) between 07:30 and 20:59.
pub fn day_seconds(r: &mut Rng) -> u32 {
    let minute = match r.below(100) {
        0..=59 => r.range(7 * 60 + 30, 11 * 60 + 59),
        60..=94 => r.range(13 * 60, 17 * 60 + 29),
        _ => r.range(17 * 60 + 30, 20 * 60 + 59),
    } as u32;
    minute * 60 + r.below(60) as u32
}

fn key_share(r: &mut Rng, drug: i64) -> i64 {
    // present on most drug claims with a narrow share, so the key-drug ratio of every
    // institution stays close to its peers'
    if drug > 500 && r.below(100) < 85 {
        drug * r.range(40, 100) / 1000
    } else {
        0
    }
}

/// General outpatient claim.
pub fn general(ctx: &Ctx, r: &mut Rng, h: Head<'_>, payer: Payer, total: Option<i64>) -> Claim {
    let class = h.institution.class;
    let gender = h.gender;
    let mut c = new_claim(h, Visit::General);
    let diag = match r.below(100) {
        0..=2 if gender == "M" => MALE_DIAG,
        0..=2 => FEMALE_DIAG,
        _ => *r.pick(GENERAL_DIAG),
    };
    c.diagnosis = Some(diag);
    let mean = match class {
        Class::Tertiary => 320.0,
        Class::Secondary => 240.0,
        Class::Tcm => 260.0,
        Class::FamilyDoctor => 150.0,
        _ => 170.0,
    };
    let total = total.unwrap_or_else(|| r.lognormal_fen(mean, 0.6, 1_500, 300_000));
    let roles = &ctx.roles;
    let hospital = matches!(class, Class::Tertiary | Class::Secondary | Class::Tcm);
    let drug_share = if hospital {
        r.range(450, 750)
    } else {
        r.range(550, 850)
    };
    let drug = total * drug_share / 1000;
    let consumable = if r.below(100) < 25 {
        total * r.range(20, 80) / 1000
    } else {
        0
    };
    let mut l = Lines::new(r);
    let key = key_share(l.r, drug);
    let herbal = if class == Class::Tcm && l.r.below(100) < 55 {
        (drug - key) * l.r.range(50, 80) / 100
    } else {
        0
    };
    let rest = drug - key - herbal;
    let western = rest * l.r.range(60, 100) / 100;
    let patent = rest - western;
    if key > 0 {
        let k = if l.r.below(3) == 0 {
            *l.r.pick(&roles.key_patent)
        } else {
            *l.r.pick(&roles.key_western)
        };
        l.add(k, key, None);
    }
    let days = Some(l.r.range(3, 7) as i32);
    if diag == MALE_DIAG {
        l.add(roles.male_items[0], western, days);
    } else if l.r.below(100) < 60 {
        let v = *l.r.pick(&roles.acute_vbp);
        let a = western * l.r.range(50, 100) / 100;
        l.add(v, a, days);
        l.add_split(&roles.acute_western, western - a, days);
    } else {
        l.add_split(&roles.acute_western, western, days);
    }
    l.add_split(&roles.patent_acute, patent, days);
    l.add_split(&roles.herbal, herbal, None);
    l.add_split(&roles.consumable_out, consumable, None);
    let service = total - drug - consumable;
    let consult = service.min(l.r.range(1_000, 5_000));
    l.add(roles.service_consult, consult, None);
    let exam = service - consult;
    if diag == FEMALE_DIAG {
        let f = *l.r.pick(&roles.female_items[1..]);
        l.add(f, exam, None);
    } else if class == Class::Tcm && l.r.below(2) == 0 {
        l.add_split(&roles.services_tcm, exam, None);
    } else {
        l.add_split(&roles.services_general, exam, None);
    }
    c.lines = l.lines;
    header_from_lines(&mut c);
    split_payers(&mut c, payer);
    c
}

/// Monthly 门特 claim of a chronic patient (diabetes / hypertension): chronic drugs for 30 days.
pub fn chronic(ctx: &Ctx, r: &mut Rng, h: Head<'_>, payer: Payer, p: &Profile) -> Claim {
    let mut c = new_claim(h, Visit::Special);
    let diabetes = p.segment == Segment::Diabetes;
    c.special_disease = Some(if diabetes { "diabetes" } else { "hypertension" });
    c.diagnosis = Some(p.special_diag);
    let roles = &ctx.roles;
    let total = r.lognormal_fen(320.0, 0.3, 8_000, 250_000);
    let drug = total * r.range(750, 900) / 1000;
    let mut l = Lines::new(r);
    let key = key_share(l.r, drug);
    if key > 0 {
        let k = *l.r.pick(&roles.key_patent);
        l.add(k, key, None);
    }
    let list = if diabetes {
        &roles.chronic_dm
    } else {
        &roles.chronic_htn
    };
    // two chronic drugs of the patient's regimen, 30 days each
    let rest = drug - key;
    let patent = if l.r.below(100) < 30 {
        rest * l.r.range(10, 30) / 100
    } else {
        0
    };
    let a = (rest - patent) * l.r.range(40, 70) / 100;
    let i = (p.idx % 3) as usize;
    l.add(list[i], a, Some(30));
    l.add(list[i + 1], rest - patent - a, Some(30));
    let pc = roles.patent_chronic[(p.idx % 3) as usize];
    l.add(pc, patent, Some(30));
    let service = total - drug;
    l.add_split(&roles.service_chronic, service, None);
    c.lines = l.lines;
    header_from_lines(&mut c);
    split_payers(&mut c, payer);
    c
}

/// 门特 chemotherapy claim (item or outpatient case OPC-CHEMO).
pub fn chemo(
    ctx: &Ctx,
    r: &mut Rng,
    h: Head<'_>,
    payer: Payer,
    diag: &'static str,
    case: bool,
) -> Claim {
    let mut c = new_claim(h, Visit::Special);
    c.special_disease = Some("cancer_chemo");
    c.diagnosis = Some(diag);
    let roles = &ctx.roles;
    let total = r.lognormal_fen(3_600.0, 0.35, 120_000, 1_000_000);
    let drug = total * r.range(700, 850) / 1000;
    let mut l = Lines::new(r);
    let key = key_share(l.r, drug);
    if key > 0 {
        let k = *l.r.pick(&roles.key_western);
        l.add(k, key, None);
    }
    let support = (drug - key) * l.r.range(5, 12) / 100;
    l.add(roles.chemo_support, support, None);
    l.add_split(&roles.chemo, drug - key - support, None);
    let consumable = total * l.r.range(10, 30) / 1000;
    l.add(roles.consumable_out[0], consumable, None);
    l.add(roles.service_chemo, total - drug - consumable, None);
    c.lines = l.lines;
    header_from_lines(&mut c);
    if case {
        c.pay_method = Some("case");
        c.case_group = Some("OPC-CHEMO");
        c.case_points = Some(5_000 * 10_000);
    }
    split_payers(&mut c, payer);
    c
}

/// Monthly 门特 dialysis claim, outpatient case payment OPC-DIAL.
pub fn dialysis(ctx: &Ctx, r: &mut Rng, h: Head<'_>, payer: Payer) -> Claim {
    let mut c = new_claim(h, Visit::Special);
    c.special_disease = Some("dialysis");
    c.diagnosis = Some("N18.500");
    let roles = &ctx.roles;
    let total = r.range(480_000, 560_000);
    let drug = total * r.range(150, 250) / 1000;
    let mut l = Lines::new(r);
    let key = key_share(l.r, drug);
    if key > 0 {
        let k = *l.r.pick(&roles.key_western);
        l.add(k, key, None);
    }
    l.add_split(&roles.dialysis_drugs, drug - key, None);
    let consumable = total * l.r.range(80, 120) / 1000;
    l.add_qty(roles.dialyser, consumable, 12, None);
    l.add_qty(roles.service_dialysis, total - drug - consumable, 12, None);
    c.lines = l.lines;
    header_from_lines(&mut c);
    c.pay_method = Some("case");
    c.case_group = Some("OPC-DIAL");
    c.case_points = Some(5_200 * 10_000);
    split_payers(&mut c, payer);
    c
}

/// Pharmacy purchase; with a prescriber (处方流转, pool fund pays) or without (account only).
pub fn pharmacy(
    ctx: &Ctx,
    r: &mut Rng,
    h: Head<'_>,
    payer: Payer,
    presc: Option<(u32, &str)>,
    total: Option<i64>,
) -> Claim {
    let mut c = new_claim(h, Visit::Pharmacy);
    if let Some((pi, pid)) = presc {
        c.presc = Some(pi);
        c.prescriber_id = Some(pid.to_string());
    }
    c.diagnosis = Some(*r.pick(GENERAL_DIAG));
    let roles = &ctx.roles;
    let total = total.unwrap_or_else(|| r.lognormal_fen(95.0, 0.5, 500, 200_000));
    let mut l = Lines::new(r);
    let consumable = if l.r.below(100) < 10 {
        total * l.r.range(20, 80) / 1000
    } else {
        0
    };
    let drug = total - consumable;
    let key = key_share(l.r, drug);
    if key > 0 {
        let k = *l.r.pick(&roles.key_patent);
        let kd = Some(l.r.range(3, 7) as i32);
        l.add(k, key, kd);
    }
    let herbal = if l.r.below(100) < 10 {
        (drug - key) * l.r.range(40, 80) / 100
    } else {
        0
    };
    let rest = drug - key - herbal;
    let patent = if l.r.below(100) < 40 {
        rest * l.r.range(20, 60) / 100
    } else {
        0
    };
    let western = rest - patent;
    let days = Some(l.r.range(3, 7) as i32);
    if l.r.below(2) == 0 {
        let v = *l.r.pick(&roles.acute_vbp);
        l.add(v, western, days);
    } else {
        l.add_split(&roles.acute_western, western, days);
    }
    l.add_split(&roles.patent_acute, patent, days);
    l.add_split(&roles.herbal, herbal, None);
    l.add(roles.consumable_out[2], consumable, None);
    c.lines = l.lines;
    header_from_lines(&mut c);
    split_payers(&mut c, payer);
    c
}

/// Inpatient claim of a stay (DRG case or item), settled on the discharge day.
#[allow(clippy::too_many_arguments)]
pub fn inpatient(
    ctx: &Ctx,
    r: &mut Rng,
    h: Head<'_>,
    payer: Payer,
    admit: i32,
    discharge: i32,
    diag: usize,
    case: bool,
    total_override: Option<i64>,
) -> Claim {
    let tcm = h.institution.is_tcm();
    let cross = h.region == "cross_province";
    let mut c = new_claim(h, Visit::Inpatient);
    let dg = &INPATIENT_DIAG[diag];
    c.diagnosis = Some(dg.code);
    c.admit = Some(admit);
    c.discharge = Some(discharge);
    let rw = dg.rw * r.range(900, 1150) / 1000;
    let roles = &ctx.roles;
    // heavy-tailed stay cost around the group's weight × the city's average stay (12,360 yuan)
    let mean = rw as f64 / 10_000.0 * 12_360.0;
    let hi = if cross { 2_890_000 } else { 40_000_000 };
    let total = total_override.unwrap_or_else(|| r.lognormal_fen(mean, 0.45, 80_000, hi));
    let mut l = Lines::new(r);
    let drug = total * l.r.range(250, 380) / 1000;
    let key = key_share(l.r, drug);
    if key > 0 {
        let k = *l.r.pick(&roles.key_western);
        l.add(k, key, None);
    }
    let herbal = if tcm {
        (drug - key) * l.r.range(25, 45) / 100
    } else {
        0
    };
    let patent = (drug - key - herbal) * l.r.range(8, 20) / 100;
    let western = drug - key - herbal - patent;
    let v = western * l.r.range(30, 60) / 100;
    l.add(roles.inpatient_western[0], v, None);
    l.add_split(&roles.inpatient_western[1..], western - v, None);
    l.add_split(&roles.patent_acute, patent, None);
    if herbal > 0 {
        let doses = (discharge - admit).max(1) as i64;
        let hb = *l.r.pick(&roles.herbal);
        l.add_qty(hb, herbal, doses, None);
    }
    let consumable = total * l.r.range(80, 250) / 1000;
    l.add_split(&roles.consumable_inp, consumable, None);
    let service = total - drug - consumable;
    let los = (discharge - admit).max(1) as i64;
    let bed = (service * 15 / 100).min(los * 8_000);
    l.add_qty(roles.services_inp[0], bed, los, None);
    let nursing = (service - bed) * l.r.range(20, 35) / 100;
    l.add_qty(roles.services_inp[1], nursing, los, None);
    l.add_split(&roles.services_inp[2..], service - bed - nursing, None);
    c.lines = l.lines;
    header_from_lines(&mut c);
    if case {
        c.pay_method = Some("case");
        c.case_group = Some(dg.group);
        c.drg_weight = Some(rw);
        c.case_points = Some(rw * 100);
    }
    split_payers(&mut c, payer);
    c
}

/// Arrow builders of the `claims` schema.
pub struct ClaimsBatch {
    schema: SchemaRef,
    rows: usize,
    claim_id: StringBuilder,
    institution_id: StringBuilder,
    prescriber: StringBuilder,
    patient_id: StringBuilder,
    gender: StringBuilder,
    insurance_type: StringBuilder,
    region: StringBuilder,
    visit_type: StringBuilder,
    special_disease: StringBuilder,
    pay_method: StringBuilder,
    case_group: StringBuilder,
    case_points: Decimal128Builder,
    drg_weight: Decimal128Builder,
    diagnosis: StringBuilder,
    doctor_id: StringBuilder,
    settle_time: TimestampMillisecondBuilder,
    admit: Date32Builder,
    discharge: Date32Builder,
    money: Vec<Decimal128Builder>,
    herbal_doses: Int32Builder,
    reverses: StringBuilder,
}

fn money_builder() -> Decimal128Builder {
    Decimal128Builder::with_capacity(BATCH_ROWS).with_data_type(DataType::Decimal128(18, 2))
}

impl ClaimsBatch {
    pub fn new() -> Self {
        let s = || StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 12);
        ClaimsBatch {
            schema: claimlake_lake::contract::claims(),
            rows: 0,
            claim_id: s(),
            institution_id: s(),
            prescriber: s(),
            patient_id: s(),
            gender: s(),
            insurance_type: s(),
            region: s(),
            visit_type: s(),
            special_disease: s(),
            pay_method: s(),
            case_group: s(),
            case_points: Decimal128Builder::with_capacity(BATCH_ROWS)
                .with_data_type(DataType::Decimal128(20, 4)),
            drg_weight: Decimal128Builder::with_capacity(BATCH_ROWS)
                .with_data_type(DataType::Decimal128(10, 4)),
            diagnosis: s(),
            doctor_id: s(),
            settle_time: TimestampMillisecondBuilder::with_capacity(BATCH_ROWS),
            admit: Date32Builder::with_capacity(BATCH_ROWS),
            discharge: Date32Builder::with_capacity(BATCH_ROWS),
            money: (0..14).map(|_| money_builder()).collect(),
            herbal_doses: Int32Builder::with_capacity(BATCH_ROWS),
            reverses: s(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn push(&mut self, c: &Claim) {
        self.rows += 1;
        self.claim_id.append_value(&c.claim_id);
        self.institution_id.append_value(&c.institution_id);
        self.prescriber.append_option(c.prescriber_id.as_deref());
        self.patient_id.append_option(c.patient_id.as_deref());
        self.gender.append_option(c.gender);
        self.insurance_type.append_option(c.insurance_type);
        self.region.append_option(c.region);
        self.visit_type.append_option(c.visit_type);
        self.special_disease.append_option(c.special_disease);
        self.pay_method.append_option(c.pay_method);
        self.case_group.append_option(c.case_group);
        self.case_points
            .append_option(c.case_points.map(i128::from));
        self.drg_weight.append_option(c.drg_weight.map(i128::from));
        self.diagnosis.append_option(c.diagnosis);
        self.doctor_id.append_option(c.doctor_id.as_deref());
        self.settle_time.append_value(c.settle_ms);
        self.admit.append_option(c.admit);
        self.discharge.append_option(c.discharge);
        for (b, v) in self.money.iter_mut().zip(c.money.iter()) {
            b.append_value(*v as i128);
        }
        self.herbal_doses.append_value(c.herbal_doses);
        self.reverses.append_option(c.reverses.as_deref());
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        self.rows = 0;
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.claim_id.finish()),
            Arc::new(self.institution_id.finish()),
            Arc::new(self.prescriber.finish()),
            Arc::new(self.patient_id.finish()),
            Arc::new(self.gender.finish()),
            Arc::new(self.insurance_type.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.visit_type.finish()),
            Arc::new(self.special_disease.finish()),
            Arc::new(self.pay_method.finish()),
            Arc::new(self.case_group.finish()),
            Arc::new(self.case_points.finish()),
            Arc::new(self.drg_weight.finish()),
            Arc::new(self.diagnosis.finish()),
            Arc::new(self.doctor_id.finish()),
            Arc::new(self.settle_time.finish()),
            Arc::new(self.admit.finish()),
            Arc::new(self.discharge.finish()),
        ];
        let mut money: Vec<ArrayRef> = self
            .money
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let tail = money.split_off(6);
        cols.extend(money);
        cols.push(Arc::new(self.herbal_doses.finish()));
        cols.extend(tail);
        cols.push(Arc::new(self.reverses.finish()));
        Ok(RecordBatch::try_new(self.schema.clone(), cols)?)
    }
}

impl Default for ClaimsBatch {
    fn default() -> Self {
        Self::new()
    }
}

/// Arrow builders of the `claim_items` schema.
pub struct ItemsBatch {
    schema: SchemaRef,
    rows: usize,
    claim_id: StringBuilder,
    line_no: Int32Builder,
    item_code: StringBuilder,
    quantity: Decimal128Builder,
    amount: Decimal128Builder,
    days: Int32Builder,
}

impl ItemsBatch {
    pub fn new() -> Self {
        ItemsBatch {
            schema: claimlake_lake::contract::claim_items(),
            rows: 0,
            claim_id: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 17),
            line_no: Int32Builder::with_capacity(BATCH_ROWS),
            item_code: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 4),
            quantity: Decimal128Builder::with_capacity(BATCH_ROWS)
                .with_data_type(DataType::Decimal128(12, 3)),
            amount: money_builder(),
            days: Int32Builder::with_capacity(BATCH_ROWS),
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn push(&mut self, claim_id: &str, line_no: i32, l: &Line) {
        self.rows += 1;
        self.claim_id.append_value(claim_id);
        self.line_no.append_value(line_no);
        self.item_code.append_value(CATALOG[l.item as usize].code);
        self.quantity.append_value(l.qty_milli as i128);
        self.amount.append_value(l.amount as i128);
        self.days.append_option(l.days);
    }

    pub fn finish(&mut self) -> Result<RecordBatch> {
        self.rows = 0;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.claim_id.finish()),
            Arc::new(self.line_no.finish()),
            Arc::new(self.item_code.finish()),
            Arc::new(self.quantity.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.days.finish()),
        ];
        Ok(RecordBatch::try_new(self.schema.clone(), cols)?)
    }
}

impl Default for ItemsBatch {
    fn default() -> Self {
        Self::new()
    }
}

/// Streams the claims and items of one part into two in-memory Parquet files, batch by batch
/// (a part is a bounded slice of a month, never the whole month).
pub struct PartWriter {
    claims: ClaimsBatch,
    items: ItemsBatch,
    cw: ArrowWriter<Vec<u8>>,
    iw: ArrowWriter<Vec<u8>>,
    pub claim_rows: u64,
    pub item_rows: u64,
}

impl PartWriter {
    pub fn new() -> Result<Self> {
        let props = claimlake_lake::write::writer_properties();
        Ok(PartWriter {
            claims: ClaimsBatch::new(),
            items: ItemsBatch::new(),
            cw: ArrowWriter::try_new(
                Vec::new(),
                claimlake_lake::contract::claims(),
                Some(props.clone()),
            )?,
            iw: ArrowWriter::try_new(
                Vec::new(),
                claimlake_lake::contract::claim_items(),
                Some(props),
            )?,
            claim_rows: 0,
            item_rows: 0,
        })
    }

    /// Writes a claim row, and its lines when `with_items`.
    pub fn claim(&mut self, c: &Claim, with_items: bool) -> Result<()> {
        self.claims.push(c);
        self.claim_rows += 1;
        if self.claims.len() >= BATCH_ROWS {
            let b = self.claims.finish()?;
            self.cw.write(&b)?;
        }
        if with_items {
            for (i, l) in c.lines.iter().enumerate() {
                self.item(&c.claim_id, i as i32 + 1, l)?;
            }
        }
        Ok(())
    }

    /// Writes one item row.
    pub fn item(&mut self, claim_id: &str, line_no: i32, l: &Line) -> Result<()> {
        self.items.push(claim_id, line_no, l);
        self.item_rows += 1;
        if self.items.len() >= BATCH_ROWS {
            let b = self.items.finish()?;
            self.iw.write(&b)?;
        }
        Ok(())
    }

    /// Finishes both files: `(claims.parquet bytes, claim_items.parquet bytes)`.
    pub fn finish(mut self) -> Result<(Vec<u8>, Vec<u8>)> {
        if !self.claims.is_empty() {
            let b = self.claims.finish()?;
            self.cw.write(&b)?;
        }
        if !self.items.is_empty() {
            let b = self.items.finish()?;
            self.iw.write(&b)?;
        }
        Ok((self.cw.into_inner()?, self.iw.into_inner()?))
    }
}

/// Output of one generated part.
pub struct PartOutput {
    pub claims: Vec<u8>,
    pub items: Vec<u8>,
    pub stats: PartStats,
}

/// A running part: writer, statistics, bad-row state and id sequence.
pub struct PartGen<'a> {
    pub ctx: &'a Ctx,
    pub month: u32,
    pub mabs: i32,
    pub part: u32,
    seq: u32,
    pub w: PartWriter,
    pub stats: PartStats,
    pub bad: BadState,
    roles_rng: Rng,
    /// Cross-month reversals are chosen only when the next month is generated too.
    allow_cross: bool,
}

impl<'a> PartGen<'a> {
    pub fn new(ctx: &'a Ctx, month: u32, part: u32, with_bad_rows: bool) -> Result<Self> {
        let mabs = cal::month_abs(ctx.cfg.year, month);
        Ok(PartGen {
            ctx,
            month,
            mabs,
            part,
            seq: 0,
            w: PartWriter::new()?,
            stats: PartStats::new(ctx.reg.len(), ctx.reg.total_doctors as usize),
            bad: BadState::new(ctx, month, part, with_bad_rows),
            roles_rng: Rng::stream(ctx.cfg.seed, &[tags::ROLES, month as u64, part as u64]),
            allow_cross: month < *ctx.cfg.months.end(),
        })
    }

    /// A fresh claim id of this part.
    pub fn next_id(&mut self) -> String {
        self.seq += 1;
        format!(
            "S{:04}{:02}{:03}{:07}",
            self.ctx.cfg.year, self.month, self.part, self.seq
        )
    }

    /// Writes a valid claim and accounts for it.
    pub fn write_valid(&mut self, c: &Claim) -> Result<()> {
        self.w.claim(c, true)?;
        self.stats.valid(self.ctx, c, self.mabs);
        Ok(())
    }

    /// Emits a background claim: it may become a bad row, carry a bad companion row, be reversed
    /// in the same month (netted) or be chosen for a reversal next month.
    pub fn emit(&mut self, c: Claim) -> Result<()> {
        if let Some(reason) = self.bad.take_for(&c) {
            return crate::badrows::apply(self, c, reason);
        }
        let roll = self.roles_rng.below(100_000);
        if roll < 80 {
            // reversed the same month: both rows netted
            let end = cal::millis(
                cal::first_day(self.mabs) + cal::days_of(self.mabs) as i32,
                0,
            ) - 1000;
            let t = (c.settle_ms + self.roles_rng.range(60, 7_200) * 1000).min(end);
            let id = self.next_id();
            let m = c.mirror(id, t);
            self.w.claim(&c, true)?;
            self.w.claim(&m, false)?;
            self.stats.netted_claims += 2;
            self.stats.netted_items += c.lines.len() as u64;
            return Ok(());
        }
        self.write_valid(&c)?;
        if self.allow_cross && roll < 120 {
            self.stats.xmonth.push(c);
        }
        Ok(())
    }

    pub fn finish(self) -> Result<PartOutput> {
        let mut stats = self.stats;
        stats.claim_rows = self.w.claim_rows;
        stats.item_rows = self.w.item_rows;
        let (claims, items) = self.w.finish()?;
        Ok(PartOutput {
            claims,
            items,
            stats,
        })
    }
}

/// Per-patient, per-month bookkeeping: free days and in-scope claims per institution.
struct Month {
    first: i32,
    days: u32,
    free: u32,
    per_inst: [(u32, u8); 8],
    n_inst: usize,
}

impl Month {
    fn take_day(&mut self, r: &mut Rng) -> Option<i32> {
        if self.free == 0 {
            return None;
        }
        for _ in 0..6 {
            let d = r.below(self.days as u64) as u32;
            if self.free & (1 << d) != 0 {
                self.free &= !(1 << d);
                return Some(self.first + d as i32);
            }
        }
        let n = self.free.count_ones();
        let mut k = r.below(n as u64) as u32;
        for d in 0..self.days {
            if self.free & (1 << d) != 0 {
                if k == 0 {
                    self.free &= !(1 << d);
                    return Some(self.first + d as i32);
                }
                k -= 1;
            }
        }
        None
    }

    fn block(&mut self, from: i32, to: i32) {
        for day in from..=to {
            let d = day - self.first;
            if (0..self.days as i32).contains(&d) {
                self.free &= !(1u32 << d);
            }
        }
    }

    /// Counts an in-scope claim at an institution; false when the patient already has three
    /// there this month.
    fn admit_visit(&mut self, inst: u32) -> bool {
        for k in 0..self.n_inst {
            if self.per_inst[k].0 == inst {
                if self.per_inst[k].1 >= 3 {
                    return false;
                }
                self.per_inst[k].1 += 1;
                return true;
            }
        }
        if self.n_inst == self.per_inst.len() {
            return false;
        }
        self.per_inst[self.n_inst] = (inst, 1);
        self.n_inst += 1;
        true
    }
}

fn head<'c>(
    g: &mut PartGen<'c>,
    p: &Profile,
    inst: u32,
    day: i32,
    secs: u32,
    r: &mut Rng,
) -> Head<'c> {
    let ctx = g.ctx;
    let institution = ctx.reg.get(inst);
    Head {
        claim_id: g.next_id(),
        inst,
        institution,
        patient_id: patients::patient_id(p.idx),
        gender: p.gender,
        employee: p.employee,
        region: p.region,
        settle_ms: cal::millis(day, secs),
        doctor: r.below(institution.doctors as u64) as u32,
    }
}

/// Generates one month of one background patient.
pub fn patient_month(g: &mut PartGen<'_>, idx: u64) -> Result<()> {
    let ctx = g.ctx;
    let mabs = g.mabs;
    let p = patients::profile(ctx, idx);
    let payer = Payer::of(&p);
    let mut r = Rng::stream(ctx.cfg.seed, &[tags::MONTH, idx, mabs as u64]);
    let season = ctx.season[(g.month - 1) as usize];
    let first = cal::first_day(mabs);
    let days = cal::days_of(mabs);
    let mut mo = Month {
        first,
        days,
        free: if days == 32 {
            u32::MAX
        } else {
            (1u32 << days) - 1
        },
        per_inst: [(u32::MAX, 0); 8],
        n_inst: 0,
    };
    // stays touching this month: admitted last month or this month
    for m in [mabs - 1, mabs] {
        if let Some(s) = patients::stay(ctx, &p, m) {
            mo.block(s.admit, s.discharge);
            let settle = s.discharge;
            if settle >= first && settle < first + days as i32 {
                let mut sr = Rng::new(s.key);
                let secs = (9 * 3600 + sr.below(8 * 3600)) as u32;
                let h = head(g, &p, s.inst, settle, secs, &mut sr);
                let c = inpatient(
                    ctx,
                    &mut sr,
                    h,
                    payer,
                    s.admit,
                    s.discharge,
                    s.diag,
                    s.case,
                    None,
                );
                g.emit(c)?;
            }
        }
    }
    // 门特 claims
    match p.segment {
        Segment::Diabetes | Segment::Hypertension => {
            if r.below(100) < 92
                && ctx.reg.get(p.special_home).class != Class::Pharmacy
                && let Some(day) = mo.take_day(&mut r)
                && ctx.reg.get(p.special_home).active(day)
                && mo.admit_visit(p.special_home)
            {
                let secs = day_seconds(&mut r);
                let h = head(g, &p, p.special_home, day, secs, &mut r);
                let c = chronic(ctx, &mut r, h, payer, &p);
                g.emit(c)?;
            }
        }
        Segment::Chemo => {
            let n = if r.below(100) < 25 { 2 } else { 1 };
            for k in 0..n {
                if let Some(day) = mo.take_day(&mut r)
                    && mo.admit_visit(p.special_home)
                {
                    let secs = day_seconds(&mut r);
                    let h = head(g, &p, p.special_home, day, secs, &mut r);
                    let case = (mabs + k) % 2 == 0;
                    let c = chemo(ctx, &mut r, h, payer, p.special_diag, case);
                    g.emit(c)?;
                }
            }
        }
        Segment::Dialysis => {
            if let Some(day) = mo.take_day(&mut r)
                && mo.admit_visit(p.special_home)
            {
                let secs = day_seconds(&mut r);
                let h = head(g, &p, p.special_home, day, secs, &mut r);
                let c = dialysis(ctx, &mut r, h, payer);
                g.emit(c)?;
            }
        }
        Segment::General => {}
    }
    // general outpatient visits
    let n = r.poisson(p.gen_rate * season, 6);
    for _ in 0..n {
        let inst = match r.below(100) {
            0..=44 => p.home_primary,
            45..=84 => p.home_hospital,
            _ => {
                let class = match r.below(100) {
                    0..=39 => Class::Tertiary,
                    40..=71 => Class::Secondary,
                    72..=79 => Class::Tcm,
                    80..=89 => Class::FamilyDoctor,
                    _ => Class::OtherPrimary,
                };
                if !ctx.reg.has(class) {
                    continue;
                }
                ctx.reg.pick(class, r.next_u64())
            }
        };
        let Some(day) = mo.take_day(&mut r) else {
            break;
        };
        if !ctx.reg.get(inst).active(day) || !mo.admit_visit(inst) {
            continue;
        }
        let secs = day_seconds(&mut r);
        let h = head(g, &p, inst, day, secs, &mut r);
        let c = general(ctx, &mut r, h, payer, None);
        g.emit(c)?;
    }
    // pharmacy purchases (at most two a month)
    let n = r.poisson(p.ph_rate * season, 2);
    for _ in 0..n {
        let Some(day) = mo.take_day(&mut r) else {
            break;
        };
        let inst = p.home_pharmacy;
        if !ctx.reg.get(inst).active(day) || !mo.admit_visit(inst) {
            continue;
        }
        let presc = if r.below(100) < 30 {
            let pi = if r.below(2) == 0 {
                p.home_hospital
            } else {
                p.home_primary
            };
            let pinst = ctx.reg.get(pi);
            pinst.active(day).then_some((pi, pinst.id.as_str()))
        } else {
            None
        };
        let secs = day_seconds(&mut r);
        let h = head(g, &p, inst, day, secs, &mut r);
        let c = pharmacy(ctx, &mut r, h, payer, presc, None);
        g.emit(c)?;
    }
    Ok(())
}

/// Generates background part `part` of `month`: patients `lo..hi`.
pub fn background_part(ctx: &Ctx, month: u32, part: u32, lo: u64, hi: u64) -> Result<PartOutput> {
    let mut g = PartGen::new(ctx, month, part, true)?;
    for idx in lo..hi {
        patient_month(&mut g, idx)?;
    }
    g.finish()
}
