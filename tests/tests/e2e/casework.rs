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
        self.app.sign_in(username, "kata-sandi-panjang")
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

/// Walk a case to an answer and give back the complainant's tracking secret.
fn answered(desk: &Desk) -> (String, String) {
    let r = desk.app.post_json("/api/v1/complaints", &road_in_mataram()).unwrap();
    let created = r.json().unwrap();
    let (ticket, secret) = (
        created["ticket"].as_str().unwrap().to_string(),
        created["tracking_secret"].as_str().unwrap().to_string(),
    );
    let coordinator = desk.sign_in("koordinator");
    let mataram = desk.sign_in("mataram");
    desk.act(&coordinator, &ticket, json!({"action": "verify"}));
    desk.act(&coordinator, &ticket, json!({"action": "dispatch"}));
    desk.act(&mataram, &ticket, json!({"action": "accept"}));
    let r = desk.act(&mataram, &ticket, json!({"action": "respond", "answer": ANSWER}));
    assert_eq!(r.status, 200, "{}", r.body);
    (ticket, secret)
}

fn rate(desk: &Desk, ticket: &str, secret: &str, body: Value) -> Reply {
    desk.app
        .post_raw(
            &format!("/api/v1/complaints/{ticket}/rating"),
            "application/json",
            body.to_string().as_bytes(),
            &[("x-tracking-secret", secret)],
        )
        .unwrap()
}

#[test]
fn a_low_rating_reopens_the_case_to_the_same_unit_and_a_good_one_closes_it() {
    let desk = Desk::open();
    let (ticket, secret) = answered(&desk);
    // The complainant's own view, with the secret, shows the answer and may rate.
    let own = desk
        .app
        .get_with(&format!("/api/v1/complaints/{ticket}"), &[("x-tracking-secret", &secret)])
        .unwrap();
    let own = own.json().unwrap();
    assert_eq!(own["answers"][0]["text"], ANSWER);
    assert_eq!(own["can_rate"], true);
    // Someone without the secret cannot rate.
    assert_eq!(rate(&desk, &ticket, "tebakan", json!({"score": 1, "resolved": "no"})).status, 403);
    let bad = rate(&desk, &ticket, &secret, json!({"score": 9, "resolved": "no"}));
    assert_eq!(bad.status, 422, "{}", bad.body);

    let r =
        rate(&desk, &ticket, &secret, json!({"score": 2, "resolved": "no", "comment": "Masih berlubang"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["status"], "reopened");
    // Back in the same unit's queue, one priority higher.
    let mataram = desk.sign_in("mataram");
    let case = desk.app.get_as(&mataram, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap();
    assert_eq!((case["status"].as_str(), case["unit"].as_str()), (Some("reopened"), Some("pemkot-mataram")));
    assert_eq!(case["case"]["priority"], "important");
    assert_eq!(case["deadline"]["step"], "first-response", "{case}");

    desk.act(&mataram, &ticket, json!({"action": "accept"}));
    let again =
        "Tim kembali ke lokasi pada hari Rabu dan menambal ulang lubang dengan aspal panas sesuai standar.";
    assert_eq!(desk.act(&mataram, &ticket, json!({"action": "respond", "answer": again})).status, 200);
    let r = rate(&desk, &ticket, &secret, json!({"score": 5, "resolved": "yes"}));
    assert_eq!(r.json().unwrap()["status"], "closed", "{}", r.body);
    // A closed case cannot be rated again.
    assert_eq!(rate(&desk, &ticket, &secret, json!({"score": 1, "resolved": "no"})).status, 409);
    let summary = desk.app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["by_status"]["closed"], 1, "{summary}");
    assert_eq!(summary["by_status"]["reopened"], 0, "{summary}");
}

#[test]
fn asking_for_information_waits_for_the_complainants_reply() {
    let desk = Desk::open();
    let r = desk.app.post_json("/api/v1/complaints", &road_in_mataram()).unwrap().json().unwrap();
    let (ticket, secret) =
        (r["ticket"].as_str().unwrap().to_string(), r["tracking_secret"].as_str().unwrap().to_string());
    let coordinator = desk.sign_in("koordinator");
    let mataram = desk.sign_in("mataram");
    desk.act(&coordinator, &ticket, json!({"action": "verify"}));
    desk.act(&coordinator, &ticket, json!({"action": "dispatch"}));
    desk.act(&mataram, &ticket, json!({"action": "accept"}));
    let q = desk.act(
        &mataram,
        &ticket,
        json!({"action": "request-information", "question": "Di RT berapa lokasinya?"}),
    );
    assert_eq!(q.status, 200, "{}", q.body);
    let own = desk
        .app
        .get_with(&format!("/api/v1/complaints/{ticket}"), &[("x-tracking-secret", &secret)])
        .unwrap();
    assert_eq!(own.json().unwrap()["question"], "Di RT berapa lokasinya?");
    let reply = desk
        .app
        .post_raw(
            &format!("/api/v1/complaints/{ticket}/information"),
            "application/json",
            json!({"text": "RT 03, depan warung Bu Sri"}).to_string().as_bytes(),
            &[("x-tracking-secret", &secret)],
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json().unwrap().get("question").is_none());
    let case = desk.app.get_as(&mataram, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap();
    assert_eq!(case["case"]["follow_ups"][0]["text"], "RT 03, depan warung Bu Sri");
    assert_eq!(case["case"]["pauses"].as_array().unwrap().len(), 1);

    // A second question gets its own answer: a web reply has no provider id, and must not be
    // taken for a redelivery of the first (it was dropped while the citizen was told 200).
    desk.act(
        &mataram,
        &ticket,
        json!({"action": "request-information", "question": "Sejak kapan berlubang?"}),
    );
    let answer = |text: &str| {
        desk.app
            .post_raw(
                &format!("/api/v1/complaints/{ticket}/information"),
                "application/json",
                json!({ "text": text }).to_string().as_bytes(),
                &[("x-tracking-secret", &secret)],
            )
            .unwrap()
    };
    assert_eq!(answer("Sejak awal bulan, setelah hujan deras").status, 200);
    // The same reply sent twice (a double tap) is kept once.
    assert_eq!(answer("Sejak awal bulan, setelah hujan deras").status, 200);
    let case = desk.app.get_as(&mataram, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap();
    let texts: Vec<&str> =
        case["case"]["follow_ups"].as_array().unwrap().iter().map(|f| f["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["RT 03, depan warung Bu Sri", "Sejak awal bulan, setelah hujan deras"]);
    assert_eq!(case["case"]["pauses"].as_array().unwrap().len(), 2, "the second pause ended too");
}

fn sweep(desk: &Desk, as_of: &str) -> Value {
    let r = desk
        .app
        .post_json_as(TEST_ADMIN_TOKEN, &format!("/api/v1/cases/sweep?as_of={as_of}"), &json!({}))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().unwrap()
}

#[test]
fn the_sweep_escalates_an_overdue_case_once_per_level() {
    let desk = Desk::open();
    let ticket = desk.submit(road_in_mataram());
    // Nothing is due today.
    assert_eq!(sweep(&desk, &ntbcare_tests::rfc3339_days_from_now(0))["escalated"], 0);
    // A month later the unverified complaint is long past its 3 working days: late.
    let later = ntbcare_tests::rfc3339_days_from_now(30);
    let report = sweep(&desk, &later);
    assert_eq!((report["examined"].as_i64(), report["escalated"].as_i64()), (Some(1), Some(1)), "{report}");
    assert_eq!(sweep(&desk, &later)["escalated"], 0, "a level is raised once");
    let coordinator = desk.sign_in("koordinator");
    let case = desk.app.get_as(&coordinator, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap();
    let last = case["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "escalate", "{case}");
    assert!(last["internal_note"].as_str().unwrap().contains("Inspektorat"), "{last}");
    // The public never sees escalations' internal notes.
    let public = desk.app.get(&format!("/api/v1/complaints/{ticket}")).unwrap();
    assert!(!public.body.contains("Inspektorat"));
    // Only the scheduler or an administrator may sweep.
    let officer = desk.app.post_json_as(&coordinator, "/api/v1/cases/sweep", &json!({})).unwrap();
    assert_eq!(officer.status, 401);
}

#[test]
fn an_answer_closes_by_itself_only_once_the_unit_reports_the_follow_up_done() {
    let desk = Desk::open();
    let (ticket, secret) = answered(&desk);
    let mataram = desk.sign_in("mataram");
    // Answered is not done: the completion step runs, and the sweep escalates it, never
    // closes it.
    let case = desk.app.get_as(&mataram, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap();
    assert_eq!(case["deadline"]["step"], "completion", "{case}");
    let report = sweep(&desk, &ntbcare_tests::rfc3339_days_from_now(40));
    assert_eq!((report["closed"].as_i64(), report["escalated"].as_i64()), (Some(0), Some(1)), "{report}");
    // A report that does not say what was done is refused, saying what is missing.
    let thin = desk.act(&mataram, &ticket, json!({"action": "complete", "report": "Sudah selesai."}));
    assert_eq!((thin.status, code(&thin)), (422, "invalid-action".into()), "{}", thin.body);
    assert!(thin.body.contains("when it was done"), "{}", thin.body);
    let done =
        "Tim PUPR Kota Mataram menambal lubang di depan SDN 3 dengan aspal panas pada hari Senin pagi.";
    let r = desk.act(&mataram, &ticket, json!({"action": "complete", "report": done}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["case"]["deadline"]["step"], "auto-close");
    // The complainant reads what was done on their tracking page.
    let own = desk
        .app
        .get_with(&format!("/api/v1/complaints/{ticket}"), &[("x-tracking-secret", &secret)])
        .unwrap();
    assert!(own.body.contains("aspal panas pada hari Senin"), "{}", own.body);
    assert!(own.json().unwrap()["completed_at"].is_string(), "{}", own.body);
    let report = sweep(&desk, &ntbcare_tests::rfc3339_days_from_now(40));
    assert_eq!(report["closed"], 1, "{report}");
    let public = desk.app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    assert_eq!(public["status"], "closed");
}

fn put_document(desk: &Desk, name: &str, text: &str) -> Reply {
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    ntbcare_tests::put_raw(
        &desk.app,
        &format!("/api/v1/admin/{name}"),
        "application/toml",
        text.as_bytes(),
        &[("authorization", &auth)],
    )
    .unwrap()
}

#[test]
fn an_administrator_changes_the_routing_rules_and_new_complaints_follow_them() {
    let desk = Desk::open();
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    let current = desk.app.get_with("/api/v1/admin/routing-rules", &[("authorization", &auth)]).unwrap();
    assert_eq!(current.status, 200);
    assert!(current.body.contains("lokal-mataram"));
    // A rule naming a unit that does not exist is refused, and nothing changes.
    let bad = put_document(
        &desk,
        "routing-rules",
        "[[rule]]\nid = \"x\"\ncategories = \"*\"\nregions = \"*\"\nunit = \"dinas-hantu\"\n",
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.json().unwrap()["error"]["message"].as_str().unwrap().contains("dinas-hantu"));
    // Everything to Diskominfotik from now on.
    let all = "[[rule]]\nid = \"semua-ke-kominfo\"\ncategories = \"*\"\nregions = \"*\"\nunit = \"diskominfotik\"\n";
    assert_eq!(put_document(&desk, "routing-rules", all).status, 200);
    let r = desk.app.post_json("/api/v1/complaints", &road_in_mataram()).unwrap().json().unwrap();
    assert_eq!(r["unit"], "diskominfotik", "{r}");
    // Officers cannot change the rules.
    let officer = desk.sign_in("koordinator");
    let r = ntbcare_tests::put_raw(
        &desk.app,
        "/api/v1/admin/routing-rules",
        "application/toml",
        all.as_bytes(),
        &[("authorization", &format!("Bearer {officer}"))],
    )
    .unwrap();
    assert_eq!(r.status, 403);
}

#[test]
fn an_administrator_edits_the_holiday_calendar_and_a_broken_one_is_refused() {
    let desk = Desk::open();
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    let calendar = desk.app.get_with("/api/v1/admin/calendar", &[("authorization", &auth)]).unwrap().body;
    assert!(calendar.contains("2026"), "{calendar}");
    let broken = put_document(&desk, "calendar", "[[day]]\ndate = \"2026-02-30\"\n");
    assert_eq!(broken.status, 422, "{}", broken.body);
    assert_eq!(put_document(&desk, "calendar", &calendar).status, 200);
}

#[test]
fn the_cron_trigger_runs_the_escalation_sweep() {
    // spin.toml plus a schedule firing every second, sources made absolute so the manifest
    // can live in the test's own directory.
    let root = ntbcare_tests::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(root.join("spin.toml"))
        .unwrap()
        .replace("source = \"target/", &format!("source = \"{}/target/", root.display()));
    let fast = format!(
        "{manifest}\n[[trigger.cron]]\ncomponent = \"casework\"\ncron_expression = \"* * * * * *\"\n"
    );
    let path = dir.path().join("spin-cron.toml");
    std::fs::write(&path, fast).unwrap();
    let mut config = ntbcare_tests::AppConfig::ntbcare();
    config.manifest = path;
    let app = TestApp::spawn_with(config).unwrap();
    app.post_json("/api/v1/complaints", &road_in_mataram()).unwrap();
    let ran = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        app.log()
            .iter()
            .any(|l| l.contains("[casework]") && l.contains("sweep:") && l.contains("\"examined\":1"))
    });
    assert!(ran, "no sweep ran:\n{}", app.log().join("\n"));
}

#[test]
fn an_administrator_deactivates_an_officer_and_issues_an_integration_token() {
    let desk = Desk::open();
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    // An API token acts as the officer until revoked.
    let r = desk
        .app
        .post_raw(
            "/api/v1/officers/mataram/api-tokens",
            "application/json",
            b"{}",
            &[("authorization", &auth)],
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let api_token = r.json().unwrap()["token"].as_str().unwrap().to_string();
    assert_eq!(desk.app.get_as(&api_token, "/api/v1/cases").unwrap().status, 200);
    // Deactivated: no new sign-in.
    let r = ntbcare_tests::patch_raw(
        &desk.app,
        "/api/v1/officers/dikes",
        br#"{"active": false}"#,
        &[("authorization", &auth)],
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().unwrap()["active"], false);
    let refused = desk
        .app
        .post_json("/api/v1/sessions", &json!({"username": "dikes", "password": "kata-sandi-panjang"}))
        .unwrap();
    assert_eq!(refused.status, 401);
    // A role that needs a unit cannot lose it.
    let r = ntbcare_tests::patch_raw(
        &desk.app,
        "/api/v1/officers/mataram",
        br#"{"unit": null}"#,
        &[("authorization", &auth)],
    )
    .unwrap();
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        ntbcare_tests::patch_raw(&desk.app, "/api/v1/officers/hantu", b"{}", &[("authorization", &auth)])
            .unwrap()
            .status,
        404
    );
}

#[test]
fn the_inspectorate_lists_everything_overdue() {
    let desk = Desk::open();
    let ticket = desk.submit(road_in_mataram());
    let inspektur = desk.sign_in("inspektur");
    let now = desk.app.get_as(&inspektur, "/api/v1/cases?queue=overdue").unwrap().json().unwrap();
    assert_eq!(now["count"], 0, "nothing is overdue yet: {now}");
    let officer = desk.sign_in("mataram");
    assert_eq!(desk.app.get_as(&officer, "/api/v1/cases?queue=overdue").unwrap().status, 400);
    let _ = ticket;
}
