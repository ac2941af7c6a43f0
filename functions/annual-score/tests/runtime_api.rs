//! The built `annual-score` binary under a Lambda Runtime API on 127.0.0.1, over a local folder
//! lake holding a settled and warned year: the scheduled event of 20 January scores the year
//! that closed, a recompute event replaces the (still open) year with a diff report, a scenario
//! event writes only under `scenarios/<name>/`, and a year without its inputs is a
//! non-retryable typed error.

use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::{Month, Quarter};
use claimlake_lake::Lake;
use claimlake_tests::lambda_api::{FunctionProcess, RuntimeApi};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_recomputed_and_scenario_scores_through_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let lake = Lake::open(&root).unwrap();
    let cfg = GenConfig::new(2025, Scale::Tiny, 11);
    claimlake_datagen::generate(&lake, &cfg, &|_| {})
        .await
        .unwrap();
    for month in 1..=12 {
        claimlake_engine::runs::settle(&lake, Month { year: 2025, month })
            .await
            .unwrap();
        if month % 3 == 0 {
            let quarter = month / 3;
            claimlake_engine::runs::warn(
                &lake,
                Quarter {
                    year: 2025,
                    quarter,
                },
            )
            .await
            .unwrap();
        }
    }

    let mut api = RuntimeApi::start();
    let work = tempfile::tempdir().unwrap();
    let env = [
        (
            "CLAIMLAKE_SPILL_DIR",
            work.path().join("spill").display().to_string(),
        ),
        ("CLAIMLAKE_LAKE", root.clone()),
    ];
    let _function = FunctionProcess::start(
        env!("CARGO_BIN_EXE_annual-score"),
        &api,
        1769,
        &env,
        &work.path().join("function.log"),
    );

    // 20 January 2026, 02:00 in Shanghai (still the 19th in UTC): the year that closed is 2025.
    let r = api
        .invoke(json!({"period": "auto", "scheduled_time": "2026-01-19T18:00:00Z"}))
        .ok();
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["function"], "annual-score");
    assert_eq!(r["period"], "2025");
    assert_eq!(r["report_key"], "reports/scores/2025.json");
    assert!(
        r.get("diff_key").is_none(),
        "a first run replaces nothing: {r}"
    );
    let scored = r["rows"]["scores"].as_u64().unwrap();
    assert!(scored > 0, "{r}");
    assert!(r["rows"]["score_items"].as_u64().unwrap() > scored, "{r}");
    let report: serde_json::Value =
        serde_json::from_slice(&lake.get("reports/scores/2025.json").await.unwrap()).unwrap();
    assert_eq!(report["period"], "2025", "{report}");
    let official = lake
        .get("results/scores/year=2025/data.parquet")
        .await
        .unwrap();

    // Recompute: the year is open until 2026 is scored; it is replaced with a diff report.
    let re = api
        .invoke(json!({"period": "2025", "recompute": true}))
        .ok();
    assert_eq!(re["diff_key"], "reports/scores/2025.diff.json");
    let diff: serde_json::Value =
        serde_json::from_slice(&lake.get("reports/scores/2025.diff.json").await.unwrap()).unwrap();
    assert_eq!(diff["replaced_run"], r["run_id"]);

    // A scenario with its own policy file: scored under scenarios/<name>/, official untouched.
    let policy = lake.get("policy/2025.toml").await.unwrap();
    lake.put("policy/scenarios/what-if.toml", policy)
        .await
        .unwrap();
    let sc = api
        .invoke(json!({"period": "2025", "scenario": "what-if",
                       "policy": "policy/scenarios/what-if.toml"}))
        .ok();
    assert_eq!(
        sc["report_key"],
        "scenarios/what-if/reports/scores/2025.json"
    );
    assert!(
        lake.exists("scenarios/what-if/results/scores/year=2025/data.parquet")
            .await
            .unwrap()
    );
    assert_eq!(
        lake.get("results/scores/year=2025/data.parquet")
            .await
            .unwrap(),
        official,
        "the scenario left the official scores alone (the recompute rewrote identical bytes)"
    );

    // 2024 has no policy, no statements: a missing input, named, not retried.
    let (t, m) = api.invoke(json!({"period": "2024"})).err();
    assert_eq!(t, "NonRetryable.Input", "{m}");
    assert!(m.contains("2024"), "{m}");
}
