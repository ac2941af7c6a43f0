//! On a generated year run as in production (settle each month, warn each quarter after its
//! third month, then score the year), the annual scores are consistent with the rulebook row by
//! row and reconcile exactly: reserve = released + forfeited (+ held for pending institutions),
//! pool = Σ bonus, each reserve = Σ withheld_month of the year's statements, each total = its
//! items' points renormalised, statuses and decisions as the investigations and the decision
//! rules say. The generated policy is edited before the year runs to switch on the Zhangye
//! options (terminate below 60, the bottom half of each peer group), so every decision rule acts.

use std::collections::{BTreeMap, BTreeSet};

use claimlake_datagen::Scale;
use claimlake_domain::Policy;
use claimlake_domain::period::Month;
use claimlake_engine::cells::{decimal, text};
use claimlake_engine::score::score_year;
use claimlake_engine::settle::settle_month;
use claimlake_engine::warn::warn_quarter;
use claimlake_tests::golden::{ResultTable, Row, Value};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

fn round2(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn opt_text(r: &Row, col: &str) -> Option<String> {
    match r.0.get(col) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_year_scores_are_consistent_and_reconcile() {
    let (dir, lake) = claimlake_tests::fixtures::generated_lake(Scale::Tiny, 3).await;
    let path = dir.path().join("policy/2025.toml");
    let text_before = std::fs::read_to_string(&path).unwrap();
    let edited = text_before
        .replace("terminate_below = \"0\"", "terminate_below = \"60\"")
        .replace(
            "bottom_elimination_share = \"0\"",
            "bottom_elimination_share = \"0.5\"",
        );
    assert_ne!(
        edited, text_before,
        "the generated policy has the [score] options"
    );
    std::fs::write(&path, &edited).unwrap();
    let policy = Policy::from_toml_str(&edited, Some(2025)).unwrap();

    // The year as in production; each institution's withholding summed from the statements.
    let mut withheld: BTreeMap<String, Decimal> = BTreeMap::new();
    for month in 1..=12u32 {
        let m = Month { year: 2025, month };
        let o = settle_month(&lake, m)
            .await
            .unwrap_or_else(|e| panic!("{m}: {e}"));
        for b in o.table("statements") {
            for i in 0..b.num_rows() {
                *withheld.entry(text(b, "institution_id", i)).or_default() +=
                    decimal(b, "withheld_month", i).unwrap_or_default();
            }
        }
        if month % 3 == 0 {
            warn_quarter(&lake, m.quarter())
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", m.quarter()));
        }
    }
    let o = score_year(&lake, 2025)
        .await
        .unwrap_or_else(|e| panic!("score 2025: {e}"));
    let scores = ResultTable::new("scores", o.table("scores"));
    let items = ResultTable::new("score_items", o.table("score_items"));
    let score = &policy.score;
    assert!(
        scores.len() > 10,
        "a tiny city has a dozen institutions and more"
    );

    // Investigations of the generated year: one pending, one disqualified.
    let investigations = lake
        .get("inputs/investigations/year=2025/part-000.parquet")
        .await
        .unwrap();
    let mut investigated = BTreeMap::new();
    for b in
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(investigations, 64).unwrap()
    {
        let b = b.unwrap();
        for i in 0..b.num_rows() {
            investigated.insert(text(&b, "institution_id", i), text(&b, "status", i));
        }
    }
    assert_eq!(investigated.len(), 2);

    let mut sum = BTreeMap::<&str, Decimal>::new();
    let mut by_group: BTreeMap<String, Vec<(Decimal, String)>> = BTreeMap::new();
    let mut statuses = BTreeSet::new();
    for r in &scores.rows {
        let id = r.text("institution_id");
        let status = r.text("status");
        statuses.insert(status.clone());
        let reserve = r.dec("reserve");
        let (released, forfeited, bonus) = (r.dec("released"), r.dec("forfeited"), r.dec("bonus"));
        // Each reserve is the year's withholding of the institution.
        assert_eq!(
            reserve,
            withheld.get(&id).copied().unwrap_or_default(),
            "{id}: reserve = Σ withheld_month"
        );
        *sum.entry("reserve").or_default() += reserve;
        *sum.entry("released").or_default() += released;
        *sum.entry("forfeited").or_default() += forfeited;
        *sum.entry("bonus").or_default() += bonus;
        let id_items = items.filter(&[("institution_id", &id)]);
        match status.as_str() {
            "pending" => {
                assert_eq!(
                    investigated.get(&id).map(String::as_str),
                    Some("under_investigation")
                );
                assert_eq!(r.text("decision"), "pending");
                assert_eq!(r.opt_dec("total"), None);
                assert_eq!(r.opt_dec("release_ratio"), None);
                assert!(released.is_zero() && forfeited.is_zero() && bonus.is_zero());
                assert!(id_items.is_empty(), "{id}: pending has no items");
                *sum.entry("pending").or_default() += reserve;
            }
            "disqualified" => {
                assert_eq!(
                    investigated.get(&id).map(String::as_str),
                    Some("withheld_materials")
                );
                assert_eq!(r.text("decision"), "terminate");
                assert_eq!(r.opt_dec("total"), None);
                assert_eq!(r.dec("release_ratio"), Decimal::ZERO);
                assert_eq!(forfeited, reserve, "{id}: forfeits everything");
                assert!(bonus.is_zero());
                assert!(id_items.is_empty(), "{id}: disqualified has no items");
            }
            "scored" => {
                assert!(!investigated.contains_key(&id));
                let total = r.dec("total");
                assert!(total >= Decimal::ZERO && total <= Decimal::from(100));
                assert_eq!(
                    opt_text(r, "grade").as_deref(),
                    Some(score.grade(total).as_str()),
                    "{id}"
                );
                // The total is its items' points renormalised over the applicable weights.
                assert_eq!(id_items.len(), score.indicators.len(), "{id}");
                let points: Decimal = id_items.iter().filter_map(|i| i.opt_dec("points")).sum();
                let weights: Decimal = id_items
                    .iter()
                    .filter(|i| i.flag("applicable"))
                    .map(|i| i.dec("weight"))
                    .sum();
                assert_eq!(total, round2(points * Decimal::from(100) / weights), "{id}");
                for i in &id_items {
                    if let Some(p) = i.opt_dec("points") {
                        assert!(p >= Decimal::ZERO && p <= i.dec("weight"), "{id}");
                    }
                }
                let ratio = score.release_ratio(total).unwrap();
                assert_eq!(r.dec("release_ratio"), ratio, "{id}");
                assert_eq!(released, round2(reserve * ratio), "{id}");
                assert_eq!(forfeited, reserve - released, "{id}");
                // No earlier scores in a generated lake: no_renewal never applies, and a failing
                // institution says so.
                assert_ne!(r.text("decision"), "no_renewal");
                if opt_text(r, "grade").as_deref() == Some("fail") {
                    assert!(
                        r.text("flags")
                            .contains("no_renewal_not_applied:no_history_2024"),
                        "{id}"
                    );
                }
                if total < Decimal::from(60) {
                    assert_eq!(
                        r.text("decision_reason"),
                        "total below 60 (002 measure 7)",
                        "{id}"
                    );
                }
                let eligible = opt_text(r, "grade").as_deref() == Some("excellent")
                    && r.text("decision") == "renew"
                    && reserve > Decimal::ZERO;
                if !eligible {
                    assert!(bonus.is_zero(), "{id}: bonus only to excellent renewals");
                }
                by_group
                    .entry(r.text("budget_class"))
                    .or_default()
                    .push((total, id.clone()));
            }
            other => panic!("{id}: status {other}"),
        }
    }
    assert_eq!(
        statuses,
        ["disqualified", "pending", "scored"]
            .map(String::from)
            .into(),
    );

    // Bottom elimination: in each peer group the lowest floor(0.5 × n) totals (ties by id) are
    // terminated (by the floor rule or as the bottom); every other institution at or above the
    // floor renews.
    let mut bottom_eliminated = 0;
    let groups = format!("{by_group:?}");
    for (group, mut members) in by_group {
        members.sort();
        let slots = (score.bottom_elimination_share * Decimal::from(members.len()))
            .floor()
            .to_usize()
            .unwrap();
        for (k, (total, id)) in members.iter().enumerate() {
            let decision = scores.row(&[("institution_id", id)]).text("decision");
            let reason = scores
                .row(&[("institution_id", id)])
                .text("decision_reason");
            if k < slots {
                assert_eq!(decision, "terminate", "{group} slot {k}: {id}");
                bottom_eliminated += reason.contains("末位淘汰") as u32;
            } else if *total >= Decimal::from(60) {
                assert_eq!(decision, "renew", "{group}: {id}");
            } else {
                assert_eq!(decision, "terminate", "{group}: {id}");
            }
        }
    }
    assert!(
        bottom_eliminated > 0,
        "the year exercises 末位淘汰: {groups}"
    );

    // The guarantee reconciles exactly, and the pool is distributed to the fen.
    let g = &o.report.guarantee;
    assert_eq!(
        sum["reserve"],
        sum["released"] + sum["forfeited"] + sum["pending"]
    );
    assert_eq!(g.reserve, sum["reserve"]);
    assert_eq!(g.pool, sum["forfeited"]);
    assert!(
        g.recipients > 0,
        "the generated year has excellent institutions"
    );
    assert_eq!(g.pool, sum["bonus"], "pool = Σ bonus");
    assert!(g.undistributed.is_zero());
    assert!(g.pool > Decimal::ZERO);
    // Statement institutions that are not scored are reported as unscored.
    let unscored: Decimal = withheld
        .iter()
        .filter(|(id, _)| scores.filter(&[("institution_id", id)]).is_empty())
        .map(|(_, v)| *v)
        .sum();
    assert_eq!(g.unscored_reserve, unscored);

    // The generator leaves some assessment parts out: applicable, 0 points, flagged.
    let missing: Vec<_> = items
        .rows
        .iter()
        .filter(|i| i.flag("applicable") && i.opt_dec("value").is_none())
        .collect();
    assert!(!missing.is_empty(), "some assessment is missing");
    for i in missing {
        assert_eq!(i.dec("points"), Decimal::ZERO);
        let id = i.text("institution_id");
        let flags = scores.row(&[("institution_id", &id)]).text("flags");
        assert!(flags.contains("missing_assessment:"), "{id}: {flags}");
    }
}
