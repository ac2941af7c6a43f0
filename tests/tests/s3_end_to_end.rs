//! The lake on a real S3-compatible server (moto, on 127.0.0.1): the same interleaved year
//! (settle → warn → settle → … → score) on an `s3://` lake and on a local folder gives the same
//! objects, byte for byte; create-only writes
//! (`If-None-Match: *`) refuse a second writer; a large result goes up as a multipart upload;
//! presigned URLs and Object Lock retention work against the server.

use std::collections::BTreeMap;

use arrow::array::{Array, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use claimlake_datagen::{GenConfig, Scale};
use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::cells::text;
use claimlake_engine::runs;
use claimlake_lake::write::sha256_hex;
use claimlake_lake::{Lake, LakeError};
use claimlake_tests::records::{comparable, is_record, without_versions};
use claimlake_tests::s3server::{S3Server, copy_lake, http_get};
use object_store::path::Path;
use object_store::{PutMode, PutPayload};

/// The interleaved year (the conformance README's order): each month settled, each quarter's
/// warnings after its last month (so April sees Q1's cards), then the year's scores. Returns
/// Q1's warnings and April's settlement.
async fn run_year(
    lake: &Lake,
) -> (
    runs::Recorded<claimlake_engine::warn::WarnOutcome>,
    runs::Recorded<claimlake_engine::settle::SettleOutcome>,
) {
    let mut q1 = None;
    let mut april = None;
    for month in 1..=12 {
        let s = runs::settle(lake, Month { year: 2025, month })
            .await
            .unwrap_or_else(|e| panic!("{} settle 2025-{month:02}: {e}", lake.root()));
        if month == 4 {
            april = Some(s);
        }
        if month % 3 == 0 {
            let quarter = month / 3;
            let w = runs::warn(
                lake,
                Quarter {
                    year: 2025,
                    quarter,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{} warn 2025Q{quarter}: {e}", lake.root()));
            if quarter == 1 {
                q1 = Some(w);
            }
        }
    }
    runs::score(lake, 2025)
        .await
        .unwrap_or_else(|e| panic!("{} score 2025: {e}", lake.root()));
    (q1.unwrap(), april.unwrap())
}

/// A manifest without what differs between two runs of the same computation: the run id, the
/// times, the stores' version evidence of inputs, and the sizes and hashes of the validation
/// records (compared by content in [`snapshot`]; their headers hold that evidence).
fn normalized_manifest(bytes: &[u8]) -> serde_json::Value {
    let mut m: serde_json::Value = serde_json::from_slice(bytes).expect("manifest JSON");
    let o = m.as_object_mut().expect("manifest object");
    for k in ["run_id", "started", "finished"] {
        assert!(o.remove(k).is_some(), "manifest has {k}");
    }
    without_versions(o.get_mut("inputs").expect("manifest inputs"));
    for input in o["inputs"].as_array_mut().expect("inputs") {
        let input = input.as_object_mut().expect("input object");
        if is_record(input["key"].as_str().unwrap_or_default()) {
            input.remove("size");
        }
    }
    for list in ["outputs", "replaced"] {
        let Some(entries) = o.get_mut(list).and_then(|l| l.as_array_mut()) else {
            continue;
        };
        for e in entries {
            let e = e.as_object_mut().expect("manifest entry");
            if is_record(e["key"].as_str().unwrap_or_default()) {
                e.remove("sha256");
                e.remove("bytes");
            }
        }
    }
    m
}

/// Every object of a lake: non-manifest objects by key with their bytes, manifests normalized
/// and keyed by (kind, period, position).
async fn snapshot(lake: &Lake) -> (BTreeMap<String, Bytes>, Vec<serde_json::Value>) {
    let mut objects = BTreeMap::new();
    let mut manifests = Vec::new();
    for o in lake.list("").await.unwrap() {
        let bytes = lake.get(&o.key).await.unwrap();
        if o.key.starts_with("runs/") {
            manifests.push(normalized_manifest(&bytes));
        } else if o.key.starts_with("publish/lineage/") {
            // Lineage names the run that wrote the object: compare what was written.
            let mut l: serde_json::Value = serde_json::from_slice(&bytes).expect("lineage JSON");
            assert!(l.as_object_mut().unwrap().remove("run_id").is_some());
            let l = Bytes::from(l.to_string());
            objects.insert(o.key.clone(), comparable(&o.key, l));
        } else {
            let bytes = comparable(&o.key, bytes);
            objects.insert(o.key, bytes);
        }
    }
    // Run ids order manifests by time in both lakes; compare them in that order.
    (objects, manifests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_lake_equals_local_lake_object_for_object() {
    let server = S3Server::shared();
    // The source: a generated tiny lake (four months), uploaded to the bucket and copied to a
    // local folder, so both lakes start from the same bytes.
    let src_dir = tempfile::tempdir().unwrap();
    let src = Lake::open(src_dir.path().to_str().unwrap()).unwrap();
    let mut cfg = GenConfig::new(2025, Scale::Tiny, 7);
    cfg.months = 1..=12;
    claimlake_datagen::generate(&src, &cfg, &|_| {})
        .await
        .unwrap();

    let s3 = server.lake("e2e-lake", "city/lake", false).await;
    copy_lake(&src, &s3).await;
    let local_dir = tempfile::tempdir().unwrap();
    let local = Lake::open(local_dir.path().to_str().unwrap()).unwrap();
    copy_lake(&src, &local).await;

    let (s3_warn, s3_april) = run_year(&s3).await;
    let (local_warn, _) = run_year(&local).await;
    assert_eq!(
        s3_warn.outcome.report.cards.len(),
        local_warn.outcome.report.cards.len()
    );

    // April sees Q1's cards: a yellow card from April holds the institution's payment.
    let yellows: Vec<&str> = s3_warn
        .outcome
        .report
        .cards
        .iter()
        .filter(|c| c.effect == "payment_hold" && c.effect_from_month == "2025-04")
        .map(|c| c.institution_id.as_str())
        .collect();
    assert!(
        !yellows.is_empty(),
        "the generated lake plants a Q1 yellow card holding April: {:?}",
        s3_warn.outcome.report.cards
    );
    let mut held = Vec::new();
    for b in s3_april.outcome.table("statements") {
        let on_hold = b
            .column_by_name("on_hold")
            .unwrap()
            .as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap();
        for i in 0..b.num_rows() {
            if on_hold.value(i) {
                held.push(text(b, "institution_id", i));
            }
        }
    }
    for y in &yellows {
        assert!(
            held.iter().any(|h| h == y),
            "{y} on hold in April: {held:?}"
        );
    }

    // Object for object: same keys, same bytes; manifests equal but for run ids and times.
    let (s3_objects, s3_manifests) = snapshot(&s3).await;
    let (local_objects, local_manifests) = snapshot(&local).await;
    let s3_keys: Vec<&String> = s3_objects.keys().collect();
    let local_keys: Vec<&String> = local_objects.keys().collect();
    assert_eq!(s3_keys, local_keys);
    for (key, bytes) in &s3_objects {
        let local = &local_objects[key];
        // Where they part, for the text forms (JSON, normalized records).
        let from = bytes
            .iter()
            .zip(local.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(bytes.len().min(local.len()))
            .saturating_sub(80);
        let around = |b: &Bytes| {
            String::from_utf8_lossy(&b[from.min(b.len())..(from + 240).min(b.len())]).to_string()
        };
        assert!(
            bytes == local,
            "{key}: {} bytes on S3 (sha256 {}) vs {} locally (sha256 {}); from byte {from}:\n{}\nvs\n{}",
            bytes.len(),
            sha256_hex(bytes),
            local.len(),
            sha256_hex(local),
            around(bytes),
            around(local)
        );
    }
    for table in [
        "statements",
        "point_values",
        "cards",
        "warnings",
        "indicators",
        "scores",
        "score_items",
    ] {
        assert!(
            s3_keys
                .iter()
                .any(|k| k.starts_with(&format!("results/{table}/"))),
            "results/{table} written"
        );
    }
    assert!(s3_objects.contains_key("reports/settlement/2025-04.json"));
    assert!(s3_objects.contains_key("reports/warnings/2025-Q1.json"));
    assert!(s3_objects.contains_key("reports/scores/2025.json"));
    assert_eq!(
        s3_manifests.len(),
        17,
        "twelve settlements, four warnings runs and the year's scores"
    );
    assert_eq!(s3_manifests, local_manifests);

    // The Glue tables of the SAM template describe exactly these files (columns, types,
    // integer partition keys).
    let infra = claimlake_tests::manifest_dir().join("../infra");
    let out = std::process::Command::new("python3")
        .arg(infra.join("check_glue_tables.py"))
        .arg(infra.join("template.yaml"))
        .arg(local_dir.path())
        .output()
        .expect("python3 runs check_glue_tables.py (pyarrow and PyYAML from setup-test-tools.sh)");
    assert!(
        out.status.success(),
        "Glue tables vs. written Parquet:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The presigned URL of a report fetches exactly the stored report.
    let extras = s3.s3_extras().unwrap();
    let url = extras
        .presign_get("reports/settlement/2025-04.json")
        .await
        .unwrap();
    assert!(url.starts_with(&server.endpoint), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, body) = http_get(&url).unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, s3_objects["reports/settlement/2025-04.json"].to_vec());
    // (moto does not check signatures, so a tampered URL cannot be tested against it.)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_of_a_prefixed_lake_names_the_lake_key() {
    // object_store's PrefixStore returned `lake/results/…` from head/get; DataFusion then
    // found no file in a single-file table (the lake wraps it, see claimlake_lake::prefixed).
    let server = S3Server::shared();
    let lake = server.lake("e2e-prefix", "deep/lake", false).await;
    let key = "results/statements/year=2025/month=01/data.parquet";
    lake.put(key, Bytes::from_static(b"data")).await.unwrap();
    let meta = object_store::ObjectStoreExt::head(lake.store().as_ref(), &Path::from(key))
        .await
        .unwrap();
    assert_eq!(meta.location.as_ref(), key);
    let got = object_store::ObjectStoreExt::get(lake.store().as_ref(), &Path::from(key))
        .await
        .unwrap();
    assert_eq!(got.meta.location.as_ref(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_only_write_refuses_the_second_writer() {
    let server = S3Server::shared();
    let lake = server.lake("e2e-locks", "", false).await;
    let store = lake.store().clone();
    let key = Path::from("locks/settle/2025-03.lock");
    let create = || object_store::PutOptions::from(PutMode::Create);

    store
        .put_opts(&key, PutPayload::from_static(b"run A"), create())
        .await
        .expect("the first writer creates the lock");
    let err = store
        .put_opts(&key, PutPayload::from_static(b"run B"), create())
        .await
        .expect_err("If-None-Match: * refuses the second writer");
    assert!(
        matches!(err, object_store::Error::AlreadyExists { .. }),
        "{err:?}"
    );
    assert!(!LakeError::store("locks/settle/2025-03.lock", err).is_retryable());
    assert_eq!(
        lake.get("locks/settle/2025-03.lock").await.unwrap(),
        "run A"
    );

    // Two writers racing for a fresh lock: exactly one wins.
    let k2 = Path::from("locks/warn/2025Q1.lock");
    let (a, b) = tokio::join!(
        store.put_opts(&k2, PutPayload::from_static(b"A"), create()),
        store.put_opts(&k2, PutPayload::from_static(b"B"), create()),
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let winner = if a.is_ok() { "A" } else { "B" };
    assert_eq!(lake.get("locks/warn/2025Q1.lock").await.unwrap(), winner);
}

/// A result large enough that the lake's streaming writer uploads it in parts.
fn big_batch(rows: usize, seed: u64) -> RecordBatch {
    let mut x = seed;
    let mut next = || {
        // xorshift: incompressible values, so the file stays above the part size.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let ids: Vec<i64> = (0..rows).map(|_| next() as i64).collect();
    let codes: Vec<String> = (0..rows).map(|_| format!("{:016x}", next())).collect();
    let schema = Schema::new(vec![
        Field::new("value", DataType::Int64, false),
        Field::new("code", DataType::Utf8, false),
    ]);
    RecordBatch::try_new(
        std::sync::Arc::new(schema),
        vec![
            std::sync::Arc::new(Int64Array::from(ids)),
            std::sync::Arc::new(StringArray::from(codes)),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_result_goes_up_as_a_multipart_upload() {
    let server = S3Server::shared();
    let s3 = server.lake("e2e-multipart", "lake", false).await;
    let local_dir = tempfile::tempdir().unwrap();
    let local = Lake::open(local_dir.path().to_str().unwrap()).unwrap();
    let key = "results/big_table/year=2025/month=01/data.parquet";
    let batch = big_batch(600_000, 0x9E37_79B9_7F4A_7C15);
    for lake in [&s3, &local] {
        let mut w = lake.parquet_stream_writer(key, batch.schema()).unwrap();
        w.write(&batch).await.unwrap();
        w.close().await.unwrap();
    }
    let on_s3 = s3.list("results/big_table").await.unwrap();
    assert_eq!(on_s3.len(), 1);
    assert!(
        on_s3[0].size > 10 * 1024 * 1024,
        "the file ({} bytes) exceeds the 10 MiB part size",
        on_s3[0].size
    );
    // S3 gives a multipart object the ETag `"<md5 of part md5s>-<parts>"`.
    let etag = on_s3[0].etag.clone().unwrap_or_default();
    let parts: u32 = etag
        .trim_matches('"')
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("not a multipart ETag: {etag}"));
    assert!(parts >= 2, "{etag}");
    let remote = s3.get(key).await.unwrap();
    assert_eq!(
        remote,
        local.get(key).await.unwrap(),
        "same bytes as the local file"
    );
    let rows: usize =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(remote, 65536)
            .unwrap()
            .map(|b| b.unwrap().num_rows())
            .sum();
    assert_eq!(rows, 600_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_lock_retention_only_where_the_bucket_has_it() {
    let server = S3Server::shared();
    let locked = server.lake("e2e-locked", "lake", true).await;
    let plain = server.lake("e2e-plain", "lake", false).await;
    let key = "runs/20250405T020000Z-run.json";
    for lake in [&locked, &plain] {
        lake.put(key, Bytes::from_static(b"{}\n")).await.unwrap();
    }

    let x = locked.s3_extras().unwrap();
    assert!(x.object_lock_enabled().await.unwrap());
    assert!(x.retain(key).await.unwrap(), "retention applied");
    let (mode, until) = x.retention_of(key).await.unwrap().expect("a retention");
    assert_eq!(mode, "GOVERNANCE");
    let until = chrono::DateTime::parse_from_rfc3339(&until).unwrap();
    let days = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!(
        (3648..=3650).contains(&days),
        "retained {days} days: {until}"
    );
    // A retained object version cannot be deleted without bypassing governance.
    let version_delete = x
        .client()
        .list_object_versions()
        .bucket(x.bucket())
        .prefix(x.object_key(key))
        .send()
        .await
        .unwrap();
    let version = version_delete.versions()[0]
        .version_id()
        .unwrap()
        .to_string();
    let denied = x
        .client()
        .delete_object()
        .bucket(x.bucket())
        .key(x.object_key(key))
        .version_id(&version)
        .send()
        .await;
    assert!(denied.is_err(), "a locked version cannot be deleted");

    // Without Object Lock on the bucket, retain is a no-op (asked once, then remembered).
    let y = plain.s3_extras().unwrap();
    assert!(!y.object_lock_enabled().await.unwrap());
    assert!(!y.retain(key).await.unwrap());
    assert_eq!(y.retention_of(key).await.unwrap(), None);
    assert_eq!(x.object_key(key), format!("lake/{key}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_retains_manifests_and_history_where_the_bucket_has_object_lock() {
    use claimlake_tests::publishing::{small_policy, write_small_lake};
    let server = S3Server::shared();
    let src_dir = tempfile::tempdir().unwrap();
    let src = Lake::open(src_dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&src, 2, &small_policy(1, "3000.00")).await;
    let lake = server.lake("e2e-retained", "lake", true).await;
    copy_lake(&src, &lake).await;
    let x = lake.s3_extras().unwrap();
    let feb = Month {
        year: 2025,
        month: 2,
    };
    runs::settle(
        &lake,
        Month {
            year: 2025,
            month: 1,
        },
    )
    .await
    .unwrap();
    let v1 = runs::settle(&lake, feb).await.unwrap();

    // The run manifest is retained; an official result (replaceable while open) is not.
    let manifest = format!("runs/{}.json", v1.run_id);
    let (mode, _) = x
        .retention_of(&manifest)
        .await
        .unwrap()
        .expect("manifest retained");
    assert_eq!(mode, "GOVERNANCE");
    let statements = claimlake_lake::layout::monthly_result("statements", feb);
    assert_eq!(x.retention_of(&statements).await.unwrap(), None);

    // A new policy version replaces the open month: the history copy is retained too.
    lake.put(
        "policy/2025.toml",
        Bytes::from(small_policy(2, "3600.00").to_toml(2025)),
    )
    .await
    .unwrap();
    let v2 = runs::recompute_month(&lake, feb, &runs::RunOptions::default())
        .await
        .unwrap();
    let history = format!(
        "history/statements/year=2025/month=02/{}.parquet",
        v1.run_id
    );
    assert!(
        v2.manifest.replaced.iter().any(|r| r.key == statements),
        "statements replaced"
    );
    let (mode, _) = x
        .retention_of(&history)
        .await
        .unwrap()
        .expect("history retained");
    assert_eq!(mode, "GOVERNANCE");
    let (mode, _) = x
        .retention_of(&format!("runs/{}.json", v2.run_id))
        .await
        .unwrap()
        .expect("second manifest retained");
    assert_eq!(mode, "GOVERNANCE");

    // A scenario's manifest is retained under its own prefix, and its report's presigned URL
    // fetches the scenario's report (not the official one).
    let opts = runs::RunOptions::scenario("budget-up")
        .with_policy(small_policy(3, "4200.00").to_toml(2025).into_bytes());
    let s = runs::settle_with(&lake, feb, &opts).await.unwrap();
    let (mode, _) = x
        .retention_of(&format!("scenarios/budget-up/runs/{}.json", s.run_id))
        .await
        .unwrap()
        .expect("scenario manifest retained");
    assert_eq!(mode, "GOVERNANCE");
    let report = claimlake_lake::layout::report("settlement", "2025-02");
    let url = lake
        .scenario("budget-up")
        .unwrap()
        .presigned_url(&report)
        .await
        .unwrap()
        .expect("an S3 lake presigns");
    let (status, body) = http_get(&url).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        Bytes::from(body),
        lake.get(&format!("scenarios/budget-up/{report}"))
            .await
            .unwrap()
    );
    assert_ne!(
        lake.get(&format!("scenarios/budget-up/{report}"))
            .await
            .unwrap(),
        lake.get(&report).await.unwrap(),
        "the scenario's report differs from the official one"
    );
    // A local lake has no URLs to hand out.
    assert_eq!(src.presigned_url(&report).await.unwrap(), None);
}
