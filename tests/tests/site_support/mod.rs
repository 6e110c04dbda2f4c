//! What the browser test of `berth site` needs: a tiny static HTTP server on 127.0.0.1
//! and a small W3C WebDriver client for chromedriver (blocking HTTP with ureq).
//!
//! Endpoints used, all checked against Debian's chromium-driver: `POST /session`
//! (capabilities `goog:chromeOptions`, `goog:loggingPrefs`), `POST …/url`,
//! `POST …/execute/sync`, `POST …/execute/async`, `POST …/timeouts`, `POST …/element`,
//! `POST …/element/{id}/value`, `POST …/element/{id}/clear`, `GET …/screenshot`,
//! `POST …/se/log` (`{"type": "browser"}`), `DELETE /session/{id}`, `GET /status`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value, json};

/// A static file server for one directory, on 127.0.0.1 and an ephemeral port.
pub struct StaticServer {
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
    /// Paths that were asked for and not found.
    pub not_found: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root`.
    pub fn start(root: &Utf8Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let port = listener.local_addr().expect("address").port();
        let not_found = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, nf, st) = (root.to_owned(), not_found.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (root, nf) = (root.clone(), nf.clone());
                        std::thread::spawn(move || serve(conn, &root, &nf));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        StaticServer {
            base: format!("http://127.0.0.1:{port}/"),
            not_found,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(conn: TcpStream, root: &Utf8Path, not_found: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return; // a speculative connection that never asked anything
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let path = percent_decode(target.split(['?', '#']).next().unwrap_or("/"));
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let file: Utf8PathBuf = root.join(rel);
    let safe = !rel.split('/').any(|s| s == "..");
    let (status, body, ctype) = match std::fs::read(&file) {
        Ok(b) if safe && file.is_file() => ("200 OK", b, content_type(rel)),
        _ => {
            not_found.lock().expect("lock").push(path.clone());
            ("404 Not Found", b"not found".to_vec(), "text/plain")
        }
    };
    let mut conn = conn;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
    let _ = conn.flush();
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(180)))
            .build(),
    )
}

/// GETs `url`; returns the status code.
pub fn http_status(url: &str) -> u16 {
    match agent().get(url).call() {
        Ok(r) => r.status().as_u16(),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// A running chromedriver, killed on drop.
pub struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    /// Starts `chromedriver` on 127.0.0.1 and waits until it is ready.
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(mut r) = agent().get(&format!("{base}/status")).call()
                && r.body_mut()
                    .read_json::<Value>()
                    .is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not become ready on {base}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, base }
    }

    /// A new headless Chromium session; `mobile` emulates a phone `width` pixels wide
    /// (Chromium's windows are at least 500 pixels wide, so narrow widths need emulation).
    pub fn session(&self, width: u32, height: u32, mobile: bool) -> Session {
        let mut chrome = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--force-device-scale-factor=1", format!("--window-size={},{}", width.max(800), height)],
        });
        if mobile {
            chrome["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "touch": true}});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": chrome,
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = call(
            agent()
                .post(&format!("{}/session", self.base))
                .send_json(&caps),
        );
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        let s = Session {
            base: format!("{}/session/{id}", self.base),
        };
        s.post("timeouts", json!({"script": 120_000, "pageLoad": 60_000}));
        s
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `value` of a WebDriver answer; panics with the error when there is one.
fn call(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Value {
    let mut r = r.expect("chromedriver answers");
    let status = r.status();
    let v: Value = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_json()
        .expect("chromedriver answers JSON");
    assert!(status.is_success(), "WebDriver error {status}: {v}");
    v["value"].clone()
}

/// One browser session, deleted on drop.
pub struct Session {
    base: String,
}

/// The W3C name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn post(&self, path: &str, body: Value) -> Value {
        call(
            agent()
                .post(&format!("{}/{path}", self.base))
                .send_json(&body),
        )
    }

    fn get(&self, path: &str) -> Value {
        call(agent().get(&format!("{}/{path}", self.base)).call())
    }

    /// Loads `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.post("url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `return` gives the result).
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.post("execute/sync", json!({ "script": script, "args": args }))
    }

    /// Runs `script` whose last argument is a callback to call with the result.
    pub fn exec_async(&self, script: &str, args: Value) -> Value {
        self.post("execute/async", json!({ "script": script, "args": args }))
    }

    /// The element `css` selects.
    pub fn find(&self, css: &str) -> String {
        let v = self.post("element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// Types `text` into an element, as a person would (key events).
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.post(&format!("element/{el}/clear"), json!({}));
        self.post(&format!("element/{el}/value"), json!({ "text": text }));
    }

    /// Clicks an element.
    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.post(&format!("element/{el}/click"), json!({}));
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.get("screenshot");
        base64_decode(v.as_str().expect("base64 PNG"))
    }

    /// The browser's console entries since the last call.
    pub fn logs(&self) -> Vec<Value> {
        match self.post("se/log", json!({"type": "browser"})) {
            Value::Array(a) => a,
            other => panic!("unexpected log answer: {other}"),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = agent().delete(&self.base).call();
    }
}

/// Standard base64 (screenshots).
fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

/// Reads a whole file as text (for axe-core).
pub fn read_text(path: &Utf8Path) -> String {
    let mut s = String::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut s))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    s
}

#[test]
fn base64_round_trip() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("AAEC"), vec![0, 1, 2]);
    assert_eq!(percent_decode("a%20b"), "a b");
}
