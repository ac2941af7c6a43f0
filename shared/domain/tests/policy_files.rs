//! The example policy and the conformance lake's policies parse, validate and mean what they say.

use std::collections::BTreeMap;
use std::str::FromStr;

use claimlake_domain::policy::{
    Cards, DEFAULT_MONTHLY_WEIGHTS, IndicatorSource, InpatientItemConversion, Rules, Score,
    ScoreMethod, Settlement, WarningMethod, Warnings,
};
use claimlake_domain::{
    BudgetClass, Cell, CellClass, FeeClass, Grade, InstitutionKind, OperatingIndicator,
    PaymentClass, Policy,
};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn read(rel: &str) -> String {
    // Run time first (cargo sets it for tests): a binary built from another checkout sharing
    // the target folder would otherwise read beside that checkout.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    let path = std::path::Path::new(&dir).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn example() -> String {
    read("../../../shared/spec/policy-example.toml")
}

fn conformance(year: i32) -> String {
    read(&format!(
        "../../../shared/conformance/lake/policy/{year}.toml"
    ))
}

#[test]
fn example_parses_and_validates() {
    let p = Policy::from_toml_str(&example(), Some(2025)).unwrap();
    p.validate_for_scoring().unwrap();
    assert_eq!(p.year(), 2025);
    assert_eq!(p.version(), 1);
    assert_eq!(
        p.policy.name,
        "Tianjin regional point-method budget 2025 (example figures)"
    );
    assert_eq!(p.budgets.len(), 12);
    assert_eq!(
        p.budget_for(
            PaymentClass::Outpatient,
            BudgetClass::Tertiary,
            FeeClass::Drug
        )
        .unwrap()
        .annual,
        d("3200000000.00")
    );
    assert_eq!(
        p.budget_for(PaymentClass::Inpatient, CellClass::Western, FeeClass::All)
            .unwrap()
            .annual,
        d("14000000000.00")
    );
    assert!(
        p.budget_for(
            PaymentClass::Outpatient,
            BudgetClass::Pharmacy,
            FeeClass::Drug
        )
        .is_none()
    );

    // Volume price: override first, then class threshold, else none.
    assert_eq!(
        p.threshold_for("H0007", BudgetClass::Tertiary, FeeClass::Drug),
        Some(d("4200.00"))
    );
    assert_eq!(
        p.threshold_for("H0007", BudgetClass::Tertiary, FeeClass::Other),
        Some(d("1500.00"))
    );
    assert_eq!(
        p.threshold_for("H0001", BudgetClass::Tertiary, FeeClass::Drug),
        Some(d("2600.00"))
    );
    assert_eq!(
        p.threshold_for("H0007", BudgetClass::Secondary, FeeClass::Drug),
        Some(d("4200.00"))
    );
    assert_eq!(
        p.threshold_for("H0001", BudgetClass::Tcm, FeeClass::Drug),
        None
    );
    assert_eq!(p.volume_price.tiers.len(), 3);
    assert_eq!(p.volume_price.tiers[2].over_ratio_to, None);
    assert_eq!(p.volume_price.tiers[1].coefficient, d("0.70"));

    // Cumulative weights (default split) and budgets.
    let cell = Cell::outpatient(BudgetClass::Tertiary, FeeClass::Drug);
    assert_eq!(p.cumulative_weight(&cell, 1), d("0.080"));
    assert_eq!(p.cumulative_weight(&cell, 3), d("0.235"));
    assert_eq!(p.cumulative_weight(&cell, 12), Decimal::ONE);
    assert_eq!(p.cumulative_budget(&cell, 3), Some(d("752000000.00")));
    assert_eq!(p.cumulative_budget(&cell, 12), Some(d("3200000000.00")));

    assert_eq!(p.settlement.inpatient_budget_diseases, ["cancer_chemo"]);
    assert!(p.is_inpatient_budget_disease("cancer_chemo"));
    assert!(!p.is_inpatient_budget_disease("diabetes"));
    assert_eq!(
        p.settlement.inpatient_item_conversion.points(d("12360")),
        Some(d("100.0000"))
    );

    assert_eq!(p.warnings.method, WarningMethod::Ratio);
    assert_eq!(
        p.warnings.margin_for(OperatingIndicator::CostPerVisit),
        d("0.25")
    );
    assert_eq!(
        p.warnings.margin_for(OperatingIndicator::DrugRatio),
        d("0.30")
    );
    assert_eq!(p.warnings.min_visits, 300);
    assert_eq!(
        p.rules.cluster_min_patients_for(BudgetClass::Tertiary),
        Some(200)
    );
    assert_eq!(
        p.rules.cluster_min_patients_for(BudgetClass::Pharmacy),
        Some(15)
    );
    assert_eq!(p.rules.institution.min_admissions, 50);

    // Scoring.
    let s = &p.score;
    assert_eq!(s.indicators.len(), 6);
    assert_eq!(
        s.indicators.iter().map(|i| i.weight).sum::<Decimal>(),
        d("100")
    );
    let cards = s.indicator("cards").unwrap();
    assert_eq!(cards.method, ScoreMethod::Deduct);
    assert_eq!(cards.per_red, Some(d("20")));
    assert!(cards.applies_to_kind(InstitutionKind::Pharmacy));
    let vbp = s.indicator("vbp_share").unwrap();
    assert_eq!(vbp.source, IndicatorSource::VbpShare);
    assert!(!vbp.applies_to_kind(InstitutionKind::Pharmacy));
    assert!(vbp.applies_to_kind(InstitutionKind::Clinic));
    assert_eq!(
        s.indicator("onsite").unwrap().source,
        IndicatorSource::Assessment("onsite".to_owned())
    );
    assert_eq!(s.release_ratio(d("100")), Some(d("1.00")));
    assert_eq!(s.release_ratio(d("85")), Some(d("0.90")));
    assert_eq!(s.release_ratio(d("59.99")), Some(d("0.00")));
    assert_eq!(s.grade(d("90")), Grade::Excellent);
    assert_eq!(s.grade(d("89.99")), Grade::Pass);
    assert_eq!(s.grade(d("59.99")), Grade::Fail);
    assert!(s.redistribute_forfeit);
}

#[test]
fn conformance_2025_parses_and_validates() {
    let p = Policy::from_toml_str(&conformance(2025), Some(2025)).unwrap();
    p.validate_for_scoring().unwrap();
    assert_eq!(p.cards.yellow_hold_months, 3);
    assert_eq!(p.cards.red_suspend_months, 1);
    assert_eq!(p.warnings.min_visits, 100);
    assert_eq!(p.score.terminate_below, d("40"));
    assert_eq!(p.score.bottom_elimination_share, d("0.15"));
    assert_eq!(
        p.threshold_for("H0010", BudgetClass::Secondary, FeeClass::Drug),
        Some(d("98.00"))
    );
    assert_eq!(
        p.threshold_for("H0010", BudgetClass::Secondary, FeeClass::Other),
        Some(d("88.00"))
    );

    // The tertiary drug cell overrides the month split; the others use the default.
    let tertiary_drug = Cell::outpatient(BudgetClass::Tertiary, FeeClass::Drug);
    let tertiary_other = Cell::outpatient(BudgetClass::Tertiary, FeeClass::Other);
    assert_eq!(p.cumulative_weight(&tertiary_drug, 1), d("0.083"));
    assert_eq!(p.cumulative_weight(&tertiary_drug, 7), d("0.582"));
    assert_eq!(p.cumulative_weight(&tertiary_other, 7), d("0.570"));
    assert_eq!(p.cumulative_weight(&tertiary_drug, 12), Decimal::ONE);
    assert_eq!(p.cumulative_budget(&tertiary_drug, 1), Some(d("132927.74")));
    assert_eq!(
        p.cumulative_budget(&tertiary_drug, 12),
        Some(d("1601539.00"))
    );

    // Inpatient tcm budgeted at 0 on purpose.
    let tcm = Cell::inpatient_for(BudgetClass::Tcm);
    assert_eq!(p.budget_for_cell(&tcm).unwrap().annual, Decimal::ZERO);
    assert_eq!(p.cumulative_budget(&tcm, 6), Some(Decimal::ZERO));
}

#[test]
fn conformance_2026_takes_defaults() {
    let text = conformance(2026);
    let (p, unknown) = Policy::parse_toml_with_unknown_keys(&text).unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    p.validate(2026).unwrap();
    p.validate_for_scoring().unwrap();
    assert_eq!(p.year(), 2026);
    // Left to defaults in the file.
    assert_eq!(p.settlement.item_point_value_cap, d("1.00"));
    assert_eq!(p.settlement.item_point_value_cap.to_string(), "1.00");
    assert_eq!(
        p.settlement.monthly_weights,
        DEFAULT_MONTHLY_WEIGHTS.to_vec()
    );
    assert_eq!(p.settlement.monthly_weights[0].to_string(), "0.080");
    assert_eq!(p.settlement.inpatient_budget_diseases, ["cancer_chemo"]);
    // Given in the file.
    assert_eq!(p.cards.red_suspend_months, 2);
    let cell = Cell::outpatient(BudgetClass::Secondary, FeeClass::Drug);
    assert_eq!(p.cumulative_weight(&cell, 2), d("0.150"));
    assert_eq!(p.cumulative_budget(&cell, 12), Some(d("1387591.00")));

    // The 2026 file under the 2025 name is refused, naming the key.
    let err = Policy::from_toml_str(&text, Some(2025)).unwrap_err();
    assert_eq!(err.policy_key(), Some("policy.year"));
}

#[test]
fn defaults_are_the_example_values() {
    let p = Policy::parse_toml(&example()).unwrap();
    assert_eq!(p.settlement, Settlement::default());
    assert_eq!(
        p.settlement.inpatient_item_conversion,
        InpatientItemConversion::default()
    );
    assert_eq!(p.cards, Cards::default());
    let mut warnings = p.warnings.clone();
    warnings.margins.clear();
    assert_eq!(warnings, Warnings::default());
    let mut rules = p.rules.clone();
    rules.cluster_min_patients.clear();
    assert_eq!(rules, Rules::default());
    let mut score = p.score.clone();
    score.releases.clear();
    score.indicators.clear();
    assert_eq!(score, Score::default());
}

#[test]
fn a_policy_of_only_its_identity_takes_every_default() {
    let p = Policy::from_toml_str("[policy]\nyear = 2027\nversion = 3\n", Some(2027)).unwrap();
    assert_eq!(p.version(), 3);
    assert_eq!(p.policy.name, "");
    assert_eq!(p.settlement, Settlement::default());
    assert_eq!(p.settlement.case_surplus_retention, d("0.50"));
    assert_eq!(
        p.settlement.inpatient_item_conversion.cpi_factor,
        d("1.0300")
    );
    assert_eq!(p.cards, Cards::default());
    assert_eq!(p.warnings, Warnings::default());
    assert_eq!(p.warnings.scope_visit_types.len(), 3);
    assert_eq!(p.warnings.associated.min_top_patients, 3);
    assert_eq!(p.rules, Rules::default());
    assert_eq!(p.rules.large_outpatient_amount, d("5000.00"));
    assert_eq!(p.rules.cluster_min_patients, BTreeMap::new());
    assert_eq!(p.score, Score::default());
    assert_eq!(p.score.excellent_from, d("90"));
    // Tables without defaults are absent.
    assert!(p.budgets.is_empty());
    assert!(!p.volume_price.has_thresholds());
    assert!(p.volume_price.tiers.is_empty());
    assert!(p.warnings.margins.is_empty());
    assert_eq!(
        p.threshold_for("H0001", BudgetClass::Tertiary, FeeClass::Drug),
        None
    );
    let cell = Cell::outpatient(BudgetClass::Tcm, FeeClass::Other);
    assert_eq!(p.cumulative_budget(&cell, 5), None);
    assert_eq!(p.cumulative_weight(&cell, 5), d("0.401"));
    // Scoring needs its sections.
    assert_eq!(
        p.validate_for_scoring().unwrap_err().policy_key(),
        Some("score.release")
    );
}

#[test]
fn a_partial_table_keeps_the_defaults_of_its_other_keys() {
    let text = "[policy]\nyear = 2025\nversion = 1\n[warnings]\nmethod = \"percentile\"\n[warnings.associated]\ntop_share = \"0.02\"\n";
    let p = Policy::from_toml_str(text, Some(2025)).unwrap();
    assert_eq!(p.warnings.method, WarningMethod::Percentile);
    assert_eq!(p.warnings.percentile, 90);
    assert_eq!(p.warnings.margin, d("0.30"));
    assert_eq!(p.warnings.associated.top_share, d("0.02"));
    assert_eq!(p.warnings.associated.median_multiple, d("5"));
}

#[test]
fn serde_deserialize_reads_like_parse_toml() {
    let text = conformance(2025);
    let via_serde: Policy = toml::from_str(&text).unwrap();
    assert_eq!(via_serde, Policy::parse_toml(&text).unwrap());
}

#[test]
fn volume_price_reduction_by_tiers() {
    let p = Policy::parse_toml(&example()).unwrap();
    let vp = &p.volume_price;
    // T = 1000, A = 1250: E = 250 → 100 × 0.1 + 100 × 0.3 + 50 × 0.5 = 65.
    assert_eq!(vp.reduction(d("1250"), d("1000")), (d("250"), d("65.0000")));
    // Within the first tier: E = 33.33 → 3.333 → round4.
    assert_eq!(
        vp.reduction(d("1033.33"), d("1000")),
        (d("33.33"), d("3.3330"))
    );
    // Below the threshold: nothing.
    assert_eq!(
        vp.reduction(d("900"), d("1000")),
        (Decimal::ZERO, Decimal::ZERO)
    );
    // Zero threshold: the whole A is excess, in the open-ended tier.
    assert_eq!(vp.reduction(d("10"), Decimal::ZERO), (d("10"), d("5.0000")));
}
