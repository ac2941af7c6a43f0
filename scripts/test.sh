#!/usr/bin/env bash
# The test command: installs the test tools, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
# No CARGO_TARGET_DIR of its own: a newcomer's `cargo run -p claimlake -- demo` and this script
# share ./target (one build of the stack); .ci/run sets a cache folder outside the clone.
bash scripts/setup-test-tools.sh
cargo test --workspace --all-targets
