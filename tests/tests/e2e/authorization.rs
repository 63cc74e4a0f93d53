//! The authorisation matrix (docs/authorization.md), cell by cell, through the built
//! components: the doc's table is this test's data. Every row is a route (with the case state
//! or body it needs), every column a kind of caller; each cell is one real request on one
//! host, answered as the table says or the test fails naming the cell. Allowed cells send
//! valid requests (on a fresh case where they change something), so a success is a real
//! success; refused cells on a case are checked to have changed nothing. A route of
//! `spin.toml` without a row fails the test too.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use hmac::{Hmac, Mac};
use ntbcare_tests::fake_lapor::FakeLapor;
use ntbcare_tests::fake_provider::{Behaviour, FakeProvider, Kind};
use ntbcare_tests::{repo_root, AppConfig, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::channels::{fixture as channel_fixture, twilio_signature};
use crate::intake_api::{multipart, JPEG};

const INTERNAL: &str = "test-internal-token";
const INTERNAL_HEADER: &str = "x-ntbcare-internal-token";
const PASSWORD: &str = "kata-sandi-panjang";
// The channel secrets channels.rs signs with (its `twilio_signature` uses the Twilio token).
const META_SECRET: &str = "meta-app-secret-uji";
const VERIFY_TOKEN: &str = "verifikasi-ntb";
const TWILIO_TOKEN: &str = "ntbcare-test-auth-token";
const GATEWAY_SECRET: &str = "gateway-secret-uji";
const PUBLIC_URL: &str = "https://care.ntbprov.go.id";
const OPEN311_KEY: &str = "kunci-open311-matriks";
const PARTNER_A: &str = "kunci-mitra-a";
const PARTNER_B: &str = "kunci-mitra-b";
const FORGED: &str = "eyJmb3JnZWQiOnRydWV9.cGFsc3U";
const ANSWER: &str =
    "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";

/// The table's columns after `method | path | with`, in order.
const COLUMNS: [&str; 15] = [
    "none",
    "admin",
    "admin-acct",
    "internal",
    "prov",
    "reg",
    "reg-other",
    "liaison",
    "liaison-other",
    "head",
    "head-other",
    "insp",
    "lead",
    "key",
    "wrong-key",
];

/// The officers behind the session columns: (column, username, role, unit).
const OFFICERS: [(&str, &str, &str, Option<&str>); 10] = [
    ("admin-acct", "pengelola", "administrator", None),
    ("prov", "koordinator", "provincial-coordinator", None),
    ("reg", "koord-mataram", "regency-coordinator", Some("pemkot-mataram")),
    ("reg-other", "koord-lotim", "regency-coordinator", Some("pemkab-lombok-timur")),
    ("liaison", "penghubung-a", "liaison-officer", Some("pemkot-mataram")),
    ("liaison-other", "penghubung-b", "liaison-officer", Some("dikes")),
    ("head", "kepala-a", "unit-head", Some("pemkot-mataram")),
    ("head-other", "kepala-b", "unit-head", Some("dikes")),
    ("insp", "inspektur", "inspectorate", None),
    ("lead", "pimpinan", "leadership", None),
];

/// A spare account the administrator's rows change and sign in as with a wrong password.
const SPARE: &str = "cadangan";

// ------------------------------------------------------------------ the table

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Skip,
    Status(u16),
    /// 200, and the row's case is (true) or is not (false) in the answer.
    Listed(bool),
}

#[derive(Debug)]
struct Row {
    line: usize,
    method: String,
    path: String,
    with: String,
    cells: Vec<Expect>,
}

fn matrix() -> Vec<Row> {
    let doc = std::fs::read_to_string(repo_root().join("docs/authorization.md")).unwrap();
    let start = doc.find("<!-- matrix:begin -->").expect("docs/authorization.md has the matrix markers");
    let end = doc.find("<!-- matrix:end -->").expect("matrix end marker");
    let first_line = doc[..start].lines().count() + 1;
    let mut rows = vec![];
    let mut header_seen = false;
    for (i, line) in doc[start..end].lines().enumerate().skip(1) {
        let line_no = first_line + i;
        let fields: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            let mut expected = vec!["method", "path", "with"];
            expected.extend(COLUMNS);
            assert_eq!(fields, expected, "docs/authorization.md:{line_no}: the header is fixed");
            header_seen = true;
            continue;
        }
        if fields.iter().all(|f| f.chars().all(|c| c == '-')) {
            continue;
        }
        assert_eq!(fields.len(), 3 + COLUMNS.len(), "docs/authorization.md:{line_no}: {line}");
        let cells = fields[3..]
            .iter()
            .map(|c| match *c {
                "-" => Expect::Skip,
                "200+" => Expect::Listed(true),
                "200-" => Expect::Listed(false),
                s => Expect::Status(
                    s.parse().unwrap_or_else(|_| panic!("docs/authorization.md:{line_no}: cell `{s}`")),
                ),
            })
            .collect();
        rows.push(Row {
            line: line_no,
            method: fields[0].to_string(),
            path: fields[1].to_string(),
            with: fields[2].to_string(),
            cells,
        });
    }
    assert!(rows.len() > 50, "the matrix was not read: {} rows", rows.len());
    rows
}

/// Which `[[trigger.http]]` route of spin.toml serves `path`: the exact one, else the
/// longest wildcard, as Spin picks.
fn trigger_for<'a>(triggers: &'a [String], path: &str) -> Option<&'a String> {
    let path = path.split('?').next().unwrap();
    triggers.iter().find(|t| *t == path).or_else(|| {
        triggers
            .iter()
            .filter_map(|t| t.strip_suffix("/...").map(|prefix| (t, prefix)))
            .filter(|(_, prefix)| path == *prefix || path.starts_with(&format!("{prefix}/")))
            .max_by_key(|(_, prefix)| prefix.len())
            .map(|(t, _)| t)
    })
}

fn spin_triggers() -> Vec<String> {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("spin.toml")).unwrap()).unwrap();
    manifest["trigger"]["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["route"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_route_in_spin_toml_has_a_row_in_the_matrix() {
    let triggers = spin_triggers();
    let mut covered = BTreeSet::new();
    for row in matrix() {
        let t = trigger_for(&triggers, &row.path).unwrap_or_else(|| {
            panic!("docs/authorization.md:{}: {} is served by no route", row.line, row.path)
        });
        covered.insert(t.clone());
    }
    let missing: Vec<&String> = triggers.iter().filter(|t| !covered.contains(*t)).collect();
    assert!(missing.is_empty(), "routes of spin.toml with no row in docs/authorization.md: {missing:?}");
}

// ------------------------------------------------------------------ HTTP

struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl Req {
    fn new(method: &str, path: &str) -> Req {
        Req { method: method.into(), path: path.into(), headers: vec![], body: None }
    }
    fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.into(), v.into()));
        self
    }
    fn bearer(self, token: &str) -> Req {
        self.header("authorization", &format!("Bearer {token}"))
    }
    fn json(mut self, v: &Value) -> Req {
        self.body = Some(("application/json".into(), v.to_string().into_bytes()));
        self
    }
    fn raw(mut self, content_type: &str, bytes: Vec<u8>) -> Req {
        self.body = Some((content_type.into(), bytes));
        self
    }
    fn form(self, fields: &[(&str, &str)]) -> Req {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        self.raw("application/x-www-form-urlencoded", body.join("&").into_bytes())
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Answer {
    status: u16,
    location: Option<String>,
    cookies: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("{} not JSON: {}", self.status, self.body))
    }
}

fn sha256_hex(key: &str, data: &[u8]) -> String {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    m.update(data);
    m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

// ------------------------------------------------------------------ the world

#[derive(Clone)]
struct Case {
    ticket: String,
    secret: String,
}

struct World {
    app: TestApp,
    _lapor: FakeLapor,
    _twilio: FakeProvider,
    agent: ureq::Agent,
    sessions: HashMap<&'static str, String>,
    integration: String,
    shared: RefCell<HashMap<String, Case>>,
    /// A complaint of someone else: its secret is the `wrong-key` of complainant rows.
    stranger: Case,
    dead_letter: String,
    exported: String,
    issued_open311_key: String,
    counter: Cell<u32>,
}

impl World {
    fn start() -> World {
        let lapor = FakeLapor::start();
        let twilio = FakeProvider::start(Kind::Twilio);
        // The first message fails and, with one attempt allowed, is dead-lettered at once.
        twilio.script([Behaviour::Status(503)]);
        let config = lapor.configure(
            AppConfig::ntbcare()
                .env("SPIN_VARIABLE_META_APP_SECRET", META_SECRET)
                .env("SPIN_VARIABLE_META_VERIFY_TOKEN", VERIFY_TOKEN)
                .env("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
                .env("SPIN_VARIABLE_SMS_GATEWAY_SECRET", GATEWAY_SECRET)
                .env("SPIN_VARIABLE_PUBLIC_BASE_URL", PUBLIC_URL)
                .env("SPIN_VARIABLE_OPEN311_API_KEYS", &format!("matriks:{OPEN311_KEY}"))
                .env("SPIN_VARIABLE_PARTNER_API_KEYS", &format!("mitra-a:{PARTNER_A},mitra-b:{PARTNER_B}"))
                .env("SPIN_VARIABLE_TWILIO_API_BASE_URL", &twilio.base_url())
                .env("SPIN_VARIABLE_TWILIO_ACCOUNT_SID", "ACtest0000000000000000000000000000")
                .env("SPIN_VARIABLE_TWILIO_FROM", "NTBCare")
                .env("SPIN_VARIABLE_NOTIFICATION_MAX_ATTEMPTS", "1")
                .env("SPIN_VARIABLE_NOTIFICATION_PROVIDER_TIMEOUT_MS", "1000")
                .env("SPIN_VARIABLE_PORTAL_SECURE_COOKIES", "false"),
        );
        let app = TestApp::spawn_with(config).unwrap();
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
        let mut world = World {
            app,
            _lapor: lapor,
            _twilio: twilio,
            agent,
            sessions: HashMap::new(),
            integration: String::new(),
            shared: RefCell::default(),
            stranger: Case { ticket: String::new(), secret: String::new() },
            dead_letter: String::new(),
            exported: String::new(),
            issued_open311_key: String::new(),
            counter: Cell::new(0),
        };
        world.setup();
        world
    }

    fn send(&self, req: Req) -> Answer {
        let mut r = self.agent.request(&req.method, &self.app.url(&req.path));
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        let result = match req.body {
            Some((ct, bytes)) => r.set("content-type", &ct).send_bytes(&bytes),
            None => r.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{} {}: transport error: {e}", req.method, req.path),
        };
        let cookies = resp
            .all("set-cookie")
            .into_iter()
            .filter_map(|c| c.split(';').next()?.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect();
        Answer {
            status: resp.status(),
            location: resp.header("location").map(str::to_string),
            cookies,
            body: resp.into_string().unwrap_or_default(),
        }
    }

    fn ok(&self, req: Req, status: u16) -> Answer {
        let what = format!("{} {}", req.method, req.path);
        let a = self.send(req);
        assert_eq!(a.status, status, "setup: {what}: {}", a.body);
        a
    }

    fn next(&self) -> u32 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    fn register(&self, username: &str, role: &str, unit: Option<&str>) {
        let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                          "password": PASSWORD});
        self.ok(Req::new("POST", "/api/v1/officers").bearer(TEST_ADMIN_TOKEN).json(&body), 201);
    }

    fn sign_in(&self, username: &str) -> String {
        let body = json!({"username": username, "password": PASSWORD});
        let a = self.ok(Req::new("POST", "/api/v1/sessions").json(&body), 201);
        a.json()["token"].as_str().unwrap().to_string()
    }

    /// An integration's long-lived API token for the account, issued by the administrator.
    fn api_token(&self, username: &str) -> String {
        let a = self.ok(
            Req::new("POST", &format!("/api/v1/officers/{username}/api-tokens")).bearer(TEST_ADMIN_TOKEN),
            201,
        );
        a.json()["token"].as_str().unwrap().to_string()
    }

    fn session(&self, column: &str) -> &str {
        &self.sessions[column]
    }

    fn username(column: &str) -> &'static str {
        OFFICERS.iter().find(|o| o.0 == column).map(|o| o.1).unwrap()
    }

    fn setup(&mut self) {
        for (column, username, role, unit) in OFFICERS {
            self.register(username, role, unit);
            let token = self.sign_in(username);
            self.sessions.insert(column, token);
        }
        self.register(SPARE, "liaison-officer", Some("pemkot-mataram"));
        self.integration = self.api_token(World::username("liaison"));

        // A dead letter: a complaint with a phone, its acknowledgement refused by Twilio once.
        let body = json!({"description": "Lampu jalan mati di Jalan Pejanggik sejak seminggu", "region_code": "52.71",
                          "category": "infrastruktur", "privacy": "anonymous", "reporter": {"phone": "081234500001"}});
        self.ok(Req::new("POST", "/api/v1/complaints").json(&body), 201);
        for _ in 0..20 {
            self.ok(Req::new("POST", "/api/v1/notifications/sweep").header(INTERNAL_HEADER, INTERNAL), 200);
            let dead = self
                .ok(Req::new("GET", "/api/v1/notifications/dead-letters").bearer(TEST_ADMIN_TOKEN), 200)
                .json();
            if let Some(id) = dead["messages"][0]["id"].as_str() {
                self.dead_letter = id.to_string();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!self.dead_letter.is_empty(), "no dead letter to requeue");

        // A complaint in LAPOR!'s ledger.
        self.stranger = self.submit("anonymous");
        let report =
            self.ok(Req::new("POST", "/api/v1/lapor/sync").header(INTERNAL_HEADER, INTERNAL), 200).json();
        let ledger = self.ok(Req::new("GET", "/api/v1/lapor/ledger").bearer(TEST_ADMIN_TOKEN), 200).json();
        self.exported = ledger["entries"][0]["ticket"]
            .as_str()
            .unwrap_or_else(|| panic!("nothing exported: {report}"))
            .to_string();

        let a = self.ok(
            Req::new("POST", "/api/v1/intake/open311-keys")
                .bearer(TEST_ADMIN_TOKEN)
                .json(&json!({"owner": "uji"})),
            201,
        );
        self.issued_open311_key = a.json()["api_key"].as_str().unwrap().to_string();

        for (key, reference) in [(PARTNER_A, "rujukan-a"), (PARTNER_B, "rujukan-b")] {
            let mut body = self.complaint_body("anonymous");
            body["reference"] = json!(reference);
            self.ok(Req::new("POST", "/api/v1/partners/complaints").bearer(key).json(&body), 201);
        }
    }

    // -------------------------------------------------------------- cases

    fn complaint_body(&self, privacy: &str) -> Value {
        json!({"description": format!("Jalan berlubang di depan SDN 3 Mataram, laporan nomor {}", self.next()),
               "region_code": "52.71", "category": "infrastruktur", "privacy": privacy})
    }

    fn submit(&self, privacy: &str) -> Case {
        let a = self.ok(Req::new("POST", "/api/v1/complaints").json(&self.complaint_body(privacy)), 201);
        let v = a.json();
        Case {
            ticket: v["ticket"].as_str().unwrap().into(),
            secret: v["tracking_secret"].as_str().unwrap().into(),
        }
    }

    fn submit_photo(&self, privacy: &str) -> Case {
        let complaint = self.complaint_body(privacy).to_string();
        let (ct, body) = multipart(&[
            ("complaint", None, "application/json", complaint.as_bytes()),
            ("attachment", Some("jalan.jpg"), "image/jpeg", JPEG),
        ]);
        let v = self.ok(Req::new("POST", "/api/v1/complaints").raw(&ct, body), 201).json();
        Case {
            ticket: v["ticket"].as_str().unwrap().into(),
            secret: v["tracking_secret"].as_str().unwrap().into(),
        }
    }

    fn act(&self, column: &str, ticket: &str, action: Value) {
        let token = self.session(column).to_string();
        self.ok(
            Req::new("POST", &format!("/api/v1/cases/{ticket}/actions")).bearer(&token).json(&action),
            200,
        );
    }

    /// A new case of unit A in `state`.
    fn case_in(&self, state: &str) -> Case {
        let case = self.submit("anonymous");
        let t = case.ticket.as_str();
        let steps: &[(&str, Value)] = &[
            ("prov", json!({"action": "verify"})),
            ("prov", json!({"action": "dispatch"})),
            ("liaison", json!({"action": "accept"})),
            ("liaison", json!({"action": "respond", "answer": ANSWER})),
            ("prov", json!({"action": "close"})),
        ];
        let n = match state {
            "received" => 0,
            "verified" => 1,
            "dispatched" | "forwarded" => 2,
            "in-progress" => 3,
            "responded" => 4,
            "closed" => 5,
            other => panic!("no case state `{other}`"),
        };
        for (column, action) in &steps[..n] {
            self.act(column, t, action.clone());
        }
        if state == "forwarded" {
            self.act(
                "liaison",
                t,
                json!({"action": "forward", "reason": "Jalan provinsi, bukan kewenangan kota.", "suggested_unit": "dikes"}),
            );
        }
        case
    }

    /// The case a GET row reads: one per `with`, made once.
    fn shared_case(&self, with: &str) -> Case {
        if let Some(c) = self.shared.borrow().get(with) {
            return c.clone();
        }
        let case = match with {
            "photo-public" => self.submit_photo("anonymous"),
            "photo-confidential" => self.submit_photo("confidential"),
            state => self.case_in(state),
        };
        self.shared.borrow_mut().insert(with.to_string(), case.clone());
        case
    }

    fn snapshot(&self, ticket: &str) -> (Value, usize) {
        let v =
            self.ok(Req::new("GET", &format!("/api/v1/cases/{ticket}")).bearer(TEST_ADMIN_TOKEN), 200).json();
        (v["status"].clone(), v["history"].as_array().map_or(0, Vec::len))
    }

    // -------------------------------------------------------------- one cell

    /// Build the row's request for the caller, with the case it works on (if any).
    fn request(&self, row: &Row, column: &str, integration: bool) -> (Req, Option<Case>, Option<String>) {
        let mutating = row.method != "GET";
        let action = |state: &str, body: Value| -> (Option<Case>, Option<Value>) {
            let case = if mutating { self.case_in(state) } else { self.shared_case(state) };
            (Some(case), Some(body))
        };
        let (case, body): (Option<Case>, Option<Value>) = match row.with.as_str() {
            "-" => (None, None),
            "received" | "dispatched" | "forwarded" | "closed" => (Some(self.shared_case(&row.with)), None),
            "photo-public" | "photo-confidential" => (Some(self.shared_case(&row.with)), None),
            "verify" => action("received", json!({"action": "verify", "title": "Jalan berlubang"})),
            "reject" => action("received", json!({"action": "reject", "reason": "spam"})),
            "mark-duplicate" => {
                action("received", json!({"action": "mark-duplicate", "of": self.stranger.ticket}))
            }
            "dispatch" => action("verified", json!({"action": "dispatch"})),
            "forward" => {
                action("dispatched", json!({"action": "forward", "reason": "Bukan kewenangan unit ini."}))
            }
            "accept" => action("dispatched", json!({"action": "accept"})),
            "request-information" => action(
                "in-progress",
                json!({"action": "request-information", "question": "Di depan nomor rumah berapa tepatnya?"}),
            ),
            "respond" => action("in-progress", json!({"action": "respond", "answer": ANSWER})),
            "close" => action("responded", json!({"action": "close"})),
            "reopen" => action("responded", json!({"action": "reopen", "reason": "Jawaban belum lengkap."})),
            "rate" => action("responded", json!({"score": 5, "resolved": "yes"})),
            "inform" => action("in-progress", json!({"text": "Lubangnya di depan rumah nomor 12."})),
            _ => (None, None),
        };
        let ticket = case.as_ref().map(|c| c.ticket.clone()).unwrap_or_else(|| self.exported.clone());
        let path = row
            .path
            .replace("{ticket}", &ticket)
            .replace("{n}", "1")
            .replace("{code}", "infrastruktur")
            .replace("{username}", SPARE)
            .replace("{id}", &self.dead_letter)
            .replace(
                "{reference}",
                if row.with == "other-partners-reference" { "rujukan-b" } else { "rujukan-a" },
            );
        let mut req = Req::new(&row.method, &path);
        let portal =
            !path.starts_with("/api/") && !path.starts_with("/webhooks/") && !path.starts_with("/open311/");
        let mut fresh_token = None;

        // The caller's credential.
        let session_cookie: Option<String> = match column {
            "none" | "key" => None,
            "internal" => {
                req = req.header(INTERNAL_HEADER, INTERNAL);
                None
            }
            "admin" => {
                if !portal {
                    req = req.bearer(TEST_ADMIN_TOKEN);
                }
                Some(TEST_ADMIN_TOKEN.to_string())
            }
            "wrong-key" => {
                if !portal {
                    req = req.bearer(FORGED).header(INTERNAL_HEADER, "salah");
                }
                Some(FORGED.to_string())
            }
            officer => {
                let token = match (row.with == "fresh-session", integration) {
                    // Signing out revokes the token presented: a fresh one for each such cell.
                    (true, false) => self.sign_in(World::username(officer)),
                    (true, true) => self.api_token(World::username(officer)),
                    (false, true) => self.integration.clone(),
                    (false, false) => self.session(officer).to_string(),
                };
                if row.with == "fresh-session" {
                    fresh_token = Some(token.clone());
                }
                if !portal {
                    req = req.bearer(&token);
                }
                Some(token)
            }
        };

        // The row's body, and the route's own credential for `key` / `wrong-key`.
        let key = column == "key";
        let wrong = column == "wrong-key";
        let secret = match (&case, key, wrong) {
            (Some(c), true, _) => Some(c.secret.clone()),
            (Some(_), _, true) => Some(self.stranger.secret.clone()),
            _ => None,
        };
        if portal {
            let mut cookies = vec![];
            if let Some(s) = &session_cookie {
                cookies.push(format!("ntb_sesi={s}"));
            }
            let mut fields: Vec<(String, String)> = vec![];
            if row.method == "POST" {
                let (nonce, csrf) = self.portal_csrf(session_cookie.as_deref());
                cookies.push(format!("ntb_nonce={nonce}"));
                fields.push(("csrf".into(), csrf));
            }
            let kode = |fields: &mut Vec<(String, String)>| {
                if let Some(s) = &secret {
                    fields.push(("kode".into(), s.clone()));
                }
            };
            match row.with.as_str() {
                "portal-complaint" => {
                    let d = format!("Saluran air tersumbat di Ampenan, laporan portal {}", self.next());
                    fields.extend([
                        ("description".into(), d),
                        ("region_code".into(), "52.71".into()),
                        ("category".into(), "infrastruktur".into()),
                        ("privacy".into(), "anonymous".into()),
                    ]);
                }
                "portal-track" => {
                    let c = self.shared_case("dispatched");
                    fields.extend([("tiket".into(), c.ticket), ("kode".into(), c.secret)]);
                }
                "rate" => {
                    kode(&mut fields);
                    fields.extend([("score".into(), "5".into()), ("resolved".into(), "yes".into())]);
                }
                "inform" => {
                    kode(&mut fields);
                    fields.push(("text".into(), "Lubangnya di depan rumah nomor 12.".into()));
                }
                "accept" => fields.push(("action".into(), "accept".into())),
                "sign-in" => match column {
                    "none" => {}
                    "wrong-key" => fields.extend([
                        ("username".into(), SPARE.into()),
                        ("password".into(), "salah-salah-salah".into()),
                    ]),
                    officer => fields.extend([
                        ("username".into(), World::username(officer).into()),
                        ("password".into(), PASSWORD.into()),
                    ]),
                },
                _ => {}
            }
            if row.method == "GET" && case.is_some() {
                if let Some(s) = &secret {
                    req.path = format!("{}?kode={s}", req.path);
                }
            }
            if !cookies.is_empty() {
                req = req.header("cookie", &cookies.join("; "));
            }
            if row.method == "POST" {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                req = req.form(&pairs);
            }
            return (req, case, fresh_token);
        }

        match row.with.as_str() {
            "-" | "received" | "dispatched" | "forwarded" | "closed" | "photo-public"
            | "photo-confidential" | "exported" => {
                if let Some(s) = &secret {
                    req = req.header("x-tracking-secret", s);
                }
            }
            "rate" | "inform" => {
                if let Some(s) = &secret {
                    req = req.header("x-tracking-secret", s);
                }
                req = req.json(body.as_ref().unwrap());
            }
            "verify"
            | "reject"
            | "mark-duplicate"
            | "dispatch"
            | "forward"
            | "accept"
            | "request-information"
            | "respond"
            | "close"
            | "reopen" => req = req.json(body.as_ref().unwrap()),
            "open311-key" => {
                let v = if row.method == "DELETE" {
                    json!({"key": self.issued_open311_key})
                } else {
                    json!({"owner": format!("klien-{}", self.next())})
                };
                req = req.json(&v);
            }
            "complaint" => req = req.json(&self.complaint_body("anonymous")),
            "open311-request" => {
                let d = format!("Jalan berlubang di depan SDN 3 Mataram, Open311 nomor {}", self.next());
                let mut fields = vec![
                    ("service_code", "infrastruktur"),
                    ("lat", "-8.5833"),
                    ("long", "116.1167"),
                    ("description", d.as_str()),
                    ("attribute[region_code]", "52.71"),
                ];
                if key {
                    fields.push(("api_key", OPEN311_KEY));
                } else if wrong {
                    fields.push(("api_key", "kunci-salah"));
                }
                req = req.form(&fields);
            }
            "partner-complaint" => {
                let mut body = self.complaint_body("anonymous");
                body["reference"] = json!(format!("rujukan-{}", self.next()));
                req = req.json(&body);
                if key {
                    req = req.bearer(PARTNER_A);
                } else if wrong {
                    req.headers.retain(|(k, _)| k != "authorization");
                    req = req.bearer("kunci-mitra-palsu");
                }
            }
            "partner-reference" | "other-partners-reference" => {
                if key {
                    req = req.bearer(PARTNER_A);
                } else if wrong {
                    req.headers.retain(|(k, _)| k != "authorization");
                    req = req.bearer("kunci-mitra-palsu");
                }
            }
            "meta-handshake" => {
                let token = if key {
                    Some(VERIFY_TOKEN)
                } else if wrong {
                    Some("salah")
                } else {
                    None
                };
                if let Some(t) = token {
                    req.path = format!(
                        "{}?hub.mode=subscribe&hub.verify_token={t}&hub.challenge=1158201444",
                        req.path
                    );
                }
            }
            "meta-message" => {
                let mut v: Value =
                    serde_json::from_slice(&channel_fixture("meta/whatsapp_text.json")).unwrap();
                v["entry"][0]["changes"][0]["value"]["messages"][0]["id"] =
                    json!(format!("wamid.matriks{}", self.next()));
                let bytes = serde_json::to_vec(&v).unwrap();
                if key || wrong {
                    let secret = if key { META_SECRET } else { "rahasia-salah" };
                    req =
                        req.header("x-hub-signature-256", &format!("sha256={}", sha256_hex(secret, &bytes)));
                }
                req = req.raw("application/json", bytes);
            }
            "twilio-sms" => {
                let body = channel_fixture("twilio/sms.form");
                if key || wrong {
                    let url = if key { PUBLIC_URL } else { "https://elsewhere.example" };
                    req = req.header(
                        "x-twilio-signature",
                        &twilio_signature(&format!("{url}/webhooks/sms/twilio"), &body),
                    );
                }
                req = req.raw("application/x-www-form-urlencoded", body);
            }
            "gateway-sms" => {
                let mut v: Value =
                    serde_json::from_slice(&channel_fixture("sms_gateway/single.json")).unwrap();
                v["id"] = json!(format!("gammu-matriks-{}", self.next()));
                let bytes = serde_json::to_vec(&v).unwrap();
                if key || wrong {
                    let ts = unix_now().to_string();
                    let mut signed = format!("{ts}.").into_bytes();
                    signed.extend_from_slice(&bytes);
                    let secret = if key { GATEWAY_SECRET } else { "rahasia-salah" };
                    req = req
                        .header("x-ntbcare-signature", &format!("sha256={}", sha256_hex(secret, &signed)))
                        .header("x-ntbcare-timestamp", &ts);
                }
                req = req.raw("application/json", bytes);
            }
            "sign-in" => {
                let v = match column {
                    "none" => json!({}),
                    "wrong-key" => json!({"username": SPARE, "password": "salah-salah-salah"}),
                    officer => json!({"username": World::username(officer), "password": PASSWORD}),
                };
                req.headers.retain(|(k, _)| k != "authorization");
                req = req.json(&v);
            }
            "fresh-session" => {}
            "new-officer" => {
                req = req.json(&json!({"username": format!("petugas-baru-{}", self.next()), "name": "Petugas Baru",
                                       "role": "liaison-officer", "unit": "pemkot-mataram", "password": PASSWORD}));
            }
            "officer-change" => req = req.json(&json!({"name": format!("Cadangan {}", self.next())})),
            "document" => {
                let text = self.ok(Req::new("GET", &path).bearer(TEST_ADMIN_TOKEN), 200).body;
                req = req.raw("application/toml", text.into_bytes());
            }
            "templates" => {
                let v = self
                    .ok(Req::new("GET", "/api/v1/notifications/templates").bearer(TEST_ADMIN_TOKEN), 200)
                    .json();
                req = req.raw("application/toml", v["toml"].as_str().unwrap().as_bytes().to_vec());
            }
            "routing-request" => {
                req = req.json(
                    &json!({"ticket": self.stranger.ticket, "channel": "Web", "category": "infrastruktur",
                                       "region_code": "52.71", "description": "Jalan berlubang"}),
                );
            }
            "dead-letter" => {}
            other => panic!("docs/authorization.md:{}: no request for `with` = `{other}`", row.line),
        }
        if row.method != "GET" && req.body.is_none() {
            req = req.raw("application/json", b"{}".to_vec());
        }
        (req, case, fresh_token)
    }

    /// The portal's CSRF nonce and token for a visitor holding `session`.
    fn portal_csrf(&self, session: Option<&str>) -> (String, String) {
        let mut req = Req::new("GET", "/lacak");
        if let Some(s) = session {
            req = req.header("cookie", &format!("ntb_sesi={s}"));
        }
        let page = self.ok(req, 200);
        let nonce = page.cookies.iter().find(|(k, _)| k == "ntb_nonce").expect("a nonce cookie").1.clone();
        let marker = "name=\"csrf\" value=\"";
        let i = page.body.find(marker).expect("a form with a CSRF token") + marker.len();
        let csrf = page.body[i..i + page.body[i..].find('"').unwrap()].to_string();
        (nonce, csrf)
    }

    /// Drive one cell; `Err` says how it differed from the table.
    fn check(&self, row: &Row, column: &str, expect: Expect, integration: bool) -> Result<(), String> {
        let (req, case, fresh) = self.request(row, column, integration);
        let refused_on_case = matches!(expect, Expect::Status(s) if s >= 400) && row.method != "GET";
        let before = match (&case, refused_on_case) {
            (Some(c), true) => Some(self.snapshot(&c.ticket)),
            _ => None,
        };
        let what = format!("{} {}", req.method, req.path);
        let a = self.send(req);
        let want = match expect {
            Expect::Status(s) => s,
            Expect::Listed(_) => 200,
            Expect::Skip => unreachable!(),
        };
        if a.status != want {
            return Err(format!(
                "{what}: answered {} not {want}: {}",
                a.status,
                a.body.chars().take(300).collect::<String>()
            ));
        }
        if let (Expect::Listed(listed), Some(c)) = (expect, &case) {
            if a.body.contains(&c.ticket) != listed {
                return Err(format!("{what}: {} is {}listed", c.ticket, if listed { "not " } else { "" }));
            }
        }
        if let (Some(c), Some(before)) = (&case, before) {
            if self.snapshot(&c.ticket) != before {
                return Err(format!("{what}: refused with {}, yet the case changed", a.status));
            }
        }
        // The officers' pages send strangers to the sign-in page, and only them.
        let officer_page = row.path.starts_with("/petugas")
            && !row.path.starts_with("/petugas/masuk")
            && !row.path.starts_with("/petugas/keluar");
        if officer_page && a.status == 303 {
            let to_sign_in = a.location.as_deref().unwrap_or("").starts_with("/petugas/masuk");
            if to_sign_in != matches!(column, "none" | "wrong-key" | "internal") {
                return Err(format!("{what}: redirected to {:?}", a.location));
            }
        }
        // A signed-out session is refused from then on.
        if let (Some(token), true) = (fresh, (200..400).contains(&a.status)) {
            let after = self.send(Req::new("GET", "/api/v1/sessions/current").bearer(&token));
            if after.status != 401 {
                return Err(format!("{what}: the session still works after signing out ({})", after.status));
            }
        }
        Ok(())
    }
}

#[test]
fn every_cell_of_the_authorisation_matrix_is_answered_as_the_table_says() {
    let world = World::start();
    let rows = matrix();
    let mut checked = 0;
    let mut failures = vec![];
    for row in &rows {
        for (column, expect) in COLUMNS.iter().zip(&row.cells) {
            if *expect == Expect::Skip {
                continue;
            }
            let passes = if *column == "liaison" { [false, true].as_slice() } else { [false].as_slice() };
            for &integration in passes {
                checked += 1;
                if let Err(e) = world.check(row, column, *expect, integration) {
                    let how = if integration { " (integration token)" } else { "" };
                    failures.push(format!(
                        "docs/authorization.md:{} {} {} [{}] as {column}{how}: {e}",
                        row.line, row.method, row.path, row.with
                    ));
                }
            }
        }
    }
    println!("authorisation matrix: {} rows, {checked} cells checked, {} differ", rows.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {checked} cells differ from the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A token proves who signed in, not what they may still do: an officer moved to another
/// unit acts for the new one at once, and a deactivated one is refused everywhere, with the
/// session they had and with a year-long integration token alike.
#[test]
fn a_moved_or_deactivated_officer_loses_what_their_old_tokens_allowed() {
    let app = TestApp::spawn().unwrap();
    for (username, role, unit) in [
        ("koordinator", "provincial-coordinator", None),
        ("pindahan", "liaison-officer", Some("pemkot-mataram")),
    ] {
        let body = json!({"username": username, "name": "Petugas", "role": role, "unit": unit, "password": PASSWORD});
        assert_eq!(app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap().status, 201);
    }
    let sign_in = |username: &str| {
        let r =
            app.post_json("/api/v1/sessions", &json!({"username": username, "password": PASSWORD})).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.json().unwrap()["token"].as_str().unwrap().to_string()
    };
    let coordinator = sign_in("koordinator");
    let session = sign_in("pindahan");
    let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers/pindahan/api-tokens", &json!({})).unwrap();
    let api_token = r.json().unwrap()["token"].as_str().unwrap().to_string();
    let body = json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71",
                      "category": "infrastruktur", "privacy": "anonymous"});
    let ticket = app.post_json("/api/v1/complaints", &body).unwrap().json().unwrap()["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    for action in ["verify", "dispatch"] {
        let r = app
            .post_json_as(
                &coordinator,
                &format!("/api/v1/cases/{ticket}/actions"),
                &json!({"action": action}),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let case = format!("/api/v1/cases/{ticket}");
    let admin = format!("Bearer {TEST_ADMIN_TOKEN}");
    let change = |body: &[u8]| {
        let r =
            ntbcare_tests::patch_raw(&app, "/api/v1/officers/pindahan", body, &[("authorization", &admin)])
                .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    };
    for token in [&session, &api_token] {
        assert_eq!(app.get_as(token, &case).unwrap().status, 200);
    }

    // Moved to the provincial health office: Mataram's case is another unit's now.
    change(br#"{"unit": "dikes"}"#);
    for token in [&session, &api_token] {
        assert_eq!(app.get_as(token, &case).unwrap().status, 403);
        let r = app.post_json_as(token, &format!("{case}/actions"), &json!({"action": "accept"})).unwrap();
        assert_eq!(r.status, 403, "{}", r.body);
        let me = app.get_as(token, "/api/v1/sessions/current").unwrap().json().unwrap();
        assert_eq!(me["unit"], "dikes", "{me}");
        let r = app.get_as(token, "/api/v1/reports/measures?unit=pemkot-mataram").unwrap();
        assert_eq!(r.status, 403, "reports follow the move: {}", r.body);
    }

    // Deactivated: refused by every function that reads sessions.
    change(br#"{"active": false}"#);
    for token in [&session, &api_token] {
        for path in ["/api/v1/sessions/current", "/api/v1/cases?queue=unit:dikes", "/api/v1/reports/measures"]
        {
            let r = app.get_as(token, path).unwrap();
            assert_eq!(r.status, 401, "{path}: {}", r.body);
        }
    }
    assert_eq!(app.get_as(&coordinator, &case).unwrap().status, 200, "others are untouched");
}
