//! Hand-built settlement lakes for the golden tests (owned by the settlement golden tests).
//!
//! Builders for the three inputs a settlement reads besides the claims: a small policy file
//! ([`GoldenPolicy`], written to `policy/<year>.toml`), an institution registry with agreement
//! dates ([`Inst`]), and the card ledger ([`Card`], written to `results/cards/…`). Claims are the
//! [`ClaimRow`] of [`crate::fixtures`], reshaped with the [`GoldenClaim`] helpers so that each
//! test states every amount it computes with. [`ResultTable`] reads a result table back as
//! exact `rust_decimal` values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use claimlake_lake::{Lake, contract, layout};
use rust_decimal::Decimal;

use crate::fixtures::{ClaimRow, catalog_batch, d, date};

/// The month split of every golden policy: 10% in each of January..August, 5% in
/// September..December, so `CB(month m ≤ 8) = annual × m / 10` is easy to check by hand.
pub const GOLDEN_WEIGHTS: [&str; 12] = [
    "0.10", "0.10", "0.10", "0.10", "0.10", "0.10", "0.10", "0.10", "0.05", "0.05", "0.05", "0.05",
];

/// A small policy file: the settlement keys of `policy-example.toml` with tiny budgets.
/// Scoring and warning keys take their defaults (the settlement does not read them).
#[derive(Debug, Clone)]
pub struct GoldenPolicy {
    pub version: i32,
    pub item_point_value_cap: String,
    pub case_surplus_retention: String,
    pub quality_guarantee_rate: String,
    pub inpatient_budget_diseases: Vec<String>,
    pub monthly_weights: Vec<String>,
    pub base_avg_cost: String,
    pub cpi_factor: String,
    pub points_per_weight: String,
    /// (payment_class, budget_class, fee_class, annual)
    pub budgets: Vec<(String, String, String, String)>,
    /// (budget_class, fee_class, per_doctor_day)
    pub thresholds: Vec<(String, String, String)>,
    /// (institution_id, fee_class, per_doctor_day)
    pub overrides: Vec<(String, String, String)>,
    /// (over_ratio_from, over_ratio_to, coefficient)
    pub tiers: Vec<(String, Option<String>, String)>,
    pub yellow_hold_months: u32,
    pub red_suspend_months: u32,
}

impl Default for GoldenPolicy {
    fn default() -> Self {
        GoldenPolicy {
            version: 1,
            item_point_value_cap: "1.00".into(),
            case_surplus_retention: "0.50".into(),
            quality_guarantee_rate: "0.05".into(),
            inpatient_budget_diseases: vec!["cancer_chemo".into()],
            monthly_weights: GOLDEN_WEIGHTS.iter().map(|w| w.to_string()).collect(),
            base_avg_cost: "12000.00".into(),
            cpi_factor: "1.0300".into(),
            points_per_weight: "100".into(),
            budgets: Vec::new(),
            thresholds: Vec::new(),
            overrides: Vec::new(),
            tiers: Vec::new(),
            yellow_hold_months: 1,
            red_suspend_months: 1,
        }
    }
}

impl GoldenPolicy {
    /// A `[[budget]]` entry.
    pub fn budget(
        mut self,
        payment_class: &str,
        budget_class: &str,
        fee: &str,
        annual: &str,
    ) -> Self {
        self.budgets.push((
            payment_class.into(),
            budget_class.into(),
            fee.into(),
            annual.into(),
        ));
        self
    }

    /// Both outpatient cells (`drug`, `other`) of a budget class.
    pub fn outpatient(self, budget_class: &str, drug_annual: &str, other_annual: &str) -> Self {
        self.budget("outpatient", budget_class, "drug", drug_annual)
            .budget("outpatient", budget_class, "other", other_annual)
    }

    /// A `[[volume_price.threshold]]` entry.
    pub fn threshold(mut self, budget_class: &str, fee: &str, per_doctor_day: &str) -> Self {
        self.thresholds
            .push((budget_class.into(), fee.into(), per_doctor_day.into()));
        self
    }

    /// A `[[volume_price.override]]` entry.
    pub fn threshold_override(
        mut self,
        institution: &str,
        fee: &str,
        per_doctor_day: &str,
    ) -> Self {
        self.overrides
            .push((institution.into(), fee.into(), per_doctor_day.into()));
        self
    }

    /// A `[[volume_price.tier]]` entry (`to = None`: open-ended).
    pub fn tier(mut self, from: &str, to: Option<&str>, coefficient: &str) -> Self {
        self.tiers
            .push((from.into(), to.map(str::to_string), coefficient.into()));
        self
    }

    /// The three tiers of `policy-example.toml`: 0–10% at 0.90, 10–20% at 0.70, above at 0.50.
    pub fn example_tiers(self) -> Self {
        self.tier("0.00", Some("0.10"), "0.90")
            .tier("0.10", Some("0.20"), "0.70")
            .tier("0.20", None, "0.50")
    }

    /// The policy file text of `year`.
    pub fn to_toml(&self, year: i32) -> String {
        fn list(v: &[String]) -> String {
            let items: Vec<String> = v.iter().map(|s| format!("\"{s}\"")).collect();
            format!("[{}]", items.join(", "))
        }
        let mut t = String::new();
        let _ = writeln!(
            t,
            "[policy]\nyear = {year}\nversion = {}\nname = \"golden test policy\"\n",
            self.version
        );
        let _ = writeln!(
            t,
            "[settlement]\nitem_point_value_cap = \"{}\"\ncase_surplus_retention = \"{}\"\n\
             quality_guarantee_rate = \"{}\"\ninpatient_budget_diseases = {}\n\
             monthly_weights = {}\n",
            self.item_point_value_cap,
            self.case_surplus_retention,
            self.quality_guarantee_rate,
            list(&self.inpatient_budget_diseases),
            list(&self.monthly_weights),
        );
        let _ = writeln!(
            t,
            "[settlement.inpatient_item_conversion]\nbase_avg_cost = \"{}\"\ncpi_factor = \"{}\"\n\
             points_per_weight = \"{}\"\n",
            self.base_avg_cost, self.cpi_factor, self.points_per_weight
        );
        for (p, b, f, a) in &self.budgets {
            let _ = writeln!(
                t,
                "[[budget]]\npayment_class = \"{p}\"\nbudget_class = \"{b}\"\nfee_class = \"{f}\"\n\
                 annual = \"{a}\"\n"
            );
        }
        for (b, f, v) in &self.thresholds {
            let _ = writeln!(
                t,
                "[[volume_price.threshold]]\nbudget_class = \"{b}\"\nfee_class = \"{f}\"\n\
                 per_doctor_day = \"{v}\"\n"
            );
        }
        for (i, f, v) in &self.overrides {
            let _ = writeln!(
                t,
                "[[volume_price.override]]\ninstitution_id = \"{i}\"\nfee_class = \"{f}\"\n\
                 per_doctor_day = \"{v}\"\n"
            );
        }
        for (from, to, c) in &self.tiers {
            let _ = writeln!(t, "[[volume_price.tier]]\nover_ratio_from = \"{from}\"");
            if let Some(to) = to {
                let _ = writeln!(t, "over_ratio_to = \"{to}\"");
            }
            let _ = writeln!(t, "coefficient = \"{c}\"\n");
        }
        let _ = writeln!(
            t,
            "[cards]\nyellow_hold_months = {}\nred_suspend_months = {}",
            self.yellow_hold_months, self.red_suspend_months
        );
        t
    }
}

/// Writes `policy/<year>.toml` into a local lake.
pub fn write_policy(lake: &Lake, year: i32, policy: &GoldenPolicy) {
    assert!(!lake.is_s3(), "golden lakes are local folders");
    let path = std::path::Path::new(lake.root()).join(layout::policy(year));
    std::fs::create_dir_all(path.parent().expect("policy folder")).expect("create policy/");
    std::fs::write(&path, policy.to_toml(year)).expect("write policy");
}

/// One registry row.
#[derive(Debug, Clone)]
pub struct Inst {
    pub id: String,
    pub kind: String,
    pub budget_class: String,
    pub level: i32,
    pub agreement_start: Option<String>,
    pub agreement_end: Option<String>,
}

impl Inst {
    pub fn new(id: &str, kind: &str, budget_class: &str) -> Self {
        let level = match budget_class {
            "tertiary" => 3,
            "secondary" | "tcm" => 2,
            "pharmacy" => 0,
            _ => 1,
        };
        Inst {
            id: id.into(),
            kind: kind.into(),
            budget_class: budget_class.into(),
            level,
            agreement_start: None,
            agreement_end: None,
        }
    }

    pub fn hospital(id: &str, budget_class: &str) -> Self {
        Self::new(id, "hospital", budget_class)
    }

    pub fn clinic(id: &str, budget_class: &str) -> Self {
        Self::new(id, "clinic", budget_class)
    }

    pub fn pharmacy(id: &str) -> Self {
        Self::new(id, "pharmacy", "pharmacy")
    }

    /// Service-agreement dates ("YYYY-MM-DD"; `None` = open).
    pub fn agreement(mut self, start: Option<&str>, end: Option<&str>) -> Self {
        self.agreement_start = start.map(str::to_string);
        self.agreement_end = end.map(str::to_string);
        self
    }
}

/// The usual golden registry: H1 tertiary hospital, H2 TCM hospital, H3 tertiary hospital,
/// C1 other-primary clinic, P1 and P2 pharmacies; no agreement dates.
pub fn golden_registry() -> Vec<Inst> {
    vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H2", "tcm"),
        Inst::hospital("H3", "tertiary"),
        Inst::clinic("C1", "other_primary"),
        Inst::pharmacy("P1"),
        Inst::pharmacy("P2"),
    ]
}

fn strings(v: impl Iterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v.collect::<Vec<_>>()))
}

/// Writes `reference/institutions` (and the fixtures' catalogue).
pub async fn write_registry(lake: &Lake, rows: &[Inst]) {
    let batch = RecordBatch::try_new(
        contract::institutions(),
        vec![
            strings(rows.iter().map(|r| Some(r.id.clone()))),
            strings(rows.iter().map(|r| Some(format!("{} name", r.id)))),
            strings(rows.iter().map(|r| Some(r.kind.clone()))),
            strings(rows.iter().map(|r| Some(r.budget_class.clone()))),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.level).collect::<Vec<_>>(),
            )),
            strings(rows.iter().map(|_| Some("d1".to_string()))),
            strings(rows.iter().map(|_| None)),
            Arc::new(Date32Array::from(
                rows.iter()
                    .map(|r| r.agreement_start.as_deref().map(date))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter()
                    .map(|r| r.agreement_end.as_deref().map(date))
                    .collect::<Vec<_>>(),
            )),
        ],
    )
    .expect("institutions batch");
    lake.write_parquet(
        "reference/institutions/part-000.parquet",
        &contract::institutions(),
        &[batch],
    )
    .await
    .expect("write institutions");
    lake.write_parquet(
        "reference/catalog/part-000.parquet",
        &contract::catalog(),
        &[catalog_batch()],
    )
    .await
    .expect("write catalog");
}

/// One card of the card ledger (quarterly-warnings.md Part C, outputs.md `cards`).
#[derive(Debug, Clone)]
pub struct Card {
    pub institution_id: String,
    pub color: String,
    pub effect: String,
    /// "YYYY-MM": the first settlement month the card acts on (= its issue month).
    pub effect_from_month: String,
    pub effect_months: i64,
    pub yellow_count_in_year: i64,
}

impl Card {
    /// A yellow card: payment hold for `months` months from `from` ("YYYY-MM").
    pub fn yellow(institution: &str, from: &str, months: i64) -> Self {
        Card {
            institution_id: institution.into(),
            color: "yellow".into(),
            effect: "payment_hold".into(),
            effect_from_month: from.into(),
            effect_months: months,
            yellow_count_in_year: 1,
        }
    }

    /// A red card: agreement suspended for `months` months from `from` ("YYYY-MM").
    pub fn red(institution: &str, from: &str, months: i64) -> Self {
        Card {
            institution_id: institution.into(),
            color: "red".into(),
            effect: "agreement_suspended".into(),
            effect_from_month: from.into(),
            effect_months: months,
            yellow_count_in_year: 2,
        }
    }
}

/// The schema of the `cards` result table.
pub fn cards_schema() -> SchemaRef {
    let f = |n: &str, t: DataType| Field::new(n, t, true);
    Arc::new(Schema::new(vec![
        f("institution_id", DataType::Utf8),
        f("color", DataType::Utf8),
        f("year", DataType::Int32),
        f("quarter", DataType::Int32),
        f("issue_year", DataType::Int32),
        f("issue_month", DataType::Int32),
        f("effect", DataType::Utf8),
        f("effect_from_month", DataType::Utf8),
        f("effect_months", DataType::Int64),
        f("yellow_count_in_year", DataType::Int64),
        f("policy_year", DataType::Int32),
        f("policy_version", DataType::Int32),
    ]))
}

/// Writes the cards of quarter `(year, quarter)` to `results/cards/year=/quarter=/data.parquet`;
/// each card is issued in the month it takes effect.
pub async fn write_cards(lake: &Lake, year: i32, quarter: i32, cards: &[Card]) {
    let issue: Vec<(i32, i32)> = cards
        .iter()
        .map(|c| {
            let (y, m) = c.effect_from_month.split_once('-').expect("YYYY-MM");
            (y.parse().expect("year"), m.parse().expect("month"))
        })
        .collect();
    let ints = |v: Vec<i32>| -> ArrayRef { Arc::new(Int32Array::from(v)) };
    let n = cards.len();
    let batch = RecordBatch::try_new(
        cards_schema(),
        vec![
            strings(cards.iter().map(|c| Some(c.institution_id.clone()))),
            strings(cards.iter().map(|c| Some(c.color.clone()))),
            ints(vec![year; n]),
            ints(vec![quarter; n]),
            ints(issue.iter().map(|i| i.0).collect()),
            ints(issue.iter().map(|i| i.1).collect()),
            strings(cards.iter().map(|c| Some(c.effect.clone()))),
            strings(cards.iter().map(|c| Some(c.effect_from_month.clone()))),
            Arc::new(Int64Array::from(
                cards.iter().map(|c| c.effect_months).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                cards
                    .iter()
                    .map(|c| c.yellow_count_in_year)
                    .collect::<Vec<_>>(),
            )),
            ints(vec![year; n]),
            ints(vec![1; n]),
        ],
    )
    .expect("cards batch");
    lake.write_parquet(
        &format!("results/cards/year={year}/quarter={quarter}/data.parquet"),
        &cards_schema(),
        &[batch],
    )
    .await
    .expect("write cards");
}

/// The official `statements` of an earlier month as a later month reads them (their
/// `institution_id`, `fund_cum`, `vbp_accrued_cum` and `held_balance`), e.g. December of the
/// previous year for the held balance carried across the year end. Rows: (institution,
/// fund_cum, vbp_accrued_cum, held_balance).
pub async fn write_statements(
    lake: &Lake,
    year: i32,
    month: u32,
    rows: &[(&str, &str, &str, &str)],
) {
    let money = |v: Vec<&str>| -> ArrayRef {
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
                .with_precision_and_scale(18, 2)
                .expect("money type"),
        )
    };
    let f = |n: &str, t: DataType| Field::new(n, t, true);
    let schema = Arc::new(Schema::new(vec![
        f("institution_id", DataType::Utf8),
        f("fund_cum", DataType::Decimal128(18, 2)),
        f("vbp_accrued_cum", DataType::Decimal128(18, 2)),
        f("held_balance", DataType::Decimal128(18, 2)),
        f("policy_year", DataType::Int32),
        f("policy_version", DataType::Int32),
    ]));
    let n = rows.len();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            strings(rows.iter().map(|r| Some(r.0.to_string()))),
            money(rows.iter().map(|r| r.1).collect()),
            money(rows.iter().map(|r| r.2).collect()),
            money(rows.iter().map(|r| r.3).collect()),
            Arc::new(Int32Array::from(vec![year; n])),
            Arc::new(Int32Array::from(vec![1; n])),
        ],
    )
    .expect("statements batch");
    lake.write_parquet(
        &format!("results/statements/year={year}/month={month:02}/data.parquet"),
        &schema,
        &[batch],
    )
    .await
    .expect("write statements");
}

/// Reshapes a fixture claim so that a test states every amount it relies on.
pub trait GoldenClaim: Sized {
    /// Fee parts (western, patent, herbal, consumable, service); `total_amount` is their sum.
    /// Clears VBP and key-drug amounts; payers must be set afterwards ([`GoldenClaim::payers`]).
    fn fees(
        self,
        western: &str,
        patent: &str,
        herbal: &str,
        consumable: &str,
        service: &str,
    ) -> Self;
    /// VBP part of the drugs at actual price and its policy points.
    fn vbp(self, amount: &str, points: &str) -> Self;
    /// Payer parts (pool, serious_illness, other, account, cash); must sum to `total_amount`.
    fn payers(self, pool: &str, serious: &str, other: &str, account: &str, cash: &str) -> Self;
    /// Case payment with these case points.
    fn case(self, points: &str) -> Self;
    /// Item payment (no case points).
    fn item(self) -> Self;
    fn doctor(self, doctor: &str) -> Self;
    fn resident(self) -> Self;
    /// A 门特 claim of `disease` (`cancer_chemo` is a chemo claim under the golden policy).
    fn special(self, disease: &str) -> Self;
}

impl GoldenClaim for ClaimRow {
    fn fees(
        mut self,
        western: &str,
        patent: &str,
        herbal: &str,
        consumable: &str,
        service: &str,
    ) -> Self {
        let parts = [d(western), d(patent), d(herbal), d(consumable), d(service)];
        let total: Decimal = parts.iter().sum();
        self.fees = [
            Some(total),
            Some(parts[0]),
            Some(parts[1]),
            Some(parts[2]),
            Some(parts[3]),
            Some(parts[4]),
        ];
        self.drugs = [
            Some(Decimal::ZERO),
            Some(Decimal::ZERO),
            Some(Decimal::ZERO),
        ];
        self.herbal_doses = Some(if parts[2].is_zero() { 0 } else { 1 });
        self
    }

    fn vbp(mut self, amount: &str, points: &str) -> Self {
        self.drugs[0] = Some(d(amount));
        self.drugs[1] = Some(d(points));
        self
    }

    fn payers(mut self, pool: &str, serious: &str, other: &str, account: &str, cash: &str) -> Self {
        let parts = [d(pool), d(serious), d(other), d(account), d(cash)];
        let sum: Decimal = parts.iter().sum();
        assert_eq!(
            Some(sum),
            self.fees[0],
            "claim {:?}: payer parts must sum to total_amount",
            self.claim_id
        );
        self.payers = parts.map(Some);
        self
    }

    fn case(mut self, points: &str) -> Self {
        self.pay_method = Some("case".into());
        self.case_group = Some("G01".into());
        self.case_points = Some(d(points));
        self
    }

    fn item(mut self) -> Self {
        self.pay_method = Some("item".into());
        self.case_group = None;
        self.case_points = None;
        self
    }

    fn doctor(mut self, doctor: &str) -> Self {
        self.doctor_id = Some(doctor.into());
        self
    }

    fn resident(mut self) -> Self {
        self.insurance_type = Some("resident".into());
        self
    }

    fn special(mut self, disease: &str) -> Self {
        self.visit_type = Some("special_outpatient".into());
        self.special_disease = Some(disease.into());
        self
    }
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Dec(Decimal),
    Int(i64),
    Bool(bool),
}

/// One row of a result table, by column name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub BTreeMap<String, Value>);

impl Row {
    fn get(&self, col: &str) -> &Value {
        self.0
            .get(col)
            .unwrap_or_else(|| panic!("no column {col} in {self:?}"))
    }

    /// A decimal column; panics on null.
    pub fn dec(&self, col: &str) -> Decimal {
        self.opt_dec(col)
            .unwrap_or_else(|| panic!("{col} is null in {self:?}"))
    }

    /// A nullable decimal column.
    pub fn opt_dec(&self, col: &str) -> Option<Decimal> {
        match self.get(col) {
            Value::Null => None,
            Value::Dec(v) => Some(*v),
            other => panic!("{col} is not a decimal: {other:?}"),
        }
    }

    pub fn int(&self, col: &str) -> i64 {
        match self.get(col) {
            Value::Int(v) => *v,
            other => panic!("{col} is not an integer: {other:?}"),
        }
    }

    pub fn flag(&self, col: &str) -> bool {
        match self.get(col) {
            Value::Bool(v) => *v,
            other => panic!("{col} is not a flag: {other:?}"),
        }
    }

    pub fn text(&self, col: &str) -> String {
        match self.get(col) {
            Value::Text(v) => v.clone(),
            other => panic!("{col} is not text: {other:?}"),
        }
    }
}

/// A result table read into rows (decimals exact: Decimal128 mantissa and scale).
#[derive(Debug, Clone)]
pub struct ResultTable {
    pub name: String,
    pub rows: Vec<Row>,
}

fn cell_value(a: &ArrayRef, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Decimal128(_, scale) => {
            let v = a
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .expect("decimal array")
                .value(i);
            Value::Dec(Decimal::from_i128_with_scale(v, *scale as u32))
        }
        DataType::Boolean => Value::Bool(
            a.as_any()
                .downcast_ref::<BooleanArray>()
                .expect("bool array")
                .value(i),
        ),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let c = arrow::compute::cast(a, &DataType::Int64).expect("cast to Int64");
            Value::Int(
                c.as_any()
                    .downcast_ref::<Int64Array>()
                    .expect("int array")
                    .value(i),
            )
        }
        _ => Value::Text(arrow::util::display::array_value_to_string(a, i).expect("display value")),
    }
}

impl ResultTable {
    pub fn new(name: &str, batches: &[RecordBatch]) -> Self {
        let mut rows = Vec::new();
        for b in batches {
            let schema = b.schema();
            for i in 0..b.num_rows() {
                let mut row = BTreeMap::new();
                for (f, a) in schema.fields().iter().zip(b.columns()) {
                    row.insert(f.name().clone(), cell_value(a, i));
                }
                rows.push(Row(row));
            }
        }
        ResultTable {
            name: name.into(),
            rows,
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows whose text columns equal `keys`.
    pub fn filter(&self, keys: &[(&str, &str)]) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|r| {
                keys.iter()
                    .all(|(c, v)| matches!(r.0.get(*c), Some(Value::Text(t)) if t == v))
            })
            .collect()
    }

    /// The one row whose text columns equal `keys`; panics (listing the table) otherwise.
    pub fn row(&self, keys: &[(&str, &str)]) -> &Row {
        let found = self.filter(keys);
        assert!(
            found.len() == 1,
            "{}: expected one row for {keys:?}, found {}; table:\n{:#?}",
            self.name,
            found.len(),
            self.rows
        );
        found[0]
    }

    /// The values of a text column, in row order.
    pub fn texts(&self, col: &str) -> Vec<String> {
        self.rows.iter().map(|r| r.text(col)).collect()
    }
}
