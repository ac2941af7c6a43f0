//! A real S3-compatible server for the tests: `moto_server` (moto[server], pinned and installed
//! by `scripts/setup-test-tools.sh`) on a free port of 127.0.0.1.
//!
//! The server runs under a small shell watchdog that reads the test process's end of a pipe:
//! when the test process exits (even on a panic or a kill), the pipe closes and the watchdog
//! stops the server, so no server outlives its tests. A missing `moto_server` is a test
//! failure with instructions, never a silent skip.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use claimlake_lake::Lake;

/// The pinned moto version `scripts/setup-test-tools.sh` installs.
pub const MOTO_VERSION: &str = "5.2.1";

/// A running `moto_server`.
#[derive(Debug)]
pub struct S3Server {
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The watchdog shell; its stdin is our end of the pipe.
    watchdog: Mutex<Child>,
    /// The server's own process id (for stopping, resuming and killing it).
    pid: u32,
    log: std::path::PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn moto_server_path() -> String {
    if let Ok(p) = std::env::var("CLAIMLAKE_MOTO_SERVER") {
        return p;
    }
    let found = Command::new("sh")
        .args(["-c", "command -v moto_server"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match found {
        Some(p) if !p.is_empty() => p,
        _ => panic!(
            "moto_server not found: the S3 tests need the S3-compatible test server \
             moto[server]=={MOTO_VERSION}. Run scripts/setup-test-tools.sh (CI does), or set \
             CLAIMLAKE_MOTO_SERVER to its path."
        ),
    }
}

/// An HTTP GET on 127.0.0.1: (status, body). Enough for moto's health check and presigned URLs.
pub fn http_get(url: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other(format!("not an http:// URL: {url}")))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    use std::io::Write;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let mut body = raw[head_end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

/// Decodes an HTTP/1.1 chunked body.
pub fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

impl S3Server {
    /// Starts a new server on a free port and waits until it answers.
    pub fn start() -> S3Server {
        let moto = moto_server_path();
        let port = free_port();
        let log = std::env::temp_dir().join(format!("claimlake-moto-{port}.log"));
        let pidfile = std::env::temp_dir().join(format!("claimlake-moto-{port}.pid"));
        let _ = std::fs::remove_file(&pidfile);
        // The watchdog: start the server, record its pid, wait for our pipe to close, stop it.
        let script = r#"
            "$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 &
            pid=$!
            echo $pid >"$3"
            cat >/dev/null
            kill -CONT $pid 2>/dev/null
            kill $pid 2>/dev/null
            wait $pid 2>/dev/null
        "#;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&moto)
            .arg(port.to_string())
            .arg(&log)
            .arg(&pidfile)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {moto}: {e}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let pid = loop {
            if let Ok(text) = std::fs::read_to_string(&pidfile)
                && let Ok(pid) = text.trim().parse::<u32>()
            {
                break pid;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // Ready when it answers an HTTP request (moto's own status endpoint).
        loop {
            if let Ok((200, _)) = http_get(&format!("{endpoint}/moto-api/")) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "moto_server on port {port} did not answer; its log ({}):\n{}",
                log.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        S3Server {
            port,
            endpoint,
            watchdog: Mutex::new(watchdog),
            pid,
            log,
        }
    }

    /// The process's shared server, started on first use, with the environment set so that
    /// `Lake::open("s3://…")` talks to it (endpoint, path-style, test credentials, region).
    pub fn shared() -> &'static S3Server {
        static SERVER: OnceLock<S3Server> = OnceLock::new();
        SERVER.get_or_init(|| {
            let server = S3Server::start();
            server.set_env();
            server
        })
    }

    /// Points the S3 settings of this process at the server.
    pub fn set_env(&self) {
        // SAFETY: called once, from `shared`, before any lake of the process is opened; the
        // values are the same for every test of the binary.
        unsafe {
            std::env::set_var("CLAIMLAKE_S3_ENDPOINT", &self.endpoint);
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
            std::env::set_var("AWS_REGION", "us-east-1");
            std::env::remove_var("AWS_SESSION_TOKEN");
            std::env::remove_var("AWS_ENDPOINT_URL");
            std::env::remove_var("CLAIMLAKE_S3_VIRTUAL_HOSTED");
        }
    }

    /// The environment a child process (a function binary) needs to reach the server.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CLAIMLAKE_S3_ENDPOINT", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Creates a bucket (with Object Lock enabled when asked) and opens the lake
    /// `s3://bucket/prefix` on it.
    pub async fn lake(&self, bucket: &str, prefix: &str, object_lock: bool) -> Lake {
        let root = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        let lake = Lake::open(&root).expect("an s3:// lake opens");
        let s3 = lake.s3_extras().expect("an s3:// lake has S3 extras");
        s3.client()
            .create_bucket()
            .bucket(bucket)
            .object_lock_enabled_for_bucket(object_lock)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "create bucket {bucket}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            });
        lake
    }

    /// Freezes the server (SIGSTOP): connections are accepted but never answered.
    pub fn freeze(&self) {
        signal(self.pid, "STOP");
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn resume(&self) {
        signal(self.pid, "CONT");
    }

    /// Kills the server: every later request is refused.
    pub fn kill(&self) {
        signal(self.pid, "CONT");
        signal(self.pid, "KILL");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server still up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{sig} {pid}");
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog stop the server.
        if let Ok(mut w) = self.watchdog.lock() {
            drop(w.stdin.take());
            let _ = w.wait();
        }
    }
}

/// Copies every object of one lake into another (the local lake uploaded to the bucket).
pub async fn copy_lake(from: &Lake, to: &Lake) {
    for o in from.list("").await.expect("list the source lake") {
        let bytes = from.get(&o.key).await.expect("read a source object");
        to.put(&o.key, bytes).await.expect("upload an object");
    }
}
