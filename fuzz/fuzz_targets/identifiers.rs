//! The identifiers citizens and officers type or paste, in paths, queries and messages:
//! tickets (and tickets quoted in a chat message), region codes, unit ids, report months and
//! dimensions, calendar dates and attachment names. Each one that parses writes back to
//! itself; a display name never carries a path or markup.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::calendar::Date;
use ntbcare_domain::channels::ticket_reference;
use ntbcare_domain::directory::UnitId;
use ntbcare_domain::duplicates::similarity;
use ntbcare_domain::language::Language;
use ntbcare_domain::measures::facts::{Dim, Month};
use ntbcare_domain::region::RegionCode;
use ntbcare_domain::pseudonym::DeploymentKey;
use ntbcare_domain::ticket::{Ticket, TicketKey};
use ntbcare_domain::upload::display_name;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(t) = Ticket::parse(s) {
        assert_eq!(Ticket::parse(t.as_str()).as_ref(), Ok(&t));
        assert_eq!(t.to_string(), t.as_str());
        let year = 2000 + t.as_str()[4..6].parse::<i32>().expect("two-digit year");
        let key = TicketKey::new(&DeploymentKey::new("fuzz").expect("not empty"));
        assert_eq!(Ticket::issue(year, t.sequence_under(&key), &key).as_ref(), Ok(&t), "sequence does not round-trip");
    }
    if let Some(t) = ticket_reference(s) {
        assert_eq!(Ticket::parse(t.as_str()).as_ref(), Ok(&t));
    }
    if let Ok(r) = RegionCode::parse(s) {
        assert_eq!(RegionCode::parse(r.as_str()).as_ref(), Ok(&r));
        assert!(r.is_within(&r.province()) && r.is_within(&r.regency()) || r.as_str().len() <= 2);
    }
    if let Ok(u) = UnitId::parse(s) {
        assert_eq!(UnitId::parse(u.as_str()).as_ref(), Ok(&u));
    }
    if let Some(m) = Month::parse(s) {
        assert_eq!(Month::parse(&m.to_string()), Some(m));
        assert_eq!(m.next().prev(), m);
        let (from, to) = m.semester();
        assert!(from <= m && m <= to);
    }
    let _ = Dim::parse(s);
    let _ = Language::from_accept_language(Some(s));
    // Duplicate detection compares two citizens' texts: the two halves of the input.
    let mut mid = s.len() / 2;
    while !s.is_char_boundary(mid) {
        mid -= 1;
    }
    let (a, b) = s.split_at(mid);
    let sim = similarity(a, b);
    assert!((0.0..=1.0).contains(&sim), "{sim}");
    if let Ok(d) = Date::parse(s) {
        assert_eq!(Date::parse(&d.to_string()), Ok(d));
        assert_eq!(Date::from_days(d.days()), d);
        assert_eq!(Date::of(d.start()), d);
        assert_eq!(d.next().days(), d.days() + 1);
    }
    if let Some(name) = display_name(s) {
        assert!(!name.is_empty() && name.chars().count() <= 100 && !name.starts_with('.'));
        assert!(!name.contains(['/', '\\', '<', '>', '"', '\'', '&']) && !name.chars().any(char::is_control));
    }
});
