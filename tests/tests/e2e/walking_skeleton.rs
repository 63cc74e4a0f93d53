//! The thin path through every component, over the built .wasm files on the local host.

use std::collections::HashSet;

use ntbcare_domain::ticket::Ticket;
use ntbcare_tests::{TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

fn example() -> Value {
    json!({
        "description": "Jalan berlubang di depan SDN 3",
        "region_code": "52.71",
        "category": "infrastruktur",
        "privacy": "public",
        "reporter": {"name": "Baiq Nurul", "phone": "+6281234567890"}
    })
}

fn admin() -> (&'static str, String) {
    ("authorization", format!("Bearer {TEST_ADMIN_TOKEN}"))
}

fn summary(app: &TestApp) -> Value {
    let r = app.get("/api/v1/reports/summary").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().unwrap()
}

fn assert_error(reply: &ntbcare_tests::Reply, status: u16, code: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json().unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(reply.header("content-type").unwrap_or("").starts_with("application/json"));
    body
}

#[test]
fn every_component_answers_its_health_route() {
    let app = TestApp::spawn().unwrap();
    for (path, component) in [
        ("/api/v1/intake/health", "intake"),
        ("/api/v1/routing/health", "routing"),
        ("/api/v1/notifications/health", "notification"),
        ("/api/v1/lapor/health", "lapor-export"),
        ("/api/v1/reports/health", "reporting"),
    ] {
        let r = app.get(path).unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.json().unwrap()["component"], component);
    }
}

#[test]
fn a_complaint_flows_through_every_component() {
    let app = TestApp::spawn().unwrap();
    let r = app.post_json("/api/v1/complaints", &example()).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json().unwrap();
    let ticket = created["ticket"].as_str().unwrap().to_string();
    assert!(ticket.starts_with("NTB-"), "{ticket}");
    // The link a citizen is given is the tracking page made for people, not the JSON API.
    assert!(created["tracking_url"].as_str().unwrap().ends_with(&format!("/lacak/{ticket}")));
    // The code a person copies by hand, apart from the ticket (`domain::tracking_code`).
    let code = created["tracking_code"].as_str().unwrap();
    assert!(ntbcare_domain::tracking_code::parse(code).is_ok(), "{code}");
    assert_eq!(created["tracking_secret"], created["tracking_code"]);
    // Routing decided by rule, through the contract.
    assert_eq!(created["unit"], "pemkot-mataram");

    // Tracking: public status and history, no contact details.
    let t = app.get(&format!("/api/v1/complaints/{ticket}")).unwrap();
    assert_eq!(t.status, 200, "{}", t.body);
    let view = t.json().unwrap();
    assert_eq!(view["status"], "received");
    assert_eq!(view["status_label"], "Diterima");
    assert_eq!(view["history"].as_array().unwrap().len(), 1);
    assert_eq!(view["region_code"], "52.71");
    assert!(!t.body.contains("81234567890"), "contact leaked: {}", t.body);

    // Reporting counts it.
    let s = summary(&app);
    assert_eq!(s["total"], 1);
    assert_eq!(s["by_status"]["received"], 1);
    assert_eq!(s["by_channel"]["web"], 1);
    // By the unit responsible now: the coordinators' triage until a coordinator dispatches it;
    // the unit routing proposed at receipt is its own figure.
    assert_eq!(s["by_unit"][0]["unit"], "triage");
    assert_eq!(s["by_unit"][0]["count"], 1);
    assert_eq!(s["by_unit_at_receipt"][0]["unit"], "pemkot-mataram");

    // notification holds the acknowledgement, addressed by SMS, address masked.
    let o = app.get_with("/api/v1/notifications/outbox", &[(admin().0, &admin().1)]).unwrap();
    assert_eq!(o.status, 200, "{}", o.body);
    let outbox = o.json().unwrap();
    assert_eq!(outbox["pending"], 1);
    let message = &outbox["messages"][0];
    assert_eq!(message["ticket"], ticket.as_str());
    assert_eq!(message["template"], "complaint-received");
    assert!(!o.body.contains("81234567890"), "{}", o.body);

    // lapor-export lists it as awaiting export.
    let l = app.get_with("/api/v1/lapor/pending", &[(admin().0, &admin().1)]).unwrap();
    assert_eq!(l.status, 200, "{}", l.body);
    let pending = l.json().unwrap();
    assert_eq!(pending["pending"], 1);
    assert_eq!(pending["complaints"][0]["ticket"], ticket.as_str());
    assert_eq!(pending["complaints"][0]["is_anonymous"], false);
}

#[test]
fn region_codes_are_accepted_without_dots() {
    let app = TestApp::spawn().unwrap();
    let mut body = example();
    body["region_code"] = json!("5201");
    let r = app.post_json("/api/v1/complaints", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let ticket = r.json().unwrap()["ticket"].as_str().unwrap().to_string();
    let view = app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    assert_eq!(view["region_code"], "52.01");
}

#[test]
fn bad_submissions_get_a_clear_error_and_store_nothing() {
    let app = TestApp::spawn().unwrap();
    let long = "x".repeat(5001);
    let cases: Vec<(Vec<u8>, u16, &str, Option<&str>)> = vec![
        (b"{\"description\": ".to_vec(), 400, "malformed-json", None),
        (b"[]".to_vec(), 400, "not-an-object", None),
        (json!({"region_code": "52.71"}).to_string().into_bytes(), 422, "missing-field", Some("description")),
        (json!({"description": "Jalan rusak parah"}).to_string().into_bytes(), 422, "missing-field", Some("region_code")),
        (json!({"description": long, "region_code": "52.71"}).to_string().into_bytes(), 422, "too-long", Some("description")),
        (json!({"description": "Jalan rusak parah", "region_code": "31.71"}).to_string().into_bytes(), 422, "unknown-region", Some("region_code")),
        (json!({"description": "Jalan rusak parah", "region_code": "52.71", "reporter": {"name": "n".repeat(101)}}).to_string().into_bytes(), 422, "too-long", Some("reporter.name")),
        (json!({"description": "Jalan rusak parah", "region_code": "52.71", "privacy": "secret-ish"}).to_string().into_bytes(), 422, "unknown-privacy", Some("privacy")),
    ];
    for (body, status, code, field) in cases {
        let r = app.post_raw("/api/v1/complaints", "application/json", &body, &[]).unwrap();
        let err = assert_error(&r, status, code);
        assert_eq!(err["error"]["field"].as_str(), field, "{err}");
    }
    // Bigger than the JSON limit: 413, also as JSON.
    let huge = format!("{{\"description\": \"{}\", \"region_code\": \"52.71\"}}", "y".repeat(70 * 1024));
    let r = app.post_raw("/api/v1/complaints", "application/json", huge.as_bytes(), &[]).unwrap();
    assert_error(&r, 413, "payload-too-large");
    let r = app.post_raw("/api/v1/complaints", "text/plain", b"halo", &[]).unwrap();
    assert_error(&r, 415, "unsupported-media-type");

    assert_eq!(summary(&app)["total"], 0, "a rejected submission was counted");
    let l = app.get_with("/api/v1/lapor/pending", &[(admin().0, &admin().1)]).unwrap();
    assert_eq!(l.json().unwrap()["pending"], 0);
}

#[test]
fn errors_speak_indonesian_first_and_english_on_request() {
    let app = TestApp::spawn().unwrap();
    let body = json!({"region_code": "52.71"}).to_string();
    let id = app.post_raw("/api/v1/complaints", "application/json", body.as_bytes(), &[]).unwrap();
    assert_eq!(id.json().unwrap()["error"]["message"], "Kolom `description` wajib diisi.");
    let en = app
        .post_raw(
            "/api/v1/complaints",
            "application/json",
            body.as_bytes(),
            &[("accept-language", "en-GB,en;q=0.9")],
        )
        .unwrap();
    assert_eq!(en.json().unwrap()["error"]["message"], "Field `description` is required.");
}

#[test]
fn tracking_answers_malformed_and_unknown_tickets_clearly() {
    let app = TestApp::spawn().unwrap();
    assert_error(&app.get("/api/v1/complaints/bukan-tiket").unwrap(), 400, "malformed-ticket");
    // A check symbol that does not fit: a mistyped ticket is caught before any lookup.
    let issued = Ticket::number(2026, 1).unwrap().to_string();
    let mut typo = issued.clone().into_bytes();
    typo[8] = if typo[8] == b'7' { b'8' } else { b'7' };
    let typo = String::from_utf8(typo).unwrap();
    assert_error(&app.get(&format!("/api/v1/complaints/{typo}")).unwrap(), 400, "malformed-ticket");
    // Well-formed, never issued.
    let never = Ticket::number(2026, 999_999).unwrap();
    assert_error(&app.get(&format!("/api/v1/complaints/{never}")).unwrap(), 404, "not-found");
    // Inside a component's routes, unknown paths are JSON 404s; outside every route the
    // host answers 404 as Spin does.
    assert_error(&app.get("/api/v1/reports/nowhere").unwrap(), 404, "not-found");
    assert_eq!(app.get("/nowhere").unwrap().status, 404);
    assert_error(&app.post_json("/api/v1/reports/summary", &json!({})).unwrap(), 405, "method-not-allowed");
}

#[test]
fn simultaneous_submissions_get_different_tickets() {
    let app = TestApp::spawn().unwrap();
    let tickets: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                s.spawn(|| {
                    let r = app.post_json("/api/v1/complaints", &example()).unwrap();
                    assert_eq!(r.status, 201, "{}", r.body);
                    r.json().unwrap()["ticket"].as_str().unwrap().to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let unique: HashSet<_> = tickets.iter().collect();
    assert_eq!(unique.len(), tickets.len(), "duplicate tickets: {tickets:?}");
    assert_eq!(summary(&app)["total"], 24);
}

#[test]
fn everything_accepted_survives_a_restart() {
    let mut app = TestApp::spawn().unwrap();
    let tickets: Vec<String> = (0..5)
        .map(|_| {
            app.post_json("/api/v1/complaints", &example()).unwrap().json().unwrap()["ticket"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    app.restart().unwrap();
    for t in &tickets {
        let r = app.get(&format!("/api/v1/complaints/{t}")).unwrap();
        assert_eq!(r.status, 200, "{t} lost after restart: {}", r.body);
    }
    assert_eq!(summary(&app)["total"], 5);
    // Numbering continues: no ticket is issued twice across restarts.
    let next = app.post_json("/api/v1/complaints", &example()).unwrap().json().unwrap()["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!tickets.contains(&next));
}

#[test]
fn a_confidential_complaint_shows_only_its_status_and_its_reporter_stays_in_intake() {
    let app = TestApp::spawn().unwrap();
    let r = app
        .post_json(
            "/api/v1/complaints",
            &json!({
                "description": "Pungutan liar oleh oknum di kantor desa",
                "region_code": "52.03",
                "category": "kependudukan",
                "privacy": "confidential",
                "reporter": {"name": "Lalu Kanari", "phone": "081299990000", "email": "kanari@contoh.id"}
            }),
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let ticket = r.json().unwrap()["ticket"].as_str().unwrap().to_string();
    let view = app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    let keys: HashSet<&str> = view.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(["ticket", "status", "status_label", "privacy"]), "{view}");

    let pending = app.get_with("/api/v1/lapor/pending", &[(admin().0, &admin().1)]).unwrap();
    let item = &pending.json().unwrap()["complaints"][0];
    assert_eq!((item["is_anonymous"].as_bool(), item["is_secret"].as_bool()), (Some(true), Some(true)));

    // The shared store's file never holds the identity; the identity store does.
    let shared = read_store_files(&app, "sqlite_key_value.db");
    let private = read_store_files(&app, "identity.db");
    for canary in ["Kanari", "kanari@contoh.id", "81299990000"] {
        assert!(!contains(&shared, canary), "{canary} reached the shared store");
        assert!(!pending.body.contains(canary));
    }
    assert!(contains(&private, "Kanari"));
}

fn read_store_files(app: &TestApp, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(app.state_dir().join(format!("{name}{suffix}"))) {
            bytes.extend(b);
        }
    }
    assert!(!bytes.is_empty(), "no store file {name} under {}", app.state_dir().display());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn admin_and_internal_routes_refuse_callers_without_their_token() {
    let app = TestApp::spawn().unwrap();
    assert_error(&app.get("/api/v1/lapor/pending").unwrap(), 401, "unauthorized");
    assert_error(&app.get("/api/v1/notifications/outbox").unwrap(), 401, "unauthorized");
    let wrong = app.get_with("/api/v1/notifications/outbox", &[("authorization", "Bearer nope")]).unwrap();
    assert_error(&wrong, 401, "unauthorized");
    let req = json!({"ticket": "NTB-26-00000", "channel": "Web", "category": null, "region_code": "52.71", "description": "x"});
    assert_error(&app.post_json("/api/v1/routing/route", &req).unwrap(), 401, "unauthorized");
}
