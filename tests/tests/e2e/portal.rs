//! The portal: the pages citizens and officers use, through the built components.
//!
//! Two tiers. HTTP-level tests post forms exactly as a browser without JavaScript does (a
//! cookie jar, no redirect following, so each 303 of post/redirect/get is seen) and check
//! CSRF, escaping, the page-size budget, cookies and the sign-in limit. Browser tests drive
//! Debian's headless Chromium through chromedriver (WebDriver, with the `fantoccini` client)
//! through the whole walk, once with JavaScript and once with it disabled, and take
//! screenshots of the main pages (kept in docs/screenshots/ when run with
//! `NTBCARE_SCREENSHOTS=1`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use ntbcare_tests::{repo_root, TestApp, TEST_ADMIN_TOKEN};
use serde_json::json;

/// An 8×8 PNG: a real image, which intake checks by its first bytes.
const PHOTO_PNG: [u8; 74] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 8, 0, 0, 0, 8, 8, 2, 0, 0, 0, 75,
    109, 41, 220, 0, 0, 0, 17, 73, 68, 65, 84, 120, 218, 99, 224, 142, 245, 198, 138, 24, 134, 150, 4, 0,
    108, 199, 44, 193, 84, 244, 124, 89, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

const PASSWORD: &str = "kata-sandi-panjang";
const ANSWER: &str =
    "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";
const BUDGET: usize = 100 * 1024;

/// One HTTP answer, with every `Set-Cookie`.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The CSRF token of the page's (first) form.
    fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"csrf\" value=\"").expect("the page has a form with a CSRF token")
    }

    fn text_of(&self, id: &str) -> String {
        let start = format!("id=\"{id}\">");
        let i = self.body.find(&start).unwrap_or_else(|| panic!("no #{id} in {}", self.body)) + start.len();
        self.body[i..self.body[i..].find('<').unwrap() + i].to_string()
    }
}

fn attribute_after(body: &str, marker: &str) -> Option<String> {
    let i = body.find(marker)? + marker.len();
    Some(body[i..i + body[i..].find('"')?].to_string())
}

/// A browser without JavaScript: a cookie jar, forms posted as browsers post them.
pub(crate) struct Visitor<'a> {
    app: &'a TestApp,
    agent: ureq::Agent,
    jar: RefCell<BTreeMap<String, String>>,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
        Visitor { app, agent, jar: RefCell::new(BTreeMap::new()) }
    }

    fn cookie_header(&self) -> String {
        self.jar.borrow().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn send(&self, req: ureq::Request, body: Option<(&str, Vec<u8>)>) -> Page {
        let req = req.set("cookie", &self.cookie_header());
        let result = match body {
            Some((content_type, bytes)) => req.set("content-type", content_type).send_bytes(&bytes),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error: {e}"),
        };
        let set_cookies: Vec<String> = resp.all("set-cookie").into_iter().map(str::to_string).collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.jar.borrow_mut().remove(k);
            } else {
                self.jar.borrow_mut().insert(k.to_string(), v.to_string());
            }
        }
        let headers = resp
            .headers_names()
            .iter()
            .map(|n| (n.clone(), resp.header(n).unwrap_or("").to_string()))
            .collect();
        Page {
            status: resp.status(),
            location: resp.header("location").map(str::to_string),
            set_cookies,
            headers,
            body: resp.into_string().unwrap_or_default(),
        }
    }

    pub(crate) fn get(&self, path: &str) -> Page {
        self.send(self.agent.get(&self.app.url(path)), None)
    }

    pub(crate) fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        self.send(
            self.agent.post(&self.app.url(path)),
            Some(("application/x-www-form-urlencoded", body.join("&").into_bytes())),
        )
    }

    fn post_multipart(&self, path: &str, fields: &[(&str, &str)], photo: Option<&[u8]>) -> Page {
        let boundary = "----portalTestBoundary7MA4YWxk";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    .as_bytes(),
            );
        }
        let (filename, data): (&str, &[u8]) = match photo {
            Some(p) => ("jalan.png", p),
            None => ("", b""),
        };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            self.agent.post(&self.app.url(path)),
            Some((&format!("multipart/form-data; boundary={boundary}"), body)),
        )
    }

    /// Follow a 303 as a browser does.
    fn follow(&self, page: &Page) -> Page {
        assert_eq!(page.status, 303, "expected a redirect: {}", page.body);
        self.get(page.location.as_deref().unwrap())
    }

    pub(crate) fn sign_in(&self, username: &str) -> Page {
        let form = self.get("/petugas/masuk");
        let r = self.post(
            "/petugas/masuk",
            &[("csrf", &form.csrf()), ("username", username), ("password", PASSWORD)],
        );
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/petugas")), "{}", r.body);
        self.follow(&r)
    }

    /// Take an action from the case page's form, as the officer's browser would.
    fn act(&self, ticket: &str, fields: &[(&str, &str)]) -> Page {
        let case = self.get(&format!("/petugas/kasus/{ticket}"));
        assert_eq!(case.status, 200, "{}", case.body);
        let csrf = case.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(&format!("/petugas/kasus/{ticket}"), &all)
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The app with the officers every walk needs, registered through the casework API.
fn desk() -> TestApp {
    let app = TestApp::spawn().unwrap();
    for (username, role, unit) in [
        ("koordinator", "provincial-coordinator", None),
        ("mataram", "liaison-officer", Some("pemkot-mataram")),
        ("inspektur", "inspectorate", None),
        ("pimpinan", "leadership", None),
    ] {
        let body = json!({"username": username, "name": username.to_uppercase(), "role": role, "unit": unit,
                          "password": PASSWORD});
        let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    app
}

/// File a complaint through /lapor; the receipt page's ticket and tracking code.
pub(crate) fn file(
    citizen: &Visitor,
    fields: &[(&str, &str)],
    photo: Option<&[u8]>,
) -> (String, String, Page) {
    let form = citizen.get("/lapor");
    assert_eq!(form.status, 200);
    let id = attribute_after(&form.body, "name=\"kirim_id\" value=\"").unwrap();
    let csrf = form.csrf();
    let mut all = vec![("csrf", csrf.as_str()), ("kirim_id", id.as_str())];
    all.extend_from_slice(fields);
    let posted = citizen.post_multipart("/lapor", &all, photo);
    assert_eq!(
        (posted.status, posted.location.as_deref()),
        (303, Some("/lapor/terkirim")),
        "{}",
        posted.body
    );
    let receipt = citizen.follow(&posted);
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    (receipt.text_of("tiket"), receipt.text_of("kode"), receipt)
}

pub(crate) fn road() -> Vec<(&'static str, &'static str)> {
    vec![
        ("description", "Jalan berlubang di depan SDN 3 Mataram, sudah sebulan."),
        ("category", "infrastruktur"),
        ("region_code", "52.71"),
        ("privacy", "anonymous"),
        ("phone", "081234567890"),
    ]
}

#[test]
fn a_complaint_is_filed_tracked_answered_and_rated_through_forms_alone() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let (ticket, secret, receipt) = file(&citizen, &road(), None);
    assert!(ticket.starts_with("NTB-"), "{ticket}");
    assert!(
        receipt.body.contains(&format!("/lacak/{ticket}?kode={secret}")),
        "tracking link with the secret"
    );

    let tracking = citizen.get(&format!("/lacak/{ticket}?kode={secret}"));
    assert_eq!(tracking.status, 200);
    assert!(
        tracking.body.contains("Diterima") && tracking.body.contains("Jalan berlubang"),
        "{}",
        tracking.body
    );

    // The tracking form finds it too (POST, then the redirect to its page).
    let lacak = citizen.get("/lacak");
    let r = citizen
        .post("/lacak", &[("csrf", &lacak.csrf()), ("tiket", &ticket.to_lowercase()), ("kode", &secret)]);
    assert_eq!(r.location.as_deref(), Some(format!("/lacak/{ticket}?kode={secret}").as_str()));

    // The coordinator's triage shows it; verify and dispatch from the case page.
    let coordinator = Visitor::new(&app);
    let triage = coordinator.sign_in("koordinator");
    assert!(triage.body.contains(&ticket), "{}", triage.body);
    let r = coordinator
        .act(&ticket, &[("action", "verify"), ("title", "Jalan berlubang"), ("priority", "important")]);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/petugas/kasus/{ticket}?ok=verify").as_str()),
        "{}",
        r.body
    );
    assert!(coordinator.follow(&r).body.contains("Tersimpan"));
    let r = coordinator.act(&ticket, &[("action", "dispatch"), ("unit", "pemkot-mataram")]);
    assert_eq!(r.status, 303, "{}", r.body);

    // The unit's officer sees it in the queue, accepts it and answers.
    let officer = Visitor::new(&app);
    let queue = officer.sign_in("mataram");
    assert!(queue.body.contains(&ticket), "{}", queue.body);
    let accepted = officer.follow(&officer.act(&ticket, &[("action", "accept")]));
    assert!(accepted.body.contains("data-template-for=\"respond-answer\""), "answer templates are offered");
    // Too thin an answer is refused with casework's reason, on the case page.
    let thin =
        officer.act(&ticket, &[("action", "respond"), ("answer", "Terima kasih, sudah ditindaklanjuti.")]);
    assert_eq!(thin.status, 422, "{}", thin.body);
    assert!(thin.body.contains("class=\"error\""));
    let r = officer.act(&ticket, &[("action", "respond"), ("answer", ANSWER), ("internal_note", "tim B")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let case = officer.follow(&r);
    assert!(case.body.contains(ANSWER) && case.body.contains("tim B"), "{}", case.body);
    // The answer opens the completion step: the desk offers the report of the follow-up done,
    // once (a vague report is refused with what is missing).
    assert!(case.body.contains("id=\"complete-report\""), "the desk offers the completion report");
    let vague = officer.act(&ticket, &[("action", "complete"), ("report", "Sudah selesai.")]);
    assert_eq!(vague.status, 422, "{}", vague.body);
    let report = "Tim B Dinas PUPR menambal lubang jalan di depan sekolah pada hari Senin pagi; jalan sudah dapat dilalui kembali.";
    let r = officer.act(&ticket, &[("action", "complete"), ("report", report)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let case = officer.follow(&r);
    assert!(case.body.contains(report), "{}", case.body);
    assert!(!case.body.contains("id=\"complete-report\""), "reported once: the form is gone");

    // The citizen reads the answer and rates it; a second rating is not offered.
    let tracking = citizen.get(&format!("/lacak/{ticket}?kode={secret}"));
    assert!(tracking.body.contains(ANSWER) && tracking.body.contains("Sudah dijawab"), "{}", tracking.body);
    assert!(!tracking.body.contains("tim B"), "internal notes stay internal");
    let r = citizen.post(
        &format!("/lacak/{ticket}/nilai"),
        &[
            ("csrf", &tracking.csrf()),
            ("kode", &secret),
            ("score", "5"),
            ("resolved", "yes"),
            ("comment", "Cepat"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let rated = citizen.follow(&r);
    assert!(rated.body.contains("penilaian Anda tersimpan") && rated.body.contains("5/5"), "{}", rated.body);
    assert!(!rated.body.contains("/nilai\""), "rated once: the form is gone");

    // The English switch keeps the page and remembers the choice.
    let en = citizen.get(&format!("/lacak/{ticket}?kode={secret}&lang=en"));
    assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Your rating"), "{}", en.body);
    assert!(citizen.get("/").body.contains("File a complaint"));
}

#[test]
fn the_complainant_answers_a_question_from_the_unit() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let (ticket, secret, _) = file(&citizen, &road(), None);
    let coordinator = Visitor::new(&app);
    coordinator.sign_in("koordinator");
    assert_eq!(coordinator.act(&ticket, &[("action", "verify")]).status, 303);
    assert_eq!(coordinator.act(&ticket, &[("action", "dispatch")]).status, 303);
    let officer = Visitor::new(&app);
    officer.sign_in("mataram");
    assert_eq!(officer.act(&ticket, &[("action", "accept")]).status, 303);
    let r =
        officer.act(&ticket, &[("action", "request-information"), ("question", "Di sisi mana lubangnya?")]);
    assert_eq!(r.status, 303, "{}", r.body);

    let tracking = citizen.get(&format!("/lacak/{ticket}?kode={secret}"));
    assert!(tracking.body.contains("Di sisi mana lubangnya?"), "{}", tracking.body);
    let r = citizen.post(
        &format!("/lacak/{ticket}/jawab"),
        &[("csrf", &tracking.csrf()), ("kode", &secret), ("text", "Sisi utara, dekat gerbang sekolah.")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(citizen.follow(&r).body.contains("Jawaban Anda sudah dikirim"));
    assert!(officer
        .get(&format!("/petugas/kasus/{ticket}"))
        .body
        .contains("Sisi utara, dekat gerbang sekolah."));
}

#[test]
fn a_photo_is_sent_to_intake_with_the_complaint() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let (ticket, secret, receipt) = file(&citizen, &road(), Some(&PHOTO_PNG));
    // An intake that takes attachments keeps it; one that does not yet still files the
    // complaint and says the photo was not kept.
    let attached = receipt.body.contains("Foto Anda terlampir");
    assert!(attached || receipt.body.contains("foto belum dapat dilampirkan"), "{}", receipt.body);
    if attached {
        let file = ureq::get(&app.url(&format!("/api/v1/complaints/{ticket}/attachments/1")))
            .set("x-tracking-secret", &secret)
            .call()
            .unwrap();
        assert_eq!(file.content_type(), "image/png");
        let mut bytes = vec![];
        std::io::Read::read_to_end(&mut file.into_reader(), &mut bytes).unwrap();
        assert_eq!(bytes, PHOTO_PNG, "the photo arrives unchanged");
    } else {
        eprintln!("NOTE: intake does not take attachments yet: the photo was dropped with a notice");
    }
}

#[test]
fn forms_without_the_right_csrf_token_are_refused() {
    let app = desk();
    let visitor = Visitor::new(&app);
    let form = visitor.get("/lapor");
    let mut fields = road();
    // Missing.
    let r = visitor.post_multipart("/lapor", &fields, None);
    assert_eq!(r.status, 403, "{}", r.body);
    // Wrong.
    fields.push(("csrf", "00".repeat(32).leak()));
    assert_eq!(visitor.post_multipart("/lapor", &fields, None).status, 403);
    // Another browser's token (a cross-site page cannot read ours, and ours is bound to our nonce).
    let other = Visitor::new(&app);
    let theirs = other.get("/lapor").csrf();
    assert_ne!(theirs, form.csrf());
    let r = visitor.post("/lacak", &[("csrf", &theirs), ("tiket", "NTB-26-000000")]);
    assert_eq!(r.status, 403);
    // Without the nonce cookie at all (what a cross-site post with SameSite=Strict sends).
    let stranger = Visitor::new(&app);
    assert_eq!(stranger.post("/lacak", &[("csrf", &form.csrf()), ("tiket", "x")]).status, 403);
    // Sign-in and officers' actions too; a token from before sign-in is not valid after it.
    assert_eq!(
        visitor.post("/petugas/masuk", &[("username", "koordinator"), ("password", PASSWORD)]).status,
        403
    );
    let before = visitor.get("/petugas/masuk").csrf();
    visitor.sign_in("koordinator");
    let (ticket, _, _) = file(&Visitor::new(&app), &road(), None);
    let r = visitor.post(&format!("/petugas/kasus/{ticket}"), &[("csrf", &before), ("action", "verify")]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(visitor.post("/petugas/keluar", &[]).status, 403);
    // Nothing happened: the case is still new.
    assert!(visitor.get(&format!("/petugas/kasus/{ticket}")).body.contains("Diterima"));
}

#[test]
fn complaint_text_is_escaped_on_every_page_officers_and_citizens_see() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let evil = "Jalan rusak <script>alert(\"xss\")</script><img src=x onerror=alert(1)> & \"kutip\"";
    let mut fields = road();
    fields[0] = ("description", evil);
    fields[3] = ("privacy", "public");
    fields.push(("name", "<b onmouseover=alert(2)>Baiq</b>"));
    fields.push(("address", "\"><script>alert(3)</script>"));
    let (ticket, secret, _) = file(&citizen, &fields, None);

    let coordinator = Visitor::new(&app);
    let pages = [
        coordinator.sign_in("koordinator"),
        coordinator.get(&format!("/petugas/kasus/{ticket}")),
        citizen.get(&format!("/lacak/{ticket}?kode={secret}")),
        citizen.get(&format!("/lacak/{ticket}")),
    ];
    for page in &pages {
        assert_eq!(page.status, 200, "{}", page.body);
        for raw in ["<script>alert", "<img src=x", "<b onmouseover", "\"><script>"] {
            assert!(!page.body.contains(raw), "{raw} reached a page unescaped:\n{}", page.body);
        }
    }
    assert!(
        pages[1].body.contains("Jalan rusak &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"),
        "{}",
        pages[1].body
    );
    assert!(
        pages[1].body.contains("&lt;b onmouseover=alert(2)&gt;Baiq&lt;/b&gt;"),
        "a public name shows, escaped"
    );
    // What the citizen typed comes back escaped into the form when intake refuses it.
    let form = citizen.get("/lapor");
    let r = citizen.post_multipart(
        "/lapor",
        &[("csrf", &form.csrf()), ("description", "ab\"><i>"), ("region_code", "52.71")],
        None,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("ab&quot;&gt;&lt;i&gt;") && !r.body.contains("ab\"><i>"), "{}", r.body);
    assert!(r.body.contains("aria-invalid=\"true\""), "the field is marked");
}

#[test]
fn confidential_identities_never_reach_agency_pages() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let mut fields = road();
    fields[3] = ("privacy", "confidential");
    fields.push(("name", "Lalu Kanari"));
    fields.push(("email", "kanari@example.id"));
    let (ticket, _, _) = file(&citizen, &fields, None);
    let coordinator = Visitor::new(&app);
    let pages = [coordinator.sign_in("koordinator"), coordinator.get(&format!("/petugas/kasus/{ticket}"))];
    for page in &pages {
        for canary in ["Kanari", "81234567890", "kanari@example.id"] {
            assert!(!page.body.contains(canary), "{canary} shown to an agency");
        }
    }
    // The public sees only the status of a confidential complaint.
    let public = Visitor::new(&app).get(&format!("/lacak/{ticket}"));
    assert!(!public.body.contains("Jalan berlubang") && public.body.contains("Diterima"), "{}", public.body);
}

#[test]
fn cookies_are_http_only_same_site_strict_and_secure() {
    let app = desk();
    let visitor = Visitor::new(&app);
    let first = visitor.get("/");
    let form = visitor.get("/petugas/masuk");
    let r = visitor
        .post("/petugas/masuk", &[("csrf", &form.csrf()), ("username", "mataram"), ("password", PASSWORD)]);
    let session = r.set_cookies.iter().find(|c| c.starts_with("ntb_sesi=")).expect("a session cookie");
    for c in first.set_cookies.iter().chain([session]) {
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
    }
    for (header, value) in [
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(first.header(header), Some(value));
    }
    assert!(first.header("content-security-policy").unwrap().contains("default-src 'none'"));
    // Signing out revokes the token at casework: replaying the old cookie gets nowhere.
    let token = session.split(';').next().unwrap().trim_start_matches("ntb_sesi=").to_string();
    let desk_page = visitor.get("/petugas");
    assert_eq!(desk_page.status, 200);
    let out = visitor.post("/petugas/keluar", &[("csrf", &desk_page.csrf())]);
    assert_eq!(out.location.as_deref(), Some("/petugas/masuk?ok=keluar"));
    visitor.jar.borrow_mut().insert("ntb_sesi".into(), token.clone());
    let replay = visitor.get("/petugas");
    assert_eq!(replay.status, 303, "a revoked session is refused");
    assert_eq!(app.get_as(&token, "/api/v1/sessions/current").unwrap().status, 401);
}

#[test]
fn sign_in_is_limited_to_five_attempts_per_quarter_hour() {
    let app = desk();
    let visitor = Visitor::new(&app);
    for _ in 0..5 {
        let form = visitor.get("/petugas/masuk");
        let r = visitor.post(
            "/petugas/masuk",
            &[("csrf", &form.csrf()), ("username", "koordinator"), ("password", "salah-salah-salah")],
        );
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r.body.contains("salah"), "casework's reason is shown: {}", r.body);
    }
    let form = visitor.get("/petugas/masuk");
    let r = visitor.post(
        "/petugas/masuk",
        &[("csrf", &form.csrf()), ("username", "koordinator"), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 429, "even the right password waits: {}", r.body);
    let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    // Another account from the same address is not held up.
    visitor.sign_in("mataram");
}

#[test]
fn every_main_page_with_its_assets_stays_under_100_kb() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let (ticket, secret, receipt) = file(&citizen, &road(), None);
    let officer = Visitor::new(&app);
    let queue = officer.sign_in("koordinator");
    let mut pages: Vec<(String, Page)> = vec![
        ("/".into(), citizen.get("/")),
        ("/lapor".into(), citizen.get("/lapor")),
        ("/lapor/terkirim".into(), receipt),
        ("/lacak".into(), citizen.get("/lacak")),
        (format!("/lacak/{ticket}?kode=…"), citizen.get(&format!("/lacak/{ticket}?kode={secret}"))),
        ("/petugas/masuk".into(), Visitor::new(&app).get("/petugas/masuk")),
        ("/petugas".into(), queue),
        (format!("/petugas/kasus/{ticket}"), officer.get(&format!("/petugas/kasus/{ticket}"))),
    ];
    let inspector = Visitor::new(&app);
    pages.push(("/petugas (inspektorat)".into(), inspector.sign_in("inspektur")));
    for (path, page) in &pages {
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let mut total = page.body.len();
        let mut assets = vec![];
        for marker in ["href=\"/aset/", "src=\"/aset/"] {
            let mut rest = page.body.as_str();
            while let Some(i) = rest.find(marker) {
                let start = i + marker.len() - "/aset/".len();
                let end = start + rest[start..].find('"').unwrap();
                assets.push(rest[start..end].to_string());
                rest = &rest[end..];
            }
        }
        assets.sort();
        assets.dedup();
        for a in &assets {
            let asset = citizen.get(a);
            assert_eq!(asset.status, 200, "{a}");
            assert!(asset.header("cache-control").is_some_and(|c| c.contains("max-age")), "{a} is cacheable");
            total += asset.body.len();
        }
        assert!(
            !page.body.contains("http://") && !page.body.contains("https://") || path.contains("terkirim"),
            "{path} loads nothing from outside"
        );
        eprintln!("page budget: {path}: {total} bytes with {} assets", assets.len());
        assert!(total < BUDGET, "{path}: {total} bytes with its assets, over {BUDGET}");
    }
}

#[test]
fn the_desk_search_takes_a_ticket_as_a_caller_reads_it_out() {
    let app = desk();
    let citizen = Visitor::new(&app);
    let (ticket, _, _) = file(&citizen, &road(), None);
    let officer = Visitor::new(&app);
    let queue = officer.sign_in("koordinator");
    assert!(queue.body.contains("id=\"cari-tiket\""), "{}", queue.body);
    for typed in
        [ticket.to_lowercase().replace('-', ""), format!(" {} ", ticket.to_lowercase().replace('-', " "))]
    {
        let r = officer.get(&format!("/petugas?tiket={}", encode(&typed)));
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some(format!("/petugas/kasus/{ticket}").as_str())),
            "{typed}"
        );
        assert!(officer.follow(&r).body.contains(&ticket));
    }
    // A mistyped ticket (its check symbol catches it) is answered on the desk, kept in the box.
    let mut wrong = ticket.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    let r = officer.get(&format!("/petugas?tiket={}", encode(&wrong)));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("tidak dikenali") && r.body.contains(&format!("value=\"{wrong}\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("aria-invalid=\"true\""));
}

#[test]
fn the_desk_links_each_role_to_the_reports_it_may_read_under_its_portal_session() {
    let app = desk();
    let citizen = Visitor::new(&app);
    file(&citizen, &road(), None);
    // Without a session: the public view; officers' reports are refused.
    let public = Visitor::new(&app);
    assert!(public.get("/api/v1/reports/dashboard").body.contains("Data Terbuka"));
    assert_eq!(public.get("/api/v1/reports/semester").status, 401);

    // A unit's officer: the unit's dashboard and exports, not the province's report.
    let unit = Visitor::new(&app);
    let page = unit.sign_in("mataram");
    assert!(
        page.body.contains("id=\"lap-dasbor\"") && page.body.contains("id=\"csv-unit\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"lap-semester\"") && !page.body.contains("id=\"csv-wilayah\""));
    let dashboard = unit.get("/api/v1/reports/dashboard");
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.body.contains("Pemerintah Kota Mataram") && !dashboard.body.contains("id=\"unit-chart\""),
        "{}",
        dashboard.body
    );
    assert_eq!(unit.get("/api/v1/reports/semester").status, 403);
    assert_eq!(unit.get("/api/v1/reports/measures.csv?by=region").status, 403);
    let csv = unit.get("/api/v1/reports/measures.csv?by=unit");
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.lines().skip(1).all(|l| l.starts_with("pemkot-mataram")), "{}", csv.body);

    // Leadership, the inspectorate and a coordinator: everything, the semester report too.
    for who in ["pimpinan", "inspektur", "koordinator"] {
        let v = Visitor::new(&app);
        let page = v.sign_in(who);
        for id in ["lap-dasbor", "lap-semester", "lap-rapor", "csv-wilayah", "csv-pengaduan"] {
            assert!(page.body.contains(&format!("id=\"{id}\"")), "{who}: no #{id}");
        }
        let dashboard = v.get("/api/v1/reports/dashboard");
        assert!(dashboard.body.contains("id=\"unit-chart\""), "{who}: {}", dashboard.body);
        assert_eq!(v.get("/api/v1/reports/semester").status, 200, "{who}");
        let csv = v.get("/api/v1/reports/complaints.csv");
        assert_eq!((csv.status, csv.body.trim_start_matches('\u{feff}').lines().count()), (200, 2), "{who}");
    }

    // Signed out, the same cookie opens nothing: casework revoked the token.
    let leader = Visitor::new(&app);
    let page = leader.sign_in("pimpinan");
    let token = leader.jar.borrow().get("ntb_sesi").cloned().unwrap();
    let r = leader.post("/petugas/keluar", &[("csrf", &page.csrf())]);
    assert_eq!(r.status, 303, "{}", r.body);
    let copy = Visitor::new(&app);
    copy.jar.borrow_mut().insert("ntb_sesi".into(), token);
    assert_eq!(copy.get("/api/v1/reports/semester").status, 401);
    assert!(copy.get("/api/v1/reports/dashboard").body.contains("Data Terbuka"));
}

// ------------------------------------------------------------------ browser tests

mod browser {
    use super::*;
    use fantoccini::{Client, ClientBuilder, Locator};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};

    const CHROMIUM: &str = "/usr/bin/chromium";
    const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

    /// Whether to run: yes when Chromium is there; a loud skip only outside CI.
    fn available() -> bool {
        let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
        if !present {
            if std::env::var_os("CI").is_some() {
                panic!("chromium and chromium-driver are missing in CI: apt-get install -y chromium chromium-driver");
            }
            eprintln!("\n*** SKIPPED: browser test: {CHROMIUM} or {CHROMEDRIVER} missing (apt-get install -y chromium chromium-driver) ***\n");
        }
        present
    }

    struct Driver {
        child: Child,
        port: u16,
        _profile: tempfile::TempDir,
    }

    impl Drop for Driver {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn start_driver() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port, _profile: tempfile::tempdir().unwrap() }
    }

    async fn open(driver: &Driver, javascript: bool) -> Client {
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1100,1400".into(),
            format!("--user-data-dir={}", driver._profile.path().display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        // The citizen's browser prefers Indonesian, as most in NTB do.
        args.push("--lang=id".into());
        let mut prefs = json!({ "intl.accept_languages": "id,en" });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let options = json!({ "binary": CHROMIUM, "args": args, "prefs": prefs });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a Chromium session")
    }

    /// Where screenshots go: docs/screenshots/ when `NTBCARE_SCREENSHOTS` is set (to refresh the
    /// committed ones), else a scratch directory, so a test run leaves the tree as it was.
    fn shots_dir() -> PathBuf {
        let dir = match std::env::var_os("NTBCARE_SCREENSHOTS") {
            Some(_) => repo_root().join("docs/screenshots"),
            None => std::env::temp_dir().join("ntbcare-screenshots"),
        };
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    struct Walk<'a> {
        app: &'a TestApp,
        c: Client,
        /// Screenshots are kept from the run with JavaScript (the pages look the same without).
        shots: bool,
    }

    impl Walk<'_> {
        async fn goto(&self, path: &str) {
            self.c.goto(&self.app.url(path)).await.unwrap();
            // Under load the driver can hand back an empty document before the page has been
            // parsed: wait for the footer every portal page ends with.
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while !self.source().await.contains("</footer>") && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        async fn fill(&self, css: &str, text: &str) {
            let e = self.c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
            e.clear().await.ok();
            e.send_keys(text).await.unwrap();
        }

        async fn select(&self, css: &str, value: &str) {
            let e = self.c.find(Locator::Css(css)).await.unwrap();
            e.select_by_value(value).await.unwrap_or_else(|e| panic!("{css}={value}: {e}"));
        }

        async fn click(&self, css: &str) {
            self.c
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"))
                .click()
                .await
                .unwrap();
        }

        async fn source(&self) -> String {
            self.c.source().await.unwrap()
        }

        async fn text(&self, css: &str) -> String {
            self.c.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
        }

        async fn path(&self) -> String {
            let url = self.c.current_url().await.unwrap();
            let q = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{}{q}", url.path())
        }

        /// Wait for the navigation a click started: until the address is `want` (or ends so).
        async fn arrive(&self, want: &str) -> String {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let path = self.path().await;
                if path == want || path.ends_with(want) {
                    // The address changes when the answer starts; let the page finish loading.
                    self.c.find(Locator::Css("footer")).await.unwrap();
                    return path;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "still at {path}, not {want}:\n{}",
                    self.source().await
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        async fn shot(&self, name: &str) {
            self.shot_at(name, 1100).await;
            self.c.set_window_size(1100, 1400).await.ok();
        }

        /// A screenshot of the whole page at `width` px (the window left at that width).
        async fn shot_at(&self, name: &str, width: u32) {
            if !self.shots {
                return;
            }
            self.c.set_window_size(width, 900).await.ok();
            // Grow the window to the page, so the picture shows all of it.
            let height = self
                .c
                .execute("return document.documentElement.scrollHeight", vec![])
                .await
                .ok()
                .and_then(|v| v.as_u64())
                .unwrap_or(1400)
                .clamp(600, 6000);
            self.c.set_window_size(width, height as u32 + 140).await.ok();
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
        }

        /// The page's width and the viewport's at a window `width` px wide: a page that fits
        /// has `scrollWidth <= innerWidth` (no sideways scrolling).
        async fn widths_at(&self, width: u32) -> (u64, u64) {
            self.c.set_window_size(width, 800).await.unwrap();
            let v = self
                .c
                .execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![])
                .await
                .unwrap();
            (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
        }

        /// Wait until the address is `want` (or ends so) and a page has loaded, for pages
        /// without the portal's footer (reporting's).
        async fn arrive_at(&self, want: &str) {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let path = self.path().await;
                if path == want || path.ends_with(want) {
                    self.c.find(Locator::Css("h1")).await.unwrap();
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "still at {path}, not {want}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        /// The browser's cookies as a `Cookie` header (HttpOnly ones included: WebDriver sees
        /// them), to fetch a download as this browser would, under its session.
        async fn cookie_header(&self) -> String {
            let cookies = self.c.get_all_cookies().await.unwrap();
            cookies.iter().map(|c| format!("{}={}", c.name(), c.value())).collect::<Vec<_>>().join("; ")
        }

        async fn sign_in(&self, username: &str) {
            self.goto("/petugas/masuk").await;
            self.fill("#f-username", username).await;
            self.fill("#f-password", PASSWORD).await;
            self.click("form[action='/petugas/masuk'] button[type=submit]").await;
            self.arrive("/petugas").await;
        }

        async fn sign_out(&self) {
            self.click("header form[action='/petugas/keluar'] button").await;
            self.arrive("/petugas/masuk?ok=keluar").await;
        }

        async fn act(&self, ticket: &str, action: &str) {
            self.click(&format!("#aksi-{action} button[type=submit]")).await;
            self.arrive(&format!("/petugas/kasus/{ticket}?ok={action}")).await;
        }
    }

    async fn walk(javascript: bool) {
        let app = desk();
        let driver = start_driver();
        let w = Walk { app: &app, c: open(&driver, javascript).await, shots: javascript };

        // A citizen files a complaint with a photo.
        w.goto("/").await;
        let home = w.source().await;
        assert!(home.contains("Sampaikan pengaduan Anda"), "{} {home}", w.path().await);
        w.shot("beranda").await;
        w.click("main a[href='/lapor']").await;
        w.arrive("/lapor").await;
        // The portal's script adds a character counter: proof of whether scripts ran.
        let js_on = w.source().await.contains("class=\"counter\"");
        assert_eq!(js_on, javascript, "JavaScript ran: {js_on}");
        w.fill("#f-description", "Jalan berlubang di depan SDN 3 Mataram; dua motor jatuh minggu ini.").await;
        w.select("#f-category", "infrastruktur").await;
        w.select("#f-region_code", "52.71").await;
        w.fill("#f-address", "Jl. Pejanggik, depan SDN 3").await;
        let photos = tempfile::tempdir().unwrap();
        let photo = photos.path().join("jalan-berlubang.png");
        std::fs::write(&photo, PHOTO_PNG).unwrap();
        w.c.find(Locator::Css("#f-photo"))
            .await
            .unwrap()
            .send_keys(&photo.display().to_string())
            .await
            .unwrap();
        w.click("#p-confidential").await;
        w.fill("#f-phone", "0812 3456 7890").await;
        w.shot("lapor").await;
        w.click("form[action='/lapor'] button[type=submit]").await;
        w.arrive("/lapor/terkirim").await;
        let ticket = w.text("#tiket").await;
        let secret = w.text("#kode").await;
        assert!(ticket.starts_with("NTB-26-") || ticket.starts_with("NTB-"), "{ticket}");
        let receipt = w.source().await;
        assert!(receipt.contains("Foto Anda terlampir") || receipt.contains("foto belum dapat dilampirkan"));
        w.shot("terkirim").await;

        // It tracks it by the link on the receipt (the private link holds the secret; its
        // host is `public_base_url`, not this test's port).
        let link =
            w.c.find(Locator::Css("#tautan-lacak")).await.unwrap().attr("href").await.unwrap().unwrap();
        assert!(link.ends_with(&format!("/lacak/{ticket}?kode={secret}")), "{link}");
        w.click("#lihat-lacak").await;
        w.arrive(&format!("/lacak/{ticket}?kode={secret}")).await;
        assert!(w.source().await.contains("Diterima"));
        w.goto("/lacak").await;
        w.shot("lacak-form").await;
        w.fill("#f-tiket", &ticket).await;
        w.fill("#f-kode", &secret).await;
        w.click("form[action='/lacak'] button[type=submit]").await;
        w.arrive(&format!("/lacak/{ticket}?kode={secret}")).await;

        // The coordinator verifies and dispatches; the unit accepts and answers.
        w.sign_in("koordinator").await;
        assert!(w.source().await.contains(&ticket));
        w.shot("petugas-triase").await;
        w.click(&format!("a[href='/petugas/kasus/{ticket}']")).await;
        w.arrive(&format!("/petugas/kasus/{ticket}")).await;
        w.fill("#verify-title", "Jalan berlubang depan SDN 3").await;
        w.select("#verify-priority", "important").await;
        w.act(&ticket, "verify").await;
        w.act(&ticket, "dispatch").await;
        w.sign_out().await;
        w.shot("petugas-masuk").await;

        w.sign_in("mataram").await;
        w.shot("petugas-antrean").await;
        w.click(&format!("a[href='/petugas/kasus/{ticket}']")).await;
        w.arrive(&format!("/petugas/kasus/{ticket}")).await;
        w.act(&ticket, "accept").await;
        w.fill("#respond-answer", ANSWER).await;
        w.shot("petugas-kasus").await;
        w.act(&ticket, "respond").await;
        assert!(w.source().await.contains(ANSWER));
        w.sign_out().await;

        // The inspectorate's read-only view opens (nothing is overdue yet).
        w.sign_in("inspektur").await;
        assert!(w.source().await.contains("Semua yang terlambat"));
        w.shot("inspektorat").await;
        w.sign_out().await;

        // The citizen reads the answer and rates it.
        w.goto(&format!("/lacak/{ticket}?kode={secret}")).await;
        assert!(w.source().await.contains(ANSWER));
        w.click("#s-4").await;
        w.click("#r-yes").await;
        w.fill("#f-komentar", "Terima kasih, sudah rapi.").await;
        w.shot("lacak").await;
        w.click("form[action$='/nilai'] button[type=submit]").await;
        w.arrive("&ok=nilai").await;
        let page = w.source().await;
        assert!(page.contains("4/5"), "{page}");
        w.shot("lacak-dinilai").await;

        // English.
        w.goto("/lapor?lang=en").await;
        assert!(w.source().await.contains("File a complaint"));
        w.shot("lapor-en").await;
        w.c.close().await.unwrap();
    }

    #[test]
    fn a_citizen_and_officers_walk_through_the_real_pages_in_chromium() {
        if !available() {
            return;
        }
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(walk(true));
    }

    #[test]
    fn the_same_walk_works_with_javascript_disabled() {
        if !available() {
            return;
        }
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(walk(false));
    }

    /// Phones sold in NTB are mostly 360 px wide; 320 and 375 px are the narrow and the common
    /// iPhone ends. Each citizen page (home, the form in both languages, the receipt, the
    /// tracking form, a complaint's public page, the complainant's page, with the reply form
    /// for an officer's question and with the rating form) is measured at the three widths.
    async fn phone_walk() {
        const WIDTHS: [u32; 3] = [320, 360, 375];
        let app = desk();
        let driver = start_driver();
        let w = Walk { app: &app, c: open(&driver, true).await, shots: true };
        let mut too_wide = vec![];
        // Measure the page open now at every width; keep a picture of it at 360 px.
        async fn measure(w: &Walk<'_>, name: &str, too_wide: &mut Vec<String>) {
            for width in WIDTHS {
                let (page, viewport) = w.widths_at(width).await;
                assert!(viewport <= width as u64, "the window did not shrink to {width}: {viewport}");
                if page > viewport {
                    // Name the widest elements that stick out, to say what to fix.
                    let culprits = w
                        .c
                        .execute(
                            "return [...document.querySelectorAll('body *')]\
                               .filter(e => e.getBoundingClientRect().right > window.innerWidth)\
                               .slice(-3).map(e => e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right))",
                            vec![],
                        )
                        .await
                        .unwrap();
                    too_wide.push(format!("{name} at {width} px: {page} px wide in {viewport}: {culprits}"));
                }
            }
            w.shot_at(&format!("hp-{name}"), 360).await;
        }

        w.goto("/").await;
        measure(&w, "beranda", &mut too_wide).await;
        w.goto("/lapor?lang=en").await;
        measure(&w, "lapor-en", &mut too_wide).await;
        w.goto("/lapor?lang=id").await;
        w.fill("#f-description", "Jalan berlubang di depan SDN 3 Mataram; dua motor jatuh minggu ini.").await;
        w.select("#f-category", "infrastruktur").await;
        w.select("#f-region_code", "52.71").await;
        w.fill("#f-phone", "081234567890").await;
        measure(&w, "lapor", &mut too_wide).await;
        w.click("form[action='/lapor'] button[type=submit]").await;
        w.arrive("/lapor/terkirim").await;
        let ticket = w.text("#tiket").await;
        let secret = w.text("#kode").await;
        measure(&w, "terkirim", &mut too_wide).await;
        w.goto("/lacak").await;
        measure(&w, "lacak-form", &mut too_wide).await;
        w.goto(&format!("/lacak/{ticket}")).await;
        measure(&w, "lacak-publik", &mut too_wide).await;
        w.goto(&format!("/lacak/{ticket}?kode={secret}")).await;
        measure(&w, "lacak", &mut too_wide).await;
        // The ticket in the heading is never broken over two lines, even at 320 px.
        w.c.set_window_size(320, 800).await.unwrap();
        let lines =
            w.c.execute("return document.querySelector('h1 .nowrap').getClientRects().length", vec![]);
        assert_eq!(lines.await.unwrap().as_u64(), Some(1), "the ticket wraps in the heading");

        // The unit asks a question: the complainant's page carries the reply form.
        let coordinator = Visitor::new(&app);
        coordinator.sign_in("koordinator");
        assert_eq!(coordinator.act(&ticket, &[("action", "verify")]).status, 303);
        assert_eq!(coordinator.act(&ticket, &[("action", "dispatch")]).status, 303);
        let officer = Visitor::new(&app);
        officer.sign_in("mataram");
        assert_eq!(officer.act(&ticket, &[("action", "accept")]).status, 303);
        let r = officer
            .act(&ticket, &[("action", "request-information"), ("question", "Di sisi mana lubangnya?")]);
        assert_eq!(r.status, 303, "{}", r.body);
        w.goto(&format!("/lacak/{ticket}?kode={secret}")).await;
        assert!(w.source().await.contains("/jawab"), "the reply form is there");
        measure(&w, "lacak-jawab", &mut too_wide).await;

        // The unit answers: the page carries the rating form.
        let r = officer.act(&ticket, &[("action", "respond"), ("answer", ANSWER)]);
        assert_eq!(r.status, 303, "{}", r.body);
        w.goto(&format!("/lacak/{ticket}?kode={secret}")).await;
        assert!(w.source().await.contains("/nilai"), "the rating form is there");
        measure(&w, "lacak-nilai", &mut too_wide).await;
        w.c.close().await.unwrap();
        assert!(too_wide.is_empty(), "pages scroll sideways:\n{}", too_wide.join("\n"));
    }

    #[test]
    fn citizen_pages_fit_phone_screens_of_320_360_and_375_px_without_sideways_scrolling() {
        if !available() {
            return;
        }
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(phone_walk());
    }

    /// A leader signs in on the portal and reads the dashboard, the semester report and a CSV
    /// export from the leadership desk, with nothing but the portal's session cookie.
    async fn leader_walk() {
        let app = desk();
        let citizen = Visitor::new(&app);
        file(&citizen, &road(), None);
        let driver = start_driver();
        let w = Walk { app: &app, c: open(&driver, true).await, shots: true };
        w.c.set_window_size(1366, 900).await.unwrap();
        w.sign_in("pimpinan").await;
        let desk_page = w.source().await;
        assert!(desk_page.contains("Meja pimpinan") && desk_page.contains("id=\"laporan\""), "{desk_page}");
        assert!(!desk_page.contains("id=\"cari-tiket\""), "leadership reads figures, not cases");
        w.shot_at("pimpinan-meja", 1366).await;

        // The dashboard: leadership's, with every agency, not the public open data.
        w.click("#lap-dasbor").await;
        w.arrive_at("/api/v1/reports/dashboard?lang=id").await;
        let dashboard = w.source().await;
        assert!(
            dashboard.contains("id=\"unit-chart\"") && dashboard.contains("id=\"overdue\""),
            "the leadership dashboard: {dashboard}"
        );
        assert!(!dashboard.contains("Data Terbuka"), "not the public view");
        w.shot_at("pimpinan-dasbor", 1366).await;

        // The semester report, with the agency scorecard.
        w.goto("/petugas").await;
        w.click("#lap-semester").await;
        w.arrive_at("/api/v1/reports/semester?lang=id").await;
        let report = w.source().await;
        assert!(report.contains("id=\"scorecard\""), "{report}");
        w.shot_at("pimpinan-semester", 1366).await;

        // A CSV export, fetched with this browser's cookies (a download does not navigate).
        w.goto("/petugas").await;
        let href =
            w.c.find(Locator::Css("#csv-pengaduan")).await.unwrap().attr("href").await.unwrap().unwrap();
        let cookies = w.cookie_header().await;
        assert!(cookies.contains("ntb_sesi="), "{cookies}");
        let csv = ureq::get(&app.url(&href)).set("cookie", &cookies).call().unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
        let body = csv.into_string().unwrap();
        assert_eq!(
            body.trim_start_matches('\u{feff}').lines().count(),
            2,
            "a header and the one complaint: {body}"
        );
        // Without the session the same address is refused.
        assert_eq!(app.get(&href).unwrap().status, 401);
        w.c.close().await.unwrap();
    }

    #[test]
    fn a_leader_reads_the_dashboard_semester_report_and_csv_from_the_portal_session() {
        if !available() {
            return;
        }
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(leader_walk());
    }

    /// A citizen phones in and reads out their ticket; the officer types it as heard.
    async fn search_walk() {
        let app = desk();
        let citizen = Visitor::new(&app);
        let (ticket, _, _) = file(&citizen, &road(), Some(&PHOTO_PNG));
        let driver = start_driver();
        let w = Walk { app: &app, c: open(&driver, true).await, shots: true };
        w.c.set_window_size(1366, 900).await.unwrap();
        w.sign_in("koordinator").await;
        // The desk uses a desktop screen: the queue is wider than the old 930-px column.
        let main_width =
            w.c.execute("return document.querySelector('main').clientWidth", vec![]).await.unwrap();
        assert!(main_width.as_u64().unwrap() > 1200, "main is {main_width} px wide at 1366");
        w.shot_at("petugas-triase-lebar", 1366).await;
        let typed = ticket.to_lowercase().replace('-', "");
        w.fill("#cari-tiket", &typed).await;
        w.click("form.search button[type=submit]").await;
        w.arrive(&format!("/petugas/kasus/{ticket}")).await;
        let case = w.source().await;
        assert!(case.contains(&ticket), "{case}");
        // The photo is shown, not only linked (the complaint is anonymous, not confidential).
        let img = w.c.find(Locator::Css("#lampiran img")).await.unwrap();
        let natural =
            w.c.execute("return document.querySelector('#lampiran img').naturalWidth", vec![]).await.unwrap();
        assert_eq!(natural.as_u64(), Some(8), "the photo loaded");
        assert!(img.attr("alt").await.unwrap().unwrap().starts_with("Foto dari pelapor"));
        // One language at a time: no "Anonim / Anonymous".
        assert!(!case.contains("Anonim / Anonymous"), "{case}");
        // The ticket in the heading stays on one line.
        let lines =
            w.c.execute(
                "const e = document.querySelector('h1 .nowrap'); return e.getClientRects().length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(lines.as_u64(), Some(1));
        w.shot_at("petugas-kasus-lebar", 1366).await;
        w.c.close().await.unwrap();
    }

    #[test]
    fn an_officer_finds_a_case_by_typing_its_ticket_in_lower_case_without_dashes() {
        if !available() {
            return;
        }
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(search_walk());
    }
}

/// The `(value, label)` of each option of the `<select name="…">` on the page, blank ones left out.
fn select_options(body: &str, name: &str) -> Vec<(String, String)> {
    let start =
        body.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no select {name} in {body}"));
    let end = start + body[start..].find("</select>").unwrap();
    body[start..end]
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| {
            let (value, rest) = o.split_once('"')?;
            let label = rest.split_once('>')?.1.split('<').next()?;
            (!value.is_empty()).then(|| (value.to_string(), label.to_string()))
        })
        .collect()
}

/// What an administrator adds to the seed directory: a category and a unit, each named with
/// markup that must reach the pages as text.
const ADDED_TO_DIRECTORY: &str = r#"
[[category]]
code = "sampah-pasar"
name = "Sampah pasar <script>alert('kategori')</script>"

[[unit]]
id = "uptd-air-mataram"
name = "UPTD Air <b onmouseover=alert(1)>Mataram</b>"
kind = "utility"
region = "52.71"
"#;

#[test]
fn after_an_administrator_edits_the_directory_the_portal_offers_exactly_the_saved_one() {
    let app = desk();
    let seed = std::fs::read_to_string(repo_root().join("data/ntb-directory.toml")).unwrap();
    // A category given twice would be shadowed by the first wherever it is looked up: refused.
    let twice = format!("{seed}\n[[category]]\ncode = \"air-bersih\"\nname = \"Air minum\"\n");
    let refused = ntbcare_tests::put_raw(
        &app,
        "/api/v1/admin/directory",
        "application/toml",
        twice.as_bytes(),
        &[("authorization", &format!("Bearer {TEST_ADMIN_TOKEN}"))],
    )
    .unwrap();
    assert!((400..500).contains(&refused.status), "{} {}", refused.status, refused.body);
    assert!(refused.body.contains("appears twice"), "{}", refused.body);
    let saved = format!("{seed}\n{ADDED_TO_DIRECTORY}");
    let r = ntbcare_tests::put_raw(
        &app,
        "/api/v1/admin/directory",
        "application/toml",
        saved.as_bytes(),
        &[("authorization", &format!("Bearer {TEST_ADMIN_TOKEN}"))],
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let admin =
        |path: &str| app.get_with(path, &[("authorization", &format!("Bearer {TEST_ADMIN_TOKEN}"))]).unwrap();
    assert!(admin("/api/v1/admin/directory").body.contains("uptd-air-mataram"), "the directory was saved");

    // The form offers the saved categories, the new one included, its name as text.
    let citizen = Visitor::new(&app);
    let form = citizen.get("/lapor");
    let categories: Vec<String> =
        select_options(&form.body, "category").into_iter().map(|(v, _)| v).collect();
    let mut expected: Vec<String> =
        seed.split("[[category]]").skip(1).map(|c| attribute_after(c, "code = \"").unwrap()).collect();
    expected.push("sampah-pasar".into());
    assert_eq!(categories, expected, "{}", form.body);
    assert!(!form.body.contains("<script>alert('kategori')"), "{}", form.body);
    assert!(form.body.contains("Sampah pasar &lt;script&gt;alert("), "{}", form.body);

    // Intake accepts what the form offers: a complaint in the new category.
    let mut fields = road();
    fields[1] = ("category", "sampah-pasar");
    let (ticket, secret, _) = file(&citizen, &fields, None);
    let tracking = citizen.get(&format!("/lacak/{ticket}?kode={secret}"));
    assert!(tracking.body.contains("Sampah pasar &lt;script&gt;"), "{}", tracking.body);
    assert!(!tracking.body.contains("<script>alert('kategori')"), "{}", tracking.body);

    // The desk offers the saved units for dispatch and the saved categories for verification.
    let coordinator = Visitor::new(&app);
    let triage = coordinator.sign_in("koordinator");
    assert!(triage.body.contains("Sampah pasar &lt;script&gt;"), "{}", triage.body);
    assert!(!triage.body.contains("<script>alert('kategori')"), "{}", triage.body);
    let case = coordinator.get(&format!("/petugas/kasus/{ticket}"));
    let offered: Vec<String> = select_options(&case.body, "category").into_iter().map(|(v, _)| v).collect();
    assert_eq!(offered, expected, "{}", case.body);
    assert_eq!(coordinator.act(&ticket, &[("action", "verify")]).status, 303);
    let case = coordinator.get(&format!("/petugas/kasus/{ticket}"));
    let units = select_options(&case.body, "unit");
    let expected_units: Vec<String> =
        seed.split("[[unit]]").skip(1).map(|u| attribute_after(u, "id = \"").unwrap()).collect();
    assert_eq!(
        units.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>(),
        [expected_units, vec!["uptd-air-mataram".into()]].concat(),
        "{}",
        case.body
    );
    assert!(
        units.iter().any(|(_, l)| l == "UPTD Air &lt;b onmouseover=alert(1)&gt;Mataram&lt;/b&gt;"),
        "{units:?}"
    );
    let r = coordinator.act(&ticket, &[("action", "dispatch"), ("unit", "uptd-air-mataram")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let case = coordinator.follow(&r);
    assert!(case.body.contains("UPTD Air &lt;b onmouseover"), "{}", case.body);
    assert!(!case.body.contains("<b onmouseover"), "{}", case.body);
}
