//! Session settings sized from the function's memory, fixed once at cold start.
//!
//! Lambda gives one vCPU per 1,769 MB of configured memory (fractions below that, up to six
//! vCPUs at 10,240 MB), so `target_partitions` is the number of (whole or started) vCPUs. The
//! DataFusion memory pool takes a share of the memory, leaving room for the runtime, the
//! object-store buffers and the result batches a run keeps to write; operators that can spill
//! (sorts, aggregations, joins) spill to `/tmp` instead of failing when the pool is full.
//!
//! Overrides: `CLAIMLAKE_TARGET_PARTITIONS`, `CLAIMLAKE_MEMORY_POOL_MB`, `CLAIMLAKE_SPILL_DIR`
//! (default `/tmp/claimlake-spill`), `CLAIMLAKE_SPILL_MB` (default 80% of the `/tmp` size that
//! `CLAIMLAKE_EPHEMERAL_MB` states, 512 MB unless set: Lambda does not tell a function its
//! ephemeral storage, so the template sets this beside `EphemeralStorage`).

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use claimlake_engine::session::SessionSettings;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};

use crate::error::{ErrorClass, FunctionError};

/// MB of function memory per vCPU (AWS Lambda).
pub const MB_PER_VCPU: u64 = 1769;

/// The resources a function sizes its sessions from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub memory_mb: u64,
    pub target_partitions: usize,
    pub pool_mb: u64,
    pub spill_dir: PathBuf,
    pub spill_mb: u64,
}

fn env_u64(name: &str) -> Result<Option<u64>, FunctionError> {
    match std::env::var(name) {
        Ok(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            FunctionError::permanent(
                ErrorClass::Config,
                format!("{name}={v:?}: expected a whole number"),
            )
        }),
        Err(_) => Ok(None),
    }
}

impl Resources {
    /// Sizes everything from `memory_mb` (defaults only, no overrides).
    pub fn for_memory(memory_mb: u64, ephemeral_mb: u64) -> Resources {
        let memory_mb = memory_mb.max(128);
        Resources {
            memory_mb,
            target_partitions: memory_mb.div_ceil(MB_PER_VCPU).clamp(1, 6) as usize,
            // 60% of memory, less a fixed 100 MB for the runtime and clients.
            pool_mb: (memory_mb * 6 / 10).saturating_sub(100).max(64),
            spill_dir: PathBuf::from("/tmp/claimlake-spill"),
            spill_mb: ephemeral_mb * 8 / 10,
        }
    }

    /// From the Lambda environment (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`) and the overrides.
    pub fn from_env() -> Result<Resources, FunctionError> {
        let memory = env_u64("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")?.unwrap_or(1769);
        let ephemeral = env_u64("CLAIMLAKE_EPHEMERAL_MB")?.unwrap_or(512);
        let mut r = Resources::for_memory(memory, ephemeral);
        if let Some(n) = env_u64("CLAIMLAKE_TARGET_PARTITIONS")? {
            r.target_partitions = n.max(1) as usize;
        }
        if let Some(n) = env_u64("CLAIMLAKE_MEMORY_POOL_MB")? {
            r.pool_mb = n.max(16);
        }
        if let Some(n) = env_u64("CLAIMLAKE_SPILL_MB")? {
            r.spill_mb = n;
        }
        if let Ok(dir) = std::env::var("CLAIMLAKE_SPILL_DIR") {
            r.spill_dir = PathBuf::from(dir);
        }
        Ok(r)
    }

    /// The engine's process-wide session settings: a fair spilling pool (every spilling
    /// operator gets an equal share; the top consumers are named when it runs out).
    pub fn session_settings(&self) -> Result<SessionSettings, FunctionError> {
        std::fs::create_dir_all(&self.spill_dir).map_err(|e| {
            FunctionError::permanent(
                ErrorClass::Config,
                format!("spill folder {}: {e}", self.spill_dir.display()),
            )
        })?;
        let pool = TrackConsumersPool::new(
            FairSpillPool::new((self.pool_mb * 1024 * 1024) as usize),
            NonZeroUsize::new(5).expect("5 > 0"),
        );
        Ok(SessionSettings {
            target_partitions: self.target_partitions,
            memory_pool: Arc::new(pool),
            spill_dir: self.spill_dir.clone(),
            max_spill_bytes: self.spill_mb * 1024 * 1024,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_lambda_vcpus() {
        assert_eq!(Resources::for_memory(512, 512).target_partitions, 1);
        assert_eq!(Resources::for_memory(1769, 512).target_partitions, 1);
        assert_eq!(Resources::for_memory(1770, 512).target_partitions, 2);
        assert_eq!(Resources::for_memory(3538, 512).target_partitions, 2);
        assert_eq!(Resources::for_memory(4096, 512).target_partitions, 3);
        assert_eq!(Resources::for_memory(10240, 512).target_partitions, 6);
    }

    #[test]
    fn pool_leaves_headroom() {
        let r = Resources::for_memory(3008, 2048);
        assert_eq!(r.pool_mb, 3008 * 6 / 10 - 100);
        assert!(r.pool_mb < r.memory_mb);
        assert_eq!(r.spill_mb, 2048 * 8 / 10);
        assert_eq!(Resources::for_memory(128, 512).pool_mb, 64);
    }
}
