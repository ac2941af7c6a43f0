//! The `claimlake` binary on an S3 lake (moto on 127.0.0.1): after a run it prints the report's
//! key and a presigned URL that fetches exactly the stored report, for an official run and for a
//! scenario (whose report lives under `scenarios/<name>/`). On a local lake it prints no URL.

use claimlake_datagen::{GenConfig, Scale};
use claimlake_lake::Lake;
use claimlake_tests::s3server::{S3Server, copy_lake, http_get};

/// Runs the CLI with the S3 server's environment; returns stdout, asserting success.
fn claimlake(server: &S3Server, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimlake"))
        .args(args)
        .envs(server.child_env())
        .output()
        .expect("the claimlake binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "claimlake {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The value after `label` on its line of the CLI's output.
fn line_value<'a>(stdout: &'a str, label: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(label).map(str::trim))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_on_s3_prints_a_presigned_report_url() {
    let server = S3Server::shared();
    let src_dir = tempfile::tempdir().unwrap();
    let root = src_dir.path().to_str().unwrap().to_string();
    let src = Lake::open(&root).unwrap();
    let mut cfg = GenConfig::new(2025, Scale::Tiny, 13);
    cfg.months = 1..=1;
    claimlake_datagen::generate(&src, &cfg, &|_| {})
        .await
        .unwrap();
    let lake = server.lake("cli-urls", "lake", false).await;
    copy_lake(&src, &lake).await;

    let out = claimlake(
        server,
        &[
            "settle",
            "--lake",
            "s3://cli-urls/lake",
            "--month",
            "2025-01",
        ],
    );
    assert_eq!(
        line_value(&out, "report:"),
        Some("reports/settlement/2025-01.json"),
        "{out}"
    );
    let url = line_value(&out, "report URL:").unwrap_or_else(|| panic!("a URL line: {out}"));
    let (status, body) = http_get(url).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body,
        lake.get("reports/settlement/2025-01.json")
            .await
            .unwrap()
            .to_vec()
    );

    // A scenario's report is its own object, under scenarios/<name>/.
    let policy = src_dir.path().join("policy/2025.toml");
    let out = claimlake(
        server,
        &[
            "settle",
            "--lake",
            "s3://cli-urls/lake",
            "--month",
            "2025-01",
            "--scenario",
            "what-if",
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    let key = "scenarios/what-if/reports/settlement/2025-01.json";
    assert_eq!(line_value(&out, "report:"), Some(key), "{out}");
    let (status, body) = http_get(line_value(&out, "report URL:").unwrap()).unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, lake.get(key).await.unwrap().to_vec());

    // A local lake: the key, no URL.
    let out = claimlake(server, &["settle", "--lake", &root, "--month", "2025-01"]);
    assert_eq!(
        line_value(&out, "report:"),
        Some("reports/settlement/2025-01.json")
    );
    assert_eq!(line_value(&out, "report URL:"), None, "{out}");
}
