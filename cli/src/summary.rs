//! The demo's closing summary: point values by cell, the year's totals, the institutions paid
//! most, and the annual scores. Figures are read from the result tables and reports the runs
//! wrote, not recomputed.

use claimlake_engine::cells::{decimal as dec, text};
use claimlake_engine::score::ScoreOutcome;
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

/// Prints the annual scores: counts by grade and decision per peer group, the decisions other
/// than renew with their reasons, and the quality guarantee totals (from the report).
pub fn print_scores(o: &ScoreOutcome) {
    let r = &o.report;
    let c = &r.counts;
    println!();
    println!(
        "annual scores {}: {} institutions ({} scored: {} excellent, {} pass, {} fail; {} pending, {} disqualified)",
        r.period, c.institutions, c.scored, c.excellent, c.pass, c.fail, c.pending, c.disqualified
    );
    println!(
        "  {:22} {:>6} {:>9} {:>5} {:>5} {:>8} {:>8} {:>8}",
        "peer group", "scored", "excellent", "pass", "fail", "min", "mean", "max"
    );
    let show = |v: Option<Decimal>| v.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    for d in &r.distribution {
        println!(
            "  {:22} {:>6} {:>9} {:>5} {:>5} {:>8} {:>8} {:>8}",
            d.budget_class,
            d.counts.scored,
            d.counts.excellent,
            d.counts.pass,
            d.counts.fail,
            show(d.min_total),
            show(d.mean_total),
            show(d.max_total)
        );
    }
    let decided: Vec<String> = r
        .decision_counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!("  decisions: {}", decided.join(", "));
    for d in &r.decisions {
        println!(
            "    {:10} {:10} total {:>6}: {}",
            d.institution_id,
            d.decision,
            show(d.total),
            d.reason
        );
    }
    let g = &r.guarantee;
    println!(
        "  quality guarantee: reserve {} = released {} + forfeited {} + held for pending {}; pool {} = bonus {} to {} excellent institution(s) + undistributed {}",
        g.reserve,
        g.released,
        g.forfeited,
        g.held_pending,
        g.pool,
        g.bonus,
        g.recipients,
        g.undistributed
    );
    for n in &r.notes {
        println!("  note: {n}");
    }
}
