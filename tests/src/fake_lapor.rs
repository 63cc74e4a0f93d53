//! A fake SP4N-LAPOR! on loopback, speaking the shape its integrators see (docs/lapor.md):
//! static `auth`/`token` headers (checked: a wrong one is 401), the
//! `{"results": {"data": …}, "message": …}` envelope, the integrator's endpoints and status
//! names. It records every request as received, bytes included, so tests can assert on what
//! NTB Care actually sent, and it can be told to fail: 503, a slow answer (after acting), or
//! an unreadable one.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

pub const AUTH: &str = "fake-lapor-auth";
pub const TOKEN: &str = "fake-lapor-token";
/// NTB's institution id in the fake's master data.
pub const NTB_INSTITUTION: &str = "5200";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// Every call answers 503.
    Unavailable,
    /// Every call answers 200 with HTML.
    Malformed,
    /// Creates take effect, then the answer comes after this long.
    SlowCreate(Duration),
}

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    /// A `multipart/form-data` field.
    pub fn form_field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"\r\n\r\n");
        let text = self.text();
        let start = text.find(&marker)? + marker.len();
        let end = text[start..].find("\r\n--")? + start;
        Some(text[start..end].to_string())
    }
}

#[derive(Default)]
pub struct State {
    pub mode: Option<Mode>,
    pub requests: Vec<Recorded>,
    /// Complaints created, with the id given.
    pub complaints: Vec<Value>,
    pub statuses: HashMap<String, String>,
    pub followups: HashMap<String, Vec<Value>>,
    /// Complaints dispositioned to NTB, for the inbox.
    pub inbox: Vec<Value>,
}

pub struct FakeLapor {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeLapor {
    /// `config` with the LAPOR! integration pointed at this fake (its credentials, the
    /// province's channel and institution, a 1 s timeout).
    pub fn configure(&self, mut config: crate::AppConfig) -> crate::AppConfig {
        for (name, value) in [
            ("LAPOR_BASE_URL", self.url.as_str()),
            ("LAPOR_OUTBOUND_HOST", self.url.as_str()),
            ("LAPOR_AUTH_HEADER", "auth"),
            ("LAPOR_AUTH", AUTH),
            ("LAPOR_TOKEN", TOKEN),
            ("LAPOR_CHANNEL_ID", "21"),
            ("LAPOR_INSTITUTION_ID", NTB_INSTITUTION),
            ("LAPOR_CLASSIFICATION_ID", "6"),
            ("LAPOR_TIMEOUT_MS", "1000"),
        ] {
            config = config.env(&format!("SPIN_VARIABLE_{name}"), value);
        }
        config
    }

    pub fn start() -> FakeLapor {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        FakeLapor { url, state }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn requests(&self, method: &str, path_prefix: &str) -> Vec<Recorded> {
        let s = self.state.lock().unwrap();
        s.requests.iter().filter(|r| r.method == method && r.path.starts_with(path_prefix)).cloned().collect()
    }

    pub fn complaints(&self) -> Vec<Value> {
        self.state.lock().unwrap().complaints.clone()
    }

    pub fn set_status(&self, id: &str, status: &str) {
        self.state.lock().unwrap().statuses.insert(id.into(), status.into());
    }

    pub fn add_followup(&self, id: &str, content: &str) {
        let mut s = self.state.lock().unwrap();
        let list = s.followups.entry(id.into()).or_default();
        let n = list.len();
        list.push(json!({"id": format!("{id}-{n}"), "created_at": "01-12-2026 10:00:00", "content": content, "attachments": []}));
    }

    pub fn followups(&self, id: &str) -> Vec<Value> {
        self.state.lock().unwrap().followups.get(id).cloned().unwrap_or_default()
    }

    pub fn add_inbox(&self, complaint: Value) {
        self.state.lock().unwrap().inbox.push(complaint);
    }

    /// Every byte every request carried, for leak checks.
    pub fn all_bytes(&self) -> String {
        let s = self.state.lock().unwrap();
        s.requests
            .iter()
            .map(|r| format!("{} {} {:?}\n{}\n", r.method, r.path, r.headers, r.text()))
            .collect()
    }
}

fn read_request(stream: &mut BufReader<TcpStream>) -> std::io::Result<Option<Recorded>> {
    let mut line = String::new();
    if stream.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        stream.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            stream.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(Some(Recorded { method, path, headers, body }))
}

fn serve(stream: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader)? {
        let (status, body, delay) = answer(&req, state);
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        writer.write_all(head.as_bytes())?;
        writer.write_all(body.as_bytes())?;
        writer.flush()?;
    }
    Ok(())
}

fn envelope(data: Value) -> String {
    json!({"results": {"data": data}, "message": "Berhasil"}).to_string()
}

fn answer(req: &Recorded, state: &Arc<Mutex<State>>) -> (u16, String, Option<Duration>) {
    let mut s = state.lock().unwrap();
    s.requests.push(req.clone());
    let header = |n: &str| req.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    if header("auth") != Some(AUTH) || header("token") != Some(TOKEN) {
        return (401, json!({"message": "Unauthenticated."}).to_string(), None);
    }
    match s.mode.unwrap_or(Mode::Up) {
        Mode::Unavailable => return (503, "Service Unavailable".into(), None),
        Mode::Malformed => return (200, "<html>maintenance</html>".into(), None),
        _ => {}
    }
    let path = req.path.split('?').next().unwrap_or("").to_string();
    let query = req.path.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["masters", "institutions", "external"]) => (
            200,
            envelope(json!([
                {"id": 5200, "name": "Pemerintah Provinsi Nusa Tenggara Barat"},
                {"id": 151, "name": "PT PLN (Persero) UID NTB"},
                {"id": 3100, "name": "Kementerian Dalam Negeri"}])),
            None,
        ),
        ("GET", ["masters", "categories"]) => (
            200,
            envelope(json!([{"id": 436, "name": "Infrastruktur"}, {"id": 12, "name": "Kesehatan"}])),
            None,
        ),
        ("GET", ["masters", "locations"]) => (
            200,
            envelope(
                json!([{"id": 34, "name": "Nusa Tenggara Barat"}, {"id": 3471, "name": "Kota Mataram"}]),
            ),
            None,
        ),
        ("POST", ["complaints", "complaint"]) => {
            let mut c = req.json();
            if !c.is_object() || c["title"].as_str().is_none_or(str::is_empty) {
                return (422, json!({"message": "title wajib diisi"}).to_string(), None);
            }
            let id = (90_000 + s.complaints.len()).to_string();
            c["id"] = json!(id);
            s.complaints.push(c);
            s.statuses.insert(id.clone(), "Belum Terverifikasi".into());
            let delay = match s.mode {
                Some(Mode::SlowCreate(d)) => Some(d),
                _ => None,
            };
            (
                200,
                json!({"complaint_id": id.parse::<i64>().unwrap(), "message": "Berhasil"}).to_string(),
                delay,
            )
        }
        ("GET", ["complaints", "search"]) => {
            let keyword =
                query.split('&').find_map(|p| p.strip_prefix("keyword=")).unwrap_or("").replace("%2D", "-");
            let found: Vec<Value> = s
                .complaints
                .iter()
                .filter(|c| !keyword.is_empty() && c["content"].as_str().unwrap_or("").contains(&keyword))
                .cloned()
                .collect();
            (200, envelope(json!(found)), None)
        }
        ("GET", ["complaints", "inbox"]) => (200, envelope(json!(s.inbox)), None),
        ("GET", ["complaints", id, "complaint"]) => match s.statuses.get(*id) {
            Some(status) => (
                200,
                json!({"results": {"data": {"id": id, "status_name": status, "status_code": 1,
                        "disposition_id": NTB_INSTITUTION.parse::<i64>().unwrap(), "status_logs": []},
                        "data_logs": []}, "message": "Berhasil"})
                .to_string(),
                None,
            ),
            None => (404, json!({"message": "Laporan tidak ditemukan"}).to_string(), None),
        },
        ("GET", ["complaints", id, "followups"]) => {
            (200, envelope(json!(s.followups.get(*id).cloned().unwrap_or_default())), None)
        }
        ("POST", ["complaints", "followup", "add"]) => {
            let Some(id) = req.form_field("complaint_id") else {
                return (422, json!({"message": "complaint_id wajib"}).to_string(), None);
            };
            let content = req.form_field("content").unwrap_or_default();
            let list = s.followups.entry(id.clone()).or_default();
            let n = list.len();
            list.push(
                json!({"id": format!("{id}-{n}"), "created_at": "02-12-2026 09:00:00", "content": content}),
            );
            (200, json!({"message": "Berhasil"}).to_string(), None)
        }
        ("POST", ["complaints", "process", _id, "reject"]) => {
            (200, json!({"message": "Berhasil"}).to_string(), None)
        }
        _ => (404, json!({"message": "Not found"}).to_string(), None),
    }
}
