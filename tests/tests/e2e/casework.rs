//! Officers and the case lifecycle, through the built casework component.

use ntbcare_tests::{Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

struct Desk {
    app: TestApp,
}

impl Desk {
    fn open() -> Desk {
        let desk = Desk { app: TestApp::spawn().unwrap() };
        for (username, role, unit) in [
            ("koordinator", "provincial-coordinator", None),
            ("mataram", "liaison-officer", Some("pemkot-mataram")),
            ("dikes", "liaison-officer", Some("dikes")),
            ("inspektur", "inspectorate", None),
        ] {
            let r = desk.register(username, role, unit);
            assert_eq!(r.status, 201, "{}", r.body);
        }
        desk
    }

    fn register(&self, username: &str, role: &str, unit: Option<&str>) -> Reply {
        let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                          "password": "kata-sandi-panjang"});
        self.app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap()
    }

    fn sign_in(&self, username: &str) -> String {
        let r = self
            .app
            .post_json("/api/v1/sessions", &json!({"username": username, "password": "kata-sandi-panjang"}))
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.json().unwrap()["token"].as_str().unwrap().to_string()
    }

    fn submit(&self, body: Value) -> String {
        let r = self.app.post_json("/api/v1/complaints", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.json().unwrap()["ticket"].as_str().unwrap().to_string()
    }

    fn act(&self, token: &str, ticket: &str, action: Value) -> Reply {
        self.app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap()
    }
}

fn road_in_mataram() -> Value {
    json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71", "category": "infrastruktur",
           "privacy": "confidential", "reporter": {"name": "Lalu Kanari", "phone": "081299990000"}})
}

const ANSWER: &str =
    "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";

fn code(r: &Reply) -> String {
    r.json().map(|v| v["error"]["code"].as_str().unwrap_or("").to_string()).unwrap_or_default()
}

#[test]
fn a_case_is_verified_dispatched_accepted_and_answered_by_the_right_people() {
    let desk = Desk::open();
    let ticket = desk.submit(road_in_mataram());
    let coordinator = desk.sign_in("koordinator");
    let mataram = desk.sign_in("mataram");
    let dikes = desk.sign_in("dikes");

    // The coordinator sees it in triage with the unit routing proposed.
    let triage = desk.app.get_as(&coordinator, "/api/v1/cases").unwrap().json().unwrap();
    assert_eq!(triage["cases"][0]["ticket"], ticket.as_str(), "{triage}");
    assert_eq!(triage["cases"][0]["unit"], "pemkot-mataram");

    // A unit cannot verify; the coordinator verifies and dispatches.
    assert_eq!(desk.act(&mataram, &ticket, json!({"action": "verify"})).status, 403);
    assert_eq!(
        desk.act(&coordinator, &ticket, json!({"action": "verify", "title": "Jalan berlubang"})).status,
        200
    );
    let r = desk.act(&coordinator, &ticket, json!({"action": "dispatch"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["to"], "dispatched");

    // Another unit can neither read nor act on it.
    assert_eq!(desk.app.get_as(&dikes, &format!("/api/v1/cases/{ticket}")).unwrap().status, 403);
    let r = desk.act(&dikes, &ticket, json!({"action": "accept"}));
    assert_eq!((r.status, code(&r)), (403, "forbidden".into()));
    assert_eq!(desk.app.get_as(&dikes, "/api/v1/cases").unwrap().json().unwrap()["count"], 0);

    // The unit sees it in its queue, never with the confidential reporter's identity.
    let queue = desk.app.get_as(&mataram, "/api/v1/cases").unwrap();
    assert_eq!(queue.json().unwrap()["cases"][0]["ticket"], ticket.as_str(), "{}", queue.body);
    let case = desk.app.get_as(&mataram, &format!("/api/v1/cases/{ticket}")).unwrap();
    assert_eq!(case.status, 200);
    for canary in ["Kanari", "81299990000"] {
        assert!(!case.body.contains(canary) && !queue.body.contains(canary), "{canary} shown to an agency");
    }

    // Answering before accepting is a conflict that says why.
    let r = desk.act(&mataram, &ticket, json!({"action": "respond", "answer": ANSWER}));
    assert_eq!((r.status, code(&r)), (409, "invalid-transition".into()));
    assert!(r.json().unwrap()["error"]["message"].as_str().unwrap().contains("accept"), "{}", r.body);

    assert_eq!(desk.act(&mataram, &ticket, json!({"action": "accept"})).status, 200);
    let thin = desk.act(
        &mataram,
        &ticket,
        json!({"action": "respond", "answer": "Terima kasih, sudah ditindaklanjuti."}),
    );
    assert_eq!((thin.status, code(&thin)), (422, "invalid-action".into()), "{}", thin.body);
    let r = desk.act(
        &mataram,
        &ticket,
        json!({"action": "respond", "answer": ANSWER, "internal_note": "catatan dalam"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // The citizen's tracking page shows the answer; a confidential case shows only status.
    let public = desk.app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    assert_eq!(public["status"], "responded");
    assert!(!public.to_string().contains("catatan dalam"));

    // The inspectorate reads but does not act.
    let insp = desk.sign_in("inspektur");
    assert_eq!(desk.app.get_as(&insp, &format!("/api/v1/cases/{ticket}")).unwrap().status, 200);
    assert_eq!(desk.act(&insp, &ticket, json!({"action": "close"})).status, 403);

    // Reports follow the case.
    let summary = desk.app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["by_status"]["responded"], 1, "{summary}");
    assert_eq!(summary["by_status"]["received"], 0, "{summary}");
}

#[test]
fn public_history_shows_public_notes_and_never_internal_ones() {
    let desk = Desk::open();
    let mut body = road_in_mataram();
    body["privacy"] = json!("anonymous");
    let ticket = desk.submit(body);
    let coordinator = desk.sign_in("koordinator");
    let mataram = desk.sign_in("mataram");
    desk.act(&coordinator, &ticket, json!({"action": "verify"}));
    desk.act(&coordinator, &ticket, json!({"action": "dispatch", "internal_note": "prioritaskan"}));
    desk.act(&mataram, &ticket, json!({"action": "accept"}));
    let r = desk.act(
        &mataram,
        &ticket,
        json!({"action": "respond", "answer": ANSWER, "internal_note": "anggaran terbatas"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let view = desk.app.get(&format!("/api/v1/complaints/{ticket}")).unwrap();
    assert!(view.body.contains("sudah ditambal"), "{}", view.body);
    for internal in ["anggaran terbatas", "prioritaskan", "mataram\""] {
        assert!(!view.body.contains(internal), "{internal} is public: {}", view.body);
    }
    // Officers see the internal notes.
    let case = desk.app.get_as(&mataram, &format!("/api/v1/cases/{ticket}")).unwrap();
    assert!(case.body.contains("anggaran terbatas"));
}

#[test]
fn a_unit_forwards_what_is_not_theirs_back_to_the_coordinator() {
    let desk = Desk::open();
    let ticket = desk.submit(road_in_mataram());
    let coordinator = desk.sign_in("koordinator");
    let mataram = desk.sign_in("mataram");
    desk.act(&coordinator, &ticket, json!({"action": "verify"}));
    desk.act(&coordinator, &ticket, json!({"action": "dispatch"}));
    let r = desk.act(
        &mataram,
        &ticket,
        json!({"action": "forward", "reason": "jalan provinsi", "suggested_unit": "pupr"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Gone from the unit's queue, back with the coordinator.
    assert_eq!(desk.app.get_as(&mataram, "/api/v1/cases").unwrap().json().unwrap()["count"], 0);
    let triage = desk.app.get_as(&coordinator, "/api/v1/cases").unwrap().json().unwrap();
    assert_eq!(triage["cases"][0]["status"], "forwarded", "{triage}");
    let r = desk.act(&coordinator, &ticket, json!({"action": "dispatch"}));
    assert_eq!(r.json().unwrap()["case"]["unit"], "pupr");
}

#[test]
fn officers_are_authenticated_and_sessions_end() {
    let desk = Desk::open();
    assert_eq!(desk.app.get("/api/v1/cases").unwrap().status, 401);
    assert_eq!(desk.app.get_as("forged.token", "/api/v1/cases").unwrap().status, 401);
    let wrong = desk
        .app
        .post_json("/api/v1/sessions", &json!({"username": "mataram", "password": "salah-salah-salah"}))
        .unwrap();
    assert_eq!((wrong.status, code(&wrong)), (401, "wrong-credentials".into()));
    let token = desk.sign_in("mataram");
    let me = desk.app.get_as(&token, "/api/v1/sessions/current").unwrap().json().unwrap();
    assert_eq!((me["role"].as_str(), me["unit"].as_str()), (Some("liaison-officer"), Some("pemkot-mataram")));
    // Officers cannot manage accounts; a taken username is a conflict.
    assert_eq!(desk.app.get_as(&token, "/api/v1/officers").unwrap().status, 403);
    assert_eq!(desk.register("mataram", "liaison-officer", Some("pemkot-mataram")).status, 409);
    let bad = desk.register("tanpa-unit", "liaison-officer", None);
    assert_eq!((bad.status, code(&bad)), (422, "invalid-officer".into()));
    assert_eq!(desk.app.delete_as(&token, "/api/v1/sessions/current").unwrap().status, 204);
    assert_eq!(desk.app.get_as(&token, "/api/v1/cases").unwrap().status, 401);
}
