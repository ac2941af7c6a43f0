//! The one publishing path of every computation (outputs.md, Publishing rules). [`run`] wraps a
//! computation:
//!
//! 1. takes the lock of its (kind, period) in the lake's own space (a scenario's locks are its
//!    own), failing fast with the holder's run id and start time, or taking over a stale lock;
//! 2. resolves publishes that earlier runs left interrupted ([`Recovery`]);
//! 3. runs the computation against a **staged** view of the lake: everything it writes goes to
//!    `staging/<run_id>/`, everything it reads is recorded for the manifest;
//! 4. publishes through the journal (`claimlake_lake::publish`): history of every replaced
//!    object, copies into place with reports last, then the run manifest; a failure before the
//!    manifest is written is rolled back, so the official results are the old set or the new.
//!
//! A computation is any `FnOnce(Lake) -> Future<Output = Result<Computed<T>>>` that writes
//! through the lake it is given: settle, warn, validate, score, impact all use this function.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use claimlake_lake::lock::{Lock, LockRecord};
use claimlake_lake::publish::{Journal, JournalState, Replaced};
use claimlake_lake::{InputObject, Lake, LakeError, layout};

use crate::error::{EngineError, Result};
use crate::manifest::{PolicyRef, Recovery, RunManifest, TableCounts, now_rfc3339};

/// The time source of lock records and stale-lock decisions (tests inject a fixed time).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Settings of publishing.
#[derive(Clone)]
pub struct PublishOptions {
    /// A lock older than this may be taken over (outputs.md: 30 minutes).
    pub stale_after: Duration,
    pub clock: Clock,
}

impl std::fmt::Debug for PublishOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishOptions")
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            stale_after: Duration::minutes(30),
            clock: Arc::new(Utc::now),
        }
    }
}

impl PublishOptions {
    /// The defaults, with `CLAIMLAKE_LOCK_STALE_MINUTES` overriding the 30-minute limit.
    pub fn from_env() -> Self {
        let mut o = PublishOptions::default();
        if let Some(m) = std::env::var("CLAIMLAKE_LOCK_STALE_MINUTES")
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|m| *m > 0)
        {
            o.stale_after = Duration::minutes(m);
        }
        o
    }

    /// The same options with the clock fixed at `now`.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.clock = Arc::new(move || now);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// What a computation hands back besides its outcome: the manifest's policy, the inputs it
/// knows it read (the staging store adds every object actually read), row counts and notes.
#[derive(Debug, Clone)]
pub struct Computed<T> {
    pub outcome: T,
    pub policy: Option<PolicyRef>,
    pub inputs: Vec<InputObject>,
    pub row_counts: BTreeMap<String, TableCounts>,
    pub notes: Vec<String>,
}

impl<T> Computed<T> {
    /// An outcome with nothing else to record.
    pub fn new(outcome: T) -> Self {
        Computed {
            outcome,
            policy: None,
            inputs: Vec::new(),
            row_counts: BTreeMap::new(),
            notes: Vec::new(),
        }
    }
}

/// A published run.
#[derive(Debug, Clone)]
pub struct Published<T> {
    pub run_id: String,
    pub outcome: T,
    /// The manifest as written.
    pub manifest: RunManifest,
}

impl<T> Published<T> {
    /// Official objects the run replaced (kept in history).
    pub fn replaced(&self) -> &[Replaced] {
        &self.manifest.replaced
    }
}

/// Runs `compute` for (`kind`, `period`) on `lake` (official or a scenario) and publishes what
/// it wrote. See the module docs for the steps.
pub async fn run<T, F, Fut>(
    lake: &Lake,
    kind: &str,
    period: &str,
    opts: &PublishOptions,
    compute: F,
) -> Result<Published<T>>
where
    F: FnOnce(Lake) -> Fut,
    Fut: Future<Output = Result<Computed<T>>>,
{
    let mut manifest = RunManifest::start(kind, period, lake.scenario_name().map(str::to_string));
    let run_id = manifest.run_id.clone();
    let record = LockRecord::new(&run_id, kind, period, lake.scenario_name(), opts.now());
    let lock = match lake
        .acquire_lock(record, opts.stale_after, opts.now())
        .await
    {
        Ok(lock) => lock,
        Err(e) => return fail(lake, manifest, None, e.into()).await,
    };
    if let Some(stale) = &lock.took_over {
        manifest.notes.push(format!(
            "took over the stale lock of run {} (taken {})",
            stale.run_id, stale.acquired
        ));
    }
    let recovered = async {
        let r = recover(lake, &lock, opts).await?;
        if let Some(stale) = &lock.took_over {
            abandoned(lake, stale, &run_id).await?;
        }
        // Staging folders of finished runs (a failed run whose clean-up failed too).
        sweep_staging(lake).await?;
        Ok::<_, EngineError>(r)
    }
    .await;
    match recovered {
        Ok(r) => manifest.recovered = r,
        Err(e) => return fail(lake, manifest, Some(&lock), e).await,
    }

    let (staged, staging) = lake.staged(&run_id);
    let computed = match compute(staged).await {
        Ok(c) => c,
        Err(e) => {
            let _ = lake.discard_staging(&run_id).await;
            return fail(lake, manifest, Some(&lock), e).await;
        }
    };
    manifest.policy = computed.policy;
    // Inputs: every object read from the lake (with the metadata of the version read), then
    // what the computation lists besides, except the objects it wrote itself.
    let staged_keys: std::collections::BTreeSet<String> =
        staging.objects().into_iter().map(|o| o.key).collect();
    manifest.inputs = staging.inputs();
    manifest.inputs.extend(
        computed
            .inputs
            .into_iter()
            .filter(|i| !staged_keys.contains(&i.key)),
    );
    manifest.row_counts = computed.row_counts;
    manifest.notes.extend(computed.notes);
    manifest.outputs = staging.objects().iter().map(|o| o.written()).collect();

    let mut journal = Journal::new(
        &run_id,
        kind,
        period,
        lake.scenario_name(),
        &staging.objects(),
        serde_json::to_value(&manifest).map_err(LakeError::from)?,
        opts.now(),
    );
    // Nothing official changes in these steps: a failure only discards the staging.
    let prepared = async {
        lake.check_lock(&lock).await?;
        lake.write_journal(&journal).await?;
        lake.save_history(&mut journal).await?;
        lake.check_lock(&lock).await
    }
    .await;
    if let Err(e) = prepared {
        let _ = lake.finish_journal(&journal).await;
        return fail(lake, manifest, Some(&lock), e.into()).await;
    }

    manifest.replaced = journal.replaced();
    manifest.close(None);
    let published = async {
        lake.copy_into_place(&journal).await?;
        manifest.write(lake).await
    }
    .await;
    if let Err(e) = published {
        let e = match lake.rollback(&journal).await {
            Ok(()) => {
                journal.state = JournalState::RolledBack;
                if lake.write_journal(&journal).await.is_ok() {
                    let _ = lake.finish_journal(&journal).await;
                }
                e
            }
            Err(undo) => EngineError::Lake(LakeError::Publish {
                run_id: run_id.clone(),
                message: format!(
                    "{e}; undoing it failed too ({undo}): the official results of {kind} \
                     {period} may mix old and new objects until the next run completes the \
                     publish recorded in {}",
                    journal.key()
                ),
            }),
        };
        manifest.replaced.clear();
        return fail(lake, manifest, Some(&lock), e).await;
    }
    // Published. Clean-up failures leave work the next run finishes (a journal whose manifest
    // says succeeded, a lock whose run has finished): the run itself has succeeded.
    let _ = lake.finish_journal(&journal).await;
    let _ = lake.release_lock(&lock).await;
    Ok(Published {
        run_id,
        outcome: computed.outcome,
        manifest,
    })
}

/// Records a failed run (best effort: the error is what the caller must see), releases its lock.
async fn fail<T>(
    lake: &Lake,
    mut manifest: RunManifest,
    lock: Option<&Lock>,
    e: EngineError,
) -> Result<T> {
    manifest.close(Some(e.to_string()));
    let _ = manifest.write(lake).await;
    if let Some(lock) = lock {
        let _ = lake.release_lock(lock).await;
    }
    Err(e)
}

/// Resolves the publishes earlier runs left interrupted: this run's own (kind, period) under
/// its lock, others when their lock is free (a live run finishes its own).
async fn recover(lake: &Lake, own: &Lock, opts: &PublishOptions) -> Result<Vec<Recovery>> {
    let mut out = Vec::new();
    let by = &own.record.run_id;
    for journal in lake.pending_journals().await? {
        let same = journal.kind == own.record.kind && journal.period == own.record.period;
        let other = if same {
            None
        } else {
            let record = LockRecord::new(
                by,
                &journal.kind,
                &journal.period,
                lake.scenario_name(),
                opts.now(),
            );
            match lake
                .acquire_lock(record, opts.stale_after, opts.now())
                .await
            {
                Ok(lock) => Some(lock),
                Err(LakeError::Locked { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        let resolved = resolve(lake, &journal, by).await;
        if let Some(lock) = &other {
            let _ = lake.release_lock(lock).await;
        }
        out.push(resolved?);
    }
    Ok(out)
}

/// Records the run whose stale lock was taken over as failed, unless it left a manifest (or
/// its journal's recovery wrote one): it died while computing, so its staging can go.
async fn abandoned(lake: &Lake, stale: &LockRecord, by: &str) -> Result<()> {
    let own = lake.own_lake();
    if stale.run_id.starts_with("unreadable-")
        || own.exists(&layout::run_manifest(&stale.run_id)).await?
    {
        return Ok(());
    }
    let mut m = RunManifest::start(&stale.kind, &stale.period, stale.scenario.clone());
    m.run_id = stale.run_id.clone();
    m.started = stale.acquired.clone();
    m.close(Some(format!(
        "abandoned: the run stopped while holding its lock (taken {}); run {by} took the lock \
         over and removed its staging",
        stale.acquired
    )));
    m.write(lake).await?;
    Ok(())
}

/// Resolves one interrupted publish and records how in the interrupted run's manifest.
async fn resolve(lake: &Lake, journal: &Journal, by: &str) -> Result<Recovery> {
    let own = lake.own_lake();
    let key = layout::run_manifest(&journal.run_id);
    let recorded: Option<RunManifest> = own
        .get_opt(&key)
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok());
    let status = recorded.as_ref().map(|m| m.status.clone());
    let action = match (status.as_deref(), journal.state) {
        // It published (the manifest is written last): only clean-up was left.
        (Some("succeeded"), _) | (_, JournalState::RolledBack) => "finalized",
        // Nothing official had changed.
        (_, JournalState::Staged) => "discarded",
        // It failed and said so, but could not undo: undo now.
        (Some(_), JournalState::Replacing) => {
            lake.rollback(journal).await?;
            "rolled_back"
        }
        // It died while replacing: complete it if its staged outputs are all there.
        (None, JournalState::Replacing) => {
            if lake.staged_present(journal).await? {
                lake.copy_into_place(journal).await?;
                "completed"
            } else {
                lake.rollback(journal).await?;
                "rolled_back"
            }
        }
    };
    let recovery = Recovery {
        run_id: journal.run_id.clone(),
        kind: journal.kind.clone(),
        period: journal.period.clone(),
        action: action.into(),
        by: by.to_string(),
        at: now_rfc3339(),
    };
    if action != "finalized" {
        let mut manifest: RunManifest = match recorded {
            Some(m) => m,
            None => serde_json::from_value(journal.manifest.clone()).map_err(LakeError::from)?,
        };
        if action == "completed" {
            manifest.replaced = journal.replaced();
            manifest.close(None);
        } else if manifest.status != "failed" {
            manifest.replaced.clear();
            manifest.close(Some(format!(
                "publish interrupted; {action} by run {by} (the period's next run recomputes it)"
            )));
        }
        manifest.recovery = Some(recovery.clone());
        manifest.write(lake).await?;
    }
    lake.finish_journal(journal).await?;
    Ok(recovery)
}

/// Removes `staging/<run_id>/` folders of runs that have finished (their manifest exists) and
/// have no journal: left by a failed run whose clean-up failed.
async fn sweep_staging(lake: &Lake) -> Result<()> {
    let own = lake.own_lake();
    let mut runs: Vec<String> = own
        .list("staging")
        .await?
        .into_iter()
        .filter_map(|o| o.key.split('/').nth(1).map(str::to_string))
        .collect();
    runs.dedup();
    let pending: Vec<String> = lake
        .pending_journals()
        .await?
        .into_iter()
        .map(|j| j.run_id)
        .collect();
    for run_id in runs {
        if !pending.contains(&run_id) && own.exists(&layout::run_manifest(&run_id)).await? {
            own.discard_staging(&run_id).await?;
        }
    }
    Ok(())
}
