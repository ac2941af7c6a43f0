//! A guard around DataFusion 55's physical filter pushdown.
//!
//! The physical optimizer's `FilterPushdown` rules (the static one, and the one that places the
//! joins' dynamic filters) move a filter down the plan and re-resolve its columns **by name** in
//! each node they pass (apache/datafusion#21246, #25244, #25296; fixed after 55 by #25259).
//! Where a node's schema holds two columns of one name, from the two sides of a join, a
//! filter on one can land on the other and drop rows without an error. It happened here: a
//! filter comparing a mirror's `treat_time` (the cancelled claim's `settle_time`) with its own
//! `settle_time` above settle's `claims_basis` (a right join) was pushed into the right side
//! with both columns read from it, and matched nothing.
//!
//! The guard runs a wrapped rule only on plans where no node has two output columns of one
//! name; on the other plans it leaves the filters where the logical optimizer put them, which
//! the logical optimizer resolves by qualified name, correctly. Most of the steps' plans carry
//! no duplicate names and keep the pushdown.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

/// The names of the rules guarded (DataFusion 55's two filter pushdown phases).
const GUARDED: [&str; 2] = ["FilterPushdown", "FilterPushdown(Post)"];

type Rule = Arc<dyn PhysicalOptimizerRule + Send + Sync>;

/// Runs the wrapped rule unless some node of the plan has duplicate column names.
#[derive(Debug)]
struct UnlessDuplicateNames(Rule);

impl PhysicalOptimizerRule for UnlessDuplicateNames {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if has_duplicate_names(plan.as_ref()) {
            Ok(plan)
        } else {
            self.0.optimize(plan, config)
        }
    }

    fn name(&self) -> &str {
        self.0.name()
    }

    fn schema_check(&self) -> bool {
        self.0.schema_check()
    }
}

/// Whether any node of `plan` outputs two columns with the same name.
fn has_duplicate_names(plan: &dyn ExecutionPlan) -> bool {
    let schema = plan.schema();
    let mut seen = HashSet::new();
    schema.fields().iter().any(|f| !seen.insert(f.name()))
        || plan
            .children()
            .into_iter()
            .any(|c| has_duplicate_names(c.as_ref()))
}

/// `rules` with the filter pushdown rules wrapped in the guard (the others unchanged).
pub(crate) fn guarded(rules: Vec<Rule>) -> Vec<Rule> {
    rules
        .into_iter()
        .map(|r| {
            if GUARDED.contains(&r.name()) {
                Arc::new(UnlessDuplicateNames(r)) as Rule
            } else {
                r
            }
        })
        .collect()
}

/// How many rules [`guarded`] wraps in `rules` (the session checks that both phases are found:
/// a DataFusion that renamed them would otherwise leave the pushdown unguarded, silently).
pub(crate) fn count_guarded(rules: &[Rule]) -> usize {
    rules.iter().filter(|r| GUARDED.contains(&r.name())).count()
}
