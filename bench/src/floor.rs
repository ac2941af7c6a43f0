//! The scan floor: the time DataFusion takes to read the columns a computation reads from the
//! same Parquet files, with an aggregate trivial enough that decoding dominates.
//!
//! `settle` validates every column of the data contract's `claims` (ingest checks each field of
//! each row), so its floor reads all of them. Of `claim_items` it decodes only `claim_id` (an
//! item's one rule is its claim's status; the settlement itself uses the claim header's
//! sub-totals), plus the full rows of the few thousand rejected items, read back by row
//! selection: the floor reads `claim_id`.
//! `warn` reads the quarter's settled months back through their validation records
//! (`ledger/validation/`, written by the settlements the bench runs first) instead of validating
//! them again, so its floor is the columns its own steps read: the 18 `claims` columns of 00a
//! for the quarter's three months, the four `claim_items` columns of 00b, and the nine `claims`
//! columns of 00c for the month before (R01 and R06 look back into it). Each column is folded
//! into an aggregate that needs its values decoded (sum of string byte lengths, sum of numbers,
//! max of dates), so no statistics shortcut can skip the pages.

use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::settle::REUSED_CLAIM_COLUMNS;
use claimlake_engine::warn::{PREV_CLAIM_COLUMNS, QUARTER_CLAIM_COLUMNS, QUARTER_ITEM_COLUMNS};
use claimlake_lake::{contract, layout};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::error::Result;

/// One folded expression per column of `schema`.
fn folds(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| {
            let c = format!("\"{}\"", f.name());
            match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    format!("SUM(octet_length({c}))")
                }
                DataType::Boolean => format!("SUM(CASE WHEN {c} THEN 1 ELSE 0 END)"),
                DataType::Decimal128(_, _) | DataType::Int32 | DataType::Int64 => {
                    format!("SUM({c})")
                }
                _ => format!("MAX({c})"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `schema` reduced to `columns` (contract columns, so they exist).
fn project(schema: &SchemaRef, columns: &[&str]) -> SchemaRef {
    let read: Vec<usize> = columns
        .iter()
        .map(|c| schema.index_of(c).expect("a contract column"))
        .collect();
    std::sync::Arc::new(schema.project(&read).expect("columns of the contract"))
}

/// The folders the floor reads for a computation and period.
pub fn folders(kind: &str, period: &str) -> Result<Vec<(String, SchemaRef)>> {
    let bad = |e: claimlake_domain::DomainError| crate::error::BenchError::Usage(e.to_string());
    match kind {
        "settle" => {
            let m = Month::parse(period).map_err(bad)?;
            Ok(vec![
                (layout::claims_month(m), contract::claims()),
                (
                    layout::claim_items_month(m),
                    project(&contract::claim_items(), &["claim_id"]),
                ),
            ])
        }
        "settle-reused" => {
            let m = Month::parse(period).map_err(bad)?;
            Ok(vec![(
                layout::claims_month(m),
                project(&contract::claims(), &REUSED_CLAIM_COLUMNS),
            )])
        }
        "warn" => {
            let q = Quarter::parse(period).map_err(bad)?;
            let claims = project(&contract::claims(), &QUARTER_CLAIM_COLUMNS);
            let mut out = Vec::new();
            let before = q.prev_month_before();
            if before.year == q.year {
                out.push((
                    layout::claims_month(before),
                    project(&contract::claims(), &PREV_CLAIM_COLUMNS),
                ));
            }
            let items = project(&contract::claim_items(), &QUARTER_ITEM_COLUMNS);
            for m in q.months() {
                out.push((layout::claims_month(m), claims.clone()));
                out.push((layout::claim_items_month(m), items.clone()));
            }
            Ok(out)
        }
        other => Err(crate::error::BenchError::Usage(format!(
            "floor: unknown computation `{other}` (settle, settle-reused or warn)"
        ))),
    }
}

/// Reads every folder of `kind`/`period` under the local lake `root`; prints rows read.
pub async fn run(root: &str, kind: &str, period: &str) -> Result<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(cores));
    let mut rows = 0i64;
    for (i, (folder, schema)) in folders(kind, period)?.into_iter().enumerate() {
        let path = format!("{}/{}/", root.trim_end_matches('/'), folder);
        if !std::path::Path::new(&path).exists() {
            continue;
        }
        let name = format!("t{i}");
        ctx.register_parquet(&name, &path, ParquetReadOptions::default())
            .await?;
        let sql = format!("SELECT COUNT(*) AS n, {} FROM {name}", folds(&schema));
        let batches = ctx.sql(&sql).await?.collect().await?;
        if let Some(b) = batches.first() {
            let n = b
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .map(|a| a.value(0))
                .unwrap_or(0);
            rows += n;
        }
    }
    println!("scan floor {kind} {period}: {rows} rows");
    Ok(())
}
