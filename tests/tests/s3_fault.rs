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
use claimlake_tests::faults::FaultyStore;
use claimlake_tests::s3server::{S3Server, copy_lake};

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
    let store = Arc::new(FaultyStore::new(lake.store().clone()));
    let fired = AtomicBool::new(false);
    store.before_write(move |what| {
        if what.contains("results/statements/year=2025/month=02/")
            && !fired.swap(true, Ordering::SeqCst)
        {
            server.freeze();
        }
    });
    let freezing = Lake::from_store(store, lake.root(), true);
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
