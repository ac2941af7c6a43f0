//! The settlement report (`reports/settlement/YYYY-MM.json`): headline totals, point values per
//! cell, quarantined and excluded counts by reason, and notes, in a fixed key order and with no
//! run times (those go to the run manifest).

use std::collections::BTreeMap;

use arrow::array::{Array, BooleanArray};
use claimlake_domain::period::Month;
use datafusion::prelude::SessionContext;
use rust_decimal::Decimal;
use serde::Serialize;

use super::inputs::LoadedPolicy;
use crate::cells::{count as int, decimal as dec, text};
use crate::error::Result;
use crate::ingest::MonthValidation;
use crate::manifest::PolicyRef;

/// Headline totals of the month over all statements.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Totals {
    pub institutions: u64,
    pub settlement_cum: Decimal,
    pub personal_burden_cum: Decimal,
    pub fund_cum: Decimal,
    pub fund_month: Decimal,
    pub vbp_accrued_month: Decimal,
    pub withheld_month: Decimal,
    pub payable_month: Decimal,
    pub held_month: Decimal,
    pub released_month: Decimal,
    pub paid_month: Decimal,
    pub claims_settled_month: u64,
    pub claims_excluded_month: u64,
}

/// One cell's point value.
#[derive(Debug, Clone, Serialize)]
pub struct CellValue {
    pub payment_class: String,
    pub budget_class: String,
    pub fee_class: String,
    pub cumulative_budget: Decimal,
    pub chemo_deduction: Decimal,
    pub effective_points: Decimal,
    pub point_value: Option<Decimal>,
    pub item_point_value: Option<Decimal>,
    pub floored: bool,
}

/// The report document.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementReport {
    pub period: String,
    pub policy: PolicyRef,
    pub totals: Totals,
    pub point_values: Vec<CellValue>,
    pub quarantined: BTreeMap<String, BTreeMap<String, u64>>,
    pub excluded: BTreeMap<String, u64>,
    pub notes: Vec<String>,
}

/// Builds the report from the month's result tables registered in `ctx`.
pub async fn build(
    ctx: &SessionContext,
    m: Month,
    policy: &LoadedPolicy,
    validation: &MonthValidation,
) -> Result<SettlementReport> {
    let mut totals = Totals::default();
    for b in ctx.table("statements").await?.collect().await? {
        for i in 0..b.num_rows() {
            totals.institutions += 1;
            let add = |t: &mut Decimal, n: &str| *t += dec(&b, n, i).unwrap_or_default();
            add(&mut totals.settlement_cum, "settlement_cum");
            add(&mut totals.personal_burden_cum, "personal_burden_cum");
            add(&mut totals.fund_cum, "fund_cum");
            add(&mut totals.fund_month, "fund_month");
            add(&mut totals.vbp_accrued_month, "vbp_accrued_month");
            add(&mut totals.withheld_month, "withheld_month");
            add(&mut totals.payable_month, "payable_month");
            add(&mut totals.held_month, "held_month");
            add(&mut totals.released_month, "released_month");
            add(&mut totals.paid_month, "paid_month");
            totals.claims_settled_month += int(&b, "claims_settled_month", i);
            totals.claims_excluded_month += int(&b, "claims_excluded_month", i);
        }
    }
    let mut point_values = Vec::new();
    let mut notes = Vec::new();
    for b in ctx.table("point_values").await?.collect().await? {
        let floored = b
            .column_by_name("floored")
            .and_then(|c| c.as_any().downcast_ref::<BooleanArray>().cloned());
        for i in 0..b.num_rows() {
            let cell = CellValue {
                payment_class: text(&b, "payment_class", i),
                budget_class: text(&b, "budget_class", i),
                fee_class: text(&b, "fee_class", i),
                cumulative_budget: dec(&b, "cumulative_budget", i).unwrap_or_default(),
                chemo_deduction: dec(&b, "chemo_deduction", i).unwrap_or_default(),
                effective_points: dec(&b, "effective_points", i).unwrap_or_default(),
                point_value: dec(&b, "point_value", i),
                item_point_value: dec(&b, "item_point_value", i),
                floored: floored.as_ref().map(|f| f.value(i)).unwrap_or(false),
            };
            let name = format!(
                "{}/{}/{}",
                cell.payment_class, cell.budget_class, cell.fee_class
            );
            let annual_zero = policy.policy.budgets.iter().any(|bud| {
                bud.payment_class.to_string() == cell.payment_class
                    && bud.budget_class.to_string() == cell.budget_class
                    && bud.fee_class.to_string() == cell.fee_class
                    && bud.annual.is_zero()
            });
            if annual_zero {
                notes.push(format!(
                    "cell {name} has annual = 0 (no budget on purpose): point value 0"
                ));
            }
            if cell.floored {
                notes.push(format!(
                    "cell {name}: chemo deduction {} exceeds the cumulative budget {}; floored at 0",
                    cell.chemo_deduction, cell.cumulative_budget
                ));
            }
            if cell.point_value.is_none() {
                notes.push(format!(
                    "cell {name} has no effective points: no point value"
                ));
            }
            point_values.push(cell);
        }
    }
    let mut excluded = BTreeMap::new();
    for b in ctx.table("excluded_claims").await?.collect().await? {
        for i in 0..b.num_rows() {
            *excluded.entry(text(&b, "reason", i)).or_insert(0) += 1;
        }
    }
    let mut quarantined = BTreeMap::new();
    quarantined.insert("claims".to_string(), validation.claims.quarantined.clone());
    quarantined.insert(
        "claim_items".to_string(),
        validation.items.quarantined.clone(),
    );
    Ok(SettlementReport {
        period: m.to_string(),
        policy: policy.reference(),
        totals,
        point_values,
        quarantined,
        excluded,
        notes,
    })
}
