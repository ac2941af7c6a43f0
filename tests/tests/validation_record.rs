//! Settled months are read back from their validation records (`ledger/validation/…`): the
//! quarterly warnings (and the annual score) neither validate a settled month again nor
//! republish its quarantine and ledger, and get exactly the tables a fresh validation gives. A
//! month whose inputs changed since its record is validated again, and so is every later month
//! whose validation read its ledger.

use arrow::array::RecordBatch;
use claimlake_datagen::Scale;
use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::manifest::RunManifest;
use claimlake_engine::runs;
use claimlake_lake::{Lake, layout};

const Q1: Quarter = Quarter {
    year: 2025,
    quarter: 1,
};

fn month(k: u32) -> Month {
    Month {
        year: 2025,
        month: k,
    }
}

/// A generated tiny lake with January..March settled.
async fn settled_quarter() -> (tempfile::TempDir, Lake) {
    let (dir, lake) = claimlake_tests::fixtures::generated_lake(Scale::Tiny, 11).await;
    for k in 1..=3 {
        let run = runs::settle(&lake, month(k)).await.unwrap();
        assert!(
            run.manifest
                .outputs
                .iter()
                .any(|o| o.key == layout::month_validation(month(k))),
            "the settlement of {} writes its validation record",
            month(k)
        );
    }
    (dir, lake)
}

/// The output keys of a run under `top/` (e.g. `ledger/`), sorted.
fn written_under(manifest: &RunManifest, top: &str) -> Vec<String> {
    let mut keys: Vec<String> = manifest
        .outputs
        .iter()
        .filter(|o| o.key.starts_with(top))
        .map(|o| o.key.clone())
        .collect();
    keys.sort();
    keys
}

fn ledger_keys(months: &[u32]) -> Vec<String> {
    months
        .iter()
        .map(|k| layout::claim_ledger(month(*k)))
        .collect()
}

fn concat(batches: &[RecordBatch]) -> Option<RecordBatch> {
    let first = batches.first()?;
    Some(arrow::compute::concat_batches(&first.schema(), batches).unwrap())
}

#[tokio::test]
async fn warnings_reuse_the_settled_months_and_equal_a_fresh_validation() {
    let (dir, lake) = settled_quarter().await;
    // The same lake without the records: the warnings must validate the three months again.
    let fresh_dir = tempfile::tempdir().unwrap();
    claimlake_tests::copy_tree(dir.path(), fresh_dir.path()).unwrap();
    std::fs::remove_dir_all(fresh_dir.path().join("ledger/validation")).unwrap();
    let fresh_lake = Lake::open(fresh_dir.path().to_str().unwrap()).unwrap();

    let reused = runs::warn(&lake, Q1).await.unwrap();
    let fresh = runs::warn(&fresh_lake, Q1).await.unwrap();

    // Reused: nothing of the settled months is written again.
    assert_eq!(
        written_under(&reused.manifest, "ledger/"),
        Vec::<String>::new()
    );
    assert_eq!(
        written_under(&reused.manifest, "quarantine/"),
        Vec::<String>::new()
    );
    // Fresh: each month validated again (ledger, quarantine of both tables, a new record).
    assert_eq!(
        written_under(&fresh.manifest, "ledger/claims/"),
        ledger_keys(&[1, 2, 3])
    );
    assert_eq!(written_under(&fresh.manifest, "quarantine/").len(), 6);
    assert_eq!(
        written_under(&fresh.manifest, "ledger/validation/").len(),
        3
    );
    // The same input files read; the reused run also read the records (and listed the earlier
    // ledgers they were computed against), the fresh run the ledgers it wrote itself.
    let keys = |m: &RunManifest, ledger: bool| {
        m.inputs
            .iter()
            .filter(|i| i.key.starts_with("ledger/") == ledger)
            .map(|i| i.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&reused.manifest, false), keys(&fresh.manifest, false));
    for k in 1..=3 {
        assert!(
            keys(&reused.manifest, true).contains(&layout::month_validation(month(k))),
            "the reused run records that it read the record of {}",
            month(k)
        );
    }
    // The same tables to the row.
    let (a, b) = (&reused.outcome.tables, &fresh.outcome.tables);
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert_eq!(concat(x), concat(y), "table {name}");
    }
    assert!(
        !reused.outcome.table("indicators").is_empty(),
        "the quarter has indicators to compare"
    );
}

#[tokio::test]
async fn a_month_whose_claims_changed_is_validated_again_with_the_months_after_it() {
    let (_dir, lake) = settled_quarter().await;
    // A corrected delivery of February: its first claims file without its last claim (whose
    // items become orphans), a new version of the file.
    let files = lake
        .list_parquet(&layout::claims_month(month(2)))
        .await
        .unwrap();
    let bytes = lake.get(&files[0].key).await.unwrap();
    let batches: Vec<RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1 << 20)
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
    let all = concat(&batches).unwrap();
    let dropped = claimlake_engine::cells::text(&all, "claim_id", all.num_rows() - 1);
    let fewer = all.slice(0, all.num_rows() - 1);
    // What February's item quarantine held, and the item lines of the dropped claim.
    let rows = |bytes: bytes::Bytes| -> Vec<RecordBatch> {
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1 << 20)
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
    };
    let quarantined_before: usize = rows(
        lake.get(&layout::quarantine("claim_items", month(2)))
            .await
            .unwrap(),
    )
    .iter()
    .map(|b| b.num_rows())
    .sum();
    let mut orphans = 0;
    for f in lake
        .list_parquet(&layout::claim_items_month(month(2)))
        .await
        .unwrap()
    {
        for b in rows(lake.get(&f.key).await.unwrap()) {
            orphans += (0..b.num_rows())
                .filter(|&i| claimlake_engine::cells::text(&b, "claim_id", i) == dropped)
                .count();
        }
    }
    assert!(orphans > 0, "the dropped claim {dropped} has item lines");
    lake.write_parquet(&files[0].key, &fewer.schema(), &[fewer])
        .await
        .unwrap();

    let run = runs::warn(&lake, Q1).await.unwrap();
    // January is reused; February is validated again, and March too, because its validation
    // read February's ledger, which now holds one claim fewer.
    assert_eq!(
        written_under(&run.manifest, "ledger/claims/"),
        ledger_keys(&[2, 3])
    );
    assert_eq!(
        written_under(&run.manifest, "ledger/validation/"),
        vec![
            layout::month_validation(month(2)),
            layout::month_validation(month(3))
        ]
    );
    let feb = run
        .manifest
        .outputs
        .iter()
        .find(|o| o.key == layout::quarantine("claim_items", month(2)))
        .expect("February's item quarantine is written again");
    assert_eq!(
        feb.rows as usize,
        quarantined_before + orphans,
        "the dropped claim's {orphans} item lines are orphans now, beside the {quarantined_before} \
         quarantined before"
    );

    // The next run finds every record current again and writes nothing of the months, and
    // gives the same warnings.
    let again = runs::recompute_quarter(&lake, Q1, &runs::RunOptions::default())
        .await
        .unwrap();
    assert_eq!(
        written_under(&again.manifest, "ledger/"),
        Vec::<String>::new()
    );
    assert_eq!(
        written_under(&again.manifest, "quarantine/"),
        Vec::<String>::new()
    );
    for ((name, x), (_, y)) in again.outcome.tables.iter().zip(&run.outcome.tables) {
        assert_eq!(concat(x), concat(y), "table {name}");
    }
}

/// A recomputation under a new policy version settles January..March again (each month's
/// aggregates were computed under version 1) without validating any of them again: the
/// validation does not read the policy, and every record is current. The warnings after it
/// reuse every month too.
#[tokio::test]
async fn a_recomputation_under_a_new_policy_reuses_every_months_record() {
    let (_dir, lake) = settled_quarter().await;
    let policy = lake.get(&layout::policy(2025)).await.unwrap();
    let text = String::from_utf8(policy.to_vec()).unwrap();
    let bumped = text.replacen("version = 1", "version = 2", 1);
    assert_ne!(text, bumped, "the generated policy has `version = 1`");
    lake.put(&layout::policy(2025), bumped.into())
        .await
        .unwrap();
    let recomputed = runs::recompute_month(&lake, month(3), &runs::RunOptions::default())
        .await
        .unwrap();
    assert_eq!(
        written_under(&recomputed.manifest, "ledger/"),
        Vec::<String>::new()
    );
    assert_eq!(
        written_under(&recomputed.manifest, "quarantine/"),
        Vec::<String>::new()
    );
    assert!(recomputed.outcome.validation.reused);
    assert_eq!(
        written_under(&recomputed.manifest, "results/settlement_aggregates/").len(),
        3,
        "the three months' aggregates are rebuilt under version 2"
    );
    let warn = runs::warn(&lake, Q1).await.unwrap();
    assert_eq!(
        written_under(&warn.manifest, "ledger/"),
        Vec::<String>::new()
    );
}

/// The local lake in `dir` behind a [`claimlake_tests::faults::FaultyStore`] that logs reads.
fn logged_lake(
    dir: &std::path::Path,
) -> (Lake, std::sync::Arc<claimlake_tests::faults::FaultyStore>) {
    let local = object_store::local::LocalFileSystem::new_with_prefix(dir).unwrap();
    let store = std::sync::Arc::new(claimlake_tests::faults::FaultyStore::new(
        std::sync::Arc::new(local),
    ));
    let lake = Lake::from_store(store.clone(), dir.to_str().unwrap(), false);
    (lake, store)
}

#[tokio::test]
async fn each_version_of_an_earlier_ledger_is_hashed_once_in_a_process() {
    let (dir, _) = settled_quarter().await;
    let (lake, store) = logged_lake(dir.path());
    let ledger_reads = |store: &claimlake_tests::faults::FaultyStore| {
        let mut keys: Vec<String> = store
            .reads()
            .into_iter()
            .filter(|k| k.starts_with("ledger/claims/"))
            .collect();
        keys.sort();
        keys
    };

    // The checks of February (January's ledger) and March (January's and February's) read
    // each ledger once at most: once hashed (here or by the settlements before, in this
    // process), a listing's digest is remembered.
    store.set(claimlake_tests::faults::Fault::None);
    let first = runs::warn(&lake, Q1).await.unwrap();
    assert_eq!(
        written_under(&first.manifest, "ledger/"),
        Vec::<String>::new()
    );
    let reads = ledger_reads(&store);
    let mut once = reads.clone();
    once.dedup();
    assert_eq!(reads, once, "a ledger read twice");

    // January's ledger rewritten with the same bytes is another version (as a recomputation
    // re-validating January leaves it): it is read exactly once, by February's check, whose
    // digest March's check then uses; both records are still reused.
    let key = layout::claim_ledger(month(1));
    let path = dir.path().join(&key);
    let bytes = std::fs::read(&path).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    store.set(claimlake_tests::faults::Fault::None);
    let second = runs::warn(&lake, Q1).await.unwrap();
    assert_eq!(
        written_under(&second.manifest, "ledger/"),
        Vec::<String>::new()
    );
    assert_eq!(ledger_reads(&store), vec![key.clone()]);
    let (a, b) = (&first.outcome.tables, &second.outcome.tables);
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert_eq!(concat(x), concat(y), "table {name}");
    }

    // January's ledger with other bytes (one letter of its footer's writer name changed: still
    // a readable ledger with the same rows, but another object): February's and March's
    // records no longer hold, and both months are validated again.
    let mut other = bytes.clone();
    let at = other
        .windows(9)
        .position(|w| w == b"claimlake")
        .expect("the ledger names its writer");
    other[at] = b'C';
    std::fs::write(&path, &other).unwrap();
    store.set(claimlake_tests::faults::Fault::None);
    let third = runs::warn(&lake, Q1).await.unwrap();
    assert_eq!(
        written_under(&third.manifest, "ledger/validation/"),
        vec![
            layout::month_validation(month(2)),
            layout::month_validation(month(3))
        ]
    );
}

/// The month's result tables as stored, by table.
async fn month_results(lake: &Lake, m: Month) -> Vec<(String, bytes::Bytes)> {
    let mut out = Vec::new();
    for t in claimlake_engine::settle::TABLES {
        out.push((
            t.to_string(),
            lake.get(&layout::monthly_result(t, m)).await.unwrap(),
        ));
    }
    out
}

/// A settlement reuses its month's current record (written here by the settlement that
/// validated it): the re-run neither validates nor republishes the quarantine and the ledger,
/// and its results are the same bytes.
#[tokio::test]
async fn a_resettled_month_reuses_its_record_and_writes_the_same_results() {
    let (_dir, lake) = settled_quarter().await;
    let before = month_results(&lake, month(3)).await;
    let run = runs::recompute_month(&lake, month(3), &runs::RunOptions::default())
        .await
        .unwrap();
    assert!(run.outcome.validation.reused);
    assert_eq!(
        written_under(&run.manifest, "ledger/"),
        Vec::<String>::new()
    );
    assert_eq!(
        written_under(&run.manifest, "quarantine/"),
        Vec::<String>::new()
    );
    // The reconciliation comes from the record: the same counts the validation found.
    let claims = &run.manifest.row_counts["claims"];
    assert!(claims.read > 0);
    assert_eq!(
        claims.read,
        claims.used + claims.netted + claims.quarantined.values().sum::<u64>()
    );
    // Its lineage names what it read instead: the record and the earlier ledgers it was
    // checked against.
    let inputs: Vec<&str> = run.manifest.inputs.iter().map(|i| i.key.as_str()).collect();
    for key in [
        layout::month_validation(month(3)),
        layout::claim_ledger(month(1)),
        layout::claim_ledger(month(2)),
    ] {
        assert!(inputs.contains(&key.as_str()), "{key} in {inputs:?}");
    }
    let after = month_results(&lake, month(3)).await;
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        assert!(a == b, "results/{name} of 2025-03 changed");
    }
}

/// On reuse the settlement's `claims_basis` (09) is built from the record: its mirrors find the
/// claims they cancel through 05b (the used reversals' targets) instead of 05. Month by month
/// over the conformance lake's year (mirrors within and across quarters, reversals of excluded
/// and case claims), it equals, row for row, the basis a fresh validation registers.
#[tokio::test]
async fn the_reused_claims_basis_equals_a_fresh_validations() {
    use claimlake_engine::ingest::{validate_month, validate_or_reuse_for_settlement};
    use claimlake_engine::session::new_session;
    let dir = tempfile::tempdir().unwrap();
    claimlake_tests::copy_tree(&claimlake_tests::conformance_dir().join("lake"), dir.path())
        .unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let basis = |ctx: datafusion::prelude::SessionContext| async move {
        let batches = ctx
            .sql("SELECT * FROM claims_basis ORDER BY claim_id, sign")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mirrors = ctx
            .sql("SELECT COUNT(*) FROM claims_basis WHERE sign = -1 AND treat_time <> settle_time")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mirrors = mirrors[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        (concat(&batches), mirrors)
    };
    let mut mirrors = 0;
    for k in 1..=12 {
        runs::settle(&lake, month(k)).await.unwrap();
        let ctx = new_session(None);
        let v = validate_or_reuse_for_settlement(&lake, &ctx, month(k))
            .await
            .unwrap();
        assert!(v.reused, "the record of {} is current", month(k));
        let (reused, reused_mirrors) = basis(ctx).await;

        let ctx = new_session(None);
        let v = validate_month(&lake, &ctx, month(k)).await.unwrap();
        assert!(!v.reused);
        let (fresh, fresh_mirrors) = basis(ctx).await;
        assert_eq!(reused_mirrors, fresh_mirrors, "{}", month(k));
        assert_eq!(reused, fresh, "claims_basis of {}", month(k));
        mirrors += reused_mirrors;
    }
    assert!(
        mirrors > 0,
        "the year has mirrors judged at the time of the claim they cancel"
    );
}
