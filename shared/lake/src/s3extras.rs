//! What only S3 has, through `aws-sdk-s3`: presigned GET URLs for reports and Object Lock
//! retention for official objects. Everything else (reads, writes, listings, create-only locks)
//! goes through the lake's `object_store`, so local and S3 lakes share one code path.
//!
//! The client is built from the same settings as the lake's store: the endpoint
//! (`CLAIMLAKE_S3_ENDPOINT` / `AWS_ENDPOINT_URL`), path-style addressing unless
//! `CLAIMLAKE_S3_VIRTUAL_HOSTED=true`, the region, and the very credential provider object_store
//! resolved (environment, web identity, container or instance credentials), so the two clients
//! can never disagree about who the function is.
//!
//! Retention settings (read once when the lake is opened):
//! - `CLAIMLAKE_OBJECT_LOCK_DAYS` (default 3650): days an official object is retained;
//! - `CLAIMLAKE_OBJECT_LOCK_MODE` (`GOVERNANCE`, the default, or `COMPLIANCE`);
//! - `CLAIMLAKE_PRESIGN_SECONDS` (default 3600, at most 604800): lifetime of presigned URLs.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{ObjectLockEnabled, ObjectLockRetention, ObjectLockRetentionMode};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use object_store::aws::AwsCredentialProvider;

use crate::error::{LakeError, Result};

/// Object Lock retention applied by [`S3Extras::retain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSettings {
    pub days: u32,
    /// `GOVERNANCE` (privileged users may shorten it) or `COMPLIANCE` (nobody can).
    pub mode: String,
}

impl RetentionSettings {
    /// From `CLAIMLAKE_OBJECT_LOCK_DAYS` and `CLAIMLAKE_OBJECT_LOCK_MODE`.
    pub fn from_env() -> Result<Self> {
        let days = match std::env::var("CLAIMLAKE_OBJECT_LOCK_DAYS") {
            Ok(v) => v.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| {
                config_error(format!(
                    "CLAIMLAKE_OBJECT_LOCK_DAYS={v:?}: expected a positive number of days"
                ))
            })?,
            Err(_) => 3650,
        };
        let mode = std::env::var("CLAIMLAKE_OBJECT_LOCK_MODE")
            .unwrap_or_else(|_| "GOVERNANCE".into())
            .to_ascii_uppercase();
        if mode != "GOVERNANCE" && mode != "COMPLIANCE" {
            return Err(config_error(format!(
                "CLAIMLAKE_OBJECT_LOCK_MODE={mode:?}: expected GOVERNANCE or COMPLIANCE"
            )));
        }
        Ok(RetentionSettings { days, mode })
    }
}

fn config_error(message: String) -> LakeError {
    LakeError::Root {
        root: "s3 settings".into(),
        message,
    }
}

/// The S3-only operations of an S3 lake ([`crate::Lake::s3_extras`]).
#[derive(Debug, Clone)]
pub struct S3Extras {
    client: Client,
    bucket: String,
    /// The lake's prefix inside the bucket, without slashes at either end ("" for the bucket).
    prefix: String,
    retention: RetentionSettings,
    presign_for: Duration,
    /// Whether the bucket has Object Lock enabled, asked once (GetObjectLockConfiguration).
    lock_enabled: Arc<OnceLock<bool>>,
}

/// The settings the lake's store was built with, handed over by `Lake::open`.
pub(crate) struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub virtual_hosted: bool,
    pub region: String,
    pub credentials: AwsCredentialProvider,
}

impl S3Extras {
    pub(crate) fn new(s: S3Settings) -> Result<Self> {
        let presign_secs = match std::env::var("CLAIMLAKE_PRESIGN_SECONDS") {
            Ok(v) => v
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=604_800).contains(s))
                .ok_or_else(|| {
                    config_error(format!(
                        "CLAIMLAKE_PRESIGN_SECONDS={v:?}: expected 1..=604800 seconds"
                    ))
                })?,
            Err(_) => 3600,
        };
        // hyper + rustls on ring: the TLS stack object_store already compiles.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(s.region))
            .force_path_style(!s.virtual_hosted)
            .credentials_provider(SharedObjectStoreCredentials(s.credentials))
            .http_client(http);
        if let Some(ep) = s.endpoint {
            config = config.endpoint_url(ep);
        }
        Ok(S3Extras {
            client: Client::from_conf(config.build()),
            bucket: s.bucket,
            prefix: s.prefix,
            retention: RetentionSettings::from_env()?,
            presign_for: Duration::from_secs(presign_secs),
            lock_enabled: Arc::new(OnceLock::new()),
        })
    }

    /// The S3 client (tests use it to create buckets; callers may need other S3-only calls).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The bucket key of a lake-relative key.
    pub fn object_key(&self, key: &str) -> String {
        let key = key.trim_start_matches('/');
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    pub fn retention(&self) -> &RetentionSettings {
        &self.retention
    }

    /// A presigned GET URL for a lake-relative key (a report), valid for
    /// `CLAIMLAKE_PRESIGN_SECONDS`. Signing is local: no request is sent.
    pub async fn presign_get(&self, key: &str) -> Result<String> {
        let config = PresigningConfig::expires_in(self.presign_for).map_err(|e| LakeError::S3 {
            operation: "presign GetObject".into(),
            key: key.into(),
            message: e.to_string(),
            retryable: false,
        })?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .presigned(config)
            .await
            .map_err(|e| s3_error("presign GetObject", key, e))?;
        Ok(req.uri().to_string())
    }

    /// Whether the bucket has Object Lock enabled. Asked once per lake (a bucket's Object Lock
    /// setting can be turned on but never off, so the answer cannot go stale the wrong way).
    pub async fn object_lock_enabled(&self) -> Result<bool> {
        if let Some(v) = self.lock_enabled.get() {
            return Ok(*v);
        }
        let enabled = match self
            .client
            .get_object_lock_configuration()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(out) => matches!(
                out.object_lock_configuration()
                    .and_then(|c| c.object_lock_enabled()),
                Some(ObjectLockEnabled::Enabled)
            ),
            Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => false,
            Err(e) => return Err(s3_error("GetObjectLockConfiguration", "", e)),
        };
        Ok(*self.lock_enabled.get_or_init(|| enabled))
    }

    /// Applies Object Lock retention to a lake-relative key (its current version) for the
    /// configured days and mode. A no-op returning `false` when the bucket has no Object Lock.
    pub async fn retain(&self, key: &str) -> Result<bool> {
        if !self.object_lock_enabled().await? {
            return Ok(false);
        }
        let until =
            SystemTime::now() + Duration::from_secs(u64::from(self.retention.days) * 86_400);
        let mode = if self.retention.mode == "COMPLIANCE" {
            ObjectLockRetentionMode::Compliance
        } else {
            ObjectLockRetentionMode::Governance
        };
        let retention = ObjectLockRetention::builder()
            .mode(mode)
            .retain_until_date(DateTime::from(until))
            .build();
        self.client
            .put_object_retention()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .retention(retention)
            .send()
            .await
            .map_err(|e| s3_error("PutObjectRetention", key, e))?;
        tracing::debug!(key, mode = %self.retention.mode, days = self.retention.days, "retained");
        Ok(true)
    }

    /// The retention currently set on a lake-relative key: (mode, retain-until as RFC 3339),
    /// read from the object's headers (HeadObject).
    pub async fn retention_of(&self, key: &str) -> Result<Option<(String, String)>> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|e| s3_error("HeadObject", key, e))?;
        Ok(
            match (out.object_lock_mode(), out.object_lock_retain_until_date()) {
                (Some(mode), Some(until)) => Some((
                    mode.as_str().to_string(),
                    until
                        .fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime)
                        .unwrap_or_default(),
                )),
                _ => None,
            },
        )
    }
}

/// Maps an SDK error: time-outs, connection failures, throttling and 5xx are retryable.
fn s3_error<E, R>(operation: &str, key: &str, e: SdkError<E, R>) -> LakeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().map(str::to_string);
    let retryable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => matches!(
            code.as_deref(),
            Some(
                "SlowDown"
                    | "Throttling"
                    | "ThrottlingException"
                    | "RequestTimeout"
                    | "InternalError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    let message = match (&code, e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    };
    LakeError::S3 {
        operation: operation.into(),
        key: key.into(),
        message,
        retryable,
    }
}

/// object_store's credential provider seen as an AWS SDK credentials provider.
#[derive(Debug)]
struct SharedObjectStoreCredentials(AwsCredentialProvider);

impl ProvideCredentials for SharedObjectStoreCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let c = self
                .0
                .get_credential()
                .await
                .map_err(CredentialsError::provider_error)?;
            // object_store refreshes its own cache; the SDK asks again whenever it signs.
            Ok(Credentials::new(
                c.key_id.clone(),
                c.secret_key.clone(),
                c.token.clone(),
                Some(SystemTime::now() + Duration::from_secs(60)),
                "claimlake-object-store",
            ))
        })
    }
}
