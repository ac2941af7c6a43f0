//! The generator's error type.

use thiserror::Error;

/// Errors of [`crate::generate`].
#[derive(Debug, Error)]
pub enum DatagenError {
    /// The configuration cannot be generated (months outside 1..=12, empty range …).
    #[error("invalid generator configuration: {0}")]
    Config(String),

    /// Writing to the lake failed.
    #[error(transparent)]
    Lake(#[from] claimlake_lake::LakeError),

    /// Building a record batch failed (a bug: the schemas are fixed).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// Encoding Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    /// A worker thread panicked.
    #[error("generator worker failed: {0}")]
    Worker(String),
}

pub type Result<T> = std::result::Result<T, DatagenError>;
