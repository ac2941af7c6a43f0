//! Golden annual-scores tests (annual-scores.md): hand-built lakes of one year whose every
//! expected number is worked out by hand in the comment beside its assertion.
//!
//! A lake here holds what the scores read, written directly rather than computed: twelve months
//! of claims (empty files where a test needs none), the twelve official `statements` (only
//! `institution_id` and `withheld_month`, the columns the scores read), the card ledger and the
//! suspicions of the four quarters, `inputs/assessments` and `inputs/investigations`, optionally
//! 2024's scores, and `policy/2025.toml` = the golden settlement policy (tests/src/golden.rs)
//! plus a `[warnings]` and a `[score]` section written by each test.

use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use claimlake_engine::score::{ScoreOutcome, score_year};
use claimlake_lake::{Lake, contract};
use claimlake_tests::copy_tree;
use claimlake_tests::fixtures::{ClaimRow, d, write_claims};
use claimlake_tests::golden::{
    Card, GoldenClaim, GoldenPolicy, Inst, ResultTable, Row, write_cards, write_registry,
};

const YEAR: i32 = 2025;

/// The release tiers of policy-example.toml.
const RELEASES: &str = r#"
[[score.release]]
min_score = "90"
ratio = "1.00"

[[score.release]]
min_score = "80"
ratio = "0.90"

[[score.release]]
min_score = "70"
ratio = "0.80"

[[score.release]]
min_score = "60"
ratio = "0.60"

[[score.release]]
min_score = "0"
ratio = "0.00"
"#;

/// The indicators of policy-example.toml.
const EXAMPLE_RUBRIC: &str = r#"
[[score.indicator]]
id = "cards"
name = "预警亮牌"
weight = "20"
source = "cards"
method = "deduct"
per_yellow = "5"
per_red = "20"

[[score.indicator]]
id = "suspicions"
name = "疑点发生率 (per 1000 claims)"
weight = "20"
source = "suspicion_rate"
method = "lower_better"
good = "1"
bad = "10"

[[score.indicator]]
id = "drug_ratio"
name = "药占比 vs peers"
weight = "10"
source = "drug_ratio_vs_peer"
method = "lower_better"
good = "1.0"
bad = "1.5"
applies_to = ["hospital", "clinic"]

[[score.indicator]]
id = "vbp_share"
name = "集采中选药品使用占比"
weight = "10"
source = "vbp_share"
method = "higher_better"
good = "0.60"
bad = "0.20"
applies_to = ["hospital", "clinic"]

[[score.indicator]]
id = "onsite"
name = "实地考核"
weight = "25"
source = "assessment:onsite"
method = "scaled"

[[score.indicator]]
id = "procurement"
name = "医药采购管理考核"
weight = "15"
source = "assessment:procurement"
method = "scaled"
"#;

/// A rubric of one indicator, the on-site assessment at weight 100: total = the score.
const ONSITE_ONLY: &str = r#"
[[score.indicator]]
id = "onsite"
name = "实地考核"
weight = "100"
source = "assessment:onsite"
method = "scaled"
"#;

/// The `[score]` options (the keys before the tiers).
fn options(terminate_below: &str, bottom_share: &str, redistribute: bool) -> String {
    format!(
        "[score]\nexcellent_from = \"90\"\npass_from = \"60\"\nconsecutive_fail_years = 2\n\
         terminate_below = \"{terminate_below}\"\nbottom_elimination_share = \"{bottom_share}\"\n\
         redistribute_forfeit = {redistribute}\n"
    )
}

/// One hand-built year.
#[derive(Default)]
struct Year {
    registry: Vec<Inst>,
    /// (month, claim)
    claims: Vec<(u32, ClaimRow)>,
    /// (institution, month, withheld_month)
    withheld: Vec<(&'static str, u32, &'static str)>,
    /// (quarter, card)
    cards: Vec<(i32, Card)>,
    /// (quarter, rule, claim_id, institution)
    suspicions: Vec<(u32, &'static str, String, &'static str)>,
    /// (institution, part, score)
    assessments: Vec<(&'static str, &'static str, &'static str)>,
    /// (institution, status)
    investigations: Vec<(&'static str, &'static str)>,
    /// 2024's scores: (institution, status, grade)
    history: Option<Vec<(&'static str, &'static str, Option<&'static str>)>>,
    min_visits: u32,
    /// The `[score]` section with its tiers and indicators.
    score: String,
}

fn strings(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn money(v: Vec<&str>, precision: u8) -> ArrayRef {
    let ints: Vec<i128> = v
        .into_iter()
        .map(|s| {
            let mut x = d(s);
            x.rescale(2);
            x.mantissa()
        })
        .collect();
    Arc::new(
        Decimal128Array::from(ints)
            .with_precision_and_scale(precision, 2)
            .unwrap(),
    )
}

fn schema(cols: &[(&str, DataType)]) -> Arc<Schema> {
    Arc::new(Schema::new(
        cols.iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

/// The policy file text: golden settlement policy, `[warnings]`, then `[score]`.
fn policy_text(min_visits: u32, score: &str) -> String {
    GoldenPolicy::default().to_toml(YEAR)
        + &format!(
            "\n[warnings]\nscope_visit_types = [\"general_outpatient\", \"special_outpatient\", \
             \"pharmacy\"]\nmin_visits = {min_visits}\n\n"
        )
        + score
}

impl Year {
    async fn write(&self) -> (tempfile::TempDir, Lake) {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        write_registry(&lake, &self.registry).await;
        lake.put(
            "policy/2025.toml",
            Bytes::from(policy_text(self.min_visits.max(1), &self.score)),
        )
        .await
        .unwrap();
        for month in 1..=12u32 {
            let rows: Vec<ClaimRow> = self
                .claims
                .iter()
                .filter(|(m, _)| *m == month)
                .map(|(_, c)| c.clone())
                .collect();
            write_claims(&lake, YEAR, month, "part-000.parquet", &rows).await;
            let st: Vec<_> = self.withheld.iter().filter(|w| w.1 == month).collect();
            let s = schema(&[
                ("institution_id", DataType::Utf8),
                ("withheld_month", DataType::Decimal128(18, 2)),
                ("policy_year", DataType::Int32),
                ("policy_version", DataType::Int32),
            ]);
            let batch = RecordBatch::try_new(
                s.clone(),
                vec![
                    strings(st.iter().map(|w| Some(w.0.to_string())).collect()),
                    money(st.iter().map(|w| w.2).collect(), 18),
                    Arc::new(Int32Array::from(vec![YEAR; st.len()])),
                    Arc::new(Int32Array::from(vec![1; st.len()])),
                ],
            )
            .unwrap();
            lake.write_parquet(
                &format!("results/statements/year={YEAR}/month={month:02}/data.parquet"),
                &s,
                &[batch],
            )
            .await
            .unwrap();
        }
        for q in 1..=4 {
            let cards: Vec<Card> = self
                .cards
                .iter()
                .filter(|c| c.0 == q)
                .map(|c| c.1.clone())
                .collect();
            write_cards(&lake, YEAR, q, &cards).await;
            let sus: Vec<_> = self.suspicions.iter().filter(|s| s.0 == q as u32).collect();
            let s = schema(&[
                ("rule_id", DataType::Utf8),
                ("claim_id", DataType::Utf8),
                ("institution_id", DataType::Utf8),
            ]);
            let batch = RecordBatch::try_new(
                s.clone(),
                vec![
                    strings(sus.iter().map(|x| Some(x.1.to_string())).collect()),
                    strings(sus.iter().map(|x| Some(x.2.clone())).collect()),
                    strings(sus.iter().map(|x| Some(x.3.to_string())).collect()),
                ],
            )
            .unwrap();
            lake.write_parquet(
                &format!("restricted/suspicions/year={YEAR}/quarter={q}/data.parquet"),
                &s,
                &[batch],
            )
            .await
            .unwrap();
        }
        let a = &self.assessments;
        let batch = RecordBatch::try_new(
            contract::assessments(),
            vec![
                strings(a.iter().map(|r| Some(r.0.to_string())).collect()),
                strings(a.iter().map(|r| Some(r.1.to_string())).collect()),
                money(a.iter().map(|r| r.2).collect(), 5),
            ],
        )
        .unwrap();
        lake.write_parquet(
            &format!("inputs/assessments/year={YEAR}/part-000.parquet"),
            &contract::assessments(),
            &[batch],
        )
        .await
        .unwrap();
        let v = &self.investigations;
        let batch = RecordBatch::try_new(
            contract::investigations(),
            vec![
                strings(v.iter().map(|r| Some(r.0.to_string())).collect()),
                strings(v.iter().map(|r| Some(r.1.to_string())).collect()),
                strings(v.iter().map(|_| Some("test".to_string())).collect()),
            ],
        )
        .unwrap();
        lake.write_parquet(
            &format!("inputs/investigations/year={YEAR}/part-000.parquet"),
            &contract::investigations(),
            &[batch],
        )
        .await
        .unwrap();
        if let Some(h) = &self.history {
            let s = schema(&[
                ("institution_id", DataType::Utf8),
                ("status", DataType::Utf8),
                ("grade", DataType::Utf8),
            ]);
            let batch = RecordBatch::try_new(
                s.clone(),
                vec![
                    strings(h.iter().map(|r| Some(r.0.to_string())).collect()),
                    strings(h.iter().map(|r| Some(r.1.to_string())).collect()),
                    strings(h.iter().map(|r| r.2.map(str::to_string)).collect()),
                ],
            )
            .unwrap();
            lake.write_parquet("results/scores/year=2024/data.parquet", &s, &[batch])
                .await
                .unwrap();
        }
        (dir, lake)
    }
}

/// A pool-paid general-outpatient claim on the 10th of `month`: western, patent and service
/// parts (total = their sum), VBP amount `vbp`.
fn claim(
    id: &str,
    institution: &str,
    month: u32,
    western: &str,
    patent: &str,
    service: &str,
    vbp: &str,
) -> (u32, ClaimRow) {
    let r = ClaimRow::outpatient(id, institution, &format!("{YEAR}-{month:02}-10 09:30:00"))
        .fees(western, patent, "0", "0", service)
        .vbp(vbp, vbp);
    let total = r.fees[0].unwrap().to_string();
    (month, r.payers(&total, "0", "0", "0", "0"))
}

async fn score(lake: &Lake) -> ScoreOutcome {
    score_year(lake, YEAR)
        .await
        .unwrap_or_else(|e| panic!("score {YEAR}: {e}"))
}

fn scores(o: &ScoreOutcome) -> ResultTable {
    ResultTable::new("scores", o.table("scores"))
}

fn items(o: &ScoreOutcome) -> ResultTable {
    ResultTable::new("score_items", o.table("score_items"))
}

fn inst<'a>(t: &'a ResultTable, id: &str) -> &'a Row {
    t.row(&[("institution_id", id)])
}

fn item<'a>(t: &'a ResultTable, id: &str, indicator: &str) -> &'a Row {
    t.row(&[("institution_id", id), ("indicator_id", indicator)])
}

/// A text column that may be null.
fn opt_text(r: &Row, col: &str) -> Option<String> {
    match r.0.get(col) {
        Some(claimlake_tests::golden::Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------

/// The four scoring methods at, below, between and above their bounds. The rubric scores
/// assessment parts with each method (a method applies to any source: the rubric is data), so
/// every value is stated directly; the deduct method counts cards. Weights 25 each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_method_at_below_between_and_above_its_bounds() {
    let rubric = r#"
[[score.indicator]]
id = "cards"
name = "cards"
weight = "25"
source = "cards"
method = "deduct"
per_yellow = "5"
per_red = "20"

[[score.indicator]]
id = "lb"
name = "lower is better"
weight = "25"
source = "assessment:lb"
method = "lower_better"
good = "20"
bad = "80"

[[score.indicator]]
id = "hb"
name = "higher is better"
weight = "25"
source = "assessment:hb"
method = "higher_better"
good = "80"
bad = "20"

[[score.indicator]]
id = "sc"
name = "scaled"
weight = "25"
source = "assessment:sc"
method = "scaled"
"#;
    let ids = ["X1", "X2", "X3", "X4", "X5", "X6"];
    let mut y = Year {
        registry: ids
            .iter()
            .map(|i| Inst::clinic(i, "other_primary"))
            .collect(),
        score: options("0", "0", true) + RELEASES + rubric,
        ..Default::default()
    };
    // lb and hb values: below, at the lower bound, between, at the upper bound, above, and a
    // half-fen case; sc: 0, 20, 41, 100 (its bounds are 0 and 100), 95, 50.50.
    let values = [
        ("X1", "10", "10", "0"),
        ("X2", "20", "20", "20"),
        ("X3", "41", "41", "41"),
        ("X4", "80", "80", "100"),
        ("X5", "95", "95", "95"),
        ("X6", "79.94", "20.06", "50.50"),
    ];
    for (id, lb, hb, sc) in values {
        y.assessments.push((id, "lb", lb));
        y.assessments.push((id, "hb", hb));
        y.assessments.push((id, "sc", sc));
    }
    // deduct: X1 none; X2 one yellow; X3 a yellow and a red (exactly 0 left); X4 two yellows and
    // a red (below 0: clamped); X5, X6 none.
    y.cards = vec![
        (1, Card::yellow("X2", "2025-04", 1)),
        (1, Card::yellow("X3", "2025-04", 1)),
        (2, Card::red("X3", "2025-07", 1)),
        (1, Card::yellow("X4", "2025-04", 1)),
        (2, Card::yellow("X4", "2025-07", 1)),
        (2, Card::red("X4", "2025-07", 1)),
    ];
    let (_dir, lake) = y.write().await;
    let o = score(&lake).await;
    let t = items(&o);
    let pts = |id: &str, ind: &str| item(&t, id, ind).dec("points");
    let val = |id: &str, ind: &str| item(&t, id, ind).dec("value");

    // deduct, weight 25, 5 per yellow, 20 per red: 25; 25 − 5 = 20; 25 − 5 − 20 = 0;
    // 25 − 10 − 20 = −5 → 0. value = yellows + reds.
    assert_eq!(pts("X1", "cards"), d("25.00"));
    assert_eq!(pts("X2", "cards"), d("20.00"));
    assert_eq!(pts("X3", "cards"), d("0.00"));
    assert_eq!(pts("X4", "cards"), d("0.00"));
    assert_eq!(val("X1", "cards"), d("0"));
    assert_eq!(val("X3", "cards"), d("2"));
    assert_eq!(val("X4", "cards"), d("3"));

    // lower_better good 20, bad 80: 10 → 25 (below good); 20 → 25 (at good);
    // 41 → 25 × (80 − 41) / 60 = 16.25; 80 → 0 (at bad); 95 → 0 (above bad);
    // 79.94 → 25 × 0.06 / 60 = 0.025 → 0.03 (round2 half away from zero).
    assert_eq!(pts("X1", "lb"), d("25.00"));
    assert_eq!(pts("X2", "lb"), d("25.00"));
    assert_eq!(pts("X3", "lb"), d("16.25"));
    assert_eq!(pts("X4", "lb"), d("0.00"));
    assert_eq!(pts("X5", "lb"), d("0.00"));
    assert_eq!(pts("X6", "lb"), d("0.03"));

    // higher_better good 80, bad 20: 10 → 0 (below bad); 20 → 0 (at bad);
    // 41 → 25 × (41 − 20) / 60 = 8.75; 80 → 25 (at good); 95 → 25 (above good);
    // 20.06 → 25 × 0.06 / 60 = 0.025 → 0.03.
    assert_eq!(pts("X1", "hb"), d("0.00"));
    assert_eq!(pts("X2", "hb"), d("0.00"));
    assert_eq!(pts("X3", "hb"), d("8.75"));
    assert_eq!(pts("X4", "hb"), d("25.00"));
    assert_eq!(pts("X5", "hb"), d("25.00"));
    assert_eq!(pts("X6", "hb"), d("0.03"));

    // scaled, weight × score / 100: 0 → 0; 20 → 5; 41 → 10.25; 100 → 25; 95 → 23.75;
    // 50.50 → 12.625 → 12.63.
    assert_eq!(pts("X1", "sc"), d("0.00"));
    assert_eq!(pts("X2", "sc"), d("5.00"));
    assert_eq!(pts("X3", "sc"), d("10.25"));
    assert_eq!(pts("X4", "sc"), d("25.00"));
    assert_eq!(pts("X5", "sc"), d("23.75"));
    assert_eq!(pts("X6", "sc"), d("12.63"));
    assert_eq!(val("X6", "sc"), d("50.50"));

    // Totals (weights 100): X1 25 + 25 + 0 + 0 = 50; X3 0 + 16.25 + 8.75 + 10.25 = 35.25;
    // X6 25 + 0.03 + 0.03 + 12.63 = 37.69.
    let s = scores(&o);
    assert_eq!(inst(&s, "X1").dec("total"), d("50.00"));
    assert_eq!(inst(&s, "X3").dec("total"), d("35.25"));
    assert_eq!(inst(&s, "X6").dec("total"), d("37.69"));
    assert_eq!(t.len(), 6 * 4, "one row per institution and indicator");
}

/// The example rubric on claims: suspicion rate, drug ratio vs peers and VBP share computed on
/// exact fractions; a pharmacy whose weights are renormalised to 100 (two indicators do not
/// apply to its kind); a missing assessment; pending and disqualified institutions; an
/// unscored institution's reserve; a pool nobody is eligible for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_renormalisation_pending_and_disqualified() {
    let (_dir, lake) = sources_year().write().await;
    let o = score(&lake).await;
    check_sources(&o);
}

/// The lake of [`sources_renormalisation_pending_and_disqualified`]:
/// - H1, H2 tertiary hospitals, 20 claims a month each (240 in the year, the peer group's
///   eligible members with min_visits 3): H1 claims are 30 western + 10 patent + 60 service
///   with VBP 20 (drug ratio 0.4, VBP share 0.5); H2 claims 50 + 10 + 40 with VBP 12 (drug
///   ratio 0.6, VBP share 0.2). Peer drug ratio = (240×40 + 240×60) / (240×100 × 2) = 0.5.
/// - H3 tertiary hospital, two claims (below min_visits: not a peer, still compared): 100
///   service and 200 western with VBP 150 (drug ratio 2/3, VBP share 0.75).
/// - P1 pharmacy, one account-paid purchase a month (as P2); P2 pharmacy under investigation; C1 clinic that withheld
///   materials; H9 with statements only.
fn sources_year() -> Year {
    let mut y = Year {
        registry: vec![
            Inst::hospital("H1", "tertiary"),
            Inst::hospital("H2", "tertiary"),
            Inst::hospital("H3", "tertiary"),
            Inst::pharmacy("P1"),
            Inst::pharmacy("P2"),
            Inst::clinic("C1", "other_primary"),
            Inst::hospital("H9", "secondary"),
        ],
        min_visits: 3,
        score: options("0", "0", true) + RELEASES + EXAMPLE_RUBRIC,
        ..Default::default()
    };
    for month in 1..=12u32 {
        for k in 0..20 {
            y.claims.push(claim(
                &format!("H1-{month}-{k}"),
                "H1",
                month,
                "30",
                "10",
                "60",
                "20",
            ));
            y.claims.push(claim(
                &format!("H2-{month}-{k}"),
                "H2",
                month,
                "50",
                "10",
                "40",
                "12",
            ));
        }
        // personal-account purchases (a pooled-fund pharmacy claim needs a prescriber)
        for p in ["P1", "P2"] {
            let r = ClaimRow::pharmacy(
                &format!("{p}-{month}"),
                p,
                None,
                &format!("{YEAR}-{month:02}-10 09:30:00"),
            )
            .fees("60", "0", "0", "0", "0")
            .payers("0", "0", "0", "60", "0");
            y.claims.push((month, r));
        }
        y.claims.push(claim(
            &format!("C1-{month}"),
            "C1",
            month,
            "10",
            "0",
            "90",
            "0",
        ));
    }
    y.claims.push(claim("H3-a", "H3", 3, "0", "0", "100", "0"));
    y.claims
        .push(claim("H3-b", "H3", 9, "200", "0", "0", "150"));
    // Suspicions: one H1 claim flagged by two rules (one distinct claim); one of H3's two.
    y.suspicions = vec![
        (1, "R01", "H1-2-3".into(), "H1"),
        (1, "R05", "H1-2-3".into(), "H1"),
        (3, "R05", "H3-b".into(), "H3"),
    ];
    // Cards: P1 one yellow; H2 a yellow in Q1, and a yellow with its red in Q3.
    y.cards = vec![
        (2, Card::yellow("P1", "2025-07", 1)),
        (1, Card::yellow("H2", "2025-04", 1)),
        (3, Card::yellow("H2", "2025-10", 1)),
        (3, Card::red("H2", "2025-10", 1)),
    ];
    y.assessments = vec![
        ("H1", "onsite", "90"),
        ("H1", "procurement", "80"),
        ("H2", "onsite", "100"), // H2 has no procurement assessment
        ("H3", "onsite", "70"),
        ("H3", "procurement", "70"),
        ("P1", "onsite", "81"),
        ("P1", "procurement", "60"),
        ("P2", "onsite", "99"),
        ("P2", "procurement", "99"),
        ("C1", "onsite", "99"),
        ("C1", "procurement", "99"),
        // a part no indicator reads yet (see the policy-edit test)
        ("H1", "quality", "50"),
        ("P1", "quality", "100"),
    ];
    y.investigations = vec![("P2", "under_investigation"), ("C1", "withheld_materials")];
    y.withheld = vec![
        ("H1", 3, "400.00"),
        ("H1", 12, "600.00"),
        ("H2", 6, "500.00"),
        ("H3", 9, "300.00"),
        ("P1", 1, "200.00"),
        ("P2", 2, "150.00"),
        ("C1", 4, "100.00"),
        ("H9", 5, "50.00"),
    ];
    y
}

fn check_sources(o: &ScoreOutcome) {
    let t = items(o);
    let s = scores(o);
    let row = |id: &str, ind: &str| item(&t, id, ind);

    // H1. suspicion rate = 1 distinct claim × 1000 / 240 = 4.1666…; points on the exact value:
    // 20 × (10 − 25/6) / 9 = 700/54 = 12.96296… → 12.96 (value stored 4.166667).
    assert_eq!(row("H1", "suspicions").dec("value"), d("4.166667"));
    assert_eq!(row("H1", "suspicions").dec("points"), d("12.96"));
    // drug ratio 0.4 / 0.5 = 0.8 ≤ good 1.0 → 10; VBP share 0.5: 10 × (0.5 − 0.2) / 0.4 = 7.50.
    assert_eq!(row("H1", "drug_ratio").dec("value"), d("0.8"));
    assert_eq!(row("H1", "drug_ratio").dec("points"), d("10.00"));
    assert_eq!(row("H1", "vbp_share").dec("value"), d("0.5"));
    assert_eq!(row("H1", "vbp_share").dec("points"), d("7.50"));
    // cards 0 → 20; onsite 25 × 90/100 = 22.50; procurement 15 × 80/100 = 12.00.
    // total = 20 + 12.96 + 10 + 7.50 + 22.50 + 12 = 84.96 (weights 100).
    assert_eq!(inst(&s, "H1").dec("total"), d("84.96"));
    assert_eq!(inst(&s, "H1").text("grade"), "pass");

    // H2. cards: 2 yellows, 1 red → 20 − 10 − 20 < 0 → 0 (value 3); no suspicions → 20;
    // drug ratio 0.6 / 0.5 = 1.2 → 10 × (1.5 − 1.2) / 0.5 = 6.00; VBP share 0.2 = bad → 0;
    // onsite 25; procurement missing: applicable, value null, 0 points, weight kept.
    assert_eq!(row("H2", "cards").dec("value"), d("3"));
    assert_eq!(row("H2", "cards").dec("points"), d("0.00"));
    assert_eq!(row("H2", "suspicions").dec("points"), d("20.00"));
    assert_eq!(row("H2", "drug_ratio").dec("value"), d("1.2"));
    assert_eq!(row("H2", "drug_ratio").dec("points"), d("6.00"));
    assert_eq!(row("H2", "vbp_share").dec("points"), d("0.00"));
    let proc = row("H2", "procurement");
    assert!(proc.flag("applicable"));
    assert_eq!(proc.opt_dec("value"), None);
    assert_eq!(proc.dec("points"), d("0.00"));
    assert_eq!(proc.dec("weight"), d("15.00"));
    // total = (0 + 20 + 6 + 0 + 25 + 0) × 100 / 100 = 51.00 → fail; no 2024 scores in the lake:
    // no_renewal is not applied, and the flags say so.
    let h2 = inst(&s, "H2");
    assert_eq!(h2.dec("total"), d("51.00"));
    assert_eq!(h2.text("grade"), "fail");
    assert_eq!(h2.text("decision"), "renew");
    assert_eq!(
        h2.text("flags"),
        "missing_assessment:procurement;no_renewal_not_applied:no_history_2024"
    );

    // H3, below min_visits yet compared with its peers: drug ratio (200/300) / 0.5 = 4/3 →
    // 10 × (1.5 − 4/3) / 0.5 = 3.333… → 3.33; VBP 150/200 = 0.75 ≥ good → 10; suspicions
    // 1 × 1000 / 2 = 500 ≥ bad → 0. total = 20 + 0 + 3.33 + 10 + 17.50 + 10.50 = 61.33.
    assert_eq!(row("H3", "drug_ratio").dec("value"), d("1.333333"));
    assert_eq!(row("H3", "drug_ratio").dec("points"), d("3.33"));
    assert_eq!(row("H3", "vbp_share").dec("points"), d("10.00"));
    assert_eq!(row("H3", "suspicions").dec("value"), d("500"));
    assert_eq!(row("H3", "suspicions").dec("points"), d("0.00"));
    assert_eq!(inst(&s, "H3").dec("total"), d("61.33"));

    // P1, a pharmacy: drug_ratio and vbp_share do not apply (applicable false, points null),
    // so the total is renormalised over weights 20 + 20 + 25 + 15 = 80:
    // cards 1 yellow → 15; suspicions 0 → 20; onsite 25 × 81/100 = 20.25; procurement 9.00.
    // total = round2(64.25 × 100 / 80) = round2(80.3125) = 80.31.
    for ind in ["drug_ratio", "vbp_share"] {
        let r = row("P1", ind);
        assert!(!r.flag("applicable"), "{ind}");
        assert_eq!(r.opt_dec("points"), None, "{ind}");
        assert_eq!(r.opt_dec("value"), None, "{ind}");
    }
    assert_eq!(row("P1", "cards").dec("points"), d("15.00"));
    assert_eq!(row("P1", "onsite").dec("points"), d("20.25"));
    let p1 = inst(&s, "P1");
    assert_eq!(p1.dec("total"), d("80.31"));
    assert_eq!(p1.text("flags"), "", "not applying to a kind is no flag");

    // Pending and disqualified: no score_items rows, no total or grade.
    assert!(t.filter(&[("institution_id", "P2")]).is_empty());
    assert!(t.filter(&[("institution_id", "C1")]).is_empty());
    let p2 = inst(&s, "P2");
    assert_eq!(p2.text("status"), "pending");
    assert_eq!(p2.text("decision"), "pending");
    assert_eq!(p2.opt_dec("total"), None);
    assert_eq!(opt_text(p2, "grade"), None);
    assert_eq!(p2.opt_dec("release_ratio"), None);
    assert_eq!(p2.dec("released"), d("0"));
    assert_eq!(p2.dec("forfeited"), d("0"));
    let c1 = inst(&s, "C1");
    assert_eq!(c1.text("status"), "disqualified");
    assert_eq!(c1.text("decision"), "terminate");
    assert_eq!(c1.text("decision_reason"), "withheld_materials");
    assert_eq!(c1.opt_dec("total"), None);
    assert_eq!(c1.dec("release_ratio"), d("0"));
    assert_eq!(c1.dec("forfeited"), d("100.00"));

    // Guarantee. H1 84.96 → 0.90: 900 released, 100 forfeited; H2 51 → 0: 500 forfeited;
    // H3 61.33 → 0.60: 180 / 120; P1 80.31 → 0.90: 180 / 20; P2 pending: 150 held; C1 100
    // forfeited. Pool = 100 + 500 + 120 + 20 + 100 = 840, nobody excellent: undistributed.
    // H9 (statements only) is not scored; its 50 is reported as unscored.
    assert_eq!(inst(&s, "H1").dec("released"), d("900.00"));
    assert_eq!(inst(&s, "H3").dec("forfeited"), d("120.00"));
    assert!(s.filter(&[("institution_id", "H9")]).is_empty());
    let g = &o.report.guarantee;
    assert_eq!(g.reserve, d("2250.00"));
    assert_eq!(g.released, d("1260.00"));
    assert_eq!(g.forfeited, d("840.00"));
    assert_eq!(g.held_pending, d("150.00"));
    assert_eq!(g.pool, d("840.00"));
    assert_eq!(g.bonus, d("0"));
    assert_eq!(g.undistributed, d("840.00"));
    assert_eq!(g.unscored_reserve, d("50.00"));
    assert_eq!(o.report.unscored.len(), 1);
    assert_eq!(o.report.history.failing_without_history, 1);
    assert!(
        o.report.notes.iter().any(|n| n.contains("undistributed")),
        "{:?}",
        o.report.notes
    );
}

/// Rewrites the policy file at `path` with the adjustment two tests make: onsite 25 → 30 and
/// procurement 15 → 10, version 2. Returns the new text.
fn adjust_onsite_and_procurement(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let edited = text
        .replace("version = 1", "version = 2")
        .replace(
            "weight = \"25\"\nsource = \"assessment:onsite\"",
            "weight = \"30\"\nsource = \"assessment:onsite\"",
        )
        .replace(
            "weight = \"15\"\nsource = \"assessment:procurement\"",
            "weight = \"10\"\nsource = \"assessment:procurement\"",
        );
    assert_ne!(edited, text);
    std::fs::write(path, &edited).unwrap();
    edited
}

/// Changing a weight (and adding an indicator of a known source) in the policy file and
/// re-running changes the scores: the rubric is read from `policy/2025.toml` at run time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_policy_file_changes_the_scores_without_a_rebuild() {
    let (dir, lake) = sources_year().write().await;
    let before = score(&lake).await;
    check_sources(&before);

    // A copy of the lake with an edited policy: onsite 25 → 30 and procurement 15 → 10, version 2.
    let copy = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), copy.path()).unwrap();
    let path = copy.path().join("policy/2025.toml");
    let edited = adjust_onsite_and_procurement(&path);
    let lake2 = Lake::open(copy.path().to_str().unwrap()).unwrap();
    let after = score(&lake2).await;
    let s = scores(&after);
    // H1: 20 + 12.96 + 10 + 7.50 + 30 × 0.90 + 10 × 0.80 = 85.46 (was 84.96).
    assert_eq!(inst(&s, "H1").dec("total"), d("85.46"));
    // P1: (15 + 20 + 30 × 0.81 + 10 × 0.60) × 100 / 80 = 65.30 × 1.25 = 81.625 → 81.63.
    assert_eq!(inst(&s, "P1").dec("total"), d("81.63"));
    assert_eq!(inst(&s, "P1").int("policy_version"), 2);
    assert_eq!(
        item(&items(&after), "H1", "onsite").dec("weight"),
        d("30.00")
    );

    // A further edit adds an indicator of a known source (the assessment part `quality`, already
    // in the inputs) by taking 10 from the on-site weight: no code changes.
    let edited2 = edited.replace(
        "weight = \"30\"\nsource = \"assessment:onsite\"",
        "weight = \"20\"\nsource = \"assessment:onsite\"",
    ) + "\n[[score.indicator]]\nid = \"quality\"\nname = \"质量\"\nweight = \"10\"\n\
         source = \"assessment:quality\"\nmethod = \"scaled\"\n";
    std::fs::write(&path, &edited2).unwrap();
    let third = score(&lake2).await;
    let s = scores(&third);
    let t = items(&third);
    // H1: 20 + 12.96 + 10 + 7.50 + 20 × 0.90 + 10 × 0.80 + 10 × 0.50 = 81.46.
    assert_eq!(item(&t, "H1", "quality").dec("points"), d("5.00"));
    assert_eq!(inst(&s, "H1").dec("total"), d("81.46"));
    // H3 has no `quality` row: a missing assessment, 0 points, its weight kept:
    // 20 + 0 + 3.33 + 10 + 20 × 0.70 + 10 × 0.70 + 0 = 54.33.
    assert_eq!(inst(&s, "H3").dec("total"), d("54.33"));
    assert!(
        inst(&s, "H3")
            .text("flags")
            .contains("missing_assessment:quality")
    );
    // P1: (15 + 20 + 20 × 0.81 + 6 + 10 × 1.00) × 100 / 80 = 67.20 × 1.25 = 84.00.
    assert_eq!(inst(&s, "P1").dec("total"), d("84.00"));
}

/// Decisions: terminate below the floor, bottom elimination per peer group with a tie at the
/// last slot, slots used by institutions already decided, no_renewal after two failing years
/// (grade fail or disqualified last year), and not applied without last year's row; then the
/// same year without last year's scores at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_in_order_with_and_without_last_years_scores() {
    let y = Year {
        registry: vec![
            Inst::clinic("F1", "family_doctor_primary"),
            Inst::clinic("F2", "family_doctor_primary"),
            Inst::clinic("F3", "family_doctor_primary"),
            Inst::clinic("F4", "family_doctor_primary"),
            Inst::clinic("F5", "family_doctor_primary"),
            Inst::clinic("F6", "family_doctor_primary"),
            Inst::clinic("C1", "other_primary"),
            Inst::clinic("C2", "other_primary"),
            Inst::clinic("C3", "other_primary"),
            Inst::clinic("C4", "other_primary"),
            Inst::pharmacy("P1"),
        ],
        // terminate below 40; the bottom half of each peer group
        score: options("40", "0.5", true) + RELEASES + ONSITE_ONLY,
        assessments: vec![
            ("F1", "onsite", "30"),
            ("F2", "onsite", "70"),
            ("F3", "onsite", "70"),
            ("F4", "onsite", "95"),
            ("F5", "onsite", "85"),
            ("F6", "onsite", "10"),
            ("C1", "onsite", "55"),
            ("C2", "onsite", "55"),
            ("C3", "onsite", "58"),
            ("C4", "onsite", "45"),
            ("P1", "onsite", "41"),
        ],
        investigations: vec![("F6", "under_investigation")],
        history: Some(vec![
            ("C1", "scored", Some("fail")),
            ("C3", "scored", Some("pass")),
            ("C4", "disqualified", None),
            ("P1", "scored", Some("pass")),
            ("F1", "scored", Some("pass")),
        ]),
        ..Default::default()
    };
    let (dir, lake) = y.write().await;
    let o = score(&lake).await;
    let s = scores(&o);
    let decided = |id: &str| {
        let r = inst(&s, id);
        (r.text("decision"), r.text("decision_reason"))
    };
    // family_doctor_primary: 5 scored (F6 is pending and takes no part): floor(0.5 × 5) = 2
    // slots. Ranked: F1 30, F2 70, F3 70 (tie: F2 first by id), F5 85, F4 95.
    // F1 is below 40 → terminate (floor) and uses slot 1; slot 2 is F2; F3 renews.
    assert_eq!(
        decided("F1"),
        ("terminate".into(), "total below 40 (002 measure 7)".into())
    );
    assert_eq!(
        decided("F2"),
        (
            "terminate".into(),
            "bottom 0.5 of family_doctor_primary (末位淘汰)".into()
        )
    );
    assert_eq!(decided("F3").0, "renew");
    assert_eq!(decided("F6").0, "pending");
    // other_primary: 4 scored, 2 slots. C4 45 (fail, disqualified in 2024 → no_renewal),
    // C1 55 (fail, failed 2024 → no_renewal): both keep their decision and use the slots.
    // C2 55 fails without a 2024 row: not applied, flagged; not in a slot → renew.
    // C3 58 fails, passed 2024: renew.
    assert_eq!(
        decided("C4"),
        (
            "no_renewal".into(),
            "failed 2 consecutive years (003 art 15)".into()
        )
    );
    assert_eq!(decided("C1").0, "no_renewal");
    assert_eq!(decided("C2").0, "renew");
    assert_eq!(
        inst(&s, "C2").text("flags"),
        "no_renewal_not_applied:no_history_2024"
    );
    assert_eq!(decided("C3").0, "renew");
    assert_eq!(inst(&s, "C3").text("flags"), "");
    // pharmacy: 1 scored, floor(0.5 × 1) = 0 slots: P1 at 41 fails but renews (passed 2024).
    assert_eq!(decided("P1").0, "renew");
    assert_eq!(o.report.history.failing_without_history, 1);
    assert_eq!(o.report.decision_counts.get("terminate"), Some(&2));

    // The same year without 2024's scores: nobody is known to have failed, so C4 and C1 are
    // not decided no_renewal and take the two slots as bottom eliminations; every failing
    // institution is flagged, and the report counts them (F1, C1, C2, C3, C4, P1).
    let copy = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), copy.path()).unwrap();
    std::fs::remove_dir_all(copy.path().join("results/scores/year=2024")).unwrap();
    let lake2 = Lake::open(copy.path().to_str().unwrap()).unwrap();
    let o2 = score(&lake2).await;
    let s2 = scores(&o2);
    for id in ["C4", "C1"] {
        let r = inst(&s2, id);
        assert_eq!(r.text("decision"), "terminate", "{id}");
        assert_eq!(
            r.text("decision_reason"),
            "bottom 0.5 of other_primary (末位淘汰)"
        );
        assert_eq!(r.text("flags"), "no_renewal_not_applied:no_history_2024");
    }
    assert_eq!(inst(&s2, "C2").text("decision"), "renew");
    assert_eq!(o2.report.history.failing_without_history, 6);
    assert_eq!(o2.report.history.years_missing, vec![2024]);
}

/// Release tiers at their boundaries, round2 half away from zero, and redistribution of the
/// pool to excellent institutions decided renew with a reserve, the residual fen going to the
/// largest reserve (a tie: the smaller institution_id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_tiers_at_their_boundaries_and_the_redistribution_residual() {
    let ids = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10"];
    let y = Year {
        registry: ids
            .iter()
            .map(|i| Inst::clinic(i, "other_primary"))
            .collect(),
        score: options("0", "0", true) + RELEASES + ONSITE_ONLY,
        assessments: vec![
            ("T1", "onsite", "90.00"),
            ("T2", "onsite", "89.99"),
            ("T3", "onsite", "80.00"),
            ("T4", "onsite", "79.99"),
            ("T5", "onsite", "70.00"),
            ("T6", "onsite", "60.00"),
            ("T7", "onsite", "59.99"),
            ("T8", "onsite", "100.00"),
            ("T9", "onsite", "95.00"),
            ("T10", "onsite", "92.00"),
        ],
        withheld: vec![
            ("T1", 1, "600.00"),
            ("T1", 7, "400.00"),
            ("T2", 1, "500.00"),
            ("T3", 1, "10.05"),
            ("T4", 1, "100.00"),
            ("T6", 1, "50.00"),
            ("T7", 1, "9.00"),
            ("T8", 1, "1000.00"),
            ("T10", 1, "1000.00"),
        ],
        ..Default::default()
    };
    let (_dir, lake) = y.write().await;
    let o = score(&lake).await;
    let s = scores(&o);
    let g = |id: &str| {
        let r = inst(&s, id);
        (
            r.dec("release_ratio"),
            r.dec("released"),
            r.dec("forfeited"),
            r.dec("bonus"),
        )
    };
    // 90.00 → tier 90 (1.00); 89.99 → tier 80 (0.90): 500 × 0.9 = 450, 50 forfeited.
    assert_eq!(g("T2"), (d("0.9"), d("450.00"), d("50.00"), d("0")));
    // 80.00 → 0.90: 10.05 × 0.9 = 9.045 → 9.05 (half away from zero), 1.00 forfeited.
    assert_eq!(g("T3"), (d("0.9"), d("9.05"), d("1.00"), d("0")));
    // 79.99 → 0.80: 80 released, 20 forfeited; 70.00 → 0.80 with no reserve.
    assert_eq!(g("T4"), (d("0.8"), d("80.00"), d("20.00"), d("0")));
    assert_eq!(g("T5"), (d("0.8"), d("0"), d("0"), d("0")));
    // 60.00 → 0.60: 30 / 20; 59.99 → tier 0 (0.00): all 9 forfeited.
    assert_eq!(g("T6"), (d("0.6"), d("30.00"), d("20.00"), d("0")));
    assert_eq!(g("T7"), (d("0"), d("0"), d("9.00"), d("0")));
    // Pool = 50 + 1 + 20 + 20 + 9 = 100.00. Recipients: T1 (90.00), T8 (100.00), T10 (92.00),
    // 1000 each; T9 is excellent without a reserve. Each share round2(100 × 1000 / 3000) =
    // 33.33; the largest reserve is a three-way tie, so T1 (smallest id) absorbs the residual:
    // 100 − 2 × 33.33 = 33.34.
    assert_eq!(g("T1"), (d("1"), d("1000.00"), d("0"), d("33.34")));
    assert_eq!(g("T8").3, d("33.33"));
    assert_eq!(g("T10").3, d("33.33"));
    assert_eq!(g("T9").3, d("0"));
    let r = &o.report.guarantee;
    assert_eq!(r.pool, d("100.00"));
    assert_eq!(r.bonus, d("100.00"));
    assert_eq!(r.undistributed, d("0"));
    assert_eq!(r.recipients, 3);
    assert_eq!(r.reserve, r.released + r.forfeited + r.held_pending);
}

/// Unusable annual inputs stop the run with a message naming the file, the row and the rule;
/// so does a year whose warnings have not run, and an assessed institution the registry does
/// not know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_inputs_stop_the_run_naming_file_and_row() {
    let y = Year {
        registry: vec![Inst::clinic("C1", "other_primary")],
        score: options("0", "0", true) + RELEASES + ONSITE_ONLY,
        assessments: vec![("C1", "onsite", "100.01")],
        ..Default::default()
    };
    let (_dir, lake) = y.write().await;
    let err = score_year(&lake, YEAR).await.unwrap_err().to_string();
    assert!(
        err.contains("inputs/assessments/year=2025/part-000.parquet row 1")
            && err.contains("score 100.01 is outside 0..100"),
        "{err}"
    );

    let y = Year {
        registry: vec![Inst::clinic("C1", "other_primary")],
        score: options("0", "0", true) + RELEASES + ONSITE_ONLY,
        assessments: vec![("C9", "onsite", "80"), ("C1", "onsite", "80")],
        investigations: vec![("C1", "closed")],
        ..Default::default()
    };
    let (_dir, lake) = y.write().await;
    let err = score_year(&lake, YEAR).await.unwrap_err().to_string();
    assert!(
        err.contains("inputs/investigations/year=2025/part-000.parquet row 1")
            && err.contains("status closed"),
        "{err}"
    );

    let y = Year {
        registry: vec![Inst::clinic("C1", "other_primary")],
        score: options("0", "0", true) + RELEASES + ONSITE_ONLY,
        assessments: vec![("C9", "onsite", "80")],
        ..Default::default()
    };
    let (_dir, lake) = y.write().await;
    let err = score_year(&lake, YEAR).await.unwrap_err().to_string();
    assert!(
        err.contains("\"C9\"") && err.contains("not in the registry"),
        "{err}"
    );
    lake.delete_prefix("results/cards/year=2025/quarter=4")
        .await
        .unwrap();
    let err = score_year(&lake, YEAR).await.unwrap_err().to_string();
    assert!(err.contains("warn --quarter 2025Q4"), "{err}");
}

/// A policy without `[[score.indicator]]` cannot score: the message names the file and key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_without_a_rubric_cannot_score() {
    let y = Year {
        registry: vec![Inst::clinic("C1", "other_primary")],
        score: options("0", "0", true) + RELEASES,
        ..Default::default()
    };
    let (_dir, lake) = y.write().await;
    let err = score_year(&lake, YEAR).await.unwrap_err().to_string();
    assert!(
        err.contains("policy/2025.toml") && err.contains("score.indicator"),
        "{err}"
    );
}

/// `runs::score` writes the run manifest: the policy, every object read (statements, cards,
/// suspicions, assessments, the claims of the twelve months), the year's claim counts that
/// reconcile, and the outputs with their SHA-256; a failed run is recorded with its error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_score_run_writes_its_manifest() {
    use claimlake_engine::runs;
    use claimlake_lake::write::sha256_hex;

    let (_dir, lake) = sources_year().write().await;
    let run = runs::score(&lake, YEAR).await.unwrap();
    let bytes = lake
        .get(&format!("runs/{}.json", run.run_id))
        .await
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(m["kind"], "score");
    assert_eq!(m["period"], "2025");
    assert_eq!(m["status"], "succeeded");
    assert_eq!(m["policy"]["version"], 1);
    let inputs: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    for key in [
        "policy/2025.toml",
        "claims/year=2025/month=12/part-000.parquet",
        "results/statements/year=2025/month=01/data.parquet",
        "results/cards/year=2025/quarter=4/data.parquet",
        "restricted/suspicions/year=2025/quarter=1/data.parquet",
        "inputs/assessments/year=2025/part-000.parquet",
        "inputs/investigations/year=2025/part-000.parquet",
    ] {
        assert!(inputs.contains(&key), "{key} in {inputs:?}");
    }
    // 240 + 240 + 12 + 12 + 12 + 2 claims, all used.
    let claims = &m["row_counts"]["claims"];
    assert_eq!(claims["read"], 518, "{claims}");
    assert_eq!(claims["used"], 518, "{claims}");
    let outputs: Vec<&serde_json::Value> = m["outputs"].as_array().unwrap().iter().collect();
    let keys: Vec<&str> = outputs.iter().map(|o| o["key"].as_str().unwrap()).collect();
    // The score's own tables and report, plus the quarantine, ledger and validation record of
    // each month it had to validate (this lake's months were never settled, so none has a
    // record to reuse; the publishing path lists every object a run wrote).
    for key in [
        "results/scores/year=2025/data.parquet",
        "results/score_items/year=2025/data.parquet",
        "reports/scores/2025.json",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    for key in &keys {
        assert!(
            [
                "results/score",
                "reports/scores/",
                "quarantine/",
                "ledger/claims/",
                "ledger/validation/"
            ]
            .iter()
            .any(|p| key.starts_with(p)),
            "unexpected output {key}"
        );
    }
    for o in outputs {
        let key = o["key"].as_str().unwrap();
        let bytes = lake.get(key).await.unwrap();
        assert_eq!(o["sha256"].as_str().unwrap(), sha256_hex(&bytes), "{key}");
    }
    assert_eq!(o_rows(&m, "results/scores/year=2025/data.parquet"), 6);

    // A failed run (Q4's warnings missing) leaves a failed manifest with the error.
    lake.delete_prefix("results/cards/year=2025/quarter=4")
        .await
        .unwrap();
    assert!(runs::score(&lake, YEAR).await.is_err());
    let mut failed = None;
    for o in lake.list("runs").await.unwrap() {
        let m: serde_json::Value =
            serde_json::from_slice(&lake.get(&o.key).await.unwrap()).unwrap();
        if m["status"] == "failed" {
            failed = Some(m);
        }
    }
    let failed = failed.expect("a failed manifest");
    assert_eq!(failed["kind"], "score");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("warn --quarter 2025Q4")
    );
}

fn o_rows(m: &serde_json::Value, key: &str) -> u64 {
    m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == key)
        .unwrap()["rows"]
        .as_u64()
        .unwrap()
}

/// The year's claims are netted across months: a claim of March reversed in June (its exact
/// mirror) counts in no indicator, while a suspicion of another claim still does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_month_reversal_nets_the_claim_out_of_the_year() {
    let mut y = Year {
        registry: vec![Inst::hospital("H1", "tertiary")],
        score: options("0", "0", true) + RELEASES + EXAMPLE_RUBRIC,
        assessments: vec![("H1", "onsite", "80"), ("H1", "procurement", "80")],
        ..Default::default()
    };
    // Four claims of 100 (40 western, VBP 10), January to April.
    for month in 1..=4 {
        y.claims.push(claim(
            &format!("H1-{month}"),
            "H1",
            month,
            "40",
            "0",
            "60",
            "10",
        ));
    }
    // A March claim of 100 western drugs, all VBP, reversed in June by its mirror.
    let (_, cancelled) = claim("H1-x", "H1", 3, "100", "0", "0", "100");
    let mirror = cancelled.reversal("H1-x-rev", "2025-06-02 10:00:00");
    y.claims.push((3, cancelled));
    y.claims.push((6, mirror));
    y.suspicions = vec![(1, "R05", "H1-1".into(), "H1")];
    let (_dir, lake) = y.write().await;
    let o = score(&lake).await;
    let t = items(&o);
    // Netted: 4 claims, VBP 40 of drugs 160 → 0.25 (un-netted it would be 140 / 260);
    // 1 suspicious claim × 1000 / 4 = 250 (not 1000 / 5 = 200).
    assert_eq!(item(&t, "H1", "vbp_share").dec("value"), d("0.25"));
    assert_eq!(item(&t, "H1", "suspicions").dec("value"), d("250"));
    // Its own peer group: drug ratio 160/400 ÷ 160/400 = 1.
    assert_eq!(item(&t, "H1", "drug_ratio").dec("value"), d("1"));
    assert_eq!(o.row_counts["claims"].used, 6);
}

/// A year's scores stay open until the next year is scored (policy.md "Versions and
/// recomputation"): once 2026 has scores, scoring 2025 again is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_is_closed_once_the_next_year_is_scored() {
    let y = Year {
        registry: vec![Inst::clinic("C1", "other_primary")],
        score: options("0", "0", true) + RELEASES + ONSITE_ONLY,
        assessments: vec![("C1", "onsite", "80")],
        ..Default::default()
    };
    let (_dir, lake) = y.write().await;
    lake.put(
        "results/scores/year=2026/data.parquet",
        lake.get("results/statements/year=2025/month=01/data.parquet")
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let err = score_year(&lake, YEAR).await.unwrap_err().to_string();
    assert!(err.contains("the scores of 2025 are closed"), "{err}");
}

/// `recompute --year` after a policy adjustment (policy.md "Versions and recomputation"): the
/// open year's scores are replaced under the new rubric, and `reports/scores/2025.diff.json`
/// shows both versions, institution by institution. Before the year is scored there is nothing
/// to recompute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recompute_year_replaces_the_scores_with_a_diff_of_both_versions() {
    use claimlake_engine::runs::{self, Diff, RunOptions};
    let (dir, lake) = sources_year().write().await;
    let err = runs::recompute_year(&lake, YEAR, &RunOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("have not been run yet"), "{err}");

    let first = runs::score(&lake, YEAR).await.unwrap();
    check_sources(&first.outcome);
    assert!(first.diff.is_none());

    // The adjustment of `editing_the_policy_file_changes_the_scores_without_a_rebuild`, in the
    // lake's own policy file.
    let path = dir.path().join("policy/2025.toml");
    adjust_onsite_and_procurement(&path);

    let run = runs::recompute_year(&lake, YEAR, &RunOptions::default())
        .await
        .unwrap();
    let s = scores(&run.outcome);
    // H1: 20 + 12.96 + 10 + 7.50 + 30 × 0.90 + 10 × 0.80 = 85.46 (was 84.96).
    assert_eq!(inst(&s, "H1").dec("total"), d("85.46"));
    // H2: onsite 30 × 1.00, procurement still missing (0 points, weight 10 kept):
    // 0 + 20 + 6 + 0 + 30 + 0 = 56.00 (was 51.00), still fail.
    assert_eq!(inst(&s, "H2").dec("total"), d("56.00"));
    // H3: 30 × 0.70 + 10 × 0.70 = 21 + 7 = 28 = 17.50 + 10.50: 61.33 unchanged.
    assert_eq!(inst(&s, "H3").dec("total"), d("61.33"));
    // P1: (15 + 20 + 30 × 0.81 + 10 × 0.60) × 100 / 80 = 81.625 → 81.63 (was 80.31).
    assert_eq!(inst(&s, "P1").dec("total"), d("81.63"));

    let Some(Diff::Scores(diff)) = &run.diff else {
        panic!("a recomputation writes a scores diff")
    };
    assert_eq!(diff.period, "2025");
    assert_eq!(diff.old_policy.as_ref().map(|p| p.version), Some(1));
    assert_eq!(diff.new_policy.version, 2);
    let row = |id: &str| {
        diff.institutions
            .iter()
            .find(|r| r.key["institution_id"] == id)
            .unwrap_or_else(|| panic!("{id} in the diff"))
    };
    for (id, old, new, delta) in [
        ("H1", "84.96", "85.46", "0.50"),
        ("H2", "51.00", "56.00", "5.00"),
        ("P1", "80.31", "81.63", "1.32"),
    ] {
        let r = row(id);
        assert!(r.changed, "{id}");
        assert_eq!(r.old.as_ref().unwrap()["total"], old, "{id}");
        assert_eq!(r.new.as_ref().unwrap()["total"], new, "{id}");
        assert_eq!(r.delta["total"], delta, "{id}");
        // The same grade, decision and release tier: only the total moved.
        for c in ["grade", "decision", "released"] {
            assert_eq!(
                r.old.as_ref().unwrap()[c],
                r.new.as_ref().unwrap()[c],
                "{id} {c}"
            );
        }
    }
    assert!(!row("H3").changed);
    assert_eq!(row("H3").delta["total"], "0.00");
    assert_eq!(
        diff.changed_institutions,
        diff.institutions.iter().filter(|r| r.changed).count() as u64
    );
    assert_eq!(diff.changed_institutions, 3);

    // The report on disk is that diff, and the official scores are the new ones.
    let on_disk: serde_json::Value = serde_json::from_slice(
        &lake
            .get(&claimlake_lake::layout::diff_report("scores", "2025"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(on_disk["changed_institutions"], 3);
    assert_eq!(on_disk["new_policy"]["version"], 2);
    let again = score_year(&lake, YEAR).await.unwrap();
    assert_eq!(inst(&scores(&again), "P1").dec("total"), d("81.63"));
}
