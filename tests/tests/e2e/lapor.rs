//! SP4N-LAPOR! sync, end to end: the built lapor-export component against a fake LAPOR! on
//! loopback (`ntbcare_tests::fake_lapor`) that speaks the integrator's shape and records
//! every byte it is sent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ntbcare_domain::clock::Timestamp;
use ntbcare_tests::fake_lapor::{self, FakeLapor, Mode};
use ntbcare_tests::{AppConfig, Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

const INTERNAL: &str = "test-internal-token";
const HOUR_MS: i64 = 3600 * 1000;

pub(crate) struct Sync {
    pub(crate) app: TestApp,
    pub(crate) lapor: FakeLapor,
}

impl Sync {
    pub(crate) fn start() -> Sync {
        let lapor = FakeLapor::start();
        let mut config = lapor.configure(AppConfig::ntbcare());
        for (name, value) in [
            ("LAPOR_PATH_SEARCH", "/complaints/search?keyword={reference}"),
            ("LAPOR_PATH_INBOX", "/complaints/inbox?disposition_id={institution_id}"),
        ] {
            config = config.env(&format!("SPIN_VARIABLE_{name}"), value);
        }
        Sync { app: TestApp::spawn_with(config).unwrap(), lapor }
    }

    pub(crate) fn submit(&self, body: Value) -> String {
        let r = self.app.post_json("/api/v1/complaints", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.json().unwrap()["ticket"].as_str().unwrap().to_string()
    }

    /// A scheduler's call, with the internal token.
    pub(crate) fn sync(&self) -> Value {
        let r = self
            .app
            .post_raw(
                "/api/v1/lapor/sync",
                "application/json",
                b"{}",
                &[("x-ntbcare-internal-token", INTERNAL)],
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    }

    /// An administrator's call, running the schedule as of `offset_ms` from now.
    pub(crate) fn sync_later(&self, offset_ms: i64) -> Value {
        let at = Timestamp(now_ms() + offset_ms).to_rfc3339_wita().replace('+', "%2B");
        let r = self
            .app
            .post_json_as(TEST_ADMIN_TOKEN, &format!("/api/v1/lapor/sync?as_of={at}"), &json!({}))
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    }

    pub(crate) fn admin_get(&self, path: &str) -> Value {
        let r = self.app.get_as(TEST_ADMIN_TOKEN, path).unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json().unwrap()
    }

    fn entry(&self, ticket: &str) -> Value {
        let ledger = self.admin_get("/api/v1/lapor/ledger");
        ledger["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["ticket"] == ticket)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn case(&self, ticket: &str) -> Value {
        self.admin_get(&format!("/api/v1/cases/{ticket}"))
    }

    pub(crate) fn creates(&self) -> usize {
        self.lapor
            .requests("POST", "/complaints/complaint")
            .iter()
            .filter(|r| r.path == "/complaints/complaint")
            .count()
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn road(privacy: &str) -> Value {
    json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71", "category": "infrastruktur",
           "privacy": privacy,
           "reporter": {"name": "Lalu Kanari Rahasia", "phone": "081299990000", "email": "kanari@example.org"}})
}

#[test]
fn a_confidential_complaint_is_created_once_across_retries_and_restarts_and_names_nobody() {
    let mut s = Sync::start();
    let ticket = s.submit(road("confidential"));
    let pending = s.admin_get("/api/v1/lapor/pending");
    assert_eq!(pending["pending"], 1, "{pending}");

    let report = s.sync();
    assert_eq!(report["exported"], 1, "{report}");
    s.sync();
    s.app.restart().unwrap();
    s.sync();
    s.sync_later(2 * HOUR_MS);
    assert_eq!(s.creates(), 1, "created exactly once");

    let created = &s.lapor.requests("POST", "/complaints/complaint")[0];
    let body = created.json();
    assert_eq!(
        (body["is_secret"].as_bool(), body["is_anonymous"].as_bool()),
        (Some(true), Some(true)),
        "{body}"
    );
    assert_eq!((body["category_id"].as_str(), body["location_id"].as_str()), (Some("436"), Some("3471")));
    assert_eq!(body["disposition_id"].as_str(), Some(fake_lapor::NTB_INSTITUTION));
    assert!(body["content"].as_str().unwrap().contains(&ticket));
    // The identity never leaves NTB Care, in any request to LAPOR!.
    let everything = s.lapor.all_bytes();
    for canary in ["Kanari", "81299990000", "kanari@example.org"] {
        assert!(!everything.contains(canary), "{canary} was sent to LAPOR!");
    }
    let entry = s.entry(&ticket);
    assert_eq!(
        (entry["state"].as_str(), entry["lapor_id"].as_str()),
        (Some("linked"), Some("90000")),
        "{entry}"
    );
    assert_eq!(s.admin_get("/api/v1/lapor/pending")["pending"], 0);
}

#[test]
fn a_create_whose_answer_timed_out_is_found_by_ticket_and_not_created_again() {
    let s = Sync::start();
    let ticket = s.submit(road("anonymous"));
    s.lapor.set_mode(Mode::SlowCreate(Duration::from_millis(2500)));
    let report = s.sync();
    assert_eq!((report["exported"].as_u64(), report["outage"].as_bool()), (Some(0), Some(true)), "{report}");
    assert_eq!(s.entry(&ticket)["state"], "uncertain");
    s.lapor.set_mode(Mode::Up);
    // Retried too soon, nothing happens; after the backoff it looks before creating.
    assert_eq!(s.sync()["found_by_search"], 0);
    let report = s.sync_later(2 * 60 * 1000);
    assert_eq!(
        (report["found_by_search"].as_u64(), report["exported"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(s.lapor.complaints().len(), 1, "one complaint on LAPOR!");
    assert_eq!(s.creates(), 1);
    assert_eq!(s.entry(&ticket)["lapor_id"], "90000");
}

#[test]
fn an_outage_loses_and_duplicates_nothing_backs_off_and_is_listed_for_the_administrator() {
    let s = Sync::start();
    let a = s.submit(road("anonymous"));
    let b = s.submit(road("public"));
    s.lapor.set_mode(Mode::Unavailable);
    let mut offset = 0;
    for attempt in 1..=3 {
        let report = s.sync_later(offset);
        assert_eq!(
            (report["outage"].as_bool(), report["failures"].as_u64()),
            (Some(true), Some(1)),
            "{report}"
        );
        let e = s.entry(&a);
        assert_eq!((e["state"].as_str(), e["attempts"].as_u64()), (Some("queued"), Some(attempt)), "{e}");
        // The next try waits: 1, 2, 4 minutes.
        offset += 60_000 << (attempt - 1);
    }
    let failures = s.admin_get("/api/v1/lapor/failures");
    assert_eq!(failures["count"], 1, "{failures}");
    assert_eq!(failures["failures"][0]["ticket"], a.as_str());
    assert!(failures["failures"][0]["last_error"].as_str().unwrap().contains("503"), "{failures}");
    let rec = s.admin_get("/api/v1/lapor/reconciliation");
    assert_eq!(
        (rec["failed"].as_u64(), rec["pending"].as_u64(), rec["in_step"].as_u64()),
        (Some(1), Some(1), Some(0)),
        "{rec}"
    );

    // An unreadable answer: still nothing created twice.
    s.lapor.set_mode(Mode::Malformed);
    s.sync_later(offset);
    s.lapor.set_mode(Mode::Up);
    let r = s
        .app
        .post_json_as(TEST_ADMIN_TOKEN, &format!("/api/v1/lapor/failures/{a}/retry"), &json!({}))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let report = s.sync_later(offset + HOUR_MS);
    assert_eq!(report["exported"], 2, "{report}");
    assert_eq!(s.lapor.complaints().len(), 2, "{:?}", s.lapor.complaints());
    assert_eq!(s.admin_get("/api/v1/lapor/failures")["count"], 0);
    s.sync_later(offset + 3 * HOUR_MS);
    let rec = s.admin_get("/api/v1/lapor/reconciliation");
    assert_eq!(
        (rec["in_step"].as_u64(), rec["pending"].as_u64(), rec["failed"].as_u64()),
        (Some(2), Some(0), Some(0)),
        "{rec}"
    );
    assert_eq!(s.entry(&b)["state"], "linked");
}

fn register_and_sign_in(app: &TestApp, username: &str, role: &str, unit: Option<&str>) -> String {
    let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                      "password": "kata-sandi-panjang"});
    let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post_json("/api/v1/sessions", &json!({"username": username, "password": "kata-sandi-panjang"}))
        .unwrap();
    r.json().unwrap()["token"].as_str().unwrap().to_string()
}

fn act(app: &TestApp, token: &str, ticket: &str, action: Value) -> Reply {
    let r = app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
    assert_eq!(r.status, 200, "{action}: {}", r.body);
    r
}

const ANSWER: &str =
    "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";

#[test]
fn answers_go_to_lapor_and_lapor_statuses_and_follow_ups_come_back() {
    let s = Sync::start();
    let ticket = s.submit(road("anonymous"));
    s.sync();
    let id = s.entry(&ticket)["lapor_id"].as_str().unwrap().to_string();

    let coordinator = register_and_sign_in(&s.app, "koordinator", "provincial-coordinator", None);
    let mataram = register_and_sign_in(&s.app, "mataram", "liaison-officer", Some("pemkot-mataram"));
    act(&s.app, &coordinator, &ticket, json!({"action": "verify"}));
    act(&s.app, &coordinator, &ticket, json!({"action": "dispatch"}));
    act(&s.app, &mataram, &ticket, json!({"action": "accept"}));
    act(&s.app, &mataram, &ticket, json!({"action": "respond", "answer": ANSWER}));
    s.lapor.set_status(&id, "Dalam Proses");
    s.lapor.add_followup(&id, "Mohon dilampirkan foto lokasi setelah perbaikan.");

    let report = s.sync_later(2 * HOUR_MS);
    assert_eq!(
        (
            report["statuses_mirrored"].as_u64(),
            report["followups_in"].as_u64(),
            report["answers_out"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{report}"
    );
    let posted = s.lapor.requests("POST", "/complaints/followup/add");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].form_field("content").as_deref(), Some(ANSWER));
    assert_eq!(posted[0].form_field("complaint_id").as_deref(), Some(id.as_str()));
    let case = s.case(&ticket);
    let history = case["history"].to_string();
    assert!(history.contains("Mohon dilampirkan foto lokasi"), "{history}");
    assert!(history.contains("Status di SP4N-LAPOR!: Dalam Proses."), "{history}");
    // LAPOR!'s lines are its own, never the complainant's information, and the citizen's
    // tracking page shows its follow-up as one from LAPOR!.
    let from_lapor: Vec<&Value> =
        case["history"].as_array().unwrap().iter().filter(|e| e["action"] == "lapor-update").collect();
    // Its status at export, its status now, its follow-up.
    assert_eq!(from_lapor.len(), 3, "{history}");
    assert!(!history.contains("provide-information"), "{history}");
    let public = s.app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    let shown: Vec<&Value> =
        public["history"].as_array().unwrap().iter().filter(|e| e["source"] == "lapor").collect();
    assert!(
        shown.iter().any(|e| e["note"].as_str().unwrap_or("").contains("Mohon dilampirkan foto lokasi")),
        "{public}"
    );

    // Checked again later: nothing is sent or mirrored twice.
    let report = s.sync_later(4 * HOUR_MS);
    assert_eq!(
        (report["answers_out"].as_u64(), report["followups_in"].as_u64()),
        (Some(0), Some(0)),
        "{report}"
    );
    assert_eq!(s.lapor.followups(&id).len(), 2);

    // LAPOR! closes it: the answered case closes in NTB Care.
    s.lapor.set_status(&id, "Selesai");
    s.sync_later(6 * HOUR_MS);
    assert_eq!(s.case(&ticket)["status"], "closed");
    let public = s.app.get(&format!("/api/v1/complaints/{ticket}")).unwrap().json().unwrap();
    assert_eq!(public["status"], "closed", "{public}");
    let rec = s.admin_get("/api/v1/lapor/reconciliation");
    assert_eq!((rec["in_step"].as_u64(), rec["pending"].as_u64()), (Some(1), Some(0)), "{rec}");
    assert_eq!(rec["items"][0]["statuses_agree"], true, "{rec}");
}

#[test]
fn lapor_complaints_for_ntb_are_imported_once_through_the_usual_acceptance() {
    let mut s = Sync::start();
    s.lapor.add_inbox(json!({"id": 4242, "title": "Puskesmas tutup saat jam layanan",
        "content": "Puskesmas Ampenan tutup pada jam layanan sejak hari Senin.", "category_id": 12,
        "category_name": "Kesehatan", "location_name": "Kota Mataram", "disposition_id": 5200,
        "is_anonymous": 1, "is_secret": 0, "status_name": "Dalam Proses"}));
    s.lapor.add_inbox(
        json!({"id": 4243, "title": "Untuk instansi lain", "content": "Bukan untuk NTB sama sekali.",
        "disposition_id": 3100, "status_name": "Dalam Proses"}),
    );
    let report = s.sync();
    assert_eq!(report["imported"], 1, "{report}");
    s.sync();
    s.app.restart().unwrap();
    s.sync();
    let ledger = s.admin_get("/api/v1/lapor/ledger");
    assert_eq!(ledger["count"], 1, "{ledger}");
    let entry = &ledger["entries"][0];
    assert_eq!((entry["origin"].as_str(), entry["lapor_id"].as_str()), (Some("import"), Some("4242")));
    let ticket = entry["ticket"].as_str().unwrap();
    let case = s.case(ticket);
    assert_eq!(
        (case["channel"].as_str(), case["privacy"].as_str()),
        (Some("lapor"), Some("anonymous")),
        "{case}"
    );
    assert_eq!(case["external"], json!({"system": "lapor", "reference": "4242"}));
    assert_eq!(case["unit"], "dikes", "routed like any other complaint: {case}");
    let summary = s.app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["by_channel"]["lapor"], 1, "{summary}");
    assert_eq!(s.creates(), 0, "an imported complaint is never sent back");
}
