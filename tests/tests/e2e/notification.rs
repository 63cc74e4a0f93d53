//! Notification, through the built component: every message leaves in its provider's real
//! wire format for loopback fakes of WhatsApp Cloud API, Twilio, the SMS gateway and
//! SendGrid (`ntbcare_tests::fake_provider`), exactly once, whatever the providers and the
//! host do in between.

use std::time::Duration;

use hmac::{Hmac, Mac};
use ntbcare_tests::fake_provider::{Behaviour, FakeProvider, Kind, Recorded};
use ntbcare_tests::{repo_root, AppConfig, Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

const META_SECRET: &str = "meta-app-secret-uji";
const WA_TOKEN: &str = "EAAtestWhatsappToken";
const WA_PHONE_ID: &str = "106540352242922";
const TWILIO_SID: &str = "ACtest0000000000000000000000000000";
const TWILIO_TOKEN: &str = "ntbcare-test-auth-token";
const SG_KEY: &str = "SG.test-key";
pub(crate) const GATEWAY_SECRET: &str = "gateway-secret-uji";
const PUBLIC_URL: &str = "https://care.ntbprov.go.id";
pub(crate) const INTERNAL: (&str, &str) = ("x-ntbcare-internal-token", "test-internal-token");

pub(crate) struct Providers {
    pub(crate) whatsapp: FakeProvider,
    pub(crate) twilio: FakeProvider,
    pub(crate) gateway: FakeProvider,
    pub(crate) sendgrid: FakeProvider,
}

impl Providers {
    pub(crate) fn start() -> Providers {
        Providers {
            whatsapp: FakeProvider::start(Kind::Whatsapp),
            twilio: FakeProvider::start(Kind::Twilio),
            gateway: FakeProvider::start(Kind::SmsGateway),
            sendgrid: FakeProvider::start(Kind::Sendgrid),
        }
    }

    /// The app with every provider pointed at its fake; fast retries for tests.
    pub(crate) fn config(&self) -> AppConfig {
        AppConfig::ntbcare()
            .env("SPIN_VARIABLE_META_APP_SECRET", META_SECRET)
            .env("SPIN_VARIABLE_PUBLIC_BASE_URL", PUBLIC_URL)
            .env("SPIN_VARIABLE_WHATSAPP_API_BASE_URL", &self.whatsapp.base_url())
            .env("SPIN_VARIABLE_WHATSAPP_PHONE_NUMBER_ID", WA_PHONE_ID)
            .env("SPIN_VARIABLE_WHATSAPP_ACCESS_TOKEN", WA_TOKEN)
            .env("SPIN_VARIABLE_TWILIO_API_BASE_URL", &self.twilio.base_url())
            .env("SPIN_VARIABLE_TWILIO_ACCOUNT_SID", TWILIO_SID)
            .env("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
            .env("SPIN_VARIABLE_TWILIO_FROM", "NTBCare")
            .env("SPIN_VARIABLE_SMS_GATEWAY_BASE_URL", &self.gateway.base_url())
            .env("SPIN_VARIABLE_SMS_GATEWAY_SECRET", GATEWAY_SECRET)
            .env("SPIN_VARIABLE_SENDGRID_API_BASE_URL", &self.sendgrid.base_url())
            .env("SPIN_VARIABLE_SENDGRID_API_KEY", SG_KEY)
            .env("SPIN_VARIABLE_NOTIFICATION_RETRY_BASE_MS", "1")
            .env("SPIN_VARIABLE_NOTIFICATION_RETRY_MAX_MS", "1")
            .env("SPIN_VARIABLE_NOTIFICATION_PROVIDER_TIMEOUT_MS", "1000")
            .env("SPIN_VARIABLE_NOTIFICATION_LEASE_MS", "3000")
    }

    pub(crate) fn app(&self) -> TestApp {
        TestApp::spawn_with(self.config()).unwrap()
    }
}

pub(crate) fn sweep(app: &TestApp) -> Value {
    let r = app.post_raw("/api/v1/notifications/sweep", "application/json", b"", &[INTERNAL]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().unwrap()
}

pub(crate) fn outbox(app: &TestApp) -> Value {
    let r = app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/outbox").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().unwrap()
}

pub(crate) fn message<'a>(outbox: &'a Value, template: &str) -> &'a Value {
    outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["template"] == template)
        .unwrap_or_else(|| panic!("no {template} in {outbox}"))
}

/// Sweep until `done` holds, at most `rounds` times, pausing briefly between sweeps.
pub(crate) fn sweep_until(app: &TestApp, rounds: usize, mut done: impl FnMut() -> bool) {
    for _ in 0..rounds {
        sweep(app);
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("not done after {rounds} sweeps; outbox: {}", outbox(app));
}

pub(crate) fn submit(app: &TestApp, body: Value) -> String {
    let r = app.post_json("/api/v1/complaints", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.json().unwrap()["ticket"].as_str().unwrap().to_string()
}

pub(crate) fn web_complaint(language: &str) -> Value {
    json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71",
           "category": "infrastruktur", "privacy": "public", "language": language,
           "reporter": {"name": "Baiq Nurul", "phone": "081234567890"}})
}

pub(crate) fn post_meta(app: &TestApp, body: &[u8]) -> Reply {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(META_SECRET.as_bytes()).unwrap();
    mac.update(body);
    let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let sig = format!("sha256={sig}");
    app.post_raw("/webhooks/meta", "application/json", body, &[("x-hub-signature-256", &sig)]).unwrap()
}

pub(crate) fn meta_fixture(name: &str) -> Value {
    let path = repo_root().join("tests/fixtures/channels/meta").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A WhatsApp complaint arriving through intake; answers its ticket.
fn whatsapp_complaint(app: &TestApp) -> String {
    let r = post_meta(app, &serde_json::to_vec(&meta_fixture("whatsapp_text.json")).unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().unwrap()["received"][0]["ticket"].as_str().unwrap().to_string()
}

fn only(requests: Vec<Recorded>) -> Recorded {
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests.into_iter().next().unwrap()
}

#[test]
fn a_whatsapp_complaint_is_acknowledged_on_the_cloud_api_with_the_bearer_token() {
    let p = Providers::start();
    let app = p.app();
    let ticket = whatsapp_complaint(&app);
    // A producer chains to `wake`; nothing waits for a scheduler.
    let r = app.post_raw("/api/v1/notifications/wake", "application/json", b"", &[INTERNAL]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["sent"], 1, "{}", r.body);

    let request = only(p.whatsapp.requests());
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v21.0/{WA_PHONE_ID}/messages"));
    assert_eq!(request.header("authorization"), Some(format!("Bearer {WA_TOKEN}").as_str()));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    let id = message(&outbox(&app), "complaint-received")["id"].as_str().unwrap().to_string();
    // The citizen just wrote: free text inside the 24-hour window.
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["recipient_type"], "individual");
    assert_eq!(body["to"], "6281234567890");
    assert_eq!(body["type"], "text");
    assert_eq!(body["text"]["preview_url"], false);
    let text = body["text"]["body"].as_str().unwrap();
    assert!(text.starts_with("Terima kasih, aduan Anda sudah kami terima"), "{text}");
    assert!(text.contains(&ticket) && text.contains(&format!("{PUBLIC_URL}/lacak/{ticket}")), "{text}");
    assert_eq!(body["biz_opaque_callback_data"], id.as_str());

    // Sent is final: more sweeps send nothing.
    let o = outbox(&app);
    assert_eq!(message(&o, "complaint-received")["state"], "sent", "{o}");
    assert_eq!(o["pending"], 0);
    sweep(&app);
    assert_eq!(p.whatsapp.requests().len(), 1);
    assert!(p.twilio.requests().is_empty() && p.sendgrid.requests().is_empty());
}

#[test]
fn a_whatsapp_receipt_marks_the_message_delivered() {
    let p = Providers::start();
    let app = p.app();
    whatsapp_complaint(&app);
    sweep(&app);
    let wamid = only(p.whatsapp.accepted()).provider_message_id.unwrap();
    let mut status = meta_fixture("whatsapp_status_delivered.json");
    status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = json!(wamid);
    assert_eq!(post_meta(&app, &serde_json::to_vec(&status).unwrap()).status, 200);
    let counts = sweep(&app);
    assert_eq!(counts["receipts"], 1, "{counts}");
    let o = outbox(&app);
    let m = message(&o, "complaint-received");
    assert_eq!(
        (m["state"].as_str(), m["provider_message_id"].as_str()),
        (Some("delivered"), Some(wamid.as_str()))
    );
}

#[test]
fn a_web_complaint_with_a_phone_is_acknowledged_by_twilio_sms() {
    let p = Providers::start();
    let app = p.app();
    let ticket = submit(&app, web_complaint("id"));
    assert_eq!(sweep(&app)["sent"], 1);
    let request = only(p.twilio.requests());
    assert_eq!(request.path, format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"));
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"));
    assert_eq!(request.header("authorization"), Some(format!("Basic {basic}").as_str()));
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(request.form_value("To").as_deref(), Some("+6281234567890"));
    assert_eq!(request.form_value("From").as_deref(), Some("NTBCare"));
    assert_eq!(
        request.form_value("Body").unwrap(),
        format!("NTB Care: aduan Anda diterima, tiket {ticket}. Pantau di {PUBLIC_URL}/lacak/{ticket}")
    );
    // The link opens a page made for people (the API's JSON is for machines).
    let path = format!("/lacak/{ticket}");
    let page = app.get(&path).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.body.contains(&ticket) && page.body.contains("lang=\"id\""), "{}", page.body);
}

#[test]
fn the_sms_gateway_gets_a_signed_request_keyed_by_the_message_id() {
    let p = Providers::start();
    let app = TestApp::spawn_with(p.config().env("SPIN_VARIABLE_SMS_PROVIDER", "gateway")).unwrap();
    submit(&app, web_complaint("id"));
    assert_eq!(sweep(&app)["sent"], 1);
    let request = only(p.gateway.requests());
    assert_eq!(request.path, "/api/send");
    let id = message(&outbox(&app), "complaint-received")["id"].as_str().unwrap().to_string();
    assert_eq!(
        (request.json()["id"].as_str(), request.json()["to"].as_str()),
        (Some(id.as_str()), Some("+6281234567890"))
    );
    let timestamp = request.header("x-ntbcare-timestamp").unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(GATEWAY_SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(request.header("x-ntbcare-signature"), Some(format!("sha256={expected}").as_str()));
    assert!(p.twilio.requests().is_empty());
}

#[test]
fn templates_render_in_bahasa_indonesia_and_in_english() {
    let p = Providers::start();
    let app = p.app();
    let id_ticket = submit(&app, web_complaint("id"));
    let mut en = web_complaint("en");
    en["reporter"]["phone"] = json!("081299998888");
    let en_ticket = submit(&app, en);
    sweep_until(&app, 10, || p.twilio.accepted().len() == 2);
    let body_to = |to: &str| {
        p.twilio
            .accepted()
            .into_iter()
            .find(|r| r.form_value("To").as_deref() == Some(to))
            .unwrap()
            .form_value("Body")
            .unwrap()
    };
    let id = body_to("+6281234567890");
    let en = body_to("+6281299998888");
    assert!(id.starts_with("NTB Care: aduan Anda diterima, tiket") && id.contains(&id_ticket), "{id}");
    assert!(en.starts_with("NTB Care: complaint received, ticket") && en.contains(&en_ticket), "{en}");

    // Templates are data: an administrator's edit is checked, refused when it would
    // leak, and used for the next message.
    let current = app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/templates").unwrap().json().unwrap();
    assert_eq!(current["source"], "seed");
    let toml = current["toml"].as_str().unwrap();
    let leaky = toml
        .replace(
            "text.id = \"Kasus baru {ticket} ditugaskan kepada {agency}.",
            "text.id = \"Kasus baru {ticket} ditugaskan kepada {agency}. Lacak: {tracking_url}.",
        )
        .replace(
            "text.en = \"New case {ticket} has been assigned to {agency}.",
            "text.en = \"New case {ticket} has been assigned to {agency}. Track: {tracking_url}.",
        );
    assert_ne!(leaky, toml);
    let refused = put_templates(&app, &leaky);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("tracking_url"), "{}", refused.body);
    let edited =
        toml.replace("NTB Care: aduan Anda diterima, tiket", "NTB Care: aduan diterima, nomor tiket");
    let r = put_templates(&app, &edited);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut third = web_complaint("id");
    third["reporter"]["phone"] = json!("081277776666");
    submit(&app, third);
    sweep_until(&app, 10, || p.twilio.accepted().len() == 3);
    assert!(body_to("+6281277776666").starts_with("NTB Care: aduan diterima, nomor tiket"));
}

fn put_templates(app: &TestApp, toml: &str) -> Reply {
    let r = ureq::put(&app.url("/api/v1/notifications/templates"))
        .set("authorization", &format!("Bearer {TEST_ADMIN_TOKEN}"))
        .set("content-type", "application/toml")
        .send_bytes(toml.as_bytes());
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    Reply { status: r.status(), headers: vec![], body: r.into_string().unwrap() }
}

#[test]
fn a_provider_answering_500_is_retried_until_it_accepts_and_delivers_once() {
    let p = Providers::start();
    p.twilio.script([Behaviour::Status(500), Behaviour::Status(500)]);
    let app = p.app();
    submit(&app, web_complaint("id"));
    let first = sweep(&app);
    assert_eq!(first["retried"], 1, "{first}");
    assert_eq!(message(&outbox(&app), "complaint-received")["state"], "failed");
    sweep_until(&app, 20, || !p.twilio.accepted().is_empty());
    for _ in 0..3 {
        sweep(&app);
    }
    assert_eq!(p.twilio.requests().len(), 3);
    assert_eq!(p.twilio.accepted().len(), 1, "delivered exactly once");
    let o = outbox(&app);
    let m = message(&o, "complaint-received");
    assert_eq!((m["state"].as_str(), m["attempts"].as_u64()), (Some("sent"), Some(3)), "{o}");
    assert!(m["last_error"].as_str().unwrap().contains("500"), "{m}");
}

/// Sweeps that overlap (the scheduler's and an administrator's, or two replicas) share the
/// work: every one answers 200 (none "is being created; try again"), and each citizen's
/// acknowledgement goes out exactly once.
#[test]
fn overlapping_sweeps_all_answer_and_send_each_message_once() {
    let p = Providers::start();
    let app = p.app();
    const CITIZENS: usize = 12;
    for i in 0..CITIZENS {
        let mut body = web_complaint("id");
        body["reporter"]["phone"] = json!(format!("08123456{i:04}"));
        submit(&app, body);
    }
    for _round in 0..3 {
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let sweeps: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        app.post_raw("/api/v1/notifications/sweep", "application/json", b"", &[INTERNAL])
                            .unwrap()
                            .status
                    })
                })
                .collect();
            sweeps.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    let to: Vec<String> = p
        .twilio
        .accepted()
        .iter()
        .filter_map(|r| {
            String::from_utf8_lossy(&r.body)
                .split('&')
                .find_map(|kv| kv.strip_prefix("To=").map(str::to_string))
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = to.iter().collect();
    assert_eq!((to.len(), distinct.len()), (CITIZENS, CITIZENS), "{to:?}");
}

/// Twilio rate-limits with `429` and `Retry-After: 4`: the message is not tried again before
/// those 4 seconds (the backoff alone would have retried after 0.3-1.2 s), then goes once.
#[test]
fn a_rate_limited_message_waits_as_long_as_the_provider_says_before_its_retry() {
    let p = Providers::start();
    p.twilio.script([Behaviour::RetryAfter("4")]);
    let app = p.app();
    submit(&app, web_complaint("id"));
    let before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert_eq!(sweep(&app)["retried"], 1);
    let m = message(&outbox(&app), "complaint-received").clone();
    let next = m["next_attempt_at"].as_i64().unwrap_or_else(|| panic!("a retry time: {m}"));
    assert!(next >= before + 4_000, "retry at {next}, answered after {before}: {m}");
    sweep(&app);
    assert_eq!(p.twilio.requests().len(), 1, "nothing sent before the provider's time");
}

#[test]
fn a_provider_that_times_out_is_retried_and_delivers_once() {
    let p = Providers::start();
    p.twilio.script([Behaviour::Stall(Duration::from_secs(5))]);
    let app = p.app();
    submit(&app, web_complaint("id"));
    let first = sweep(&app);
    assert_eq!(first["retried"], 1, "{first}");
    assert!(message(&outbox(&app), "complaint-received")["last_error"]
        .as_str()
        .unwrap()
        .contains("transport"));
    sweep_until(&app, 20, || !p.twilio.accepted().is_empty());
    sweep(&app);
    assert_eq!(p.twilio.requests().len(), 2);
    assert_eq!(p.twilio.accepted().len(), 1);
}

#[test]
fn used_up_attempts_fill_the_dead_letters_which_an_administrator_requeues() {
    let p = Providers::start();
    p.twilio.script([Behaviour::Status(503), Behaviour::Status(503)]);
    let app = TestApp::spawn_with(p.config().env("SPIN_VARIABLE_NOTIFICATION_MAX_ATTEMPTS", "2")).unwrap();
    submit(&app, web_complaint("id"));
    let dead = || app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/dead-letters").unwrap().json().unwrap();
    sweep_until(&app, 20, || dead()["count"] == 1);
    let letters = dead();
    let letter = &letters["messages"][0];
    assert_eq!(
        (letter["state"].as_str(), letter["attempts"].as_u64()),
        (Some("dead-letter"), Some(2)),
        "{letters}"
    );
    assert!(letter["last_error"].as_str().unwrap().contains("503"), "{letter}");
    assert!(!letters.to_string().contains("81234567890"), "addresses are masked: {letters}");
    // Nothing more goes out by itself.
    sweep(&app);
    assert_eq!(p.twilio.requests().len(), 2);

    let id = letter["id"].as_str().unwrap();
    assert_eq!(
        app.post_raw(
            &format!("/api/v1/notifications/dead-letters/{id}/requeue"),
            "application/json",
            b"",
            &[]
        )
        .unwrap()
        .status,
        401
    );
    let r = app
        .post_json_as(
            TEST_ADMIN_TOKEN,
            &format!("/api/v1/notifications/dead-letters/{id}/requeue"),
            &json!({}),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["state"], "queued");
    let again = app
        .post_json_as(
            TEST_ADMIN_TOKEN,
            &format!("/api/v1/notifications/dead-letters/{id}/requeue"),
            &json!({}),
        )
        .unwrap();
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(sweep(&app)["sent"], 1);
    assert_eq!(dead()["count"], 0);
    assert_eq!(p.twilio.accepted().len(), 1);
}

#[test]
fn a_host_restart_in_the_middle_of_a_delivery_loses_nothing_and_sends_once() {
    let p = Providers::start();
    // The first request hangs past the host's life; the provider's timeout is long enough
    // that the host dies while the sweep waits.
    p.twilio.script([Behaviour::Stall(Duration::from_secs(20))]);
    // A 3 s provider timeout: the host is killed while the sweep waits for the answer.
    let mut app =
        TestApp::spawn_with(p.config().env("SPIN_VARIABLE_NOTIFICATION_PROVIDER_TIMEOUT_MS", "3000"))
            .unwrap();
    submit(&app, web_complaint("id"));
    // Another message queued behind it: a restart must keep it too.
    let mut second = web_complaint("id");
    second["reporter"]["phone"] = json!("081299998888");
    submit(&app, second);
    let url = app.url("/api/v1/notifications/sweep");
    let background = std::thread::spawn(move || {
        let _ = ureq::post(&url).set(INTERNAL.0, INTERNAL.1).timeout(Duration::from_secs(60)).send_bytes(b"");
    });
    for _ in 0..100 {
        if !p.twilio.requests().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!p.twilio.requests().is_empty(), "the sweep never reached the provider");
    app.restart().unwrap();
    background.join().unwrap();
    // The message that was in flight is claimable again once its lease (three provider
    // timeouts) has run out; the one behind it goes out at once.
    sweep_until(&app, 150, || p.twilio.accepted().len() == 2);
    for _ in 0..3 {
        sweep(&app);
    }
    let accepted = p.twilio.accepted();
    let mut to: Vec<String> = accepted.iter().map(|r| r.form_value("To").unwrap()).collect();
    to.sort();
    assert_eq!(to, ["+6281234567890", "+6281299998888"], "each delivered exactly once");
    assert_eq!(p.twilio.requests().len(), 3, "the request lost with the host was made again, once");
    let o = outbox(&app);
    assert!(o["messages"].as_array().unwrap().iter().all(|m| m["state"] == "sent"), "{o}");
}

pub(crate) fn register(app: &TestApp, username: &str, role: &str, unit: Option<&str>, email: Option<&str>) {
    let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                      "password": "kata-sandi-panjang", "email": email});
    let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
}

pub(crate) fn sign_in(app: &TestApp, username: &str) -> String {
    let r = app
        .post_json("/api/v1/sessions", &json!({"username": username, "password": "kata-sandi-panjang"}))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.json().unwrap()["token"].as_str().unwrap().to_string()
}

pub(crate) fn act(app: &TestApp, token: &str, ticket: &str, action: Value) {
    let r = app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn an_officer_hears_of_a_dispatched_case_by_email_without_the_confidential_identity() {
    let p = Providers::start();
    let app = p.app();
    register(&app, "koordinator", "provincial-coordinator", None, None);
    register(
        &app,
        "mataram",
        "liaison-officer",
        Some("pemkot-mataram"),
        Some("penghubung@mataramkota.go.id"),
    );
    register(&app, "dikes", "liaison-officer", Some("dikes"), Some("penghubung@dikes.ntbprov.go.id"));
    let ticket = submit(
        &app,
        json!({"description": "Pungutan liar di loket kantor kelurahan Cakranegara", "region_code": "52.71",
               "category": "infrastruktur", "privacy": "confidential",
               "reporter": {"name": "Lalu Kanari", "phone": "081299990000", "email": "kanari@example.org"}}),
    );
    let coordinator = sign_in(&app, "koordinator");
    act(&app, &coordinator, &ticket, json!({"action": "verify"}));
    act(&app, &coordinator, &ticket, json!({"action": "dispatch"}));
    sweep_until(&app, 10, || !p.sendgrid.accepted().is_empty());

    let mail = only(p.sendgrid.accepted());
    assert_eq!(mail.path, "/v3/mail/send");
    assert_eq!(mail.header("authorization"), Some(format!("Bearer {SG_KEY}").as_str()));
    let body = mail.json();
    assert_eq!(
        body["personalizations"][0]["to"][0]["email"], "penghubung@mataramkota.go.id",
        "only the unit's officer"
    );
    assert_eq!(body["from"]["email"], "noreply@care.ntbprov.go.id");
    let subject = body["subject"].as_str().unwrap();
    let text = body["content"][0]["value"].as_str().unwrap();
    assert!(
        subject.contains(&ticket) && text.starts_with(&format!("Kasus baru {ticket} ditugaskan kepada")),
        "{text}"
    );
    assert!(text.contains("WITA"), "the deadline is given: {text}");
    for canary in ["Kanari", "81299990000", "kanari@example.org", "/api/v1/complaints", "Pungutan"] {
        assert!(!mail.text().contains(canary), "{canary} reached an officer: {}", mail.text());
    }
    // The complainant hears of each change on their own channel (SMS), not by the officer's.
    sweep_until(&app, 10, || p.twilio.accepted().len() >= 3);
    assert!(p.twilio.accepted().iter().all(|r| r.form_value("To").as_deref() == Some("+6281299990000")));

    // The daily digest tells the unit of its open cases, once a day.
    let r = app.post_raw("/api/v1/notifications/digest", "application/json", b"", &[INTERNAL]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let digest = r.json().unwrap();
    assert_eq!(digest["units"][0]["unit"], "pemkot-mataram", "{digest}");
    assert_eq!(
        (digest["units"][0]["open"].as_u64(), digest["queued"].as_u64()),
        (Some(1), Some(1)),
        "{digest}"
    );
    let summary = p.sendgrid.accepted().last().unwrap().json();
    assert!(summary["content"][0]["value"].as_str().unwrap().starts_with("Ringkasan harian"), "{summary}");
    let again = app.post_raw("/api/v1/notifications/digest", "application/json", b"", &[INTERNAL]).unwrap();
    assert_eq!(again.json().unwrap()["queued"], 0);
}

#[test]
fn sweeps_and_admin_routes_are_refused_without_credentials() {
    let p = Providers::start();
    let app = p.app();
    for path in ["/api/v1/notifications/sweep", "/api/v1/notifications/wake", "/api/v1/notifications/digest"]
    {
        assert_eq!(app.post_raw(path, "application/json", b"", &[]).unwrap().status, 401, "{path}");
        let wrong = app.post_raw(path, "application/json", b"", &[(INTERNAL.0, "nope")]).unwrap();
        assert_eq!(wrong.status, 401, "{path}");
    }
    for path in ["/api/v1/notifications/dead-letters", "/api/v1/notifications/templates"] {
        assert_eq!(app.get(path).unwrap().status, 401, "{path}");
    }
    assert_eq!(put_templates(&app, "nonsense").status, 422);
}

#[test]
fn the_outbox_listing_pages_by_limit_and_offset_and_counts_every_entry() {
    const QUEUED: usize = 7;
    // No sweep runs: every acknowledgement stays queued.
    let app = TestApp::spawn().unwrap();
    for _ in 0..QUEUED {
        submit(&app, web_complaint("id"));
    }
    let page = |query: &str| {
        let r = app.get_as(TEST_ADMIN_TOKEN, &format!("/api/v1/notifications/outbox{query}")).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    };
    let ids = |page: &Value| -> Vec<String> {
        page["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
    };

    let mut seen: Vec<String> = Vec::new();
    let mut offset = 0;
    let mut pages = 0;
    loop {
        let p = page(&format!("?limit=3&offset={offset}"));
        assert_eq!(
            (p["count"].as_u64(), p["pending"].as_u64()),
            (Some(QUEUED as u64), Some(QUEUED as u64)),
            "{p}"
        );
        let these = ids(&p);
        assert!(!these.is_empty() && these.len() <= 3, "{p}");
        assert!(these.iter().all(|id| !seen.contains(id)), "pages overlap: {seen:?} and {these:?}");
        seen.extend(these);
        pages += 1;
        match p["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let whole = page("?limit=1000");
    assert_eq!(seen, ids(&whole), "the pages, in order, are the whole listing");
    assert_eq!(seen.len(), QUEUED);
    assert!(whole["next_offset"].is_null(), "{whole}");
    let past = page("?offset=50");
    assert_eq!((past["count"].as_u64(), ids(&past).len()), (Some(QUEUED as u64), 0), "{past}");
    let dead = app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/dead-letters?limit=1").unwrap();
    assert_eq!(dead.json().unwrap()["count"], 0, "{}", dead.body);

    for query in ["?limit=0", "?limit=1001", "?limit=sepuluh", "?offset=-1", "?state=hilang"] {
        for route in ["outbox", "dead-letters"] {
            if route == "dead-letters" && query.starts_with("?state") {
                continue; // dead-letters fixes its own state
            }
            let r = app.get_as(TEST_ADMIN_TOKEN, &format!("/api/v1/notifications/{route}{query}")).unwrap();
            assert_eq!(r.status, 400, "{route}{query}: {}", r.body);
            assert!(r.header("content-type").unwrap_or("").starts_with("application/json"), "{route}{query}");
            let body = r.json().unwrap();
            assert_eq!(body["error"]["code"], "bad-query", "{body}");
            assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        }
    }
    assert_eq!(ids(&page("")), seen, "refused queries changed nothing");
}

#[test]
fn a_partly_configured_provider_is_never_called_and_the_administrator_sees_what_is_missing() {
    let p = Providers::start();
    // The Twilio auth token is set to verify inbound webhooks, but there is no account SID;
    // the gateway has its secret but still the placeholder URL (`https://sms-gateway.invalid`).
    let app = TestApp::spawn_with(
        AppConfig::ntbcare()
            .env("SPIN_VARIABLE_PUBLIC_BASE_URL", PUBLIC_URL)
            .env("SPIN_VARIABLE_TWILIO_API_BASE_URL", &p.twilio.base_url())
            .env("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
            .env("SPIN_VARIABLE_TWILIO_FROM", "NTBCare")
            .env("SPIN_VARIABLE_SMS_GATEWAY_SECRET", GATEWAY_SECRET)
            .env("SPIN_VARIABLE_NOTIFICATION_RETRY_BASE_MS", "1")
            .env("SPIN_VARIABLE_NOTIFICATION_RETRY_MAX_MS", "1")
            .env("SPIN_VARIABLE_NOTIFICATION_PROVIDER_TIMEOUT_MS", "1000"),
    )
    .unwrap();
    submit(&app, web_complaint("id"));
    let started = std::time::Instant::now();
    let counts = sweep(&app);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the sweep waited on something: {:?}",
        started.elapsed()
    );
    assert_eq!(counts["sent"], 0, "{counts}");
    sweep(&app);
    assert!(p.twilio.requests().is_empty(), "Twilio was called: {:#?}", p.twilio.requests());
    assert!(p.gateway.requests().is_empty());
    let o = outbox(&app);
    let m = message(&o, "complaint-received");
    assert_eq!(m["state"], "dead-letter", "no route, not retried: {o}");
    assert!(m["last_error"].as_str().unwrap().contains("sms has no provider configured"), "{m}");

    let r = app.get("/api/v1/notifications/providers").unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
    let r = app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/providers").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let view = r.json().unwrap();
    let of = |code: &str| {
        view["providers"].as_array().unwrap().iter().find(|s| s["provider"] == code).cloned().unwrap()
    };
    let twilio = of("twilio");
    assert_eq!(twilio["state"], "incomplete", "{view}");
    assert_eq!(twilio["missing"][0], "twilio_account_sid", "{view}");
    assert_eq!(of("sms-gateway")["missing"], json!(["sms_gateway_base_url"]), "{view}");
    assert_eq!(of("sendgrid")["state"], "off", "{view}");
    assert!(!r.body.contains(TWILIO_TOKEN) && !r.body.contains(GATEWAY_SECRET), "{}", r.body);

    // Reported once, by name, without the secret.
    let log = app.log();
    let reported: Vec<&String> = log.iter().filter(|l| l.contains("provider twilio is incomplete")).collect();
    assert_eq!(reported.len(), 1, "{log:#?}");
    assert!(reported[0].contains("twilio_account_sid"), "{}", reported[0]);
    assert!(log.iter().all(|l| !l.contains(TWILIO_TOKEN) && !l.contains(GATEWAY_SECRET)));
}
