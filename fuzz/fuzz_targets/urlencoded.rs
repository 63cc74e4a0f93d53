//! `application/x-www-form-urlencoded` bodies and query strings (Twilio, Open311, the portal's
//! forms, every component's query): never a panic; what parses writes back with
//! `form_urlencode` and reads again to the same pairs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::channels::parse_urlencoded;
use ntbcare_domain::delivery::providers::form_urlencode;

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = parse_urlencoded(data) else {
        assert!(std::str::from_utf8(data).is_err() || data.contains(&b'%'), "refused plain UTF-8 text");
        return;
    };
    assert!(pairs.len() <= data.len());
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let encoded = form_urlencode(&borrowed);
    let again = parse_urlencoded(encoded.as_bytes()).expect("an encoded form parses");
    // `form_urlencode` writes `=` after every name, so a lone empty pair is the one thing
    // that cannot survive: `""` encodes as `=`, which reads back as ("", "").
    assert_eq!(again, pairs);
});
