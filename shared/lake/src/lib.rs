//! The lake: one storage path (`object_store`) for a local folder or an S3 prefix, the layout of
//! the data contract and the outputs as typed paths, table registration in DataFusion, and
//! deterministic Parquet/JSON writing.
//!
//! Every other crate reaches storage only through [`Lake`], so a local demo lake and a production
//! S3 lake run exactly the same code. Publishing (run locks, staging, history, the publish
//! journal) and scenarios are views over that same store (`lock`, `staging`, `publish`,
//! `scenario`), so they too work alike on both.

pub mod contract;
pub mod error;
pub mod layout;
pub mod lock;
pub mod ordered_scan;
pub mod prefixed;
pub mod publish;
pub mod register;
pub mod s3extras;
pub mod scenario;
pub mod staging;
pub mod store;
pub mod write;

pub use error::{LakeError, Result};
pub use s3extras::S3Extras;
pub use store::{InputObject, Lake};
