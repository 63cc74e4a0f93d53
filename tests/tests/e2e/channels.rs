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

// ---- Replies on the citizen's own channel (issue #19, item 2) ----

/// The officers a case needs on its way to an answer.
fn officers(app: &TestApp) -> (String, String) {
    for (username, role, unit) in [
        ("koordinator", "provincial-coordinator", None),
        ("mataram", "liaison-officer", Some("pemkot-mataram")),
    ] {
        let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                          "password": "kata-sandi-panjang"});
        let r = app.post_json_as(ntbcare_tests::TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    (app.sign_in("koordinator", "kata-sandi-panjang"), app.sign_in("mataram", "kata-sandi-panjang"))
}

fn act(app: &TestApp, token: &str, ticket: &str, action: Value) {
    let r = app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
    assert_eq!(r.status, 200, "{action}: {}", r.body);
}

/// Verified, dispatched to Mataram and accepted there.
fn accepted(app: &TestApp, (coordinator, unit): &(String, String), ticket: &str) {
    act(app, coordinator, ticket, json!({"action": "verify"}));
    act(app, coordinator, ticket, json!({"action": "dispatch", "unit": "pemkot-mataram"}));
    act(app, unit, ticket, json!({"action": "accept"}));
}

fn answer(app: &TestApp, (_, unit): &(String, String), ticket: &str) {
    act(
        app,
        unit,
        ticket,
        json!({"action": "respond", "answer": "Sudah kami tangani di lokasi pada hari Senin pagi."}),
    );
}

fn outbox(app: &TestApp) -> Vec<Value> {
    let auth = format!("Bearer {}", ntbcare_tests::TEST_ADMIN_TOKEN);
    let v =
        app.get_with("/api/v1/notifications/outbox", &[("authorization", &auth)]).unwrap().json().unwrap();
    v["messages"].as_array().cloned().unwrap_or_default()
}

/// The tracking link in the queued message itself (the identity store's outbox entry), as the
/// provider will deliver it.
fn queued_tracking_url(app: &TestApp, ticket: &str, template: &str) -> String {
    let db = rusqlite::Connection::open_with_flags(
        app.state_dir().join("identity.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut query = db.prepare("SELECT value FROM spin_key_value WHERE key LIKE 'outbox/%'").unwrap();
    let values: Vec<Vec<u8>> = query.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    values
        .iter()
        .filter_map(|v| serde_json::from_slice::<Value>(v).ok())
        .map(|v| v.get("message").cloned().unwrap_or(v))
        .find(|m| m["ticket"] == ticket && m["template"] == template)
        .and_then(|m| field(&m, "tracking_url"))
        .unwrap_or_else(|| panic!("no queued {template} for {ticket}"))
}

fn field(message: &Value, name: &str) -> Option<String> {
    message["fields"]
        .as_array()?
        .iter()
        .find(|f| f[0] == name)
        .and_then(|f| f[1].as_str())
        .map(str::to_string)
}

fn status(app: &TestApp, ticket: &str) -> String {
    let v = app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    v["status"].as_str().unwrap_or_default().to_string()
}

/// Messenger and Instagram fixtures with another message id and text.
fn meta_message(fixture_name: &str, mid: &str, text: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture(fixture_name)).unwrap();
    let m = &mut v["entry"][0]["messaging"][0]["message"];
    m["mid"] = json!(mid);
    m["text"] = json!(text);
    serde_json::to_vec(&v).unwrap()
}

fn one(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let [one] = tickets(reply).try_into().unwrap();
    one
}

#[test]
fn a_whatsapp_citizen_gets_the_private_link_answers_the_question_and_rates_by_replying() {
    let app = app();
    let desk = officers(&app);
    let (ticket, _) = one(&post_meta(&app, &fixture("meta/whatsapp_text.json")));
    // The acknowledgement on WhatsApp opens the readable page with the private code.
    // Administrators see the outbox with the private code hidden; the message itself carries it.
    let ack = outbox(&app).into_iter().find(|m| m["template"] == "complaint-received").unwrap();
    let prefix = format!("{PUBLIC_URL}/lacak/{ticket}?kode=");
    assert_eq!(field(&ack, "tracking_url").unwrap(), format!("{prefix}***"), "{ack}");
    let link = queued_tracking_url(&app, &ticket, "complaint-received");
    assert!(link.starts_with(&prefix), "{link}");
    let code = &link[prefix.len()..];
    let own = app.get_with(&format!("/api/v1/complaints/{ticket}"), &[("x-tracking-secret", code)]).unwrap();
    assert_eq!(own.status, 200, "{}", own.body);

    // The officer asks; the citizen's next message, whatever the window, is the information.
    accepted(&app, &desk, &ticket);
    act(
        &app,
        &desk.1,
        &ticket,
        json!({"action": "request-information", "question": "Di depan nomor berapa?"}),
    );
    let r = post_meta(&app, &whatsapp("wamid.jawaban1", "Di depan toko nomor 12"));
    assert_eq!(one(&r), (ticket.clone(), "information".to_string()));
    let case = app.get_as(&desk.1, &format!("/api/v1/cases/{ticket}")).unwrap();
    assert!(
        case.body.contains("provide-information") && case.body.contains("toko nomor 12"),
        "{}",
        case.body
    );

    // Answered: free text gets help and is kept; half a rating asks for the rest; then rated.
    answer(&app, &desk, &ticket);
    let r = post_meta(&app, &whatsapp("wamid.jawaban2", "terima kasih pak"));
    assert_eq!(one(&r), (ticket.clone(), "rating-help".to_string()));
    let r = post_meta(&app, &whatsapp("wamid.jawaban3", "4"));
    assert_eq!(one(&r), (ticket.clone(), "rating-incomplete".to_string()));
    assert_eq!(status(&app, &ticket), "responded");
    let r = post_meta(&app, &whatsapp("wamid.jawaban4", "sudah"));
    assert_eq!(one(&r), (ticket.clone(), "rated".to_string()));
    assert_eq!(status(&app, &ticket), "closed");
    let templates: Vec<String> =
        outbox(&app).iter().map(|m| m["template"].as_str().unwrap_or("").to_string()).collect();
    for t in ["rating-help", "rating-incomplete", "rating-recorded"] {
        assert!(templates.iter().any(|x| x == t), "{t} not in {templates:?}");
    }
    // Nothing of it became a complaint.
    assert_eq!(total(&app), 1);
}

#[test]
fn a_messenger_or_instagram_citizen_who_says_belum_reopens_the_case() {
    for (fixture_name, mid) in
        [("meta/messenger_text.json", "m_balas"), ("meta/instagram_text.json", "ig_balas")]
    {
        let app = app();
        let desk = officers(&app);
        let (ticket, _) = one(&post_meta(&app, &fixture(fixture_name)));
        let ack = outbox(&app).into_iter().find(|m| m["template"] == "complaint-received").unwrap();
        assert!(field(&ack, "tracking_url").unwrap().contains("?kode="), "{ack}");
        accepted(&app, &desk, &ticket);
        answer(&app, &desk, &ticket);
        let r = post_meta(&app, &meta_message(fixture_name, mid, "5 BELUM"));
        assert_eq!(one(&r), (ticket.clone(), "rated-reopened".to_string()), "{fixture_name}");
        assert_eq!(status(&app, &ticket), "reopened", "{fixture_name}");
    }
}

fn post_twilio(app: &TestApp, body: &str) -> Reply {
    let url = format!("{PUBLIC_URL}/webhooks/sms/twilio");
    let sig = twilio_signature(&url, body.as_bytes());
    app.post_raw(
        "/webhooks/sms/twilio",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
        &[("x-twilio-signature", &sig)],
    )
    .unwrap()
}

#[test]
fn an_sms_citizen_rates_by_replying_through_twilio_or_the_gateway() {
    // Twilio: a low score reopens.
    let app = app();
    let desk = officers(&app);
    let form = String::from_utf8(fixture("twilio/sms.form")).unwrap();
    let r = post_twilio(&app, &form);
    assert_eq!(r.status, 200, "{}", r.body);
    let ticket = app.get("/api/v1/reports/summary").unwrap();
    assert_eq!(ticket.status, 200);
    let ack = outbox(&app).into_iter().find(|m| m["template"] == "complaint-received").unwrap();
    let ticket = ack["ticket"].as_str().unwrap().to_string();
    assert!(field(&ack, "tracking_url").unwrap().contains(&format!("/lacak/{ticket}?kode=")));
    accepted(&app, &desk, &ticket);
    answer(&app, &desk, &ticket);
    let reply = form.replace("SM5b6d0a3f2e8c4a1b9d7e6f5a4b3c2d1e", "SMbalasan01").replace(
        "Body=Jembatan+di+Desa+Sukadana%2C+Lombok+Timur+putus.+Mohon+segera+diperbaiki.",
        "Body=1+belum",
    );
    assert_eq!(post_twilio(&app, &reply).status, 200);
    assert_eq!(status(&app, &ticket), "reopened");
    assert_eq!(total(&app), 1);

    // The gateway: a good score closes.
    let app = self::app();
    let desk = officers(&app);
    let (ticket, _) = one(&post_gateway(&app, &fixture("sms_gateway/single.json"), unix_now()));
    accepted(&app, &desk, &ticket);
    answer(&app, &desk, &ticket);
    let body = json!({"id": "gammu-inbox-1043", "from": "081234567890", "text": "5 YA",
                      "received_at": "2026-11-29T10:30:00+08:00"});
    let r = post_gateway(&app, body.to_string().as_bytes(), unix_now());
    assert_eq!(one(&r), (ticket.clone(), "rated".to_string()));
    assert_eq!(status(&app, &ticket), "closed");
}
