//! The host and the operator's path, as an attacker and an operator would try them: what the
//! log holds after citizens and officers have used the app, what happens to clients that
//! connect and then send their headers slowly or never, and whether two instances started
//! from one checkout with `scripts/up` keep apart (issue #16, points 3, 6 and 9).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ntbcare_tests::{repo_root, AppConfig, Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::json;

const REPORTER_NAME: &str = "Baiq Kenanga Lestari";
/// The subscriber part of the phone: found in every form (`0812…`, `62812…`, `+62812…`).
const REPORTER_PHONE: &str = "081299887766";
const REPORTER_PHONE_CORE: &str = "81299887766";
const REPORTER_EMAIL: &str = "kenanga.lestari@example.org";
const VERIFY_TOKEN: &str = "hub-verify-canary-5150";

/// Submit a complaint with a named, reachable reporter; its ticket and tracking secret.
fn submit(app: &TestApp, name: &str, phone: &str, email: &str) -> (String, String) {
    let body = json!({
        "description": "Pungutan liar di kantor kelurahan saat mengurus surat domisili",
        "region_code": "52.71",
        "privacy": "confidential",
        "reporter": {"name": name, "phone": phone, "email": email},
    });
    let r = app.post_json("/api/v1/complaints", &body).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json().unwrap();
    (v["ticket"].as_str().unwrap().to_string(), v["tracking_secret"].as_str().unwrap().to_string())
}

#[test]
fn the_log_never_carries_tracking_secrets_tokens_or_reporters_identities() {
    let app = TestApp::spawn().unwrap();
    let (ticket, secret) = submit(&app, REPORTER_NAME, REPORTER_PHONE, REPORTER_EMAIL);

    // The two documented ways for a citizen to open their own view put the secret in the query.
    let own = app.get(&format!("/api/v1/complaints/{ticket}?secret={secret}")).unwrap();
    assert_eq!(own.status, 200, "{}", own.body);
    let page = app.get(&format!("/lacak/{ticket}?kode={secret}&lang=id")).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&ticket), "the tracking page shows the complaint");
    // A provider's webhook handshake carries its verify token in the query as well.
    let _ = app
        .get(&format!("/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=7"))
        .unwrap();

    // An officer signs in and works the case with a bearer token.
    let officer = json!({"username": "penghubung", "name": "Penghubung Mataram", "role": "provincial-coordinator",
                         "unit": null, "password": "kata-sandi-yang-panjang-1", "email": "penghubung@ntbprov.go.id"});
    let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &officer).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post_json(
            "/api/v1/sessions",
            &json!({"username": "penghubung", "password": "kata-sandi-yang-panjang-1"}),
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let officer_token = r.json().unwrap()["token"].as_str().unwrap().to_string();
    let case = app.get_as(&officer_token, &format!("/api/v1/cases/{ticket}")).unwrap();
    assert_eq!(case.status, 200, "{}", case.body);

    // The access log line of a request is written before its answer leaves; give the reader
    // threads a moment to collect the last ones.
    std::thread::sleep(Duration::from_millis(300));
    let log = app.log();
    let text = log.join("\n");
    let canaries = [
        ("tracking secret", secret.as_str()),
        ("officer token", officer_token.as_str()),
        ("admin token", TEST_ADMIN_TOKEN),
        ("reporter's name", REPORTER_NAME),
        ("reporter's phone", REPORTER_PHONE_CORE),
        ("reporter's e-mail", REPORTER_EMAIL),
        ("webhook verify token", VERIFY_TOKEN),
    ];
    let leaks: Vec<String> = canaries
        .iter()
        .flat_map(|(what, needle)| {
            log.iter().filter(move |l| l.contains(needle)).map(move |l| format!("{what} in: {l}"))
        })
        .collect();
    // Positive controls: the log was captured, and it still says which requests were made
    // (the ticket and the parameters' names), only without their values.
    let lines_with = |needle: &str| log.iter().filter(|l| l.contains(needle)).count();
    let api_line = format!("/api/v1/complaints/{ticket}?secret\"");
    let portal_line = format!("/lacak/{ticket}?kode&lang\"");
    println!(
        "log scan: {} lines, {} bytes; {} canaries, {} found; ticket in {} lines",
        log.len(),
        text.len(),
        canaries.len(),
        leaks.len(),
        lines_with(&ticket)
    );
    assert!(leaks.is_empty(), "secrets or identities in the host's log:\n{}", leaks.join("\n"));
    assert_eq!(lines_with(&api_line), 1, "the tracking API's request is logged, redacted:\n{text}");
    assert_eq!(lines_with(&portal_line), 1, "the portal's request is logged, redacted:\n{text}");
    assert_eq!(
        lines_with("/webhooks/meta?hub.mode&hub.verify_token&hub.challenge\""),
        1,
        "the handshake is logged, redacted:\n{text}"
    );
}

/// Read from `stream` until the host closes it; how long that took, or `None` if it was
/// still open after `patience`.
fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            // A 408 answer may come first: read on to the end.
            Ok(_) if started.elapsed() < patience => continue,
            Ok(_) => return None,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return None
            }
            // Reset by the host: closed too.
            Err(_) => return Some(started.elapsed()),
        }
    }
}

fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base_url.trim_start_matches("http://");
    TcpStream::connect(addr).unwrap()
}

#[test]
fn clients_that_send_their_headers_slowly_or_never_are_disconnected_while_others_are_served() {
    let mut config = AppConfig::ntbcare();
    config.extra_args = vec!["--header-read-timeout".into(), "1".into()];
    let app = TestApp::spawn_with(config).unwrap();

    // Silent: connects and sends nothing.
    let mut silent = connect(&app);
    // Half a request line, then nothing.
    let mut half_line = connect(&app);
    half_line.write_all(b"GET /api/v1/intake/health HTT").unwrap();
    // The first byte of HTTP/2's preface, then nothing (the protocol cannot be told yet).
    let mut half_preface = connect(&app);
    half_preface.write_all(b"PRI * HT").unwrap();
    // Slow loris: a header a byte every 100 ms, never finished.
    let mut loris = connect(&app);
    let mut dripping = loris.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        let head = b"GET /api/v1/intake/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ";
        for byte in head.iter().chain(std::iter::repeat_n(&b'a', 200)) {
            if dripping.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    // Kept alive: one whole request answered, then idle.
    let mut kept_alive = connect(&app);
    kept_alive.write_all(b"GET /api/v1/intake/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    kept_alive.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200", "the kept-alive connection was served first");

    let opened = Instant::now();
    // Meanwhile another client is served at once.
    let started = Instant::now();
    let r = app.get("/api/v1/intake/health").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(started.elapsed() < Duration::from_millis(900), "served while the slow clients wait");

    let patience = Duration::from_secs(6);
    for (what, stream) in [
        ("silent", &mut silent),
        ("half a request line", &mut half_line),
        ("half the HTTP/2 preface", &mut half_preface),
        ("slow loris", &mut loris),
        ("idle after keep-alive", &mut kept_alive),
    ] {
        let waited = closed_within(stream, patience);
        println!("{what}: closed after {waited:?} (header read timeout 1 s)");
        // Each was opened before the served request and the timeout is 1 s: closed within 3 s
        // of the first, well before the patience runs out.
        assert!(waited.is_some(), "{what}: still open after {patience:?}");
    }
    // All five gone within the timeout and a margin for a loaded machine.
    let all_closed = opened.elapsed();
    println!("all five closed within {all_closed:?} of being opened");
    assert!(all_closed < Duration::from_secs(4), "{all_closed:?}");
    drip.join().unwrap();
    // The host goes on serving after dropping them.
    assert_eq!(app.get("/api/v1/intake/health").unwrap().status, 200);
}

#[test]
fn beyond_max_connections_clients_wait_for_a_free_slot_instead_of_being_accepted() {
    let mut config = AppConfig::ntbcare();
    config.extra_args =
        ["--header-read-timeout", "2", "--max-connections", "2"].iter().map(|a| a.to_string()).collect();
    let app = TestApp::spawn_with(config).unwrap();
    // Two silent clients take both slots.
    let mut holders = [connect(&app), connect(&app)];
    std::thread::sleep(Duration::from_millis(200));
    // A third is served only once the timeout has freed a slot: late, but served.
    let started = Instant::now();
    let r = app.get("/api/v1/intake/health").unwrap();
    let waited = started.elapsed();
    println!("third client served after {waited:?} (2 slots held by silent clients, timeout 2 s)");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(waited >= Duration::from_millis(1500), "served at once: the bound was not applied ({waited:?})");
    for h in &mut holders {
        assert!(closed_within(h, Duration::from_secs(5)).is_some(), "a silent holder is still open");
    }
}

/// `scripts/up` as an operator runs it, without the build (`--no-build`), on a free port.
struct Up {
    child: Child,
    base_url: String,
}

impl Up {
    fn start(state_dir_args: &[String]) -> Up {
        let mut cmd = Command::new(repo_root().join("scripts/up"));
        cmd.arg("--no-build").args(state_dir_args).args(["--listen", "127.0.0.1:0"]);
        // Each instance makes its own secrets, as on a fresh machine.
        for name in ["ADMIN_TOKEN", "INTERNAL_TOKEN", "SESSION_SECRET", "DEPLOYMENT_KEY"] {
            cmd.env_remove(format!("SPIN_VARIABLE_{name}"));
        }
        cmd.env_remove("SPIN_HTTP_LISTEN_ADDR");
        cmd.stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = vec![];
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix("Serving ") {
                        let base_url = url.trim().trim_end_matches('/').to_string();
                        return Up { child, base_url };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("scripts/up did not serve:\n{}", seen.join("\n"));
                }
            }
        }
    }

    fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        Reply::from(ureq::post(&format!("{}{path}", self.base_url)).send_json(body.clone())).unwrap()
    }

    fn get(&self, path: &str) -> Reply {
        Reply::from(ureq::get(&format!("{}{path}", self.base_url)).call()).unwrap()
    }

    /// A complaint from a named, reachable reporter: its ticket and tracking secret.
    fn submit(&self, name: &str, phone: &str) -> (String, String) {
        let body = json!({
            "description": "Gaji guru honorer belum dibayar tiga bulan",
            "region_code": "52.71",
            "privacy": "confidential",
            "reporter": {"name": name, "phone": phone},
        });
        let r = self.post_json("/api/v1/complaints", &body);
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json().unwrap();
        (v["ticket"].as_str().unwrap().to_string(), v["tracking_secret"].as_str().unwrap().to_string())
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn store_bytes(dir: &Path, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(dir.join(format!("{name}{suffix}"))) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn two_instances_started_by_scripts_up_from_one_checkout_share_nothing() {
    let (one_dir, two_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // What the checkout's own `.spin/identity.db` was before, if a developer has one.
    let checkout_identity = repo_root().join(".spin/identity.db");
    let before = std::fs::metadata(&checkout_identity).ok().map(|m| (m.len(), m.modified().unwrap()));

    // Both spellings an operator may use.
    let one = Up::start(&["--state-dir".into(), one_dir.path().display().to_string()]);
    let two = Up::start(&[format!("--state-dir={}", two_dir.path().display())]);
    let (one_ticket, one_secret) = one.submit("Lalu Satu Wiratama", "081311110001");
    let (two_ticket, two_secret) = two.submit("Baiq Dua Maharani", "081322220002");

    // Each instance knows its own complaint and not the other's.
    assert_eq!(one.get(&format!("/api/v1/complaints/{one_ticket}?secret={one_secret}")).status, 200);
    assert_eq!(two.get(&format!("/api/v1/complaints/{two_ticket}?secret={two_secret}")).status, 200);
    let across = two.get(&format!("/api/v1/complaints/{one_ticket}?secret={one_secret}"));
    assert_eq!(across.status, 404, "{}", across.body);
    assert_eq!(across.json().unwrap()["error"]["code"], "not-found", "{}", across.body);
    assert_eq!(one.get(&format!("/api/v1/complaints/{two_ticket}?secret={two_secret}")).status, 404);
    // Each made its own secrets, so even their first tickets differ.
    assert_ne!(one_ticket, two_ticket, "two deployments' first tickets");

    // Everything of each is under its own state directory, the identity store included.
    for (dir, own, other) in [
        (one_dir.path(), "Lalu Satu Wiratama", "Baiq Dua Maharani"),
        (two_dir.path(), "Baiq Dua Maharani", "Lalu Satu Wiratama"),
    ] {
        for file in ["runtime-config.toml", "local-secrets.env", "sqlite_key_value.db", "identity.db"] {
            assert!(dir.join(file).exists(), "{file} missing from {}", dir.display());
        }
        let identity = store_bytes(dir, "identity.db");
        assert!(contains(&identity, own), "{own} not in {}/identity.db", dir.display());
        assert!(!contains(&identity, other), "{other} in {}/identity.db", dir.display());
    }
    let secrets = |dir: &Path| std::fs::read_to_string(dir.join("local-secrets.env")).unwrap();
    assert_ne!(secrets(one_dir.path()), secrets(two_dir.path()));
    // And nothing went to the checkout's own state directory.
    let after = std::fs::metadata(&checkout_identity).ok().map(|m| (m.len(), m.modified().unwrap()));
    assert_eq!(before, after, "{} was touched", checkout_identity.display());
}
