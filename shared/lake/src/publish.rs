//! The storage side of publishing (outputs.md, Publishing rules): a run's staged outputs are
//! copied into place through a **journal**, keeping every replaced official object in
//! `history/`, so that official results are always either the old set or the new set.
//!
//! The steps, each on the lake's own space (the official lake, or a scenario's folder):
//!
//! 1. [`Lake::write_journal`] (`publish/journal/<kind>/<period>/<run_id>.json`, state
//!    `staged`): the staged objects and their SHA-256, and the run's manifest as it will be
//!    written.
//! 2. [`Lake::save_history`]: each official object the run replaces is read, compared with its
//!    staged version (identical bytes are left alone), and kept with [`Lake::put_retained`] at
//!    [`layout::history`]`(key, replaced_run_id)`; the journal moves to `replacing`.
//! 3. [`Lake::copy_into_place`]: staged → official (result tables first, reports last), then the
//!    lineage records that say which run wrote each official object.
//! 4. The caller writes the run manifest ([`Lake::put_retained`]) and [`Lake::finish_journal`]
//!    deletes the journal and the staging folder.
//!
//! A failure before the manifest is written is undone by [`Lake::rollback`] (history copied
//! back, new objects deleted). A run that dies without undoing leaves the journal, and the next
//! run of the lake completes the publish (or rolls it back if its run recorded a failure).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{LakeError, Result};
use crate::layout;
use crate::staging::StagedObject;
use crate::store::Lake;
use crate::write::{WrittenObject, sha256_hex};

/// Where a publish stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JournalState {
    /// Staged and described; nothing official changed yet.
    Staged,
    /// History saved; official objects are being replaced.
    Replacing,
    /// A failed publish was undone: official objects are the old ones again.
    RolledBack,
}

/// The official object a publish replaces, and where its old version is kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Replaced {
    pub key: String,
    /// The run that wrote the replaced version (`unrecorded-…` when none is recorded).
    pub run_id: String,
    pub sha256: String,
    pub history_key: String,
}

/// What publishing does to one official key.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Not yet compared with the official object.
    #[default]
    Pending,
    /// No official object yet.
    New,
    /// The official object has these very bytes: nothing to do.
    Unchanged,
    /// The official object differs and is replaced.
    Replaces {
        replaced_run_id: String,
        replaced_sha256: String,
        history_key: String,
    },
}

/// One staged object of a publish.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalEntry {
    pub key: String,
    pub staged_key: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
    #[serde(flatten)]
    pub change: Change,
}

impl JournalEntry {
    fn copies(&self) -> bool {
        matches!(self.change, Change::New | Change::Replaces { .. })
    }
}

/// A publish in progress (`publish/journal/<kind>/<period>/<run_id>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub run_id: String,
    pub kind: String,
    pub period: String,
    #[serde(default)]
    pub scenario: Option<String>,
    pub state: JournalState,
    pub created: String,
    /// Result objects first, reports last (outputs.md: "report and manifest last").
    pub entries: Vec<JournalEntry>,
    /// The run manifest to write when the publish completes.
    pub manifest: serde_json::Value,
}

/// Who wrote an official object (`publish/lineage/<key>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lineage {
    run_id: String,
    sha256: String,
}

impl Journal {
    /// A journal for `staged` objects of run `run_id`.
    pub fn new(
        run_id: &str,
        kind: &str,
        period: &str,
        scenario: Option<&str>,
        staged: &[StagedObject],
        manifest: serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let mut entries: Vec<JournalEntry> = staged
            .iter()
            .map(|o| JournalEntry {
                key: o.key.clone(),
                staged_key: o.staged_key.clone(),
                sha256: o.sha256.clone(),
                bytes: o.bytes,
                rows: o.rows,
                change: Change::Pending,
            })
            .collect();
        entries.sort_by(|a, b| {
            let report = |e: &JournalEntry| e.key.starts_with("reports/");
            (report(a), &a.key).cmp(&(report(b), &b.key))
        });
        Journal {
            run_id: run_id.into(),
            kind: kind.into(),
            period: period.into(),
            scenario: scenario.map(str::to_string),
            state: JournalState::Staged,
            created: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            entries,
            manifest,
        }
    }

    /// The journal's key.
    pub fn key(&self) -> String {
        layout::journal(&self.kind, &self.period, &self.run_id)
    }

    /// The official objects this publish replaces (with their history keys).
    pub fn replaced(&self) -> Vec<Replaced> {
        self.entries
            .iter()
            .filter_map(|e| match &e.change {
                Change::Replaces {
                    replaced_run_id: run_id,
                    replaced_sha256: sha256,
                    history_key,
                } => Some(Replaced {
                    key: e.key.clone(),
                    run_id: run_id.clone(),
                    sha256: sha256.clone(),
                    history_key: history_key.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

fn json(value: &impl Serialize) -> Result<Bytes> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    Ok(Bytes::from(text))
}

impl Lake {
    /// Writes an object that must be kept: run manifests and history copies go through here
    /// and nowhere else, so retention (S3 Object Lock where the bucket has it) is applied to
    /// exactly these objects in one place. Writes to the lake's own space.
    ///
    /// On an S3 lake whose bucket has Object Lock enabled, the version just written gets
    /// retention (`CLAIMLAKE_OBJECT_LOCK_DAYS`, `CLAIMLAKE_OBJECT_LOCK_MODE`); a bucket without
    /// Object Lock is asked once and left alone. A retention that cannot be set fails the write,
    /// so a run never reports success over an unprotected manifest or history copy.
    pub async fn put_retained(&self, key: &str, bytes: Bytes) -> Result<WrittenObject> {
        let out = WrittenObject {
            key: key.to_string(),
            rows: 0,
            bytes: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        };
        self.own_lake().put(key, bytes).await?;
        if let Some(s3) = self.s3_extras() {
            s3.retain(&self.root_key(key)).await?;
        }
        Ok(out)
    }

    /// Writes (or rewrites) a journal.
    pub async fn write_journal(&self, journal: &Journal) -> Result<()> {
        self.own_lake().put(&journal.key(), json(journal)?).await
    }

    /// The journals of publishes that did not finish, oldest first.
    pub async fn pending_journals(&self) -> Result<Vec<Journal>> {
        let own = self.own_lake();
        let mut out = Vec::new();
        for o in own.list(layout::JOURNALS).await? {
            let bytes = own.get(&o.key).await?;
            let journal: Journal =
                serde_json::from_slice(&bytes).map_err(|e| LakeError::Publish {
                    run_id: String::new(),
                    message: format!("{}: unreadable publish journal: {e}", o.key),
                })?;
            out.push(journal);
        }
        out.sort_by(|a, b| a.created.cmp(&b.created));
        Ok(out)
    }

    /// The run recorded as the writer of official object `key`, if any.
    pub async fn lineage_of(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .own_lake()
            .get_opt(&layout::lineage(key))
            .await?
            .and_then(|b| serde_json::from_slice::<Lineage>(&b).ok())
            .map(|l| l.run_id))
    }

    /// The run that wrote the official object with these bytes, from its lineage record.
    async fn writer_of(&self, key: &str, sha256: &str) -> Result<String> {
        let recorded = self
            .own_lake()
            .get_opt(&layout::lineage(key))
            .await?
            .and_then(|b| serde_json::from_slice::<Lineage>(&b).ok());
        Ok(match recorded {
            Some(l) if l.sha256 == sha256 => l.run_id,
            _ => format!("unrecorded-{}", &sha256[..12]),
        })
    }

    /// Step 2: compares each entry with the official object and keeps every object it replaces
    /// in `history/`; the journal moves to `replacing`.
    pub async fn save_history(&self, journal: &mut Journal) -> Result<()> {
        let own = self.own_lake();
        for entry in &mut journal.entries {
            entry.change = match own.get_opt(&entry.key).await? {
                None => Change::New,
                Some(old) => {
                    let sha256 = sha256_hex(&old);
                    if sha256 == entry.sha256 {
                        Change::Unchanged
                    } else {
                        let run_id = self.writer_of(&entry.key, &sha256).await?;
                        let history_key = layout::history(&entry.key, &run_id);
                        if !own.exists(&history_key).await? {
                            self.put_retained(&history_key, old).await?;
                        }
                        Change::Replaces {
                            replaced_run_id: run_id,
                            replaced_sha256: sha256,
                            history_key,
                        }
                    }
                }
            };
        }
        journal.state = JournalState::Replacing;
        self.write_journal(journal).await
    }

    /// Whether every staged object the journal still has to copy exists.
    pub async fn staged_present(&self, journal: &Journal) -> Result<bool> {
        let own = self.own_lake();
        for e in journal.entries.iter().filter(|e| e.copies()) {
            if !own.exists(&e.staged_key).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Step 3: copies the staged objects into place (reports last), then records their lineage.
    /// Idempotent: completing an interrupted publish runs it again.
    pub async fn copy_into_place(&self, journal: &Journal) -> Result<()> {
        let own = self.own_lake();
        for e in journal.entries.iter().filter(|e| e.copies()) {
            own.copy(&e.staged_key, &e.key).await?;
        }
        for e in journal.entries.iter().filter(|e| e.copies()) {
            let lineage = Lineage {
                run_id: journal.run_id.clone(),
                sha256: e.sha256.clone(),
            };
            own.put(&layout::lineage(&e.key), json(&lineage)?).await?;
        }
        Ok(())
    }

    /// Undoes a publish: each replaced object is copied back from history (with its lineage),
    /// each new one deleted. Idempotent.
    pub async fn rollback(&self, journal: &Journal) -> Result<()> {
        let own = self.own_lake();
        for e in journal.entries.iter().rev() {
            match &e.change {
                Change::Replaces {
                    replaced_run_id: run_id,
                    replaced_sha256: sha256,
                    history_key,
                } => {
                    own.copy(history_key, &e.key).await?;
                    if run_id.starts_with("unrecorded-") {
                        own.delete(&layout::lineage(&e.key)).await?;
                    } else {
                        let lineage = Lineage {
                            run_id: run_id.clone(),
                            sha256: sha256.clone(),
                        };
                        own.put(&layout::lineage(&e.key), json(&lineage)?).await?;
                    }
                }
                Change::New => {
                    own.delete(&e.key).await?;
                    own.delete(&layout::lineage(&e.key)).await?;
                }
                Change::Unchanged | Change::Pending => {}
            }
        }
        Ok(())
    }

    /// Step 4: the publish is over: deletes the staging folder, then the journal.
    pub async fn finish_journal(&self, journal: &Journal) -> Result<()> {
        self.discard_staging(&journal.run_id).await?;
        self.own_lake().delete(&journal.key()).await
    }

    /// Deletes a run's staging folder.
    pub async fn discard_staging(&self, run_id: &str) -> Result<()> {
        let own = self.own_lake();
        for o in own.list(&layout::staging(run_id)).await? {
            own.delete(&o.key).await?;
        }
        Ok(())
    }
}
