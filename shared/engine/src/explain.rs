//! `explain`: one institution's official statement of a month, every figure traced to the points,
//! point values, reductions and rule that produced it (monthly-settlement.md Steps 1-10), so that
//! an administrator can answer "why was I paid this?".
//!
//! It reads only what `settle` published for the month (`results/statements`, `settlement_lines`,
//! `point_values`, `volume_price` of months 1..m, `excluded_claims`, `fund_split`, the previous
//! month's statement), the card ledger (`results/cards`), the registry and `policy/YYYY.toml` for
//! the rules' parameters. It never recomputes a result: where the published figures determine a
//! figure (a line's amount from its points and its cell's point value, a point value from its
//! budget and points, the statement's arithmetic), it re-derives it only to **check** the
//! published one and says whether it agrees ([`Explanation::checks`]).
//!
//! SQL steps under `sql/explain/`, one per section: 00 institution, 01 statement, 02 lines,
//! 03 point values, 04 volume price, 05 fund split, 06 excluded claims, 07 cards.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use claimlake_domain::cell::{Cell, CellClass};
use claimlake_domain::codes::{FeeClass, PaymentClass};
use claimlake_domain::money::{round2, round6};
use claimlake_domain::period::Month;
use claimlake_domain::policy::Policy;
use claimlake_lake::{Lake, contract, layout};
use datafusion::prelude::SessionContext;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{EngineError, Result};
use crate::session::new_session;
use crate::sql::{self, explain as steps};
use crate::tables::{Col, register};

/// The explanation of one institution's statement of one month.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The settlement month, `YYYY-MM`.
    pub month: String,
    pub institution: Institution,
    pub policy: PolicyParams,
    /// The settlement lines (Steps 4-8), cumulative from January.
    pub lines: Vec<Line>,
    /// The point values of the cells the lines draw on (Steps 5-7).
    pub cells: Vec<CellValue>,
    /// The monthly volume-price reductions of months 1..m (Step 4).
    pub volume_price: Vec<VolumePriceMonth>,
    /// The statement (Step 9), figure by figure.
    pub statement: Statement,
    /// The fund split (Step 10).
    pub fund_split: Vec<FundShare>,
    /// The month's excluded claims by reason (Step 1).
    pub excluded: Vec<ExcludedReason>,
    /// Cards acting on the month or the month before.
    pub cards: Vec<Card>,
    /// Every arithmetic check made on the published figures.
    pub checks: Vec<Check>,
    /// Remarks (policy changed since the run, a floored cell, …).
    pub notes: Vec<String>,
}

/// The institution, as the registry describes it (fields `None` when the registry does not list
/// it).
#[derive(Debug, Clone, Serialize)]
pub struct Institution {
    pub institution_id: String,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub budget_class: Option<String>,
    pub agreement_start: Option<String>,
    pub agreement_end: Option<String>,
}

/// The parameters of the rules, from `policy/YYYY.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyParams {
    pub year: i32,
    /// The version the month was settled under (from the statement).
    pub settled_version: i32,
    /// The version of the policy file now in the lake (its parameters are shown).
    pub file_version: i32,
    pub item_point_value_cap: Decimal,
    pub case_surplus_retention: Decimal,
    pub quality_guarantee_rate: Decimal,
    pub base_avg_cost: Decimal,
    pub cpi_factor: Decimal,
    pub points_per_weight: Decimal,
}

/// One settlement line with the rule that produced its amount.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub payment_class: String,
    pub budget_class: String,
    pub fee_class: String,
    /// `item`, `case`, `chemo`, `flow_in` or `flow_out`.
    pub line_kind: String,
    pub declared_points: Decimal,
    pub reduction_points: Decimal,
    pub effective_points: Decimal,
    pub actual_cost: Decimal,
    pub amount: Decimal,
    /// The outpatient budget class whose point values price the line (chemo and flow lines).
    pub value_class: Option<String>,
    /// The rule's section of monthly-settlement.md.
    pub step: String,
    /// The point value the points were multiplied by (item: PV_item; case: PV).
    pub point_value: Option<Decimal>,
    /// Case lines: `alloc = round2(points × PV)` before the surplus rule.
    pub alloc: Option<Decimal>,
    /// The amount re-derived from the published points and point value, where they determine it.
    pub derived_amount: Option<Decimal>,
    /// The arithmetic, in words and figures.
    pub derivation: String,
}

/// A cell's official point value with its budget and points.
#[derive(Debug, Clone, Serialize)]
pub struct CellValue {
    pub payment_class: String,
    pub budget_class: String,
    pub fee_class: String,
    pub cumulative_budget: Decimal,
    /// `annual` of the cell's `[[budget]]` (policy file).
    pub annual: Option<Decimal>,
    /// Σ of the cell's monthly weights of months 1..m (policy file).
    pub cumulative_weight: Option<Decimal>,
    pub chemo_deduction: Decimal,
    pub effective_points: Decimal,
    pub point_value: Option<Decimal>,
    pub item_point_value: Option<Decimal>,
    pub floored: bool,
    /// Outpatient: PV above the item point-value cap (PV_item = cap).
    pub capped: bool,
    pub derivation: String,
}

/// One month's volume-price reduction of one fee class.
#[derive(Debug, Clone, Serialize)]
pub struct VolumePriceMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub fee_class: String,
    pub adjustable_points: Decimal,
    pub doctor_days: i64,
    /// `threshold / doctor_days` (yuan per doctor-day) when there is a threshold.
    pub per_doctor_day: Option<Decimal>,
    pub threshold: Option<Decimal>,
    pub excess: Option<Decimal>,
    pub reduction: Decimal,
    pub policy_version: i32,
    pub derivation: String,
}

/// One figure of the statement with its rule.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// The statement column.
    pub name: String,
    pub value: Decimal,
    pub step: String,
    pub derivation: String,
}

/// The statement row and the previous official figures it was computed against.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub settlement_cum: Decimal,
    pub personal_burden_cum: Decimal,
    pub fund_cum: Decimal,
    pub fund_month: Decimal,
    pub vbp_accrued_cum: Decimal,
    pub vbp_accrued_month: Decimal,
    pub withheld_month: Decimal,
    pub payable_month: Decimal,
    pub on_hold: bool,
    pub held_month: Decimal,
    pub held_balance: Decimal,
    pub released_month: Decimal,
    pub paid_month: Decimal,
    pub account_month: Decimal,
    pub claims_settled_month: i64,
    pub claims_excluded_month: i64,
    pub policy_version: i32,
    /// Whether a statement row of month m-1 of the same year exists for the institution.
    pub has_previous: bool,
    pub previous_fund_cum: Decimal,
    pub previous_vbp_accrued_cum: Decimal,
    /// The held balance of the previous month (December of the previous year in January).
    pub previous_held_balance: Decimal,
    pub previous_on_hold: bool,
    /// The figures in the order of Step 9.
    pub figures: Vec<Figure>,
}

/// One share of the fund split.
#[derive(Debug, Clone, Serialize)]
pub struct FundShare {
    pub payment_class: String,
    pub insurance_type: String,
    pub fund_kind: String,
    pub amount_cum: Decimal,
    pub amount_month: Decimal,
}

/// Excluded claims of one reason.
#[derive(Debug, Clone, Serialize)]
pub struct ExcludedReason {
    pub reason: String,
    pub claims: i64,
}

/// A card of the ledger acting on the month or the month before.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub color: String,
    pub year: Option<i64>,
    pub quarter: Option<i64>,
    pub effect: String,
    pub effect_from_month: String,
    pub effect_months: i64,
    pub acts_this_month: bool,
    pub acted_previous_month: bool,
}

/// One arithmetic check of the published figures.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

impl Explanation {
    /// Whether every check passed.
    pub fn all_checks_pass(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The line of a given key, if any.
    pub fn line(
        &self,
        payment_class: &str,
        budget_class: &str,
        fee_class: &str,
        line_kind: &str,
    ) -> Option<&Line> {
        self.lines.iter().find(|l| {
            l.payment_class == payment_class
                && l.budget_class == budget_class
                && l.fee_class == fee_class
                && l.line_kind == line_kind
        })
    }

    /// The statement figure named `name` (a statement column).
    pub fn figure(&self, name: &str) -> Option<&Figure> {
        self.statement.figures.iter().find(|f| f.name == name)
    }

    /// The explanation as text for people: sections in the order of the rulebook, every figure
    /// with its rule, and the check line last.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let i = &self.institution;
        let mut who = Vec::new();
        if let Some(n) = &i.name {
            who.push(n.clone());
        }
        if let Some(k) = &i.kind {
            who.push(k.clone());
        }
        if let Some(b) = &i.budget_class {
            who.push(format!("budget class {b}"));
        }
        match (&i.agreement_start, &i.agreement_end) {
            (None, None) => {}
            (start, end) => who.push(format!(
                "agreement {}..{}",
                start.as_deref().unwrap_or("open"),
                end.as_deref().unwrap_or("open")
            )),
        }
        let _ = writeln!(
            out,
            "Statement of {}{} for {}",
            i.institution_id,
            if who.is_empty() {
                String::new()
            } else {
                format!(" ({})", who.join(", "))
            },
            self.month
        );
        let p = &self.policy;
        let _ = writeln!(
            out,
            "Policy {} version {}: item point-value cap {}, case surplus retention {}, \
             quality-guarantee rate {}.",
            p.year,
            p.settled_version,
            num(p.item_point_value_cap),
            num(p.case_surplus_retention),
            num(p.quality_guarantee_rate)
        );
        let _ = writeln!(
            out,
            "Points, budgets and amounts are cumulative from January (monthly-settlement.md); \
             the month's payment is the cumulative figure minus the previous official month's."
        );

        let _ = writeln!(out, "\n1. Settlement lines (Steps 4-8)");
        if self.lines.is_empty() {
            let _ = writeln!(out, "  (no settlement lines: nothing was settled for it)");
        }
        for l in &self.lines {
            let _ = writeln!(out, "  - {}", l.derivation);
        }

        let _ = writeln!(out, "\n2. Point values of the cells used (Steps 5-7)");
        if self.cells.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for c in &self.cells {
            let _ = writeln!(out, "  - {}", c.derivation);
        }

        let _ = writeln!(
            out,
            "\n3. Volume-price reductions, months {}-01..{} (Step 4, 量价挂钩)",
            &self.month[..4],
            self.month
        );
        if self.volume_price.is_empty() {
            let _ = writeln!(
                out,
                "  (none: no settled item-kind outpatient claims as budget institution)"
            );
        }
        for v in &self.volume_price {
            let _ = writeln!(out, "  - {}", v.derivation);
        }

        let _ = writeln!(out, "\n4. Statement (Step 9)");
        for f in &self.statement.figures {
            let _ = writeln!(
                out,
                "  - {} = {}: {} ({})",
                f.name,
                num(f.value),
                f.derivation,
                f.step
            );
        }
        let s = &self.statement;
        let excluded = if self.excluded.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                self.excluded
                    .iter()
                    .map(|e| format!("{} {}", e.reason, e.claims))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            out,
            "  - claims this month: {} settled, {} excluded{} (Step 1: not settled, valid data)",
            s.claims_settled_month, s.claims_excluded_month, excluded
        );

        let _ = writeln!(out, "\n5. Fund split (Step 10)");
        if self.fund_split.is_empty() {
            let _ = writeln!(out, "  (no fund split rows)");
        }
        for f in &self.fund_split {
            let _ = writeln!(
                out,
                "  - {}/{}/{}: {} cumulative, {} this month",
                f.payment_class,
                f.insurance_type,
                f.fund_kind,
                num(f.amount_cum),
                num(f.amount_month)
            );
        }
        let _ = writeln!(
            out,
            "    (fund_cum of each payment class split in proportion to the cumulative actual \
             payments of each fund; round2 each share, the largest absorbs the residual)"
        );

        let _ = writeln!(out, "\n6. Cards (seed 000; quarterly-warnings.md)");
        if self.cards.is_empty() {
            let _ = writeln!(
                out,
                "  (no card acts on {} or the month before: no hold, no suspension)",
                self.month
            );
        }
        for c in &self.cards {
            let _ = writeln!(out, "  - {}", card_text(c, &self.month));
        }

        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }

        let failed: Vec<&Check> = self.checks.iter().filter(|c| !c.ok).collect();
        let _ = writeln!(out, "\nChecks");
        for c in &self.checks {
            let _ = writeln!(
                out,
                "  [{}] {}: {}",
                if c.ok { "ok" } else { "FAIL" },
                c.what,
                c.detail
            );
        }
        if failed.is_empty() {
            let _ = writeln!(
                out,
                "Check: all {} checks pass: the published figures agree with their rules \
                 (Σ lines {} = settlement_cum {}; paid_month {} = payable {} − held {} + released {}).",
                self.checks.len(),
                num(self.lines.iter().map(|l| l.amount).sum()),
                num(s.settlement_cum),
                num(s.paid_month),
                num(s.payable_month),
                num(s.held_month),
                num(s.released_month)
            );
        } else {
            let _ = writeln!(
                out,
                "Check: {} of {} checks FAIL: {}",
                failed.len(),
                self.checks.len(),
                failed
                    .iter()
                    .map(|c| c.what.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        out
    }
}

fn card_text(c: &Card, month: &str) -> String {
    let when = match (c.acts_this_month, c.acted_previous_month) {
        (true, true) => format!("acts on {month} and acted on the month before"),
        (true, false) => format!("acts on {month}"),
        _ => "acted on the month before, not on this month".to_string(),
    };
    let issued = match (c.year, c.quarter) {
        (Some(y), Some(q)) => format!(" of {y}Q{q}"),
        _ => String::new(),
    };
    let effect = match c.effect.as_str() {
        "payment_hold" => "payment hold (暂停拨付: the payable is held, not paid)",
        "agreement_suspended" => {
            "agreement suspended (不予结算: its claims are excluded as agreement_suspended)"
        }
        other => other,
    };
    format!(
        "{} card{}: {} from {} for {} month(s); {}",
        c.color, issued, effect, c.effect_from_month, c.effect_months, when
    )
}

// ---------------------------------------------------------------------------------------------
// Number formatting: thousands separators, the stored scale kept.

/// `12345.6700` → `12,345.6700`; `-4252.00` → `-4,252.00`.
pub fn num(d: Decimal) -> String {
    let s = d.to_string();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::new();
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Zero at a scale (`0.00` for money, `0.0000` for points).
fn zero(scale: u32) -> Decimal {
    Decimal::new(0, scale)
}

/// The shortest exact spelling with at least 2 decimals (`102` → `102.00`).
fn at_least_2dp(d: Decimal) -> Decimal {
    let mut v = d.normalize();
    if v.scale() < 2 {
        v.rescale(2);
    }
    v
}

fn opt(d: Option<Decimal>) -> String {
    d.map(num).unwrap_or_else(|| "none".to_string())
}

// ---------------------------------------------------------------------------------------------
// Reading the published tables.

fn dec_field(name: &str, precision: u8, scale: i8) -> Field {
    Field::new(name, DataType::Decimal128(precision, scale), true)
}

fn text_field(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn statements_schema() -> SchemaRef {
    let mut fields = vec![text_field("institution_id")];
    for n in [
        "settlement_cum",
        "personal_burden_cum",
        "fund_cum",
        "fund_month",
        "vbp_accrued_cum",
        "vbp_accrued_month",
        "withheld_month",
        "payable_month",
    ] {
        fields.push(dec_field(n, 18, 2));
    }
    fields.push(Field::new("on_hold", DataType::Boolean, true));
    for n in [
        "held_month",
        "held_balance",
        "released_month",
        "paid_month",
        "account_month",
    ] {
        fields.push(dec_field(n, 18, 2));
    }
    fields.push(Field::new("claims_settled_month", DataType::Int64, true));
    fields.push(Field::new("claims_excluded_month", DataType::Int64, true));
    fields.push(Field::new("policy_year", DataType::Int32, true));
    fields.push(Field::new("policy_version", DataType::Int32, true));
    Arc::new(Schema::new(fields))
}

fn lines_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text_field("institution_id"),
        text_field("payment_class"),
        text_field("budget_class"),
        text_field("fee_class"),
        text_field("line_kind"),
        dec_field("declared_points", 20, 4),
        dec_field("reduction_points", 20, 4),
        dec_field("effective_points", 20, 4),
        dec_field("actual_cost", 18, 2),
        dec_field("amount", 18, 2),
        Field::new("policy_version", DataType::Int32, true),
    ]))
}

fn point_values_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text_field("payment_class"),
        text_field("budget_class"),
        text_field("fee_class"),
        dec_field("cumulative_budget", 18, 2),
        dec_field("chemo_deduction", 18, 2),
        dec_field("effective_points", 20, 4),
        dec_field("point_value", 20, 6),
        dec_field("item_point_value", 20, 6),
        Field::new("floored", DataType::Boolean, true),
    ]))
}

fn volume_price_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text_field("institution_id"),
        text_field("fee_class"),
        dec_field("adjustable_points", 20, 4),
        Field::new("doctor_days", DataType::Int64, true),
        dec_field("threshold", 20, 4),
        dec_field("excess", 20, 4),
        dec_field("reduction", 20, 4),
        Field::new("policy_version", DataType::Int32, true),
    ]))
}

fn excluded_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text_field("claim_id"),
        text_field("institution_id"),
        text_field("reason"),
    ]))
}

fn fund_split_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text_field("institution_id"),
        text_field("payment_class"),
        text_field("insurance_type"),
        text_field("fund_kind"),
        dec_field("amount_cum", 18, 2),
        dec_field("amount_month", 18, 2),
    ]))
}

fn cards_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        text_field("institution_id"),
        text_field("color"),
        Field::new("year", DataType::Int32, true),
        Field::new("quarter", DataType::Int32, true),
        text_field("effect"),
        text_field("effect_from_month"),
        Field::new("effect_months", DataType::Int64, true),
    ]))
}

/// One row of a collected result, read by column name whatever the physical type.
struct Row<'a> {
    batch: &'a RecordBatch,
    i: usize,
}

impl Row<'_> {
    fn col(&self, name: &str) -> Option<&Arc<dyn Array>> {
        self.batch
            .column_by_name(name)
            .filter(|c| !c.is_null(self.i))
    }

    fn text(&self, name: &str) -> Option<String> {
        let c = self.col(name)?;
        arrow::util::display::array_value_to_string(c, self.i).ok()
    }

    fn text_or_empty(&self, name: &str) -> String {
        self.text(name).unwrap_or_default()
    }

    fn dec(&self, name: &str) -> Option<Decimal> {
        let c = self.col(name)?;
        let a = c.as_primitive_opt::<arrow::datatypes::Decimal128Type>()?;
        Some(Decimal::from_i128_with_scale(
            a.value(self.i),
            a.scale() as u32,
        ))
    }

    fn dec0(&self, name: &str) -> Decimal {
        self.dec(name).unwrap_or_default()
    }

    fn int(&self, name: &str) -> Option<i64> {
        let c = self.col(name)?;
        let one = c.slice(self.i, 1);
        let cast = arrow::compute::cast(&one, &DataType::Int64).ok()?;
        let a = cast.as_primitive_opt::<Int64Type>()?;
        (!a.is_null(0)).then(|| a.value(0))
    }

    fn flag(&self, name: &str) -> bool {
        self.col(name)
            .and_then(|c| c.as_boolean_opt().map(|b| b.value(self.i)))
            .unwrap_or(false)
    }
}

fn rows(batches: &[RecordBatch]) -> impl Iterator<Item = Row<'_>> {
    batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(move |i| Row { batch: b, i }))
}

/// Partition columns `year` and `month` as the folder names spell them (`'2025'`, `'03'`).
///
/// The steps compare them with zero-padded text (`month = '03'`, `month <= '03'`). With Int32
/// partition columns DataFusion 55 turns `month = 3` into the listing prefix `month=3/`, which
/// does not exist (the folder is `month=03`), and silently returns no rows.
fn text_partitions() -> Vec<(String, DataType)> {
    vec![
        ("year".to_string(), DataType::Utf8),
        ("month".to_string(), DataType::Utf8),
    ]
}

/// Registers the result tables and the inputs the SQL steps read.
async fn register_inputs(lake: &Lake, ctx: &SessionContext, institution_id: &str) -> Result<()> {
    lake.register_in(ctx);
    register(
        ctx,
        "explain_target",
        vec![Col::Text(
            "institution_id",
            vec![Some(institution_id.to_string())],
        )],
    )?;
    for (name, folder, schema) in [
        ("r_statements", "results/statements", statements_schema()),
        (
            "r_settlement_lines",
            "results/settlement_lines",
            lines_schema(),
        ),
        (
            "r_point_values",
            "results/point_values",
            point_values_schema(),
        ),
        (
            "r_volume_price",
            "results/volume_price",
            volume_price_schema(),
        ),
        (
            "r_excluded_claims",
            "results/excluded_claims",
            excluded_schema(),
        ),
        ("r_fund_split", "results/fund_split", fund_split_schema()),
    ] {
        lake.register_table(ctx, name, folder, schema, text_partitions())
            .await?;
    }
    // The card ledger files carry `year` and `quarter` as columns (no partition columns here).
    lake.register_table(ctx, "r_cards", "results/cards", cards_schema(), vec![])
        .await?;
    lake.register_table(
        ctx,
        "r_institutions",
        layout::INSTITUTIONS,
        contract::institutions(),
        vec![],
    )
    .await?;
    Ok(())
}

fn params(m: Month) -> Vec<(&'static str, String)> {
    let prev = m.prev();
    vec![
        ("year", m.year.to_string()),
        ("month", m.month.to_string()),
        ("mm", format!("{:02}", m.month)),
        ("prev_year", prev.year.to_string()),
        ("prev_month", prev.month.to_string()),
        ("prev_mm", format!("{:02}", prev.month)),
        // The month before in the same year; "00" (no such partition) in January.
        ("before_mm", format!("{:02}", m.month - 1)),
        (
            "month_index",
            (m.year as i64 * 12 + m.month as i64 - 1).to_string(),
        ),
    ]
}

async fn load_policy(lake: &Lake, year: i32) -> Result<Policy> {
    let key = layout::policy(year);
    let bytes = lake.get_opt(&key).await?.ok_or_else(|| {
        EngineError::Precondition(format!(
            "no policy file {key} in {}: the rules' parameters are unknown",
            lake.root()
        ))
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| EngineError::Precondition(format!("{key}: not UTF-8 text: {e}")))?;
    Policy::from_toml_str(text, Some(year))
        .map_err(|e| EngineError::Precondition(format!("{key}: {e}")))
}

/// Explains the official statement of `institution_id` in month `m`.
///
/// Errors: the month is not settled (no `results/statements` partition, or one of its result
/// tables is missing), the institution has no statement row that month, or the policy file of
/// the year is missing or invalid.
pub async fn explain(lake: &Lake, m: Month, institution_id: &str) -> Result<Explanation> {
    let institution_id = institution_id.trim();
    if institution_id.is_empty() {
        return Err(EngineError::Precondition(
            "no institution given: pass an institution_id such as H0007".to_string(),
        ));
    }
    let statements_key = layout::monthly_result("statements", m);
    if !lake.exists(&statements_key).await? {
        return Err(EngineError::Precondition(format!(
            "{m} is not settled in {}: {statements_key} does not exist \
             (run `claimlake settle --month {m}`, or `claimlake settle --through {m}`)",
            lake.root()
        )));
    }
    for table in [
        "settlement_lines",
        "point_values",
        "volume_price",
        "fund_split",
        "excluded_claims",
    ] {
        let key = layout::monthly_result(table, m);
        if !lake.exists(&key).await? {
            return Err(EngineError::Precondition(format!(
                "the results of {m} in {} are incomplete: {key} does not exist \
                 (settle {m} again)",
                lake.root()
            )));
        }
    }
    let policy = load_policy(lake, m.year).await?;

    let ctx = new_session(Some(1));
    register_inputs(lake, &ctx, institution_id).await?;
    let p = params(m);

    let inst = sql::materialize(&ctx, "explain_institution", steps::INSTITUTION, &p).await?;
    let statement = sql::collect(&ctx, steps::STATEMENT, &p).await?;
    let Some(srow) = rows(&statement).next() else {
        let known = rows(&inst).next().is_some();
        let count = ctx
            .sql(&format!(
                "SELECT COUNT(*) AS n FROM r_statements WHERE year = '{}' AND month = '{:02}'",
                m.year, m.month
            ))
            .await?
            .collect()
            .await?;
        let n = rows(&count).next().and_then(|r| r.int("n")).unwrap_or(0);
        return Err(EngineError::Precondition(if known {
            format!(
                "institution {institution_id} has no statement in {m}: it had no valid claim, \
                 no settlement line and no carried held balance in {} through {m} \
                 ({n} institutions have one)",
                m.year
            )
        } else {
            format!(
                "institution {institution_id} has no statement in {m} and is not in the \
                 institution registry ({n} institutions have a statement that month)"
            )
        }));
    };
    let lines_b = sql::materialize(&ctx, "explain_lines", steps::LINES, &p).await?;
    let cells_b = sql::collect(&ctx, steps::POINT_VALUES, &p).await?;
    let vp_b = sql::collect(&ctx, steps::VOLUME_PRICE, &p).await?;
    let fund_b = sql::collect(&ctx, steps::FUND_SPLIT, &p).await?;
    let excl_b = sql::collect(&ctx, steps::EXCLUDED_CLAIMS, &p).await?;
    let cards_b = sql::collect(&ctx, steps::CARDS, &p).await?;

    let institution = match rows(&inst).next() {
        Some(r) => Institution {
            institution_id: institution_id.to_string(),
            name: r.text("name"),
            kind: r.text("kind"),
            budget_class: r.text("budget_class"),
            agreement_start: r.text("agreement_start"),
            agreement_end: r.text("agreement_end"),
        },
        None => Institution {
            institution_id: institution_id.to_string(),
            name: None,
            kind: None,
            budget_class: None,
            agreement_start: None,
            agreement_end: None,
        },
    };

    let settled_version = srow.int("policy_version").unwrap_or(0) as i32;
    let s = &policy.settlement;
    let conv = &s.inpatient_item_conversion;
    let params_used = PolicyParams {
        year: m.year,
        settled_version,
        file_version: policy.policy.version,
        item_point_value_cap: s.item_point_value_cap,
        case_surplus_retention: s.case_surplus_retention,
        quality_guarantee_rate: s.quality_guarantee_rate,
        base_avg_cost: conv.base_avg_cost,
        cpi_factor: conv.cpi_factor,
        points_per_weight: conv.points_per_weight,
    };
    let mut b = Builder {
        m,
        institution_id,
        policy: &policy,
        params: params_used,
        checks: Vec::new(),
        notes: Vec::new(),
    };
    if settled_version != policy.policy.version {
        b.notes.push(format!(
            "policy/{}.toml is now version {} but {m} was settled under version {}: the \
             parameters shown are those of the current file; settle {m} again to apply it",
            m.year, policy.policy.version, settled_version
        ));
    }

    let cells = b.cells(&cells_b);
    let volume_price = b.volume_price(&vp_b);
    let lines = b.lines(&lines_b, &cells, &volume_price);
    let fund_split: Vec<FundShare> = rows(&fund_b)
        .map(|r| FundShare {
            payment_class: r.text_or_empty("payment_class"),
            insurance_type: r.text_or_empty("insurance_type"),
            fund_kind: r.text_or_empty("fund_kind"),
            amount_cum: r.dec0("amount_cum"),
            amount_month: r.dec0("amount_month"),
        })
        .collect();
    let excluded: Vec<ExcludedReason> = rows(&excl_b)
        .map(|r| ExcludedReason {
            reason: r.text_or_empty("reason"),
            claims: r.int("claims").unwrap_or(0),
        })
        .collect();
    let cards: Vec<Card> = rows(&cards_b)
        .map(|r| Card {
            color: r.text_or_empty("color"),
            year: r.int("year"),
            quarter: r.int("quarter"),
            effect: r.text_or_empty("effect"),
            effect_from_month: r.text_or_empty("effect_from_month"),
            effect_months: r.int("effect_months").unwrap_or(0),
            acts_this_month: r.flag("acts_this_month"),
            acted_previous_month: r.flag("acted_prev_month"),
        })
        .collect();
    let statement = b.statement(&srow, &lines, &cells, &cards);
    b.statement_checks(&statement, &lines, &fund_split, &excluded);
    let hold_card = cards
        .iter()
        .any(|c| c.effect == "payment_hold" && c.acts_this_month);
    b.check(
        "on_hold agrees with the card ledger (a payment_hold card acting on the month)",
        hold_card == statement.on_hold,
        format!(
            "statement on_hold {}, payment_hold card acting on {m}: {}",
            statement.on_hold,
            if hold_card { "yes" } else { "no" }
        ),
    );

    Ok(Explanation {
        month: m.to_string(),
        institution,
        policy: b.params,
        lines,
        cells,
        volume_price,
        statement,
        fund_split,
        excluded,
        cards,
        checks: b.checks,
        notes: b.notes,
    })
}

/// Assembles the sections and records the checks.
struct Builder<'a> {
    m: Month,
    institution_id: &'a str,
    policy: &'a Policy,
    params: PolicyParams,
    checks: Vec<Check>,
    notes: Vec<String>,
}

fn cell_key(p: &str, b: &str, f: &str) -> String {
    format!("{p}/{b}/{f}")
}

impl Builder<'_> {
    fn check(&mut self, what: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            what: what.into(),
            ok,
            detail: detail.into(),
        });
    }

    fn check_eq(&mut self, what: impl Into<String>, published: Decimal, derived: Decimal) {
        let ok = published == derived;
        let detail = if ok {
            format!("published {} = derived {}", num(published), num(derived))
        } else {
            format!(
                "published {} ≠ derived {} (difference {})",
                num(published),
                num(derived),
                num(published - derived)
            )
        };
        self.check(what, ok, detail);
    }

    fn policy_cell(&self, p: &str, b: &str, f: &str) -> Option<Cell> {
        Some(Cell {
            payment_class: p.parse::<PaymentClass>().ok()?,
            budget_class: b.parse::<CellClass>().ok()?,
            fee_class: f.parse::<FeeClass>().ok()?,
        })
    }

    fn cells(&mut self, batches: &[RecordBatch]) -> Vec<CellValue> {
        let cap = self.params.item_point_value_cap;
        let same_version = self.params.settled_version == self.params.file_version;
        let mut out = Vec::new();
        for r in rows(batches) {
            let payment_class = r.text_or_empty("payment_class");
            let budget_class = r.text_or_empty("budget_class");
            let fee_class = r.text_or_empty("fee_class");
            let key = cell_key(&payment_class, &budget_class, &fee_class);
            let cb = r.dec0("cumulative_budget");
            let chemo = r.dec0("chemo_deduction");
            let ep = r.dec0("effective_points");
            let pv = r.dec("point_value");
            let pv_item = r.dec("item_point_value");
            let floored = r.flag("floored");
            let cell = self.policy_cell(&payment_class, &budget_class, &fee_class);
            let budget = cell.and_then(|c| self.policy.budget_for_cell(&c).cloned());
            let annual = budget.as_ref().map(|b| b.annual);
            let weight = match (&cell, &budget) {
                (Some(c), Some(_)) => Some(self.policy.cumulative_weight(c, self.m.month)),
                _ => None,
            };
            let cb_text = match (annual, weight) {
                (Some(a), Some(w)) => format!(
                    "CB {} = round2(annual {} × Σ monthly weights {} of months 1..{})",
                    num(cb),
                    num(a),
                    w.normalize(),
                    self.m.month
                ),
                _ => format!("CB {} (no [[budget]] entry in the policy file)", num(cb)),
            };
            if same_version && let (Some(a), Some(w)) = (annual, weight) {
                self.check_eq(
                    format!("{key}: CB = round2(annual × Σ weights) (Step 5)"),
                    cb,
                    round2(a * w),
                );
            }
            let inpatient = payment_class == "inpatient";
            let budget_for_pv = if inpatient {
                (cb - chemo).max(zero(2))
            } else {
                cb
            };
            let capped = !inpatient && pv.is_some_and(|v| v > cap);
            let derivation = if inpatient {
                let cbp = if floored {
                    format!(
                        "CB' = max(0, CB − chemo deduction {}) = 0.00 (floored: chemo exceeds the budget)",
                        num(chemo)
                    )
                } else {
                    format!(
                        "CB' = CB − chemo deduction {} = {}",
                        num(chemo),
                        num(budget_for_pv)
                    )
                };
                let pvt = match pv {
                    Some(v) => format!(
                        "PV = round6(CB' {} / EP {}) = {} (no cap: inpatient points are DRG-comparable)",
                        num(budget_for_pv),
                        num(ep),
                        num(v)
                    ),
                    None => "EP = 0: no point value".to_string(),
                };
                format!(
                    "{key}: {cb_text} (Step 5); {cbp}; EP {} = Σ inpatient points of all \
                     institutions in the cell; {pvt} (Step 7)",
                    num(ep)
                )
            } else {
                let pvt = match (pv, pv_item) {
                    (Some(v), Some(vi)) => format!(
                        "PV = round6(CB {} / EP {}) = {}; PV_item = min(PV, cap {}) = {}{}",
                        num(cb),
                        num(ep),
                        num(v),
                        num(cap),
                        num(vi),
                        if capped {
                            " (capped: item points are paid at most the standard value)"
                        } else {
                            " (at or below the cap)"
                        }
                    ),
                    _ => "EP = 0: no point value, no amounts".to_string(),
                };
                format!(
                    "{key}: {cb_text} (Step 5); EP {} = Σ effective points of all institutions \
                     in the cell (item + case, chemo excluded); {pvt} (Step 6)",
                    num(ep)
                )
            };
            match pv {
                Some(v) if !ep.is_zero() => {
                    self.check_eq(
                        format!(
                            "{key}: PV = round6({} / EP) (Step {})",
                            if inpatient { "CB'" } else { "CB" },
                            if inpatient { 7 } else { 6 }
                        ),
                        v,
                        round6(budget_for_pv / ep),
                    );
                    if !inpatient && let Some(vi) = pv_item {
                        self.check_eq(
                            format!("{key}: PV_item = min(PV, cap) (Step 6)"),
                            vi,
                            round6(v.min(cap)),
                        );
                    }
                }
                None => self.check(
                    format!("{key}: no point value only when EP = 0"),
                    ep.is_zero(),
                    format!("EP {}", num(ep)),
                ),
                Some(v) => self.check(
                    format!("{key}: no point value only when EP = 0"),
                    false,
                    format!("PV {} with EP 0", num(v)),
                ),
            }
            if floored {
                self.notes.push(format!(
                    "cell {key}: the chemo deduction {} exceeds the cumulative budget {}; CB' is \
                     floored at 0, so its points are worth 0",
                    num(chemo),
                    num(cb)
                ));
            }
            if annual.is_some_and(|a| a.is_zero()) {
                self.notes.push(format!(
                    "cell {key} has annual = 0 in the policy (no budget on purpose)"
                ));
            }
            out.push(CellValue {
                payment_class,
                budget_class,
                fee_class,
                cumulative_budget: cb,
                annual,
                cumulative_weight: weight,
                chemo_deduction: chemo,
                effective_points: ep,
                point_value: pv,
                item_point_value: pv_item,
                floored,
                capped,
                derivation,
            });
        }
        out
    }

    fn volume_price(&mut self, batches: &[RecordBatch]) -> Vec<VolumePriceMonth> {
        let vp = &self.policy.volume_price;
        let mut out = Vec::new();
        let mut checks = Vec::new();
        for r in rows(batches) {
            let month = r.int("month").unwrap_or(0);
            let fee_class = r.text_or_empty("fee_class");
            let a = r.dec0("adjustable_points");
            let d = r.int("doctor_days").unwrap_or(0);
            let t = r.dec("threshold");
            let e = r.dec("excess");
            let red = r.dec0("reduction");
            let version = r.int("policy_version").unwrap_or(0) as i32;
            let label = format!("{}-{month:02} {fee_class}", self.m.year);
            let per_day = t
                .filter(|_| d > 0)
                .map(|t| at_least_2dp(t / Decimal::from(d)));
            let source = if vp.overrides.iter().any(|o| {
                o.institution_id == self.institution_id && o.fee_class.as_str() == fee_class
            }) {
                " (its own threshold, [[volume_price.override]])"
            } else {
                " (the per-doctor-day threshold of its class)"
            };
            let derivation = match (t, e) {
                (Some(t), Some(e)) => {
                    let mut parts = Vec::new();
                    for tier in &vp.tiers {
                        let lower = tier.over_ratio_from * t;
                        let top = tier.over_ratio_to.map_or(e, |to| e.min(to * t));
                        if top > lower {
                            parts.push(format!(
                                "{} × (1 − {})",
                                num((top - lower).round_dp(4)),
                                num(tier.coefficient)
                            ));
                        }
                    }
                    let (_, derived) = vp.reduction(a, t);
                    if version == self.params.file_version {
                        checks.push((
                            format!("{label}: reduction = round4(Σ tier parts × (1 − coefficient)) (Step 4)"),
                            red,
                            derived,
                        ));
                    }
                    checks.push((
                        format!("{label}: excess = max(0, A − T) (Step 4)"),
                        e,
                        (a - t).max(zero(4)),
                    ));
                    format!(
                        "{label}: adjustable points A {} over {d} doctor-days; threshold T = \
                         {}{source} × {d} = {}; excess E = max(0, A − T) = {}; reduction = \
                         round4({}) = {}",
                        num(a),
                        per_day.map(num).unwrap_or_else(|| "?".into()),
                        num(t),
                        num(e),
                        if parts.is_empty() {
                            "0".to_string()
                        } else {
                            parts.join(" + ")
                        },
                        num(red)
                    )
                }
                _ => {
                    checks.push((
                        format!("{label}: no threshold → no reduction (Step 4)"),
                        red,
                        zero(4),
                    ));
                    format!(
                        "{label}: adjustable points A {} over {d} doctor-days; {} → no reduction",
                        num(a),
                        if d == 0 {
                            "no doctor-days (D = 0)"
                        } else {
                            "no threshold configured for it"
                        }
                    )
                }
            };
            out.push(VolumePriceMonth {
                month: format!("{}-{month:02}", self.m.year),
                fee_class,
                adjustable_points: a,
                doctor_days: d,
                per_doctor_day: per_day,
                threshold: t,
                excess: e,
                reduction: red,
                policy_version: version,
                derivation,
            });
        }
        for (what, published, derived) in checks {
            self.check_eq(what, published, derived);
        }
        let stale: Vec<String> = out
            .iter()
            .filter(|v| v.policy_version != self.params.settled_version)
            .map(|v| format!("{} {}", v.month, v.fee_class))
            .collect();
        if !stale.is_empty() {
            self.notes.push(format!(
                "volume-price rows {} were published under another policy version than {}: \
                 settle recomputed them under version {}, so their sum may differ from the \
                 lines' reduction",
                stale.join(", "),
                self.m,
                self.params.settled_version
            ));
        }
        out
    }

    fn lines(
        &mut self,
        batches: &[RecordBatch],
        cells: &[CellValue],
        vp: &[VolumePriceMonth],
    ) -> Vec<Line> {
        let by_key: BTreeMap<String, &CellValue> = cells
            .iter()
            .map(|c| (cell_key(&c.payment_class, &c.budget_class, &c.fee_class), c))
            .collect();
        let retention = self.params.case_surplus_retention;
        let mut out = Vec::new();
        for r in rows(batches) {
            let payment_class = r.text_or_empty("payment_class");
            let budget_class = r.text_or_empty("budget_class");
            let fee_class = r.text_or_empty("fee_class");
            let kind = r.text_or_empty("line_kind");
            let value_class = r.text("value_class");
            let declared = r.dec0("declared_points");
            let reduction = r.dec0("reduction_points");
            let effective = r.dec0("effective_points");
            let actual = r.dec0("actual_cost");
            let amount = r.dec0("amount");
            let key = cell_key(&payment_class, &budget_class, &fee_class);
            let name = format!("{kind} line {key}");
            let own = by_key.get(&key).copied();
            let outpatient_pvs = |f: &str| {
                value_class
                    .as_ref()
                    .and_then(|v| by_key.get(&cell_key("outpatient", v, f)).copied())
            };

            self.check_eq(
                format!("{name}: effective = declared − reduction"),
                effective,
                declared - reduction,
            );

            let mut point_value = None;
            let mut alloc = None;
            let mut derived = None;
            let (step, derivation) = match (payment_class.as_str(), kind.as_str()) {
                ("outpatient", "item") | ("inpatient", "item") => {
                    let outpatient = payment_class == "outpatient";
                    let pv = own.and_then(|c| {
                        if outpatient {
                            c.item_point_value
                        } else {
                            c.point_value
                        }
                    });
                    point_value = pv;
                    let points = if outpatient {
                        self.outpatient_points_text(effective, declared, reduction, &fee_class, vp)
                    } else {
                        format!(
                            "converted points {} (Step 3: per item-paid claim round4(total / \
                             (base_avg_cost {} × cpi_factor {}) × {}); no volume-price reduction)",
                            num(effective),
                            num(self.params.base_avg_cost),
                            num(self.params.cpi_factor),
                            num(self.params.points_per_weight)
                        )
                    };
                    let (pv_name, step) = if outpatient {
                        ("item point value", "Step 6")
                    } else {
                        ("point value", "Step 7")
                    };
                    let valued = match pv {
                        Some(v) => {
                            let d = round2(effective * v);
                            derived = Some(d);
                            format!(
                                "amount = round2({} × {pv_name} {}) = {} ({step}: {})",
                                num(effective),
                                num(v),
                                num(amount),
                                own.map(|c| cell_summary(c, self.params.item_point_value_cap))
                                    .unwrap_or_default()
                            )
                        }
                        None => {
                            derived = Some(zero(2));
                            format!(
                                "amount {}: the cell has no point value (EP = 0) ({step})",
                                num(amount)
                            )
                        }
                    };
                    (step, format!("{name}: {points}; {valued}"))
                }
                ("outpatient", "case") | ("inpatient", "case") => {
                    let outpatient = payment_class == "outpatient";
                    let step = if outpatient { "Step 6" } else { "Step 7" };
                    let points = if outpatient {
                        format!(
                            "case points {} (the case_points split into drug and other, Step 3; \
                             case points are exempt from volume-price reduction)",
                            num(effective)
                        )
                    } else {
                        format!("DRG case points {} (Step 3)", num(effective))
                    };
                    let cost_of = if outpatient {
                        format!("the {fee_class} cost of its outpatient case claims")
                    } else {
                        "Σ total_amount of its inpatient case claims".to_string()
                    };
                    let pv = own.and_then(|c| c.point_value);
                    point_value = pv;
                    let valued = match pv {
                        Some(v) => {
                            let a = round2(effective * v);
                            alloc = Some(a);
                            let d = surplus(a, actual, retention);
                            derived = Some(d);
                            let rule = if a <= actual {
                                format!(
                                    "alloc ≤ actual cost {} ({cost_of}) → amount = alloc = {}",
                                    num(actual),
                                    num(amount)
                                )
                            } else {
                                format!(
                                    "alloc > actual cost {} ({cost_of}) → amount = actual + \
                                     round2(surplus retention {} × (alloc − actual) {}) = {}",
                                    num(actual),
                                    num(retention),
                                    num(a - actual),
                                    num(amount)
                                )
                            };
                            format!(
                                "alloc = round2({} × point value {}) = {}; {rule} ({step}, case \
                                 surplus rule; {})",
                                num(effective),
                                num(v),
                                num(a),
                                own.map(|c| cell_summary(c, self.params.item_point_value_cap))
                                    .unwrap_or_default()
                            )
                        }
                        None => {
                            derived = Some(zero(2));
                            format!(
                                "amount {}: the cell has no point value (EP = 0) ({step})",
                                num(amount)
                            )
                        }
                    };
                    (step, format!("{name}: {points}; {valued}"))
                }
                (_, "chemo") => {
                    let pvs = ["drug", "other"]
                        .iter()
                        .map(|f| match outpatient_pvs(f) {
                            Some(c) => format!(
                                "{f} PV_item {} / PV {}",
                                opt(c.item_point_value),
                                opt(c.point_value)
                            ),
                            None => format!("{f}: no point value"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    (
                        "Step 6",
                        format!(
                            "{name}: declared chemo points {} of its special-outpatient claims of \
                             the inpatient-budget diseases ({}; no volume-price reduction), valued \
                             at the outpatient point values of class {} ({pvs}): item claims at \
                             PV_item, case claims at PV with the surplus rule, rounded per fee \
                             class and pay method → amount {} (Step 6, chemo); paid from the \
                             inpatient cell {key}, whose budget it reduces before its point value \
                             is set (Step 7)",
                            num(declared),
                            self.policy.settlement.inpatient_budget_diseases.join(", "),
                            value_class.as_deref().unwrap_or("?"),
                            num(amount)
                        ),
                    )
                }
                (_, "flow_in") | (_, "flow_out") => {
                    let pvs = ["drug", "other"]
                        .iter()
                        .map(|f| match outpatient_pvs(f) {
                            Some(c) => format!("{f} {}", opt(c.item_point_value)),
                            None => format!("{f} none"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let bound = amount.abs() <= actual.abs();
                    self.check(
                        format!("{name}: |amount| ≤ |actual cost| (Step 8 cap)"),
                        bound,
                        format!("|{}| ≤ |{}|", num(amount), num(actual)),
                    );
                    let text = if kind == "flow_in" {
                        format!(
                            "{name}: {} points of prescriptions of {budget_class} prescribers \
                             filled here (actual cost {}); amount {} = Σ per prescriber \
                             min(Σ_f round2(points_f × PV_item({budget_class}, f)), actual) with \
                             PV_item {pvs} (Step 8, 处方流转: paid at the prescriber's item point \
                             values, never more than the actual cost)",
                            num(declared),
                            num(actual),
                            num(amount)
                        )
                    } else {
                        format!(
                            "{name}: {} points of its prescriptions filled at pharmacies (actual \
                             cost {}); they count in its item lines above (Steps 4 and 6) but the \
                             pharmacies are paid for them, so amount {} = −Σ per pharmacy \
                             min(Σ_f round2(points_f × PV_item({budget_class}, f)), actual) with \
                             PV_item {pvs} (Step 8)",
                            num(declared),
                            num(actual),
                            num(amount)
                        )
                    };
                    ("Step 8", text)
                }
                _ => (
                    "",
                    format!(
                        "{name}: points {}, amount {} (unknown line kind)",
                        num(effective),
                        num(amount)
                    ),
                ),
            };
            if let Some(d) = derived {
                self.check_eq(format!("{name}: amount ({step})"), amount, d);
            }
            out.push(Line {
                payment_class,
                budget_class,
                fee_class,
                line_kind: kind,
                declared_points: declared,
                reduction_points: reduction,
                effective_points: effective,
                actual_cost: actual,
                amount,
                value_class,
                step: step.to_string(),
                point_value,
                alloc,
                derived_amount: derived,
                derivation,
            });
        }
        // The item lines' reduction is the sum of the months' published reductions.
        for fee in ["drug", "other"] {
            let months: Vec<&VolumePriceMonth> = vp.iter().filter(|v| v.fee_class == fee).collect();
            let sum: Decimal = months.iter().map(|v| v.reduction).sum();
            let line_red: Decimal = out
                .iter()
                .filter(|l| {
                    l.payment_class == "outpatient" && l.line_kind == "item" && l.fee_class == fee
                })
                .map(|l| l.reduction_points)
                .sum();
            if !months.is_empty() || !line_red.is_zero() {
                self.check_eq(
                    format!(
                        "outpatient {fee} item reduction = Σ monthly volume-price reductions of \
                         months 1..{} (Step 4)",
                        self.m.month
                    ),
                    line_red,
                    sum,
                );
            }
        }
        out
    }

    fn outpatient_points_text(
        &self,
        effective: Decimal,
        declared: Decimal,
        reduction: Decimal,
        fee: &str,
        vp: &[VolumePriceMonth],
    ) -> String {
        if reduction.is_zero() {
            return format!(
                "effective points {} = declared {} (no volume-price reduction)",
                num(effective),
                num(declared)
            );
        }
        let months: Vec<String> = vp
            .iter()
            .filter(|v| v.fee_class == fee && !v.reduction.is_zero())
            .map(|v| format!("{} {}", v.month, num(v.reduction)))
            .collect();
        format!(
            "effective points {} = declared {} − volume-price reduction {} (Step 4: Σ of the \
             months' reductions{})",
            num(effective),
            num(declared),
            num(reduction),
            if months.is_empty() {
                String::new()
            } else {
                format!(", {}", months.join(" + "))
            }
        )
    }

    fn statement(
        &mut self,
        r: &Row<'_>,
        lines: &[Line],
        cells: &[CellValue],
        cards: &[Card],
    ) -> Statement {
        let m = self.m;
        let prev = m.prev();
        let st = Statement {
            settlement_cum: r.dec0("settlement_cum"),
            personal_burden_cum: r.dec0("personal_burden_cum"),
            fund_cum: r.dec0("fund_cum"),
            fund_month: r.dec0("fund_month"),
            vbp_accrued_cum: r.dec0("vbp_accrued_cum"),
            vbp_accrued_month: r.dec0("vbp_accrued_month"),
            withheld_month: r.dec0("withheld_month"),
            payable_month: r.dec0("payable_month"),
            on_hold: r.flag("on_hold"),
            held_month: r.dec0("held_month"),
            held_balance: r.dec0("held_balance"),
            released_month: r.dec0("released_month"),
            paid_month: r.dec0("paid_month"),
            account_month: r.dec0("account_month"),
            claims_settled_month: r.int("claims_settled_month").unwrap_or(0),
            claims_excluded_month: r.int("claims_excluded_month").unwrap_or(0),
            policy_version: r.int("policy_version").unwrap_or(0) as i32,
            has_previous: r.flag("has_prev"),
            previous_fund_cum: r.dec0("prev_fund_cum"),
            previous_vbp_accrued_cum: r.dec0("prev_vbp_accrued_cum"),
            previous_held_balance: r.dec0("carry_held_balance"),
            previous_on_hold: r.flag("carry_on_hold"),
            figures: Vec::new(),
        };
        let mut figures = Vec::new();
        let mut fig = |name: &str, value: Decimal, step: &str, derivation: String| {
            figures.push(Figure {
                name: name.to_string(),
                value,
                step: step.to_string(),
                derivation,
            })
        };
        let terms = if lines.is_empty() {
            "no lines".to_string()
        } else {
            lines
                .iter()
                .map(|l| num(l.amount))
                .collect::<Vec<_>>()
                .join(" + ")
                .replace("+ -", "− ")
        };
        fig(
            "settlement_cum",
            st.settlement_cum,
            "Step 9",
            format!("Σ of its {} lines = {terms}", lines.len()),
        );
        fig(
            "personal_burden_cum",
            st.personal_burden_cum,
            "Step 9",
            format!(
                "Σ account_paid + cash_paid of its settled claims, January..{m} (the patients' \
                 share, not paid by the fund)"
            ),
        );
        fig(
            "fund_cum",
            st.fund_cum,
            "Step 9, 001 art 26(1)",
            format!(
                "settlement_cum {} − personal_burden_cum {}",
                num(st.settlement_cum),
                num(st.personal_burden_cum)
            ),
        );
        let prev_text = if m.month == 1 {
            "January: no previous month of the year, so 0".to_string()
        } else if st.has_previous {
            format!("the official statement of {prev}")
        } else {
            format!("no statement row in {prev}, so 0")
        };
        fig(
            "fund_month",
            st.fund_month,
            "Step 9",
            format!(
                "fund_cum {} − previous fund_cum {} ({prev_text})",
                num(st.fund_cum),
                num(st.previous_fund_cum)
            ),
        );
        let drug_pv = lines
            .iter()
            .find_map(|l| {
                (l.payment_class == "outpatient" && l.line_kind == "item").then(|| {
                    cells.iter().find(|c| {
                        c.payment_class == "outpatient"
                            && c.budget_class == l.budget_class
                            && c.fee_class == "drug"
                    })
                })
            })
            .flatten()
            .and_then(|c| c.item_point_value);
        fig(
            "vbp_accrued_cum",
            st.vbp_accrued_cum,
            "Step 9, 001 art 27 (集采 只记账不支付)",
            format!(
                "Σ over its outpatient cells round2(bonus points B × PV_item{}), B = Σ max(0, \
                 vbp_points − vbp_amount) of its own item-kind outpatient claims: accrued, not \
                 paid monthly",
                drug_pv
                    .map(|v| format!(" of its drug cell {}", num(v)))
                    .unwrap_or_default()
            ),
        );
        fig(
            "vbp_accrued_month",
            st.vbp_accrued_month,
            "Step 9",
            format!(
                "vbp_accrued_cum {} − previous {}",
                num(st.vbp_accrued_cum),
                num(st.previous_vbp_accrued_cum)
            ),
        );
        let rate = self.params.quality_guarantee_rate;
        let base = st.fund_month - st.vbp_accrued_month;
        fig(
            "withheld_month",
            st.withheld_month,
            "Step 9, 003 art 5 (quality guarantee)",
            format!(
                "round2(max(0, fund_month {} − vbp_accrued_month {}) × rate {}) = round2({} × {})",
                num(st.fund_month),
                num(st.vbp_accrued_month),
                num(rate),
                num(base.max(zero(2))),
                num(rate)
            ),
        );
        fig(
            "payable_month",
            st.payable_month,
            "Step 9",
            format!(
                "fund_month {} − vbp_accrued_month {} − withheld_month {}",
                num(st.fund_month),
                num(st.vbp_accrued_month),
                num(st.withheld_month)
            ),
        );
        let hold_card = cards
            .iter()
            .find(|c| c.effect == "payment_hold" && c.acts_this_month);
        let hold_text = match (st.on_hold, hold_card) {
            (true, Some(c)) => format!(
                "under a yellow-card payment hold in {m} ({} card from {} for {} month(s)): the \
                 payable is held (also when negative) and nothing is paid; withholding still \
                 applies",
                c.color, c.effect_from_month, c.effect_months
            ),
            (true, None) => format!(
                "on hold in {m} (no acting card found in the card ledger now): the payable is held"
            ),
            (false, _) => format!("no payment hold in {m}: nothing held"),
        };
        fig(
            "held_month",
            st.held_month,
            "Step 9, seed 000 (暂停拨付)",
            hold_text,
        );
        let release_text = if st.on_hold {
            "still on hold: nothing released".to_string()
        } else if st.previous_held_balance.is_zero() {
            format!("no held balance at the end of {prev}: nothing to release")
        } else {
            format!(
                "first month without hold: releases the held balance {} of {prev}",
                num(st.previous_held_balance)
            )
        };
        fig("released_month", st.released_month, "Step 9", release_text);
        fig(
            "held_balance",
            st.held_balance,
            "Step 9",
            format!(
                "previous held balance {} + held_month {} − released_month {} (carries forward, \
                 across the year end too)",
                num(st.previous_held_balance),
                num(st.held_month),
                num(st.released_month)
            ),
        );
        fig(
            "paid_month",
            st.paid_month,
            "Step 9",
            format!(
                "payable_month {} − held_month {} + released_month {}: the transfer of {m}",
                num(st.payable_month),
                num(st.held_month),
                num(st.released_month)
            ),
        );
        fig(
            "account_month",
            st.account_month,
            "Step 9, 001 art 25 (informative)",
            format!(
                "Σ account_paid of {m}'s settled and account-only claims (personal accounts are \
                 settled as paid, outside the point method)"
            ),
        );
        Statement { figures, ..st }
    }

    fn statement_checks(
        &mut self,
        st: &Statement,
        lines: &[Line],
        fund_split: &[FundShare],
        excluded: &[ExcludedReason],
    ) {
        self.check_eq(
            "Σ lines = settlement_cum (Step 9)",
            st.settlement_cum,
            lines.iter().map(|l| l.amount).sum(),
        );
        let rate = self.params.quality_guarantee_rate;
        let same_version = self.params.settled_version == self.params.file_version;
        self.check_eq(
            "fund_cum = settlement_cum − personal_burden_cum",
            st.fund_cum,
            st.settlement_cum - st.personal_burden_cum,
        );
        self.check_eq(
            "fund_month = fund_cum − previous fund_cum",
            st.fund_month,
            st.fund_cum - st.previous_fund_cum,
        );
        self.check_eq(
            "vbp_accrued_month = vbp_accrued_cum − previous",
            st.vbp_accrued_month,
            st.vbp_accrued_cum - st.previous_vbp_accrued_cum,
        );
        if same_version {
            self.check_eq(
                "withheld_month = round2(max(0, fund_month − vbp_accrued_month) × rate)",
                st.withheld_month,
                round2((st.fund_month - st.vbp_accrued_month).max(zero(2)) * rate),
            );
        }
        self.check_eq(
            "payable_month = fund_month − vbp_accrued_month − withheld_month",
            st.payable_month,
            st.fund_month - st.vbp_accrued_month - st.withheld_month,
        );
        self.check_eq(
            "held_month = payable_month under hold, else 0",
            st.held_month,
            if st.on_hold {
                st.payable_month
            } else {
                zero(2)
            },
        );
        self.check_eq(
            "released_month = previous held balance in the first month without hold",
            st.released_month,
            if st.on_hold {
                zero(2)
            } else {
                st.previous_held_balance
            },
        );
        self.check_eq(
            "held_balance = previous + held − released",
            st.held_balance,
            st.previous_held_balance + st.held_month - st.released_month,
        );
        self.check_eq(
            "paid_month = payable − held + released",
            st.paid_month,
            st.payable_month - st.held_month + st.released_month,
        );
        if !fund_split.is_empty() || !st.fund_cum.is_zero() {
            self.check_eq(
                "Σ fund split amount_cum = fund_cum (Step 10)",
                fund_split.iter().map(|f| f.amount_cum).sum(),
                st.fund_cum,
            );
            self.check_eq(
                "Σ fund split amount_month = fund_month (Step 10)",
                fund_split.iter().map(|f| f.amount_month).sum(),
                st.fund_month,
            );
        }
        let listed: i64 = excluded.iter().map(|e| e.claims).sum();
        self.check(
            "excluded claims listed = claims_excluded_month (Step 1)",
            listed == st.claims_excluded_month,
            format!(
                "{listed} listed in excluded_claims, {} on the statement",
                st.claims_excluded_month
            ),
        );
    }
}

/// The case surplus rule (Step 6): `alloc` if `alloc ≤ actual`, else
/// `actual + round2(retention × (alloc − actual))`.
fn surplus(alloc: Decimal, actual: Decimal, retention: Decimal) -> Decimal {
    if alloc <= actual {
        alloc
    } else {
        actual + round2(retention * (alloc - actual))
    }
}

fn cell_summary(c: &CellValue, cap: Decimal) -> String {
    match (c.payment_class.as_str(), c.point_value) {
        ("inpatient", Some(v)) => format!(
            "PV {} = round6(CB' {} / EP {}){}",
            num(v),
            num((c.cumulative_budget - c.chemo_deduction).max(zero(2))),
            num(c.effective_points),
            if c.chemo_deduction.is_zero() {
                String::new()
            } else {
                format!(
                    ", CB' = CB {} − chemo {}{}",
                    num(c.cumulative_budget),
                    num(c.chemo_deduction),
                    if c.floored { " floored at 0" } else { "" }
                )
            }
        ),
        (_, Some(v)) => format!(
            "PV {} = round6(CB {} / EP {}), {}",
            num(v),
            num(c.cumulative_budget),
            num(c.effective_points),
            if v > cap {
                format!("above the cap {}, so PV_item = {}", num(cap), num(cap))
            } else {
                format!("at or below the cap {}", num(cap))
            }
        ),
        (_, None) => "no point value".to_string(),
    }
}
