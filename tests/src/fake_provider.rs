//! Loopback stand-ins for the providers notification sends through (WhatsApp Cloud API,
//! Twilio, NTB Care's SMS gateway, SendGrid): real HTTP servers on 127.0.0.1 that record
//! every request exactly as it arrived and answer as the provider does, or as a test
//! scripts it (a 500, or a stall that outlasts the caller's timeout).
//!
//! Plain `std::net`, one thread per connection, `Connection: close`: enough HTTP/1.1 for one
//! request per connection, which is what a provider call is.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which provider's answers to give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{"messages":[{"id":"wamid…"}]}`, 200.
    Whatsapp,
    /// `{"sid":"SM…"}`, 201.
    Twilio,
    /// `{"id":…,"message_id":"gw-…"}`, 202.
    SmsGateway,
    /// 202, empty body, `X-Message-Id`.
    Sendgrid,
}

/// What to do with the next request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Answer as the provider does when it takes the message.
    Accept,
    /// Answer this status with a provider-shaped error body.
    Status(u16),
    /// Answer 429 with a provider-shaped error body and `Retry-After: <value>` (seconds or
    /// an HTTP date), as a rate-limited provider does.
    RetryAfter(&'static str),
    /// Read the request, then hold the connection without answering for this long and
    /// close it: a provider that timed out.
    Stall(Duration),
    /// Take the message, then answer as [`Behaviour::Accept`] after this long: a slow
    /// provider (the message is the provider's as soon as it arrives).
    Slow(Duration),
}

/// A request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status answered, or `None` for a stalled request that got no answer.
    pub answered: Option<u16>,
    /// The provider message id given in a 2xx answer.
    pub provider_message_id: Option<String>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// An `application/x-www-form-urlencoded` body, decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        fn decode(s: &str) -> String {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'+' => out.push(b' '),
                    b'%' if i + 2 < bytes.len() => {
                        let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                        match u8::from_str_radix(hex, 16) {
                            Ok(b) => {
                                out.push(b);
                                i += 2;
                            }
                            Err(_) => out.push(b'%'),
                        }
                    }
                    b => out.push(b),
                }
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        self.text()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn accepted(&self) -> bool {
        self.answered.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Behaviour>,
    requests: Vec<Recorded>,
}

/// A running fake provider; it stops when the test process ends.
#[derive(Clone)]
pub struct FakeProvider {
    kind: Kind,
    port: u16,
    state: Arc<Mutex<State>>,
}

impl FakeProvider {
    pub fn start(kind: Kind) -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let fake = FakeProvider { kind, port, state: Arc::default() };
        let server = fake.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let server = server.clone();
                std::thread::spawn(move || server.serve(stream));
            }
        });
        fake
    }

    /// `http://127.0.0.1:<port>`: an origin, as the base-URL variables take it.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Behaviours for the next requests, in order; after them, [`Behaviour::Accept`].
    pub fn script(&self, behaviours: impl IntoIterator<Item = Behaviour>) {
        self.state.lock().unwrap().script.extend(behaviours);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The requests answered with a 2xx: the messages the provider took.
    pub fn accepted(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(Recorded::accepted).collect()
    }

    fn serve(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        });
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).is_err() {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let length = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
        });
        let mut body = Vec::new();
        if let Some(n) = length {
            body.resize(n, 0);
            if reader.read_exact(&mut body).is_err() {
                return;
            }
        } else if chunked {
            loop {
                let mut size = String::new();
                if reader.read_line(&mut size).is_err() {
                    return;
                }
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                if reader.read_exact(&mut chunk).is_err() {
                    return;
                }
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        let (index, behaviour) = {
            let mut state = self.state.lock().unwrap();
            let behaviour = state.script.pop_front().unwrap_or(Behaviour::Accept);
            state.requests.push(Recorded {
                method,
                path,
                headers,
                body: body.clone(),
                answered: None,
                provider_message_id: None,
            });
            (state.requests.len() - 1, behaviour)
        };
        let (status, extra_headers, answer, id) = match behaviour {
            Behaviour::Stall(d) => {
                std::thread::sleep(d);
                return;
            }
            Behaviour::Status(code) => (code, vec![], self.error_body(code), None),
            Behaviour::RetryAfter(value) => {
                (429, vec![("retry-after".to_string(), value.to_string())], self.error_body(429), None)
            }
            Behaviour::Accept | Behaviour::Slow(_) => {
                if let Behaviour::Slow(d) = behaviour {
                    std::thread::sleep(d);
                }
                let (status, headers, body, id) = self.accept(index, &body);
                (status, headers, body, Some(id))
            }
        };
        let mut out = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
            answer.len()
        );
        for (k, v) in extra_headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let mut stream = stream;
        if stream
            .write_all(out.as_bytes())
            .and_then(|_| stream.write_all(&answer))
            .and_then(|_| stream.flush())
            .is_ok()
        {
            let mut state = self.state.lock().unwrap();
            state.requests[index].answered = Some(status);
            if (200..300).contains(&status) {
                state.requests[index].provider_message_id = id;
            }
        }
    }

    fn accept(&self, n: usize, body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>, String) {
        let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        match self.kind {
            Kind::Whatsapp => {
                let id = format!("wamid.fake{n}");
                let to = request["to"].clone();
                let answer = serde_json::json!({
                    "messaging_product": "whatsapp",
                    "contacts": [{ "input": to, "wa_id": to }],
                    "messages": [{ "id": id }],
                });
                (200, vec![], answer.to_string().into_bytes(), id)
            }
            Kind::Twilio => {
                let id = format!("SMfake{n:032}");
                let answer = serde_json::json!({ "sid": id, "status": "queued", "num_segments": "1" });
                (201, vec![], answer.to_string().into_bytes(), id)
            }
            Kind::SmsGateway => {
                let id = format!("gw-{n}");
                let answer = serde_json::json!({ "id": request["id"], "message_id": id });
                (202, vec![], answer.to_string().into_bytes(), id)
            }
            Kind::Sendgrid => {
                let id = format!("sg-fake-{n}");
                (202, vec![("X-Message-Id".into(), id.clone())], vec![], id)
            }
        }
    }

    fn error_body(&self, status: u16) -> Vec<u8> {
        let v = match self.kind {
            Kind::Whatsapp => {
                serde_json::json!({ "error": { "message": "Service temporarily unavailable", "code": 2 } })
            }
            Kind::Twilio => {
                serde_json::json!({ "code": 20500, "message": "Internal Server Error", "status": status })
            }
            Kind::SmsGateway => serde_json::json!({ "error": "modem busy" }),
            Kind::Sendgrid => serde_json::json!({ "errors": [{ "message": "internal error" }] }),
        };
        v.to_string().into_bytes()
    }
}
