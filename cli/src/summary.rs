//! The demo's closing summary: point values by cell, the year's totals, and the institutions
//! paid most. Figures are read from the result tables the settlement wrote, not recomputed.

use claimlake_engine::cells::{decimal as dec, text};
use claimlake_engine::settle::SettleOutcome;
use rust_decimal::Decimal;

/// Prints the year's summary from the months' outcomes (`last` is December).
pub fn print_year(months: &[SettleOutcome], last: &SettleOutcome) {
    println!();
    println!("point values, {} (cumulative):", last.month);
    println!(
        "  {:10} {:22} {:6} {:>16} {:>12} {:>12}",
        "payment", "budget class", "fee", "budget", "PV", "PV item"
    );
    for c in &last.report.point_values {
        let show = |v: Option<Decimal>| v.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        println!(
            "  {:10} {:22} {:6} {:>16} {:>12} {:>12}",
            c.payment_class,
            c.budget_class,
            c.fee_class,
            c.cumulative_budget,
            show(c.point_value),
            show(c.item_point_value)
        );
    }
    let paid: Decimal = months.iter().map(|o| o.report.totals.paid_month).sum();
    let withheld: Decimal = months.iter().map(|o| o.report.totals.withheld_month).sum();
    let t = &last.report.totals;
    println!();
    println!(
        "year totals: settlement {} = personal burden {} + fund {}; paid {} (withheld {} for the quality guarantee, VBP accrued {} through {})",
        t.settlement_cum,
        t.personal_burden_cum,
        t.fund_cum,
        paid,
        withheld,
        months
            .iter()
            .map(|o| o.report.totals.vbp_accrued_month)
            .sum::<Decimal>(),
        last.month
    );
    let mut top: Vec<(String, Decimal)> = Vec::new();
    for b in last.table("statements") {
        for i in 0..b.num_rows() {
            top.push((
                text(b, "institution_id", i),
                dec(b, "fund_cum", i).unwrap_or_default(),
            ));
        }
    }
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("top institutions by fund settlement in the year:");
    for (id, fund) in top.iter().take(5) {
        println!("  {id:10} {fund:>16}");
    }
}
