//! A minimal AWS Lambda Runtime API on 127.0.0.1, to run the real function binaries as Lambda
//! runs them: the binary long-polls `GET /2018-06-01/runtime/invocation/next`, gets an event
//! with its `Lambda-Runtime-Aws-Request-Id` and `Lambda-Runtime-Deadline-Ms` headers, and posts
//! `…/invocation/{id}/response` or `…/invocation/{id}/error`.
//!
//! One thread per connection (the runtime's HTTP client keeps connections alive); requests are
//! parsed with their `Content-Length` or chunked bodies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Response(serde_json::Value),
    Error {
        error_type: String,
        error_message: String,
    },
    /// `POST /runtime/init/error`: the function could not start.
    InitError(String),
}

impl Reply {
    /// The response body; panics (showing the error) when the invocation failed.
    pub fn ok(self) -> serde_json::Value {
        match self {
            Reply::Response(v) => v,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// (errorType, errorMessage); panics when the invocation succeeded.
    pub fn err(self) -> (String, String) {
        match self {
            Reply::Error {
                error_type,
                error_message,
            } => (error_type, error_message),
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

/// The Runtime API server.
pub struct RuntimeApi {
    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: Sender<(String, serde_json::Value)>,
    replies: Receiver<(String, Reply)>,
    next_id: u64,
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(n) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(n, 0);
        r.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request { method, path, body })
}

fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> bool {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).is_ok() && s.write_all(body).is_ok() && s.flush().is_ok()
}

type Shared = (
    Arc<Mutex<Receiver<(String, serde_json::Value)>>>,
    Sender<(String, Reply)>,
);

fn serve_connection(stream: TcpStream, (events, replies): Shared) {
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    const BASE: &str = "/2018-06-01/runtime/";
    while let Some(req) = read_request(&mut reader) {
        let route = req.path.strip_prefix(BASE).unwrap_or("");
        let ok = if req.method == "GET" && route == "invocation/next" {
            // Long poll: wait for the test to send an event.
            let next = events.lock().expect("events lock").recv();
            let Ok((id, event)) = next else { return };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_millis()
                + 900_000;
            respond(
                &mut writer,
                "200 OK",
                &[
                    ("Lambda-Runtime-Aws-Request-Id", id),
                    ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
                    ),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000".into(),
                    ),
                ],
                event.to_string().as_bytes(),
            )
        } else if req.method == "POST" && route.starts_with("invocation/") {
            let rest = &route["invocation/".len()..];
            let (id, what) = rest.split_once('/').unwrap_or((rest, ""));
            let body: serde_json::Value =
                serde_json::from_slice(&req.body).unwrap_or(serde_json::Value::Null);
            let reply = match what {
                "response" => Reply::Response(body),
                "error" => Reply::Error {
                    error_type: body["errorType"].as_str().unwrap_or("").to_string(),
                    error_message: body["errorMessage"].as_str().unwrap_or("").to_string(),
                },
                _ => Reply::InitError(format!("unknown route {}", req.path)),
            };
            let _ = replies.send((id.to_string(), reply));
            respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)
        } else if req.method == "POST" && route == "init/error" {
            let _ = replies.send((
                String::new(),
                Reply::InitError(String::from_utf8_lossy(&req.body).to_string()),
            ));
            respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)
        } else {
            respond(&mut writer, "404 Not Found", &[], b"{}")
        };
        if !ok {
            return;
        }
    }
}

impl RuntimeApi {
    /// Starts the API on a free port of 127.0.0.1.
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("local address").to_string();
        let (events_tx, events_rx) = channel();
        let (replies_tx, replies_rx) = channel();
        let shared: Shared = (Arc::new(Mutex::new(events_rx)), replies_tx);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve_connection(stream, shared));
            }
        });
        RuntimeApi {
            address,
            events: events_tx,
            replies: replies_rx,
            next_id: 0,
        }
    }

    /// Sends one event and waits for the function's answer (a generous guard against a hung
    /// function, not a timing assertion).
    pub fn invoke(&mut self, event: serde_json::Value) -> Reply {
        self.next_id += 1;
        let id = format!("req-{:04}", self.next_id);
        self.events
            .send((id.clone(), event))
            .expect("the API thread runs");
        let (got, reply) = self
            .replies
            .recv_timeout(Duration::from_secs(900))
            .expect("the function answered within 15 minutes");
        if let Reply::InitError(_) = reply {
            return reply;
        }
        assert_eq!(got, id, "the reply names the request id it answers");
        reply
    }
}

/// A function binary running against a [`RuntimeApi`]; killed when dropped.
pub struct FunctionProcess {
    child: Child,
    log: std::path::PathBuf,
}

impl FunctionProcess {
    /// Starts `binary` as Lambda would: `AWS_LAMBDA_RUNTIME_API` and the function variables
    /// `lambda_runtime` requires, plus `env`. Its stdout (the JSON logs) goes to a file.
    pub fn start(
        binary: &str,
        api: &RuntimeApi,
        memory_mb: u32,
        env: &[(&str, String)],
        log: &std::path::Path,
    ) -> FunctionProcess {
        let out = std::fs::File::create(log).expect("log file");
        let name = std::path::Path::new(binary)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut cmd = Command::new(binary);
        cmd.env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        FunctionProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    /// The JSON log lines written so far (non-JSON lines are returned as strings).
    pub fn logs(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::String(l.into())))
            .collect()
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
