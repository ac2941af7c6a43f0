//! Why a benchmark run stopped.

/// A benchmark failure: the command and where its output went, or the file that could not be
/// read or written.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("`{command}` failed; its output is in {log}")]
    Failed { command: String, log: String },
    #[error("scan floor query failed: {0}")]
    Floor(#[from] datafusion::error::DataFusionError),
    #[error("{0}")]
    Usage(String),
}

pub type Result<T> = std::result::Result<T, BenchError>;
