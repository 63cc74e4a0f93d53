//! Coordinates to region: an Open311 request with a position but no region code is placed in
//! its regency/city from the boundary data compiled into the built intake component.

use ntbcare_tests::{AppConfig, Reply, TestApp};
use serde_json::Value;

const OPEN311_KEY: &str = "kunci-koordinat-uji";

fn app() -> TestApp {
    TestApp::spawn_with(
        AppConfig::ntbcare().env("SPIN_VARIABLE_OPEN311_API_KEYS", &format!("pemetaan:{OPEN311_KEY}")),
    )
    .unwrap()
}

/// Files an Open311 request at `lat`,`long` with no region, and reads it back.
fn file_at(app: &TestApp, lat: &str, long: &str, lang: &str) -> (Value, Value) {
    let form = format!(
        "api_key={OPEN311_KEY}&service_code=infrastruktur&lat={lat}&long={long}\
         &description=Jalan+berlubang+besar+di+depan+pasar"
    );
    let r: Reply = app
        .post_raw(
            "/open311/v2/requests.json",
            "application/x-www-form-urlencoded",
            form.as_bytes(),
            &[("accept-language", lang)],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json().unwrap()[0].clone();
    let id = answer["service_request_id"].as_str().unwrap().to_string();
    let one = app.get(&format!("/open311/v2/requests/{id}.json")).unwrap();
    assert_eq!(one.status, 200, "{}", one.body);
    (answer, one.json().unwrap()[0].clone())
}

#[test]
fn an_open311_position_without_a_region_is_placed_in_its_regency() {
    let app = app();
    // Bandara Internasional Lombok, in Lombok Tengah; Kota Bima just north of its border
    // with Bima regency, and Bima regency just south of it.
    for (lat, long, code) in
        [("-8.7573", "116.2767", "52.02"), ("-8.505", "118.75", "52.72"), ("-8.535", "118.75", "52.06")]
    {
        let (answer, request) = file_at(&app, lat, long, "id");
        assert_eq!(request["address_id"], code, "{lat},{long}: {request}");
        let notice = answer["service_notice"].as_str().unwrap();
        assert!(notice.contains("ditentukan dari titik lokasi"), "{notice}");
        assert!(!notice.contains("koordinator Provinsi"), "{notice}");
    }
}

#[test]
fn an_open311_position_in_the_sea_stays_with_the_provincial_triage() {
    let app = app();
    // The Alas Strait between Lombok and Sumbawa: inside NTB, in no regency.
    let (answer, request) = file_at(&app, "-8.45", "116.78", "en");
    assert_eq!(request["address_id"], "52", "{request}");
    let notice = answer["service_notice"].as_str().unwrap();
    assert!(notice.contains("Province's coordinator"), "{notice}");
}
