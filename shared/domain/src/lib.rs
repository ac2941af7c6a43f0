//! Shared domain of claimlake: periods, the coded values of the data contract, fixed-scale
//! money, budget cells and the policy model with its validation.
//!
//! The crate has no I/O: the lake crate reads bytes, the engine computes; both agree here on
//! spellings (`codes`), on rounding (`money`), on calendar arithmetic (`period`) and on what a
//! policy file means (`policy`).

#![warn(missing_docs)]

pub mod cell;
pub mod codes;
pub mod error;
pub mod money;
pub mod period;
pub mod policy;

pub use cell::{Cell, CellClass};
pub use codes::*;
pub use error::{DomainError, Result};
pub use money::{Money, PointValue, Points, round2, round4, round6};
pub use period::{Month, Quarter, Year};
pub use policy::Policy;
