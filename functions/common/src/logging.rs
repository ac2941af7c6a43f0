//! Structured JSON logs: one JSON object per line on stdout (CloudWatch Logs parses them, and
//! Logs Insights queries fields such as `period` and `run_id` directly). Events carry the fields
//! of their spans: the runtime's invocation span gives the request id, ours the function and
//! period. The level is `CLAIMLAKE_LOG_LEVEL` (or Lambda's `AWS_LAMBDA_LOG_LEVEL`), INFO by
//! default.

use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON subscriber (once; later calls do nothing).
pub fn init() {
    let level = std::env::var("CLAIMLAKE_LOG_LEVEL")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(json.with_filter(level))
        .try_init();
}
