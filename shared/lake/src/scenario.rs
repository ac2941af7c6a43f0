//! [`ScenarioStore`]: the lake as a scenario sees it (policy.md, "Versions and recomputation";
//! outputs.md: "Scenarios write the same layout under `scenarios/<name>/` and never touch
//! official results").
//!
//! Every write goes to `scenarios/<name>/`. Reads are routed by what the key holds:
//!
//! - inputs (`claims/`, `claim_items/`, `reference/`, `inputs/`, `truth/`): the official objects;
//! - the settlement's stored aggregates and doctor-days, and the run records (`runs/`, `locks/`,
//!   `publish/`, `staging/`, `history/`, `reports/`): the scenario's own only, since they depend on
//!   the scenario's policy or belong to its runs;
//! - everything else (`policy/`, other `results/`, `restricted/`, `ledger/`, `quarantine/`): the
//!   scenario's own object when it has one, else the official one. So a scenario's policy file
//!   replaces the official one, and a scenario month builds on the scenario's previous month when
//!   the scenario has settled it, else on the official month it branches from.
//!
//! Listings merge both sides the same way (the scenario's object wins).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use crate::staging::under;

/// Where a key is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Official,
    Own,
    OwnThenOfficial,
}

const OFFICIAL_ONLY: [&str; 5] = ["claims", "claim_items", "reference", "inputs", "truth"];
const OWN_ONLY: [&str; 8] = [
    "results/settlement_aggregates",
    "results/settlement_doctor_days",
    "runs",
    "locks",
    "publish",
    "staging",
    "history",
    "reports",
];

/// The route of a key, or of a listing prefix: a prefix above several kinds of keys (`results`,
/// the root) merges both sides and [`ScenarioStore::merge`] filters each key by its own route.
fn route(key: &str) -> Route {
    if OFFICIAL_ONLY.iter().any(|p| under(key, p)) {
        Route::Official
    } else if OWN_ONLY.iter().any(|p| under(key, p)) {
        Route::Own
    } else {
        Route::OwnThenOfficial
    }
}

/// Checks a scenario name: 1-64 characters of `A-Z a-z 0-9 _ -` (it becomes a folder name).
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "scenario name {name:?}: use 1-64 letters, digits, '_' or '-'"
        ));
    }
    Ok(())
}

/// The scenario's view of the lake (see the module docs).
#[derive(Debug)]
pub struct ScenarioStore {
    official: Arc<dyn ObjectStore>,
    own: Arc<dyn ObjectStore>,
    name: String,
}

impl ScenarioStore {
    /// `official`: the lake; `own`: the scenario's folder of it (a prefix store).
    pub fn new(official: Arc<dyn ObjectStore>, own: Arc<dyn ObjectStore>, name: &str) -> Self {
        ScenarioStore {
            official,
            own,
            name: name.to_string(),
        }
    }

    /// Merges listings of both sides: each key by its route, the scenario's object first.
    fn merge(own: Vec<ObjectMeta>, official: Vec<ObjectMeta>) -> Vec<ObjectMeta> {
        let mut out: BTreeMap<String, ObjectMeta> = BTreeMap::new();
        for m in official {
            let key = m.location.to_string();
            if route(&key) != Route::Own && !under(&key, "scenarios") {
                out.insert(key, m);
            }
        }
        for m in own {
            let key = m.location.to_string();
            if route(&key) != Route::Official {
                out.insert(key, m);
            }
        }
        out.into_values().collect()
    }
}

impl fmt::Display for ScenarioStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scenario({}) over {}", self.name, self.official)
    }
}

#[async_trait]
impl ObjectStore for ScenarioStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.own.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.own.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        match route(location.as_ref()) {
            Route::Official => self.official.get_opts(location, options).await,
            Route::Own => self.own.get_opts(location, options).await,
            Route::OwnThenOfficial => match self.own.get_opts(location, options.clone()).await {
                Err(object_store::Error::NotFound { .. }) => {
                    self.official.get_opts(location, options).await
                }
                other => other,
            },
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.own.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        match route(&p) {
            Route::Official => self.official.list(prefix),
            Route::Own => self.own.list(prefix),
            Route::OwnThenOfficial => {
                let own = self.own.list(prefix);
                let official = self.official.list(prefix);
                futures::stream::once(async move {
                    let own: Vec<ObjectMeta> = own.try_collect().await?;
                    let official: Vec<ObjectMeta> = official.try_collect().await?;
                    Ok::<_, object_store::Error>(futures::stream::iter(
                        Self::merge(own, official).into_iter().map(Ok),
                    ))
                })
                .try_flatten()
                .boxed()
            }
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        match route(&p) {
            Route::Official => self.official.list_with_delimiter(prefix).await,
            Route::Own => self.own.list_with_delimiter(prefix).await,
            Route::OwnThenOfficial => {
                let own = self.own.list_with_delimiter(prefix).await?;
                let official = self.official.list_with_delimiter(prefix).await?;
                let mut prefixes: Vec<Path> = own.common_prefixes;
                for c in official.common_prefixes {
                    if c.as_ref() != "scenarios" && !prefixes.contains(&c) {
                        prefixes.push(c);
                    }
                }
                prefixes.sort();
                Ok(ListResult {
                    common_prefixes: prefixes,
                    objects: Self::merge(own.objects, official.objects),
                })
            }
        }
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let bytes = self.get(from).await?.bytes().await?;
        let mode = match options.mode {
            CopyMode::Create => PutMode::Create,
            _ => PutMode::Overwrite,
        };
        self.own
            .put_opts(to, PutPayload::from_bytes(bytes), PutOptions::from(mode))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::prefix::PrefixStore;

    async fn text(store: &dyn ObjectStore, key: &str) -> String {
        let b = store
            .get(&Path::from(key))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn scenario_reads_official_inputs_and_writes_only_its_own() {
        let base: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        for (k, v) in [
            ("claims/year=2025/month=01/a.parquet", "claims"),
            ("policy/2025.toml", "official policy"),
            (
                "results/statements/year=2025/month=01/data.parquet",
                "official jan",
            ),
            (
                "results/settlement_aggregates/year=2025/month=01/data.parquet",
                "agg",
            ),
        ] {
            base.put(&Path::from(k), v.into()).await.unwrap();
        }
        let own: Arc<dyn ObjectStore> =
            Arc::new(PrefixStore::new(base.clone(), "scenarios/S".to_string()));
        let s = ScenarioStore::new(base.clone(), own, "S");
        s.put(&Path::from("policy/2025.toml"), "scenario policy".into())
            .await
            .unwrap();
        assert_eq!(text(&s, "policy/2025.toml").await, "scenario policy");
        assert_eq!(text(&*base, "policy/2025.toml").await, "official policy");
        assert_eq!(
            text(&*base, "scenarios/S/policy/2025.toml").await,
            "scenario policy"
        );
        assert_eq!(
            text(&s, "results/statements/year=2025/month=01/data.parquet").await,
            "official jan",
            "falls back to the official month"
        );
        assert!(
            s.get(&Path::from(
                "results/settlement_aggregates/year=2025/month=01/data.parquet"
            ))
            .await
            .is_err(),
            "aggregates depend on the policy: never the official ones"
        );
        s.put(
            &Path::from("results/statements/year=2025/month=02/data.parquet"),
            "scenario feb".into(),
        )
        .await
        .unwrap();
        let mut keys: Vec<String> = s
            .list(Some(&Path::from("results")))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.sort();
        assert_eq!(
            keys,
            [
                "results/statements/year=2025/month=01/data.parquet",
                "results/statements/year=2025/month=02/data.parquet"
            ]
        );
        assert!(check_name("budget+5%").is_err());
        assert!(check_name("tertiary-drug_5").is_ok());
    }
}
