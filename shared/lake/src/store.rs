//! [`Lake`]: the lake root as one `ObjectStore`, whether it is a local folder or an S3 prefix.
//!
//! The store is rooted at the lake root (a `LocalFileSystem` with a prefix, or S3 wrapped in a
//! `PrefixStore`, see [`crate::prefixed`]), so every path below is relative to the root exactly as the data contract
//! writes it, and DataFusion sees the same store under one URL ([`Lake::DF_URL`]).

use std::sync::Arc;

use bytes::Bytes;
use datafusion::execution::context::SessionContext;
use futures::TryStreamExt;
use object_store::RetryConfig;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Serialize;

use crate::error::{LakeError, Result};
use crate::prefixed::LakePrefix;
use crate::s3extras::{S3Extras, S3Settings};

/// An input object as the run manifest records it: key, size and version evidence.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputObject {
    pub key: String,
    pub size: u64,
    /// ETag where the store has one (S3), else the modification time (local).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub modified: String,
}

/// object_store's retry policy, shortened by `CLAIMLAKE_S3_MAX_RETRIES` (default 10) and
/// `CLAIMLAKE_S3_RETRY_TIMEOUT_SECS` (default 180): a scheduled function may prefer to fail fast
/// with a retryable error and let the scheduler retry the whole run later. Request time-outs are
/// object_store's own `AWS_TIMEOUT` / `AWS_CONNECT_TIMEOUT` (e.g. `5s`).
fn retry_from_env() -> Result<Option<RetryConfig>> {
    let read = |name: &str| -> Result<Option<u64>> {
        match std::env::var(name) {
            Ok(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| LakeError::Root {
                    root: name.into(),
                    message: format!("{v:?} is not a whole number"),
                }),
            Err(_) => Ok(None),
        }
    };
    let retries = read("CLAIMLAKE_S3_MAX_RETRIES")?;
    let timeout = read("CLAIMLAKE_S3_RETRY_TIMEOUT_SECS")?;
    if retries.is_none() && timeout.is_none() {
        return Ok(None);
    }
    let mut retry = RetryConfig::default();
    if let Some(n) = retries {
        retry.max_retries = n as usize;
    }
    if let Some(s) = timeout {
        retry.retry_timeout = std::time::Duration::from_secs(s);
    }
    Ok(Some(retry))
}

/// The lake root. Cheap to clone; all clones share the store.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    root: String,
    is_s3: bool,
    /// Presigning and Object Lock, for lakes opened on S3.
    s3_extras: Option<S3Extras>,
}

impl Lake {
    /// The URL under which the lake's store is registered in a DataFusion session: the same for
    /// local and S3 lakes, so table registration has one code path.
    pub const DF_URL: &'static str = "claimlake://lake/";

    /// Opens a lake root: `s3://bucket/prefix` or a local folder path (created if absent).
    ///
    /// S3 settings come from the environment (`AWS_*`, as Lambda sets them). For S3-compatible
    /// stores, `CLAIMLAKE_S3_ENDPOINT` (or `AWS_ENDPOINT_URL`) sets the endpoint; an `http://`
    /// endpoint allows plain HTTP, and path-style addressing is used unless
    /// `CLAIMLAKE_S3_VIRTUAL_HOSTED=true`.
    pub fn open(root: &str) -> Result<Self> {
        if let Some(rest) = root.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(LakeError::Root {
                    root: root.into(),
                    message: "no bucket name".into(),
                });
            }
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            let endpoint = std::env::var("CLAIMLAKE_S3_ENDPOINT")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .ok();
            if let Some(ep) = &endpoint {
                builder = builder
                    .with_allow_http(ep.starts_with("http://"))
                    .with_endpoint(ep);
            }
            let virtual_hosted = std::env::var("CLAIMLAKE_S3_VIRTUAL_HOSTED")
                .map(|v| v == "true")
                .unwrap_or(false);
            builder = builder.with_virtual_hosted_style_request(virtual_hosted);
            if let Some(retry) = retry_from_env()? {
                builder = builder.with_retry(retry);
            }
            if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err()
            {
                builder = builder.with_region("us-east-1");
            }
            let region = builder
                .get_config_value(&AmazonS3ConfigKey::Region)
                .unwrap_or_else(|| "us-east-1".into());
            let s3 = builder.build().map_err(|e| LakeError::Root {
                root: root.into(),
                message: e.to_string(),
            })?;
            let prefix = prefix.trim_matches('/');
            let s3_extras = S3Extras::new(S3Settings {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                endpoint,
                virtual_hosted,
                region,
                credentials: s3.credentials().clone(),
            })?;
            let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(LakePrefix::new(s3, prefix))
            };
            Ok(Lake {
                store,
                root: root.to_string(),
                is_s3: true,
                s3_extras: Some(s3_extras),
            })
        } else {
            let local = root.strip_prefix("file://").unwrap_or(root);
            std::fs::create_dir_all(local).map_err(|e| LakeError::Root {
                root: root.into(),
                message: e.to_string(),
            })?;
            let abs = std::fs::canonicalize(local).map_err(|e| LakeError::Root {
                root: root.into(),
                message: e.to_string(),
            })?;
            let fs = LocalFileSystem::new_with_prefix(&abs).map_err(|e| LakeError::Root {
                root: root.into(),
                message: e.to_string(),
            })?;
            Ok(Lake {
                store: Arc::new(fs),
                root: abs.display().to_string(),
                is_s3: false,
                s3_extras: None,
            })
        }
    }

    /// A lake over any store (tests wrap stores to inject faults).
    pub fn from_store(store: Arc<dyn ObjectStore>, root: impl Into<String>, is_s3: bool) -> Self {
        Lake {
            store,
            root: root.into(),
            is_s3,
            s3_extras: None,
        }
    }

    /// Presigned URLs and Object Lock retention: `Some` for a lake opened on S3.
    pub fn s3_extras(&self) -> Option<&S3Extras> {
        self.s3_extras.as_ref()
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The root as given (absolute path for local lakes).
    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn is_s3(&self) -> bool {
        self.is_s3
    }

    /// Registers this lake's store in a DataFusion session under [`Lake::DF_URL`].
    pub fn register_in(&self, ctx: &SessionContext) {
        let url = url::Url::parse(Self::DF_URL).expect("static url");
        ctx.register_object_store(&url, self.store.clone());
    }

    /// The DataFusion table URL of a folder of the lake (ends with `/`).
    pub fn table_url(&self, folder: &str) -> String {
        format!("{}{}/", Self::DF_URL, folder.trim_matches('/'))
    }

    /// Lists the objects under `prefix`, sorted by key (the reading order of the contract).
    pub async fn list(&self, prefix: &str) -> Result<Vec<InputObject>> {
        let p = Path::from(prefix.trim_matches('/'));
        let mut metas: Vec<_> = self
            .store
            .list(Some(&p))
            .try_collect()
            .await
            .map_err(|e| LakeError::store(prefix, e))?;
        metas.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
        Ok(metas
            .into_iter()
            .map(|m| InputObject {
                key: m.location.to_string(),
                size: m.size,
                etag: m.e_tag,
                modified: m.last_modified.to_rfc3339(),
            })
            .collect())
    }

    /// Lists the `.parquet` objects under `prefix`, sorted by key.
    pub async fn list_parquet(&self, prefix: &str) -> Result<Vec<InputObject>> {
        Ok(self
            .list(prefix)
            .await?
            .into_iter()
            .filter(|o| o.key.ends_with(".parquet"))
            .collect())
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self.store.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(LakeError::store(key, e)),
        }
    }

    /// Reads a whole object.
    pub async fn get(&self, key: &str) -> Result<Bytes> {
        let path = Path::from(key);
        let res = self.store.get(&path).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => LakeError::Missing {
                path: key.into(),
                message: "not found in the lake".into(),
            },
            e => LakeError::store(key, e),
        })?;
        res.bytes().await.map_err(|e| LakeError::store(key, e))
    }

    /// Reads a whole object, `None` when it does not exist.
    pub async fn get_opt(&self, key: &str) -> Result<Option<Bytes>> {
        match self.get(key).await {
            Ok(b) => Ok(Some(b)),
            Err(LakeError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes a whole object (atomic on every store).
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| LakeError::store(key, e))?;
        Ok(())
    }

    /// Deletes every object under `prefix` (used to replace a partition's files).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        for o in self.list(prefix).await? {
            self.store
                .delete(&Path::from(o.key.as_str()))
                .await
                .map_err(|e| LakeError::store(&o.key, e))?;
        }
        Ok(())
    }
}
