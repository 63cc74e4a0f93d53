//! Officers' bearer tokens (`Authorization: Bearer …`, the portal's session cookie): no token
//! the fuzzer writes verifies (it cannot sign), and a token we issue for any principal and
//! token id verifies back to the same claims until it expires.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::clock::Timestamp;
use ntbcare_domain::directory::UnitId;
use ntbcare_domain::org::{Principal, Role};
use ntbcare_domain::session::{self, SessionError};

const SECRET: &[u8] = b"fuzz-session-secret";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = ntbcare_fuzz::NOW;
    assert!(session::verify(&text, now, SECRET).is_err(), "a token not signed by us verified");
    let unsigned = session::verify(&text, now, b"");
    assert!(matches!(unsigned, Err(SessionError::Malformed | SessionError::NoSecret)), "{unsigned:?}");

    // Round trip: the input's lines as username, unit and token id.
    let mut lines = text.split('\n');
    let username = lines.next().unwrap_or_default().to_string();
    let unit = lines.next().and_then(|u| UnitId::parse(u).ok());
    let jti = lines.next().unwrap_or_default().to_string();
    let role = [Role::Administrator, Role::LiaisonOfficer, Role::UnitHead][data.len() % 3];
    let principal = Principal { username, role, unit };
    let (token, claims) = session::issue(principal, now, jti, SECRET).expect("issue");
    assert_eq!(session::verify(&token, Timestamp(now.0 + 1), SECRET), Ok(claims.clone()));
    assert_eq!(session::verify(&token, claims.exp, SECRET), Err(SessionError::Expired));
    assert_eq!(session::verify(&token, now, b"another"), Err(SessionError::BadSignature));
});
