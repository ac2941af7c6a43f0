//! Budget cells: the (payment class, class, fee class) triples that each have a budget and a
//! point value.
//!
//! Outpatient cells are keyed by an institution budget class (`tertiary` … `other_primary`) and
//! `drug`/`other`; inpatient cells by `western`/`tcm` and `all`. The class column therefore holds
//! values of two lists, which [`CellClass`] unites so that one type serves budgets, point values
//! and settlement lines.

use std::fmt;

use crate::codes::{BudgetClass, FeeClass, PaymentClass, code_enum};

code_enum! {
    /// The `budget_class` column of a cell: an outpatient budget class, or `western`/`tcm` for
    /// inpatient cells (`tcm` serves both).
    pub enum CellClass: "cell budget_class" {
        /// 三级 (outpatient).
        Tertiary = "tertiary",
        /// 二级 (outpatient).
        Secondary = "secondary",
        /// 中医: outpatient class and inpatient cell.
        Tcm = "tcm",
        /// 家医签约基层 (outpatient).
        FamilyDoctorPrimary = "family_doctor_primary",
        /// 其他基层 (outpatient).
        OtherPrimary = "other_primary",
        /// 零售药店: never a valid cell (kept so every [`BudgetClass`] converts).
        Pharmacy = "pharmacy",
        /// Inpatient cell of all non-tcm hospitals.
        Western = "western",
    }
}

impl CellClass {
    /// Whether an outpatient cell may carry this class (the five outpatient budget classes).
    pub const fn is_outpatient(self) -> bool {
        matches!(
            self,
            CellClass::Tertiary
                | CellClass::Secondary
                | CellClass::Tcm
                | CellClass::FamilyDoctorPrimary
                | CellClass::OtherPrimary
        )
    }

    /// Whether an inpatient cell may carry this class (`western`, `tcm`).
    pub const fn is_inpatient(self) -> bool {
        matches!(self, CellClass::Western | CellClass::Tcm)
    }

    /// The inpatient class W/T(b) of an institution of budget class `class`: `tcm` for `tcm`,
    /// `western` for every other (monthly-settlement.md Step 2).
    pub const fn inpatient_for(class: BudgetClass) -> CellClass {
        match class {
            BudgetClass::Tcm => CellClass::Tcm,
            _ => CellClass::Western,
        }
    }

    /// The institution budget class of the same spelling; `None` for `western`.
    pub const fn budget_class(self) -> Option<BudgetClass> {
        Some(match self {
            CellClass::Tertiary => BudgetClass::Tertiary,
            CellClass::Secondary => BudgetClass::Secondary,
            CellClass::Tcm => BudgetClass::Tcm,
            CellClass::FamilyDoctorPrimary => BudgetClass::FamilyDoctorPrimary,
            CellClass::OtherPrimary => BudgetClass::OtherPrimary,
            CellClass::Pharmacy => BudgetClass::Pharmacy,
            CellClass::Western => return None,
        })
    }
}

impl From<BudgetClass> for CellClass {
    fn from(class: BudgetClass) -> Self {
        match class {
            BudgetClass::Tertiary => CellClass::Tertiary,
            BudgetClass::Secondary => CellClass::Secondary,
            BudgetClass::Tcm => CellClass::Tcm,
            BudgetClass::FamilyDoctorPrimary => CellClass::FamilyDoctorPrimary,
            BudgetClass::OtherPrimary => CellClass::OtherPrimary,
            BudgetClass::Pharmacy => CellClass::Pharmacy,
        }
    }
}

/// A budget cell. Ordered by payment class, class, fee class (the key order of `point_values`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Cell {
    /// Outpatient or inpatient.
    pub payment_class: PaymentClass,
    /// Outpatient budget class, or `western`/`tcm`.
    pub budget_class: CellClass,
    /// `drug`/`other` (outpatient) or `all` (inpatient).
    pub fee_class: FeeClass,
}

impl Cell {
    /// A cell from its three parts (not checked; see [`Cell::is_valid`]).
    pub const fn new(
        payment_class: PaymentClass,
        budget_class: CellClass,
        fee_class: FeeClass,
    ) -> Self {
        Cell {
            payment_class,
            budget_class,
            fee_class,
        }
    }

    /// The outpatient cell (`outpatient`, `class`, `fee_class`).
    pub const fn outpatient(class: BudgetClass, fee_class: FeeClass) -> Self {
        let budget_class = match class {
            BudgetClass::Tertiary => CellClass::Tertiary,
            BudgetClass::Secondary => CellClass::Secondary,
            BudgetClass::Tcm => CellClass::Tcm,
            BudgetClass::FamilyDoctorPrimary => CellClass::FamilyDoctorPrimary,
            BudgetClass::OtherPrimary => CellClass::OtherPrimary,
            BudgetClass::Pharmacy => CellClass::Pharmacy,
        };
        Cell::new(PaymentClass::Outpatient, budget_class, fee_class)
    }

    /// The inpatient cell W/T(b) of an institution of budget class `class`
    /// (`inpatient`, `tcm`|`western`, `all`).
    pub const fn inpatient_for(class: BudgetClass) -> Self {
        Cell::new(
            PaymentClass::Inpatient,
            CellClass::inpatient_for(class),
            FeeClass::All,
        )
    }

    /// Whether the cell is one the policy may budget: an outpatient budget class with
    /// `drug`/`other`, or `western`/`tcm` with `all`.
    pub const fn is_valid(&self) -> bool {
        match self.payment_class {
            PaymentClass::Outpatient => {
                self.budget_class.is_outpatient()
                    && matches!(self.fee_class, FeeClass::Drug | FeeClass::Other)
            }
            PaymentClass::Inpatient => {
                self.budget_class.is_inpatient() && matches!(self.fee_class, FeeClass::All)
            }
        }
    }

    /// Every valid cell: 10 outpatient then 2 inpatient, in key order.
    pub fn all() -> Vec<Cell> {
        let mut cells: Vec<Cell> = BudgetClass::OUTPATIENT
            .iter()
            .flat_map(|c| {
                FeeClass::OUTPATIENT
                    .iter()
                    .map(move |f| Cell::outpatient(*c, *f))
            })
            .collect();
        cells.push(Cell::new(
            PaymentClass::Inpatient,
            CellClass::Tcm,
            FeeClass::All,
        ));
        cells.push(Cell::new(
            PaymentClass::Inpatient,
            CellClass::Western,
            FeeClass::All,
        ));
        cells.sort();
        cells
    }
}

impl fmt::Display for Cell {
    /// `outpatient/tertiary/drug`: how error messages and notes name a cell.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.payment_class, self.budget_class, self.fee_class
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inpatient_cell_of_a_class() {
        assert_eq!(
            Cell::inpatient_for(BudgetClass::Tcm).to_string(),
            "inpatient/tcm/all"
        );
        assert_eq!(
            Cell::inpatient_for(BudgetClass::Tertiary).to_string(),
            "inpatient/western/all"
        );
        assert_eq!(
            Cell::outpatient(BudgetClass::OtherPrimary, FeeClass::Other).to_string(),
            "outpatient/other_primary/other"
        );
    }

    #[test]
    fn twelve_valid_cells() {
        let all = Cell::all();
        assert_eq!(all.len(), 12);
        assert!(all.iter().all(Cell::is_valid));
        assert!(!Cell::outpatient(BudgetClass::Pharmacy, FeeClass::Drug).is_valid());
        assert!(!Cell::new(PaymentClass::Inpatient, CellClass::Tertiary, FeeClass::All).is_valid());
        assert!(
            !Cell::new(PaymentClass::Outpatient, CellClass::Western, FeeClass::Drug).is_valid()
        );
        assert!(!Cell::outpatient(BudgetClass::Tcm, FeeClass::All).is_valid());
    }
}
