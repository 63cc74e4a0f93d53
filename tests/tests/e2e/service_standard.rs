//! The published service standard (Standar Pelayanan Pengaduan): a public page and JSON built
//! by the service-standard component from the documents an administrator manages.

use ntbcare_tests::{put_raw, Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::Value;

const PAGE: &str = "/standar-pelayanan";
const API: &str = "/api/v1/service-standard";

fn admin() -> String {
    format!("Bearer {TEST_ADMIN_TOKEN}")
}

fn document(app: &TestApp, name: &str) -> String {
    let r = app.get_with(&format!("/api/v1/admin/{name}"), &[("authorization", &admin())]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn save(app: &TestApp, name: &str, text: &str) {
    let r = put_raw(
        app,
        &format!("/api/v1/admin/{name}"),
        "application/toml",
        text.as_bytes(),
        &[("authorization", &admin())],
    )
    .unwrap();
    assert_eq!(r.status, 200, "{name}: {}", r.body);
}

fn standard(app: &TestApp) -> Value {
    let r = app.get(API).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().contains("json"));
    r.json().unwrap()
}

fn page(app: &TestApp, query: &str) -> Reply {
    let r = app.get(&format!("{PAGE}{query}")).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    r
}

fn verification_limit(standard: &Value, lang: &str) -> String {
    let stage = standard["stages"].as_array().unwrap().iter().find(|s| s["step"] == "verification").unwrap();
    stage["limits"][0]["text"][lang].as_str().unwrap().to_string()
}

/// Text as the page escapes it.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Every limit, closed day and unit of the JSON appears on the page in `lang`.
fn page_says_what_the_json_says(page: &str, standard: &Value, lang: &str) {
    for stage in standard["stages"].as_array().unwrap() {
        assert!(page.contains(&esc(stage["label"][lang].as_str().unwrap())), "{}: {page}", stage["label"]);
        for limit in stage["limits"].as_array().unwrap() {
            assert!(page.contains(limit["text"][lang].as_str().unwrap()), "{limit}");
        }
    }
    for day in standard["calendar"]["days_off"].as_array().unwrap() {
        let name = esc(day["name"].as_str().unwrap());
        assert!(page.contains(&name), "{name}");
    }
    for unit in standard["units"].as_array().unwrap() {
        assert!(page.contains(&esc(unit["name"].as_str().unwrap())), "{}", unit["name"]);
    }
    assert!(page.contains(standard["version"].as_str().unwrap()));
}

#[test]
fn the_service_standard_follows_the_sla_rules_and_calendar_an_administrator_just_saved() {
    let app = TestApp::spawn().unwrap();
    let before = standard(&app);
    assert_eq!(verification_limit(&before, "id"), "paling lambat 3 hari kerja");
    assert!(
        before["versions"].as_array().unwrap().iter().all(|v| v["source"] == "seed"),
        "{}",
        before["versions"]
    );
    page_says_what_the_json_says(&page(&app, "").body, &before, "id");

    // The administrator shortens verification to 2 working days and adds a regional holiday.
    let rules = document(&app, "sla-rules");
    assert!(rules.contains("step = \"verification\"\nduration = 3\n"), "the seed's verification row moved");
    save(
        &app,
        "sla-rules",
        &rules.replacen(
            "step = \"verification\"\nduration = 3\n",
            "step = \"verification\"\nduration = 2\n",
            1,
        ),
    );
    let calendar = document(&app, "calendar");
    let end = calendar.rfind(']').unwrap();
    let holiday = "  { date = 2027-07-01, kind = \"holiday\", name = \"Hari Jadi Kota Mataram (uji)\", \
                   regions = [\"52.71\"], confirmed = true },\n";
    save(&app, "calendar", &format!("{}{holiday}{}", &calendar[..end], &calendar[end..]));

    // Right after, the JSON and the page both say so, in both languages.
    let after = standard(&app);
    assert_eq!(verification_limit(&after, "id"), "paling lambat 2 hari kerja");
    assert_eq!(verification_limit(&after, "en"), "within 2 working days");
    let day = after["calendar"]["days_off"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2027-07-01")
        .unwrap_or_else(|| panic!("the new holiday is missing: {}", after["calendar"]));
    assert_eq!(day["name"], "Hari Jadi Kota Mataram (uji)");
    assert_eq!(day["regions"][0], "Kota Mataram");
    let version = |s: &Value, doc: &str| {
        s["versions"].as_array().unwrap().iter().find(|v| v["document"] == doc).unwrap().clone()
    };
    for doc in ["sla-rules", "calendar"] {
        assert_eq!(version(&after, doc)["source"], "administrator", "{doc}");
        assert_ne!(version(&after, doc)["fingerprint"], version(&before, doc)["fingerprint"], "{doc}");
    }
    assert_eq!(version(&after, "directory"), version(&before, "directory"));
    assert_ne!(after["version"], before["version"]);

    let id = page(&app, "").body;
    assert!(id.contains("<html lang=\"id\""));
    assert!(id.contains("paling lambat 2 hari kerja") && !id.contains("paling lambat 3 hari kerja"), "{id}");
    assert!(id.contains("1 Juli 2027 — Hari Jadi Kota Mataram (uji)"), "{id}");
    page_says_what_the_json_says(&id, &after, "id");
    let en = page(&app, "?lang=en").body;
    assert!(en.contains("<html lang=\"en\""));
    assert!(en.contains("within 2 working days"), "{en}");
    page_says_what_the_json_says(&en, &after, "en");
}

#[test]
fn the_service_standard_is_public_read_only_and_fits_a_phone() {
    let app = TestApp::spawn().unwrap();
    let s = standard(&app);
    let privacy: Vec<&str> =
        s["privacy"].as_array().unwrap().iter().map(|p| p["privacy"].as_str().unwrap()).collect();
    assert_eq!(privacy, ["public", "anonymous", "confidential"]);
    assert_eq!(s["channels"].as_array().unwrap().len(), 10);
    assert!(s["units"].as_array().unwrap().iter().any(|u| u["unit"] == "ptam-giri-menang"), "{}", s["units"]);
    let body = page(&app, "").body;
    assert!(body.contains("width=device-width"), "a phone must not render it at desktop width");
    assert!(!body.contains("<table"), "tables scroll sideways on a 360-px screen");
    assert!(body.contains("Rahasia") && body.contains("Anonim") && body.contains("WhatsApp"));
    let r = app.post_raw(PAGE, "text/plain", b"", &[]).unwrap();
    assert_eq!(r.status, 405, "{}", r.body);
    let r = app.post_raw(API, "application/json", b"{}", &[]).unwrap();
    assert_eq!(r.status, 405, "{}", r.body);
}
