//! The one error type of the domain crate.
//!
//! Every failure a caller may have to show to an administrator names what was wrong: a policy
//! error carries the dotted TOML path of the offending key (so "the run refuses to start with one
//! message naming the key", policy.md), a period or code error the input that could not be read.

/// Errors raised while reading periods, codes, amounts and policy files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A policy key is missing, mis-typed or breaks a validation rule of policy.md.
    ///
    /// `key` is the dotted TOML path, with the index of an array of tables where there is one:
    /// `settlement.monthly_weights`, `budget[3].annual`, `score.indicator[2].method`.
    #[error("policy key `{key}`: {message}")]
    Policy {
        /// Dotted TOML path of the key.
        key: String,
        /// What is wrong with it and what is expected instead.
        message: String,
    },

    /// A period (`2025-03`, `2025Q1`, `2025`, a partition path) could not be read or is out of range.
    /// The message quotes the bad input.
    #[error("invalid period: {0}")]
    Period(String),

    /// The policy file is not valid TOML at all (syntax error); no key can be named.
    #[error("policy file is not valid TOML: {source}")]
    Toml {
        /// The parser's error, with line and column.
        #[from]
        source: toml::de::Error,
    },

    /// A coded value (data-contract enum) is outside its list.
    #[error("unknown {kind} {value:?}; expected one of: {expected}")]
    UnknownCode {
        /// Which code list, e.g. `visit_type`.
        kind: &'static str,
        /// The value that was read.
        value: String,
        /// The allowed values, comma separated.
        expected: String,
    },

    /// A money, points or point-value amount cannot be held at its fixed scale.
    #[error("invalid {kind} {value:?}: {message}")]
    Amount {
        /// `money`, `points` or `point value`.
        kind: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused.
        message: String,
    },
}

impl DomainError {
    /// Shorthand for a [`DomainError::Policy`] naming `key`.
    pub fn policy(key: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Policy {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The dotted policy key of a [`DomainError::Policy`], `None` for other errors.
    pub fn policy_key(&self) -> Option<&str> {
        match self {
            DomainError::Policy { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Result with [`DomainError`].
pub type Result<T, E = DomainError> = std::result::Result<T, E>;
