//! `annual-score`: the year's agreement assessment scores and quality-guarantee release, on 20
//! January for the year that just closed (`infra/template.yaml`). On demand it recomputes the
//! open year (`"recompute": true`) or scores a year in a scenario.

use claimlake_engine::runs;
use claimlake_function::clock::PeriodKind;
use claimlake_function::{Function, FunctionError, Outcome, Request, serve};
use claimlake_lake::layout;

const FUNCTION: Function = Function {
    name: "annual-score",
    kind: PeriodKind::Year,
};

async fn score(req: Request) -> Result<Outcome, FunctionError> {
    let year = req.period.year().expect("an annual function gets years").0;
    let opts = req.run_options().await?;
    let run = if req.recompute {
        runs::recompute_year(&req.lake, year, &opts).await?
    } else {
        runs::score_with(&req.lake, year, &opts).await?
    };
    let stem = year.to_string();
    Ok(Outcome {
        run_id: run.run_id,
        outputs: run.outcome.outputs,
        report_key: layout::report("scores", &stem),
        diff_key: run.diff.map(|_| layout::diff_report("scores", &stem)),
        inputs: Default::default(),
    })
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve(FUNCTION, score).await
}
