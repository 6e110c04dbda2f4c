//! A scripted webhook receiver for tests: a std `TcpListener` on 127.0.0.1 in a thread
//! that answers each connection as told, records what it was sent, and always ends (after
//! its script's connections, or at a deadline).
//!
//! Shared by berth-notify's tests and the end-to-end tests (`#[path]`-included).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The secret part of every test webhook URL: must never be printed.
pub const TOKEN: &str = "T0TEST/B0TEST/sEcReTtOkEn42";

/// How to answer one connection.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this status, body and extra headers.
    Status(u16, &'static str, Vec<(&'static str, String)>),
    /// Read the request, then say nothing for this long and hang up.
    Hang(Duration),
    /// Answer with this status and a body that repeats the request's path (the secret
    /// part of the URL), as some proxies and servers do in their error pages.
    Echo(u16),
}

impl Reply {
    /// 200 `ok`, as Slack answers.
    pub fn ok() -> Self {
        Reply::Status(200, "ok", Vec::new())
    }
    /// A status with a body.
    pub fn status(code: u16, body: &'static str) -> Self {
        Reply::Status(code, body, Vec::new())
    }
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST`.
    pub method: String,
    /// `/services/…`.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body, parsed as JSON (`Null` when it was not JSON).
    pub body: serde_json::Value,
    /// When it arrived, from the start of the receiver.
    pub at: Duration,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running receiver.
pub struct Receiver {
    /// The webhook URL to give berth.
    pub url: String,
    seen: Arc<Mutex<Vec<Request>>>,
    accept: JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver that answers one connection per entry of `script`, in order, and
    /// stops accepting after them or after `deadline`.
    pub fn start(script: Vec<Reply>, deadline: Duration) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("local addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        let accept = std::thread::spawn(move || {
            let start = Instant::now();
            let mut script = script.into_iter();
            let mut handlers = Vec::new();
            let mut next = script.next();
            while let Some(reply) = next.take() {
                if start.elapsed() > deadline {
                    break;
                }
                match listener.accept() {
                    Ok((stream, _)) => {
                        let seen = Arc::clone(&seen2);
                        handlers.push(std::thread::spawn(move || {
                            serve(stream, reply, start, &seen);
                        }));
                        next = script.next();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                        next = Some(reply);
                    }
                    Err(_) => break,
                }
            }
            // Answering handlers finish quickly; hanging ones are left to end on their own.
            for h in handlers {
                if h.is_finished() {
                    let _ = h.join();
                }
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/services/{TOKEN}"),
            seen,
            accept,
        }
    }

    /// Waits for the accept loop to end (script done or deadline) and returns the requests.
    pub fn finish(self) -> Vec<Request> {
        let _ = self.accept.join();
        // Give answering handlers a moment to record their request.
        std::thread::sleep(Duration::from_millis(50));
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Request> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, reply: Reply, start: Instant, seen: &Mutex<Vec<Request>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    if let Ok(mut v) = seen.lock() {
        v.push(Request {
            method,
            path,
            headers,
            body,
            at: start.elapsed(),
        });
    }
    let mut stream = stream;
    let echoed;
    let reply = match reply {
        Reply::Echo(code) => {
            echoed = format!("no such webhook: {}", seen_path(seen));
            Reply::Status(code, echoed.leak(), Vec::new())
        }
        other => other,
    };
    match reply {
        Reply::Status(code, text, extra) => {
            let mut head = format!(
                "HTTP/1.1 {code} Test\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n",
                text.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(text.as_bytes());
            let _ = stream.flush();
        }
        Reply::Hang(d) => std::thread::sleep(d),
        Reply::Echo(_) => {}
    }
}

/// The path of the request just recorded.
fn seen_path(seen: &Mutex<Vec<Request>>) -> String {
    seen.lock()
        .ok()
        .and_then(|v| v.last().map(|r| r.path.clone()))
        .unwrap_or_default()
}
