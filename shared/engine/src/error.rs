//! The engine's error type. Each variant says whether a scheduler should retry
//! ([`EngineError::is_retryable`]): storage trouble is transient, bad input and bad policy are
//! not.

use thiserror::Error;

/// Errors of a computation run.
#[derive(Debug, Error)]
pub enum EngineError {
    /// Lake access failed or an input file breaks the data contract (the message names the file
    /// and column).
    #[error(transparent)]
    Lake(#[from] claimlake_lake::LakeError),

    /// The policy file is invalid (the message names the key).
    #[error(transparent)]
    Domain(#[from] claimlake_domain::error::DomainError),

    /// A SQL step failed. `step` names the `.sql` file.
    #[error("SQL step {step}: {source}")]
    Sql {
        step: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },

    /// DataFusion failed outside a named step (registration, collection).
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),

    /// Arrow failed while the engine assembled batches.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// The local working folder (spilled working sets, under the system temp folder) failed:
    /// usually a full disk, which a retry on the same machine would not cure.
    #[error("local working folder: {0}")]
    WorkingFiles(#[source] std::io::Error),

    /// The run cannot start: a prerequisite is missing (e.g. the previous month's results).
    #[error("{0}")]
    Precondition(String),
}

impl EngineError {
    /// True when the same run may succeed if retried later.
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Lake(e) => e.is_retryable(),
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;
