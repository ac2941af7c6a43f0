//! [`FaultyStore`]: an `ObjectStore` wrapper that fails the N-th write (put, copy, delete) once,
//! or every write from the N-th on (a crash: nothing the run does afterwards reaches storage).
//! Reads always work. It logs every write so a failing test can say which step it hit, and can
//! call a hook before each write (e.g. to freeze an S3 server just before a given key). It also
//! logs the key of every read, for tests of what a run does not need to read.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
};

/// When writes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every write works.
    None,
    /// The N-th write (1-based, counted from the last [`FaultyStore::set`]) fails, the others work.
    Once(u64),
    /// Every write from the N-th on fails.
    From(u64),
}

/// Called with each write's description (`put <key>`, `copy <a> -> <b>`, ...) before it is made.
pub type WriteHook = Box<dyn Fn(&str) + Send + Sync>;

struct State {
    fault: Fault,
    writes: u64,
    log: Vec<String>,
    reads: Vec<String>,
    hook: Option<WriteHook>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("fault", &self.fault)
            .field("writes", &self.writes)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    state: Arc<Mutex<State>>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FaultyStore {
            inner,
            state: Arc::new(Mutex::new(State {
                fault: Fault::None,
                writes: 0,
                log: Vec::new(),
                reads: Vec::new(),
                hook: None,
            })),
        }
    }

    /// Sets the fault and restarts the write count and log.
    pub fn set(&self, fault: Fault) {
        let mut s = self.state.lock().unwrap();
        s.fault = fault;
        s.writes = 0;
        s.log.clear();
        s.reads.clear();
    }

    /// Calls `hook` before every later write, with the write's description.
    pub fn before_write(&self, hook: impl Fn(&str) + Send + Sync + 'static) {
        self.state.lock().unwrap().hook = Some(Box::new(hook));
    }

    /// Writes attempted since the last [`FaultyStore::set`].
    pub fn writes(&self) -> u64 {
        self.state.lock().unwrap().writes
    }

    /// The writes attempted since the last [`FaultyStore::set`] (`put key`, `copy a -> b`, ...),
    /// failed ones marked `FAILED`.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// The keys read (whole or in part) since the last [`FaultyStore::set`], in order.
    pub fn reads(&self) -> Vec<String> {
        self.state.lock().unwrap().reads.clone()
    }

    /// Counts a write; `Err` when the fault plan says this one fails.
    fn write(state: &Mutex<State>, what: String) -> object_store::Result<()> {
        let mut s = state.lock().unwrap();
        if let Some(hook) = &s.hook {
            hook(&what);
        }
        s.writes += 1;
        let n = s.writes;
        let fails = match s.fault {
            Fault::None => false,
            Fault::Once(k) => n == k,
            Fault::From(k) => n >= k,
        };
        s.log.push(if fails {
            format!("{n}: {what} FAILED")
        } else {
            format!("{n}: {what}")
        });
        if fails {
            Err(object_store::Error::Generic {
                store: "faulty",
                source: format!("injected fault at write {n} ({what})").into(),
            })
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "faulty({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let mode = if matches!(opts.mode, PutMode::Create) {
            "create"
        } else {
            "put"
        };
        Self::write(&self.state, format!("{mode} {location}"))?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Self::write(&self.state, format!("multipart {location}"))?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.state.lock().unwrap().reads.push(location.to_string());
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let inner = self.inner.clone();
        let state = self.state.clone();
        locations
            .then(move |p| {
                let inner = inner.clone();
                let state = state.clone();
                async move {
                    let p = p?;
                    FaultyStore::write(&state, format!("delete {p}"))?;
                    let mut out =
                        inner.delete_stream(futures::stream::once(async { Ok(p) }).boxed());
                    out.next().await.unwrap_or_else(|| {
                        Err(object_store::Error::Generic {
                            store: "faulty",
                            source: "delete yielded nothing".into(),
                        })
                    })
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        Self::write(&self.state, format!("copy {from} -> {to}"))?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        Self::write(&self.state, format!("rename {from} -> {to}"))?;
        self.inner.rename_opts(from, to, options).await
    }
}

/// Every object under the given top-level folders of a local lake, key → bytes.
pub fn snapshot(
    root: &std::path::Path,
    folders: &[&str],
) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(
        base: &std::path::Path,
        dir: &std::path::Path,
        out: &mut std::collections::BTreeMap<String, Vec<u8>>,
    ) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &path, out);
            } else {
                let name = path.file_name().unwrap().to_string_lossy();
                if name.contains('#') || name.starts_with('.') {
                    continue; // a local store's in-flight temporary file
                }
                let key = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for f in folders {
        walk(root, &root.join(f), &mut out);
    }
    out
}

/// Every object under the given top-level folders of a store, key → bytes.
pub async fn snapshot_store(
    store: &dyn ObjectStore,
    folders: &[&str],
) -> std::collections::BTreeMap<String, Vec<u8>> {
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;
    let mut out = std::collections::BTreeMap::new();
    for f in folders {
        let metas: Vec<ObjectMeta> = store
            .list(Some(&Path::from(*f)))
            .try_collect()
            .await
            .unwrap();
        for m in metas {
            let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
            out.insert(m.location.to_string(), bytes.to_vec());
        }
    }
    out
}

/// An in-memory copy of a local folder (fast, fork-able lakes for tests that run many times).
pub async fn load_into_memory(dir: &std::path::Path) -> object_store::memory::InMemory {
    use object_store::ObjectStoreExt;
    let mem = object_store::memory::InMemory::new();
    for (key, bytes) in snapshot(dir, &[""]) {
        mem.put(&Path::from(key.as_str()), bytes.into())
            .await
            .unwrap();
    }
    mem
}
