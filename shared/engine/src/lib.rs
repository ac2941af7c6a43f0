//! The computations of claimlake. Business rules live in `.sql` files under `sql/` (one file per
//! spec step, each stating its grain and invariants); Rust here orchestrates them: it registers
//! the lake's tables, runs the steps in order, validates, and writes results and manifests.

pub mod cells;
pub mod error;
pub mod explain;
pub mod ingest;
pub mod manifest;
pub mod publish;
mod pushdown;
pub mod recompute;
pub mod runs;
pub mod scenario;
pub mod score;
pub mod session;
pub mod settle;
pub mod sql;
pub mod tables;
pub mod udf;
pub mod warn;
pub mod warn_rules;

pub use error::{EngineError, Result};
