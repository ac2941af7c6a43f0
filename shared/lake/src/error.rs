//! The lake's error type: every variant names the object (file) and, where it applies, the column,
//! so that an administrator can find and fix the input.

use thiserror::Error;

/// Errors of lake access. `Schema` and `Unreadable` are input problems (not retryable);
/// `Store` may be transient (throttling, time-outs) and is retryable by the caller's policy.
#[derive(Debug, Error)]
pub enum LakeError {
    /// The lake root could not be understood (bad URL, missing bucket).
    #[error("lake root {root:?}: {message}")]
    Root { root: String, message: String },

    /// An object-store call failed (network, permissions, missing object).
    #[error("storage error on {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: object_store::Error,
    },

    /// A file's schema breaks the data contract: a missing column or a column of the wrong type.
    #[error("{file}: column {column:?}: {message}")]
    Schema {
        file: String,
        column: String,
        message: String,
    },

    /// A file could not be read as Parquet.
    #[error("{file}: unreadable Parquet: {message}")]
    Unreadable { file: String, message: String },

    /// A required input object does not exist.
    #[error("missing input {path}: {message}")]
    Missing { path: String, message: String },

    /// An S3-only call (presigning, Object Lock) failed; `retryable` for time-outs, connection
    /// failures, throttling and server errors.
    #[error("S3 {operation} {key}: {message}")]
    S3 {
        operation: String,
        key: String,
        message: String,
        retryable: bool,
    },

    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error("json: {0}")]
    Json(#[from] serde_json::Error),

    /// Another run holds the lock of this (kind, period): retry once it has finished.
    #[error(
        "{what} is locked by run {holder} since {since} ({key}): that run is still publishing; \
         retry when it has finished (a lock left by a crashed run may be taken over from {stale_at})"
    )]
    Locked {
        key: String,
        what: String,
        holder: String,
        since: String,
        stale_at: String,
    },

    /// The run's lock was taken over (it ran longer than the stale-lock limit): it stopped
    /// before replacing any official object.
    #[error(
        "the lock {key} was taken over by run {holder} while this run computed (it took longer \
         than the stale-lock limit); nothing official was replaced: run it again"
    )]
    LockLost { key: String, holder: String },

    /// Publishing failed and could not be undone: the journal says what to complete.
    #[error("publish of run {run_id} interrupted: {message}")]
    Publish { run_id: String, message: String },
}

impl LakeError {
    /// Wraps an object-store error with the path it concerns.
    pub fn store(path: impl std::fmt::Display, source: object_store::Error) -> Self {
        LakeError::Store {
            path: path.to_string(),
            source,
        }
    }

    /// True when the failure may go away on retry (transient storage trouble).
    ///
    /// A held lock, a lost lock and an interrupted publish are retryable too: the same run
    /// succeeds once the other run has finished, or completes the interrupted publish first.
    pub fn is_retryable(&self) -> bool {
        match self {
            LakeError::S3 { retryable, .. } => *retryable,
            LakeError::Store { source, .. } => !matches!(
                source,
                object_store::Error::NotFound { .. }
                    | object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotImplemented { .. }
            ),
            LakeError::Locked { .. } | LakeError::LockLost { .. } | LakeError::Publish { .. } => {
                true
            }
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, LakeError>;
