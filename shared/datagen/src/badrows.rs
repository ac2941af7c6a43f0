//! Bad rows: at a configurable rate, background claims are turned into rows that fail exactly
//! one validation rule of data-contract.md — as their *first* failing reason, the rules being
//! checked in the table's order — or get a bad companion row (a duplicate, an orphan or a
//! mismatched reversal, an orphan item).
//!
//! Every `100_000 / bad_rows_per_100k`-th background claim of a part triggers the next reason of
//! a fixed cycle over all sixteen generated reasons (the cycle's start depends on the month and
//! part, so small lakes still see every reason). A reason that needs a particular claim (an
//! inpatient stay, a pharmacy purchase) waits for the next such claim. How each row is built:
//!
//! | reason | construction (all earlier checks still pass) |
//! |---|---|
//! | `missing_field` | `patient_id` null, or `doctor_id` null on an outpatient claim |
//! | `bad_enum` | `insurance_type = "commercial"` or `insured_region = "overseas"` |
//! | `fee_parts_mismatch` | `service_amount` + 0.01, total unchanged |
//! | `payer_parts_mismatch` | `cash_paid` + 0.01, total unchanged |
//! | `negative_amount` | `consumable_amount = −1.00` (service raised so fee parts still sum) or `cash_paid = −1.00` (pool raised) |
//! | `vbp_exceeds_drugs` | `vbp_amount = western + patent + 1.00` |
//! | `unknown_institution` | `institution_id` not in the registry (`X9xxx`) |
//! | `invalid_prescriber` | a pharmacy purchase whose prescriber is another pharmacy |
//! | `visit_type_mismatch` | a general outpatient claim of a hospital/clinic labelled `pharmacy`, or a pharmacy purchase labelled `general_outpatient` |
//! | `wrong_partition` | `settle_time` the first millisecond of the next month or the last of the previous one |
//! | `duplicate_claim` | an exact copy of the valid claim written just before it (the copy has no items) |
//! | `orphan_reversal` | an exact mirror naming a claim id that exists nowhere |
//! | `reversal_mismatch` | a mirror of a valid claim with 0.01 moved from pool to cash, or another doctor |
//! | `inpatient_dates` | an inpatient claim with `discharge_date < admit_date` |
//! | `pharmacy_fund_without_prescriber` | an account-only purchase with 1.00 moved to `pool_fund_paid` |
//! | `orphan_item` | an item row whose `claim_id` is in no claims row |
//!
//! Items of a turned claim stay with it and count as `claim_quarantined`; reversal rows have no
//! items.

use std::collections::VecDeque;

use crate::Ctx;
use crate::cal;
use crate::claims::{
    ACCOUNT, CASH, CONSUMABLE, Claim, PATENT, POOL, PartGen, SERVICE, VBP_AMOUNT, VBP_POINTS,
    Visit, WESTERN,
};
use crate::error::Result;
use crate::institutions::Class;
use crate::rng::hash;
use crate::tags;

/// A quarantine reason of data-contract.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    MissingField,
    BadEnum,
    FeePartsMismatch,
    PayerPartsMismatch,
    NegativeAmount,
    VbpExceedsDrugs,
    UnknownInstitution,
    InvalidPrescriber,
    VisitTypeMismatch,
    WrongPartition,
    DuplicateClaim,
    OrphanReversal,
    ReversalMismatch,
    InpatientDates,
    PharmacyFundWithoutPrescriber,
    OrphanItem,
    ClaimQuarantined,
}

impl Reason {
    /// The fifteen claim reasons, in the contract's order.
    pub const CLAIMS: [Reason; 15] = [
        Reason::MissingField,
        Reason::BadEnum,
        Reason::FeePartsMismatch,
        Reason::PayerPartsMismatch,
        Reason::NegativeAmount,
        Reason::VbpExceedsDrugs,
        Reason::UnknownInstitution,
        Reason::InvalidPrescriber,
        Reason::VisitTypeMismatch,
        Reason::WrongPartition,
        Reason::DuplicateClaim,
        Reason::OrphanReversal,
        Reason::ReversalMismatch,
        Reason::InpatientDates,
        Reason::PharmacyFundWithoutPrescriber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingField => "missing_field",
            Reason::BadEnum => "bad_enum",
            Reason::FeePartsMismatch => "fee_parts_mismatch",
            Reason::PayerPartsMismatch => "payer_parts_mismatch",
            Reason::NegativeAmount => "negative_amount",
            Reason::VbpExceedsDrugs => "vbp_exceeds_drugs",
            Reason::UnknownInstitution => "unknown_institution",
            Reason::InvalidPrescriber => "invalid_prescriber",
            Reason::VisitTypeMismatch => "visit_type_mismatch",
            Reason::WrongPartition => "wrong_partition",
            Reason::DuplicateClaim => "duplicate_claim",
            Reason::OrphanReversal => "orphan_reversal",
            Reason::ReversalMismatch => "reversal_mismatch",
            Reason::InpatientDates => "inpatient_dates",
            Reason::PharmacyFundWithoutPrescriber => "pharmacy_fund_without_prescriber",
            Reason::OrphanItem => "orphan_item",
            Reason::ClaimQuarantined => "claim_quarantined",
        }
    }

    /// Index of a claim reason in [`Reason::CLAIMS`].
    pub fn claim_index(self) -> Option<usize> {
        Reason::CLAIMS.iter().position(|r| *r == self)
    }

    fn applies_to(self, c: &Claim, pharmacies: usize) -> bool {
        match self {
            Reason::InvalidPrescriber => c.visit == Visit::Pharmacy && pharmacies >= 2,
            Reason::PharmacyFundWithoutPrescriber => {
                c.visit == Visit::Pharmacy && c.presc.is_none() && c.money[POOL] == 0
            }
            Reason::InpatientDates => c.visit == Visit::Inpatient,
            Reason::VisitTypeMismatch => matches!(c.visit, Visit::General | Visit::Pharmacy),
            _ => true,
        }
    }
}

/// The cycle of generated reasons (`claim_quarantined` follows from the claim reasons).
const CYCLE: [Reason; 16] = [
    Reason::MissingField,
    Reason::BadEnum,
    Reason::FeePartsMismatch,
    Reason::PayerPartsMismatch,
    Reason::NegativeAmount,
    Reason::VbpExceedsDrugs,
    Reason::UnknownInstitution,
    Reason::InvalidPrescriber,
    Reason::VisitTypeMismatch,
    Reason::WrongPartition,
    Reason::DuplicateClaim,
    Reason::OrphanReversal,
    Reason::ReversalMismatch,
    Reason::InpatientDates,
    Reason::PharmacyFundWithoutPrescriber,
    Reason::OrphanItem,
];

/// Bad-row trigger state of one part.
#[derive(Debug, Clone)]
pub struct BadState {
    enabled: bool,
    interval: u64,
    countdown: u64,
    next: usize,
    pending: VecDeque<Reason>,
    pharmacies: usize,
    /// Alternates the variants of a reason.
    variant: u64,
}

impl BadState {
    pub fn new(ctx: &Ctx, month: u32, part: u32, enabled: bool) -> Self {
        let rate = ctx.cfg.bad_rows_per_100k as u64;
        let enabled = enabled && rate > 0;
        let interval = 100_000u64.checked_div(rate).map_or(u64::MAX, |i| i.max(1));
        let h = hash(ctx.cfg.seed, &[tags::BAD, month as u64, part as u64]);
        BadState {
            enabled,
            interval,
            countdown: if enabled { 1 + h % interval } else { 0 },
            next: ((h >> 32) % CYCLE.len() as u64) as usize,
            pending: VecDeque::new(),
            pharmacies: ctx.reg.members[Class::Pharmacy.index()].len(),
            variant: h >> 48,
        }
    }

    /// Counts a background claim and returns the bad-row reason to apply to it, if any.
    pub fn take_for(&mut self, c: &Claim) -> Option<Reason> {
        if !self.enabled {
            return None;
        }
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = self.interval;
            self.pending.push_back(CYCLE[self.next]);
            self.next = (self.next + 1) % CYCLE.len();
            if self.pending.len() > 32 {
                self.pending.pop_front();
            }
        }
        let pos = self
            .pending
            .iter()
            .position(|r| r.applies_to(c, self.pharmacies))?;
        self.pending.remove(pos)
    }

    fn variant(&mut self) -> u64 {
        self.variant = self.variant.wrapping_add(1);
        self.variant
    }
}

fn quarantine(g: &mut PartGen<'_>, c: &Claim, reason: Reason) -> Result<()> {
    g.w.claim(c, true)?;
    let i = reason.claim_index().expect("claim reason");
    g.stats.q_claims[i] += 1;
    g.stats.q_claim_items += c.lines.len() as u64;
    Ok(())
}

fn month_end_ms(g: &PartGen<'_>) -> i64 {
    cal::millis(cal::first_day(g.mabs) + cal::days_of(g.mabs) as i32, 0)
}

/// Applies a bad-row reason to background claim `c`.
pub fn apply(g: &mut PartGen<'_>, mut c: Claim, reason: Reason) -> Result<()> {
    let v = g.bad.variant();
    match reason {
        Reason::MissingField => {
            if v % 2 == 1 && matches!(c.visit, Visit::General | Visit::Special) {
                c.doctor_id = None;
            } else {
                c.patient_id = None;
            }
            quarantine(g, &c, reason)
        }
        Reason::BadEnum => {
            if v.is_multiple_of(2) {
                c.insurance_type = Some("commercial");
            } else {
                c.region = Some("overseas");
            }
            quarantine(g, &c, reason)
        }
        Reason::FeePartsMismatch => {
            c.money[SERVICE] += 1;
            quarantine(g, &c, reason)
        }
        Reason::PayerPartsMismatch => {
            c.money[CASH] += 1;
            quarantine(g, &c, reason)
        }
        Reason::NegativeAmount => {
            if v.is_multiple_of(2) {
                c.money[SERVICE] += c.money[CONSUMABLE] + 100;
                c.money[CONSUMABLE] = -100;
            } else {
                c.money[POOL] += c.money[CASH] + 100;
                c.money[CASH] = -100;
            }
            quarantine(g, &c, reason)
        }
        Reason::VbpExceedsDrugs => {
            c.money[VBP_AMOUNT] = c.money[WESTERN] + c.money[PATENT] + 100;
            c.money[VBP_POINTS] = c.money[VBP_AMOUNT] + c.money[VBP_AMOUNT] / 4;
            quarantine(g, &c, reason)
        }
        Reason::UnknownInstitution => {
            c.institution_id = format!("X9{:03}", v % 1000);
            quarantine(g, &c, reason)
        }
        Reason::InvalidPrescriber => {
            let ph = &g.ctx.reg.members[Class::Pharmacy.index()];
            let mut other = ph[(v as usize) % ph.len()];
            if other == c.inst {
                other = ph[(v as usize + 1) % ph.len()];
            }
            c.presc = Some(other);
            c.prescriber_id = Some(g.ctx.reg.get(other).id.clone());
            quarantine(g, &c, reason)
        }
        Reason::VisitTypeMismatch => {
            if c.visit == Visit::Pharmacy {
                c.visit_type = Some("general_outpatient");
            } else {
                c.visit_type = Some("pharmacy");
            }
            quarantine(g, &c, reason)
        }
        Reason::WrongPartition => {
            c.settle_ms = if v.is_multiple_of(2) {
                month_end_ms(g)
            } else {
                cal::millis(cal::first_day(g.mabs), 0) - 1
            };
            quarantine(g, &c, reason)
        }
        Reason::InpatientDates => {
            let (a, d) = (c.admit.unwrap_or(0), c.discharge.unwrap_or(0));
            if a < d {
                c.admit = Some(d);
                c.discharge = Some(a);
            } else {
                c.discharge = Some(a - 1);
            }
            quarantine(g, &c, reason)
        }
        Reason::PharmacyFundWithoutPrescriber => {
            let from = if c.money[CASH] >= c.money[ACCOUNT] {
                CASH
            } else {
                ACCOUNT
            };
            let moved = c.money[from].min(100);
            c.money[from] -= moved;
            c.money[POOL] += moved;
            quarantine(g, &c, reason)
        }
        Reason::DuplicateClaim => {
            g.write_valid(&c)?;
            g.w.claim(&c, false)?;
            g.stats.q_claims[reason.claim_index().expect("claim reason")] += 1;
            Ok(())
        }
        Reason::OrphanReversal | Reason::ReversalMismatch => {
            g.write_valid(&c)?;
            let id = g.next_id();
            let t = (c.settle_ms + 600_000).min(month_end_ms(g) - 1000);
            let mut m = c.mirror(id, t);
            if reason == Reason::OrphanReversal {
                m.reverses = Some(g.next_id());
            } else if c.money[POOL] > 0 {
                m.money[POOL] += 1;
                m.money[CASH] -= 1;
            } else {
                let inst = g.ctx.reg.get(c.inst);
                let d = (c.doctor + 1) % inst.doctors.max(2);
                m.doctor_id = Some(inst.doctor_id(d));
            }
            g.w.claim(&m, false)?;
            g.stats.q_claims[reason.claim_index().expect("claim reason")] += 1;
            Ok(())
        }
        Reason::OrphanItem => {
            g.write_valid(&c)?;
            let id = g.next_id();
            if let Some(l) = c.lines.first() {
                g.w.item(&id, 1, l)?;
                g.stats.q_orphan_items += 1;
            }
            Ok(())
        }
        Reason::ClaimQuarantined => unreachable!("not generated directly"),
    }
}
