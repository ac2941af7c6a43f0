//! Scenarios (policy.md, "Versions and recomputation"; outputs.md): a scenario reads the
//! official inputs, writes only under `scenarios/NAME/`, and never touches official results;
//! `impact` predicts, per institution, the correction the next official settlement carries when
//! the scenario's policy is adopted — and an adjustment adopted in month 9 carries exactly that,
//! to the fen, while the official months 1-8 stay byte for byte as they were.

use std::collections::BTreeMap;

use claimlake_domain::period::Month;
use claimlake_engine::runs::{self, RunOptions};
use claimlake_engine::scenario::impact;
use claimlake_lake::{Lake, layout};
use claimlake_tests::faults::snapshot;
use claimlake_tests::golden::{ResultTable, write_policy};
use claimlake_tests::publishing::{small_policy, write_small_lake};
use rust_decimal::Decimal;

fn month(m: u32) -> Month {
    Month {
        year: 2025,
        month: m,
    }
}

/// Every object of the lake outside `scenarios/`.
fn official_objects(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    snapshot(dir, &[""])
        .into_iter()
        .filter(|(k, _)| !k.starts_with("scenarios/"))
        .collect()
}

async fn statements(lake: &Lake, m: Month) -> ResultTable {
    let bytes = lake
        .get(&layout::monthly_result("statements", m))
        .await
        .unwrap_or_else(|e| panic!("statements of {m}: {e}"));
    let batches: Vec<_> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024)
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
    ResultTable::new("statements", &batches)
}

fn policy_bytes(version: i32, tertiary_drug: &str) -> Vec<u8> {
    small_policy(version, tertiary_drug)
        .to_toml(2025)
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_reads_official_inputs_and_never_touches_official_results() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&lake, 3, &small_policy(1, "3000.00")).await;
    for m in 1..=3 {
        runs::settle(&lake, month(m)).await.unwrap();
    }
    let before = official_objects(dir.path());

    // March under a 20% larger tertiary drug budget, branching from the official February.
    let opts = RunOptions::scenario("plus20").with_policy(policy_bytes(2, "3600.00"));
    let r = runs::settle_with(&lake, month(3), &opts).await.unwrap();
    assert_eq!(r.outcome.policy.version, 2);
    assert_eq!(r.manifest.scenario.as_deref(), Some("plus20"));
    let scenario = lake.scenario("plus20").unwrap();
    let march = statements(&scenario, month(3)).await;
    let feb = statements(&lake, month(2)).await;
    for row in &march.rows {
        let id = row.text("institution_id");
        let prev = feb.row(&[("institution_id", id.as_str())]).dec("fund_cum");
        assert_eq!(row.dec("fund_month"), row.dec("fund_cum") - prev, "{id}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("scenarios/plus20/policy/2025.toml")).unwrap(),
        policy_bytes(2, "3600.00")
    );
    assert!(
        dir.path()
            .join(format!("scenarios/plus20/runs/{}.json", r.run_id))
            .exists()
    );

    // In a scenario nothing is closed: January can be re-run, and the open month recomputed.
    runs::settle_with(&lake, month(1), &RunOptions::scenario("plus20"))
        .await
        .expect("closed months may be recomputed in a scenario");
    let again = runs::recompute_month(&lake, month(3), &RunOptions::scenario("plus20"))
        .await
        .unwrap();
    assert!(
        again.diff.is_some(),
        "the scenario's own month was replaced"
    );
    assert!(
        dir.path()
            .join("scenarios/plus20/reports/settlement/2025-03.diff.json")
            .exists()
    );

    // A different policy file starts the scenario afresh.
    let opts = RunOptions::scenario("plus20").with_policy(policy_bytes(3, "4000.00"));
    runs::settle_with(&lake, month(2), &opts).await.unwrap();
    assert!(
        !scenario
            .own_lake()
            .exists(&layout::monthly_result("statements", month(3)))
            .await
            .unwrap(),
        "results computed under the replaced scenario policy are gone"
    );

    // A policy file is only for scenarios.
    let err = runs::settle_with(
        &lake,
        month(3),
        &RunOptions::default().with_policy(policy_bytes(2, "3600.00")),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("scenarios only"), "{err}");

    assert_eq!(
        official_objects(dir.path()),
        before,
        "not one official object was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adjustment_adopted_in_september_carries_exactly_the_correction_impact_predicted() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&lake, 9, &small_policy(1, "3000.00")).await;
    for m in 1..=8 {
        runs::settle(&lake, month(m)).await.unwrap();
    }
    let closed: BTreeMap<String, Vec<u8>> = official_objects(dir.path())
        .into_iter()
        .filter(|(k, _)| {
            (k.starts_with("results/")
                && !k.starts_with("results/settlement_aggregates/")
                && !k.starts_with("results/settlement_doctor_days/"))
                || k.starts_with("reports/")
                || k.starts_with("quarantine/")
                || k.starts_with("ledger/")
        })
        .collect();
    assert!(closed.len() > 8 * 6, "{} official objects", closed.len());

    // What would version 2 (tertiary drug budget 3,000 → 3,600) have changed since June?
    let v2 = policy_bytes(2, "3600.00");
    let predicted = impact(
        &lake,
        "adj",
        month(6),
        &RunOptions::scenario("adj").with_policy(v2.clone()),
    )
    .await
    .unwrap()
    .outcome;
    assert_eq!(predicted.latest_settled, "2025-08");
    assert_eq!(predicted.carried_by.as_deref(), Some("2025-09"));
    let corrections: BTreeMap<String, Decimal> = predicted
        .institutions
        .iter()
        .map(|i| (i.institution_id.clone(), i.correction))
        .collect();
    assert!(corrections["H1"] > Decimal::ZERO, "{corrections:?}");
    assert!(corrections["H3"] > Decimal::ZERO, "{corrections:?}");
    assert_eq!(
        corrections["H2"],
        Decimal::ZERO,
        "TCM's budget did not change"
    );
    assert_eq!(
        predicted.total_correction,
        corrections.values().copied().sum::<Decimal>()
    );
    // The per-cell comparison: only the tertiary drug cell's point value moves.
    for c in &predicted.point_values {
        let moved = c.point_value_delta.is_some_and(|d| !d.is_zero());
        assert_eq!(
            moved,
            c.budget_class == "tertiary" && c.fee_class == "drug",
            "{c:?}"
        );
    }
    assert_eq!(
        predicted
            .point_values
            .iter()
            .map(|c| c.month.as_str())
            .collect::<std::collections::BTreeSet<_>>(),
        ["2025-06", "2025-07", "2025-08"].into()
    );
    assert!(
        dir.path()
            .join("scenarios/adj/reports/impact/2025-08.json")
            .exists()
    );
    // The scenario chain also settles September, as if version 2 had applied all along.
    runs::settle_with(&lake, month(9), &RunOptions::scenario("adj"))
        .await
        .unwrap();
    let all_along = statements(&lake.scenario("adj").unwrap(), month(9)).await;

    // The administrator adopts version 2 for September.
    write_policy(&lake, 2025, &small_policy(2, "3600.00"));
    let sep = runs::settle(&lake, month(9)).await.unwrap();
    assert_eq!(sep.outcome.policy.version, 2);
    let official = statements(&lake, month(9)).await;

    // September's fund_month carries the whole cumulative correction, to the fen.
    for row in &official.rows {
        let id = row.text("institution_id");
        let scenario_row = all_along.row(&[("institution_id", id.as_str())]);
        assert_eq!(row.dec("fund_cum"), scenario_row.dec("fund_cum"), "{id}");
        assert_eq!(
            row.dec("fund_month") - scenario_row.dec("fund_month"),
            corrections.get(&id).copied().unwrap_or_default(),
            "{id}: September's fund_month = its own month + the predicted correction"
        );
    }
    // The closed months 1-8 are untouched, byte for byte.
    let after = official_objects(dir.path());
    for (k, v) in &closed {
        assert_eq!(after.get(k), Some(v), "{k} untouched");
    }
}
