//! `explain`: an institution's statement traced to its rules. Over the conformance lake settled
//! 2025-01..2025-04 (the expected card ledger copied in), the explanation's lines, point values
//! and statement figures are exactly the published ones (read here straight from the Parquet
//! files), every arithmetic check passes, the text names each rule, and the error cases say what
//! is missing.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use claimlake_domain::period::Month;
use claimlake_engine::explain::{Explanation, explain};
use claimlake_engine::settle::settle_month;
use claimlake_lake::{Lake, layout};
use claimlake_tests::{conformance_dir, copy_tree};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rust_decimal::Decimal;

fn month(m: u32) -> Month {
    Month {
        year: 2025,
        month: m,
    }
}

async fn settled_lake(dir: &std::path::Path, through: u32) -> Lake {
    copy_tree(&conformance_dir().join("lake"), dir).unwrap();
    copy_tree(
        &conformance_dir().join("expected/results/cards"),
        &dir.join("results/cards"),
    )
    .unwrap();
    let lake = Lake::open(dir.to_str().unwrap()).unwrap();
    for k in 1..=through {
        settle_month(&lake, month(k))
            .await
            .unwrap_or_else(|e| panic!("settle {}: {e}", month(k)));
    }
    lake
}

/// A published result row: column → displayed value.
type Row = BTreeMap<String, String>;

async fn published(lake: &Lake, table: &str, m: Month) -> Vec<Row> {
    let bytes = lake
        .get(&layout::monthly_result(table, m))
        .await
        .unwrap_or_else(|e| panic!("{table} {m}: {e}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let mut rows = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            let mut row = Row::new();
            for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                let v = if c.is_null(i) {
                    String::new()
                } else {
                    arrow::util::display::array_value_to_string(c, i).unwrap()
                };
                row.insert(f.name().clone(), v);
            }
            rows.push(row);
        }
    }
    rows
}

fn dec(row: &Row, col: &str) -> Decimal {
    row[col]
        .parse()
        .unwrap_or_else(|e| panic!("{col} = {:?}: {e}", row[col]))
}

/// Asserts that the explanation carries exactly the published lines, point values and
/// statement of the institution, and that all its checks pass.
async fn assert_matches_published(lake: &Lake, m: Month, e: &Explanation) {
    let id = &e.institution.institution_id;
    assert_eq!(e.month, m.to_string());

    let lines: Vec<Row> = published(lake, "settlement_lines", m)
        .await
        .into_iter()
        .filter(|r| &r["institution_id"] == id)
        .collect();
    assert_eq!(
        e.lines.len(),
        lines.len(),
        "{id}: one explained line per line"
    );
    for r in &lines {
        let l = e
            .line(
                &r["payment_class"],
                &r["budget_class"],
                &r["fee_class"],
                &r["line_kind"],
            )
            .unwrap_or_else(|| panic!("{id}: line {r:?} explained"));
        assert_eq!(l.declared_points, dec(r, "declared_points"), "{r:?}");
        assert_eq!(l.reduction_points, dec(r, "reduction_points"), "{r:?}");
        assert_eq!(l.effective_points, dec(r, "effective_points"), "{r:?}");
        assert_eq!(l.actual_cost, dec(r, "actual_cost"), "{r:?}");
        assert_eq!(l.amount, dec(r, "amount"), "{r:?}");
        assert_eq!(l.amount.to_string(), r["amount"], "amount keeps its scale");
        if let Some(d) = l.derived_amount {
            assert_eq!(d, l.amount, "{}", l.derivation);
        }
        assert!(l.derivation.contains(&l.step), "{}", l.derivation);
    }

    let pvs: Vec<Row> = published(lake, "point_values", m).await;
    for c in &e.cells {
        let r = pvs
            .iter()
            .find(|r| {
                r["payment_class"] == c.payment_class
                    && r["budget_class"] == c.budget_class
                    && r["fee_class"] == c.fee_class
            })
            .unwrap_or_else(|| panic!("cell {c:?} published"));
        assert_eq!(c.cumulative_budget, dec(r, "cumulative_budget"));
        assert_eq!(c.chemo_deduction, dec(r, "chemo_deduction"));
        assert_eq!(c.effective_points, dec(r, "effective_points"));
        assert_eq!(
            c.point_value.map(|v| v.to_string()).unwrap_or_default(),
            r["point_value"]
        );
        assert_eq!(
            c.item_point_value
                .map(|v| v.to_string())
                .unwrap_or_default(),
            r["item_point_value"]
        );
    }
    // Every item/case line is priced by the point value of its cell: PV_item (outpatient item),
    // PV (case, inpatient).
    for l in &e.lines {
        if l.line_kind != "item" && l.line_kind != "case" {
            continue;
        }
        let r = pvs
            .iter()
            .find(|r| {
                r["payment_class"] == l.payment_class
                    && r["budget_class"] == l.budget_class
                    && r["fee_class"] == l.fee_class
            })
            .unwrap();
        let col = if l.payment_class == "outpatient" && l.line_kind == "item" {
            "item_point_value"
        } else {
            "point_value"
        };
        assert_eq!(
            l.point_value.map(|v| v.to_string()).unwrap_or_default(),
            r[col],
            "{}",
            l.derivation
        );
    }

    let st = published(lake, "statements", m)
        .await
        .into_iter()
        .find(|r| &r["institution_id"] == id)
        .unwrap();
    for col in [
        "settlement_cum",
        "personal_burden_cum",
        "fund_cum",
        "fund_month",
        "vbp_accrued_cum",
        "vbp_accrued_month",
        "withheld_month",
        "payable_month",
        "held_month",
        "held_balance",
        "released_month",
        "paid_month",
        "account_month",
    ] {
        let f = e
            .figure(col)
            .unwrap_or_else(|| panic!("{id}: figure {col}"));
        assert_eq!(f.value.to_string(), st[col], "{id} {col}");
        assert!(
            !f.derivation.is_empty() && f.step.starts_with("Step"),
            "{f:?}"
        );
    }
    assert_eq!(e.statement.on_hold.to_string(), st["on_hold"]);
    assert_eq!(
        e.statement.claims_excluded_month.to_string(),
        st["claims_excluded_month"]
    );
    let sum: Decimal = lines.iter().map(|r| dec(r, "amount")).sum();
    assert_eq!(sum, dec(&st, "settlement_cum"), "Σ lines = settlement_cum");

    let failed: Vec<_> = e.checks.iter().filter(|c| !c.ok).collect();
    assert!(failed.is_empty(), "{id} {m}: failed checks {failed:#?}");
    assert!(e.all_checks_pass());
    let text = e.render_text();
    assert!(
        text.contains(&format!("Check: all {} checks pass", e.checks.len())),
        "{text}"
    );
    for rule in ["Step 9", "Step 10", "settlement_cum", "paid_month"] {
        assert!(text.contains(rule), "{id}: text mentions {rule}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explains_statements_of_the_conformance_lake() {
    let work = tempfile::tempdir().unwrap();
    let lake = settled_lake(&work.path().join("lake"), 4).await;
    let march = month(3);

    // H0013: outpatient item lines with volume-price reductions in both fee classes, a capped
    // drug cell, outpatient and inpatient case lines, an inpatient item line, a flow_out line.
    let e = explain(&lake, march, "H0013").await.unwrap();
    assert_matches_published(&lake, march, &e).await;
    let kinds: Vec<&str> = e.lines.iter().map(|l| l.line_kind.as_str()).collect();
    for k in ["item", "case", "flow_out"] {
        assert!(kinds.contains(&k), "H0013 has a {k} line: {kinds:?}");
    }
    let drug = e.line("outpatient", "secondary", "drug", "item").unwrap();
    assert!(!drug.reduction_points.is_zero());
    let vp_drug: Decimal = e
        .volume_price
        .iter()
        .filter(|v| v.fee_class == "drug")
        .map(|v| v.reduction)
        .sum();
    assert_eq!(vp_drug, drug.reduction_points, "Σ monthly reductions");
    assert_eq!(
        e.volume_price
            .iter()
            .filter(|v| v.fee_class == "drug")
            .count(),
        3,
        "one reduction per month 1..3"
    );
    let cell = e
        .cells
        .iter()
        .find(|c| c.payment_class == "outpatient" && c.fee_class == "drug")
        .unwrap();
    assert!(cell.capped, "secondary drug PV is above the cap");
    assert_eq!(drug.point_value, Some(e.policy.item_point_value_cap));
    assert!(e.statement.has_previous);
    let text = e.render_text();
    for rule in [
        "Statement of H0013",
        "effective points 49,387.0700 = declared 51,720.7900 − volume-price reduction 2,333.7200 (Step 4",
        "amount = round2(49,387.0700 × item point value 1.000000) = 49,387.07 (Step 6",
        "above the cap 1.00",
        "round6(CB 313,542.17 / EP 305,205.1670)",
        "case surplus rule",
        "alloc ≤ actual cost",
        "Step 7",
        "CB' = CB",
        "flow_out line",
        "Step 8",
        "threshold T =",
        "excess E = max(0, A − T)",
        "Σ of its 7 lines",
        "fund_cum = 395,990.42: settlement_cum 519,426.42 − personal_burden_cum 123,436.00",
        "previous fund_cum",
        "vbp_accrued_month",
        "withheld_month = 8,714.72: round2(max(0, fund_month",
        "rate 0.05",
        "payable_month",
        "no payment hold in 2025-03",
        "paid_month = 165,579.63",
        "Fund split (Step 10)",
    ] {
        assert!(text.contains(rule), "H0013 text mentions {rule:?}:\n{text}");
    }

    // F0004: an outpatient case line whose allocation exceeds its actual cost (surplus rule).
    let e = explain(&lake, march, "F0004").await.unwrap();
    assert_matches_published(&lake, march, &e).await;
    let case = e
        .line("outpatient", "family_doctor_primary", "drug", "case")
        .unwrap();
    let alloc = case.alloc.unwrap();
    assert!(alloc > case.actual_cost, "surplus case");
    let retained =
        claimlake_domain::round2(e.policy.case_surplus_retention * (alloc - case.actual_cost));
    assert_eq!(case.amount, case.actual_cost + retained);
    assert!(
        case.derivation.contains("alloc > actual cost")
            && case.derivation.contains("surplus retention 0.50"),
        "{}",
        case.derivation
    );

    // H0003: a chemo line paid from the inpatient cell, valued at its outpatient point values.
    let e = explain(&lake, march, "H0003").await.unwrap();
    assert_matches_published(&lake, march, &e).await;
    let chemo = e.line("inpatient", "western", "all", "chemo").unwrap();
    assert_eq!(chemo.value_class.as_deref(), Some("tertiary"));
    assert!(chemo.derivation.contains("chemo") && chemo.derivation.contains("Step 6"));
    assert!(
        e.cells
            .iter()
            .any(|c| c.payment_class == "outpatient" && c.budget_class == "tertiary"),
        "the outpatient cells that price chemo points are shown"
    );

    // T0004: the inpatient tcm cell with annual = 0 is floored by its chemo deduction.
    let e = explain(&lake, march, "T0004").await.unwrap();
    assert_matches_published(&lake, march, &e).await;
    assert!(e.cells.iter().any(|c| c.floored));
    assert!(
        e.notes.iter().any(|n| n.contains("floored")),
        "{:?}",
        e.notes
    );

    // P0001: a pharmacy paid by flow_in lines only, with excluded account-only claims.
    let e = explain(&lake, march, "P0001").await.unwrap();
    assert_matches_published(&lake, march, &e).await;
    assert!(e.lines.iter().all(|l| l.line_kind == "flow_in"));
    assert!(
        e.excluded.iter().any(|x| x.reason == "account_only"),
        "{:?}",
        e.excluded
    );
    assert!(e.render_text().contains("Step 8, 处方流转"));

    // January: no previous month, fund_month = fund_cum.
    let e = explain(&lake, month(1), "H0013").await.unwrap();
    assert_matches_published(&lake, month(1), &e).await;
    assert!(!e.statement.has_previous);
    assert_eq!(e.statement.fund_month, e.statement.fund_cum);
    assert!(e.render_text().contains("January: no previous month"));

    // H0011 in April: under a yellow-card payment hold, the payable is held and nothing paid.
    let e = explain(&lake, month(4), "H0011").await.unwrap();
    assert_matches_published(&lake, month(4), &e).await;
    assert!(e.statement.on_hold);
    assert_eq!(e.statement.held_month, e.statement.payable_month);
    assert!(e.statement.paid_month.is_zero());
    assert!(
        e.cards
            .iter()
            .any(|c| c.effect == "payment_hold" && c.acts_this_month),
        "{:?}",
        e.cards
    );
    let text = e.render_text();
    assert!(
        text.contains("under a yellow-card payment hold in 2025-04"),
        "{text}"
    );

    // JSON: exact decimal strings, the same figures.
    let e = explain(&lake, march, "H0013").await.unwrap();
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["month"], "2025-03");
    assert_eq!(json["institution"]["institution_id"], "H0013");
    assert_eq!(json["statement"]["paid_month"], "165579.63");
    assert_eq!(json["statement"]["settlement_cum"], "519426.42");
    assert!(json["lines"].as_array().unwrap().len() == 7);
    assert!(
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true)
    );

    // Errors: a month not settled, an institution without a statement row, an unknown one.
    let err = explain(&lake, month(5), "H0013")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2025-05 is not settled")
            && err.contains("results/statements/year=2025/month=05"),
        "{err}"
    );
    let err = explain(&lake, march, "C0003")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("institution C0003 has no statement in 2025-03")
            && err.contains("42 institutions have one"),
        "{err}"
    );
    let err = explain(&lake, march, "X9999")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("X9999 has no statement in 2025-03")
            && err.contains("not in the institution registry"),
        "{err}"
    );
    let err = explain(&lake, march, "  ").await.unwrap_err().to_string();
    assert!(err.contains("no institution given"), "{err}");

    // The policy file changed after the run: the explanation says so and still reads the
    // official figures (checks that need the settled parameters are left out, none fails).
    let key = layout::policy(2025);
    let text = String::from_utf8(lake.get(&key).await.unwrap().to_vec()).unwrap();
    assert!(text.contains("\nversion = 1\n"));
    lake.put(
        &key,
        text.replace("\nversion = 1\n", "\nversion = 2\n").into(),
    )
    .await
    .unwrap();
    let e = explain(&lake, march, "H0013").await.unwrap();
    assert_eq!((e.policy.settled_version, e.policy.file_version), (1, 2));
    assert!(
        e.notes
            .iter()
            .any(|n| n.contains("now version 2") && n.contains("settled under version 1")),
        "{:?}",
        e.notes
    );
    assert!(e.all_checks_pass());
    assert_eq!(
        e.figure("paid_month").unwrap().value.to_string(),
        "165579.63"
    );
}

#[tokio::test]
async fn an_unsettled_lake_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let lake = Lake::open(work.path().to_str().unwrap()).unwrap();
    let err = explain(&lake, month(3), "H0007")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2025-03 is not settled") && err.contains("claimlake settle --month 2025-03"),
        "{err}"
    );
}
