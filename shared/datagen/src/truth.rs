//! Ground truth written to `truth/` beside the generated lake, for accuracy tests of an engine.
//!
//! | object | columns | meaning |
//! |---|---|---|
//! | `truth/quarantine_counts.parquet` | `table` Utf8, `year` Int32, `month` Int32, `reason` Utf8, `rows` Int64 | exact number of rows a correct validation quarantines per table, month and reason (items of a quarantined claim count as `claim_quarantined`); only non-zero counts; sorted by table, year, month, reason |
//! | `truth/reconciliation.parquet` | `table` Utf8, `year` Int32, `month` Int32, `read` Int64, `used` Int64, `quarantined` Int64, `netted` Int64 | per table and generated month: rows in the files, rows used, rows quarantined, and rows dropped by same-month reversal netting (both rows of a pair, and the items of the netted claim); `read = used + quarantined + netted` |
//! | `truth/suspicions.parquet` | `rule_id` Utf8, `claim_id` Utf8, `year` Int32, `quarter` Int32, plus `institution_id` Utf8, `patient_id` Utf8 | every claim a correct run of the quarter's suspicion rules R01–R08 flags (the background flags nothing); sorted by year, quarter, rule_id, claim_id |
//! | `truth/warned.parquet` | `year` Int32, `quarter` Int32, `institution_id` Utf8, `twice_in_year` Boolean, plus `yellow_count_in_year` Int32 | the warned institutions of each fully generated quarter (eligible, operating-detected and associated); `twice_in_year` = the institution is warned in at least two quarters of the year (so it gets a red card); `yellow_count_in_year` = its yellow cards of the year up to and including this one (a red card comes with every count ≥ 2) |

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use claimlake_lake::{Lake, layout};

use crate::badrows::Reason;
use crate::error::Result;
use crate::stats::PartStats;

/// One planted suspicion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SuspicionRow {
    pub year: i32,
    pub quarter: i32,
    pub rule_id: &'static str,
    pub claim_id: String,
    pub institution_id: String,
    pub patient_id: String,
}

/// One warned institution of a quarter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WarnedRow {
    pub year: i32,
    pub quarter: i32,
    pub institution_id: String,
    pub twice_in_year: bool,
    pub yellow_count_in_year: i32,
}

/// Row counts of one generated month.
#[derive(Debug, Clone)]
pub struct MonthCounts {
    pub year: i32,
    pub month: u32,
    pub claim_rows: u64,
    pub item_rows: u64,
    pub q_claims: [u64; 15],
    pub q_orphan_items: u64,
    pub q_claim_items: u64,
    pub netted_claims: u64,
    pub netted_items: u64,
}

impl MonthCounts {
    pub fn of(year: i32, month: u32, s: &PartStats) -> Self {
        MonthCounts {
            year,
            month,
            claim_rows: s.claim_rows,
            item_rows: s.item_rows,
            q_claims: s.q_claims,
            q_orphan_items: s.q_orphan_items,
            q_claim_items: s.q_claim_items,
            netted_claims: s.netted_claims,
            netted_items: s.netted_items,
        }
    }
}

fn schema(fields: Vec<(&str, DataType)>) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(n, t)| Field::new(n, t, false))
            .collect::<Vec<_>>(),
    ))
}

pub fn quarantine_counts_schema() -> SchemaRef {
    schema(vec![
        ("table", DataType::Utf8),
        ("year", DataType::Int32),
        ("month", DataType::Int32),
        ("reason", DataType::Utf8),
        ("rows", DataType::Int64),
    ])
}

pub fn reconciliation_schema() -> SchemaRef {
    schema(vec![
        ("table", DataType::Utf8),
        ("year", DataType::Int32),
        ("month", DataType::Int32),
        ("read", DataType::Int64),
        ("used", DataType::Int64),
        ("quarantined", DataType::Int64),
        ("netted", DataType::Int64),
    ])
}

pub fn suspicions_schema() -> SchemaRef {
    schema(vec![
        ("rule_id", DataType::Utf8),
        ("claim_id", DataType::Utf8),
        ("year", DataType::Int32),
        ("quarter", DataType::Int32),
        ("institution_id", DataType::Utf8),
        ("patient_id", DataType::Utf8),
    ])
}

pub fn warned_schema() -> SchemaRef {
    schema(vec![
        ("year", DataType::Int32),
        ("quarter", DataType::Int32),
        ("institution_id", DataType::Utf8),
        ("twice_in_year", DataType::Boolean),
        ("yellow_count_in_year", DataType::Int32),
    ])
}

/// Writes the four truth objects.
pub async fn write(
    lake: &Lake,
    months: &[MonthCounts],
    suspicions: &mut [SuspicionRow],
    warned: &mut [WarnedRow],
) -> Result<()> {
    // quarantine counts: (table, year, month, reason) sorted
    let mut q: Vec<(&'static str, i32, i32, &'static str, i64)> = Vec::new();
    for m in months {
        for (i, r) in Reason::CLAIMS.iter().enumerate() {
            if m.q_claims[i] > 0 {
                q.push((
                    "claims",
                    m.year,
                    m.month as i32,
                    r.as_str(),
                    m.q_claims[i] as i64,
                ));
            }
        }
        if m.q_claim_items > 0 {
            q.push((
                "claim_items",
                m.year,
                m.month as i32,
                Reason::ClaimQuarantined.as_str(),
                m.q_claim_items as i64,
            ));
        }
        if m.q_orphan_items > 0 {
            q.push((
                "claim_items",
                m.year,
                m.month as i32,
                Reason::OrphanItem.as_str(),
                m.q_orphan_items as i64,
            ));
        }
    }
    q.sort();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(q.iter().map(|r| r.0))),
        Arc::new(Int32Array::from_iter_values(q.iter().map(|r| r.1))),
        Arc::new(Int32Array::from_iter_values(q.iter().map(|r| r.2))),
        Arc::new(StringArray::from_iter_values(q.iter().map(|r| r.3))),
        Arc::new(Int64Array::from_iter_values(q.iter().map(|r| r.4))),
    ];
    let s = quarantine_counts_schema();
    let b = RecordBatch::try_new(s.clone(), cols)?;
    lake.write_parquet(&layout::truth("quarantine_counts.parquet"), &s, &[b])
        .await?;

    // reconciliation
    let mut rec: Vec<(&'static str, i32, i32, i64, i64, i64, i64)> = Vec::new();
    for m in months {
        let qc: u64 = m.q_claims.iter().sum();
        rec.push((
            "claims",
            m.year,
            m.month as i32,
            m.claim_rows as i64,
            (m.claim_rows - qc - m.netted_claims) as i64,
            qc as i64,
            m.netted_claims as i64,
        ));
        let qi = m.q_claim_items + m.q_orphan_items;
        rec.push((
            "claim_items",
            m.year,
            m.month as i32,
            m.item_rows as i64,
            (m.item_rows - qi - m.netted_items) as i64,
            qi as i64,
            m.netted_items as i64,
        ));
    }
    rec.sort();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rec.iter().map(|r| r.0))),
        Arc::new(Int32Array::from_iter_values(rec.iter().map(|r| r.1))),
        Arc::new(Int32Array::from_iter_values(rec.iter().map(|r| r.2))),
        Arc::new(Int64Array::from_iter_values(rec.iter().map(|r| r.3))),
        Arc::new(Int64Array::from_iter_values(rec.iter().map(|r| r.4))),
        Arc::new(Int64Array::from_iter_values(rec.iter().map(|r| r.5))),
        Arc::new(Int64Array::from_iter_values(rec.iter().map(|r| r.6))),
    ];
    let s = reconciliation_schema();
    let b = RecordBatch::try_new(s.clone(), cols)?;
    lake.write_parquet(&layout::truth("reconciliation.parquet"), &s, &[b])
        .await?;

    // suspicions
    suspicions.sort();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            suspicions.iter().map(|r| r.rule_id),
        )),
        Arc::new(StringArray::from_iter_values(
            suspicions.iter().map(|r| r.claim_id.as_str()),
        )),
        Arc::new(Int32Array::from_iter_values(
            suspicions.iter().map(|r| r.year),
        )),
        Arc::new(Int32Array::from_iter_values(
            suspicions.iter().map(|r| r.quarter),
        )),
        Arc::new(StringArray::from_iter_values(
            suspicions.iter().map(|r| r.institution_id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            suspicions.iter().map(|r| r.patient_id.as_str()),
        )),
    ];
    let s = suspicions_schema();
    let b = RecordBatch::try_new(s.clone(), cols)?;
    lake.write_parquet(&layout::truth("suspicions.parquet"), &s, &[b])
        .await?;

    // warned
    warned.sort();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(warned.iter().map(|r| r.year))),
        Arc::new(Int32Array::from_iter_values(
            warned.iter().map(|r| r.quarter),
        )),
        Arc::new(StringArray::from_iter_values(
            warned.iter().map(|r| r.institution_id.as_str()),
        )),
        Arc::new(BooleanArray::from(
            warned
                .iter()
                .map(|r| Some(r.twice_in_year))
                .collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from_iter_values(
            warned.iter().map(|r| r.yellow_count_in_year),
        )),
    ];
    let s = warned_schema();
    let b = RecordBatch::try_new(s.clone(), cols)?;
    lake.write_parquet(&layout::truth("warned.parquet"), &s, &[b])
        .await?;
    Ok(())
}
