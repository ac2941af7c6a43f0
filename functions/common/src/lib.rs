//! The plumbing every claimlake Lambda function shares, so a function binary is only the call
//! into the engine:
//!
//! - [`event`]: the event (`{"lake": …, "period": "auto"}` from the scheduler, or an explicit
//!   period with scenario/policy/recompute for on-demand runs), parsed strictly;
//! - [`clock`]: `"period": "auto"` = the month, quarter or year that just closed in the
//!   configured time zone (`CLAIMLAKE_TIME_ZONE`, Asia/Shanghai by default);
//! - [`resources`]: the session settings sized from the function's memory (target partitions,
//!   a spilling memory pool, the spill folder), fixed once at cold start;
//! - [`response`] and [`error`]: what the caller gets back, and errors typed retryable or not;
//! - [`logging`]: structured JSON logs (`tracing`) carrying request id, period and run id;
//! - [`serve`]: the `lambda_runtime` loop tying them together.

pub mod clock;
pub mod error;
pub mod event;
pub mod logging;
pub mod resources;
pub mod response;
mod serve;

pub use error::{ErrorClass, FunctionError};
pub use event::{Event, Request};
pub use response::{Outcome, Response};
pub use serve::{Function, serve};

/// Every function binary links this crate, so this is their allocator: mimalloc returns freed
/// Arrow buffers to the system where glibc malloc kept them resident, ~0.6 GiB of a city
/// settlement (bench/RESULTS.md), and a Lambda pays for its memory size.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
