//! `monthly-settlement`: settles the month that just closed (or the event's month) over the
//! lake, on the 5th of each month at 02:00 Asia/Shanghai (`infra/template.yaml`).

use std::collections::BTreeMap;

use claimlake_function::clock::PeriodKind;
use claimlake_function::{Function, FunctionError, Outcome, Request, serve};

const FUNCTION: Function = Function {
    name: "monthly-settlement",
    kind: PeriodKind::Month,
};

async fn settle(req: Request) -> Result<Outcome, FunctionError> {
    req.official_only()?;
    let month = req.period.month().expect("a monthly function gets months");
    let run = claimlake_engine::runs::settle(&req.lake, month).await?;
    let o = run.outcome;
    let mut claims = o.validation.claims;
    claims.excluded = o.report.excluded;
    Ok(Outcome {
        run_id: run.run_id,
        outputs: o.outputs,
        report_key: claimlake_lake::layout::report("settlement", &month.to_string()),
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
