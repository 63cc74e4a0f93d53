//! Per-deployment secrets (issue #16, points 2 and 5): ticket numbers are scrambled under the
//! deployment's key, so two deployments share no ticket and nobody can list another's; the
//! shared store knows a messaging sender's message only by a keyed hash of its id.

use std::collections::BTreeSet;

use ntbcare_domain::clock::Timestamp;
use ntbcare_domain::complaint::Channel;
use ntbcare_domain::pseudonym::{DeploymentKey, Kind, Pseudonym};
use ntbcare_domain::ticket::Ticket;
use ntbcare_tests::{AppConfig, TestApp};
use serde_json::{json, Value};

use crate::channels::{fixture, post_meta};

const FIRST: usize = 20;
/// The app secret `channels::post_meta` signs with.
const META_SECRET: &str = "meta-app-secret-uji";

fn app_with_key(key: &str) -> TestApp {
    TestApp::spawn_with(AppConfig::ntbcare().env("SPIN_VARIABLE_DEPLOYMENT_KEY", key)).unwrap()
}

/// The tickets of the first `FIRST` complaints a fresh deployment takes, in order.
fn first_tickets(app: &TestApp) -> Vec<String> {
    (0..FIRST)
        .map(|i| {
            let r = app
                .post_json(
                    "/api/v1/complaints",
                    &json!({"description": format!("Jalan berlubang nomor {i} di Cakranegara, Mataram"),
                            "region_code": "52.71", "category": "infrastruktur", "privacy": "anonymous"}),
                )
                .unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
            r.json().unwrap()["ticket"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn two_deployments_with_different_keys_share_no_ticket() {
    let a = first_tickets(&app_with_key("deployment-key-mataram-0001"));
    let b = first_tickets(&app_with_key("deployment-key-sumbawa-0002"));
    let shared: BTreeSet<&String> = a.iter().filter(|t| b.contains(t)).collect();
    assert!(shared.is_empty(), "{shared:?} issued by both:\n{a:?}\n{b:?}");
    // Both are still tickets people can read out and type: format and check symbol hold.
    for t in a.iter().chain(&b) {
        assert_eq!(Ticket::parse(t).unwrap().as_str(), t);
    }
    // The numbering is the key's: the same key numbers a fresh deployment the same way.
    assert_eq!(first_tickets(&app_with_key("deployment-key-mataram-0001")), a);
}

#[test]
fn the_harness_key_numbers_tickets_as_the_test_helper_does() {
    let app = TestApp::spawn().unwrap();
    let year = Timestamp(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
    )
    .wita()
    .year;
    let issued = &first_tickets(&app)[..3];
    let expected: Vec<String> = (1..=3).map(|s| Ticket::number(year, s).unwrap().to_string()).collect();
    assert_eq!(issued, expected);
}

fn store_rows(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let db = rusqlite::Connection::open_with_flags(
        app.state_dir().join("sqlite_key_value.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut q = db.prepare("SELECT key, value FROM spin_key_value WHERE store = 'default'").unwrap();
    let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_whatsapp_message_is_claimed_by_a_keyed_hash_of_its_id_and_still_only_once() {
    let app =
        TestApp::spawn_with(AppConfig::ntbcare().env("SPIN_VARIABLE_META_APP_SECRET", META_SECRET)).unwrap();
    // The fixture's id is Meta's: base64 of a record holding the sender's number.
    let body = fixture("meta/whatsapp_text.json");
    let wamid = serde_json::from_slice::<Value>(&body).unwrap()["entry"][0]["changes"][0]["value"]
        ["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = post_meta(&app, &body);
    assert_eq!(first.status, 200, "{}", first.body);
    let again = post_meta(&app, &body);
    assert_eq!(again.json().unwrap()["received"][0]["result"], "duplicate", "{}", again.body);
    let rows = store_rows(&app);
    let key = DeploymentKey::new("test-deployment-key").unwrap().pseudonyms();
    let pseudonym = Pseudonym::of(Kind::Message(Channel::Whatsapp), &wamid, &key).to_string();
    assert!(
        rows.iter().any(|(k, _)| k == &format!("inbound/whatsapp/{pseudonym}")),
        "no claim under the pseudonym: {:?}",
        rows.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    for (k, v) in &rows {
        let v = String::from_utf8_lossy(v);
        for needle in [&wamid["wamid.".len()..], "6281234567890", "81234567890"] {
            assert!(!k.contains(needle) && !v.contains(needle), "{needle} in {k} = {v}");
        }
    }
}
