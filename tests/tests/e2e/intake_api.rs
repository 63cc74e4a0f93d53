//! Intake's other doors: Open311 clients, partner systems, and retried web submissions.

use ntbcare_tests::{AppConfig, Reply, TestApp};
use serde_json::{json, Value};

const OPEN311_KEY: &str = "kunci-fixmystreet-uji";
const PARTNER_KEY: &str = "kunci-sipepadu-uji";

fn app() -> TestApp {
    TestApp::spawn_with(
        AppConfig::ntbcare()
            .env("SPIN_VARIABLE_OPEN311_API_KEYS", &format!("fixmystreet:{OPEN311_KEY}"))
            .env("SPIN_VARIABLE_PARTNER_API_KEYS", &format!("sipepadu:{PARTNER_KEY},lainnya:kunci-lain")),
    )
    .unwrap()
}

const FORM: &str = "application/x-www-form-urlencoded";

fn post_form(app: &TestApp, path: &str, form: &str) -> Reply {
    app.post_raw(path, FORM, form.as_bytes(), &[]).unwrap()
}

fn open311_form(extra: &str) -> String {
    format!(
        "api_key={OPEN311_KEY}&service_code=infrastruktur&lat=-8.5833&long=116.1167\
         &description=Jalan+berlubang+di+depan+SDN+3+Mataram&attribute%5Bregion_code%5D=52.71\
         &email=warga%40contoh.id&first_name=Baiq{extra}"
    )
}

#[test]
fn open311_clients_list_services_in_xml_and_json() {
    let app = app();
    let xml = app.get("/open311/v2/services.xml").unwrap();
    assert_eq!(xml.status, 200);
    assert!(xml.header("content-type").unwrap().contains("xml"));
    assert!(xml.body.contains("<service_code>infrastruktur</service_code>"), "{}", xml.body);
    let json = app.get("/open311/v2/services.json").unwrap().json().unwrap();
    assert!(json.as_array().unwrap().iter().any(|s| s["service_code"] == "kesehatan"));
    let def = app.get("/open311/v2/services/infrastruktur.json").unwrap();
    assert_eq!(def.status, 200, "{}", def.body);
    assert_eq!(app.get("/open311/v2/services/sihir.json").unwrap().status, 404);
}

#[test]
fn an_open311_request_becomes_a_complaint_and_can_be_read_back() {
    let app = app();
    let r = post_form(&app, "/open311/v2/requests.json", &open311_form(""));
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().unwrap()[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("NTB-"), "{id}");

    let one = app.get(&format!("/open311/v2/requests/{id}.xml")).unwrap();
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(one.body.contains(&format!("<service_request_id>{id}</service_request_id>")), "{}", one.body);
    assert!(one.body.contains("<status>open</status>"));
    assert!(!one.body.contains("warga@contoh.id"), "contact leaked: {}", one.body);

    let list = app.get("/open311/v2/requests.json?service_code=infrastruktur").unwrap().json().unwrap();
    assert!(list.as_array().unwrap().iter().any(|r| r["service_request_id"] == id.as_str()), "{list}");
    let summary = app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["by_channel"]["open311"], 1);
}

#[test]
fn open311_errors_come_in_open311_format() {
    let app = app();
    let no_key = post_form(
        &app,
        "/open311/v2/requests.xml",
        &open311_form("").replace(&format!("api_key={OPEN311_KEY}&"), ""),
    );
    assert!(matches!(no_key.status, 400 | 401), "{}", no_key.body);
    assert!(no_key.body.contains("<errors>") && no_key.body.contains("<code>401</code>"), "{}", no_key.body);
    let wrong = post_form(&app, "/open311/v2/requests.json", &open311_form("").replace(OPEN311_KEY, "salah"));
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert_eq!(wrong.json().unwrap()[0]["code"], 403);
    let no_place = post_form(
        &app,
        "/open311/v2/requests.json",
        &format!("api_key={OPEN311_KEY}&service_code=infrastruktur&description=Jalan+rusak+parah+sekali"),
    );
    assert_eq!(no_place.status, 400, "{}", no_place.body);
    assert_eq!(app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"], 0);
}

#[test]
fn a_confidential_open311_request_shows_nothing_but_its_status() {
    let app = app();
    let r =
        post_form(&app, "/open311/v2/requests.json", &open311_form("&attribute%5Bprivacy%5D=confidential"));
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().unwrap()[0]["service_request_id"].as_str().unwrap().to_string();
    let one = app.get(&format!("/open311/v2/requests/{id}.json")).unwrap().json().unwrap();
    assert!(one[0].get("description").is_none(), "{one}");
    assert!(one[0].get("lat").is_none(), "{one}");
}

fn partner_post(app: &TestApp, key: &str, body: &Value) -> Reply {
    app.post_raw(
        "/api/v1/partners/complaints",
        "application/json",
        body.to_string().as_bytes(),
        &[("authorization", &format!("Bearer {key}"))],
    )
    .unwrap()
}

fn partner_complaint(reference: &str) -> Value {
    json!({"reference": reference, "description": "Drainase tersumbat di Selong", "region_code": "52.03",
           "category": "infrastruktur"})
}

#[test]
fn a_partner_system_posts_with_its_own_key_and_reference_exactly_once() {
    let app = app();
    let first = partner_post(&app, PARTNER_KEY, &partner_complaint("SPD-2026-00123"));
    assert_eq!(first.status, 201, "{}", first.body);
    let ticket = first.json().unwrap()["ticket"].as_str().unwrap().to_string();
    let again = partner_post(&app, PARTNER_KEY, &partner_complaint("SPD-2026-00123"));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        (again.json().unwrap()["ticket"].as_str(), again.json().unwrap()["duplicate"].as_bool()),
        (Some(ticket.as_str()), Some(true))
    );
    assert_eq!(app.get("/api/v1/reports/summary").unwrap().json().unwrap()["by_channel"]["partner"], 1);

    let auth = format!("Bearer {PARTNER_KEY}");
    let found =
        app.get_with("/api/v1/partners/complaints/SPD-2026-00123", &[("authorization", &auth)]).unwrap();
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json().unwrap()["ticket"], ticket.as_str());
    // Another partner cannot see it by that reference; a wrong key is refused.
    let other = app
        .get_with("/api/v1/partners/complaints/SPD-2026-00123", &[("authorization", "Bearer kunci-lain")])
        .unwrap();
    assert_eq!(other.status, 404);
    assert_eq!(partner_post(&app, "salah", &partner_complaint("X-1")).status, 401);
    let no_ref = partner_post(
        &app,
        PARTNER_KEY,
        &json!({"description": "Drainase tersumbat", "region_code": "52.03"}),
    );
    assert_eq!(no_ref.status, 422, "{}", no_ref.body);
}

#[test]
fn a_retried_web_submission_with_the_same_idempotency_key_makes_one_complaint() {
    let app = app();
    let body = json!({"description": "Jalan berlubang di depan SDN 3", "region_code": "52.71"}).to_string();
    let post = || {
        app.post_raw(
            "/api/v1/complaints",
            "application/json",
            body.as_bytes(),
            &[("idempotency-key", "9f2c-ulang")],
        )
        .unwrap()
    };
    let first = post();
    assert_eq!(first.status, 201, "{}", first.body);
    let second = post();
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.json().unwrap()["ticket"], second.json().unwrap()["ticket"]);
    assert_eq!(first.json().unwrap()["tracking_secret"], second.json().unwrap()["tracking_secret"]);
    assert_eq!(app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"], 1);
}

/// A tiny but real JPEG: 8x8 grey, JFIF, a quantisation table of ones, one-code Huffman
/// tables, one scan. Intake judges files by their bytes and cleans them of metadata by walking
/// them to the end (attachments.rs), so a header alone is refused; this one has nothing to
/// clean and is kept byte for byte.
#[rustfmt::skip]
pub(crate) const JPEG: &[u8] = &[
    0xFF, 0xD8,                                                                     // SOI
    0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,       // JFIF
    0xFF, 0xDB, 0, 0x43, 0,                                                         // DQT: all 1
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0,                                // SOF0 8x8
    0xFF, 0xC4, 0, 0x14, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   // DHT DC
    0xFF, 0xC4, 0, 0x14, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   // DHT AC
    0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0,                                          // SOS
    0x3F,                                                                           // DC 0, EOB
    0xFF, 0xD9,                                                                     // EOI
];

pub(crate) fn multipart(parts: &[(&str, Option<&str>, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----ntbcare-uji-7MA4YWxk";
    let mut body = Vec::new();
    for (name, filename, content_type, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: {content_type}\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn a_complaint_with_a_photo_keeps_the_photo_and_serves_it_back() {
    let app = app();
    let complaint = json!({"description": "Jalan berlubang di depan SDN 3", "region_code": "52.71", "privacy": "anonymous"});
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", complaint.to_string().as_bytes()),
        ("attachment", Some("../../jalan rusak.jpg"), "image/jpeg", JPEG),
    ]);
    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json().unwrap();
    assert_eq!(created["attachments"][0]["mime_type"], "image/jpeg");
    assert_eq!(created["attachments"][0]["name"], "jalan rusak.jpg", "path stripped");
    let ticket = created["ticket"].as_str().unwrap();
    let photo =
        ntbcare_tests::get_bytes(&app, &format!("/api/v1/complaints/{ticket}/attachments/1")).unwrap();
    assert_eq!(photo.0, 200);
    assert_eq!(photo.1, JPEG);
    assert_eq!(app.get(&format!("/api/v1/complaints/{ticket}/attachments/2")).unwrap().status, 404);
}

#[test]
fn a_file_that_is_not_a_photo_or_pdf_is_refused_and_nothing_is_stored() {
    let app = app();
    let complaint = json!({"description": "Jalan berlubang di depan SDN 3", "region_code": "52.71"});
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", complaint.to_string().as_bytes()),
        ("attachment", Some("foto.jpg"), "image/jpeg", b"<script>alert(1)</script>"),
    ]);
    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.json().unwrap()["error"]["code"], "unsupported-file-type");
    let (ct, body) = multipart(&[("attachment", Some("a.jpg"), "image/jpeg", JPEG)]);
    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"], 0);
}

#[test]
fn a_confidential_complaints_photo_needs_the_tracking_secret() {
    let app = app();
    let complaint = json!({"description": "Pungutan liar di kantor desa", "region_code": "52.03", "privacy": "confidential"});
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", complaint.to_string().as_bytes()),
        ("attachment", Some("bukti.jpg"), "image/jpeg", JPEG),
    ]);
    let created = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap().json().unwrap();
    let (ticket, secret) =
        (created["ticket"].as_str().unwrap(), created["tracking_secret"].as_str().unwrap());
    let path = format!("/api/v1/complaints/{ticket}/attachments/1");
    assert_eq!(app.get(&path).unwrap().status, 404);
    assert_eq!(app.get_with(&path, &[("x-tracking-secret", secret)]).unwrap().status, 200);
}

#[test]
fn too_many_complaints_from_one_address_are_asked_to_wait() {
    let app =
        TestApp::spawn_with(AppConfig::ntbcare().env("SPIN_VARIABLE_RATE_LIMIT_PER_ADDRESS", "3")).unwrap();
    let body = json!({"description": "Jalan berlubang di depan SDN 3", "region_code": "52.71"});
    for _ in 0..3 {
        assert_eq!(app.post_json("/api/v1/complaints", &body).unwrap().status, 201);
    }
    let limited = app.post_json("/api/v1/complaints", &body).unwrap();
    assert_eq!(limited.status, 429, "{}", limited.body);
    let wait: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=600).contains(&wait), "{wait}");
    assert_eq!(limited.json().unwrap()["error"]["code"], "too-many-requests");
    assert_eq!(app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"], 3);
}

#[test]
fn the_same_text_from_the_same_reporter_is_flagged_as_a_likely_duplicate_not_dropped() {
    let app = app();
    let body = json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71",
                      "reporter": {"phone": "081234567890"}});
    let first = app.post_json("/api/v1/complaints", &body).unwrap().json().unwrap();
    let mut again = body.clone();
    again["description"] = json!("jalan BERLUBANG di depan SDN 3, Mataram!");
    let second = app.post_json("/api/v1/complaints", &again).unwrap();
    assert_eq!(second.status, 201, "both are kept");
    let second_ticket = second.json().unwrap()["ticket"].as_str().unwrap().to_string();
    let auth = format!("Bearer {}", ntbcare_tests::TEST_ADMIN_TOKEN);
    let case = app.get_with(&format!("/api/v1/cases/{second_ticket}"), &[("authorization", &auth)]).unwrap();
    assert_eq!(case.json().unwrap()["case"]["possible_duplicate_of"], first["ticket"], "{}", case.body);
}

#[test]
fn an_administrator_issues_and_revokes_open311_keys() {
    let app = app();
    let auth = format!("Bearer {}", ntbcare_tests::TEST_ADMIN_TOKEN);
    let issued = app
        .post_raw(
            "/api/v1/intake/open311-keys",
            "application/json",
            br#"{"owner": "aplikasi-kota"}"#,
            &[("authorization", &auth)],
        )
        .unwrap();
    assert_eq!(issued.status, 201, "{}", issued.body);
    let key = issued.json().unwrap()["api_key"].as_str().unwrap().to_string();
    let form = open311_form("").replace(OPEN311_KEY, &key);
    assert_eq!(post_form(&app, "/open311/v2/requests.json", &form).status, 200);
    // Nobody else issues keys.
    let r =
        app.post_raw("/api/v1/intake/open311-keys", "application/json", br#"{"owner": "x"}"#, &[]).unwrap();
    assert_eq!(r.status, 401);
    let body = json!({ "key": key }).to_string();
    let revoke = ntbcare_tests::delete_raw(
        &app,
        "/api/v1/intake/open311-keys",
        body.as_bytes(),
        &[("authorization", &auth)],
    )
    .unwrap();
    assert_eq!(revoke.status, 204);
    assert_eq!(post_form(&app, "/open311/v2/requests.json", &form).status, 403);
}

/// The link a citizen is given opens a page made for people, in their language; the API
/// stays JSON for machines, and a browser that opens an API link (one in a message sent
/// before links went to the tracking page) is sent to the page, its code passed on.
#[test]
fn a_citizen_is_given_the_tracking_page_and_a_browser_on_the_api_is_sent_there() {
    let app = app();
    let english = json!({"description": "The streetlights on Jalan Pejanggik have been out for a week",
                             "region_code": "52.71", "category": "infrastruktur", "language": "en"});
    let created = app.post_json("/api/v1/complaints", &english).unwrap().json().unwrap();
    let ticket = created["ticket"].as_str().unwrap().to_string();
    let secret = created["tracking_secret"].as_str().unwrap().to_string();
    let link = created["tracking_url"].as_str().unwrap();
    assert!(link.ends_with(&format!("/lacak/{ticket}?lang=en")), "{link}");
    let page = app.get(&format!("/lacak/{ticket}?lang=en")).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.body.contains(&ticket) && page.body.contains("lang=\"en\""));

    // Machines: JSON, as before.
    let api = format!("/api/v1/complaints/{ticket}");
    let json = app.get_with(&api, &[("accept", "application/json")]).unwrap();
    assert_eq!(json.status, 200);
    assert_eq!(json.json().unwrap()["ticket"], ticket.as_str());
    assert_eq!(app.get(&api).unwrap().json().unwrap()["ticket"], ticket.as_str(), "no Accept: JSON");

    // A browser: 303 to the page, in the reader's language, `?secret=` passed on as `?kode=`.
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let no_redirects = ureq::AgentBuilder::new().redirects(0).build();
    let answer = |path: &str, language: &str| {
        let r = no_redirects
            .get(&app.url(path))
            .set("accept", browser)
            .set("accept-language", language)
            .call()
            .unwrap();
        (r.status(), r.header("location").unwrap_or_default().to_string())
    };
    let (status, location) = answer(&api, "id-ID,id;q=0.9");
    assert_eq!(status, 303);
    assert!(location.ends_with(&format!("/lacak/{ticket}")), "{location}");
    let (status, location) = answer(&format!("{api}?secret={secret}"), "en-US,en;q=0.9");
    assert_eq!(status, 303);
    assert!(location.ends_with(&format!("/lacak/{ticket}?lang=en&kode={secret}")), "{location}");
    // Followed, the page is the complainant's own view.
    let own =
        app.get_with(&format!("/lacak/{ticket}?lang=en&kode={secret}"), &[("accept", browser)]).unwrap();
    assert_eq!(own.status, 200);
    assert!(own.body.contains("Pejanggik"), "{}", own.body);
}

// ---- The tracking code a person copies by hand (issue #19, item 3) ----

fn filed(app: &TestApp) -> (String, String) {
    let body = json!({"description": "Lampu jalan mati sebulan di Jl. Pejanggik", "region_code": "52.71",
                      "privacy": "confidential", "reporter": {"phone": "081277770000"}});
    let r = app.post_json("/api/v1/complaints", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json().unwrap();
    (v["ticket"].as_str().unwrap().to_string(), v["tracking_code"].as_str().unwrap().to_string())
}

fn track_with(app: &TestApp, ticket: &str, code: &str) -> Reply {
    app.get_with(&format!("/api/v1/complaints/{ticket}"), &[("x-tracking-secret", code)]).unwrap()
}

/// The code with its first character replaced: still a well-formed code of the right length.
fn another_character(code: &str, n: usize) -> String {
    let alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let first = code.chars().next().unwrap();
    let other = alphabet.chars().filter(|c| *c != first).nth(n).unwrap();
    format!("{other}{}", &code[1..])
}

/// A well-formed code (its check character right) that is not the complaint's.
fn a_wrong_but_valid_code(code: &str) -> String {
    (0..31)
        .flat_map(|n| {
            let base = another_character(code, n);
            "0123456789ABCDEFGHJKMNPQRSTVWXYZ".chars().map(move |c| format!("{}{c}", &base[..base.len() - 1]))
        })
        .find(|c| ntbcare_domain::tracking_code::parse(c).is_ok())
        .unwrap()
}

#[test]
fn the_tracking_code_is_short_grouped_and_read_however_it_is_typed() {
    let app = app();
    let (ticket, code) = filed(&app);
    assert_eq!(code.len(), 12, "{code}");
    assert_eq!(code.matches('-').count(), 2, "{code}");
    assert!(!code.contains(['I', 'L', 'O', 'U']), "{code}");
    assert!(!code.contains(&ticket) && !ticket.contains(&code));
    for typed in [code.clone(), code.to_lowercase(), code.replace('-', " "), code.replace('-', "")] {
        assert_eq!(track_with(&app, &ticket, &typed).status, 200, "{typed}");
    }
}

#[test]
fn a_mistyped_code_is_told_to_be_checked_and_costs_no_attempt() {
    let app = app();
    let (ticket, code) = filed(&app);
    for _ in 0..15 {
        let r = track_with(&app, &ticket, &another_character(&code, 0));
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("tracking-code-typo") && r.body.contains("salah ketik"), "{}", r.body);
    }
    assert_eq!(track_with(&app, &ticket, &code).status, 200);
}

#[test]
fn ten_wrong_codes_lock_the_ticket_for_the_day_even_for_the_right_code() {
    let app = app();
    let (ticket, code) = filed(&app);
    let wrong = a_wrong_but_valid_code(&code);
    for n in 0..10 {
        let r = track_with(&app, &ticket, &wrong);
        assert_eq!(r.status, 403, "try {n}: {}", r.body);
    }
    let r = track_with(&app, &ticket, &code);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    // Another complaint is not affected.
    let (other, other_code) = filed(&app);
    assert_eq!(track_with(&app, &other, &other_code).status, 200);
}
