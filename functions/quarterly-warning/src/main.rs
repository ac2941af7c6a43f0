//! `quarterly-warning`: runs the warnings of the quarter that just closed (or the event's
//! quarter), on the 10th of the month after each quarter (`infra/template.yaml`). On demand it
//! recomputes the open quarter (`"recompute": true`) or runs a quarter in a scenario.

use claimlake_engine::runs;
use claimlake_function::clock::PeriodKind;
use claimlake_function::{Function, FunctionError, Outcome, Request, serve};
use claimlake_lake::layout;

const FUNCTION: Function = Function {
    name: "quarterly-warning",
    kind: PeriodKind::Quarter,
};

async fn warn(req: Request) -> Result<Outcome, FunctionError> {
    let quarter = req
        .period
        .quarter()
        .expect("a quarterly function gets quarters");
    let opts = req.run_options().await?;
    let run = if req.recompute {
        runs::recompute_quarter(&req.lake, quarter, &opts).await?
    } else {
        runs::warn_with(&req.lake, quarter, &opts).await?
    };
    let stem = quarter.report_stem();
    Ok(Outcome {
        run_id: run.run_id,
        outputs: run.outcome.outputs,
        report_key: layout::report("warnings", &stem),
        diff_key: run.diff.map(|_| layout::diff_report("warnings", &stem)),
        inputs: Default::default(),
    })
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve(FUNCTION, warn).await
}
