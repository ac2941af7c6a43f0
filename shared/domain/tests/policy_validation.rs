//! One test per validation rule of policy.md: a minimally edited example policy is refused with
//! a `DomainError::Policy` naming the exact key.

use claimlake_domain::{DomainError, Policy};

fn example() -> String {
    // Run time first (cargo sets it for tests), as in policy_files.rs.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    let path = std::path::Path::new(&dir).join("../../../shared/spec/policy-example.toml");
    std::fs::read_to_string(path).unwrap()
}

/// The example with the `n`-th (0-based) occurrence of `from` replaced by `to`.
fn edit_nth(text: &str, from: &str, to: &str, n: usize) -> String {
    let (pos, _) = text
        .match_indices(from)
        .nth(n)
        .unwrap_or_else(|| panic!("{from:?} occurs fewer than {} times", n + 1));
    format!("{}{}{}", &text[..pos], to, &text[pos + from.len()..])
}

fn edited(from: &str, to: &str) -> String {
    edit_nth(&example(), from, to, 0)
}

/// The refusal of `text` as the 2025 policy: (key, full message).
fn refusal(text: &str) -> (String, String) {
    match Policy::from_toml_str(text, Some(2025)) {
        Ok(_) => panic!("policy was accepted"),
        Err(err @ DomainError::Policy { .. }) => {
            let shown = err.to_string();
            let key = err.policy_key().unwrap().to_owned();
            assert!(
                shown.contains(&format!("`{key}`")),
                "message does not name the key: {shown}"
            );
            (key, shown)
        }
        Err(other) => panic!("not a policy error: {other}"),
    }
}

fn assert_refused(text: &str, key: &str, fragment: &str) {
    let (got, shown) = refusal(text);
    assert_eq!(got, key, "{shown}");
    assert!(shown.contains(fragment), "{shown:?} lacks {fragment:?}");
}

#[test]
fn the_unedited_example_is_accepted() {
    Policy::from_toml_str(&example(), Some(2025)).unwrap();
}

// [policy]

#[test]
fn year_must_equal_the_files_year() {
    let err = Policy::from_toml_str(&example(), Some(2026)).unwrap_err();
    assert_eq!(err.policy_key(), Some("policy.year"));
    assert!(err.to_string().contains("2026"), "{err}");
}

#[test]
fn version_must_be_positive() {
    assert_refused(
        &edited("version = 1", "version = 0"),
        "policy.version",
        "positive integer",
    );
    assert_refused(
        &edited("version = 1", "version = -2"),
        "policy.version",
        "-2",
    );
}

#[test]
fn year_and_version_are_required() {
    assert_refused(&edited("version = 1", ""), "policy.version", "missing");
    assert_refused(&edited("[policy]", "[policy_]"), "policy", "missing");
}

// [settlement]

#[test]
fn monthly_weights_need_twelve_values() {
    assert_refused(
        &edited("\"0.090\"]", "\"0.090\", \"0\"]"),
        "settlement.monthly_weights",
        "found 13",
    );
}

#[test]
fn monthly_weights_must_not_be_negative() {
    assert_refused(
        &edited("[\"0.080\", \"0.070\"", "[\"0.160\", \"-0.010\""),
        "settlement.monthly_weights",
        "month 2 has weight -0.010",
    );
}

#[test]
fn monthly_weights_must_sum_to_exactly_one() {
    assert_refused(
        &edited("\"0.090\"]", "\"0.091\"]"),
        "settlement.monthly_weights",
        "sum to 1.001",
    );
}

#[test]
fn budget_weight_overrides_follow_the_same_rule() {
    let text = edited(
        "# monthly_weights = [...]",
        "monthly_weights = [\"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\", \"0.08\"]",
    );
    assert_refused(&text, "budget[10].monthly_weights", "sum to 0.96");
}

#[test]
fn case_surplus_retention_at_most_half() {
    assert_refused(
        &edited(
            "case_surplus_retention = \"0.50\"",
            "case_surplus_retention = \"0.51\"",
        ),
        "settlement.case_surplus_retention",
        "[0, 0.5]",
    );
    assert_refused(
        &edited(
            "case_surplus_retention = \"0.50\"",
            "case_surplus_retention = \"-0.01\"",
        ),
        "settlement.case_surplus_retention",
        "-0.01",
    );
}

#[test]
fn quality_guarantee_rate_at_most_ten_percent() {
    assert_refused(
        &edited(
            "quality_guarantee_rate = \"0.05\"",
            "quality_guarantee_rate = \"0.11\"",
        ),
        "settlement.quality_guarantee_rate",
        "[0, 0.1]",
    );
    assert_refused(
        &edited(
            "quality_guarantee_rate = \"0.05\"",
            "quality_guarantee_rate = \"-0.01\"",
        ),
        "settlement.quality_guarantee_rate",
        "-0.01",
    );
}

#[test]
fn conversion_divisor_must_be_positive() {
    assert_refused(
        &edited("base_avg_cost = \"12000.00\"", "base_avg_cost = \"0\""),
        "settlement.inpatient_item_conversion.base_avg_cost",
        "> 0",
    );
}

// [[budget]]

#[test]
fn outpatient_cells_name_an_outpatient_budget_class() {
    assert_refused(
        &edited("budget_class = \"tertiary\"", "budget_class = \"western\""),
        "budget[0].budget_class",
        "five outpatient budget classes",
    );
    assert_refused(
        &edited("budget_class = \"tertiary\"", "budget_class = \"pharmacy\""),
        "budget[0].budget_class",
        "found pharmacy",
    );
}

#[test]
fn outpatient_cells_have_drug_or_other() {
    assert_refused(
        &edited("fee_class = \"drug\"", "fee_class = \"all\""),
        "budget[0].fee_class",
        "drug or other",
    );
}

#[test]
fn inpatient_cells_name_western_or_tcm() {
    assert_refused(
        &edited("budget_class = \"western\"", "budget_class = \"tertiary\""),
        "budget[10].budget_class",
        "western or tcm",
    );
}

#[test]
fn inpatient_cells_have_all() {
    let text = edit_nth(&example(), "fee_class = \"all\"", "fee_class = \"drug\"", 1);
    assert_refused(&text, "budget[11].fee_class", "fee_class all");
}

#[test]
fn no_cell_twice() {
    let text = edit_nth(
        &example(),
        "fee_class = \"other\"",
        "fee_class = \"drug\"",
        0,
    );
    assert_refused(&text, "budget[1]", "already budgeted by budget[0]");
}

#[test]
fn annual_not_negative() {
    assert_refused(
        &edited("\"1300000000.00\"", "\"-1.00\""),
        "budget[2].annual",
        "≥ 0",
    );
}

#[test]
fn annual_to_the_fen() {
    assert_refused(
        &edited("\"1300000000.00\"", "\"1300000000.005\""),
        "budget[2].annual",
        "more than 2 decimals",
    );
}

#[test]
fn budget_codes_must_be_known() {
    assert_refused(
        &edited(
            "budget_class = \"tertiary\"",
            "budget_class = \"quaternary\"",
        ),
        "budget[0].budget_class",
        "\"quaternary\"",
    );
    assert_refused(
        &edited(
            "payment_class = \"outpatient\"",
            "payment_class = \"daycare\"",
        ),
        "budget[0].payment_class",
        "\"daycare\"",
    );
}

#[test]
fn budget_annual_is_required() {
    assert_refused(
        &edited("annual = \"3200000000.00\"", ""),
        "budget[0].annual",
        "missing",
    );
}

// [volume_price]

#[test]
fn tiers_start_at_zero() {
    assert_refused(
        &edited("over_ratio_from = \"0.00\"", "over_ratio_from = \"0.05\""),
        "volume_price.tier[0].over_ratio_from",
        "start at 0",
    );
}

#[test]
fn tiers_sorted_and_contiguous() {
    assert_refused(
        &edit_nth(
            &example(),
            "over_ratio_from = \"0.10\"",
            "over_ratio_from = \"0.15\"",
            0,
        ),
        "volume_price.tier[1].over_ratio_from",
        "contiguous",
    );
    assert_refused(
        &edit_nth(
            &example(),
            "over_ratio_to = \"0.20\"",
            "over_ratio_to = \"0.10\"",
            0,
        ),
        "volume_price.tier[1].over_ratio_to",
        "greater than over_ratio_from",
    );
}

#[test]
fn only_the_last_tier_open_ended() {
    assert_refused(
        &edited("over_ratio_to = \"0.20\"", ""),
        "volume_price.tier[1].over_ratio_to",
        "only the last tier may be open-ended",
    );
}

#[test]
fn tier_coefficients_in_unit_interval() {
    assert_refused(
        &edited("coefficient = \"0.90\"", "coefficient = \"1.10\""),
        "volume_price.tier[0].coefficient",
        "[0, 1]",
    );
    assert_refused(
        &edited("coefficient = \"0.50\"", "coefficient = \"-0.50\""),
        "volume_price.tier[2].coefficient",
        "[0, 1]",
    );
}

#[test]
fn tiers_required_with_a_threshold() {
    let text = example();
    let start = text.find("[[volume_price.tier]]").unwrap();
    let end = text.find("# 预警亮牌").unwrap();
    let without_tiers = format!("{}{}", &text[..start], &text[end..]);
    assert_refused(&without_tiers, "volume_price.tier", "required whenever");
}

#[test]
fn thresholds_name_outpatient_cells_once() {
    assert_refused(
        &edit_nth(
            &example(),
            "budget_class = \"tertiary\"",
            "budget_class = \"pharmacy\"",
            2,
        ),
        "volume_price.threshold[0].budget_class",
        "outpatient budget classes",
    );
    assert_refused(
        &edit_nth(
            &example(),
            "fee_class = \"other\"\nper_doctor_day = \"1500.00\"",
            "fee_class = \"drug\"\nper_doctor_day = \"1500.00\"",
            0,
        ),
        "volume_price.threshold[1]",
        "already has a threshold",
    );
}

// [cards]

#[test]
fn card_months_one_to_three() {
    assert_refused(
        &edited("yellow_hold_months = 1", "yellow_hold_months = 4"),
        "cards.yellow_hold_months",
        "1..=3",
    );
    assert_refused(
        &edited("red_suspend_months = 1", "red_suspend_months = 0"),
        "cards.red_suspend_months",
        "1..=3",
    );
}

// [warnings]

#[test]
fn warnings_method_ratio_or_percentile() {
    assert_refused(
        &edited("method = \"ratio\"", "method = \"median\""),
        "warnings.method",
        "ratio, percentile",
    );
}

#[test]
fn warning_shares_in_unit_interval() {
    assert_refused(
        &edited("top_share = \"0.01\"", "top_share = \"1.5\""),
        "warnings.associated.top_share",
        "[0, 1]",
    );
    assert_refused(
        &edited("min_cost_share = \"0.20\"", "min_cost_share = \"-0.2\""),
        "warnings.associated.min_cost_share",
        "[0, 1]",
    );
}

#[test]
fn margins_not_negative() {
    assert_refused(
        &edited("margin = \"0.30\"", "margin = \"-0.30\""),
        "warnings.margin",
        "≥ 0",
    );
    assert_refused(
        &edited("cost_per_visit = \"0.25\"", "cost_per_visit = \"-0.25\""),
        "warnings.margins.cost_per_visit",
        "≥ 0",
    );
    assert_refused(
        &edit_nth(&example(), "margin = \"0.30\"", "margin = \"-1\"", 1),
        "rules.institution.margin",
        "≥ 0",
    );
}

#[test]
fn margins_name_operating_indicators() {
    assert_refused(
        &edited("cost_per_visit = \"0.25\"", "cost_per_vist = \"0.25\""),
        "warnings.margins.cost_per_vist",
        "drug_ratio",
    );
}

#[test]
fn min_hits_at_least_one() {
    assert_refused(
        &edited("min_hits = 1", "min_hits = 0"),
        "warnings.min_hits",
        "1..=5",
    );
}

#[test]
fn percentile_is_a_rank() {
    assert_refused(
        &edited("percentile = 90", "percentile = 0"),
        "warnings.percentile",
        "1..=100",
    );
}

// [rules]

#[test]
fn overbuy_tolerance_not_negative() {
    assert_refused(
        &edited(
            "overbuy_tolerance = \"0.20\"",
            "overbuy_tolerance = \"-0.20\"",
        ),
        "rules.overbuy_tolerance",
        "≥ 0",
    );
}

#[test]
fn cluster_settings_are_meaningful() {
    assert_refused(
        &edited("cluster_bucket_minutes = 10", "cluster_bucket_minutes = 0"),
        "rules.cluster_bucket_minutes",
        "1..=1440",
    );
    assert_refused(
        &edited("pharmacy = 15", "pharmacy = 1"),
        "rules.cluster_min_patients.pharmacy",
        "≥ 2",
    );
    assert_refused(
        &edited("pharmacy = 15", "drugstore = 15"),
        "rules.cluster_min_patients.drugstore",
        "\"drugstore\"",
    );
}

// [score]

#[test]
fn indicator_weights_sum_to_exactly_one_hundred() {
    assert_refused(
        &edited("weight = \"25\"", "weight = \"30\""),
        "score.indicator",
        "sum to 105",
    );
}

#[test]
fn release_tiers_cover_zero() {
    assert_refused(
        &edited("min_score = \"0\"", "min_score = \"10\""),
        "score.release",
        "cover 0",
    );
}

#[test]
fn release_ratios_in_unit_interval() {
    assert_refused(
        &edited("ratio = \"1.00\"", "ratio = \"1.10\""),
        "score.release[0].ratio",
        "[0, 1]",
    );
}

#[test]
fn release_ratios_do_not_fall_as_min_score_rises() {
    assert_refused(
        &edited("ratio = \"0.90\"", "ratio = \"0.50\""),
        "score.release[1].ratio",
        "must not fall",
    );
}

#[test]
fn indicator_weights_have_at_most_two_decimals() {
    // 20 + 20 + 10 + 10 + 24.995 + 15.005 = 100, but score_items.weight holds fen only.
    let text = edited("weight = \"25\"", "weight = \"24.995\"");
    assert_refused(
        &edit_nth(&text, "weight = \"15\"", "weight = \"15.005\"", 0),
        "score.indicator[4].weight",
        "at most 2 decimal places",
    );
}

#[test]
fn indicator_method_is_known() {
    assert_refused(
        &edit_nth(
            &example(),
            "method = \"lower_better\"",
            "method = \"linear\"",
            1,
        ),
        "score.indicator[2].method",
        "deduct, lower_better, higher_better, scaled",
    );
}

#[test]
fn indicator_source_is_known() {
    assert_refused(
        &edited("source = \"suspicion_rate\"", "source = \"complaints\""),
        "score.indicator[1].source",
        "assessment:<part>",
    );
    assert_refused(
        &edited("source = \"assessment:onsite\"", "source = \"assessment:\""),
        "score.indicator[4].source",
        "\"assessment:\"",
    );
}

#[test]
fn indicator_parameters_fit_the_method() {
    assert_refused(
        &edited("per_red = \"20\"", ""),
        "score.indicator[0].per_red",
        "required by method deduct",
    );
    assert_refused(
        &edited("bad = \"10\"", "bad = \"1\""),
        "score.indicator[1].bad",
        "greater than good",
    );
    assert_refused(
        &edited("bad = \"0.20\"", "bad = \"0.70\""),
        "score.indicator[3].bad",
        "less than good",
    );
    assert_refused(
        &edited("source = \"assessment:onsite\"", "source = \"vbp_share\""),
        "score.indicator[4].method",
        "assessment:<part>",
    );
}

#[test]
fn scoring_sections_are_required_only_for_scoring() {
    let text = example();
    let cut = text.find("[[score.release]]").unwrap();
    let without_scoring = &text[..cut];
    let p = Policy::from_toml_str(without_scoring, Some(2025)).unwrap();
    let err = p.validate_for_scoring().unwrap_err();
    assert_eq!(err.policy_key(), Some("score.release"), "{err}");

    let cut = text.find("[[score.indicator]]").unwrap();
    let p = Policy::from_toml_str(&text[..cut], Some(2025)).unwrap();
    let err = p.validate_for_scoring().unwrap_err();
    assert_eq!(err.policy_key(), Some("score.indicator"), "{err}");
}

// Types

#[test]
fn floats_are_refused_for_decimal_keys() {
    assert_refused(
        &edited(
            "item_point_value_cap = \"1.00\"",
            "item_point_value_cap = 1.00",
        ),
        "settlement.item_point_value_cap",
        "float",
    );
    assert_refused(
        &edited("\"0.090\"]", "0.090]"),
        "settlement.monthly_weights",
        "element 12: found float",
    );
    assert_refused(
        &edited("coefficient = \"0.90\"", "coefficient = 0.9"),
        "volume_price.tier[0].coefficient",
        "float",
    );
}

#[test]
fn integers_are_exact_decimals() {
    let p = Policy::from_toml_str(&edited("weight = \"20\"", "weight = 20"), Some(2025)).unwrap();
    assert_eq!(
        p.score.indicators[0].weight,
        rust_decimal::Decimal::from(20)
    );
}

#[test]
fn malformed_decimal_strings_are_refused() {
    assert_refused(
        &edited("annual = \"3200000000.00\"", "annual = \"3.2e9\""),
        "budget[0].annual",
        "\"3.2e9\"",
    );
}

#[test]
fn known_keys_are_not_mis_typed() {
    assert_refused(
        &edited("min_visits = 300", "min_visits = \"300\""),
        "warnings.min_visits",
        "expected an integer",
    );
    assert_refused(
        &edited("min_visits = 300", "min_visits = -1"),
        "warnings.min_visits",
        "non-negative",
    );
    assert_refused(
        &edited(
            "redistribute_forfeit = true",
            "redistribute_forfeit = \"yes\"",
        ),
        "score.redistribute_forfeit",
        "true or false",
    );
    let cards_scalar = format!("cards = 3\n{}", edited("[cards]", "[cards_]"));
    assert_refused(&cards_scalar, "cards", "expected a table [cards]");
    let budget_scalar = format!(
        "budget = 5\n{}",
        example().replace("[[budget]]", "[[budget_]]")
    );
    assert_refused(
        &budget_scalar,
        "budget",
        "array of tables [[budget]], found integer 5",
    );
}

#[test]
fn unknown_keys_are_tolerated_and_listed() {
    let text =
        edited("[settlement]", "[settlement]\nfuture_knob = \"1\"") + "\n[extra]\nnote = \"x\"\n";
    let (policy, unknown) = Policy::parse_toml_with_unknown_keys(&text).unwrap();
    policy.validate(2025).unwrap();
    assert_eq!(unknown, ["extra", "settlement.future_knob"]);
    let (_, unknown) = Policy::parse_toml_with_unknown_keys(&example()).unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[test]
fn toml_syntax_errors_are_reported() {
    let err = Policy::from_toml_str("[policy\nyear = 2025", None).unwrap_err();
    assert!(matches!(err, DomainError::Toml { .. }), "{err}");
}
