//! Messaging channels into complaints, through the built intake component: each provider's
//! real wire format, signed with test secrets as the provider signs it.

use base64::Engine;
use hmac::{Hmac, Mac};
use ntbcare_tests::{repo_root, AppConfig, Reply, TestApp};
use serde_json::{json, Value};

const META_SECRET: &str = "meta-app-secret-uji";
const VERIFY_TOKEN: &str = "verifikasi-ntb";
const TWILIO_TOKEN: &str = "ntbcare-test-auth-token";
const GATEWAY_SECRET: &str = "gateway-secret-uji";
const PUBLIC_URL: &str = "https://care.ntbprov.go.id";

fn app() -> TestApp {
    TestApp::spawn_with(
        AppConfig::ntbcare()
            .env("SPIN_VARIABLE_META_APP_SECRET", META_SECRET)
            .env("SPIN_VARIABLE_META_VERIFY_TOKEN", VERIFY_TOKEN)
            .env("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
            .env("SPIN_VARIABLE_SMS_GATEWAY_SECRET", GATEWAY_SECRET)
            .env("SPIN_VARIABLE_PUBLIC_BASE_URL", PUBLIC_URL),
    )
    .unwrap()
}

pub(crate) fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures/channels").join(path)).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_sha256(key: &str, data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// POST a Meta webhook signed as Meta signs it: HMAC-SHA256 of the raw body.
pub(crate) fn post_meta(app: &TestApp, body: &[u8]) -> Reply {
    let sig = format!("sha256={}", hex(&hmac_sha256(META_SECRET, body)));
    app.post_raw("/webhooks/meta", "application/json", body, &[("x-hub-signature-256", &sig)]).unwrap()
}

fn total(app: &TestApp) -> i64 {
    app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"].as_i64().unwrap()
}

fn tickets(reply: &Reply) -> Vec<(String, String)> {
    reply.json().unwrap()["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ticket"].as_str().unwrap_or("").to_string(), r["result"].as_str().unwrap().to_string()))
        .collect()
}

/// The WhatsApp text fixture with another message id and text, as a citizen's next message.
fn whatsapp(id: &str, text: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture("meta/whatsapp_text.json")).unwrap();
    let m = &mut v["entry"][0]["changes"][0]["value"]["messages"][0];
    m["id"] = json!(id);
    m["text"]["body"] = json!(text);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn meta_subscription_handshake_echoes_the_challenge_only_for_our_token() {
    let app = app();
    let ok = app
        .get(&format!(
            "/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ))
        .unwrap();
    assert_eq!((ok.status, ok.body.as_str()), (200, "1158201444"));
    let wrong =
        app.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=salah&hub.challenge=1158201444").unwrap();
    assert_eq!(wrong.status, 403);
}

#[test]
fn a_whatsapp_message_becomes_one_complaint_however_often_it_is_delivered() {
    let app = app();
    let body = fixture("meta/whatsapp_text.json");
    let first = post_meta(&app, &body);
    assert_eq!(first.status, 200, "{}", first.body);
    let [(ticket, result)] = tickets(&first).try_into().unwrap();
    assert_eq!(result, "new");
    let again = post_meta(&app, &body);
    assert_eq!(tickets(&again), vec![(ticket.clone(), "duplicate".to_string())]);
    assert_eq!(total(&app), 1);

    // Tracking shows the text, never the sender's number or profile name.
    let view = app.get(&format!("/api/v1/complaints/{ticket}")).unwrap();
    assert!(view.body.contains("Pejanggik"), "{}", view.body);
    for identity in ["Baiq Nurul", "6281234567890"] {
        assert!(!view.body.contains(identity), "{identity} in {}", view.body);
    }
    // The acknowledgement goes back on WhatsApp.
    let outbox = app
        .get_with(
            "/api/v1/notifications/outbox",
            &[("authorization", &format!("Bearer {}", ntbcare_tests::TEST_ADMIN_TOKEN))],
        )
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(outbox["messages"][0]["channel"], "Whatsapp", "{outbox}");
}

#[test]
fn a_bad_or_missing_signature_is_refused_and_nothing_is_stored() {
    let app = app();
    let body = fixture("meta/whatsapp_text.json");
    let forged = format!("sha256={}", hex(&hmac_sha256("not-the-secret", &body)));
    let r = app
        .post_raw("/webhooks/meta", "application/json", &body, &[("x-hub-signature-256", &forged)])
        .unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json().unwrap()["error"]["code"], "bad-signature");
    let r = app.post_raw("/webhooks/meta", "application/json", &body, &[]).unwrap();
    assert_eq!(r.status, 401);
    // Signed, then altered: the signature covers the raw bytes.
    let sig = format!("sha256={}", hex(&hmac_sha256(META_SECRET, &body)));
    let altered = String::from_utf8(body.clone()).unwrap().replace("Pejanggik", "Pejanggi_").into_bytes();
    let r = app
        .post_raw("/webhooks/meta", "application/json", &altered, &[("x-hub-signature-256", &sig)])
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(total(&app), 0);
}

#[test]
fn a_malformed_payload_with_a_good_signature_is_a_clear_400() {
    let app = app();
    let r = post_meta(&app, b"{\"object\": \"whatsapp_business_account\", \"entry\": 5}");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json().unwrap()["error"]["message"].as_str().is_some());
    assert_eq!(total(&app), 0);
}

#[test]
fn follow_up_messages_join_the_senders_open_complaint() {
    let app = app();
    let first = post_meta(&app, &whatsapp("wamid.A1", "Lampu jalan di Jl. Pejanggik mati"));
    let [(ticket, _)] = tickets(&first).try_into().unwrap();
    let second = post_meta(&app, &whatsapp("wamid.A2", "Sudah seminggu, mohon segera"));
    assert_eq!(tickets(&second), vec![(ticket.clone(), "added".to_string())]);
    assert_eq!(total(&app), 1);
    // Quoting the ticket later attaches too.
    let third = post_meta(&app, &whatsapp("wamid.A3", &format!("Bagaimana kabar {ticket}?")));
    assert_eq!(tickets(&third), vec![(ticket, "added".to_string())]);
}

/// What the host had written when it died: the stopped host's shared store without `keys`,
/// as if it had been killed before writing them.
fn died_before_writing(app: &mut TestApp, keys: &[&str]) {
    app.kill();
    let db = rusqlite::Connection::open(app.state_dir().join("sqlite_key_value.db")).unwrap();
    for key in keys {
        let gone =
            db.execute("DELETE FROM spin_key_value WHERE store = 'default' AND key = ?1", [key]).unwrap();
        assert_eq!(gone, 1, "{key} was not stored");
    }
    drop(db);
    app.restart().unwrap();
}

/// What the shared store knows a WhatsApp message by: the keyed hash of its id under the
/// harness's deployment key (`domain::pseudonym`), never the id.
fn pseudonym(wamid: &str) -> String {
    use ntbcare_domain::pseudonym::{DeploymentKey, Kind, Pseudonym};
    let key = DeploymentKey::new("test-deployment-key").unwrap().pseudonyms();
    Pseudonym::of(Kind::Message(ntbcare_domain::complaint::Channel::Whatsapp), wamid, &key).to_string()
}

fn stored_complaint(app: &TestApp, ticket: &str) -> Value {
    let db = rusqlite::Connection::open(app.state_dir().join("sqlite_key_value.db")).unwrap();
    let bytes: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = ?1",
            [format!("complaint/{ticket}")],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn a_message_redelivered_after_a_crash_before_it_was_recorded_makes_no_second_complaint() {
    let mut app = app();
    let body = whatsapp("wamid.crash-1", "Jembatan di Jl. Pejanggik putus");
    let [(ticket, _)] = tickets(&post_meta(&app, &body)).try_into().unwrap();
    // Killed after the complaint's commit, before the message was recorded as done.
    died_before_writing(&mut app, &[&format!("inbound/whatsapp/{}", pseudonym("wamid.crash-1"))]);
    // Meta redelivers at once: answered with the committed complaint, not a second one
    // (nor "try later" until the claim goes stale).
    let again = post_meta(&app, &body);
    assert_eq!(tickets(&again), vec![(ticket, "duplicate".to_string())]);
    assert_eq!(total(&app), 1);
}

#[test]
fn a_follow_up_redelivered_after_a_crash_before_it_was_recorded_is_added_once() {
    let mut app = app();
    let [(ticket, _)] =
        tickets(&post_meta(&app, &whatsapp("wamid.fu-1", "Lampu jalan di Jl. Pejanggik mati")))
            .try_into()
            .unwrap();
    let follow_up = whatsapp("wamid.fu-2", "Sudah seminggu, mohon segera");
    assert_eq!(tickets(&post_meta(&app, &follow_up)), vec![(ticket.clone(), "added".to_string())]);
    // Killed after the follow-up was added, before the message was recorded as done; the
    // claim then went stale (removed here, as a retry two minutes later takes it over).
    died_before_writing(
        &mut app,
        &[
            &format!("inbound/whatsapp/{}", pseudonym("wamid.fu-2")),
            &format!("claim/inbound/whatsapp/{}", pseudonym("wamid.fu-2")),
            &format!("claim/inbound/whatsapp/{}/started", pseudonym("wamid.fu-2")),
        ],
    );
    assert_eq!(tickets(&post_meta(&app, &follow_up)), vec![(ticket.clone(), "added".to_string())]);
    let complaint = stored_complaint(&app, &ticket);
    let texts: Vec<&str> = complaint["case"]["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["Sudah seminggu, mohon segera"], "{complaint}");
    // And what the complaint keeps of the message is no provider id.
    assert!(!complaint.to_string().contains("wamid"), "{complaint}");
}

#[test]
fn delivery_receipts_are_accepted_without_opening_complaints() {
    let app = app();
    let r = post_meta(&app, &fixture("meta/whatsapp_status_delivered.json"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(total(&app), 0);
    // Echoes of our own messages are ignored.
    let r = post_meta(&app, &fixture("meta/messenger_echo.json"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(total(&app), 0);
}

pub(crate) fn twilio_signature(url: &str, form: &[u8]) -> String {
    let mut params: Vec<(String, String)> = form::parse(form);
    params.sort();
    let mut data = url.to_string();
    for (k, v) in params {
        data.push_str(&k);
        data.push_str(&v);
    }
    let mut m = Hmac::<sha1::Sha1>::new_from_slice(TWILIO_TOKEN.as_bytes()).unwrap();
    m.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

mod form {
    /// application/x-www-form-urlencoded, as the test's own small reader.
    pub fn parse(body: &[u8]) -> Vec<(String, String)> {
        String::from_utf8(body.to_vec())
            .unwrap()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    fn decode(s: &str) -> String {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}

#[test]
fn a_twilio_sms_is_verified_against_the_public_url_and_answered_with_twiml() {
    let app = app();
    let body = fixture("twilio/sms.form");
    let url = format!("{PUBLIC_URL}/webhooks/sms/twilio");
    let sig = twilio_signature(&url, &body);
    let form = "application/x-www-form-urlencoded";
    let r = app.post_raw("/webhooks/sms/twilio", form, &body, &[("x-twilio-signature", &sig)]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<Response/>"));
    assert_eq!(total(&app), 1);
    let summary = app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["by_channel"]["sms"], 1);
    // Replayed by Twilio: still one complaint.
    app.post_raw("/webhooks/sms/twilio", form, &body, &[("x-twilio-signature", &sig)]).unwrap();
    assert_eq!(total(&app), 1);
    // Signed for another URL: refused.
    let wrong = twilio_signature("https://elsewhere.example/webhooks/sms/twilio", &body);
    let r = app.post_raw("/webhooks/sms/twilio", form, &body, &[("x-twilio-signature", &wrong)]).unwrap();
    assert_eq!(r.status, 401);
}

pub(crate) fn post_gateway(app: &TestApp, body: &[u8], at: i64) -> Reply {
    let ts = at.to_string();
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(body);
    let sig = format!("sha256={}", hex(&hmac_sha256(GATEWAY_SECRET, &signed)));
    app.post_raw(
        "/webhooks/sms/gateway",
        "application/json",
        body,
        &[("x-ntbcare-signature", &sig), ("x-ntbcare-timestamp", &ts)],
    )
    .unwrap()
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn a_long_sms_arriving_in_parts_out_of_order_becomes_one_complaint() {
    let app = app();
    let now = unix_now();
    for part in ["part_3_of_3", "part_1_of_3"] {
        let r = post_gateway(&app, &fixture(&format!("sms_gateway/{part}.json")), now);
        assert_eq!(r.status, 202, "{part}: {}", r.body);
    }
    assert_eq!(total(&app), 0);
    let r = post_gateway(&app, &fixture("sms_gateway/part_2_of_3.json"), now);
    assert_eq!(r.status, 200, "{}", r.body);
    let [(ticket, result)] = tickets(&r).try_into().unwrap();
    assert_eq!(result, "new");
    let view = app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    let text = view["description"].as_str().unwrap();
    assert!(text.starts_with("Lampu penerangan jalan di Jl. Langko, Mataram sudah mati tig"), "{text}");
    assert!(text.len() > 120, "parts not joined: {text}");
    assert_eq!(total(&app), 1);
}

#[test]
fn a_gateway_request_outside_the_replay_window_is_refused() {
    let app = app();
    let r = post_gateway(&app, &fixture("sms_gateway/single.json"), unix_now() - 3600);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json().unwrap()["error"]["code"], "stale-request");
    assert_eq!(total(&app), 0);
}

#[test]
fn an_unconfigured_channel_says_so() {
    let app = TestApp::spawn().unwrap();
    let body = fixture("meta/whatsapp_text.json");
    let r = app
        .post_raw("/webhooks/meta", "application/json", &body, &[("x-hub-signature-256", "sha256=00")])
        .unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
}

#[test]
fn stop_is_an_opt_out_not_a_complaint() {
    let app = app();
    let r = post_meta(&app, &whatsapp("wamid.S1", "STOP"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["received"][0]["result"], "opted-out");
    let r = post_meta(&app, &whatsapp("wamid.S2", "mulai"));
    assert_eq!(r.json().unwrap()["received"][0]["result"], "opted-in");
    // "Stop pungli" is a complaint.
    let r = post_meta(&app, &whatsapp("wamid.S3", "Stop pungli di pasar Kebon Roek"));
    assert_eq!(r.json().unwrap()["received"][0]["result"], "new");
    assert_eq!(total(&app), 1);
}
