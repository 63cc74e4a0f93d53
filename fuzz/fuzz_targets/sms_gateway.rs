//! The SMS gateway's webhook: line 1 `X-NTBCare-Signature`, line 2 `X-NTBCare-Timestamp`, the
//! rest the JSON body. Forged headers never verify; the true signature verifies when fresh
//! and is refused as stale outside the replay window; an accepted SMS reassembles without
//! panicking; RFC 3339 times read back from our own writing.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use ntbcare_domain::channels::sms_gateway::{self, Reassembly, REPLAY_WINDOW_SECONDS};
use ntbcare_domain::channels::ChannelError;
use ntbcare_domain::clock::Timestamp;
use sha2::Sha256;

const SECRET: &str = "fuzz-gateway-secret";

fn sign(timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fuzz_target!(|data: &[u8]| {
    let now = ntbcare_fuzz::NOW;
    let (signature, rest) = ntbcare_fuzz::first_line(data);
    let (timestamp, body) = ntbcare_fuzz::first_line(rest);
    let signature = String::from_utf8_lossy(signature);
    let timestamp = String::from_utf8_lossy(timestamp);
    let forged = sms_gateway::verify_signature(body, Some(&signature), Some(&timestamp), SECRET, now);
    assert!(forged.is_err(), "a forged signature verified");

    let fresh = (now.0 / 1000).to_string();
    sms_gateway::verify_signature(body, Some(&sign(&fresh, body)), Some(&fresh), SECRET, now)
        .expect("the true, fresh signature verifies");
    let old = (now.0 / 1000 - REPLAY_WINDOW_SECONDS - 1).to_string();
    assert!(matches!(
        sms_gateway::verify_signature(body, Some(&sign(&old, body)), Some(&old), SECRET, now),
        Err(ChannelError::Stale { .. })
    ));
    // Whatever digits the fuzzer puts in the timestamp, a true signature over them either
    // verifies or is stale, and the age arithmetic never overflows.
    let _ = sms_gateway::verify_signature(body, Some(&sign(&timestamp, body)), Some(&timestamp), SECRET, now);

    if let Ok(sms) = sms_gateway::parse(body) {
        assert!(!sms.message.external_id.is_empty() && !sms.message.sender.is_empty());
        ntbcare_fuzz::check_chat_submission(&sms.message);
        if let Some(stored) = sms.stored_part(now) {
            assert!(stored.index >= 1 && stored.index <= stored.count, "{stored:?}");
            let others = [stored.clone()];
            match sms.reassemble(&others, now) {
                Reassembly::Complete(_) => {}
                Reassembly::Waiting { missing } => assert!(missing.len() < stored.count as usize),
            }
            let _ = sms.reassemble(&[], Timestamp(i64::MAX));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(t) = sms_gateway::parse_rfc3339(text) {
            let again = sms_gateway::parse_rfc3339(&t.to_rfc3339_wita()).expect("our own RFC 3339 reads");
            assert_eq!(again.0, t.0.div_euclid(1000) * 1000, "{text:?}");
        }
    }
});
