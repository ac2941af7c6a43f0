//! `monthly-settlement`: settles the month that just closed (or the event's month) over the
//! lake, on the 5th of each month at 02:00 Asia/Shanghai (`infra/template.yaml`). On demand it
//! recomputes the open month (`"recompute": true`) or settles a month in a scenario.

use std::collections::BTreeMap;

use claimlake_engine::runs;
use claimlake_function::clock::PeriodKind;
use claimlake_function::{Function, FunctionError, Outcome, Request, serve};
use claimlake_lake::layout;

const FUNCTION: Function = Function {
    name: "monthly-settlement",
    kind: PeriodKind::Month,
};

async fn settle(req: Request) -> Result<Outcome, FunctionError> {
    let month = req.period.month().expect("a monthly function gets months");
    let opts = req.run_options().await?;
    let run = if req.recompute {
        runs::recompute_month(&req.lake, month, &opts).await?
    } else {
        runs::settle_with(&req.lake, month, &opts).await?
    };
    let o = run.outcome;
    let mut claims = o.validation.claims;
    claims.excluded = o.report.excluded;
    let period = month.to_string();
    Ok(Outcome {
        run_id: run.run_id,
        outputs: o.outputs,
        report_key: layout::report("settlement", &period),
        diff_key: run.diff.map(|_| layout::diff_report("settlement", &period)),
        inputs: BTreeMap::from([
            ("claims".to_string(), claims),
            ("claim_items".to_string(), o.validation.items),
        ]),
    })
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve(FUNCTION, settle).await
}
