//! Running one `claimlake` command as a child process and reading what it cost: wall time from
//! a monotonic clock, CPU time and peak resident memory from the kernel's `wait4` accounting for
//! that child alone (so the figures are the command's own, not the bench's).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::error::{BenchError, Result};

/// The cost of one command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cost {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
}

/// Runs `program args…`, its output appended to `log`, and returns its cost; a non-zero exit is
/// an error naming the command and the log.
pub fn run(program: &Path, args: &[String], log: &Path, envs: &[(&str, &str)]) -> Result<Cost> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| BenchError::Io(log.display().to_string(), e))?;
    let err = out
        .try_clone()
        .map_err(|e| BenchError::Io(log.display().to_string(), e))?;
    let shown = format!("{} {}", program.display(), args.join(" "));
    let started = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd
        .spawn()
        .map_err(|e| BenchError::Io(program.display().to_string(), e))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data the kernel fills in; pid is our own un-waited child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = started.elapsed().as_secs_f64();
    if rc != pid {
        return Err(BenchError::Io(shown, std::io::Error::last_os_error()));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(BenchError::Failed {
            command: shown,
            log: log.display().to_string(),
        });
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Cost {
        wall_s,
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
        // Linux reports ru_maxrss in kilobytes.
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
    })
}
