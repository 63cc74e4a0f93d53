//! Functions deployed apart (issue 10): each component in a host process of its own
//! (`--component-id`, as one SpinApp per function on SpinKube), all over one Redis, reaching
//! each other only through the URL variables (`routing_url`, `intake_url`, `casework_url`):
//! `*.spin.internal` does not cross processes. And the client address behind a proxy, which
//! every request of a scaled-out deployment passes through. scripts/rehearse does the same
//! under load with nginx in front.

use ntbcare_tests::{AppConfig, TestApp};
use serde_json::{json, Value};

use crate::portal::{file, road, Visitor};
use crate::spin_conformance::Redis;

/// One function alone in its process, its stores on `redis` (db 0 `default`, db 1 `identity`).
fn alone(redis: &Redis, component: &str, env: &[(&str, &str)]) -> TestApp {
    let mut config = AppConfig::ntbcare();
    config.runtime_config = Some(format!(
        "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n\n\
         [key_value_store.identity]\ntype = \"redis\"\nurl = \"{}\"\n",
        redis.url(0),
        redis.url(1)
    ));
    config.extra_args = vec!["--component-id".into(), component.into()];
    for (k, v) in env {
        config = config.env(k, v);
    }
    TestApp::spawn_with(config).unwrap()
}

fn health_complaint(phone: &str) -> Value {
    json!({"description": "Puskesmas tutup sejak pagi, pasien menunggu di luar.", "region_code": "52.71",
           "category": "kesehatan", "privacy": "public", "reporter": {"name": "Baiq Nurul", "phone": phone}})
}

#[test]
fn each_function_in_its_own_process_routes_counts_and_shows_a_complaint() {
    let Some(redis) = Redis::start().unwrap() else { return };
    let routing = alone(&redis, "routing", &[]);
    let intake = alone(&redis, "intake", &[("SPIN_VARIABLE_ROUTING_URL", &routing.base_url)]);
    let reporting = alone(&redis, "reporting", &[]);
    let casework = alone(&redis, "casework", &[]);
    // Spin refuses to serve the portal alone while a URL is still `*.spin.internal`.
    let portal = alone(
        &redis,
        "portal",
        &[("SPIN_VARIABLE_INTAKE_URL", &intake.base_url), ("SPIN_VARIABLE_CASEWORK_URL", &casework.base_url)],
    );

    let r = intake.post_json("/api/v1/complaints", &health_complaint("081234567001")).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let answer = r.json().unwrap();
    // Routing's process decided (its rule for health); unreachable, it would be triage (null).
    assert_eq!(answer["unit"], "dikes", "{answer}\n{}", intake.log().join("\n"));
    let ticket = answer["ticket"].as_str().unwrap();

    // Each process serves its own function only.
    assert_eq!(intake.get("/api/v1/reports/summary").unwrap().status, 404);
    assert_eq!(reporting.get(&format!("/api/v1/complaints/{ticket}")).unwrap().status, 404);
    // Reporting counts it from the shared store.
    let summary = reporting.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["total"], 1, "{summary}");
    // The portal reads it from intake's process.
    let page = portal.get(&format!("/lacak/{ticket}")).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(ticket), "{}", page.body);
    // Not yet dispatched: the unit routing proposed is the coordinators' guess, not shown.
    assert!(!page.body.contains("Dinas Kesehatan"), "{}", page.body);
    assert!(page.body.contains("menunggu verifikasi petugas"), "{}", page.body);
}

#[test]
fn the_portal_apart_files_for_many_citizens_without_using_up_its_own_address() {
    let Some(redis) = Redis::start().unwrap() else { return };
    // Intake allows one complaint per address; the portal's own limit stays generous.
    let routing = alone(&redis, "routing", &[]);
    let intake = alone(
        &redis,
        "intake",
        &[("SPIN_VARIABLE_RATE_LIMIT_PER_ADDRESS", "1"), ("SPIN_VARIABLE_ROUTING_URL", &routing.base_url)],
    );
    let casework = alone(&redis, "casework", &[]);
    let portal = alone(
        &redis,
        "portal",
        &[("SPIN_VARIABLE_INTAKE_URL", &intake.base_url), ("SPIN_VARIABLE_CASEWORK_URL", &casework.base_url)],
    );

    // Every complaint the portal files reaches intake from the portal's address: counted
    // against it, the second citizen would be refused. The portal presents the internal
    // token, as its limit per citizen address has already been applied.
    for n in 0..3 {
        let phone = format!("08123456780{n}");
        let fields: Vec<(&str, &str)> = road()
            .into_iter()
            .map(|(k, v)| if k == "phone" { (k, phone.as_str()) } else { (k, v) })
            .collect();
        let citizen = Visitor::new(&portal);
        let (ticket, _, _) = file(&citizen, &fields, None);
        assert!(ticket.starts_with("NTB-"), "{ticket}");
    }
    // A direct caller from that same address is still limited.
    assert_eq!(
        intake.post_json("/api/v1/complaints", &health_complaint("081234567002")).unwrap().status,
        201
    );
    let r = intake.post_json("/api/v1/complaints", &health_complaint("081234567003")).unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    // A wrong internal token is only an address like any other.
    let r = intake
        .post_raw(
            "/api/v1/complaints",
            "application/json",
            health_complaint("081234567004").to_string().as_bytes(),
            &[("x-ntbcare-internal-token", "not-the-token")],
        )
        .unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
}

fn post_from(app: &TestApp, address: &str, phone: &str) -> u16 {
    app.post_raw(
        "/api/v1/complaints",
        "application/json",
        health_complaint(phone).to_string().as_bytes(),
        &[("x-real-ip", address)],
    )
    .unwrap()
    .status
}

#[test]
fn behind_a_proxy_the_limit_counts_the_address_the_proxy_forwards() {
    let config = AppConfig::ntbcare()
        .env("SPIN_VARIABLE_RATE_LIMIT_PER_ADDRESS", "1")
        .env("SPIN_VARIABLE_CLIENT_ADDR_HEADER", "x-real-ip");
    let app = TestApp::spawn_with(config).unwrap();
    assert_eq!(post_from(&app, "203.0.113.7", "081234567011"), 201);
    assert_eq!(post_from(&app, "203.0.113.7", "081234567012"), 429);
    // Another citizen behind the same proxy is not refused for the first one's complaint.
    assert_eq!(post_from(&app, "203.0.113.8", "081234567013"), 201);
}

#[test]
fn without_a_configured_proxy_header_a_client_cannot_choose_its_address() {
    let app =
        TestApp::spawn_with(AppConfig::ntbcare().env("SPIN_VARIABLE_RATE_LIMIT_PER_ADDRESS", "1")).unwrap();
    assert_eq!(post_from(&app, "203.0.113.7", "081234567021"), 201);
    assert_eq!(post_from(&app, "203.0.113.8", "081234567022"), 429);
}
