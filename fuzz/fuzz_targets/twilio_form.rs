//! Twilio's inbound SMS/WhatsApp webhook: the first line is `X-Twilio-Signature`, the rest
//! the form body. A forged header never verifies, the true signature over the parameters as
//! received always does, and an accepted message holds its limits.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use ntbcare_domain::channels::twilio::{self, MAX_MEDIA};
use sha1::Sha1;

const URL: &str = "https://pengaduan.ntbprov.go.id/webhooks/twilio";
const TOKEN: &str = "fuzz-auth-token";

fuzz_target!(|data: &[u8]| {
    let (header, body) = ntbcare_fuzz::header_and_body(data);
    let Ok(params) = twilio::parse_form(body) else { return };
    assert!(
        twilio::verify_signature(URL, &params, Some(&header), TOKEN).is_err(),
        "a forged signature verified"
    );

    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(URL.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    let good = STANDARD.encode(mac.finalize().into_bytes());
    twilio::verify_signature(URL, &params, Some(&good), TOKEN).expect("the true signature verifies");
    let mut reversed = params.clone();
    reversed.reverse();
    twilio::verify_signature(URL, &reversed, Some(&good), TOKEN).expect("parameter order does not matter");

    if let Ok(m) = twilio::to_message(&params) {
        assert!(!m.external_id.is_empty() && !m.sender.is_empty());
        assert!(m.media.len() <= MAX_MEDIA);
        ntbcare_fuzz::check_chat_submission(&m);
        if let Some(l) = &m.location {
            let c = &l.coordinates;
            assert!((-90.0..=90.0).contains(&c.lat) && (-180.0..=180.0).contains(&c.lon));
        }
    }
});
