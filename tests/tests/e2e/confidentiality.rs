//! The confidentiality scan (issue #11, part 3): complaints carrying canary identities (a
//! unique name, phone, e-mail, social handle) come in through every channel, confidential
//! and anonymous, and travel every path (dispatch, questions and answers, the escalation
//! sweep, officers' notices and digests, LAPOR! sync, reports, CSV, open data, the
//! dashboard, the portal's officer pages). Every byte each reader other than intake and the
//! complainant can see is collected, and no canary may be in it, in any of the forms a
//! phone number or e-mail address is written. The complainant's own messages are the
//! positive control: they must carry the complainant's own address, so a scan that finds
//! nothing is a scan that could have found something.
//!
//! The shared (`default`) store is read too, after the run, straight from its SQLite file:
//! every key and value, as written and decoded from every base64 and hex run in it (a
//! WhatsApp message id is base64 of the sender's number), must hold no canary (issue #16,
//! point 2). The same scan over the `identity` store, where reporters' contacts belong, must
//! find every canary there: the positive control of the store scan.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ntbcare_domain::clock::Timestamp;
use ntbcare_tests::fake_lapor::FakeLapor;
use ntbcare_tests::fake_provider::Recorded;
use ntbcare_tests::{Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::channels::{fixture, post_gateway, post_meta, twilio_signature, unix_now};
use crate::intake_api::{multipart, JPEG};
use crate::notification::Providers;
use crate::portal::Visitor;

const PASSWORD: &str = "kata-sandi-panjang";
const INTERNAL: (&str, &str) = ("x-ntbcare-internal-token", "test-internal-token");
const OPEN311_KEY: &str = "kunci-open311-kanari";
const PARTNER_KEY: &str = "kunci-mitra-kanari";
/// The address the Twilio signature covers (the notification fixture's `public_base_url`).
const PUBLIC_URL: &str = "https://care.ntbprov.go.id";
const ANSWER: &str =
    "Lampu dan jalan di lokasi sudah diperbaiki oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";

/// One complainant's identity: every form it may take in bytes someone reads.
#[derive(Clone, Debug)]
struct Canary {
    label: &'static str,
    name: &'static str,
    /// Indonesian local form, `08…`.
    phone: &'static str,
    email: &'static str,
    /// A social-media id (Instagram sender id), where the channel has one.
    handle: &'static str,
}

impl Canary {
    /// Lower-case needles: the full name and its rare last word; the phone's national
    /// significant number (which `08…`, `628…` and `+628…` all contain); the e-mail and its
    /// local part; the handle.
    fn needles(&self) -> Vec<String> {
        let mut n = vec![];
        if !self.name.is_empty() {
            n.push(self.name.to_lowercase());
            n.push(self.name.rsplit(' ').next().unwrap().to_lowercase());
        }
        if !self.phone.is_empty() {
            n.push(self.phone.trim_start_matches('0').to_string());
        }
        if !self.email.is_empty() {
            n.push(self.email.to_lowercase());
            n.push(self.email.split('@').next().unwrap().to_lowercase());
        }
        if !self.handle.is_empty() {
            n.push(self.handle.to_lowercase());
        }
        n
    }

    /// The canary needles found in `bytes`, also with the separators people put in phone
    /// numbers removed and percent-encoded `@` decoded.
    fn found_in(&self, bytes: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(bytes).to_lowercase().replace("%40", "@");
        let squeezed: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        self.needles()
            .into_iter()
            .filter(|n| {
                text.contains(n.as_str())
                    || (n.bytes().all(|b| b.is_ascii_digit()) && squeezed.contains(n.as_str()))
            })
            .collect()
    }
}

const fn canary(label: &'static str, name: &'static str, phone: &'static str, email: &'static str) -> Canary {
    Canary { label, name, phone, email, handle: "" }
}

const WEB: Canary =
    canary("web-confidential", "Zubaidah Kanarisatu", "081377712301", "kanari.satu@contoh.id");
const MULTIPART: Canary =
    canary("multipart-anonymous", "Ruslan Kanaridua", "081377712302", "kanari.dua@contoh.id");
const WHATSAPP: Canary = canary("whatsapp", "Mahsun Kanaritiga", "081377712303", "");
const TWILIO: Canary = canary("twilio-sms", "", "081377712304", "");
const GATEWAY: Canary = canary("sms-gateway", "", "081377712305", "");
const OPEN311: Canary =
    canary("open311-confidential", "Hadijah Kanarienam", "081377712306", "kanari.enam@contoh.id");
const PARTNER: Canary =
    canary("partner-confidential", "Amaq Kanaritujuh", "081377712307", "kanari.tujuh@contoh.id");
const PORTAL: Canary =
    canary("portal-confidential", "Inaq Kanaridelapan", "081377712308", "kanari.delapan@contoh.id");
/// The control: a public complaint's name is shown to officers by design, so the scan
/// must find it there (its phone and e-mail, never).
const PUBLIC: Canary =
    canary("public-control", "Baiq Kanarisembilan", "081377712309", "kanari.sembilan@contoh.id");
const INSTAGRAM: Canary =
    Canary { label: "instagram", name: "", phone: "", email: "", handle: "17849990001234509" };
/// A Messenger page-scoped id (PSID).
const MESSENGER: Canary =
    Canary { label: "messenger", name: "", phone: "", email: "", handle: "7384920165470310" };

fn canaries() -> [&'static Canary; 10] {
    [&WEB, &MULTIPART, &WHATSAPP, &TWILIO, &GATEWAY, &OPEN311, &PARTNER, &PORTAL, &INSTAGRAM, &MESSENGER]
}

/// A WhatsApp message id as Meta makes them: `wamid.` and base64 of a record that starts
/// with the sender's number (`62…`) and ends with a random part.
fn wamid(c: &Canary, n: u8) -> String {
    use base64::Engine;
    let mut record = vec![0x1c, 0x18, 0x0d];
    record.extend(format!("62{}", c.phone.trim_start_matches('0')).bytes());
    record.extend([0x15, 0x02, 0x00, 0x12, 0x18, 0x16]);
    record.extend(format!("3EB0C76BE3BC69B2868E{n:02X}").bytes());
    record.push(0);
    format!("wamid.{}", base64::engine::general_purpose::STANDARD.encode(record))
}

/// Everything one reader could see, by where it came from.
#[derive(Default)]
struct Seen {
    items: Vec<(String, Vec<u8>)>,
}

impl Seen {
    fn add(&mut self, label: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.items.push((label.into(), bytes.into()));
    }

    fn reply(&mut self, label: impl Into<String>, r: &Reply) {
        let label = label.into();
        assert!(r.status < 500, "{label}: {} {}", r.status, r.body);
        let headers: String = r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        self.add(label, format!("{}\n{headers}\n{}", r.status, r.body));
    }

    fn ok(&self) -> usize {
        self.items.iter().filter(|(_, b)| b.starts_with(b"200\n")).count()
    }

    fn bytes(&self) -> usize {
        self.items.iter().map(|(_, b)| b.len()).sum()
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn as_of(offset_ms: i64) -> String {
    Timestamp(now_ms() + offset_ms).to_rfc3339_wita().replace('+', "%2B")
}

struct World {
    app: TestApp,
    providers: Providers,
    lapor: FakeLapor,
}

impl World {
    fn start() -> World {
        let providers = Providers::start();
        let lapor = FakeLapor::start();
        let config = lapor.configure(
            providers
                .config()
                .env("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", "ntbcare-test-auth-token")
                .env("SPIN_VARIABLE_OPEN311_API_KEYS", &format!("kota:{OPEN311_KEY}"))
                .env("SPIN_VARIABLE_PARTNER_API_KEYS", &format!("sipepadu:{PARTNER_KEY}")),
        );
        let app = TestApp::spawn_with(config).unwrap();
        for (username, role, unit, email) in [
            ("koordinator", "provincial-coordinator", None, "koordinator@ntbprov.go.id"),
            ("mataram", "liaison-officer", Some("pemkot-mataram"), "penghubung@mataramkota.go.id"),
            ("kepala-mataram", "unit-head", Some("pemkot-mataram"), "kepala@mataramkota.go.id"),
            ("dikes", "liaison-officer", Some("dikes"), "penghubung@dikes.ntbprov.go.id"),
            ("pimpinan", "leadership", None, "pimpinan@ntbprov.go.id"),
            ("inspektur", "inspectorate", None, "inspektorat@ntbprov.go.id"),
        ] {
            let body = json!({"username": username, "name": username.to_uppercase(), "role": role,
                              "unit": unit, "password": PASSWORD, "email": email});
            let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
        }
        World { app, providers, lapor }
    }

    fn sign_in(&self, username: &str) -> String {
        self.app.sign_in(username, PASSWORD)
    }

    fn act(&self, token: &str, ticket: &str, action: Value) {
        let r = self.app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
        assert_eq!(r.status, 200, "{ticket} {action}: {}", r.body);
    }

    fn deliver(&self) {
        for _ in 0..4 {
            let r = self
                .app
                .post_raw("/api/v1/notifications/sweep", "application/json", b"", &[INTERNAL])
                .unwrap();
            assert_eq!(r.status, 200, "{}", r.body);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn lapor_sync(&self, offset_ms: i64) {
        let r = self
            .app
            .post_json_as(
                TEST_ADMIN_TOKEN,
                &format!("/api/v1/lapor/sync?as_of={}", as_of(offset_ms)),
                &json!({}),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Every provider request, with the address it went to.
    fn sent(&self) -> Vec<(String, String, Recorded)> {
        let mut out = vec![];
        for r in self.providers.twilio.requests() {
            out.push(("twilio".into(), r.form_value("To").unwrap_or_default(), r));
        }
        for r in self.providers.whatsapp.requests() {
            out.push(("whatsapp".into(), r.json()["to"].as_str().unwrap_or_default().to_string(), r));
        }
        for r in self.providers.gateway.requests() {
            out.push(("sms-gateway".into(), r.json()["to"].as_str().unwrap_or_default().to_string(), r));
        }
        for r in self.providers.sendgrid.requests() {
            let to =
                r.json()["personalizations"][0]["to"][0]["email"].as_str().unwrap_or_default().to_string();
            out.push(("sendgrid".into(), to, r));
        }
        out
    }
}

/// Created ticket and tracking secret from an intake answer.
fn created(r: &Reply) -> (String, Option<String>) {
    assert!(matches!(r.status, 200 | 201), "{}", r.body);
    let v = r.json().unwrap();
    let one = if v.is_array() { v[0].clone() } else { v };
    let ticket = one["ticket"]
        .as_str()
        .or(one["service_request_id"].as_str())
        .or(one["received"][0]["ticket"].as_str())
        .unwrap_or_else(|| panic!("no ticket in {one}"))
        .to_string();
    (ticket, one["tracking_secret"].as_str().map(str::to_string))
}

fn whatsapp_from(c: &Canary, id: &str, text: &str) -> Vec<u8> {
    let wa = format!("62{}", c.phone.trim_start_matches('0'));
    let mut v: Value = serde_json::from_slice(&fixture("meta/whatsapp_text.json")).unwrap();
    let value = &mut v["entry"][0]["changes"][0]["value"];
    value["contacts"][0] = json!({"profile": {"name": c.name}, "wa_id": wa});
    let m = &mut value["messages"][0];
    m["from"] = json!(wa);
    m["id"] = json!(id);
    m["text"]["body"] = json!(text);
    serde_json::to_vec(&v).unwrap()
}

fn file_everywhere(w: &World) -> Vec<(&'static Canary, String, Option<String>)> {
    let app = &w.app;
    let mut filed = vec![];
    let reporter = |c: &Canary| json!({"name": c.name, "phone": c.phone, "email": c.email});

    // The web API, JSON, confidential.
    let r = app
        .post_json(
            "/api/v1/complaints",
            &json!({"description": "Pungutan liar di loket kantor Kelurahan Cakranegara", "region_code": "52.71",
                    "category": "infrastruktur", "privacy": "confidential", "reporter": reporter(&WEB)}),
        )
        .unwrap();
    let (t, s) = created(&r);
    filed.push((&WEB, t, s));

    // The web API, multipart with a photo, anonymous.
    let complaint = json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71",
                           "category": "infrastruktur", "privacy": "anonymous", "reporter": reporter(&MULTIPART)});
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", complaint.to_string().as_bytes()),
        ("attachment", Some("jalan.jpg"), "image/jpeg", JPEG),
    ]);
    let (t, s) = created(&app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap());
    filed.push((&MULTIPART, t, s));

    // WhatsApp, through Meta's signed webhook.
    let r = post_meta(
        app,
        &whatsapp_from(&WHATSAPP, &wamid(&WHATSAPP, 1), "Lampu jalan di Jl. Pejanggik Mataram mati"),
    );
    let (t, s) = created(&r);
    // A second message joins it as a follow-up officers read.
    let r = post_meta(app, &whatsapp_from(&WHATSAPP, &wamid(&WHATSAPP, 2), "Sudah seminggu, mohon segera"));
    assert_eq!(created(&r).0, t, "{}", r.body);
    filed.push((&WHATSAPP, t, s));

    // Instagram: the sender id is the handle.
    let mut ig: Value = serde_json::from_slice(&fixture("meta/instagram_text.json")).unwrap();
    ig["entry"][0]["messaging"][0]["sender"]["id"] = json!(INSTAGRAM.handle);
    let (t, s) = created(&post_meta(app, &serde_json::to_vec(&ig).unwrap()));
    filed.push((&INSTAGRAM, t, s));

    // Twilio SMS, signed against the public URL.
    let form = String::from_utf8(fixture("twilio/sms.form"))
        .unwrap()
        .replace("From=%2B6281234567890", &format!("From=%2B62{}", TWILIO.phone.trim_start_matches('0')))
        .into_bytes();
    let sig = twilio_signature(&format!("{PUBLIC_URL}/webhooks/sms/twilio"), &form);
    let r = app
        .post_raw(
            "/webhooks/sms/twilio",
            "application/x-www-form-urlencoded",
            &form,
            &[("x-twilio-signature", &sig)],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    filed.push((&TWILIO, String::new(), None));

    // The SMS gateway.
    let body = json!({"id": "gammu-kanari-1", "from": GATEWAY.phone,
                      "text": "Pipa PDAM bocor di depan Pasar Cakranegara, Mataram.",
                      "received_at": "2026-11-29T09:30:00+08:00"});
    let (t, s) = created(&post_gateway(app, body.to_string().as_bytes(), unix_now()));
    filed.push((&GATEWAY, t, s));

    // Open311, confidential.
    let form = format!(
        "api_key={OPEN311_KEY}&service_code=infrastruktur&lat=-8.5833&long=116.1167\
         &description=Trotoar+rusak+di+Jalan+Udayana+Mataram&attribute%5Bregion_code%5D=52.71\
         &attribute%5Bprivacy%5D=confidential&email={}&first_name={}&last_name={}&phone={}",
        OPEN311.email.replace('@', "%40"),
        OPEN311.name.split(' ').next().unwrap(),
        OPEN311.name.split(' ').nth(1).unwrap(),
        OPEN311.phone
    );
    let r = app
        .post_raw("/open311/v2/requests.json", "application/x-www-form-urlencoded", form.as_bytes(), &[])
        .unwrap();
    let (t, s) = created(&r);
    filed.push((&OPEN311, t, s));

    // A partner system, confidential.
    let body = json!({"reference": "SPD-KANARI-7", "description": "Drainase tersumbat di Ampenan, Mataram",
                      "region_code": "52.71", "category": "infrastruktur", "privacy": "confidential",
                      "reporter": reporter(&PARTNER)});
    let r = app
        .post_raw(
            "/api/v1/partners/complaints",
            "application/json",
            body.to_string().as_bytes(),
            &[("authorization", &format!("Bearer {PARTNER_KEY}"))],
        )
        .unwrap();
    let (t, s) = created(&r);
    filed.push((&PARTNER, t, s));

    // The portal's form, confidential.
    let citizen = Visitor::new(app);
    let (t, s, _) = crate::portal::file(
        &citizen,
        &[
            ("description", "Genangan air di depan Puskesmas Pagesangan, Mataram, sudah sebulan."),
            ("category", "infrastruktur"),
            ("region_code", "52.71"),
            ("privacy", "confidential"),
            ("name", PORTAL.name),
            ("phone", PORTAL.phone),
            ("email", PORTAL.email),
        ],
        None,
    );
    filed.push((&PORTAL, t, Some(s)));

    // The control: public, with a name officers may see.
    let r = app
        .post_json(
            "/api/v1/complaints",
            &json!({"description": "Lampu taman Sangkareang Mataram padam", "region_code": "52.71",
                    "category": "infrastruktur", "privacy": "public", "reporter": reporter(&PUBLIC)}),
        )
        .unwrap();
    let (t, s) = created(&r);
    filed.push((&PUBLIC, t, s));

    // Messenger: the sender id is a page-scoped id.
    let mut fb: Value = serde_json::from_slice(&fixture("meta/messenger_text.json")).unwrap();
    fb["entry"][0]["messaging"][0]["sender"]["id"] = json!(MESSENGER.handle);
    let (t, s) = created(&post_meta(app, &serde_json::to_vec(&fb).unwrap()));
    filed.push((&MESSENGER, t, s));
    filed
}

#[test]
fn no_reader_but_the_complainant_ever_sees_a_canary_identity() {
    let w = World::start();
    let app = &w.app;
    let mut filed = file_everywhere(&w);
    // Twilio's answer is TwiML without the ticket: find it through the coordinator's triage.
    let coordinator = w.sign_in("koordinator");
    let triage = app.get_as(&coordinator, "/api/v1/cases?limit=100").unwrap().json().unwrap();
    let known: Vec<String> = filed.iter().map(|(_, t, _)| t.clone()).collect();
    let all: Vec<String> = triage["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ticket"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), canaries().len() + 1, "one complaint per channel: {triage}");
    let sms = all.iter().find(|t| !known.contains(t)).unwrap().clone();
    filed.iter_mut().find(|(c, _, _)| c.label == TWILIO.label).unwrap().1 = sms;
    let tickets: Vec<String> = filed.iter().map(|(_, t, _)| t.clone()).collect();

    // Every case is verified and dispatched to Kota Mataram; most are answered, one is
    // asked a question which the complainant answers, two wait to be escalated.
    let mataram = w.sign_in("mataram");
    for (i, (c, t, secret)) in filed.iter().enumerate() {
        w.act(&coordinator, t, json!({"action": "verify", "title": "Aduan warga Mataram"}));
        w.act(
            &coordinator,
            t,
            json!({"action": "dispatch", "unit": "pemkot-mataram",
                                       "internal_note": "mohon segera"}),
        );
        if (7..=8).contains(&i) {
            continue; // left for the escalation sweep
        }
        w.act(&mataram, t, json!({"action": "accept"}));
        if c.label == WEB.label {
            w.act(
                &mataram,
                t,
                json!({"action": "request-information", "question": "Di loket nomor berapa?"}),
            );
            let r = app
                .post_raw(
                    &format!("/api/v1/complaints/{t}/information"),
                    "application/json",
                    json!({"text": "Loket nomor 2, pada pagi hari"}).to_string().as_bytes(),
                    &[("x-tracking-secret", secret.as_deref().unwrap())],
                )
                .unwrap();
            assert_eq!(r.status, 200, "{}", r.body);
        }
        w.act(&mataram, t, json!({"action": "respond", "answer": ANSWER, "internal_note": "sudah dicek"}));
    }
    // A low rating reopens the web complaint.
    let (_, web_ticket, web_secret) = &filed[0];
    let r = app
        .post_raw(
            &format!("/api/v1/complaints/{web_ticket}/rating"),
            "application/json",
            json!({"score": 1, "resolved": "no", "comment": "Masih terjadi"}).to_string().as_bytes(),
            &[("x-tracking-secret", web_secret.as_deref().unwrap())],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    w.deliver();
    // The escalation sweep, three weeks on, then the officers' notices and digests.
    let r = app
        .post_json_as(
            TEST_ADMIN_TOKEN,
            &format!("/api/v1/cases/sweep?as_of={}", as_of(21 * 86_400_000)),
            &json!({}),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post_raw("/api/v1/notifications/digest", "application/json", b"", &[INTERNAL]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    w.deliver();
    // LAPOR!: export, then poll and send the answers.
    w.lapor_sync(0);
    w.lapor_sync(2 * 3_600_000);
    w.lapor_sync(4 * 3_600_000);
    // Each is marked anonymous unless public, and secret when confidential (docs/lapor.md).
    let creates = w.lapor.requests("POST", "/complaints/complaint");
    for (c, t, _) in &filed {
        let body = creates
            .iter()
            .map(|r| r.json())
            .find(|b| b["content"].as_str().is_some_and(|s| s.contains(t.as_str())))
            .unwrap_or_else(|| panic!("{} ({t}) never reached LAPOR!", c.label));
        let confidential = [WEB.label, OPEN311.label, PARTNER.label, PORTAL.label].contains(&c.label);
        assert_eq!(
            (body["is_anonymous"].as_bool(), body["is_secret"].as_bool()),
            (Some(c.label != PUBLIC.label), Some(confidential)),
            "{}: {body}",
            c.label
        );
    }

    let mut seen = Seen::default();
    // Casework, as each officer and the administrator.
    let head = w.sign_in("kepala-mataram");
    let inspector = w.sign_in("inspektur");
    let dikes = w.sign_in("dikes");
    let leader = w.sign_in("pimpinan");
    let officers = [
        ("koordinator", coordinator.as_str()),
        ("mataram", mataram.as_str()),
        ("kepala-mataram", head.as_str()),
        ("inspektur", inspector.as_str()),
        ("dikes", dikes.as_str()),
        ("admin", TEST_ADMIN_TOKEN),
    ];
    for (who, token) in officers {
        for path in [
            "/api/v1/cases",
            "/api/v1/cases?limit=100",
            "/api/v1/cases?queue=triage",
            "/api/v1/cases?queue=unit:pemkot-mataram",
            "/api/v1/cases?status=reopened",
            "/api/v1/cases?region=52.71",
            "/api/v1/sessions/current",
        ] {
            seen.reply(format!("{who} GET {path}"), &app.get_as(token, path).unwrap());
        }
        for t in &tickets {
            for path in [format!("/api/v1/cases/{t}"), format!("/api/v1/cases/{t}/answer-templates")] {
                seen.reply(format!("{who} GET {path}"), &app.get_as(token, &path).unwrap());
            }
        }
    }
    for path in [
        "/api/v1/officers",
        "/api/v1/admin/directory",
        "/api/v1/admin/routing-rules",
        "/api/v1/notifications/outbox",
        "/api/v1/notifications/dead-letters",
        "/api/v1/notifications/templates",
        "/api/v1/lapor/sync",
        "/api/v1/lapor/pending",
        "/api/v1/lapor/ledger",
        "/api/v1/lapor/failures",
        "/api/v1/lapor/reconciliation",
    ] {
        seen.reply(format!("admin GET {path}"), &app.get_as(TEST_ADMIN_TOKEN, path).unwrap());
    }
    // Reports, as every role that reads them and as the public.
    let now = Timestamp(now_ms()).wita();
    let period = format!("from={:04}-01&to={:04}-12", now.year - 1, now.year + 1);
    for (who, token) in [
        ("pimpinan", Some(leader.as_str())),
        ("koordinator", Some(coordinator.as_str())),
        ("kepala-mataram", Some(head.as_str())),
        ("inspektur", Some(inspector.as_str())),
        ("admin", Some(TEST_ADMIN_TOKEN)),
        ("public", None),
    ] {
        for report in [
            "summary",
            "measures",
            "measures.csv",
            "measures.csv?by=unit",
            "complaints.csv",
            "scorecard",
            "overdue",
            "semester",
            "dashboard",
            "open-data",
        ] {
            let sep = if report.contains('?') { '&' } else { '?' };
            for path in
                [format!("/api/v1/reports/{report}"), format!("/api/v1/reports/{report}{sep}{period}")]
            {
                let r = match token {
                    Some(t) => app.get_as(t, &path).unwrap(),
                    None => app.get(&path).unwrap(),
                };
                seen.reply(format!("{who} GET {path}"), &r);
            }
        }
    }
    // The public: tracking without the secret, attachments, Open311's lists.
    for t in &tickets {
        for path in [
            format!("/api/v1/complaints/{t}"),
            format!("/api/v1/complaints/{t}/attachments/1"),
            format!("/open311/v2/requests/{t}.json"),
            format!("/open311/v2/requests/{t}.xml"),
            format!("/lacak/{t}"),
        ] {
            let (status, bytes) = ntbcare_tests::get_bytes(app, &path).unwrap();
            seen.add(format!("public GET {path} ({status})"), bytes);
        }
    }
    for path in
        ["/open311/v2/requests.json", "/open311/v2/requests.xml", "/open311/v2/requests.json?status=closed"]
    {
        seen.reply(format!("public GET {path}"), &app.get(path).unwrap());
    }
    // The portal's officer pages.
    for who in ["koordinator", "mataram", "kepala-mataram", "inspektur"] {
        let browser = Visitor::new(app);
        seen.add(format!("portal {who} /petugas"), browser.sign_in(who).body);
        for t in &tickets {
            let page = browser.get(&format!("/petugas/kasus/{t}"));
            seen.add(format!("portal {who} /petugas/kasus/{t} ({})", page.status), page.body);
        }
    }
    // Everything LAPOR! was sent.
    seen.add("LAPOR! requests", w.lapor.all_bytes());
    // Officers' notices and digests: every message not addressed to a complainant.
    let complainant_addresses: Vec<(&Canary, String)> = canaries()
        .into_iter()
        .chain([&PUBLIC])
        .flat_map(|c| {
            let mut a = vec![];
            if !c.phone.is_empty() {
                a.push((c, c.phone.trim_start_matches('0').to_string()));
            }
            if !c.email.is_empty() {
                a.push((c, c.email.to_string()));
            }
            if !c.handle.is_empty() {
                a.push((c, c.handle.to_string()));
            }
            a
        })
        .collect();
    let mut own_messages = vec![];
    let mut officer_messages = 0;
    for (provider, to, r) in w.sent() {
        let bytes = format!("{} {} {:?}\n{}", r.method, r.path, r.headers, r.text());
        match complainant_addresses.iter().find(|(_, a)| !to.is_empty() && to.contains(a.as_str())) {
            Some((c, _)) => own_messages.push((*c, provider, bytes)),
            None => {
                officer_messages += 1;
                if std::env::var_os("NTBCARE_SCAN_VERBOSE").is_some() {
                    println!(
                        "officer message: {provider} to {to}: {}",
                        r.text().chars().take(160).collect::<String>()
                    );
                }
                seen.add(format!("{provider} message to {to}"), bytes);
            }
        }
    }
    // Last, the host's log of everything above.
    seen.add("host log", app.log().join("\n"));

    let mut leaks = vec![];
    let mut control = vec![];
    for (label, bytes) in &seen.items {
        for c in canaries() {
            for needle in c.found_in(bytes) {
                leaks.push(format!("{} ({needle}) in {label}", c.label));
            }
        }
        let public = PUBLIC.found_in(bytes);
        let name = PUBLIC.name.to_lowercase();
        if public.iter().any(|n| name.contains(n.as_str())) {
            control.push(label.as_str());
        }
        for needle in public.iter().filter(|n| !name.contains(n.as_str())) {
            leaks.push(format!("{} ({needle}) in {label}", PUBLIC.label));
        }
    }
    // The stores, as an insider with read access to their files would read them.
    let scan = scan_stores(app);
    leaks.extend(scan.leaks);

    // Officers see the public complainant's name (case pages, portal): the scan finds
    // what is there.
    for place in ["koordinator GET /api/v1/cases/NTB-", "portal koordinator /petugas/kasus/NTB-"] {
        assert!(
            control.iter().any(|l| l.starts_with(place)),
            "the public control's name not found in {place}…: {control:?}"
        );
    }
    // A complainant's own messages carry their own address and nobody else's.
    for (owner, provider, bytes) in &own_messages {
        assert!(!owner.found_in(bytes.as_bytes()).is_empty(), "positive control: {provider} {bytes}");
        for c in canaries().into_iter().filter(|c| c.label != owner.label) {
            for needle in c.found_in(bytes.as_bytes()) {
                leaks.push(format!("{} ({needle}) in a message to {}", c.label, owner.label));
            }
        }
    }
    let reached: std::collections::BTreeSet<&str> = own_messages.iter().map(|(c, _, _)| c.label).collect();
    for c in [&WEB, &MULTIPART, &WHATSAPP, &TWILIO, &GATEWAY, &OPEN311, &PARTNER, &PORTAL] {
        assert!(reached.contains(c.label), "{} never heard back: {reached:?}", c.label);
    }
    // The complainant's own view, with the secret, shows their complaint and the answer.
    let own = app
        .get_with(
            &format!("/api/v1/complaints/{}", filed[1].1),
            &[("x-tracking-secret", filed[1].2.as_deref().unwrap())],
        )
        .unwrap();
    assert!(own.body.contains("Jalan berlubang") && own.body.contains("sudah diperbaiki"), "{}", own.body);
    let confidential_own =
        Visitor::new(app).get(&format!("/lacak/{}?kode={}", filed[8].1, filed[8].2.as_deref().unwrap()));
    assert!(confidential_own.body.contains("Genangan air"), "{}", confidential_own.body);

    println!(
        "store scan: {} rows of the default store ({} bytes, {} decoded runs), {} of identity; canaries \
         found in identity (positive control): {}",
        scan.default_rows,
        scan.default_bytes,
        scan.decoded_runs,
        scan.identity_rows,
        scan.in_identity.len()
    );
    println!(
        "confidentiality scan: {} responses and messages ({} answered 200), {} bytes, {} officer messages, \
         {} messages to complainants (positive control), public control's name found in {}; {} canaries in \
         {} forms; canaries found: {}",
        seen.items.len(),
        seen.ok(),
        seen.bytes(),
        officer_messages,
        own_messages.len(),
        control.len(),
        canaries().len(),
        canaries().iter().map(|c| c.needles().len()).sum::<usize>(),
        leaks.len()
    );
    assert!(leaks.is_empty(), "canaries leaked:\n{}", leaks.join("\n"));
}

/// Every row (key, value) of one store in one of the host's SQLite files, read-only.
fn store_rows(file: &std::path::Path, store: &str) -> Vec<(String, Vec<u8>)> {
    let db = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut q = db.prepare("SELECT key, value FROM spin_key_value WHERE store = ?1").unwrap();
    let rows = q.query_map([store], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// `bytes` and everything a base64 (standard or URL-safe, at every alignment) or hex run in
/// it decodes to: where an identifier may hide in a store.
fn with_decoded(bytes: &[u8]) -> Vec<Vec<u8>> {
    use base64::alphabet::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    // Lenient: a run cut anywhere still decodes up to where it was cut.
    let lenient = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut out = vec![bytes.to_vec()];
    let text = String::from_utf8_lossy(bytes);
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    for run in text.split(|c: char| !is_b64(c)).filter(|r| r.len() >= 8) {
        // URL-safe is standard with two symbols swapped.
        let standard: String = run.replace('-', "+").replace('_', "/");
        for start in 0..4 {
            let tail = &standard[start.min(standard.len())..];
            let whole = if tail.len() % 4 == 1 { &tail[..tail.len() - 1] } else { tail };
            if let Ok(decoded) = lenient.decode(whole) {
                out.push(decoded);
            }
        }
    }
    for run in text.split(|c: char| !c.is_ascii_hexdigit()).filter(|r| r.len() >= 8) {
        for start in 0..2 {
            let digits = &run[start..];
            let decoded: Vec<u8> = (0..digits.len() / 2)
                .map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            out.push(decoded);
        }
    }
    out
}

/// Unkeyed SHA-256 digests (hex) of a canary's phone in every form and of its e-mail: a
/// digest anyone can recompute by hashing every number is the number.
fn unkeyed_digests(c: &Canary) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut forms = vec![];
    if !c.phone.is_empty() {
        let national = c.phone.trim_start_matches('0');
        forms.extend([c.phone.to_string(), format!("62{national}"), format!("+62{national}")]);
    }
    if !c.email.is_empty() {
        forms.push(c.email.to_lowercase());
    }
    forms.iter().map(|f| Sha256::digest(f.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()).collect()
}

/// The canaries (and the public control's contact) in a row, as `label (needle)`.
fn canaries_in(key: &str, value: &[u8]) -> Vec<String> {
    let mut found = vec![];
    let row = format!("{key}\n{}", String::from_utf8_lossy(value)).to_lowercase();
    for c in canaries().into_iter().chain([&PUBLIC]) {
        for digest in unkeyed_digests(c) {
            if row.contains(&digest) {
                found.push(format!("{} (unkeyed SHA-256 {}…)", c.label, &digest[..12]));
            }
        }
    }
    for form in with_decoded(key.as_bytes()).into_iter().chain(with_decoded(value)) {
        for c in canaries() {
            found.extend(c.found_in(&form).into_iter().map(|n| format!("{} ({n})", c.label)));
        }
        let name = PUBLIC.name.to_lowercase();
        for n in PUBLIC.found_in(&form).into_iter().filter(|n| !name.contains(n.as_str())) {
            found.push(format!("{} ({n})", PUBLIC.label));
        }
    }
    found.sort();
    found.dedup();
    found
}

struct StoreScan {
    leaks: Vec<String>,
    in_identity: std::collections::BTreeSet<&'static str>,
    default_rows: usize,
    default_bytes: usize,
    decoded_runs: usize,
    identity_rows: usize,
}

/// Scan the default store (no canary may be in it, decoded or not) and the identity store
/// (every canary must be: the positive control).
fn scan_stores(app: &TestApp) -> StoreScan {
    // The scan itself sees through the encodings an identifier takes in a store.
    use base64::Engine;
    let phone = format!("62{}", WHATSAPP.phone.trim_start_matches('0'));
    let b64 = base64::engine::general_purpose::URL_SAFE.encode(format!("x{phone}"));
    let hex: String = phone.bytes().map(|b| format!("{b:02X}")).collect();
    let digest = format!("rate/sender/{}/1", unkeyed_digests(&WEB)[2]);
    for encoded in [wamid(&WHATSAPP, 9), format!("claim/{b64}/started"), format!("k/{hex}"), digest] {
        assert!(!canaries_in(&encoded, b"").is_empty(), "the scan misses the phone in {encoded}");
    }

    let default = store_rows(&app.state_dir().join("sqlite_key_value.db"), "default");
    let identity = store_rows(&app.state_dir().join("identity.db"), "identity");
    assert!(default.len() > 50 && !identity.is_empty(), "{} and {} rows", default.len(), identity.len());
    let mut scan = StoreScan {
        leaks: vec![],
        in_identity: Default::default(),
        default_rows: default.len(),
        default_bytes: default.iter().map(|(k, v)| k.len() + v.len()).sum(),
        decoded_runs: default
            .iter()
            .map(|(k, v)| with_decoded(k.as_bytes()).len() + with_decoded(v).len())
            .sum(),
        identity_rows: identity.len(),
    };
    for (key, value) in &default {
        for found in canaries_in(key, value) {
            scan.leaks.push(format!("{found} in the default store at {key}"));
        }
    }
    for (key, value) in &identity {
        for c in canaries() {
            if !c.found_in(key.as_bytes()).is_empty() || !c.found_in(value).is_empty() {
                scan.in_identity.insert(c.label);
            }
        }
    }
    let missing: Vec<&str> =
        canaries().iter().map(|c| c.label).filter(|l| !scan.in_identity.contains(l)).collect();
    assert!(missing.is_empty(), "positive control: not found in the identity store: {missing:?}");
    scan
}
