//! `quarterly-warning`: runs the warnings of the quarter that just closed (or the event's
//! quarter), on the 10th of the month after each quarter (`infra/template.yaml`).

use claimlake_function::clock::PeriodKind;
use claimlake_function::{Function, FunctionError, Outcome, Request, serve};

const FUNCTION: Function = Function {
    name: "quarterly-warning",
    kind: PeriodKind::Quarter,
};

async fn warn(req: Request) -> Result<Outcome, FunctionError> {
    req.official_only()?;
    let quarter = req
        .period
        .quarter()
        .expect("a quarterly function gets quarters");
    let run = claimlake_engine::runs::warn(&req.lake, quarter).await?;
    Ok(Outcome {
        run_id: run.run_id,
        outputs: run.outcome.outputs,
        report_key: claimlake_lake::layout::report("warnings", &quarter.report_stem()),
        inputs: Default::default(),
    })
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve(FUNCTION, warn).await
}
