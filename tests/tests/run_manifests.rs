//! Run manifests (outputs.md): every object read with its size and version evidence, row counts
//! that reconcile, every output with a SHA-256 that matches the stored bytes, and a failed run
//! recorded with its error.

use claimlake_domain::period::Month;
use claimlake_engine::runs;
use claimlake_lake::Lake;
use claimlake_lake::write::sha256_hex;
use claimlake_tests::{conformance_dir, copy_tree};

async fn manifest(lake: &Lake, run_id: &str) -> serde_json::Value {
    let bytes = lake.get(&format!("runs/{run_id}.json")).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn check_outputs(lake: &Lake, m: &serde_json::Value) {
    let outputs = m["outputs"].as_array().unwrap();
    assert!(!outputs.is_empty());
    for o in outputs {
        let key = o["key"].as_str().unwrap();
        let bytes = lake.get(key).await.unwrap();
        assert_eq!(o["sha256"].as_str().unwrap(), sha256_hex(&bytes), "{key}");
        assert_eq!(o["bytes"].as_u64().unwrap(), bytes.len() as u64, "{key}");
    }
}

fn reconciles(counts: &serde_json::Value) {
    let read = counts["read"].as_u64().unwrap();
    let used = counts["used"].as_u64().unwrap();
    let netted = counts["netted"].as_u64().unwrap();
    let quarantined: u64 = counts["quarantined"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(read, used + quarantined + netted, "{counts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_settle_write_manifests() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&conformance_dir().join("lake"), dir.path()).unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let jan = Month {
        year: 2025,
        month: 1,
    };

    let v = runs::validate(&lake, jan).await.unwrap();
    let m = manifest(&lake, &v.run_id).await;
    assert_eq!(m["kind"], "validate");
    assert_eq!(m["period"], "2025-01");
    assert_eq!(m["status"], "succeeded");
    assert!(m["started"].as_str().unwrap() <= m["finished"].as_str().unwrap());
    let inputs: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert!(
        inputs.contains(&"claims/year=2025/month=01/part-000.parquet"),
        "{inputs:?}"
    );
    assert!(inputs.contains(&"reference/institutions/part-000.parquet"));
    for i in m["inputs"].as_array().unwrap() {
        assert!(i["size"].as_u64().unwrap() > 0);
        assert!(!i["modified"].as_str().unwrap().is_empty());
    }
    reconciles(&m["row_counts"]["claims"]);
    reconciles(&m["row_counts"]["claim_items"]);
    assert_eq!(
        m["row_counts"]["claims"]["quarantined"]["payer_parts_mismatch"],
        1
    );
    check_outputs(&lake, &m).await;

    let s = runs::settle(&lake, jan).await.unwrap();
    let m = manifest(&lake, &s.run_id).await;
    assert_eq!(m["kind"], "settle");
    assert_eq!(m["policy"]["year"], 2025);
    assert_eq!(m["policy"]["version"], 1);
    let policy = lake.get("policy/2025.toml").await.unwrap();
    assert_eq!(m["policy"]["sha256"].as_str().unwrap(), sha256_hex(&policy));
    reconciles(&m["row_counts"]["claims"]);
    assert!(
        m["row_counts"]["claims"]["excluded"]["outside_agreement"]
            .as_u64()
            .unwrap()
            > 0
    );
    check_outputs(&lake, &m).await;
    let keys: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    for t in [
        "point_values",
        "settlement_lines",
        "volume_price",
        "statements",
        "fund_split",
        "excluded_claims",
    ] {
        let key = format!("results/{t}/year=2025/month=01/data.parquet");
        assert!(keys.contains(&key.as_str()), "{key} in outputs");
    }
    assert!(keys.contains(&"reports/settlement/2025-01.json"));

    // A failed run is recorded with its error: March cannot be settled before February.
    let err = runs::settle(
        &lake,
        Month {
            year: 2025,
            month: 3,
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("2025-02"), "{err}");
    let mut failed = 0;
    for o in lake.list("runs").await.unwrap() {
        let m: serde_json::Value =
            serde_json::from_slice(&lake.get(&o.key).await.unwrap()).unwrap();
        if m["status"] == "failed" {
            failed += 1;
            assert_eq!(m["period"], "2025-03");
            assert!(
                m["error"]
                    .as_str()
                    .unwrap()
                    .contains("settle months in order")
            );
        }
    }
    assert_eq!(failed, 1);
}
