//! The DataFusion session every computation runs in.

use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Builds a session with `target_partitions` set to the cores available (a Lambda gets one vCPU
/// per 1,769 MB) and the exact decimal functions of [`crate::udf`] registered.
///
/// The listing cache is off: a run writes into the lake and reads back what it (or an earlier
/// month's run in the same process) wrote, so a folder listing must never be stale.
pub fn new_session(target_partitions: Option<usize>) -> SessionContext {
    let cores = target_partitions.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut config = SessionConfig::new()
        .with_target_partitions(cores.max(1))
        .with_batch_size(8192)
        .with_information_schema(false);
    // Strings stay `Utf8` end to end: result tables keep the contract's types whichever way a
    // step's input arrived (DataFusion would otherwise read Parquet strings as `Utf8View`).
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let runtime = RuntimeEnvBuilder::new()
        .with_cache_manager(CacheManagerConfig::default().with_list_files_cache_limit(0))
        .build_arc()
        .expect("a runtime with default settings always builds");
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    crate::udf::register(&ctx);
    ctx
}
