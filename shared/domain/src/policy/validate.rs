//! The rules of policy.md "Validation", each failure naming the dotted key.
//!
//! Besides the listed rules, a few checks keep the engine away from divisions by zero and
//! meaningless settings (a zero conversion divisor, `min_hits` above the five indicators, a
//! zero-minute cluster bucket, two thresholds for one cell…); each is documented where it stands.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{
    Budget, Cards, Indicator, IndicatorSource, Policy, ReleaseTier, Rules, Score, ScoreMethod,
    Settlement, VolumePrice, Warnings,
};
use crate::cell::Cell;
use crate::codes::{BudgetClass, FeeClass, PaymentClass};
use crate::error::{DomainError, Result};

const HALF: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
const TENTH: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

fn fail<T>(key: impl Into<String>, message: impl Into<String>) -> Result<T> {
    Err(DomainError::policy(key, message))
}

fn ensure(ok: bool, key: impl Into<String>, message: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { fail(key, message()) }
}

/// `value` in [`lo`, `hi`].
fn in_range(key: &str, value: Decimal, lo: Decimal, hi: Decimal) -> Result<()> {
    ensure(value >= lo && value <= hi, key, || {
        format!("must be in [{lo}, {hi}], found {value}")
    })
}

/// A share: in [0, 1].
fn share(key: &str, value: Decimal) -> Result<()> {
    in_range(key, value, Decimal::ZERO, Decimal::ONE)
}

fn non_negative(key: &str, value: Decimal) -> Result<()> {
    ensure(!value.is_sign_negative() || value.is_zero(), key, || {
        format!("must be ≥ 0, found {value}")
    })
}

fn positive(key: &str, value: Decimal) -> Result<()> {
    ensure(value > Decimal::ZERO, key, || {
        format!("must be > 0, found {value}")
    })
}

fn int_range(key: &str, value: u32, range: std::ops::RangeInclusive<u32>) -> Result<()> {
    ensure(range.contains(&value), key, || {
        format!(
            "must be in {}..={}, found {value}",
            range.start(),
            range.end()
        )
    })
}

pub(super) fn validate(policy: &Policy, file_year: i32) -> Result<()> {
    let info = &policy.policy;
    ensure(info.year == file_year, "policy.year", || {
        format!("is {} but the file is the policy of {file_year}", info.year)
    })?;
    ensure(info.version > 0, "policy.version", || {
        format!("must be a positive integer, found {}", info.version)
    })?;
    settlement(&policy.settlement)?;
    budgets(&policy.budgets)?;
    volume_price(&policy.volume_price)?;
    cards(&policy.cards)?;
    warnings(&policy.warnings)?;
    rules(&policy.rules)?;
    score(&policy.score)
}

pub(super) fn validate_for_scoring(policy: &Policy) -> Result<()> {
    let score = &policy.score;
    ensure(!score.releases.is_empty(), "score.release", || {
        "is required for scoring: give the [[score.release]] tiers".to_owned()
    })?;
    ensure(!score.indicators.is_empty(), "score.indicator", || {
        "is required for scoring: give the [[score.indicator]] entries".to_owned()
    })?;
    releases(&score.releases)?;
    indicators(&score.indicators)
}

/// 12 values ≥ 0 summing to exactly 1.
pub(super) fn monthly_weights(key: &str, weights: &[Decimal]) -> Result<()> {
    ensure(weights.len() == 12, key, || {
        format!(
            "must have 12 values (one per month), found {}",
            weights.len()
        )
    })?;
    if let Some((i, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| w.is_sign_negative() && !w.is_zero())
    {
        return fail(
            key,
            format!("month {} has weight {w}; weights must be ≥ 0", i + 1),
        );
    }
    let sum: Decimal = weights.iter().sum();
    ensure(sum == Decimal::ONE, key, || {
        format!("values sum to {sum}; they must sum to exactly 1")
    })
}

fn settlement(s: &Settlement) -> Result<()> {
    // The cap is a point value in yuan; 0 would pay nothing for item points.
    positive("settlement.item_point_value_cap", s.item_point_value_cap)?;
    in_range(
        "settlement.case_surplus_retention",
        s.case_surplus_retention,
        Decimal::ZERO,
        HALF,
    )?;
    in_range(
        "settlement.quality_guarantee_rate",
        s.quality_guarantee_rate,
        Decimal::ZERO,
        TENTH,
    )?;
    ensure(
        s.inpatient_budget_diseases
            .iter()
            .all(|d| !d.trim().is_empty()),
        "settlement.inpatient_budget_diseases",
        || "must not hold an empty disease code".to_owned(),
    )?;
    monthly_weights("settlement.monthly_weights", &s.monthly_weights)?;
    // Divisor and factor of the inpatient item conversion.
    let c = &s.inpatient_item_conversion;
    positive(
        "settlement.inpatient_item_conversion.base_avg_cost",
        c.base_avg_cost,
    )?;
    positive(
        "settlement.inpatient_item_conversion.cpi_factor",
        c.cpi_factor,
    )?;
    positive(
        "settlement.inpatient_item_conversion.points_per_weight",
        c.points_per_weight,
    )
}

fn budgets(budgets: &[Budget]) -> Result<()> {
    let mut seen: BTreeMap<Cell, usize> = BTreeMap::new();
    for (i, b) in budgets.iter().enumerate() {
        let key = |field: &str| format!("budget[{i}].{field}");
        match b.payment_class {
            PaymentClass::Outpatient => {
                ensure(b.budget_class.is_outpatient(), key("budget_class"), || {
                    format!(
                        "an outpatient cell names one of the five outpatient budget classes ({}), found {}",
                        outpatient_list(),
                        b.budget_class
                    )
                })?;
                ensure(
                    matches!(b.fee_class, FeeClass::Drug | FeeClass::Other),
                    key("fee_class"),
                    || {
                        format!(
                            "an outpatient cell has fee_class drug or other, found {}",
                            b.fee_class
                        )
                    },
                )?;
            }
            PaymentClass::Inpatient => {
                ensure(b.budget_class.is_inpatient(), key("budget_class"), || {
                    format!(
                        "an inpatient cell names western or tcm, found {}",
                        b.budget_class
                    )
                })?;
                ensure(b.fee_class == FeeClass::All, key("fee_class"), || {
                    format!("an inpatient cell has fee_class all, found {}", b.fee_class)
                })?;
            }
        }
        if let Some(first) = seen.insert(b.cell(), i) {
            return fail(
                format!("budget[{i}]"),
                format!("cell {} is already budgeted by budget[{first}]", b.cell()),
            );
        }
        non_negative(&key("annual"), b.annual)?;
        // Budgets are money: December's cumulative budget must equal `annual` to the fen.
        ensure(b.annual.normalize().scale() <= 2, key("annual"), || {
            format!("{} has more than 2 decimals (yuan to the fen)", b.annual)
        })?;
        if let Some(weights) = &b.monthly_weights {
            monthly_weights(&key("monthly_weights"), weights)?;
        }
    }
    Ok(())
}

fn outpatient_list() -> String {
    BudgetClass::OUTPATIENT
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn outpatient_fee_class(key: &str, fee_class: FeeClass) -> Result<()> {
    ensure(
        matches!(fee_class, FeeClass::Drug | FeeClass::Other),
        key,
        || {
            format!(
                "volume-price applies to outpatient fee classes drug or other, found {fee_class}"
            )
        },
    )
}

fn volume_price(vp: &VolumePrice) -> Result<()> {
    let mut seen = BTreeMap::new();
    for (i, t) in vp.thresholds.iter().enumerate() {
        let key = |field: &str| format!("volume_price.threshold[{i}].{field}");
        ensure(
            t.budget_class.is_outpatient_budget_class(),
            key("budget_class"),
            || {
                format!(
                    "must be one of the outpatient budget classes ({}), found {}",
                    outpatient_list(),
                    t.budget_class
                )
            },
        )?;
        outpatient_fee_class(&key("fee_class"), t.fee_class)?;
        non_negative(&key("per_doctor_day"), t.per_doctor_day)?;
        // Two thresholds for one class and fee class would be ambiguous.
        if let Some(first) = seen.insert((t.budget_class, t.fee_class), i) {
            return fail(
                format!("volume_price.threshold[{i}]"),
                format!(
                    "{}/{} already has a threshold in volume_price.threshold[{first}]",
                    t.budget_class, t.fee_class
                ),
            );
        }
    }
    let mut seen = BTreeMap::new();
    for (i, o) in vp.overrides.iter().enumerate() {
        let key = |field: &str| format!("volume_price.override[{i}].{field}");
        ensure(
            !o.institution_id.trim().is_empty(),
            key("institution_id"),
            || "must not be empty".to_owned(),
        )?;
        outpatient_fee_class(&key("fee_class"), o.fee_class)?;
        non_negative(&key("per_doctor_day"), o.per_doctor_day)?;
        if let Some(first) = seen.insert((o.institution_id.as_str(), o.fee_class), i) {
            return fail(
                format!("volume_price.override[{i}]"),
                format!(
                    "institution {} / {} already has an override in volume_price.override[{first}]",
                    o.institution_id, o.fee_class
                ),
            );
        }
    }
    ensure(
        !vp.has_thresholds() || !vp.tiers.is_empty(),
        "volume_price.tier",
        || "is required whenever a volume_price threshold or override is given".to_owned(),
    )?;
    let last = vp.tiers.len().saturating_sub(1);
    for (i, t) in vp.tiers.iter().enumerate() {
        let key = |field: &str| format!("volume_price.tier[{i}].{field}");
        if i == 0 {
            ensure(t.over_ratio_from.is_zero(), key("over_ratio_from"), || {
                format!(
                    "the first tier must start at 0, found {}",
                    t.over_ratio_from
                )
            })?;
        } else if let Some(prev_to) = vp.tiers[i - 1].over_ratio_to {
            ensure(t.over_ratio_from == prev_to, key("over_ratio_from"), || {
                format!(
                    "tiers must be sorted and contiguous: expected {prev_to} (over_ratio_to of tier {}), found {}",
                    i - 1,
                    t.over_ratio_from
                )
            })?;
        }
        match t.over_ratio_to {
            None => ensure(i == last, key("over_ratio_to"), || {
                "is missing: only the last tier may be open-ended".to_owned()
            })?,
            Some(to) => ensure(to > t.over_ratio_from, key("over_ratio_to"), || {
                format!(
                    "must be greater than over_ratio_from {}, found {to}",
                    t.over_ratio_from
                )
            })?,
        }
        share(&key("coefficient"), t.coefficient)?;
    }
    Ok(())
}

fn cards(c: &Cards) -> Result<()> {
    int_range("cards.yellow_hold_months", c.yellow_hold_months, 1..=3)?;
    int_range("cards.red_suspend_months", c.red_suspend_months, 1..=3)
}

fn warnings(w: &Warnings) -> Result<()> {
    ensure(
        !w.scope_visit_types.is_empty(),
        "warnings.scope_visit_types",
        || "must name at least one visit type".to_owned(),
    )?;
    non_negative("warnings.margin", w.margin)?;
    for (indicator, margin) in &w.margins {
        non_negative(&format!("warnings.margins.{indicator}"), *margin)?;
    }
    // Nearest rank ceil(P/100 × n) must be a rank 1..=n.
    int_range("warnings.percentile", w.percentile, 1..=100)?;
    // Hits are counted among five operating indicators.
    int_range("warnings.min_hits", w.min_hits, 1..=5)?;
    ensure(
        w.high_frequency_visits >= 1,
        "warnings.high_frequency_visits",
        || "must be ≥ 1, found 0".to_owned(),
    )?;
    share("warnings.associated.top_share", w.associated.top_share)?;
    non_negative(
        "warnings.associated.median_multiple",
        w.associated.median_multiple,
    )?;
    share(
        "warnings.associated.min_cost_share",
        w.associated.min_cost_share,
    )
}

fn rules(r: &Rules) -> Result<()> {
    non_negative("rules.overbuy_tolerance", r.overbuy_tolerance)?;
    // Buckets partition the day from midnight.
    int_range(
        "rules.cluster_bucket_minutes",
        r.cluster_bucket_minutes,
        1..=1440,
    )?;
    // With 1, every claim would be a repeat.
    ensure(
        r.repeat_same_day_min >= 2,
        "rules.repeat_same_day_min",
        || format!("must be ≥ 2, found {}", r.repeat_same_day_min),
    )?;
    non_negative("rules.large_outpatient_amount", r.large_outpatient_amount)?;
    non_negative(
        "rules.cross_province_inpatient_amount",
        r.cross_province_inpatient_amount,
    )?;
    for (class, min) in &r.cluster_min_patients {
        // With 1, every bucket with a claim would be a cluster.
        ensure(
            *min >= 2,
            format!("rules.cluster_min_patients.{class}"),
            || format!("must be ≥ 2, found {min}"),
        )?;
    }
    non_negative("rules.institution.margin", r.institution.margin)
}

fn score(s: &Score) -> Result<()> {
    in_range(
        "score.excellent_from",
        s.excellent_from,
        Decimal::ZERO,
        HUNDRED,
    )?;
    in_range("score.pass_from", s.pass_from, Decimal::ZERO, HUNDRED)?;
    ensure(s.pass_from <= s.excellent_from, "score.pass_from", || {
        format!(
            "must not exceed excellent_from {}, found {}",
            s.excellent_from, s.pass_from
        )
    })?;
    ensure(
        s.consecutive_fail_years >= 1,
        "score.consecutive_fail_years",
        || "must be ≥ 1, found 0".to_owned(),
    )?;
    in_range(
        "score.terminate_below",
        s.terminate_below,
        Decimal::ZERO,
        HUNDRED,
    )?;
    share("score.bottom_elimination_share", s.bottom_elimination_share)?;
    if !s.releases.is_empty() {
        releases(&s.releases)?;
    }
    if !s.indicators.is_empty() {
        indicators(&s.indicators)?;
    }
    Ok(())
}

/// Release tiers: each in range, one starting at 0, no `min_score` twice, and ratios that do not
/// fall as `min_score` rises (whatever the order in the file).
fn releases(tiers: &[ReleaseTier]) -> Result<()> {
    let mut by_score: BTreeMap<Decimal, usize> = BTreeMap::new();
    for (i, t) in tiers.iter().enumerate() {
        in_range(
            &format!("score.release[{i}].min_score"),
            t.min_score,
            Decimal::ZERO,
            HUNDRED,
        )?;
        share(&format!("score.release[{i}].ratio"), t.ratio)?;
        if let Some(first) = by_score.insert(t.min_score, i) {
            return fail(
                format!("score.release[{i}].min_score"),
                format!(
                    "min_score {} is already used by score.release[{first}]",
                    t.min_score
                ),
            );
        }
    }
    ensure(
        by_score.contains_key(&Decimal::ZERO),
        "score.release",
        || "the tiers must cover 0: add a tier with min_score = \"0\"".to_owned(),
    )?;
    let ordered: Vec<usize> = by_score.values().copied().collect();
    for pair in ordered.windows(2) {
        let (lower, higher) = (&tiers[pair[0]], &tiers[pair[1]]);
        ensure(
            higher.ratio >= lower.ratio,
            format!("score.release[{}].ratio", pair[1]),
            || {
                format!(
                    "ratio {} at min_score {} is below ratio {} at min_score {}: ratios must not fall as min_score rises",
                    higher.ratio, higher.min_score, lower.ratio, lower.min_score
                )
            },
        )?;
    }
    Ok(())
}

fn indicators(list: &[Indicator]) -> Result<()> {
    let mut ids = BTreeMap::new();
    for (i, ind) in list.iter().enumerate() {
        let key = |field: &str| format!("score.indicator[{i}].{field}");
        ensure(!ind.id.trim().is_empty(), key("id"), || {
            "must not be empty".to_owned()
        })?;
        if let Some(first) = ids.insert(ind.id.as_str(), i) {
            return fail(
                key("id"),
                format!(
                    "id {:?} is already used by score.indicator[{first}]",
                    ind.id
                ),
            );
        }
        positive(&key("weight"), ind.weight)?;
        // score_items.weight is Decimal128(18,2) (outputs.md): a weight it cannot hold exactly
        // would be published as another number than the one the total divides by.
        ensure(ind.weight.normalize().scale() <= 2, key("weight"), || {
            format!(
                "must have at most 2 decimal places (score_items.weight is stored to the fen), found {}",
                ind.weight
            )
        })?;
        match ind.method {
            ScoreMethod::Deduct => {
                ensure(ind.source == IndicatorSource::Cards, key("method"), || {
                    format!(
                        "deduct counts cards and needs source \"cards\", found source {:?}",
                        ind.source.as_str()
                    )
                })?;
                for (field, value) in [("per_yellow", ind.per_yellow), ("per_red", ind.per_red)] {
                    let value = value.ok_or_else(|| {
                        DomainError::policy(key(field), "is required by method deduct")
                    })?;
                    non_negative(&key(field), value)?;
                }
            }
            ScoreMethod::LowerBetter | ScoreMethod::HigherBetter => {
                let good = ind.good.ok_or_else(|| {
                    DomainError::policy(
                        key("good"),
                        format!("is required by method {}", ind.method),
                    )
                })?;
                let bad = ind.bad.ok_or_else(|| {
                    DomainError::policy(key("bad"), format!("is required by method {}", ind.method))
                })?;
                if ind.method == ScoreMethod::LowerBetter {
                    ensure(bad > good, key("bad"), || {
                        format!("must be greater than good {good} for lower_better, found {bad}")
                    })?;
                } else {
                    ensure(bad < good, key("bad"), || {
                        format!("must be less than good {good} for higher_better, found {bad}")
                    })?;
                }
            }
            ScoreMethod::Scaled => {
                ensure(
                    ind.source.assessment_part().is_some(),
                    key("method"),
                    || {
                        format!(
                            "scaled scales an assessment score and needs source \"assessment:<part>\", found {:?}",
                            ind.source.as_str()
                        )
                    },
                )?;
            }
        }
        if let Some(kinds) = &ind.applies_to {
            ensure(!kinds.is_empty(), key("applies_to"), || {
                "must name at least one institution kind (omit it to apply to every kind)"
                    .to_owned()
            })?;
        }
    }
    let sum: Decimal = list.iter().map(|i| i.weight).sum();
    ensure(sum == HUNDRED, "score.indicator", || {
        format!("weights sum to {sum}; they must sum to exactly 100")
    })
}
