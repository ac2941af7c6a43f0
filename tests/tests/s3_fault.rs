//! A server-side fault in the middle of a run on an S3 lake: the server freezes (SIGSTOP) just
//! as the run is about to write February's statements, then is killed. The run fails with an
//! error the scheduler may retry (`is_retryable`), and January's official results, written
//! before, are untouched. A test binary of its own: it shortens the store's time-outs and
//! retries for the whole process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::Month;
use claimlake_engine::runs;
use claimlake_lake::Lake;
use claimlake_tests::s3server::{S3Server, copy_lake};
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// The lake's own S3 store, which freezes the server right before the first write of a key
/// containing `trigger`.
#[derive(Debug)]
struct FreezeBefore {
    inner: Arc<dyn ObjectStore>,
    trigger: String,
    server: &'static S3Server,
    fired: AtomicBool,
}

impl std::fmt::Display for FreezeBefore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FreezeBefore({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for FreezeBefore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        if location.as_ref().contains(&self.trigger) && !self.fired.swap(true, Ordering::SeqCst) {
            self.server.freeze();
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
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
        self.inner.copy_opts(from, to, options).await
    }
}

async fn official(lake: &Lake, month: &str) -> BTreeMap<String, Bytes> {
    let mut out = BTreeMap::new();
    for o in lake.list("").await.unwrap() {
        if (o.key.starts_with("results/") && o.key.contains(&format!("/month={month}/")))
            || o.key.starts_with("reports/")
        {
            out.insert(o.key.clone(), lake.get(&o.key).await.unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_fault_mid_run_is_retryable_and_leaves_official_results() {
    // SAFETY: set before the first lake of this single-test process is opened.
    unsafe {
        std::env::set_var("AWS_TIMEOUT", "3s");
        std::env::set_var("AWS_CONNECT_TIMEOUT", "2s");
        std::env::set_var("CLAIMLAKE_S3_MAX_RETRIES", "1");
        std::env::set_var("CLAIMLAKE_S3_RETRY_TIMEOUT_SECS", "10");
    }
    let server = S3Server::shared();
    let src_dir = tempfile::tempdir().unwrap();
    let src = Lake::open(src_dir.path().to_str().unwrap()).unwrap();
    let mut cfg = GenConfig::new(2025, Scale::Tiny, 11);
    cfg.months = 1..=2;
    claimlake_datagen::generate(&src, &cfg, &|_| {})
        .await
        .unwrap();
    let lake = server.lake("fault-lake", "lake", false).await;
    copy_lake(&src, &lake).await;

    let jan = Month {
        year: 2025,
        month: 1,
    };
    let feb = Month {
        year: 2025,
        month: 2,
    };
    runs::settle(&lake, jan).await.unwrap();
    let before = official(&lake, "01").await;
    assert!(before.contains_key("results/statements/year=2025/month=01/data.parquet"));
    assert!(before.contains_key("reports/settlement/2025-01.json"));

    // February's run: the server freezes as the statements are about to be written.
    let freezing = Lake::from_store(
        Arc::new(FreezeBefore {
            inner: lake.store().clone(),
            trigger: "results/statements/year=2025/month=02/".into(),
            server,
            fired: AtomicBool::new(false),
        }),
        lake.root(),
        true,
    );
    let err = runs::settle(&freezing, feb)
        .await
        .expect_err("the run fails while the server is frozen");
    assert!(
        err.is_retryable(),
        "a frozen server is a transient fault: {err}"
    );

    // The server comes back: January's official results are exactly as before. (The write in
    // flight when the server froze may still land once it resumes, as on S3 after a client
    // time-out; that is February's own partition, which the retried run rewrites.)
    server.resume();
    assert_eq!(official(&lake, "01").await, before);

    // Killed outright: connections are refused, again a retryable error.
    server.kill();
    let err = runs::settle(&lake, feb)
        .await
        .expect_err("no server, no run");
    assert!(
        err.is_retryable(),
        "a dead server is a transient fault: {err}"
    );
}
