//! Test support shared by the integration tests: hand-made lakes (rows built field by field so
//! each test reads like the rule it checks) and the paths of the conformance material.

pub mod faults;
pub mod fixtures;
pub mod golden;
pub mod lambda_api;
pub mod publishing;
pub mod records;
pub mod s3server;

use std::path::PathBuf;

/// `../shared/conformance` beside the checkout (override with `CLAIMLAKE_CONFORMANCE`).
pub fn conformance_dir() -> PathBuf {
    if let Ok(p) = std::env::var("CLAIMLAKE_CONFORMANCE") {
        return PathBuf::from(p);
    }
    manifest_dir().join("../../shared/conformance")
}

/// This package's folder. Read at run time (cargo sets it for tests) before the build-time
/// value: a test binary built from another checkout of the same target folder would otherwise
/// look beside that checkout.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Copies a directory tree (the conformance lake is read-only; the engine writes into a lake).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            let mut perms = std::fs::metadata(&target)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms)?;
        }
    }
    Ok(())
}

/// Runs the reference `compare.py EXPECTED ACTUAL <args>` and fails the test, with its output,
/// unless it exits 0 and prints `want` (e.g. `ALL MATCH (6 tables)`).
pub fn assert_compare(lake_dir: &std::path::Path, args: &[&str], want: &str) {
    let out = std::process::Command::new("python3")
        .arg(conformance_dir().join("compare.py"))
        .arg(conformance_dir().join("expected"))
        .arg(lake_dir)
        .args(args)
        .output()
        .expect("python3 runs compare.py (pyarrow is installed by scripts/setup-test-tools.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(want),
        "compare.py {args:?}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
