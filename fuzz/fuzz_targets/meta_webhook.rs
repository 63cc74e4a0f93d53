//! Meta's webhook (WhatsApp Cloud API, Messenger, Instagram): the first line is the
//! `X-Hub-Signature-256` header, the rest the raw body. No header the fuzzer writes verifies
//! (it cannot know the secret), the body's real signature always does, and `parse` never
//! panics whatever the body's shape; the subscription handshake reads any query string.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use ntbcare_domain::channels::meta::{self, MetaEvent};
use sha2::Sha256;

const SECRET: &str = "fuzz-app-secret";

fuzz_target!(|data: &[u8]| {
    let (header, body) = ntbcare_fuzz::header_and_body(data);
    assert!(meta::verify_signature(body, Some(&header), SECRET).is_err(), "a forged signature verified");
    assert!(meta::verify_signature(body, None, SECRET).is_err());
    assert!(meta::verify_signature(body, Some(&header), "").is_err(), "no secret, yet verified");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    meta::verify_signature(body, Some(&format!("sha256={hex}")), SECRET)
        .expect("the true signature verifies");
    meta::verify_signature(body, Some(&format!("SHA256={}", hex.to_uppercase())), SECRET)
        .expect("the header is read in either case");

    if let Ok(events) = meta::parse(body) {
        for e in events {
            match e {
                MetaEvent::Message(m) => {
                    if let Some(l) = &m.location {
                        let c = &l.coordinates;
                        assert!((-90.0..=90.0).contains(&c.lat) && (-180.0..=180.0).contains(&c.lon));
                    }
                    let _ = (m.text_or_caption(), m.phone());
                    ntbcare_fuzz::check_chat_submission(&m);
                }
                MetaEvent::Malformed(err) => {
                    let _ = (err.code(), err.message());
                }
                MetaEvent::Status(_) | MetaEvent::Ignored { .. } => {}
            }
        }
    }
    if let Ok(query) = std::str::from_utf8(data) {
        if let Ok(challenge) = meta::verify_handshake_query(query, "fuzz-verify-token") {
            // Reflected verbatim, so it must be harmless text.
            assert!(!challenge.is_empty() && challenge.len() <= 256);
            assert!(challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }
});
