//! Officer accounts (`POST /api/v1/officers`, `PATCH …/{username}`, sign-in): the fields the
//! casework component reads from the JSON body, through the domain's parsers, with the
//! checks it makes. Every accepted value is canonical: parsing it again gives it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::complaint::{EmailAddress, PhoneNumber};
use ntbcare_domain::directory::UnitId;
use ntbcare_domain::org::{check_assignment, Role, Username};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The body as JSON, as the component reads it; raw text too, as a path segment.
    let body: Value = serde_json::from_slice(data).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(data).into_owned();
        serde_json::json!({ "username": text, "role": text, "unit": text, "email": text, "phone": text })
    });
    let field = |name: &str| body.get(name).and_then(Value::as_str);

    if let Some(u) = field("username").and_then(Username::parse) {
        let s = u.as_str();
        assert!((3..=40).contains(&s.len()), "{s:?}");
        assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        assert_eq!(Username::parse(s).as_ref(), Some(&u));
    }
    let role = field("role").and_then(Role::parse);
    if let Some(r) = role {
        assert_eq!(Role::parse(r.code()), Some(r));
    }
    let unit = field("unit").and_then(|u| UnitId::parse(u).ok());
    if let Some(u) = &unit {
        assert_eq!(UnitId::parse(u.as_str()).as_ref(), Ok(u));
        assert_eq!(u.to_string(), u.as_str());
    }
    if let Some(r) = role {
        if check_assignment(r, unit.as_ref(), ntbcare_fuzz::directory()).is_ok() {
            if let Some(u) = &unit {
                assert!(ntbcare_fuzz::directory().unit(u).is_some(), "assigned to an unknown unit");
            } else {
                assert!(!r.needs_unit());
            }
        }
    }
    if let Some(e) = field("email").and_then(EmailAddress::parse) {
        assert!(e.as_str().len() <= 254 && e.as_str().contains('@'));
        assert_eq!(EmailAddress::parse(e.as_str()).as_ref(), Some(&e));
    }
    if let Some(p) = field("phone").and_then(PhoneNumber::parse) {
        let digits = p.as_str().strip_prefix('+').expect("E.164 starts with +");
        assert!((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(PhoneNumber::parse(p.as_str()).as_ref(), Some(&p));
    }
});
