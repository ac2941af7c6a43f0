//! The built `monthly-settlement` binary under a Lambda Runtime API on 127.0.0.1, over an S3
//! lake on the test S3 server: a scheduled event (`"period": "auto"` at the schedule's time)
//! and an on-demand event settle January and February; the responses carry the run id, row
//! counts, the report key and a presigned URL that fetches the report; the logs are JSON lines
//! with the period and run id. A scenario event writes under `scenarios/<name>/`; a recompute
//! event replaces the open month with a diff report. Bad events, a closed month, a missing
//! previous month and a bad policy come back as non-retryable typed errors, and the function
//! keeps serving.

use bytes::Bytes;
use claimlake_datagen::{GenConfig, Scale};
use claimlake_lake::Lake;
use claimlake_tests::lambda_api::{FunctionProcess, RuntimeApi};
use claimlake_tests::s3server::{S3Server, copy_lake, http_get};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_and_on_demand_settlements_through_the_runtime_api() {
    let server = S3Server::shared();
    let src_dir = tempfile::tempdir().unwrap();
    let src = Lake::open(src_dir.path().to_str().unwrap()).unwrap();
    let mut cfg = GenConfig::new(2025, Scale::Tiny, 3);
    cfg.months = 1..=3;
    claimlake_datagen::generate(&src, &cfg, &|_| {})
        .await
        .unwrap();
    let lake = server.lake("fn-settlement", "lake", false).await;
    copy_lake(&src, &lake).await;

    let mut api = RuntimeApi::start();
    let work = tempfile::tempdir().unwrap();
    let mut env = server.child_env();
    env.push(("CLAIMLAKE_LAKE", "s3://fn-settlement/lake".into()));
    env.push((
        "CLAIMLAKE_SPILL_DIR",
        work.path().join("spill").display().to_string(),
    ));
    let function = FunctionProcess::start(
        env!("CARGO_BIN_EXE_monthly-settlement"),
        &api,
        3538,
        &env,
        &work.path().join("function.log"),
    );

    // Scheduled: the 5th of February, 02:00 in Shanghai, settles January.
    let jan = api
        .invoke(json!({"period": "auto", "scheduled_time": "2025-02-04T18:00:00Z"}))
        .ok();
    assert_eq!(jan["status"], "succeeded");
    assert_eq!(jan["function"], "monthly-settlement");
    assert_eq!(jan["period"], "2025-01");
    let run_id = jan["run_id"].as_str().unwrap().to_string();
    assert_eq!(jan["manifest_key"], format!("runs/{run_id}.json"));
    assert_eq!(jan["report_key"], "reports/settlement/2025-01.json");
    assert!(jan["rows"]["statements"].as_u64().unwrap() > 0, "{jan}");
    assert!(jan["rows"]["point_values"].as_u64().unwrap() > 0, "{jan}");
    let claims = &jan["inputs"]["claims"];
    assert_eq!(
        claims["read"].as_u64().unwrap(),
        claims["used"].as_u64().unwrap()
            + claims["netted"].as_u64().unwrap()
            + claims["quarantined"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>()
    );
    // The lake has what the response says.
    let manifest: serde_json::Value =
        serde_json::from_slice(&lake.get(&format!("runs/{run_id}.json")).await.unwrap()).unwrap();
    assert_eq!(manifest["status"], "succeeded");
    assert_eq!(manifest["period"], "2025-01");
    let report = lake.get("reports/settlement/2025-01.json").await.unwrap();
    let (status, body) = http_get(jan["report_url"].as_str().unwrap()).unwrap();
    assert_eq!(status, 200);
    assert_eq!(Bytes::from(body), report);

    // On demand: an explicit month.
    let feb = api.invoke(json!({"period": "2025-02"})).ok();
    assert_eq!(feb["period"], "2025-02");
    assert_ne!(feb["run_id"], jan["run_id"]);
    assert!(
        lake.exists("results/statements/year=2025/month=02/data.parquet")
            .await
            .unwrap()
    );

    // Typed, non-retryable errors; the function keeps serving after each.
    let (t, m) = api.invoke(json!({"perod": "auto"})).err();
    assert_eq!(t, "NonRetryable.BadEvent");
    assert!(m.contains("perod"), "{m}");
    let (t, m) = api.invoke(json!({"period": "2025Q1"})).err();
    assert_eq!(t, "NonRetryable.BadEvent");
    assert!(m.contains("period"), "{m}");
    // A scenario: its policy file is a key in the lake; results go under scenarios/<name>/.
    let policy = lake.get("policy/2025.toml").await.unwrap();
    lake.put("policy/scenarios/drug-plus-5.toml", policy.clone())
        .await
        .unwrap();
    let official_feb = lake
        .get("results/statements/year=2025/month=02/data.parquet")
        .await
        .unwrap();
    let sc = api
        .invoke(json!({"period": "2025-02", "scenario": "drug-plus-5",
                       "policy": "policy/scenarios/drug-plus-5.toml"}))
        .ok();
    assert_eq!(sc["scenario"], "drug-plus-5");
    assert_eq!(
        sc["report_key"],
        "scenarios/drug-plus-5/reports/settlement/2025-02.json"
    );
    let sc_run = sc["run_id"].as_str().unwrap();
    assert_eq!(
        sc["manifest_key"],
        format!("scenarios/drug-plus-5/runs/{sc_run}.json")
    );
    let (status, body) = http_get(sc["report_url"].as_str().unwrap()).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        Bytes::from(body),
        lake.get(sc["report_key"].as_str().unwrap()).await.unwrap()
    );
    assert_eq!(
        lake.get("results/statements/year=2025/month=02/data.parquet")
            .await
            .unwrap(),
        official_feb,
        "a scenario never touches official results"
    );
    let (t, m) = api
        .invoke(json!({"period": "2025-02", "scenario": "x", "policy": "policy/none.toml"}))
        .err();
    assert_eq!(t, "NonRetryable.Policy");
    assert!(m.contains("policy/none.toml"), "{m}");

    // Recompute: the open month (February) is re-run and replaced, with a diff report; the
    // closed one (January) is refused, pointing to scenarios.
    let re = api
        .invoke(json!({"period": "2025-02", "recompute": true}))
        .ok();
    assert_eq!(re["period"], "2025-02");
    assert_eq!(re["diff_key"], "reports/settlement/2025-02.diff.json");
    let (status, body) = http_get(re["diff_url"].as_str().unwrap()).unwrap();
    assert_eq!(status, 200);
    let diff: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(diff["replaced_run"], feb["run_id"]);
    let (t, m) = api
        .invoke(json!({"period": "2025-01", "recompute": true}))
        .err();
    assert_eq!(t, "NonRetryable.Precondition");
    assert!(m.contains("closed") && m.contains("scenario"), "{m}");
    // April before March: the previous month's results are missing.
    let (t, m) = api.invoke(json!({"period": "2025-04"})).err();
    assert_eq!(t, "NonRetryable.Precondition");
    assert!(m.contains("2025-03"), "{m}");

    // A bad policy: monthly weights that do not sum to 1.
    let policy = String::from_utf8(lake.get("policy/2025.toml").await.unwrap().to_vec()).unwrap();
    let broken = break_weights(&policy);
    lake.put("policy/2025.toml", Bytes::from(broken))
        .await
        .unwrap();
    let (t, m) = api.invoke(json!({"period": "2025-03"})).err();
    assert_eq!(t, "NonRetryable.Policy");
    assert!(m.contains("monthly_weights"), "{m}");
    assert!(
        !lake
            .exists("results/statements/year=2025/month=03/data.parquet")
            .await
            .unwrap()
    );

    // Structured logs: JSON lines; the success line names period and run id.
    let logs = function.logs();
    assert!(
        logs.iter().all(|l| l.is_object()),
        "every log line is JSON: {logs:?}"
    );
    let cold = logs
        .iter()
        .find(|l| l["message"] == "cold start")
        .expect("a cold start line");
    assert_eq!(cold["target_partitions"], 2, "3,538 MB = two vCPUs");
    let done = logs
        .iter()
        .find(|l| l["message"] == "run succeeded" && l["run_id"] == run_id.as_str())
        .unwrap_or_else(|| panic!("a success line with the run id: {logs:?}"));
    assert_eq!(done["period"], "2025-01");
    let failed: Vec<&serde_json::Value> = logs
        .iter()
        .filter(|l| l["message"] == "run failed" && l["error_type"] == "NonRetryable.Policy")
        .collect();
    assert_eq!(
        failed
            .iter()
            .map(|l| l["period"].clone())
            .collect::<Vec<_>>(),
        vec![json!("2025-02"), json!("2025-03")],
        "the missing scenario policy, then the broken policy"
    );
}

/// The policy text with its default monthly weights changed so they no longer sum to 1.
fn break_weights(policy: &str) -> String {
    let start = policy
        .find("monthly_weights")
        .unwrap_or_else(|| panic!("the generated policy has monthly_weights:\n{policy}"));
    let end = start + policy[start..].find(']').expect("the weights array closes");
    format!(
        "{}monthly_weights = [\"0.5\", \"0.5\", \"0.5\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\", \"0\"]{}",
        &policy[..start],
        &policy[end + 1..]
    )
}
