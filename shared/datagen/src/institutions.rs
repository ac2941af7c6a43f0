//! The registry of designated institutions (`reference/institutions`): all six budget classes,
//! size weights, doctors, grades, districts and agreement dates (a couple of institutions start
//! or end their agreement mid-year, one has no dates at all).

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int32Array, RecordBatch, StringArray};

use crate::cal;
use crate::error::Result;
use crate::rng::{Rng, golden_fraction};

/// Budget class (peer group) of an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Tertiary,
    Secondary,
    Tcm,
    FamilyDoctor,
    OtherPrimary,
    Pharmacy,
}

impl Class {
    pub const ALL: [Class; 6] = [
        Class::Tertiary,
        Class::Secondary,
        Class::Tcm,
        Class::FamilyDoctor,
        Class::OtherPrimary,
        Class::Pharmacy,
    ];

    /// The five outpatient budget classes (cells exist for these).
    pub const OUTPATIENT: [Class; 5] = [
        Class::Tertiary,
        Class::Secondary,
        Class::Tcm,
        Class::FamilyDoctor,
        Class::OtherPrimary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Tertiary => "tertiary",
            Class::Secondary => "secondary",
            Class::Tcm => "tcm",
            Class::FamilyDoctor => "family_doctor_primary",
            Class::OtherPrimary => "other_primary",
            Class::Pharmacy => "pharmacy",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Kind of an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hospital,
    Clinic,
    Pharmacy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hospital => "hospital",
            Kind::Clinic => "clinic",
            Kind::Pharmacy => "pharmacy",
        }
    }
}

/// One designated institution.
#[derive(Debug, Clone)]
pub struct Institution {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub class: Class,
    pub level: i32,
    pub district: &'static str,
    pub grade: Option<&'static str>,
    pub agreement_start: Option<i32>,
    pub agreement_end: Option<i32>,
    /// Relative size (per mille of the class's typical size).
    pub weight: u64,
    /// Number of doctors (pharmacists at pharmacies).
    pub doctors: u32,
    /// Has inpatient beds.
    pub inpatient: bool,
    /// Agreement in force the whole generated year (plants go only to these).
    pub full_year: bool,
}

impl Institution {
    /// Whether the agreement is in force on a day.
    #[inline]
    pub fn active(&self, day: i32) -> bool {
        self.agreement_start.is_none_or(|s| day >= s) && self.agreement_end.is_none_or(|e| day <= e)
    }

    /// Inpatient budget cell of the institution: `tcm` or `western`.
    pub fn is_tcm(&self) -> bool {
        self.class == Class::Tcm
    }

    /// `doctor_id` of doctor `d`.
    pub fn doctor_id(&self, d: u32) -> String {
        format!("{}-D{:03}", self.id, d + 1)
    }
}

const DISTRICTS: [&str; 16] = [
    "heping", "hexi", "nankai", "hebei", "hongqiao", "hedong", "binhai", "dongli", "xiqing",
    "jinnan", "beichen", "wuqing", "baodi", "jinghai", "ninghe", "jizhou",
];

/// Outpatient visit share of each class (general + special), used to size doctors.
const CLASS_VISIT_SHARE: [f64; 6] = [0.24, 0.20, 0.08, 0.29, 0.185, 0.0];

/// The registry with per-class weighted pickers.
#[derive(Debug, Clone)]
pub struct Registry {
    pub list: Vec<Institution>,
    /// Members of each class (indices into `list`).
    pub members: [Vec<u32>; 6],
    cum: [Vec<u64>; 6],
    /// Global index of each institution's first doctor (doctor-day bitsets).
    pub doctor_base: Vec<u32>,
    pub total_doctors: u32,
}

impl Registry {
    /// Builds the registry: `counts` per class in [`Class::ALL`] order; `monthly_outpatient`
    /// is the expected city-wide number of outpatient claims per month (sizes doctors).
    pub fn build(seed: u64, year: i32, counts: [u32; 6], monthly_outpatient: f64) -> Registry {
        let mut list = Vec::new();
        let mut hospital_no = 0u32;
        let tiny = counts.iter().sum::<u32>() <= 40;
        let mut members: [Vec<u32>; 6] = Default::default();
        for class in Class::ALL {
            let n = counts[class.index()];
            for k in 0..n {
                let mut rng = Rng::stream(seed, &[0x1157, class as u64, k as u64]);
                let (prefix, no) = match class {
                    Class::Tertiary | Class::Secondary => {
                        hospital_no += 1;
                        ("H", hospital_no)
                    }
                    Class::Tcm => ("T", k + 1),
                    Class::FamilyDoctor => ("F", k + 1),
                    Class::OtherPrimary => ("C", k + 1),
                    Class::Pharmacy => ("P", k + 1),
                };
                let id = format!("{prefix}{no:04}");
                let (kind, level) = match class {
                    Class::Tertiary => (Kind::Hospital, 3),
                    Class::Secondary => (Kind::Hospital, 2),
                    Class::Tcm => (Kind::Hospital, if k % 3 == 0 { 3 } else { 2 }),
                    Class::FamilyDoctor => {
                        if k % 6 == 3 {
                            (Kind::Hospital, 1)
                        } else {
                            (Kind::Clinic, 1)
                        }
                    }
                    Class::OtherPrimary => (Kind::Clinic, if k % 4 == 1 { 0 } else { 1 }),
                    Class::Pharmacy => (Kind::Pharmacy, 0),
                };
                // size: tiny keeps institutions of a class alike (few of each), larger scales
                // spread sizes log-normally within [0.45, 2.2] of the class's typical size.
                let weight = if tiny {
                    900 + rng.below(250)
                } else {
                    (rng.lognormal_mean(1.0, 0.35).clamp(0.45, 2.2) * 1000.0).round() as u64
                };
                let grade = match rng.below(100) {
                    0..=69 => Some("A"),
                    70..=89 => Some("B"),
                    90..=94 => Some("C"),
                    _ => None,
                };
                let district = DISTRICTS[rng.index(DISTRICTS.len())];
                let name = match class {
                    Class::Tertiary => format!("{district} 三级医院 {id}"),
                    Class::Secondary => format!("{district} 二级医院 {id}"),
                    Class::Tcm => format!("{district} 中医医院 {id}"),
                    Class::FamilyDoctor => format!("{district} 社区卫生服务中心 {id}"),
                    Class::OtherPrimary => format!("{district} 门诊部 {id}"),
                    Class::Pharmacy => format!("{district} 大药房 {id}"),
                };
                let start = Some(cal::day_number(year - 9 + (k as i32 % 8), 1, 1));
                members[class.index()].push(list.len() as u32);
                list.push(Institution {
                    id,
                    name,
                    kind,
                    class,
                    level,
                    district,
                    grade,
                    agreement_start: start,
                    agreement_end: None,
                    weight,
                    doctors: 1,
                    inpatient: matches!(class, Class::Tertiary | Class::Secondary | Class::Tcm),
                    full_year: true,
                });
            }
        }
        // agreements that start or end mid-year, and one registry row without dates
        let set_dates = |list: &mut Vec<Institution>, i: u32, s: Option<i32>, e: Option<i32>| {
            let inst = &mut list[i as usize];
            inst.agreement_start = s;
            inst.agreement_end = e;
            inst.full_year = s.is_none_or(|s| s <= cal::day_number(year, 1, 1))
                && e.is_none_or(|e| e >= cal::day_number(year, 12, 31));
        };
        let fd = &members[Class::FamilyDoctor.index()];
        let op = &members[Class::OtherPrimary.index()];
        let ph = &members[Class::Pharmacy.index()];
        if let Some(&i) = fd.last() {
            set_dates(&mut list, i, Some(cal::day_number(year, 5, 1)), None);
        }
        if let Some(&i) = ph.last() {
            set_dates(
                &mut list,
                i,
                Some(cal::day_number(year - 3, 6, 1)),
                Some(cal::day_number(year, 9, 15)),
            );
        }
        if ph.len() >= 2 {
            set_dates(&mut list, ph[ph.len() - 2], None, None);
        }
        if op.len() >= 4 {
            set_dates(
                &mut list,
                op[op.len() - 1],
                Some(cal::day_number(year, 7, 1)),
                None,
            );
        }

        // cumulative weights per class
        let mut cum: [Vec<u64>; 6] = Default::default();
        for class in Class::ALL {
            let mut acc = 0u64;
            for &i in &members[class.index()] {
                acc += list[i as usize].weight;
                cum[class.index()].push(acc);
            }
        }
        // doctors from the expected daily outpatient visits of each institution
        let mut doctor_base = Vec::with_capacity(list.len());
        let mut total_doctors = 0u32;
        for class in Class::ALL {
            let total_w = cum[class.index()].last().copied().unwrap_or(1).max(1) as f64;
            for &i in &members[class.index()] {
                let inst = &mut list[i as usize];
                let share = inst.weight as f64 / total_w;
                let daily = monthly_outpatient * CLASS_VISIT_SHARE[class.index()] * share / 30.0;
                inst.doctors = match class {
                    Class::Tertiary | Class::Secondary | Class::Tcm => {
                        ((daily / 12.0).round() as u32).clamp(3, 600)
                    }
                    Class::FamilyDoctor | Class::OtherPrimary => {
                        ((daily / 15.0).round() as u32).clamp(2, 200)
                    }
                    Class::Pharmacy => 2 + (inst.weight / 700) as u32,
                };
            }
        }
        for inst in &list {
            doctor_base.push(total_doctors);
            total_doctors += inst.doctors;
        }
        Registry {
            list,
            members,
            cum,
            doctor_base,
            total_doctors,
        }
    }

    #[inline]
    pub fn get(&self, i: u32) -> &Institution {
        &self.list[i as usize]
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Weighted pick of an institution of a class from a uniform 64-bit value.
    #[inline]
    pub fn pick(&self, class: Class, r: u64) -> u32 {
        let cum = &self.cum[class.index()];
        let total = *cum.last().expect("class has members");
        let x = ((r as u128 * total as u128) >> 64) as u64;
        let pos = cum.partition_point(|&c| c <= x);
        self.members[class.index()][pos.min(cum.len() - 1)]
    }

    /// Low-discrepancy weighted pick: the `k`-th special patient of a kind (spread evenly).
    pub fn pick_even(&self, class: Class, k: u64) -> u32 {
        self.pick(class, golden_fraction(k))
    }

    /// Whether a class has members.
    pub fn has(&self, class: Class) -> bool {
        !self.members[class.index()].is_empty()
    }

    /// Index of an institution by id.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.list.iter().position(|i| i.id == id).map(|p| p as u32)
    }

    /// The registry as a record batch of the contract schema.
    pub fn batch(&self) -> Result<RecordBatch> {
        let schema = claimlake_lake::contract::institutions();
        let l = &self.list;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                l.iter().map(|i| i.id.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                l.iter().map(|i| i.name.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                l.iter().map(|i| i.kind.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                l.iter().map(|i| i.class.as_str()),
            )),
            Arc::new(Int32Array::from_iter_values(l.iter().map(|i| i.level))),
            Arc::new(StringArray::from_iter_values(l.iter().map(|i| i.district))),
            Arc::new(StringArray::from(
                l.iter().map(|i| i.grade).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                l.iter().map(|i| i.agreement_start).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                l.iter().map(|i| i.agreement_end).collect::<Vec<_>>(),
            )),
        ];
        Ok(RecordBatch::try_new(schema, cols)?)
    }
}
