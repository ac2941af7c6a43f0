//! The built `quarterly-warning` binary under a Lambda Runtime API on 127.0.0.1, over a local
//! folder lake: the scheduled event of the 10th of April runs 2025Q1's warnings and the lake
//! gets the quarter's tables and report; a recompute event replaces the open quarter with a
//! diff report; bad events and a bad time-zone setting are
//! non-retryable typed errors.

use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::Month;
use claimlake_lake::Lake;
use claimlake_tests::lambda_api::{FunctionProcess, RuntimeApi};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_quarter_warnings_through_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let lake = Lake::open(&root).unwrap();
    let mut cfg = GenConfig::new(2025, Scale::Tiny, 5);
    cfg.months = 1..=3;
    claimlake_datagen::generate(&lake, &cfg, &|_| {})
        .await
        .unwrap();
    for month in 1..=3 {
        claimlake_engine::runs::settle(&lake, Month { year: 2025, month })
            .await
            .unwrap();
    }

    let mut api = RuntimeApi::start();
    let work = tempfile::tempdir().unwrap();
    let spill = (
        "CLAIMLAKE_SPILL_DIR",
        work.path().join("spill").display().to_string(),
    );
    let function = FunctionProcess::start(
        env!("CARGO_BIN_EXE_quarterly-warning"),
        &api,
        1024,
        std::slice::from_ref(&spill),
        &work.path().join("function.log"),
    );

    // The 10th of April, 02:00 in Shanghai: the quarter that closed is 2025Q1.
    let r = api
        .invoke(json!({"lake": root, "period": "auto", "scheduled_time": "2025-04-09T18:00:00Z"}))
        .ok();
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["function"], "quarterly-warning");
    assert_eq!(r["period"], "2025Q1");
    assert_eq!(r["report_key"], "reports/warnings/2025-Q1.json");
    assert!(
        r.get("report_url").is_none(),
        "no presigned URL on a local lake: {r}"
    );
    assert!(r["rows"]["warnings"].as_u64().unwrap() > 0, "{r}");
    assert!(r["rows"]["indicators"].as_u64().unwrap() > 0, "{r}");
    assert!(r["rows"].get("cards").is_some(), "{r}");
    let report: serde_json::Value =
        serde_json::from_slice(&lake.get("reports/warnings/2025-Q1.json").await.unwrap()).unwrap();
    assert_eq!(report["period"], "2025Q1");
    assert_eq!(
        report["cards"].as_array().unwrap().len() as u64,
        r["rows"]["cards"].as_u64().unwrap()
    );
    let run_id = r["run_id"].as_str().unwrap();
    assert!(lake.exists(&format!("runs/{run_id}.json")).await.unwrap());

    // Recompute: Q1's cards act from April, which is not settled yet, so Q1 is open and is
    // re-run and replaced, with a diff report naming the replaced run.
    let re = api
        .invoke(json!({"lake": root, "period": "2025Q1", "recompute": true}))
        .ok();
    assert_eq!(re["diff_key"], "reports/warnings/2025-Q1.diff.json");
    assert_ne!(re["run_id"], r["run_id"]);
    let diff: serde_json::Value = serde_json::from_slice(
        &lake
            .get("reports/warnings/2025-Q1.diff.json")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(diff["replaced_run"], r["run_id"]);

    // A month is not a quarter; an event without a lake has nothing to run on.
    let (t, m) = api.invoke(json!({"lake": root, "period": "2025-03"})).err();
    assert_eq!(t, "NonRetryable.BadEvent");
    assert!(m.contains("period"), "{m}");
    let (t, m) = api.invoke(json!({"period": "2025Q1"})).err();
    assert_eq!(t, "NonRetryable.BadEvent");
    assert!(m.contains("CLAIMLAKE_LAKE"), "{m}");
    // Q2 has no claims yet.
    let (t, _) = api.invoke(json!({"lake": root, "period": "2025Q2"})).err();
    assert!(t.starts_with("NonRetryable."), "{t}");
    drop(function);

    // A function misconfigured at cold start answers every invocation with the typed error.
    let mut api = RuntimeApi::start();
    let _bad = FunctionProcess::start(
        env!("CARGO_BIN_EXE_quarterly-warning"),
        &api,
        1024,
        &[spill, ("CLAIMLAKE_TIME_ZONE", "Mars/Olympus".into())],
        &work.path().join("bad.log"),
    );
    for _ in 0..2 {
        let (t, m) = api.invoke(json!({"lake": root, "period": "auto"})).err();
        assert_eq!(t, "NonRetryable.Config");
        assert!(m.contains("CLAIMLAKE_TIME_ZONE"), "{m}");
    }
}
