//! The insured population: a patient is an index, and everything about them is a pure function
//! of `(seed, index)` (profile) or `(seed, index, month)` (stays, visits). No per-patient state is
//! stored, so a city of millions costs no memory and any slice of patients can be generated on
//! any thread.
//!
//! Background guarantees (the suspicion rules must not fire by accident):
//! - stays are admitted only in every third month of a patient's own phase (`adm_slot`) and last
//!   at most 30 days, so two stays of a patient are always more than 15 days apart (R01);
//! - outpatient-type claims never fall on a day from admission to discharge of a stay (R06);
//! - cross-province stays cost less than 29,000 yuan (R08).

use crate::cal;
use crate::institutions::Class;
use crate::rng::Rng;
use crate::{Ctx, tags};

/// Chronic or special condition of a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    General,
    Diabetes,
    Hypertension,
    /// Monthly dialysis (门特 dialysis, outpatient case payment) at a tertiary hospital.
    Dialysis,
    /// Chemotherapy (门特 cancer_chemo) at a tertiary hospital.
    Chemo,
}

/// Everything fixed about a patient.
#[derive(Debug, Clone)]
pub struct Profile {
    pub idx: u64,
    pub gender: &'static str,
    pub employee: bool,
    /// Civil servant (公务员补助: other_fund_paid).
    pub civil: bool,
    pub region: &'static str,
    pub segment: Segment,
    /// Mean general-outpatient visits per month.
    pub gen_rate: f64,
    /// Mean pharmacy purchases per month.
    pub ph_rate: f64,
    pub home_primary: u32,
    pub home_hospital: u32,
    pub home_pharmacy: u32,
    /// Where the patient's 门特 claims are settled.
    pub special_home: u32,
    /// Admissions happen only in absolute months `≡ adm_slot (mod 3)`.
    pub adm_slot: i32,
    /// Probability of an admission in a slot month.
    pub adm_rate: f64,
    /// Special diagnosis code (chronic / special patients).
    pub special_diag: &'static str,
}

/// `patient_id` of a background patient (planted patients use ids starting with `P9`).
pub fn patient_id(idx: u64) -> String {
    format!("P{idx:09}")
}

/// Background patient profile.
pub fn profile(ctx: &Ctx, idx: u64) -> Profile {
    let mut r = Rng::stream(ctx.cfg.seed, &[tags::PROFILE, idx]);
    let gender = if r.below(2) == 0 { "M" } else { "F" };
    let employee = r.below(100) < 56;
    let civil = employee && r.below(100) < 8;
    let region = match r.below(1000) {
        0..=939 => "local",
        940..=979 => "in_province",
        _ => "cross_province",
    };
    let period = ctx.params.special_period;
    let segment = if idx % period == 7 {
        Segment::Chemo
    } else if idx % period == period / 2 + 7 {
        Segment::Dialysis
    } else {
        match r.below(1000) {
            0..=49 => Segment::Diabetes,
            50..=109 => Segment::Hypertension,
            _ => Segment::General,
        }
    };
    // visit intensity: heavy-tailed between patients (log-normal shape of the rate)
    let gen_rate = r.lognormal_mean(0.33, 0.9).min(4.0);
    let ph_rate = r.lognormal_mean(0.12, 0.8).min(1.5);
    let reg = &ctx.reg;
    let primary_class = if r.below(100) < 62 || !reg.has(Class::OtherPrimary) {
        Class::FamilyDoctor
    } else {
        Class::OtherPrimary
    };
    let home_primary = reg.pick(primary_class, r.next_u64());
    let hospital_class = match r.below(100) {
        0..=44 => Class::Tertiary,
        45..=82 => Class::Secondary,
        _ => Class::Tcm,
    };
    let home_hospital = reg.pick(hospital_class, r.next_u64());
    let home_pharmacy = reg.pick(Class::Pharmacy, r.next_u64());
    let k = idx / period;
    let (special_home, special_diag) = match segment {
        Segment::Chemo => (
            reg.pick_even(Class::Tertiary, k),
            if gender == "F" && k % 3 == 2 {
                "C50.900"
            } else if k.is_multiple_of(2) {
                "C34.900"
            } else {
                "C18.900"
            },
        ),
        Segment::Dialysis => (reg.pick_even(Class::Tertiary, k + 1), "N18.500"),
        Segment::Diabetes | Segment::Hypertension => {
            let home = if r.below(100) < 60 {
                home_hospital
            } else {
                home_primary
            };
            let diag = if segment == Segment::Diabetes {
                "E11.900"
            } else {
                "I10.x00"
            };
            (home, diag)
        }
        Segment::General => (home_primary, ""),
    };
    let adm_rate = match segment {
        Segment::General => 0.03,
        Segment::Diabetes | Segment::Hypertension => 0.06,
        Segment::Dialysis | Segment::Chemo => 0.08,
    };
    Profile {
        idx,
        gender,
        employee,
        civil,
        region,
        segment,
        gen_rate,
        ph_rate,
        home_primary,
        home_hospital,
        home_pharmacy,
        special_home,
        adm_slot: r.below(3) as i32,
        adm_rate,
        special_diag,
    }
}

/// An inpatient diagnosis with its DRG group and relative weight (×10⁴).
#[derive(Debug, Clone, Copy)]
pub struct InpDiag {
    pub code: &'static str,
    pub group: &'static str,
    pub rw: i64,
    pub gender: Option<&'static str>,
}

const fn d(
    code: &'static str,
    group: &'static str,
    rw: i64,
    gender: Option<&'static str>,
) -> InpDiag {
    InpDiag {
        code,
        group,
        rw,
        gender,
    }
}

/// Inpatient diagnoses (ICD-10) and CHS-DRG groups with relative weights.
pub static INPATIENT_DIAG: &[InpDiag] = &[
    d("I63.900", "BR23", 13500, None),
    d("I21.000", "FM19", 28000, None),
    d("I50.900", "FR23", 11000, None),
    d("I25.100", "FM39", 16000, None),
    d("J18.000", "ES23", 9500, None),
    d("J44.100", "ES33", 9000, None),
    d("K35.800", "GC19", 8500, None),
    d("K80.100", "HC29", 12000, None),
    d("S72.000", "IC29", 24000, None),
    d("M17.000", "IC49", 29000, None),
    d("C34.900", "ER19", 19000, None),
    d("C18.900", "GB19", 22000, None),
    d("E11.600", "KS13", 8000, None),
    d("N18.500", "LS19", 13000, None),
    d("O80.000", "OD19", 6000, Some("F")),
    d("G45.900", "BR33", 7000, None),
    d("N40.x00", "MB19", 10000, Some("M")),
];

/// General-outpatient diagnoses; the last two are sex-specific.
pub static GENERAL_DIAG: &[&str] = &[
    "J06.900", "J20.900", "K29.700", "M54.500", "L30.900", "N39.000", "R51.x00", "K52.900",
    "H10.900", "I10.x00", "E11.900",
];
pub const MALE_DIAG: &str = "N40.x00";
pub const FEMALE_DIAG: &str = "N94.600";

/// A hospital stay of a background patient.
#[derive(Debug, Clone)]
pub struct Stay {
    pub admit: i32,
    pub discharge: i32,
    pub inst: u32,
    pub diag: usize,
    pub case: bool,
    /// Seed of the stream that prices the stay's claim.
    pub key: u64,
}

/// The stay admitted in absolute month `mabs`, if any (pure function of patient and month).
pub fn stay(ctx: &Ctx, p: &Profile, mabs: i32) -> Option<Stay> {
    if mabs.rem_euclid(3) != p.adm_slot {
        return None;
    }
    let mut r = Rng::stream(ctx.cfg.seed, &[tags::STAY, p.idx, mabs as u64]);
    let (_, month) = cal::from_abs(mabs);
    let p_adm = p.adm_rate * ctx.season[(month - 1) as usize];
    if !r.chance(p_adm) {
        return None;
    }
    let days = cal::days_of(mabs);
    let admit = cal::first_day(mabs) + r.below(days as u64) as i32;
    let los = (r.lognormal_mean(8.0, 0.5).round() as i32).clamp(1, 30);
    let discharge = admit + los;
    let inst = if matches!(p.segment, Segment::Chemo | Segment::Dialysis) {
        p.special_home
    } else {
        p.home_hospital
    };
    let ins = ctx.reg.get(inst);
    if !ins.inpatient || !ins.active(admit) || !ins.active(discharge) {
        return None;
    }
    let diag = loop {
        let k = match p.segment {
            Segment::Chemo => {
                if p.special_diag == "C18.900" {
                    11
                } else {
                    10
                }
            }
            Segment::Dialysis => 13,
            Segment::Diabetes if r.below(2) == 0 => 12,
            _ => r.index(INPATIENT_DIAG.len()),
        };
        match INPATIENT_DIAG[k].gender {
            Some(g) if g != p.gender => continue,
            _ => break k,
        }
    };
    let case = match ins.class {
        Class::Tcm => r.below(100) < 40,
        _ => r.below(100) < 70,
    };
    Some(Stay {
        admit,
        discharge,
        inst,
        diag,
        case,
        key: r.next_u64(),
    })
}
