//! Run locks (outputs.md, Publishing rules): one run per (kind, period, scenario) at a time.
//!
//! A lock is an object created with a create-only write (`If-None-Match: *` on S3, a hard link
//! locally), so of two runs starting together exactly one gets it. The other fails fast with
//! [`LakeError::Locked`] naming the holder and since when. A lock is **stale**, and may be taken
//! over, when its run has finished (its manifest exists: the release failed) or when it is older
//! than the stale limit (30 minutes by default: the run crashed). A takeover first creates a
//! marker naming the stale run, create-only too, so that of several runs finding the same stale
//! lock only one replaces it.

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{LakeError, Result};
use crate::layout;
use crate::store::Lake;

/// What a lock object holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockRecord {
    pub run_id: String,
    pub kind: String,
    pub period: String,
    #[serde(default)]
    pub scenario: Option<String>,
    /// When the lock was taken (RFC 3339, UTC).
    pub acquired: String,
    #[serde(default)]
    pub pid: u32,
}

impl LockRecord {
    pub fn new(
        run_id: &str,
        kind: &str,
        period: &str,
        scenario: Option<&str>,
        now: DateTime<Utc>,
    ) -> Self {
        LockRecord {
            run_id: run_id.into(),
            kind: kind.into(),
            period: period.into(),
            scenario: scenario.map(str::to_string),
            acquired: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            pid: std::process::id(),
        }
    }

    fn what(&self) -> String {
        match &self.scenario {
            Some(s) => format!("{} {} of scenario {s}", self.kind, self.period),
            None => format!("{} {}", self.kind, self.period),
        }
    }
}

/// A held lock.
#[derive(Debug, Clone)]
pub struct Lock {
    pub key: String,
    pub record: LockRecord,
    /// The stale lock this one replaced, if any.
    pub took_over: Option<LockRecord>,
}

fn encode(record: &LockRecord) -> Result<Bytes> {
    let mut text = serde_json::to_vec_pretty(record)?;
    text.push(b'\n');
    Ok(Bytes::from(text))
}

impl Lake {
    /// Takes the lock of `record`'s (kind, period) in this lake's own space, taking over a stale
    /// lock (its run finished, or it is older than `stale_after` at `now`).
    pub async fn acquire_lock(
        &self,
        record: LockRecord,
        stale_after: Duration,
        now: DateTime<Utc>,
    ) -> Result<Lock> {
        let own = self.own_lake();
        let key = layout::lock(&record.kind, &record.period);
        let body = encode(&record)?;
        let mut took_over = None;
        // A few rounds: a released or taken-over lock may change hands between our reads.
        for _ in 0..4 {
            if own.put_if_absent(&key, body.clone()).await? {
                return Ok(Lock {
                    key,
                    record,
                    took_over,
                });
            }
            let Some(bytes) = own.get_opt(&key).await? else {
                continue; // released meanwhile
            };
            let held: LockRecord = match serde_json::from_slice(&bytes) {
                Ok(h) => h,
                // An unreadable lock is a crashed writer's: stale at once.
                Err(_) => LockRecord::new(
                    &format!("unreadable-{}", &crate::write::sha256_hex(&bytes)[..12]),
                    &record.kind,
                    &record.period,
                    None,
                    now - stale_after,
                ),
            };
            let since = DateTime::parse_from_rfc3339(&held.acquired)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now - stale_after);
            let finished = own.exists(&layout::run_manifest(&held.run_id)).await?;
            if !finished && now - since < stale_after {
                return Err(LakeError::Locked {
                    key: key.clone(),
                    what: held.what(),
                    holder: held.run_id.clone(),
                    since: held.acquired.clone(),
                    stale_at: (since + stale_after)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                });
            }
            let marker = layout::lock_takeover(&record.kind, &record.period, &held.run_id);
            if own.put_if_absent(&marker, body.clone()).await? {
                // We won the takeover of this stale lock: remove it and create ours.
                own.delete(&key).await?;
                took_over = Some(held);
            }
            // Otherwise another run is taking it over: the next round sees its lock.
        }
        // Still no lock after the rounds: report whoever holds it now.
        let held = own
            .get_opt(&key)
            .await?
            .and_then(|b| serde_json::from_slice::<LockRecord>(&b).ok());
        Err(LakeError::Locked {
            key,
            what: record.what(),
            holder: held.as_ref().map(|h| h.run_id.clone()).unwrap_or_default(),
            since: held.map(|h| h.acquired).unwrap_or_default(),
            stale_at: String::new(),
        })
    }

    /// Fails with [`LakeError::LockLost`] unless `lock` is still held by its run.
    pub async fn check_lock(&self, lock: &Lock) -> Result<()> {
        let held = self
            .own_lake()
            .get_opt(&lock.key)
            .await?
            .and_then(|b| serde_json::from_slice::<LockRecord>(&b).ok());
        match held {
            Some(h) if h.run_id == lock.record.run_id => Ok(()),
            other => Err(LakeError::LockLost {
                key: lock.key.clone(),
                holder: other.map(|h| h.run_id).unwrap_or_else(|| "(none)".into()),
            }),
        }
    }

    /// Releases `lock` if its run still holds it (a lock taken over is left to its new holder).
    pub async fn release_lock(&self, lock: &Lock) -> Result<()> {
        if self.check_lock(lock).await.is_ok() {
            self.own_lake().delete(&lock.key).await?;
        }
        Ok(())
    }
}
