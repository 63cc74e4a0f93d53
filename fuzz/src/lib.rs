//! Shared pieces of the fuzz targets: the seed documents the parsers check against, a fixed
//! clock, and small helpers that cut one fuzz input into the several values a parser takes
//! (a body and its headers, say), so every target reads raw bytes and the corpora stay
//! plain files that a person can open.

use std::sync::OnceLock;

use ntbcare_domain::clock::Timestamp;
use ntbcare_domain::complaint::{limits, Submission};
use ntbcare_domain::directory::Directory;

/// The shipped directory: what production parses against until an administrator edits it.
pub fn directory() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(Directory::seed)
}

/// A fixed "now" (2026-11-29 09:30 WITA) so a run is reproducible.
pub const NOW: Timestamp = Timestamp(1_795_915_800_000);

/// Split at the first `\n`: a one-line header (a boundary, a signature…) and the rest.
pub fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The same as [`first_line`], with the header read as (lossy) text.
pub fn header_and_body(data: &[u8]) -> (String, &[u8]) {
    let (head, body) = first_line(data);
    (String::from_utf8_lossy(head).into_owned(), body)
}

/// Assert what every accepted complaint, whatever channel it came by, must hold: the limits
/// documented in `complaint::limits`, trimmed text, a region and category the directory knows,
/// coordinates inside NTB's box and contact details in their canonical form.
pub fn check_submission(s: &Submission) {
    let dir = directory();
    let d = &s.description;
    assert!(d.chars().count() >= limits::DESCRIPTION_MIN_CHARS, "description too short: {d:?}");
    assert!(d.chars().count() <= limits::DESCRIPTION_MAX_CHARS);
    assert_eq!(d.trim(), d, "description not trimmed");
    if let Some(t) = &s.title {
        assert!(!t.is_empty() && t.chars().count() <= limits::TITLE_MAX_CHARS && t.trim() == t);
    }
    if let Some(a) = &s.location.address {
        assert!(!a.is_empty() && a.chars().count() <= limits::ADDRESS_MAX_CHARS);
    }
    assert!(dir.region(&s.location.region_code).is_some(), "region not in the directory");
    if let Some(c) = &s.category {
        assert!(dir.category(c).is_some(), "category not in the directory: {c:?}");
    }
    if let Some(c) = &s.location.coordinates {
        assert!((-9.6..=-7.6).contains(&c.lat) && (115.6..=119.6).contains(&c.lon), "{c:?}");
    }
    if let Some(n) = &s.reporter.name {
        assert!(!n.is_empty() && n.chars().count() <= limits::NAME_MAX_CHARS);
    }
    if let Some(p) = &s.reporter.phone {
        let again = ntbcare_domain::complaint::PhoneNumber::parse(p.as_str());
        assert_eq!(again.as_ref(), Some(p), "a phone number is not canonical");
    }
    if let Some(e) = &s.reporter.email {
        let again = ntbcare_domain::complaint::EmailAddress::parse(e.as_str());
        assert_eq!(again.as_ref(), Some(e), "an e-mail address is not canonical");
    }
}

/// Assert what a complaint opened from a chat message (WhatsApp, Messenger, Instagram, SMS)
/// must hold: `conversation::submission_from` places it in the province and keeps what the
/// citizen sent within the same limits as a web complaint's.
pub fn check_chat_submission(msg: &ntbcare_domain::channels::InboundMessage) {
    let s = ntbcare_domain::conversation::submission_from(msg);
    let chars = s.description.chars().count();
    assert!((1..=limits::DESCRIPTION_MAX_CHARS).contains(&chars), "description of {chars} chars");
    assert!(directory().region(&s.location.region_code).is_some());
    if let Some(a) = &s.location.address {
        let n = a.chars().count();
        assert!(
            n <= limits::ADDRESS_MAX_CHARS,
            "an address of {n} chars (limit {})",
            limits::ADDRESS_MAX_CHARS
        );
    }
    if let Some(name) = &s.reporter.name {
        let n = name.chars().count();
        assert!(
            n <= limits::NAME_MAX_CHARS,
            "a reporter name of {n} chars (limit {})",
            limits::NAME_MAX_CHARS
        );
    }
    assert_eq!(s.attachments.len(), msg.media.len());
}
