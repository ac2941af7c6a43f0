//! [`StagingStore`]: the store a run computes in. Every object the run writes goes to
//! `staging/<run_id>/<key>` of the lake's own space and is read back from there; every other
//! read goes to the lake as it is. Nothing official changes while a run computes: publishing
//! (`crate::publish`) copies the staged objects into place afterwards.
//!
//! The store also keeps the two lists a run manifest needs: what was staged (key, bytes, rows,
//! SHA-256, computed from the bytes as they are written) and every object read from the lake
//! (size and ETag or modification time, from the store's own metadata).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use sha2::{Digest, Sha256};

use crate::store::InputObject;
use crate::write::WrittenObject;

/// One staged object: its official key, where it is staged, and what the manifest says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedObject {
    pub key: String,
    pub staged_key: String,
    pub bytes: u64,
    pub rows: u64,
    pub sha256: String,
    meta: ObjectMeta,
}

impl StagedObject {
    /// The manifest's `outputs` entry (under the official key).
    pub fn written(&self) -> WrittenObject {
        WrittenObject {
            key: self.key.clone(),
            rows: self.rows,
            bytes: self.bytes,
            sha256: self.sha256.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    written: BTreeMap<String, StagedObject>,
    read: BTreeMap<String, InputObject>,
}

/// A run's view of the lake: its staged objects over the lake (see the module docs).
#[derive(Debug)]
pub struct StagingStore {
    lower: Arc<dyn ObjectStore>,
    own: Arc<dyn ObjectStore>,
    prefix: String,
    state: Arc<Mutex<State>>,
}

/// Whether `key` is `prefix` itself or below it (object-store prefixes match whole segments).
pub(crate) fn under(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key == prefix
        || (key.starts_with(prefix) && key.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// Rows of a Parquet object from its footer (0 for anything else).
fn parquet_rows(key: &str, bytes: &Bytes) -> u64 {
    if !key.ends_with(".parquet") {
        return 0;
    }
    parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(bytes)
        .map(|m| m.file_metadata().num_rows().max(0) as u64)
        .unwrap_or(0)
}

impl StagingStore {
    /// A staging view over `lower`, staging into `own` under `prefix` (`staging/<run_id>`).
    pub fn new(lower: Arc<dyn ObjectStore>, own: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        StagingStore {
            lower,
            own,
            prefix: prefix.trim_matches('/').to_string(),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The staging folder (`staging/<run_id>`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Every object the run wrote, sorted by key.
    pub fn objects(&self) -> Vec<StagedObject> {
        self.state
            .lock()
            .expect("staging state")
            .written
            .values()
            .cloned()
            .collect()
    }

    /// Every object the run read from the lake (not its own staged objects), sorted by key.
    pub fn inputs(&self) -> Vec<InputObject> {
        self.state
            .lock()
            .expect("staging state")
            .read
            .values()
            .cloned()
            .collect()
    }

    fn staged_path(&self, key: &str) -> Path {
        Path::from(format!("{}/{key}", self.prefix))
    }

    fn is_written(&self, key: &str) -> bool {
        self.state
            .lock()
            .expect("staging state")
            .written
            .contains_key(key)
    }

    fn record_read(&self, meta: &ObjectMeta) {
        let key = meta.location.to_string();
        let input = InputObject {
            key: key.clone(),
            size: meta.size,
            etag: meta.e_tag.clone(),
            modified: meta.last_modified.to_rfc3339(),
        };
        self.state
            .lock()
            .expect("staging state")
            .read
            .insert(key, input);
    }

    fn written_under(&self, prefix: &str) -> (Vec<ObjectMeta>, BTreeSet<String>) {
        let state = self.state.lock().expect("staging state");
        let metas = state
            .written
            .values()
            .filter(|o| under(&o.key, prefix))
            .map(|o| o.meta.clone())
            .collect();
        (metas, state.written.keys().cloned().collect())
    }
}

impl fmt::Display for StagingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "staging({}) over {}", self.prefix, self.lower)
    }
}

fn refused(message: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "staging",
        source: message.into(),
    }
}

#[async_trait]
impl ObjectStore for StagingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let key = location.to_string();
        let bytes = Bytes::from(payload.clone());
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let rows = parquet_rows(&key, &bytes);
        let staged = self.staged_path(&key);
        let result = self.own.put_opts(&staged, payload, opts).await?;
        let meta = ObjectMeta {
            location: location.clone(),
            last_modified: chrono::Utc::now(),
            size: bytes.len() as u64,
            e_tag: result.e_tag.clone(),
            version: result.version.clone(),
        };
        let object = StagedObject {
            key: key.clone(),
            staged_key: staged.to_string(),
            bytes: bytes.len() as u64,
            rows,
            sha256,
            meta,
        };
        self.state
            .lock()
            .expect("staging state")
            .written
            .insert(key, object);
        Ok(result)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(object_store::Error::NotImplemented {
            operation: format!(
                "multipart upload of {location} in a run: a run writes whole objects (Lake::put), \
                 so each staged object has its SHA-256 when it is written"
            ),
            implementer: "StagingStore".into(),
        })
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let key = location.as_ref();
        if self.is_written(key) {
            let mut result = self.own.get_opts(&self.staged_path(key), options).await?;
            result.meta.location = location.clone();
            return Ok(result);
        }
        let head = options.head;
        let result = self.lower.get_opts(location, options).await?;
        if !head {
            self.record_read(&result.meta);
        }
        Ok(result)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let own = self.own.clone();
        let state = self.state.clone();
        let prefix = self.prefix.clone();
        locations
            .and_then(move |path| {
                let own = own.clone();
                let state = state.clone();
                let prefix = prefix.clone();
                async move {
                    let key = path.to_string();
                    let staged = state.lock().expect("staging state").written.remove(&key);
                    if staged.is_none() {
                        return Err(refused(format!(
                            "a run cannot delete {key}: official objects are replaced by \
                             publishing, never deleted by a computation"
                        )));
                    }
                    own.delete(&Path::from(format!("{prefix}/{key}"))).await?;
                    Ok(path)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let (staged, shadowed) = self.written_under(&p);
        let lower = self.lower.list(prefix).try_filter(move |m| {
            let key = m.location.as_ref();
            futures::future::ready(!shadowed.contains(key) && !under(key, "staging"))
        });
        futures::stream::iter(staged.into_iter().map(Ok))
            .chain(lower)
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let mut result = self.lower.list_with_delimiter(prefix).await?;
        let (staged, shadowed) = self.written_under(&p);
        result
            .objects
            .retain(|m| !shadowed.contains(m.location.as_ref()));
        let mut prefixes: BTreeSet<String> = result
            .common_prefixes
            .iter()
            .map(|c| c.to_string())
            .filter(|c| c != "staging")
            .collect();
        for meta in staged {
            let key = meta.location.to_string();
            let rest = if p.is_empty() {
                key.as_str()
            } else {
                &key[p.len() + 1..]
            };
            match rest.split_once('/') {
                Some((first, _)) if p.is_empty() => {
                    prefixes.insert(first.to_string());
                }
                Some((first, _)) => {
                    prefixes.insert(format!("{p}/{first}"));
                }
                None => result.objects.push(meta),
            }
        }
        result.common_prefixes = prefixes.into_iter().map(Path::from).collect();
        Ok(result)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let bytes = self.get(from).await?.bytes().await?;
        let mode = match options.mode {
            CopyMode::Create => PutMode::Create,
            _ => PutMode::Overwrite,
        };
        self.put_opts(to, PutPayload::from_bytes(bytes), PutOptions::from(mode))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn staged_writes_shadow_the_lake_and_never_reach_it() {
        let base: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        base.put(&Path::from("results/t/a.json"), "old".into())
            .await
            .unwrap();
        base.put(&Path::from("results/t/b.json"), "keep".into())
            .await
            .unwrap();
        let staging = StagingStore::new(base.clone(), base.clone(), "staging/R1");
        staging
            .put(&Path::from("results/t/a.json"), "new".into())
            .await
            .unwrap();
        staging
            .put(&Path::from("results/u/c.json"), "more".into())
            .await
            .unwrap();

        async fn read(s: &StagingStore, k: &str) -> Bytes {
            s.get(&Path::from(k)).await.unwrap().bytes().await.unwrap()
        }
        assert_eq!(read(&staging, "results/t/a.json").await, "new");
        assert_eq!(read(&staging, "results/t/b.json").await, "keep");
        let official = base
            .get(&Path::from("results/t/a.json"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(official, "old", "the lake is untouched");

        let mut keys: Vec<String> = staging
            .list(Some(&Path::from("results")))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.sort();
        assert_eq!(
            keys,
            ["results/t/a.json", "results/t/b.json", "results/u/c.json"]
        );
        let top = staging
            .list_with_delimiter(Some(&Path::from("results")))
            .await
            .unwrap();
        let prefixes: Vec<String> = top.common_prefixes.iter().map(|p| p.to_string()).collect();
        assert_eq!(prefixes, ["results/t", "results/u"]);

        let objects = staging.objects();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].staged_key, "staging/R1/results/t/a.json");
        assert_eq!(objects[0].sha256, hex::encode(Sha256::digest(b"new")));
        let inputs: Vec<String> = staging.inputs().into_iter().map(|i| i.key).collect();
        assert_eq!(inputs, ["results/t/b.json"], "only lake reads are inputs");

        let err = staging
            .delete(&Path::from("results/t/b.json"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot delete"), "{err}");
    }
}
