//! Recomputation (policy.md, "Versions and recomputation"; outputs.md, Publishing rules): the
//! open month is re-run under a new policy version and replaced, its diff report's numbers are
//! the two versions' (the old one read back from history), the closed months are refused with a
//! message pointing to scenarios and stay untouched; re-running an open quarter's warnings
//! re-derives the later quarters' red cards and names the settlement months they touch.

use std::collections::BTreeMap;

use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::runs::{self, Diff, RunOptions};
use claimlake_lake::{Lake, layout};
use claimlake_tests::faults::snapshot;
use claimlake_tests::golden::{ResultTable, write_policy};
use claimlake_tests::publishing::{
    OFFICIAL, small_policy, warnings_policy, write_small_lake, write_warnings_lake,
    write_warnings_policy,
};
use rust_decimal::Decimal;

const JAN: Month = Month {
    year: 2025,
    month: 1,
};
const FEB: Month = Month {
    year: 2025,
    month: 2,
};

fn table_of(bytes: bytes::Bytes, name: &str) -> ResultTable {
    let batches: Vec<_> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024)
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
    ResultTable::new(name, &batches)
}

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string, got {v}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recompute_replaces_the_open_month_with_a_diff_of_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&lake, 2, &small_policy(1, "3000.00")).await;
    runs::settle(&lake, JAN).await.unwrap();
    let feb_v1 = runs::settle(&lake, FEB).await.unwrap();
    let before = snapshot(dir.path(), &OFFICIAL);
    let statements_key = layout::monthly_result("statements", FEB);

    // The administrator adopts version 2: a larger tertiary drug budget.
    write_policy(&lake, 2025, &small_policy(2, "3600.00"));
    let r = runs::recompute_month(&lake, FEB, &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(r.outcome.policy.version, 2);

    // History keeps the replaced partitions, byte for byte, named by the run that wrote them.
    let history_key = format!(
        "history/statements/year=2025/month=02/{}.parquet",
        feb_v1.run_id
    );
    let old_bytes = lake.get(&history_key).await.unwrap();
    assert_eq!(old_bytes.to_vec(), before[&statements_key]);
    let replaced: Vec<&str> = r.manifest.replaced.iter().map(|x| x.key.as_str()).collect();
    for t in [
        "statements",
        "point_values",
        "settlement_lines",
        "fund_split",
    ] {
        assert!(
            replaced.contains(&layout::monthly_result(t, FEB).as_str()),
            "{t} replaced: {replaced:?}"
        );
    }
    for x in &r.manifest.replaced {
        assert_eq!(
            lake.get(&x.history_key).await.unwrap().to_vec(),
            before[&x.key],
            "{}",
            x.key
        );
    }
    // January (closed) is untouched; its aggregates were rebuilt under version 2 and the
    // version-1 aggregates kept in history.
    let after = snapshot(dir.path(), &OFFICIAL);
    for (k, v) in &before {
        if k.contains("month=01")
            && !k.contains("settlement_aggregates")
            && !k.contains("doctor_days")
            || k.contains("2025-01")
        {
            assert_eq!(after.get(k), Some(v), "{k} untouched");
        }
    }

    // The diff report: old figures are the history's, new ones the official table's.
    let diff: serde_json::Value = serde_json::from_slice(
        &lake
            .get(&layout::diff_report("settlement", "2025-02"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(diff["replaced_run"], feb_v1.run_id.as_str());
    assert_eq!(diff["old_policy"]["version"], 1);
    assert_eq!(diff["new_policy"]["version"], 2);
    let old = table_of(old_bytes, "statements");
    let new = table_of(lake.get(&statements_key).await.unwrap(), "statements");
    let rows = diff["institutions"].as_array().unwrap();
    assert_eq!(rows.len(), new.len());
    let mut changed = 0;
    let mut total_delta = Decimal::ZERO;
    for row in rows {
        let id = row["institution_id"].as_str().unwrap();
        let o = old.row(&[("institution_id", id)]);
        let n = new.row(&[("institution_id", id)]);
        for f in [
            "fund_cum",
            "fund_month",
            "paid_month",
            "withheld_month",
            "settlement_cum",
        ] {
            assert_eq!(dec(&row["old"][f]), o.dec(f), "{id} old {f}");
            assert_eq!(dec(&row["new"][f]), n.dec(f), "{id} new {f}");
            assert_eq!(dec(&row["delta"][f]), n.dec(f) - o.dec(f), "{id} delta {f}");
        }
        total_delta += dec(&row["delta"]["fund_month"]);
        if row["changed"] == true {
            changed += 1;
        }
    }
    assert!(changed > 0, "the budget change moves some statements");
    assert_eq!(diff["changed_institutions"], changed);
    assert_eq!(dec(&diff["totals"]["delta"]["fund_month"]), total_delta);
    // Point values: the tertiary drug cell moved with its budget.
    let cell = diff["point_values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["budget_class"] == "tertiary" && c["fee_class"] == "drug")
        .unwrap();
    assert!(
        dec(&cell["delta"]["cumulative_budget"]) > Decimal::ZERO,
        "{cell}"
    );
    match r.diff {
        Some(Diff::Settlement(d)) => assert_eq!(d.changed_institutions, changed),
        other => panic!("a settlement diff, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_month_is_refused_and_points_to_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_small_lake(&lake, 2, &small_policy(1, "3000.00")).await;
    runs::settle(&lake, JAN).await.unwrap();
    runs::settle(&lake, FEB).await.unwrap();
    write_policy(&lake, 2025, &small_policy(2, "3600.00"));
    let before = snapshot(dir.path(), &OFFICIAL);

    for attempt in [
        runs::recompute_month(&lake, JAN, &RunOptions::default()).await,
        runs::settle(&lake, JAN).await,
    ] {
        let err = attempt.unwrap_err();
        let message = err.to_string();
        assert!(!err.is_retryable(), "{message}");
        for part in [
            "2025-01 is closed",
            "2025-02 has been settled on top of it",
            "never replaced",
            "--scenario NAME",
            "claimlake impact",
        ] {
            assert!(message.contains(part), "{part:?} in: {message}");
        }
    }
    let not_yet = runs::recompute_month(
        &lake,
        Month {
            year: 2025,
            month: 3,
        },
        &RunOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        not_yet.to_string().contains("has not been settled yet"),
        "{not_yet}"
    );
    assert_eq!(
        snapshot(dir.path(), &OFFICIAL),
        before,
        "nothing official changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recomputing_an_open_quarter_rederives_later_red_cards_and_names_their_months() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_warnings_lake(&lake, &[1, 2]).await;
    write_warnings_policy(&lake, 1, "0.30").await;
    let q1 = Quarter::new(2025, 1).unwrap();
    let q2 = Quarter::new(2025, 2).unwrap();
    let first = runs::warn(&lake, q1).await.unwrap();
    assert_eq!(first.outcome.report.cards.len(), 1, "H1's yellow card");
    let q2_run = runs::warn(&lake, q2).await.unwrap();
    let colors: Vec<&str> = q2_run
        .outcome
        .report
        .cards
        .iter()
        .map(|c| c.color.as_str())
        .collect();
    assert_eq!(
        colors,
        ["red", "yellow"],
        "H1's second yellow brings a red card"
    );
    let q2_cards_before = lake
        .get(&layout::quarterly_result("cards", q2))
        .await
        .unwrap();

    // Version 2 widens the margin: H1 is no longer warned in Q1. Q1 is open (April unsettled).
    write_warnings_policy(&lake, 2, "9.00").await;
    let r = runs::recompute_quarter(&lake, q1, &RunOptions::default())
        .await
        .unwrap();
    assert!(r.outcome.report.cards.is_empty());
    let rederived = &r.outcome.rederived_cards;
    assert_eq!(rederived.len(), 1, "{rederived:?}");
    assert_eq!(rederived[0].quarter, "2025Q2");
    assert_eq!(rederived[0].changed, ["H1 red"]);
    assert_eq!(
        rederived[0].months,
        ["2025-07"],
        "the red card's suspension month"
    );
    assert!(rederived[0].settled.is_empty());
    assert!(
        r.manifest.notes.iter().any(|n| n.contains("2025-07")),
        "{:?}",
        r.manifest.notes
    );
    // The warnings report and the diff report say it too; Q2's old cards are in history.
    let report: serde_json::Value = serde_json::from_slice(
        &lake
            .get(&layout::report("warnings", "2025-Q1"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["rederived"][0]["months"][0], "2025-07");
    let diff: serde_json::Value = serde_json::from_slice(
        &lake
            .get(&layout::diff_report("warnings", "2025-Q1"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(diff["replaced_run"], first.run_id.as_str());
    assert_eq!(diff["rederived"][0]["quarter"], "2025Q2");
    let h1: Vec<&serde_json::Value> = diff["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["institution_id"] == "H1")
        .collect();
    assert_eq!(h1[0]["old"]["warned"], true);
    assert_eq!(h1[0]["new"]["warned"], false);
    let card = &diff["cards"][0];
    assert_eq!(card["institution_id"], "H1");
    assert!(card["new"].is_null(), "Q1's yellow card is gone: {card}");
    let history: BTreeMap<String, Vec<u8>> = snapshot(dir.path(), &["history/cards"]);
    let q2_history: Vec<&String> = history
        .keys()
        .filter(|k| k.starts_with("history/cards/year=2025/quarter=2/"))
        .collect();
    assert_eq!(q2_history.len(), 1, "{history:?}");
    assert_eq!(history[q2_history[0]], q2_cards_before.to_vec());
    assert!(q2_history[0].ends_with(&format!("{}.parquet", q2_run.run_id)));

    // Once April is settled, Q1's cards are in effect: its warnings are closed.
    for month in 1..=4 {
        runs::settle(&lake, Month { year: 2025, month })
            .await
            .unwrap_or_else(|e| panic!("settle {month}: {e}"));
    }
    let err = runs::recompute_quarter(&lake, q1, &RunOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("2025Q1's warnings are closed"), "{err}");
    assert!(err.contains("settlement of 2025-04"), "{err}");
    assert!(err.contains("--scenario"), "{err}");

    // As a scenario, the closed quarter can be re-run under the original margin: H1 is warned
    // again there, Q2's red card comes back there, and nothing official changes.
    let before = snapshot(dir.path(), &OFFICIAL);
    let s = runs::warn_with(
        &lake,
        q1,
        &RunOptions::scenario("strict").with_policy(warnings_policy(3, "0.30").into_bytes()),
    )
    .await
    .unwrap();
    assert_eq!(s.outcome.report.cards.len(), 1);
    assert_eq!(s.outcome.rederived_cards[0].changed, ["H1 red"]);
    assert_eq!(
        s.outcome.rederived_cards[0].settled,
        Vec::<String>::new(),
        "July is not settled"
    );
    assert!(
        dir.path()
            .join("scenarios/strict/results/cards/year=2025/quarter=2/data.parquet")
            .exists()
    );
    assert_eq!(snapshot(dir.path(), &OFFICIAL), before);
}
