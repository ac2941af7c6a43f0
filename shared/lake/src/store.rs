//! [`Lake`]: the lake root as one `ObjectStore`, whether it is a local folder or an S3 prefix.
//!
//! The store is rooted at the lake root (a `LocalFileSystem` with a prefix, or S3 wrapped in a
//! prefix store, [`crate::prefixed::Prefixed`]), so every path below is relative to the root
//! exactly as the data contract writes it, and DataFusion sees the same store under one URL
//! ([`Lake::DF_URL`]).

use std::sync::Arc;

use bytes::Bytes;
use datafusion::execution::context::SessionContext;
use futures::TryStreamExt;
use object_store::RetryConfig;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{LakeError, Result};
use crate::s3extras::{S3Extras, S3Settings};

/// An input object as the run manifest records it: key, size and version evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InputObject {
    pub key: String,
    pub size: u64,
    /// ETag where the store has one (S3), else the modification time (local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
///
/// A lake has two views of storage: `store`, what computations read and write (for a scenario,
/// its own objects over the official inputs; for a run being staged, its staged outputs over
/// the lake), and `own`, where this lake's own objects live (the official lake itself, or
/// `scenarios/<name>/`): locks, journals, history and the copy into place work on `own`.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    own: Arc<dyn ObjectStore>,
    root: String,
    is_s3: bool,
    /// Presigning and Object Lock, for lakes opened on S3.
    s3_extras: Option<S3Extras>,
    scenario: Option<String>,
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
                Arc::new(crate::prefixed::Prefixed::new(Arc::new(s3), prefix))
            };
            Ok(Lake {
                own: store.clone(),
                store,
                root: root.to_string(),
                is_s3: true,
                s3_extras: Some(s3_extras),
                scenario: None,
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
            let store: Arc<dyn ObjectStore> = Arc::new(fs);
            Ok(Lake {
                own: store.clone(),
                store,
                root: abs.display().to_string(),
                is_s3: false,
                s3_extras: None,
                scenario: None,
            })
        }
    }

    /// A lake over any store (tests wrap stores to inject faults).
    pub fn from_store(store: Arc<dyn ObjectStore>, root: impl Into<String>, is_s3: bool) -> Self {
        Lake {
            own: store.clone(),
            store,
            root: root.into(),
            is_s3,
            s3_extras: None,
            scenario: None,
        }
    }

    /// The lake of scenario `name`: it reads the official inputs (and, where it has not computed
    /// them itself, the official results it builds on) and writes only under
    /// `scenarios/<name>/` ([`crate::scenario::ScenarioStore`]).
    pub fn scenario(&self, name: &str) -> Result<Lake> {
        if self.scenario.is_some() {
            return Err(LakeError::Root {
                root: self.root.clone(),
                message: format!("scenario {name:?}: a scenario cannot hold scenarios"),
            });
        }
        crate::scenario::check_name(name).map_err(|message| LakeError::Root {
            root: self.root.clone(),
            message,
        })?;
        let own: Arc<dyn ObjectStore> = Arc::new(crate::prefixed::Prefixed::new(
            self.own.clone(),
            &crate::layout::scenario(name),
        ));
        let store = Arc::new(crate::scenario::ScenarioStore::new(
            self.store.clone(),
            own.clone(),
            name,
        ));
        Ok(Lake {
            store,
            own,
            root: format!("{}/{}", self.root, crate::layout::scenario(name)),
            is_s3: self.is_s3,
            s3_extras: self.s3_extras.clone(),
            scenario: Some(name.to_string()),
        })
    }

    /// The scenario this lake belongs to, `None` for the official lake.
    pub fn scenario_name(&self) -> Option<&str> {
        self.scenario.as_deref()
    }

    /// A view of this lake for run `run_id`: every write goes to `staging/<run_id>/` of the
    /// lake's own space, reads see the run's staged objects over the lake. The returned
    /// [`StagingStore`](crate::staging::StagingStore) lists what was staged and what was read.
    pub fn staged(&self, run_id: &str) -> (Lake, Arc<crate::staging::StagingStore>) {
        let staging = Arc::new(crate::staging::StagingStore::new(
            self.store.clone(),
            self.own.clone(),
            &crate::layout::staging(run_id),
        ));
        let store: Arc<dyn ObjectStore> = staging.clone();
        (
            Lake {
                own: store.clone(),
                store,
                root: self.root.clone(),
                is_s3: self.is_s3,
                s3_extras: self.s3_extras.clone(),
                scenario: self.scenario.clone(),
            },
            staging,
        )
    }

    /// This lake's own space as a lake: the official lake itself, or `scenarios/<name>/` without
    /// the official fallback. Publishing (locks, journals, history, copies) works here.
    pub fn own_lake(&self) -> Lake {
        Lake {
            store: self.own.clone(),
            own: self.own.clone(),
            root: self.root.clone(),
            is_s3: self.is_s3,
            s3_extras: self.s3_extras.clone(),
            scenario: self.scenario.clone(),
        }
    }

    /// Presigned URLs and Object Lock retention: `Some` for a lake opened on S3.
    pub fn s3_extras(&self) -> Option<&S3Extras> {
        self.s3_extras.as_ref()
    }

    /// The key relative to the lake root of `key` in this lake's own space: `key` itself for
    /// the official lake, `scenarios/<name>/<key>` for a scenario. S3-only calls (presigning,
    /// retention) address objects by this key.
    pub fn root_key(&self, key: &str) -> String {
        match &self.scenario {
            Some(name) => format!("{}/{key}", crate::layout::scenario(name)),
            None => key.to_string(),
        }
    }

    /// A presigned GET URL of `key` (a report) in this lake's own space, valid for
    /// `CLAIMLAKE_PRESIGN_SECONDS`: `None` for a local lake, which has no URLs to hand out.
    pub async fn presigned_url(&self, key: &str) -> Result<Option<String>> {
        match &self.s3_extras {
            Some(s3) => Ok(Some(s3.presign_get(&self.root_key(key)).await?)),
            None => Ok(None),
        }
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

    /// Writes an object only if none exists at `key` (`If-None-Match: *` on S3, a hard link on
    /// a local folder). `Ok(false)` when the object already exists.
    pub async fn put_if_absent(&self, key: &str, bytes: Bytes) -> Result<bool> {
        let opts = object_store::PutOptions::from(object_store::PutMode::Create);
        match self
            .store
            .put_opts(&Path::from(key), PutPayload::from_bytes(bytes), opts)
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(LakeError::store(key, e)),
        }
    }

    /// Copies an object within the lake (server-side on S3).
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        self.store
            .copy(&Path::from(from), &Path::from(to))
            .await
            .map_err(|e| LakeError::store(format!("{from} -> {to}"), e))
    }

    /// Deletes one object; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(LakeError::store(key, e)),
        }
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
