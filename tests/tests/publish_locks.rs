//! Run locks (outputs.md, Publishing rules): a second run of the same (kind, period) is refused
//! fast with a clear, retryable error naming the run that holds the lock; a scenario has its own
//! locks; a lock older than 30 minutes (configurable) is taken over, and so is the lock of a run
//! that has finished but could not release it. Times come from an injected clock.

use chrono::{DateTime, Duration, Utc};
use claimlake_domain::period::Month;
use claimlake_engine::EngineError;
use claimlake_engine::publish::{self, Computed, PublishOptions};
use claimlake_engine::runs::{self, RunOptions};
use claimlake_engine::settle::settle_month;
use claimlake_lake::lock::LockRecord;
use claimlake_lake::{Lake, LakeError, layout};
use claimlake_tests::publishing::{small_policy, write_small_lake};

const JAN: Month = Month {
    year: 2025,
    month: 1,
};

async fn small_lake(months: u32) -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&lake, months, &small_policy(1, "3000.00")).await;
    (dir, lake)
}

async fn manifest(lake: &Lake, run_id: &str) -> serde_json::Value {
    serde_json::from_slice(&lake.get(&layout::run_manifest(run_id)).await.unwrap()).unwrap()
}

/// Writes the lock of `settle <period>` as a run `run_id` would have taken it at `at`.
async fn plant_lock(lake: &Lake, period: &str, run_id: &str, at: DateTime<Utc>) {
    let record = LockRecord::new(run_id, "settle", period, None, at);
    lake.put(
        &layout::lock("settle", period),
        serde_json::to_vec(&record).unwrap().into(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_of_a_period_is_refused_while_the_first_holds_its_lock() {
    let (_dir, lake) = small_lake(1).await;
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();

    // The first run takes the lock, says so, and waits before computing.
    let opts = PublishOptions::default();
    let first = publish::run(&lake, "settle", "2025-01", &opts, |staged| async move {
        locked_tx.send(()).unwrap();
        go_rx.await.unwrap();
        Ok(Computed::new(settle_month(&staged, JAN).await?))
    });
    let second = async {
        locked_rx.await.unwrap();
        let refused = runs::settle(&lake, JAN).await.unwrap_err();
        // A scenario of the same month has its own lock: it runs meanwhile.
        let scenario = runs::settle_with(&lake, JAN, &RunOptions::scenario("side"))
            .await
            .expect("a scenario run is not blocked by the official lock");
        go_tx.send(()).unwrap();
        (refused, scenario)
    };
    let (first, (refused, scenario)) = tokio::join!(first, second);
    let first = first.expect("the first run publishes");

    assert!(
        refused.is_retryable(),
        "a held lock is retryable: {refused}"
    );
    let message = refused.to_string();
    assert!(
        message.contains(&format!(
            "settle 2025-01 is locked by run {} since ",
            first.run_id
        )),
        "{message}"
    );
    assert!(message.contains("locks/settle/2025-01.json"), "{message}");
    match &refused {
        EngineError::Lake(LakeError::Locked { holder, .. }) => assert_eq!(holder, &first.run_id),
        other => panic!("expected a lock error, got {other:?}"),
    }
    assert_eq!(scenario.manifest.scenario.as_deref(), Some("side"));

    // The official results are the first run's; the refused attempt is recorded as failed.
    assert!(
        lake.exists(&layout::monthly_result("statements", JAN))
            .await
            .unwrap()
    );
    let mut failed = 0;
    for o in lake.list("runs").await.unwrap() {
        let m: serde_json::Value =
            serde_json::from_slice(&lake.get(&o.key).await.unwrap()).unwrap();
        if m["status"] == "failed" {
            failed += 1;
            assert!(m["error"].as_str().unwrap().contains("is locked by run"));
        }
    }
    assert_eq!(failed, 1);
    // The lock was released: the month can be re-run.
    assert!(
        !lake
            .exists(&layout::lock("settle", "2025-01"))
            .await
            .unwrap()
    );
    runs::settle(&lake, JAN)
        .await
        .expect("re-run after release");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_lock_is_taken_over_after_the_limit() {
    let (_dir, lake) = small_lake(2).await;
    let t0: DateTime<Utc> = "2025-02-01T08:00:00Z".parse().unwrap();
    let dead = "20250201T080000000000Z-dead0001";
    plant_lock(&lake, "2025-01", dead, t0).await;
    lake.put(
        &format!("staging/{dead}/results/statements/year=2025/month=01/data.parquet"),
        "half-written".into(),
    )
    .await
    .unwrap();

    // 29 minutes later the lock is live: refused, saying when it may be taken over.
    let opts = RunOptions {
        publish: PublishOptions::default().at(t0 + Duration::minutes(29)),
        ..RunOptions::default()
    };
    let err = runs::settle_with(&lake, JAN, &opts).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!("locked by run {dead}")),
        "{message}"
    );
    assert!(message.contains("from 2025-02-01T08:30:00Z"), "{message}");

    // 31 minutes later it is stale: taken over, the dead run recorded as abandoned.
    let opts = RunOptions {
        publish: PublishOptions::default().at(t0 + Duration::minutes(31)),
        ..RunOptions::default()
    };
    let r = runs::settle_with(&lake, JAN, &opts)
        .await
        .expect("takeover");
    assert!(
        r.manifest
            .notes
            .iter()
            .any(|n| n.contains(&format!("took over the stale lock of run {dead}"))),
        "{:?}",
        r.manifest.notes
    );
    let abandoned = manifest(&lake, dead).await;
    assert_eq!(abandoned["status"], "failed");
    assert!(
        abandoned["error"].as_str().unwrap().contains("abandoned"),
        "{abandoned}"
    );
    assert!(
        lake.list(&format!("staging/{dead}"))
            .await
            .unwrap()
            .is_empty(),
        "the dead run's staging is removed"
    );
    assert!(
        lake.exists(&layout::lock_takeover("settle", "2025-01", dead))
            .await
            .unwrap(),
        "the takeover marker stays, so the stale lock cannot be taken over twice"
    );
    assert!(
        !lake
            .exists(&layout::lock("settle", "2025-01"))
            .await
            .unwrap()
    );

    // The limit is configurable: 5 minutes.
    plant_lock(&lake, "2025-02", "20250201T090000000000Z-dead0002", t0).await;
    let opts = RunOptions {
        publish: PublishOptions {
            stale_after: Duration::minutes(5),
            ..PublishOptions::default()
        }
        .at(t0 + Duration::minutes(6)),
        ..RunOptions::default()
    };
    runs::settle_with(
        &lake,
        Month {
            year: 2025,
            month: 2,
        },
        &opts,
    )
    .await
    .expect("stale after 5 minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_of_a_finished_run_is_taken_over_at_once() {
    let (_dir, lake) = small_lake(1).await;
    let done = runs::settle(&lake, JAN).await.unwrap();
    // As if releasing the lock had failed after the run succeeded: its lock is back, fresh.
    plant_lock(&lake, "2025-01", &done.run_id, Utc::now()).await;
    let again = runs::settle(&lake, JAN)
        .await
        .expect("the finished run's lock is not live");
    assert!(
        again
            .manifest
            .notes
            .iter()
            .any(|n| n.contains(&done.run_id)),
        "{:?}",
        again.manifest.notes
    );
    // The finished run's manifest is left as it was.
    assert_eq!(manifest(&lake, &done.run_id).await["status"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_lock_was_taken_over_replaces_nothing() {
    let (_dir, lake) = small_lake(1).await;
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let opts = PublishOptions::default();
    let slow = publish::run(&lake, "settle", "2025-01", &opts, |staged| async move {
        locked_tx.send(()).unwrap();
        go_rx.await.unwrap();
        Ok(Computed::new(settle_month(&staged, JAN).await?))
    });
    let takeover = async {
        locked_rx.await.unwrap();
        // Another run took the lock over while this one computed for too long.
        plant_lock(
            &lake,
            "2025-01",
            "20250201T090000000000Z-next0001",
            Utc::now(),
        )
        .await;
        go_tx.send(()).unwrap();
    };
    let (slow, ()) = tokio::join!(slow, takeover);
    let err = slow.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        err.to_string()
            .contains("was taken over by run 20250201T090000000000Z-next0001"),
        "{err}"
    );
    assert!(
        !lake
            .exists(&layout::monthly_result("statements", JAN))
            .await
            .unwrap(),
        "nothing official was written"
    );
    assert!(lake.list("staging").await.unwrap().is_empty());
    assert!(lake.list("publish/journal").await.unwrap().is_empty());
    // The new holder's lock is left alone.
    assert!(
        lake.exists(&layout::lock("settle", "2025-01"))
            .await
            .unwrap()
    );
}
