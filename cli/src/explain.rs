//! `claimlake explain`: one institution's statement of a settled month, every figure traced to
//! its points, point values, reductions and rule (the library's `claimlake_engine::explain`).

use claimlake_domain::period::Month;
use claimlake_engine::explain::explain as explain_statement;
use claimlake_lake::Lake;
use clap::Args;

use crate::commands::CliResult;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Lake root: a folder or s3://bucket/prefix.
    #[arg(long, default_value = "./lake")]
    pub lake: String,
    /// The settled month, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// The institution whose statement to explain, e.g. H0007.
    #[arg(long)]
    pub institution: String,
    /// Print the explanation as JSON (amounts as exact decimal strings) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints the explanation (text, or JSON with `--json`).
pub async fn explain(a: ExplainArgs) -> CliResult {
    let m: Month = a.month.parse()?;
    let lake = Lake::open(&a.lake)?;
    let e = explain_statement(&lake, m, &a.institution).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", e.render_text());
    }
    Ok(())
}
