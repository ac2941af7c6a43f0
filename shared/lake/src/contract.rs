//! Arrow schemas of the input tables exactly as `data-contract.md` fixes them. Files may carry
//! extra columns (ignored); the listed columns must be present with these types (or a type that
//! widens to them without loss, see [`compatible`]).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Money: `Decimal128(18,2)` yuan.
pub const MONEY: DataType = DataType::Decimal128(18, 2);
/// Points: `Decimal128(20,4)`.
pub const POINTS: DataType = DataType::Decimal128(20, 4);
/// Point values, ratios and indicator values: `Decimal128(20,6)`.
pub const RATIO: DataType = DataType::Decimal128(20, 6);

/// The 14 money columns of a claim, in contract order.
pub const CLAIM_MONEY_COLUMNS: [&str; 14] = [
    "total_amount",
    "western_drug_amount",
    "patent_drug_amount",
    "herbal_amount",
    "consumable_amount",
    "service_amount",
    "vbp_amount",
    "vbp_points",
    "key_drug_amount",
    "pool_fund_paid",
    "serious_illness_paid",
    "other_fund_paid",
    "account_paid",
    "cash_paid",
];

fn f(name: &str, dt: DataType) -> Field {
    Field::new(name, dt, true)
}

/// `claims`: one row per settlement.
pub fn claims() -> SchemaRef {
    let mut fields = vec![
        f("claim_id", DataType::Utf8),
        f("institution_id", DataType::Utf8),
        f("prescriber_institution_id", DataType::Utf8),
        f("patient_id", DataType::Utf8),
        f("patient_gender", DataType::Utf8),
        f("insurance_type", DataType::Utf8),
        f("insured_region", DataType::Utf8),
        f("visit_type", DataType::Utf8),
        f("special_disease", DataType::Utf8),
        f("pay_method", DataType::Utf8),
        f("case_group", DataType::Utf8),
        f("case_points", POINTS),
        f("drg_weight", DataType::Decimal128(10, 4)),
        f("diagnosis_code", DataType::Utf8),
        f("doctor_id", DataType::Utf8),
        f(
            "settle_time",
            DataType::Timestamp(TimeUnit::Millisecond, None),
        ),
        f("admit_date", DataType::Date32),
        f("discharge_date", DataType::Date32),
    ];
    for c in &CLAIM_MONEY_COLUMNS[..6] {
        fields.push(f(c, MONEY));
    }
    fields.push(f("herbal_doses", DataType::Int32));
    for c in &CLAIM_MONEY_COLUMNS[6..] {
        fields.push(f(c, MONEY));
    }
    fields.push(f("reverses_claim_id", DataType::Utf8));
    Arc::new(Schema::new(fields))
}

/// `claim_items`: one row per fee line.
pub fn claim_items() -> SchemaRef {
    Arc::new(Schema::new(vec![
        f("claim_id", DataType::Utf8),
        f("line_no", DataType::Int32),
        f("item_code", DataType::Utf8),
        f("quantity", DataType::Decimal128(12, 3)),
        f("amount", MONEY),
        f("days_supply", DataType::Int32),
    ]))
}

/// `reference/institutions`.
pub fn institutions() -> SchemaRef {
    Arc::new(Schema::new(vec![
        f("institution_id", DataType::Utf8),
        f("name", DataType::Utf8),
        f("kind", DataType::Utf8),
        f("budget_class", DataType::Utf8),
        f("level", DataType::Int32),
        f("district", DataType::Utf8),
        f("grade", DataType::Utf8),
        f("agreement_start", DataType::Date32),
        f("agreement_end", DataType::Date32),
    ]))
}

/// `reference/catalog`.
pub fn catalog() -> SchemaRef {
    Arc::new(Schema::new(vec![
        f("item_code", DataType::Utf8),
        f("item_name", DataType::Utf8),
        f("fee_class", DataType::Utf8),
        f("key_monitored", DataType::Boolean),
        f("vbp", DataType::Boolean),
        f("gender_limit", DataType::Utf8),
    ]))
}

/// `inputs/assessments/year=YYYY`.
pub fn assessments() -> SchemaRef {
    Arc::new(Schema::new(vec![
        f("institution_id", DataType::Utf8),
        f("part", DataType::Utf8),
        f("score", DataType::Decimal128(5, 2)),
    ]))
}

/// `inputs/investigations/year=YYYY`.
pub fn investigations() -> SchemaRef {
    Arc::new(Schema::new(vec![
        f("institution_id", DataType::Utf8),
        f("status", DataType::Utf8),
        f("note", DataType::Utf8),
    ]))
}

/// Whether a file column of type `found` can be read as the contract type `want` without loss:
/// the same type, another string encoding, a timestamp of another unit without zone, a decimal of
/// the same scale and no larger precision, or a narrower integer.
pub fn compatible(found: &DataType, want: &DataType) -> bool {
    use DataType::*;
    if found == want {
        return true;
    }
    match (found, want) {
        (Utf8 | LargeUtf8 | Utf8View, Utf8) => true,
        (Dictionary(_, v), Utf8) => matches!(**v, Utf8 | LargeUtf8 | Utf8View),
        (Timestamp(_, None), Timestamp(_, None)) => true,
        (Decimal128(p, s), Decimal128(wp, ws)) => s == ws && p <= wp,
        (Int8 | Int16, Int32) => true,
        (Int8 | Int16 | Int32, Int64) => true,
        (Null, _) => true,
        _ => false,
    }
}
