//! Triage: nothing about a complaint reaches a unit before a coordinator dispatches it to
//! that unit (issue #16 point 4, issue #18 point 2). A complaint about a unit's own staff
//! waits for verification past its deadline; the escalation sweep (`as_of`, run by the
//! administrator) and the notification sweep then run through the built casework and
//! notification components, and the outbox shows who was told: the coordinator of the
//! complaint's regency, then the provincial coordinators, then the inspectorate, and never
//! the unit complained about, not even when the sweep comes long after the late point. Once
//! dispatched, the unit's own chain applies, and a late first sweep still tells each level
//! (liaison, head, coordinators and inspectorate) in order.
//!
//! The outbox masks addresses to their first and last three characters, so each officer's
//! e-mail starts with three letters of its own (`dsh…`, `kpl…`, `lot…`, `mtr…`, `prv…`,
//! `ins…`).

use ntbcare_tests::{TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

const INTERNAL: (&str, &str) = ("x-ntbcare-internal-token", "test-internal-token");
const PASSWORD: &str = "kata-sandi-panjang";

/// Officers around a complaint in Lombok Timur about the provincial transport agency:
/// (username, role, unit, e-mail).
const OFFICERS: [(&str, &str, Option<&str>, &str); 6] = [
    ("dishub", "liaison-officer", Some("dishub"), "dsh.penghubung@dishub.ntbprov.go.id"),
    ("kadishub", "unit-head", Some("dishub"), "kpl.kepala@dishub.ntbprov.go.id"),
    ("lotim", "regency-coordinator", Some("pemkab-lombok-timur"), "lot.koordinator@lomboktimurkab.go.id"),
    ("mataram", "regency-coordinator", Some("pemkot-mataram"), "mtr.koordinator@mataramkota.go.id"),
    ("provinsi", "provincial-coordinator", None, "prv.koordinator@ntbprov.go.id"),
    ("inspektur", "inspectorate", None, "ins.inspektorat@ntbprov.go.id"),
];

/// The masked outbox form of an officer's e-mail.
fn masked(username: &str) -> String {
    let email = OFFICERS.iter().find(|o| o.0 == username).unwrap().3;
    let n = email.chars().count();
    format!("{}{}{}", &email[..3], "*".repeat(n - 6), &email[n - 3..])
}

struct Desk {
    app: TestApp,
}

impl Desk {
    fn open() -> Desk {
        let desk = Desk { app: TestApp::spawn().unwrap() };
        for (username, role, unit, email) in OFFICERS {
            let body = json!({"username": username, "name": username.to_uppercase(), "role": role,
                              "unit": unit, "email": email, "password": PASSWORD});
            let r = desk.app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
        }
        desk
    }

    fn sign_in(&self, username: &str) -> String {
        self.app.sign_in(username, PASSWORD)
    }

    /// Extortion by the transport agency's own officers at a terminal in Lombok Timur:
    /// routing proposes that very agency.
    fn complaint_about_dishub_staff(&self) -> String {
        let body = json!({
            "description": "Petugas Dinas Perhubungan di Terminal Pancor meminta pungutan liar Rp50.000 \
                            kepada setiap sopir angkutan desa, tanpa karcis resmi.",
            "region_code": "52.03",
            "category": "transportasi",
            "privacy": "confidential",
            "reporter": {"name": "Lalu Kanari", "phone": "081299990000"}
        });
        let r = self.app.post_json("/api/v1/complaints", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json().unwrap();
        assert_eq!(v["unit"], "dishub", "routing proposes the agency complained about: {v}");
        v["ticket"].as_str().unwrap().to_string()
    }

    /// The escalation sweep as of `as_of` (RFC 3339), run by the administrator.
    fn sweep(&self, as_of: &str) -> Value {
        let path = format!("/api/v1/cases/sweep?as_of={}", as_of.replace('+', "%2B"));
        let r = self.app.post_json_as(TEST_ADMIN_TOKEN, &path, &json!({})).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    }

    /// Turn the notices into outbox messages, and answer the messages about `ticket` to
    /// officers as (masked recipient, template); the complainant's own are left out.
    fn told(&self, ticket: &str) -> Vec<(String, String)> {
        let r =
            self.app.post_raw("/api/v1/notifications/sweep", "application/json", b"", &[INTERNAL]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let r = self.app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/outbox?limit=1000").unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let outbox = r.json().unwrap();
        let mut out: Vec<(String, String)> = outbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["ticket"] == ticket)
            .filter(|m| OFFICERS.iter().any(|o| m["recipient"] == masked(o.0).as_str()))
            .map(|m| {
                (m["recipient"].as_str().unwrap().to_string(), m["template"].as_str().unwrap().to_string())
            })
            .collect();
        out.sort();
        out
    }

    /// The daily digest (queued and swept), as the scheduler runs it.
    fn digest(&self) -> Value {
        let r =
            self.app.post_raw("/api/v1/notifications/digest", "application/json", b"", &[INTERNAL]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    }

    /// Every outbox message to one of the unit's own officers, about any ticket or digest.
    fn anything_to_the_unit(&self) -> Vec<(String, String)> {
        let r = self.app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/outbox?limit=1000").unwrap();
        let outbox = r.json().unwrap();
        outbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["recipient"] == masked("dishub").as_str() || m["recipient"] == masked("kadishub").as_str()
            })
            .map(|m| (m["ticket"].as_str().unwrap().to_string(), m["template"].as_str().unwrap().to_string()))
            .collect()
    }

    /// The fields of the officers' messages about `ticket`, as queued.
    fn fields_told(&self, ticket: &str) -> String {
        let r = self.app.get_as(TEST_ADMIN_TOKEN, "/api/v1/notifications/outbox?limit=1000").unwrap();
        let outbox = r.json().unwrap();
        let fields: Vec<&Value> = outbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["ticket"] == ticket && m["template"] != "complaint-received")
            .map(|m| &m["fields"])
            .collect();
        serde_json::to_string(&fields).unwrap()
    }

    fn case(&self, token: &str, ticket: &str) -> Value {
        let r = self.app.get_as(token, &format!("/api/v1/cases/{ticket}")).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    }
}

/// Whether a message went to one of the unit's own officers.
fn to_the_unit(told: &[(String, String)]) -> Vec<(String, String)> {
    told.iter().filter(|(to, _)| *to == masked("dishub") || *to == masked("kadishub")).cloned().collect()
}

fn told(username: &str, template: &str) -> (String, String) {
    (masked(username), template.to_string())
}

/// The escalation notes of a case's history, in order.
fn escalations(case: &Value) -> Vec<String> {
    case["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "escalate")
        .map(|e| e["internal_note"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn an_unverified_complaint_about_a_units_own_staff_climbs_the_coordinators_and_never_reaches_the_unit() {
    let desk = Desk::open();
    let ticket = desk.complaint_about_dishub_staff();
    let (dishub, kadishub, provinsi) =
        (desk.sign_in("dishub"), desk.sign_in("kadishub"), desk.sign_in("provinsi"));

    // Before dispatch the agency may not read the case nor find it in its queue.
    for token in [&dishub, &kadishub] {
        let r = desk.app.get_as(token, &format!("/api/v1/cases/{ticket}")).unwrap();
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.json().unwrap()["error"]["code"], "forbidden", "{}", r.body);
        let queue = desk.app.get_as(token, "/api/v1/cases?queue=unit:dishub").unwrap();
        assert!(!queue.body.contains(&ticket), "{}", queue.body);
    }

    // The verification clock, as the coordinator sees it.
    let deadline = desk.case(&provinsi, &ticket)["deadline"].clone();
    assert_eq!(deadline["step"], "verification", "{deadline}");
    let (due, late_at) = (deadline["due"].as_str().unwrap(), deadline["late_at"].as_str().unwrap());

    // Between the warning point and the deadline: the coordinator of Lombok Timur is warned.
    let report = desk.sweep(due);
    assert_eq!((report["escalated"].as_i64(), report["levels"].as_i64()), (Some(1), Some(1)), "{report}");
    assert_eq!(desk.told(&ticket), [told("lotim", "deadline-approaching")]);

    // Past the deadline: the provincial coordinators.
    let report = desk.sweep(late_at);
    assert_eq!(report["levels"], 1, "{report}");
    let mut expected = vec![told("lotim", "deadline-approaching"), told("provinsi", "case-escalated")];
    expected.sort();
    assert_eq!(desk.told(&ticket), expected);

    // Past the late point: the inspectorate.
    let report = desk.sweep(&ntbcare_tests::rfc3339_days_from_now(60));
    assert_eq!(report["levels"], 1, "{report}");
    expected.push(told("inspektur", "case-escalated"));
    expected.sort();
    let all = desk.told(&ticket);
    assert_eq!(all, expected);
    assert!(to_the_unit(&all).is_empty(), "the unit complained about was told: {all:?}");
    assert!(!all.iter().any(|(to, _)| *to == masked("mataram")), "another region's coordinator: {all:?}");
    let notes = escalations(&desk.case(&provinsi, &ticket));
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes.iter().all(|n| !n.contains("kepala unit")), "{notes:?}");
    // The messages place the case in the coordinators' queue, not at the agency.
    let fields = desk.fields_told(&ticket);
    assert!(fields.contains("belum didisposisikan") && !fields.contains("Perhubungan"), "{fields}");

    // Still the agency's officers may not read it, and the daily digest does not count it
    // among the agency's open cases: nothing at all has gone to the agency.
    assert_eq!(desk.app.get_as(&dishub, &format!("/api/v1/cases/{ticket}")).unwrap().status, 403);
    let digest = desk.digest();
    assert!(!digest["units"].as_array().unwrap().iter().any(|u| u["unit"] == "dishub"), "{digest}");
    assert_eq!(desk.anything_to_the_unit(), [], "the agency heard of a complaint it was not given");

    // Positive control: once a coordinator dispatches, the unit's chain applies and its
    // liaison officer is told (so the addresses above would have shown a message to it).
    for action in [json!({"action": "verify"}), json!({"action": "dispatch"})] {
        let r =
            desk.app.post_json_as(&provinsi, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(to_the_unit(&desk.told(&ticket)), [told("dishub", "case-assigned")]);
    assert_eq!(desk.case(&dishub, &ticket)["status"], "dispatched");
    let digest = desk.digest();
    let line = digest["units"].as_array().unwrap().iter().find(|u| u["unit"] == "dishub").cloned();
    assert_eq!(line.map(|l| l["open"].clone()), Some(json!(1)), "{digest}");
}

#[test]
fn a_first_sweep_long_after_the_late_point_still_tells_every_level_in_order() {
    let desk = Desk::open();
    let ticket = desk.complaint_about_dishub_staff();

    // Nothing ran for two months: one sweep raises the three levels of verification.
    let report = desk.sweep(&ntbcare_tests::rfc3339_days_from_now(60));
    assert_eq!((report["escalated"].as_i64(), report["levels"].as_i64()), (Some(1), Some(3)), "{report}");
    assert_eq!(desk.sweep(&ntbcare_tests::rfc3339_days_from_now(60))["levels"], 0, "a level is raised once");

    // Recorded in the case history level by level, lowest first.
    let provinsi = desk.sign_in("provinsi");
    let notes = escalations(&desk.case(&provinsi, &ticket));
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[0].starts_with("Peringatan"), "{notes:?}");
    assert!(
        notes[1].starts_with("Melewati tenggat") && notes[1].contains("koordinator provinsi"),
        "{notes:?}"
    );
    assert!(notes[2].starts_with("Terlambat") && notes[2].contains("Inspektorat"), "{notes:?}");

    // Every level told, the regency's coordinator included; the unit not at all.
    let mut expected = vec![
        told("lotim", "deadline-approaching"),
        told("provinsi", "case-escalated"),
        told("inspektur", "case-escalated"),
    ];
    expected.sort();
    let all = desk.told(&ticket);
    assert_eq!(all, expected);
    assert!(to_the_unit(&all).is_empty(), "{all:?}");
}

#[test]
fn a_dispatched_case_first_swept_after_its_late_point_still_tells_the_unit_head_before_the_coordinators() {
    let desk = Desk::open();
    let ticket = desk.complaint_about_dishub_staff();
    let provinsi = desk.sign_in("provinsi");
    for action in [json!({"action": "verify"}), json!({"action": "dispatch"})] {
        let r =
            desk.app.post_json_as(&provinsi, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // Dispatched and then left: the first sweep comes two months later.
    let report = desk.sweep(&ntbcare_tests::rfc3339_days_from_now(60));
    assert_eq!((report["escalated"].as_i64(), report["levels"].as_i64()), (Some(1), Some(3)), "{report}");
    let notes = escalations(&desk.case(&provinsi, &ticket));
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[0].starts_with("Peringatan"), "{notes:?}");
    assert!(notes[1].starts_with("Melewati tenggat") && notes[1].contains("kepala unit"), "{notes:?}");
    assert!(notes[2].starts_with("Terlambat") && notes[2].contains("Inspektorat"), "{notes:?}");

    // The unit's chain, every level: its liaison, its head, then the coordinators (the
    // regency's by where the problem is, the province's) and the inspectorate.
    let mut expected = vec![
        told("dishub", "case-assigned"),
        told("dishub", "deadline-approaching"),
        told("kadishub", "case-escalated"),
        told("lotim", "case-escalated"),
        told("provinsi", "case-escalated"),
        told("inspektur", "case-escalated"),
    ];
    expected.sort();
    assert_eq!(desk.told(&ticket), expected);
}
