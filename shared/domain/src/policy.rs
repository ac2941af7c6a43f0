//! The policy of a year (`policy/YYYY.toml`): every number an administrator may adjust.
//!
//! The model mirrors the TOML file of policy.md / policy-example.toml table by table. Reading
//! ([`Policy::parse_toml`]) applies the documented defaults and reports a mis-typed key by its
//! dotted path; [`Policy::validate`] enforces policy.md "Validation" so that a run refuses to
//! start with one message naming the key. [`Policy::from_toml_str`] does both.
//!
//! Decimals are kept as `rust_decimal::Decimal` exactly as written (TOML strings; floats are
//! refused because they are inexact). Unknown keys are tolerated (a newer file may carry keys an
//! older engine ignores) and can be listed with [`Policy::parse_toml_with_unknown_keys`].

mod read;
mod validate;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::cell::{Cell, CellClass};
use crate::codes::{
    BudgetClass, CardColor, FeeClass, Grade, InstitutionKind, OperatingIndicator, PaymentClass,
    VisitType, code_enum,
};
use crate::error::{DomainError, Result};
use crate::money::{round2, round4};

/// A whole policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// `[policy]`: which year and version this is.
    pub policy: PolicyInfo,
    /// `[settlement]`.
    pub settlement: Settlement,
    /// `[[budget]]`: annual purchasing budgets by cell (none when absent).
    #[serde(rename = "budget")]
    pub budgets: Vec<Budget>,
    /// `[volume_price]` (量价挂钩); empty when absent (no volume-price adjustment).
    pub volume_price: VolumePrice,
    /// `[cards]`.
    pub cards: Cards,
    /// `[warnings]`.
    pub warnings: Warnings,
    /// `[rules]`: suspicion rules.
    pub rules: Rules,
    /// `[score]`: annual assessment.
    pub score: Score,
}

/// `[policy]`: identity of the file. `year` and `version` are required (they are recorded in
/// every result row); `name` defaults to empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyInfo {
    /// The year the policy governs; must equal the file's year.
    pub year: i32,
    /// Positive; bumped on every adjustment.
    pub version: i32,
    /// Free text.
    pub name: String,
}

/// `[settlement]`: monthly settlement parameters (monthly-settlement.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    /// 标准结算点值: cap of the point value of item (1:1) points. Default `1.00`.
    pub item_point_value_cap: Decimal,
    /// Share of a case-payment surplus kept by the institution, in [0, 0.50]. Default `0.50`.
    pub case_surplus_retention: Decimal,
    /// Monthly withholding for the quality guarantee, in [0, 0.10]. Default `0.05`.
    pub quality_guarantee_rate: Decimal,
    /// 门特 diseases budgeted as inpatient ("chemo" claims). Default `["cancer_chemo"]`.
    pub inpatient_budget_diseases: Vec<String>,
    /// Default month split of every annual budget: 12 values ≥ 0 summing to exactly 1.
    pub monthly_weights: Vec<Decimal>,
    /// `[settlement.inpatient_item_conversion]`.
    pub inpatient_item_conversion: InpatientItemConversion,
}

/// `[settlement.inpatient_item_conversion]`: converts item-paid inpatient amounts to points
/// (001 art 17(1)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InpatientItemConversion {
    /// 往年全市次均住院医疗费用. Default `12000.00`.
    pub base_avg_cost: Decimal,
    /// 医疗保健消费价格指数增长因素. Default `1.0300`.
    pub cpi_factor: Decimal,
    /// Points of relative weight 1.0. Default `100`.
    pub points_per_weight: Decimal,
}

impl InpatientItemConversion {
    /// Points of an item-paid inpatient claim:
    /// `round4(total_amount / (base_avg_cost × cpi_factor) × points_per_weight)`, the division
    /// carried at full precision (monthly-settlement.md Step 3). Validation guarantees a
    /// non-zero divisor; `None` only if that was bypassed or the result overflows.
    pub fn points(&self, total_amount: Decimal) -> Option<Decimal> {
        let divisor = self.base_avg_cost.checked_mul(self.cpi_factor)?;
        let ratio = total_amount.checked_div(divisor)?;
        ratio.checked_mul(self.points_per_weight).map(round4)
    }
}

/// One `[[budget]]`: the annual purchasing budget (yuan) of a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// `outpatient` or `inpatient`.
    pub payment_class: PaymentClass,
    /// Outpatient budget class, or `western`/`tcm` for inpatient cells.
    pub budget_class: CellClass,
    /// `drug`/`other` (outpatient) or `all` (inpatient).
    pub fee_class: FeeClass,
    /// Annual budget, ≥ 0, at most 2 decimals (`"0"` = no budget on purpose).
    pub annual: Decimal,
    /// Optional per-cell month split overriding `settlement.monthly_weights`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_weights: Option<Vec<Decimal>>,
}

impl Budget {
    /// The cell this budget is for.
    pub const fn cell(&self) -> Cell {
        Cell::new(self.payment_class, self.budget_class, self.fee_class)
    }
}

/// `[volume_price]` (量价挂钩, 001 art 18). All empty = no volume-price adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct VolumePrice {
    /// `[[volume_price.threshold]]`: per-doctor-day thresholds by outpatient class and fee class.
    #[serde(rename = "threshold")]
    pub thresholds: Vec<Threshold>,
    /// `[[volume_price.override]]`: an institution's own threshold (专科特色).
    #[serde(rename = "override")]
    pub overrides: Vec<ThresholdOverride>,
    /// `[[volume_price.tier]]`: reduction tiers by ratio of excess to threshold.
    #[serde(rename = "tier")]
    pub tiers: Vec<Tier>,
}

/// One `[[volume_price.threshold]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threshold {
    /// One of the five outpatient budget classes.
    pub budget_class: BudgetClass,
    /// `drug` or `other`.
    pub fee_class: FeeClass,
    /// 医师日均费用阈值 (yuan per doctor-day), ≥ 0.
    pub per_doctor_day: Decimal,
}

/// One `[[volume_price.override]]`: replaces the class threshold for one institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdOverride {
    /// The institution it applies to.
    pub institution_id: String,
    /// `drug` or `other`.
    pub fee_class: FeeClass,
    /// Its own per-doctor-day threshold, ≥ 0.
    pub per_doctor_day: Decimal,
}

/// One `[[volume_price.tier]]`: the part of the excess between `over_ratio_from × T` and
/// `over_ratio_to × T` is paid at `coefficient`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    /// Lower bound (ratio of the threshold).
    pub over_ratio_from: Decimal,
    /// Upper bound; `None` = open-ended (last tier only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_ratio_to: Option<Decimal>,
    /// Share of the points paid, in [0, 1].
    pub coefficient: Decimal,
}

impl VolumePrice {
    /// Whether any threshold or override is configured.
    pub fn has_thresholds(&self) -> bool {
        !self.thresholds.is_empty() || !self.overrides.is_empty()
    }

    /// The reduction in points for adjustable points `adjustable` against threshold `threshold`
    /// (`T = per_doctor_day × doctor-days`): excess `E = max(0, A − T)`, each tier takes the part
    /// of `E` between `from × T` and `to × T` (the open-ended tier the rest), and
    /// `reduction = round4(Σ part × (1 − coefficient))` (monthly-settlement.md Step 4).
    /// Returns `(excess, reduction)`.
    pub fn reduction(&self, adjustable: Decimal, threshold: Decimal) -> (Decimal, Decimal) {
        let excess = (adjustable - threshold).max(Decimal::ZERO);
        let mut total = Decimal::ZERO;
        for tier in &self.tiers {
            let lower = tier.over_ratio_from * threshold;
            let upper = tier.over_ratio_to.map(|to| to * threshold);
            let top = upper.map_or(excess, |u| excess.min(u));
            if top > lower {
                total += (top - lower) * (Decimal::ONE - tier.coefficient);
            }
        }
        (excess, round4(total))
    }
}

/// `[cards]`: consequences of warning cards (seed 000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cards {
    /// 暂停拨付: settlement months a yellow card holds payment, 1..=3. Default 1.
    pub yellow_hold_months: u32,
    /// 中止协议: months a red card suspends the agreement, 1..=3. Default 1.
    pub red_suspend_months: u32,
}

impl Cards {
    /// Months of effect of a card of colour `color`.
    pub const fn months(&self, color: CardColor) -> u32 {
        match color {
            CardColor::Yellow => self.yellow_hold_months,
            CardColor::Red => self.red_suspend_months,
        }
    }
}

code_enum! {
    /// `warnings.method`: how an operating indicator hits.
    pub enum WarningMethod: "warnings.method" {
        /// Value > peer × (1 + margin).
        Ratio = "ratio",
        /// Value ≥ the peer group's P-th percentile (nearest rank).
        Percentile = "percentile",
    }
}

/// `[warnings]`: quarterly operating and associated indicators (quarterly-warnings.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warnings {
    /// Visit types in scope. Default general/special outpatient and pharmacy.
    pub scope_visit_types: Vec<VisitType>,
    /// Institutions with fewer in-scope visits are neither peers nor detected. Default 300.
    pub min_visits: u32,
    /// `ratio` or `percentile`. Default `ratio`.
    pub method: WarningMethod,
    /// Ratio margin, ≥ 0. Default `0.30`.
    pub margin: Decimal,
    /// Percentile P for the `percentile` method, 1..=100. Default 90.
    pub percentile: u32,
    /// Operating indicators that must hit, 1..=5. Default 1.
    pub min_hits: u32,
    /// Visits in a quarter that make a high-frequency patient, ≥ 1. Default 12.
    pub high_frequency_visits: u32,
    /// `[warnings.margins]`: per-indicator margin overrides (none by default).
    pub margins: BTreeMap<OperatingIndicator, Decimal>,
    /// `[warnings.associated]`.
    pub associated: Associated,
}

impl Warnings {
    /// The ratio margin of `indicator`: its override, else `margin`.
    pub fn margin_for(&self, indicator: OperatingIndicator) -> Decimal {
        self.margins.get(&indicator).copied().unwrap_or(self.margin)
    }

    /// Whether claims of `visit_type` are in the warnings' scope.
    pub fn in_scope(&self, visit_type: VisitType) -> bool {
        self.scope_visit_types.contains(&visit_type)
    }
}

/// `[warnings.associated]`: top patients and associated institutions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Associated {
    /// Share of patients (by cost) that are top patients, in [0, 1]. Default `0.01`.
    pub top_share: Decimal,
    /// Top patients cost at least this multiple of the median, ≥ 0. Default `5`.
    pub median_multiple: Decimal,
    /// Minimum share of an institution's cost from top patients, in [0, 1]. Default `0.20`.
    pub min_cost_share: Decimal,
    /// Minimum distinct top patients at the institution. Default 3.
    pub min_top_patients: u32,
}

/// `[rules]`: suspicion rules (seed 002; quarterly-warnings.md Part D).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rules {
    /// R01 window in days. Default 15.
    pub readmission_days: u32,
    /// R02 tolerance over the quarter's days, ≥ 0. Default `0.20`.
    pub overbuy_tolerance: Decimal,
    /// R03 bucket length in minutes, 1..=1440. Default 10.
    pub cluster_bucket_minutes: u32,
    /// R04 minimum same-day claims, ≥ 1. Default 3.
    pub repeat_same_day_min: u32,
    /// R05 threshold (yuan), ≥ 0. Default `5000.00`.
    pub large_outpatient_amount: Decimal,
    /// R08 threshold (yuan), ≥ 0. Default `30000.00`.
    pub cross_province_inpatient_amount: Decimal,
    /// `[rules.cluster_min_patients]`: R03 distinct patients per bucket by budget class (none by
    /// default; a class without an entry is not checked by R03).
    pub cluster_min_patients: BTreeMap<BudgetClass, u32>,
    /// `[rules.institution]`.
    pub institution: InstitutionRules,
}

impl Rules {
    /// R03's minimum distinct patients for institutions of `class`, if configured.
    pub fn cluster_min_patients_for(&self, class: BudgetClass) -> Option<u32> {
        self.cluster_min_patients.get(&class).copied()
    }
}

/// `[rules.institution]`: institution-level inpatient indicators (seed 002 measure 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstitutionRules {
    /// Flag above peer × (1 + margin), ≥ 0. Default `0.30`.
    pub margin: Decimal,
    /// Admissions needed to be eligible. Default 50.
    pub min_admissions: u32,
}

/// `[score]`: annual assessment (annual-scores.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// Grade `excellent` from this total. Default `90`.
    pub excellent_from: Decimal,
    /// Grade `pass` from this total. Default `60`.
    pub pass_from: Decimal,
    /// Failing this many years in a row → no renewal, ≥ 1. Default 2.
    pub consecutive_fail_years: u32,
    /// Terminate below this total; `0` = off. Default `0`.
    pub terminate_below: Decimal,
    /// 末位淘汰 share of each peer group, in [0, 1]; `0` = off. Default `0`.
    pub bottom_elimination_share: Decimal,
    /// Forfeited guarantee goes to excellent institutions. Default `true`.
    pub redistribute_forfeit: bool,
    /// `[[score.release]]`: release tiers (required for scoring).
    #[serde(rename = "release")]
    pub releases: Vec<ReleaseTier>,
    /// `[[score.indicator]]`: indicators (required for scoring).
    #[serde(rename = "indicator")]
    pub indicators: Vec<Indicator>,
}

impl Score {
    /// Grade of a scored institution's total.
    pub fn grade(&self, total: Decimal) -> Grade {
        if total >= self.excellent_from {
            Grade::Excellent
        } else if total >= self.pass_from {
            Grade::Pass
        } else {
            Grade::Fail
        }
    }

    /// Release ratio of a total: the tier with the highest `min_score` ≤ total (`None` when no
    /// tier covers it, which validation rules out for totals ≥ 0).
    pub fn release_ratio(&self, total: Decimal) -> Option<Decimal> {
        self.releases
            .iter()
            .filter(|t| t.min_score <= total)
            .max_by_key(|t| t.min_score)
            .map(|t| t.ratio)
    }

    /// The indicator with id `id`.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// One `[[score.release]]`: totals from `min_score` release `ratio` of the reserve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseTier {
    /// Lowest total of the tier, in [0, 100].
    pub min_score: Decimal,
    /// Share released, in [0, 1].
    pub ratio: Decimal,
}

code_enum! {
    /// `score.indicator.method`: how an indicator's value becomes points.
    pub enum ScoreMethod: "score method" {
        /// `max(0, weight − per_yellow × yellows − per_red × reds)` (source `cards`).
        Deduct = "deduct",
        /// Full weight at ≤ good, 0 at ≥ bad, linear between.
        LowerBetter = "lower_better",
        /// Full weight at ≥ good, 0 at ≤ bad, linear between.
        HigherBetter = "higher_better",
        /// `weight × score / 100` (an `assessment:` source).
        Scaled = "scaled",
    }
}

/// `score.indicator.source`: where an indicator's value comes from (annual-scores.md).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndicatorSource {
    /// Yellow and red card counts of the year.
    Cards,
    /// Distinct suspicious claims per 1000 claims.
    SuspicionRate,
    /// Annual drug ratio ÷ the peer group's pooled drug ratio.
    DrugRatioVsPeer,
    /// VBP amount / (western + patent).
    VbpShare,
    /// `assessment:<part>`: the score of that part in `inputs/assessments`.
    Assessment(String),
}

impl IndicatorSource {
    /// The fixed sources (without `assessment:<part>`), for messages.
    pub const FIXED: &'static [&'static str] =
        &["cards", "suspicion_rate", "drug_ratio_vs_peer", "vbp_share"];

    /// The source as spelled in the policy file.
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            IndicatorSource::Cards => "cards".into(),
            IndicatorSource::SuspicionRate => "suspicion_rate".into(),
            IndicatorSource::DrugRatioVsPeer => "drug_ratio_vs_peer".into(),
            IndicatorSource::VbpShare => "vbp_share".into(),
            IndicatorSource::Assessment(part) => format!("assessment:{part}").into(),
        }
    }

    /// The assessment part for `assessment:<part>`.
    pub fn assessment_part(&self) -> Option<&str> {
        match self {
            IndicatorSource::Assessment(part) => Some(part),
            _ => None,
        }
    }
}

impl std::fmt::Display for IndicatorSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl std::str::FromStr for IndicatorSource {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self> {
        let unknown = || DomainError::UnknownCode {
            kind: "score indicator source",
            value: s.to_owned(),
            expected: format!("{}, assessment:<part>", IndicatorSource::FIXED.join(", ")),
        };
        Ok(match s {
            "cards" => IndicatorSource::Cards,
            "suspicion_rate" => IndicatorSource::SuspicionRate,
            "drug_ratio_vs_peer" => IndicatorSource::DrugRatioVsPeer,
            "vbp_share" => IndicatorSource::VbpShare,
            _ => {
                let part = s.strip_prefix("assessment:").ok_or_else(unknown)?;
                let ok = !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return Err(unknown());
                }
                IndicatorSource::Assessment(part.to_owned())
            }
        })
    }
}

impl Serialize for IndicatorSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

/// One `[[score.indicator]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// Unique id (`score_items.indicator_id`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Weight; the weights of all indicators sum to exactly 100.
    pub weight: Decimal,
    /// Where the value comes from.
    pub source: IndicatorSource,
    /// How the value becomes points.
    pub method: ScoreMethod,
    /// `deduct`: points per yellow card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_yellow: Option<Decimal>,
    /// `deduct`: points per red card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_red: Option<Decimal>,
    /// `lower_better`/`higher_better`: value of full points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good: Option<Decimal>,
    /// `lower_better`/`higher_better`: value of zero points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad: Option<Decimal>,
    /// Institution kinds it applies to; `None` = every kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<Vec<InstitutionKind>>,
}

impl Indicator {
    /// Whether the indicator applies to institutions of `kind`.
    pub fn applies_to_kind(&self, kind: InstitutionKind) -> bool {
        self.applies_to
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }
}

/// `Decimal` from mantissa and scale, for the defaults below.
const fn dec(mantissa: i64, scale: u32) -> Decimal {
    Decimal::from_parts(
        (mantissa as u64 & 0xFFFF_FFFF) as u32,
        (mantissa as u64 >> 32) as u32,
        0,
        false,
        scale,
    )
}

/// The default month split of policy-example.toml.
pub const DEFAULT_MONTHLY_WEIGHTS: [Decimal; 12] = [
    dec(80, 3),
    dec(70, 3),
    dec(85, 3),
    dec(83, 3),
    dec(83, 3),
    dec(84, 3),
    dec(85, 3),
    dec(85, 3),
    dec(85, 3),
    dec(85, 3),
    dec(85, 3),
    dec(90, 3),
];

impl Default for Settlement {
    /// The values of policy-example.toml.
    fn default() -> Self {
        Settlement {
            item_point_value_cap: dec(100, 2),
            case_surplus_retention: dec(50, 2),
            quality_guarantee_rate: dec(5, 2),
            inpatient_budget_diseases: vec!["cancer_chemo".to_owned()],
            monthly_weights: DEFAULT_MONTHLY_WEIGHTS.to_vec(),
            inpatient_item_conversion: InpatientItemConversion::default(),
        }
    }
}

impl Default for InpatientItemConversion {
    /// The values of policy-example.toml.
    fn default() -> Self {
        InpatientItemConversion {
            base_avg_cost: dec(1_200_000, 2),
            cpi_factor: dec(10_300, 4),
            points_per_weight: dec(100, 0),
        }
    }
}

impl Default for Cards {
    /// The values of policy-example.toml.
    fn default() -> Self {
        Cards {
            yellow_hold_months: 1,
            red_suspend_months: 1,
        }
    }
}

impl Default for Warnings {
    /// The values of policy-example.toml; no margin overrides.
    fn default() -> Self {
        Warnings {
            scope_visit_types: vec![
                VisitType::GeneralOutpatient,
                VisitType::SpecialOutpatient,
                VisitType::Pharmacy,
            ],
            min_visits: 300,
            method: WarningMethod::Ratio,
            margin: dec(30, 2),
            percentile: 90,
            min_hits: 1,
            high_frequency_visits: 12,
            margins: BTreeMap::new(),
            associated: Associated::default(),
        }
    }
}

impl Default for Associated {
    /// The values of policy-example.toml.
    fn default() -> Self {
        Associated {
            top_share: dec(1, 2),
            median_multiple: dec(5, 0),
            min_cost_share: dec(20, 2),
            min_top_patients: 3,
        }
    }
}

impl Default for Rules {
    /// The values of policy-example.toml; no cluster minimums.
    fn default() -> Self {
        Rules {
            readmission_days: 15,
            overbuy_tolerance: dec(20, 2),
            cluster_bucket_minutes: 10,
            repeat_same_day_min: 3,
            large_outpatient_amount: dec(500_000, 2),
            cross_province_inpatient_amount: dec(3_000_000, 2),
            cluster_min_patients: BTreeMap::new(),
            institution: InstitutionRules::default(),
        }
    }
}

impl Default for InstitutionRules {
    /// The values of policy-example.toml.
    fn default() -> Self {
        InstitutionRules {
            margin: dec(30, 2),
            min_admissions: 50,
        }
    }
}

impl Default for Score {
    /// The values of policy-example.toml; no release tiers, no indicators.
    fn default() -> Self {
        Score {
            excellent_from: dec(90, 0),
            pass_from: dec(60, 0),
            consecutive_fail_years: 2,
            terminate_below: dec(0, 0),
            bottom_elimination_share: dec(0, 0),
            redistribute_forfeit: true,
            releases: Vec::new(),
            indicators: Vec::new(),
        }
    }
}

impl Policy {
    /// Reads and validates a policy file: [`Policy::parse_toml`] then [`Policy::validate`]
    /// against `expected_year` (the year of `policy/YYYY.toml`; `None` checks nothing about the
    /// year). Scoring sections are checked when present; use [`Policy::validate_for_scoring`]
    /// before scoring.
    pub fn from_toml_str(text: &str, expected_year: Option<i32>) -> Result<Policy> {
        let policy = Policy::parse_toml(text)?;
        policy.validate(expected_year.unwrap_or(policy.policy.year))?;
        Ok(policy)
    }

    /// [`Policy::from_toml_str`] on the file's bytes (which must be UTF-8).
    pub fn from_toml_slice(bytes: &[u8], expected_year: Option<i32>) -> Result<Policy> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| DomainError::policy("policy", format!("the file is not UTF-8: {e}")))?;
        Policy::from_toml_str(text, expected_year)
    }

    /// Reads a policy file and applies the defaults of policy.md, without validation. A missing
    /// required key or a mis-typed known key is a [`DomainError::Policy`] naming its dotted path;
    /// unknown keys are ignored.
    pub fn parse_toml(text: &str) -> Result<Policy> {
        Policy::parse_toml_with_unknown_keys(text).map(|(policy, _)| policy)
    }

    /// [`Policy::parse_toml`], also returning the dotted paths of keys the model does not know
    /// (sorted), so a caller can note them in a report.
    pub fn parse_toml_with_unknown_keys(text: &str) -> Result<(Policy, Vec<String>)> {
        let table: toml::Table = text.parse()?;
        read::policy_from_table(&table)
    }

    /// Builds a policy from an already parsed TOML table (defaults applied, not validated).
    pub fn from_table(table: &toml::Table) -> Result<Policy> {
        read::policy_from_table(table).map(|(policy, _)| policy)
    }

    /// Checks every rule of policy.md "Validation"; the first failure is returned as a
    /// [`DomainError::Policy`] naming the key. `file_year` is the year of the file's name.
    /// `[[score.release]]`/`[[score.indicator]]` are checked only when present.
    pub fn validate(&self, file_year: i32) -> Result<()> {
        validate::validate(self, file_year)
    }

    /// Checks what scoring needs beyond [`Policy::validate`]: `[[score.release]]` and
    /// `[[score.indicator]]` present and valid.
    pub fn validate_for_scoring(&self) -> Result<()> {
        validate::validate_for_scoring(self)
    }

    /// `policy.year`.
    pub const fn year(&self) -> i32 {
        self.policy.year
    }

    /// `policy.version`.
    pub const fn version(&self) -> i32 {
        self.policy.version
    }

    /// The budget entry of a cell.
    pub fn budget_for(
        &self,
        payment_class: PaymentClass,
        budget_class: impl Into<CellClass>,
        fee_class: FeeClass,
    ) -> Option<&Budget> {
        self.budget_for_cell(&Cell::new(payment_class, budget_class.into(), fee_class))
    }

    /// The budget entry of `cell`.
    pub fn budget_for_cell(&self, cell: &Cell) -> Option<&Budget> {
        self.budgets.iter().find(|b| b.cell() == *cell)
    }

    /// The month split of `cell`: its budget's override, else `settlement.monthly_weights`.
    pub fn monthly_weights_for(&self, cell: &Cell) -> &[Decimal] {
        self.budget_for_cell(cell)
            .and_then(|b| b.monthly_weights.as_deref())
            .unwrap_or(&self.settlement.monthly_weights)
    }

    /// `Σ_{k ≤ month} weight_k` of `cell` (override first). December gives exactly 1 for a
    /// valid policy.
    ///
    /// # Panics
    /// If `month` is not in 1..=12.
    pub fn cumulative_weight(&self, cell: &Cell, month: u32) -> Decimal {
        assert!(
            (1..=12).contains(&month),
            "month of year must be 1..=12, got {month}"
        );
        self.monthly_weights_for(cell)
            .iter()
            .take(month as usize)
            .sum()
    }

    /// `CB(c, m) = round2(annual(c) × Σ_{k≤m} weight_k)`; `None` when the cell has no budget
    /// entry (monthly-settlement.md Step 5).
    ///
    /// # Panics
    /// If `month` is not in 1..=12.
    pub fn cumulative_budget(&self, cell: &Cell, month: u32) -> Option<Decimal> {
        let budget = self.budget_for_cell(cell)?;
        Some(round2(budget.annual * self.cumulative_weight(cell, month)))
    }

    /// The volume-price threshold per doctor-day of an institution for a fee class: its
    /// `[[volume_price.override]]` first, else the `[[volume_price.threshold]]` of its budget
    /// class; `None` = no threshold configured (no reduction).
    pub fn threshold_for(
        &self,
        institution_id: &str,
        budget_class: BudgetClass,
        fee_class: FeeClass,
    ) -> Option<Decimal> {
        let vp = &self.volume_price;
        vp.overrides
            .iter()
            .find(|o| o.institution_id == institution_id && o.fee_class == fee_class)
            .map(|o| o.per_doctor_day)
            .or_else(|| {
                vp.thresholds
                    .iter()
                    .find(|t| t.budget_class == budget_class && t.fee_class == fee_class)
                    .map(|t| t.per_doctor_day)
            })
    }

    /// Whether a special-outpatient claim of disease `special_disease` is a chemo claim
    /// (budgeted as inpatient).
    pub fn is_inpatient_budget_disease(&self, special_disease: &str) -> bool {
        self.settlement
            .inpatient_budget_diseases
            .iter()
            .any(|d| d == special_disease)
    }
}

impl<'de> serde::Deserialize<'de> for Policy {
    /// Deserializes through the same reader as [`Policy::parse_toml`] (defaults applied, not
    /// validated), so a policy serialized to JSON or TOML reads back identically.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        Policy::from_table(&table).map_err(serde::de::Error::custom)
    }
}
