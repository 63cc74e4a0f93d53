//! Open311 `GET` query strings and paths: `requests` filters, `jurisdiction_id`, the date
//! parameters and the route table. A parsed window is ordered and bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::open311::requests::{parse_datetime, parse_query, DEFAULT_WINDOW_DAYS, MAX_RESULTS};
use ntbcare_domain::open311::{check_jurisdiction, format_of, route};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = ntbcare_fuzz::NOW;
    if let Ok(q) = parse_query(text, now) {
        // The spec's rules: an ordered window of at most 90 days (plus the last day's end).
        assert!(q.start <= q.end, "{q:?}");
        assert!(q.end.0 - q.start.0 < (DEFAULT_WINDOW_DAYS + 1) * 86_400_000, "{q:?}");
        assert!(q.ids.len() <= MAX_RESULTS && q.limit <= MAX_RESULTS);
    }
    let _ = check_jurisdiction(text);
    for end_of_day in [false, true] {
        if let Some(t) = parse_datetime(text, end_of_day) {
            // A date-time we accept can be written back; reading the WITA form again is stable.
            let wita = t.to_rfc3339_wita();
            let again = parse_datetime(&wita, end_of_day).expect("our own RFC 3339 reads");
            assert_eq!(again.0.div_euclid(1000), t.0.div_euclid(1000), "{text:?} -> {wita}");
        }
    }
    for method in ["GET", "POST"] {
        if let Err(e) = route(method, text) {
            assert!((400..500).contains(&e.http_status()));
        }
    }
    let _ = format_of(text);
});
