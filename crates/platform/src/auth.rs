//! Who is calling, for every function that serves officers: the administrator's token, or
//! an officer's signed session that has neither expired nor been signed out. One
//! implementation, so casework, reporting and the portal cannot disagree about it.

use ntbcare_domain::clock::Clock;
use ntbcare_domain::keys;
use ntbcare_domain::language::Text;
use ntbcare_domain::org::{accounts, Principal, Role};
use ntbcare_domain::session::{self, Claims};
use ntbcare_domain::store::KeyValue;
use spin_sdk::http::Request;

use crate::http::constant_time_eq;
use crate::{variable, ApiError, ApiResult, SpinStore, SystemClock};

/// The bearer token of a request, if it carries one.
pub fn bearer(req: &Request) -> Option<&str> {
    req.header("authorization").and_then(|v| v.as_str()).and_then(|v| v.strip_prefix("Bearer "))
}

/// The caller of a bearer token: the administrator, or an officer's valid session (with its
/// claims) of an account still active, with the role and unit the account has now. A token
/// that is neither is refused (401) with a reason an officer can act on.
pub fn principal_of(token: &str) -> ApiResult<(Principal, Option<Claims>)> {
    let admin = variable("admin_token")?;
    if !admin.is_empty() && constant_time_eq(token.as_bytes(), admin.as_bytes()) {
        return Ok((Principal { username: "admin".into(), role: Role::Administrator, unit: None }, None));
    }
    let claims =
        session::verify(token, SystemClock.now(), variable("session_secret")?.as_bytes()).map_err(|e| {
            let mut err = ApiError::unauthorized();
            err.message =
                Text::new("Sesi tidak sah atau sudah berakhir; silakan masuk lagi.", format!("{e}."));
            err
        })?;
    let store = SpinStore::open_default()?;
    if store.exists(&keys::revoked_session(&claims.jti))? {
        return Err(ApiError::unauthorized());
    }
    // The account as it stands now decides, not the token: deactivated is signed out
    // everywhere, moved acts for the new unit (`accounts::current`).
    let principal = accounts::current(&store, &claims.principal)?.ok_or_else(ApiError::unauthorized)?;
    Ok((principal, Some(claims)))
}

/// The caller, or none when the request carries no token.
pub fn caller(req: &Request) -> ApiResult<Option<(Principal, Option<Claims>)>> {
    bearer(req).map(principal_of).transpose()
}

/// The caller, who must be signed in (401 otherwise).
pub fn authenticate(req: &Request) -> ApiResult<(Principal, Option<Claims>)> {
    principal_of(bearer(req).ok_or_else(ApiError::unauthorized)?)
}
