//! Errors a function returns, typed so the retry policy does the right thing: the Lambda error
//! type is `Retryable.<Class>` or `NonRetryable.<Class>` (e.g. `Retryable.Storage`,
//! `NonRetryable.Policy`), and the message names the file, key or field to fix.

use claimlake_engine::EngineError;
use claimlake_lake::LakeError;
use lambda_runtime::Diagnostic;

/// What went wrong, at the granularity an operator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient storage trouble: throttling, time-outs, a server error, a dropped connection.
    Storage,
    /// A run of the same period holds the lock and is still alive.
    LockHeld,
    /// The event is malformed (unknown field, bad period, bad scenario name).
    BadEvent,
    /// The function's configuration (environment) is wrong.
    Config,
    /// The policy file is invalid (the message names the key).
    Policy,
    /// An input breaks the data contract or is missing (the message names the file).
    Input,
    /// A prerequisite is missing, e.g. the previous month's official results.
    Precondition,
    /// Any other failure of the computation (a bug: not retried).
    Engine,
}

impl ErrorClass {
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Storage => "Storage",
            ErrorClass::LockHeld => "LockHeld",
            ErrorClass::BadEvent => "BadEvent",
            ErrorClass::Config => "Config",
            ErrorClass::Policy => "Policy",
            ErrorClass::Input => "Input",
            ErrorClass::Precondition => "Precondition",
            ErrorClass::Engine => "Engine",
        }
    }
}

/// A function's failure: its class, whether a retry may succeed, and the message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FunctionError {
    pub class: ErrorClass,
    pub retryable: bool,
    pub message: String,
}

impl FunctionError {
    /// A failure that a retry cannot fix.
    pub fn permanent(class: ErrorClass, message: impl Into<String>) -> Self {
        FunctionError {
            class,
            retryable: false,
            message: message.into(),
        }
    }

    pub fn bad_event(message: impl Into<String>) -> Self {
        Self::permanent(ErrorClass::BadEvent, message)
    }

    /// The Lambda error type: `Retryable.Storage`, `NonRetryable.Policy`, ...
    pub fn error_type(&self) -> String {
        format!(
            "{}.{}",
            if self.retryable {
                "Retryable"
            } else {
                "NonRetryable"
            },
            self.class.name()
        )
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type(),
            error_message: e.message,
        }
    }
}

impl From<LakeError> for FunctionError {
    fn from(e: LakeError) -> Self {
        let class = match &e {
            LakeError::Locked { .. } | LakeError::LockLost { .. } => ErrorClass::LockHeld,
            _ if e.is_retryable() => ErrorClass::Storage,
            LakeError::Root { .. } => ErrorClass::Config,
            LakeError::Schema { .. } | LakeError::Unreadable { .. } | LakeError::Missing { .. } => {
                ErrorClass::Input
            }
            _ => ErrorClass::Engine,
        };
        FunctionError {
            class,
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

impl From<EngineError> for FunctionError {
    fn from(e: EngineError) -> Self {
        let retryable = e.is_retryable();
        match e {
            EngineError::Lake(l) => l.into(),
            e => {
                let class = match &e {
                    // Retryable engine errors that are not storage trouble are a held lock.
                    _ if retryable => ErrorClass::LockHeld,
                    EngineError::Domain(_) => ErrorClass::Policy,
                    // The engine reports an invalid policy file as a precondition naming the
                    // file (`policy/2025.toml: …`).
                    EngineError::Precondition(m) if m.starts_with("policy/") => ErrorClass::Policy,
                    EngineError::Precondition(_) => ErrorClass::Precondition,
                    _ => ErrorClass::Engine,
                };
                FunctionError {
                    class,
                    retryable,
                    message: e.to_string(),
                }
            }
        }
    }
}
