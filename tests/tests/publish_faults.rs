//! Faults injected at every write of a publish (outputs.md, Publishing rules): the official
//! results are always exactly the old set or exactly the new set, never a mix, and a re-run
//! recovers; a run that dies mid-publish leaves a journal the next run completes.
//!
//! The case: a small lake with January and February settled under policy version 1, then
//! version 2 (a larger tertiary drug budget) adopted and February — the open month — recomputed.
//! The old set is the lake before, the new set what a clean recompute leaves.
//!
//! Every write of the publish is failed in turn with a run that replays the recompute's exact
//! staged outputs (same objects, same bytes, same publish: milliseconds per run, so every one
//! of the ~75 writes can be tried, once and as a crash). The real recompute is then failed at
//! one write of each publish step.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use claimlake_domain::period::Month;
use claimlake_engine::publish::{self, Computed, PublishOptions};
use claimlake_engine::runs::{self, RunOptions};
use claimlake_lake::{Lake, layout};
use claimlake_tests::faults::{Fault, FaultyStore, load_into_memory, snapshot_store};
use claimlake_tests::golden::write_policy;
use claimlake_tests::publishing::{OFFICIAL, small_policy, write_small_lake};
use claimlake_tests::records;
use object_store::memory::InMemory;

type Snapshot = BTreeMap<String, Vec<u8>>;

const FEB: Month = Month {
    year: 2025,
    month: 2,
};

/// The base lake (January and February settled under v1, v2 adopted), the old and new official
/// sets, the recompute's outputs (key → bytes) and the writes of a clean recompute.
struct Case {
    base: InMemory,
    old: Snapshot,
    new: Snapshot,
    outputs: Vec<(String, Vec<u8>)>,
    old_statements_run: String,
    clean_log: Vec<String>,
}

/// A lake over a fresh copy of `base`, writing through a [`FaultyStore`].
fn faulty(base: &InMemory) -> (Lake, Arc<FaultyStore>, Arc<InMemory>) {
    let mem = Arc::new(base.fork());
    let store = Arc::new(FaultyStore::new(mem.clone()));
    (Lake::from_store(store.clone(), "memory", false), store, mem)
}

/// The keys whose bytes differ between two snapshots (or that only one has).
fn differing(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut keys: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    keys.extend(b.keys().filter(|k| !a.contains_key(*k)).cloned());
    keys
}

/// Objects by key; validation records compared by content (`claimlake_tests::records`): each
/// fork of the base lake is a new store, with its own version evidence.
async fn comparable(snapshot: Snapshot) -> Snapshot {
    snapshot
        .into_iter()
        .map(|(k, v)| {
            let v = records::comparable(&k, bytes::Bytes::from(v)).to_vec();
            (k, v)
        })
        .collect()
}

async fn official(mem: &InMemory) -> Snapshot {
    comparable(snapshot_store(mem, &OFFICIAL).await).await
}

async fn folder(mem: &InMemory, name: &str) -> Snapshot {
    comparable(snapshot_store(mem, &[name]).await).await
}

async fn prepare() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&lake, 2, &small_policy(1, "3000.00")).await;
    runs::settle(
        &lake,
        Month {
            year: 2025,
            month: 1,
        },
    )
    .await
    .unwrap();
    runs::settle(&lake, FEB).await.unwrap();
    write_policy(&lake, 2025, &small_policy(2, "3600.00"));
    let base = load_into_memory(dir.path()).await;
    let old = official(&base).await;
    let lineage = lake
        .lineage_of(&layout::monthly_result("statements", FEB))
        .await
        .unwrap()
        .expect("February's statements have a recorded writer");

    let (lake, store, mem) = faulty(&base);
    let r = runs::recompute_month(&lake, FEB, &RunOptions::default())
        .await
        .unwrap();
    let new = official(&mem).await;
    assert_ne!(old, new, "the adjustment changes February");
    let outputs = r
        .manifest
        .outputs
        .iter()
        .map(|o| (o.key.clone(), new[&o.key].clone()))
        .collect();
    Case {
        base,
        old,
        new,
        outputs,
        old_statements_run: lineage,
        clean_log: store.log(),
    }
}

/// A run that stages exactly the recompute's outputs: the same publish as the recompute.
async fn replay(lake: &Lake, case: &Case, opts: &PublishOptions) -> claimlake_engine::Result<()> {
    let outputs = case.outputs.clone();
    publish::run(
        lake,
        "settle",
        &FEB.to_string(),
        opts,
        |staged| async move {
            for (key, bytes) in outputs {
                staged.put(&key, bytes.into()).await?;
            }
            Ok(Computed::new(()))
        },
    )
    .await
    .map(|_| ())
}

fn describe(log: &[String]) -> String {
    log.join("\n")
}

/// The history keeps February's replaced statements, byte for byte.
async fn assert_history(mem: &InMemory, case: &Case, context: &str) {
    let history = folder(mem, "history").await;
    let key = format!(
        "history/statements/year=2025/month=02/{}.parquet",
        case.old_statements_run
    );
    assert_eq!(
        history.get(&key),
        case.old
            .get("results/statements/year=2025/month=02/data.parquet"),
        "{context}: {key} keeps the replaced statements"
    );
}

async fn assert_clean(mem: &InMemory, context: &str) {
    for name in ["staging", "publish/journal"] {
        let left = folder(mem, name).await;
        assert!(
            left.is_empty(),
            "{context}: {name} is empty: {:?}",
            left.keys().collect::<Vec<_>>()
        );
    }
    let locks: Vec<String> = folder(mem, "locks")
        .await
        .into_keys()
        .filter(|k| !k.contains(".takeover-"))
        .collect();
    assert!(locks.is_empty(), "{context}: no lock left: {locks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_publish_write_failing_once_leaves_old_or_new_and_a_rerun_recovers() {
    let case = prepare().await;
    let opts = PublishOptions::default();

    // How many writes a replayed publish makes.
    let (lake, store, mem) = faulty(&case.base);
    replay(&lake, &case, &opts).await.unwrap();
    assert!(official(&mem).await == case.new, "replay = recompute");
    let writes = store.writes();
    assert!(writes > 40, "a publish of this month makes {writes} writes");

    for n in 1..=writes {
        let (lake, store, mem) = faulty(&case.base);
        store.set(Fault::Once(n));
        let result = replay(&lake, &case, &opts).await;
        let log = store.log();
        let after = official(&mem).await;
        match &result {
            Ok(()) => assert!(
                after == case.new,
                "write {n} failed, run succeeded, yet not the new set:\n{}",
                describe(&log)
            ),
            Err(e) => {
                assert!(e.is_retryable(), "write {n}: {e}");
                assert!(
                    after == case.old,
                    "write {n} failed ({e}), yet not the old set:\n{}",
                    describe(&log)
                );
            }
        }
        store.set(Fault::None);
        replay(&lake, &case, &opts)
            .await
            .unwrap_or_else(|e| panic!("re-run after write {n} failed: {e}"));
        assert!(
            official(&mem).await == case.new,
            "re-run after write {n}: the new set"
        );
        assert_history(&mem, &case, &format!("write {n}")).await;
        assert_clean(&mem, &format!("write {n}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_every_publish_write_is_completed_or_redone_by_the_next_run() {
    let case = prepare().await;
    let opts = PublishOptions::default();
    let (lake, store, _) = faulty(&case.base);
    replay(&lake, &case, &opts).await.unwrap();
    let writes = store.writes();

    let mut completed = 0;
    for n in 1..=writes {
        let (lake, store, mem) = faulty(&case.base);
        // Nothing the run does from write n on reaches storage: not even undoing.
        store.set(Fault::From(n));
        let result = replay(&lake, &case, &opts).await;
        let after = official(&mem).await;
        let journals = folder(&mem, "publish/journal").await;
        if after != case.old && after != case.new {
            // Mid-copy: the journal records the publish, so the next run completes it.
            let journal: serde_json::Value = serde_json::from_slice(
                journals
                    .values()
                    .next()
                    .unwrap_or_else(|| panic!("crash at write {n}: a mixed set with no journal")),
            )
            .unwrap();
            assert_eq!(journal["state"], "replacing", "crash at write {n}");
            assert!(result.is_err());
        }

        // The next run, after the crashed run's lock went stale (30 minutes).
        store.set(Fault::None);
        let later = PublishOptions::default().at(Utc::now() + Duration::minutes(31));
        replay(&lake, &case, &later)
            .await
            .unwrap_or_else(|e| panic!("re-run after a crash at write {n} failed: {e}"));
        assert!(
            official(&mem).await == case.new,
            "re-run after a crash at write {n}: the new set"
        );
        assert_history(&mem, &case, &format!("crash at write {n}")).await;
        assert_clean(&mem, &format!("crash at write {n}")).await;

        // The interrupted run's manifest says how its publish ended.
        if let Some(j) = journals.values().next() {
            let journal: serde_json::Value = serde_json::from_slice(j).unwrap();
            let run_id = journal["run_id"].as_str().unwrap();
            let m: serde_json::Value =
                serde_json::from_slice(&lake.get(&layout::run_manifest(run_id)).await.unwrap())
                    .unwrap();
            let action = m["recovery"]["action"].as_str().unwrap_or("");
            assert!(
                ["completed", "discarded", "rolled_back", "finalized"].contains(&action)
                    || m["status"] == "succeeded",
                "crash at write {n}: {m}"
            );
            if action == "completed" {
                completed += 1;
                assert_eq!(m["status"], "succeeded");
                assert!(!m["replaced"].as_array().unwrap().is_empty());
            }
        }
    }
    assert!(completed > 0, "some crashes were completed by the next run");
}

/// The real recompute, failed at one write of each step of its publish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_recompute_fails_at_each_publish_step_and_recovers() {
    let case = prepare().await;
    let log = &case.clean_log;
    let first = |prefix: &str| {
        log.iter()
            .position(|l| l.split_once(": ").unwrap().1.starts_with(prefix))
            .unwrap_or_else(|| panic!("no write {prefix:?} in\n{}", describe(log))) as u64
            + 1
    };
    let copies: Vec<u64> = log
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(": copy "))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let steps = [
        ("lock", first("create locks/")),
        ("staging", first("put staging/") + 5),
        ("journal", first("put publish/journal")),
        ("history", first("put history/statements")),
        ("copy into place", copies[copies.len() / 2]),
        ("report copy", *copies.last().unwrap()),
        ("lineage", first("put publish/lineage/results/statements")),
        ("manifest", first("put runs/")),
        ("clean-up", first("delete staging/")),
    ];
    for (step, n) in steps {
        let (lake, store, mem) = faulty(&case.base);
        store.set(Fault::Once(n));
        let result = runs::recompute_month(&lake, FEB, &RunOptions::default()).await;
        let after = official(&mem).await;
        let context = format!("{step} (write {n}: {})", store.log()[n as usize - 1]);
        match &result {
            Ok(_) => assert!(after == case.new, "{context}: succeeded, the new set"),
            Err(e) => assert!(after == case.old, "{context}: failed ({e}), the old set"),
        }
        store.set(Fault::None);
        let rerun = runs::recompute_month(&lake, FEB, &RunOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{context}: re-run failed: {e}"));
        let again = official(&mem).await;
        let without_diff = |s: &Snapshot| -> Snapshot {
            s.iter()
                .filter(|(k, _)| !k.ends_with(".diff.json"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if result.is_err() {
            assert!(
                again == case.new,
                "{context}: re-run gives the new set, diff included; differing: {:?}",
                differing(&again, &case.new)
            );
        } else {
            // Re-running the month once more replaces it by itself: only the diff differs.
            assert!(without_diff(&again) == without_diff(&case.new), "{context}");
            assert!(
                rerun
                    .manifest
                    .replaced
                    .iter()
                    .all(|r| r.key.ends_with(".diff.json")),
                "{context}: replaced {:?}",
                rerun.manifest.replaced
            );
        }
        assert_history(&mem, &case, &context).await;
        assert_clean(&mem, &context).await;
    }
}
