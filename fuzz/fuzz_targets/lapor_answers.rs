//! LAPOR!'s answers (SP4N-LAPOR! integrator API): the first two bytes are the HTTP status,
//! the rest the body, read by every parser of `lapor::wire`. Ids that come back are never
//! blank; an error status is never mistaken for success.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::lapor::wire::{self, WireResponse};

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]) % 600, rest.to_vec()),
        _ => return,
    };
    let resp = WireResponse { status, body };
    let ok = (200..300).contains(&status);
    let id_ok = |id: &str| !id.is_empty() && id.trim() == id;

    let created = wire::parse_created(&resp);
    assert!(ok || created.is_err(), "HTTP {status} read as created");
    if let Ok(id) = &created {
        assert!(id_ok(id), "{id:?}");
    }
    if let Err(e) = &created {
        let _ = (e.delivery(), e.is_outage(), e.to_string());
    }
    if let Ok(d) = wire::parse_detail(&resp) {
        assert!(ok);
        if let Some(id) = &d.disposition_id {
            assert!(id_ok(id));
        }
    }
    if let Ok(items) = wire::parse_followups(&resp) {
        assert!(ok);
        for f in items {
            assert!(!f.key.is_empty());
        }
    }
    if let Ok(items) = wire::parse_master(&resp) {
        assert!(ok);
        for m in items {
            assert!(id_ok(&m.id));
        }
    }
    if let Ok(items) = wire::parse_complaints(&resp) {
        assert!(ok);
        for c in items {
            assert!(id_ok(&c.id));
        }
    }
});
