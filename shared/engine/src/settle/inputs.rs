//! What a settlement reads besides the month's claims: the policy (as small tables), the card
//! ledger, the stored aggregates of earlier months, and the previous official month.

use std::sync::Arc;

use arrow::array::{Array, Int32Array, RecordBatch};
use claimlake_domain::cell::Cell;
use claimlake_domain::period::Month;
use claimlake_domain::policy::Policy;
use claimlake_lake::register::monthly_partitions;
use claimlake_lake::write::{WrittenObject, sha256_hex};
use claimlake_lake::{InputObject, Lake, layout};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;

use crate::error::{EngineError, Result};
use crate::manifest::PolicyRef;
use crate::sql;
use crate::tables::{Col, register};

/// A policy file as loaded: parsed and validated, with the object it came from.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub sha256: String,
    pub object: InputObject,
}

impl LoadedPolicy {
    pub fn reference(&self) -> PolicyRef {
        PolicyRef {
            year: self.policy.policy.year,
            version: self.policy.policy.version as i64,
            sha256: self.sha256.clone(),
        }
    }
}

/// Loads and validates `policy/YYYY.toml`; errors name the file and the key.
pub async fn load_policy(lake: &Lake, year: i32) -> Result<LoadedPolicy> {
    let key = layout::policy(year);
    let bytes = lake.get(&key).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| EngineError::Precondition(format!("{key}: not UTF-8 text: {e}")))?;
    let policy = Policy::from_toml_str(text, Some(year))
        .map_err(|e| EngineError::Precondition(format!("{key}: {e}")))?;
    let object = lake
        .list(&key)
        .await?
        .into_iter()
        .find(|o| o.key == key)
        .unwrap_or(InputObject {
            key: key.clone(),
            size: bytes.len() as u64,
            etag: None,
            modified: String::new(),
        });
    Ok(LoadedPolicy {
        policy,
        sha256: sha256_hex(&bytes),
        object,
    })
}

fn dec(v: rust_decimal::Decimal) -> Option<rust_decimal::Decimal> {
    Some(v)
}

/// Registers the policy as tables: `settlement_policy` (one row), `vp_thresholds`,
/// `vp_overrides`, `vp_tiers`, `budgets` (cumulative to month `m`).
pub fn register_policy_tables(ctx: &SessionContext, policy: &Policy, m: Month) -> Result<()> {
    let s = &policy.settlement;
    let c = &s.inpatient_item_conversion;
    register(
        ctx,
        "settlement_policy",
        vec![
            Col::Dec("item_point_value_cap", vec![dec(s.item_point_value_cap)]),
            Col::Dec(
                "case_surplus_retention",
                vec![dec(s.case_surplus_retention)],
            ),
            Col::Dec(
                "quality_guarantee_rate",
                vec![dec(s.quality_guarantee_rate)],
            ),
            Col::Dec("base_avg_cost", vec![dec(c.base_avg_cost)]),
            Col::Dec("cpi_factor", vec![dec(c.cpi_factor)]),
            Col::Dec("points_per_weight", vec![dec(c.points_per_weight)]),
        ],
    )?;
    let vp = &policy.volume_price;
    register(
        ctx,
        "vp_thresholds",
        vec![
            Col::Text(
                "budget_class",
                vp.thresholds
                    .iter()
                    .map(|t| Some(t.budget_class.to_string()))
                    .collect(),
            ),
            Col::Text(
                "fee_class",
                vp.thresholds
                    .iter()
                    .map(|t| Some(t.fee_class.to_string()))
                    .collect(),
            ),
            Col::Dec(
                "per_doctor_day",
                vp.thresholds
                    .iter()
                    .map(|t| Some(t.per_doctor_day))
                    .collect(),
            ),
        ],
    )?;
    register(
        ctx,
        "vp_overrides",
        vec![
            Col::Text(
                "institution_id",
                vp.overrides
                    .iter()
                    .map(|t| Some(t.institution_id.clone()))
                    .collect(),
            ),
            Col::Text(
                "fee_class",
                vp.overrides
                    .iter()
                    .map(|t| Some(t.fee_class.to_string()))
                    .collect(),
            ),
            Col::Dec(
                "per_doctor_day",
                vp.overrides
                    .iter()
                    .map(|t| Some(t.per_doctor_day))
                    .collect(),
            ),
        ],
    )?;
    register(
        ctx,
        "vp_tiers",
        vec![
            Col::Dec(
                "over_ratio_from",
                vp.tiers.iter().map(|t| Some(t.over_ratio_from)).collect(),
            ),
            Col::Dec(
                "over_ratio_to",
                vp.tiers.iter().map(|t| t.over_ratio_to).collect(),
            ),
            Col::Dec(
                "coefficient",
                vp.tiers.iter().map(|t| Some(t.coefficient)).collect(),
            ),
        ],
    )?;
    let mut pc = Vec::new();
    let mut bc = Vec::new();
    let mut fc = Vec::new();
    let mut cb = Vec::new();
    for b in &policy.budgets {
        let cell = Cell {
            payment_class: b.payment_class,
            budget_class: b.budget_class,
            fee_class: b.fee_class,
        };
        pc.push(Some(b.payment_class.to_string()));
        bc.push(Some(b.budget_class.to_string()));
        fc.push(Some(b.fee_class.to_string()));
        let mut v = policy
            .cumulative_budget(&cell, m.month)
            .unwrap_or(rust_decimal::Decimal::ZERO);
        v.rescale(2);
        cb.push(Some(v));
    }
    register(
        ctx,
        "budgets",
        vec![
            Col::Text("payment_class", pc),
            Col::Text("budget_class", bc),
            Col::Text("fee_class", fc),
            Col::Dec("cumulative_budget", cb),
        ],
    )?;
    Ok(())
}

/// Registers `card_months` from the card ledger (`results/cards/…`); none = no cards.
pub async fn register_cards(lake: &Lake, ctx: &SessionContext) -> Result<Vec<InputObject>> {
    let objects = lake.list_parquet("results/cards").await?;
    ctx.deregister_table("cards_all")?;
    if objects.is_empty() {
        let empty = ctx
            .sql(
                "SELECT CAST(NULL AS VARCHAR) AS institution_id, CAST(NULL AS VARCHAR) AS effect, \
                 CAST(NULL AS VARCHAR) AS effect_from_month, CAST(NULL AS BIGINT) AS effect_months \
                 WHERE FALSE",
            )
            .await?;
        ctx.register_table("cards_all", empty.into_view())?;
    } else {
        lake.register_in(ctx);
        let url = ListingTableUrl::parse(lake.table_url("results/cards"))?;
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("institution_id", arrow::datatypes::DataType::Utf8, true),
            arrow::datatypes::Field::new("effect", arrow::datatypes::DataType::Utf8, true),
            arrow::datatypes::Field::new(
                "effect_from_month",
                arrow::datatypes::DataType::Utf8,
                true,
            ),
            arrow::datatypes::Field::new("effect_months", arrow::datatypes::DataType::Int64, true),
        ]));
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let table = ListingTable::try_new(
            ListingTableConfig::new(url)
                .with_listing_options(options)
                .with_schema(schema),
        )?;
        ctx.register_table("cards_all", Arc::new(table))?;
    }
    let df = sql::frame(ctx, sql::settle::CARD_MONTHS, &[]).await?;
    ctx.deregister_table("card_months")?;
    ctx.register_table("card_months", df.into_view())?;
    Ok(objects)
}

/// Writes a month's stored aggregate table.
pub async fn write_versioned(
    lake: &Lake,
    ctx: &SessionContext,
    table: &str,
    batches: &[RecordBatch],
    key: &str,
    _policy: &LoadedPolicy,
) -> Result<WrittenObject> {
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => Arc::new(ctx.table(table).await?.schema().as_arrow().clone()),
    };
    Ok(lake.write_parquet(key, &schema, batches).await?)
}

/// Whether month `k`'s stored aggregates exist and were computed under this policy version.
pub async fn aggregates_current(lake: &Lake, k: Month, policy: &LoadedPolicy) -> Result<bool> {
    let key = layout::monthly_result("settlement_aggregates", k);
    let Some(bytes) = lake.get_opt(&key).await? else {
        return Ok(false);
    };
    if !lake
        .exists(&layout::monthly_result("settlement_doctor_days", k))
        .await?
    {
        return Ok(false);
    }
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(claimlake_lake::LakeError::from)?
        .with_batch_size(1)
        .build()
        .map_err(claimlake_lake::LakeError::from)?;
    for batch in reader {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        let Some(col) = batch.column_by_name("policy_version") else {
            return Ok(false);
        };
        let v = col.as_any().downcast_ref::<Int32Array>();
        return Ok(
            matches!(v, Some(v) if !v.is_null(0) && v.value(0) == policy.policy.policy.version),
        );
    }
    Ok(false)
}

/// Registers `agg` and `doctor_days_all`: the stored aggregates of months 1..m of m's year.
pub async fn register_cumulative(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
) -> Result<Vec<InputObject>> {
    let mut objects = Vec::new();
    for (table, folder, view) in [
        ("month_aggregates", "results/settlement_aggregates", "agg"),
        (
            "month_doctor_days",
            "results/settlement_doctor_days",
            "doctor_days_all",
        ),
    ] {
        let schema = Arc::new(ctx.table(table).await?.schema().as_arrow().clone());
        for k in 1..=m.month {
            let key = layout::monthly_result(
                folder.trim_start_matches("results/"),
                Month {
                    year: m.year,
                    month: k,
                },
            );
            objects.extend(lake.list(&key).await?.into_iter().filter(|o| o.key == key));
        }
        let all = format!("{view}_listing");
        lake.register_table(ctx, &all, folder, schema, monthly_partitions())
            .await?;
        // Materialized: the aggregates are small, every step reads them, and a filter on the
        // partition column stacked on a view of this listing pruned every partition in
        // DataFusion 55 (`WHERE month = 1` over `WHERE month <= 1` returned no rows).
        let df = ctx
            .sql(&format!(
                "SELECT * FROM {all} WHERE year = {} AND month <= {}",
                m.year, m.month
            ))
            .await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
        crate::ingest::register_batches(ctx, view, schema, batches)?;
    }
    Ok(objects)
}

/// Registers `prev_statements` and `prev_fund_split` (month m-1 of the same year, empty in
/// January) and `carry_statements` (month m-1, or December of the previous year in January: the
/// held balance carries across the year end).
pub async fn register_previous(
    lake: &Lake,
    ctx: &SessionContext,
    m: Month,
) -> Result<Vec<InputObject>> {
    let mut objects = Vec::new();
    let prev = m.prev();
    let same_year = m.month > 1;
    let statements_cols = "institution_id, fund_cum, vbp_accrued_cum, held_balance";
    let empty_statements = "SELECT CAST(NULL AS VARCHAR) AS institution_id, \
        CAST(NULL AS DECIMAL(18,2)) AS fund_cum, CAST(NULL AS DECIMAL(18,2)) AS vbp_accrued_cum, \
        CAST(NULL AS DECIMAL(18,2)) AS held_balance WHERE FALSE";
    let fund_cols = "institution_id, payment_class, insurance_type, fund_kind, amount_cum";
    let empty_fund = "SELECT CAST(NULL AS VARCHAR) AS institution_id, \
        CAST(NULL AS VARCHAR) AS payment_class, CAST(NULL AS VARCHAR) AS insurance_type, \
        CAST(NULL AS VARCHAR) AS fund_kind, CAST(NULL AS DECIMAL(18,2)) AS amount_cum WHERE FALSE";
    let statements_key = layout::monthly_result("statements", prev);
    let statements_exist = lake.exists(&statements_key).await?;
    let fund_key = layout::monthly_result("fund_split", prev);
    for (name, key, cols, empty, wanted) in [
        (
            "prev_statements",
            &statements_key,
            statements_cols,
            empty_statements,
            same_year,
        ),
        (
            "carry_statements",
            &statements_key,
            statements_cols,
            empty_statements,
            statements_exist,
        ),
        (
            "prev_fund_split",
            &fund_key,
            fund_cols,
            empty_fund,
            same_year,
        ),
    ] {
        ctx.deregister_table(name)?;
        let raw = format!("{name}_file");
        ctx.deregister_table(raw.as_str())?;
        if wanted && lake.exists(key).await? {
            objects.extend(lake.list(key).await?.into_iter().filter(|o| &o.key == key));
            lake.register_in(ctx);
            ctx.register_parquet(
                raw.as_str(),
                format!("{}{key}", Lake::DF_URL),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await?;
            let df = ctx.sql(&format!("SELECT {cols} FROM {raw}")).await?;
            ctx.register_table(name, df.into_view())?;
        } else {
            let df = ctx.sql(empty).await?;
            ctx.register_table(name, df.into_view())?;
        }
    }
    Ok(objects)
}

/// Stops the run when a cell receives points but has no `[[budget]]` entry (Step 5).
pub async fn check_budgets(ctx: &SessionContext) -> Result<()> {
    let df = ctx
        .sql(
            "SELECT 'outpatient' AS p, budget_class, fee_class FROM outpatient_point_values \
             WHERE cumulative_budget IS NULL AND effective_points <> 0 \
             UNION ALL SELECT 'inpatient', budget_class, fee_class FROM inpatient_point_values \
             WHERE cumulative_budget IS NULL AND (effective_points <> 0 OR chemo_deduction <> 0)",
        )
        .await?;
    let batches = df.collect().await?;
    let mut cells = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            let s = |c: usize| {
                arrow::util::display::array_value_to_string(b.column(c), i).unwrap_or_default()
            };
            cells.push(format!("{}/{}/{}", s(0), s(1), s(2)));
        }
    }
    if cells.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Precondition(format!(
            "policy has no [[budget]] entry for cell(s) that receive points: {} \
             (add the cell, or annual = \"0\" to mean no budget on purpose)",
            cells.join(", ")
        )))
    }
}
