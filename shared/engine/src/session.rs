//! The DataFusion session every computation runs in.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Process-wide session settings, fixed once at start-up by a host that knows its resources
/// (a Lambda function sizes them from its memory at cold start). Without them a session uses
/// every core and an unbounded memory pool, as the CLI and the tests do.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Default `target_partitions` of sessions that do not ask for a number.
    pub target_partitions: usize,
    /// One pool shared by every session of the process, so the limit holds for a whole run
    /// (which may use several sessions) and operators spill instead of exceeding it.
    pub memory_pool: Arc<dyn MemoryPool>,
    /// Where spill files go, and how much they may take.
    pub spill_dir: PathBuf,
    pub max_spill_bytes: u64,
}

static SETTINGS: OnceLock<SessionSettings> = OnceLock::new();

/// Fixes the process-wide settings; the first call wins (returns false when already set).
pub fn configure(settings: SessionSettings) -> bool {
    SETTINGS.set(settings).is_ok()
}

/// The process-wide settings, if a host configured them.
pub fn settings() -> Option<&'static SessionSettings> {
    SETTINGS.get()
}

/// Builds a session with `target_partitions` set to the cores available (or the configured
/// default, see [`configure`]) and the exact decimal functions of [`crate::udf`] registered.
///
/// The listing cache is off: a run writes into the lake and reads back what it (or an earlier
/// month's run in the same process) wrote, so a folder listing must never be stale.
pub fn new_session(target_partitions: Option<usize>) -> SessionContext {
    let settings = SETTINGS.get();
    let cores = target_partitions
        .or(settings.map(|s| s.target_partitions))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    // Joins are never repartitioned: every step puts the small side (policy, registry, cards,
    // exceptions) first, and that side is the hash table each partition of the large side
    // streams past (`CollectLeft`). Without table statistics DataFusion would otherwise
    // hash-shuffle the month's claims (~2 GB) once per lookup: the claim treatment shuffled
    // them five times, which cost a city settlement 1 GiB of peak memory and a third of its
    // time (bench/RESULTS.md).
    let mut config = SessionConfig::new()
        .with_target_partitions(cores.max(1))
        .with_batch_size(8192)
        .with_information_schema(false)
        .with_repartition_joins(false);
    // Working files (spilled steps, read back by later steps) give their strings as `Utf8View`:
    // a join or filter then copies a 16-byte view per row rather than the bytes, and ids of up
    // to 12 bytes (patients, institutions, doctors) compare inline (bench/RESULTS.md, seventh
    // round). The input scans (`ordered_scan`) stay `Utf8`: read as views, they raised a city
    // settlement's peak in its validation steps from ~1.75 to ~2.0 GiB, its limit, for no
    // further gain. Result tables are written as the contract's `Utf8` whatever a step
    // produced (`write::plain_strings`).
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = true;
    let mut runtime = RuntimeEnvBuilder::new()
        .with_cache_manager(CacheManagerConfig::default().with_list_files_cache_limit(0));
    if let Some(s) = settings {
        runtime = runtime
            .with_memory_pool(s.memory_pool.clone())
            .with_disk_manager_builder(
                DiskManagerBuilder::default()
                    .with_mode(DiskManagerMode::Directories(vec![s.spill_dir.clone()]))
                    .with_max_temp_directory_size(s.max_spill_bytes),
            );
    }
    let runtime = runtime
        .build_arc()
        .expect("a runtime with a creatable spill folder always builds");
    // DataFusion's default physical rules, with its filter pushdown guarded against plans that
    // carry two columns of one name (`pushdown`: it resolves them by name and can drop rows).
    let rules = datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules;
    assert_eq!(
        crate::pushdown::count_guarded(&rules),
        2,
        "DataFusion's two filter pushdown rules are found by name"
    );
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_physical_optimizer_rules(crate::pushdown::guarded(rules))
        .build();
    let ctx = SessionContext::new_with_state(state);
    crate::udf::register(&ctx);
    ctx
}

#[cfg(test)]
mod tests {
    use super::new_session;
    use arrow::array::Array;

    /// DataFusion 55's physical filter pushdown maps a filter's columns by name. Above an outer
    /// join whose sides share a column name (here `ts`), a filter comparing the two moved to
    /// one side with both columns read from it, and silently matched nothing: this is the shape
    /// of settle's `claims_basis` (a mirror's `treat_time`, the cancelled claim's
    /// `settle_time`, against its own `settle_time`). Sessions guard against it
    /// ([`super::pushdown`]).
    #[tokio::test]
    async fn a_filter_over_an_outer_join_with_shared_names_keeps_its_rows() {
        let ctx = new_session(Some(2));
        ctx.sql(
            "CREATE TABLE t AS SELECT * FROM (VALUES ('a', TIMESTAMP '2025-01-16 12:00:00')) \
             AS x(id, ts)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        for (name, row) in [
            ("v1", "('r', 'a', TIMESTAMP '2025-03-02 10:00:00')"),
            (
                "v2",
                "('s', CAST(NULL AS VARCHAR), TIMESTAMP '2025-03-05 10:00:00')",
            ),
        ] {
            ctx.sql(&format!(
                "CREATE TABLE {name} AS SELECT * FROM (VALUES {row}) AS y(id, ref, ts)"
            ))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        }
        ctx.sql("CREATE VIEW v AS SELECT * FROM v1 UNION ALL SELECT * FROM v2")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        ctx.sql(
            "CREATE VIEW basis AS SELECT v.id, COALESCE(t.ts, v.ts) AS treat, v.ts \
             FROM t RIGHT JOIN v ON t.id = v.ref",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        let batches = ctx
            .sql("SELECT id FROM basis WHERE treat <> ts")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let ids: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                let ids = crate::cells::utf8(b.column(0)).unwrap();
                (0..ids.len())
                    .map(|i| ids.value(i).to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(ids, vec!["r".to_string()]);
    }
}
