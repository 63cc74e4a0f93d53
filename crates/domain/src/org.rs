//! Officers, their roles, and what each may see and do.
//!
//! Roles follow LAPOR!'s two tiers: a provincial coordinator verifies and dispatches (Admin
//! Koordinator), an agency liaison officer answers for one unit (Admin Penghubung), a unit
//! head approves answers and receives escalations; each regency/city has its own
//! coordinator; the inspectorate oversees everything read-only; leadership reads reports
//! only. Authorisation is decided here, once, for every component that acts on cases.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::complaint::Complaint;
use crate::directory::{Directory, UnitId, UnitKind};
use crate::lifecycle::{Action, CaseStatus};
use crate::region::RegionCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Manages units, officers, rules and the calendar.
    Administrator,
    /// Verifies and dispatches every complaint in the province.
    ProvincialCoordinator,
    /// Verifies and dispatches for one regency or city.
    RegencyCoordinator,
    /// Answers for one unit.
    LiaisonOfficer,
    /// Heads one unit: answers, and receives its escalations.
    UnitHead,
    /// Oversees everything, read-only; receives late escalations.
    Inspectorate,
    /// Reads reports only.
    Leadership,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::ProvincialCoordinator => "provincial-coordinator",
            Role::RegencyCoordinator => "regency-coordinator",
            Role::LiaisonOfficer => "liaison-officer",
            Role::UnitHead => "unit-head",
            Role::Inspectorate => "inspectorate",
            Role::Leadership => "leadership",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Administrator,
            Role::ProvincialCoordinator,
            Role::RegencyCoordinator,
            Role::LiaisonOfficer,
            Role::UnitHead,
            Role::Inspectorate,
            Role::Leadership,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }

    /// Whether the role acts for one unit, which the account must name.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::RegencyCoordinator | Role::LiaisonOfficer | Role::UnitHead)
    }
}

/// A username: 3–40 lowercase letters, digits, dots, dashes or underscores.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Option<Username> {
        let s = s.trim().to_lowercase();
        let ok = (3..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
        ok.then_some(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Username::parse(&s).ok_or_else(|| format!("`{s}` is not a username"))
    }
}

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An officer's account, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    pub username: Username,
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    /// Argon2id in PHC string form.
    pub password_hash: String,
    pub active: bool,
    /// Where the officer hears of new work and escalations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<crate::complaint::EmailAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<crate::complaint::PhoneNumber>,
}

/// Who is acting: an officer as their signed session says, or the administrator token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum OfficerError {
    #[error("role `{0}` is not known")]
    UnknownRole(String),
    #[error("role `{0}` acts for one unit: name it")]
    UnitRequired(&'static str),
    #[error("role `{0}` does not belong to a unit")]
    UnitNotAllowed(&'static str),
    #[error("unit `{0}` is not in the directory")]
    UnknownUnit(String),
    #[error("a regency coordinator's unit must be a regency or city government")]
    NotAGovernment,
    #[error("the password must have at least {0} characters")]
    WeakPassword(usize),
}

pub const PASSWORD_MIN_CHARS: usize = 10;

/// Check a role and unit against the directory.
pub fn check_assignment(
    role: Role,
    unit: Option<&UnitId>,
    directory: &Directory,
) -> Result<(), OfficerError> {
    match (role.needs_unit(), unit) {
        (true, None) => Err(OfficerError::UnitRequired(role.code())),
        (false, Some(_)) if role != Role::ProvincialCoordinator => {
            Err(OfficerError::UnitNotAllowed(role.code()))
        }
        (_, Some(u)) => {
            let found = directory.unit(u).ok_or_else(|| OfficerError::UnknownUnit(u.to_string()))?;
            if role == Role::RegencyCoordinator && !matches!(found.kind, UnitKind::Regency | UnitKind::City) {
                return Err(OfficerError::NotAGovernment);
            }
            Ok(())
        }
        (_, None) => Ok(()),
    }
}

/// Hash a password with Argon2id under a caller-supplied random salt (at least 16 bytes).
pub fn hash_password(password: &str, salt: &[u8]) -> Result<String, OfficerError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(OfficerError::WeakPassword(PASSWORD_MIN_CHARS));
    }
    let salt = SaltString::encode_b64(salt).expect("salt of 16+ bytes encodes");
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes")
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// The region a principal coordinates, for regency coordinators.
fn coordinated_region<'d>(p: &Principal, directory: &'d Directory) -> Option<&'d RegionCode> {
    (p.role == Role::RegencyCoordinator)
        .then(|| p.unit.as_ref().and_then(|u| directory.unit(u)).map(|u| &u.region))
        .flatten()
}

/// Whether a complaint lies within a regency coordinator's region: by where the problem is
/// or by the unit holding it.
fn within_region(c: &Complaint, region: &RegionCode, directory: &Directory) -> bool {
    c.location.region_code.is_within(region)
        || c.unit.as_ref().and_then(|u| directory.unit(u)).is_some_and(|u| u.region.is_within(region))
}

/// Whether `p` may read the case.
pub fn can_view(p: &Principal, c: &Complaint, directory: &Directory) -> bool {
    match p.role {
        Role::Administrator | Role::ProvincialCoordinator | Role::Inspectorate => true,
        Role::RegencyCoordinator => {
            coordinated_region(p, directory).is_some_and(|r| within_region(c, r, directory))
        }
        Role::LiaisonOfficer | Role::UnitHead => p.unit.is_some() && p.unit == c.unit && with_unit(c),
        Role::Leadership => false,
    }
}

/// Whether the case is in a unit's hands: dispatched to it (and on from there). Before the
/// coordinator has verified and dispatched it, or once it is forwarded back, it is the
/// coordinator's alone, even for the unit routing proposed or a forward suggested: that unit
/// may not read it, hears nothing of it, and is not counted as holding it (the measures'
/// unit), because it may be the very unit complained about.
pub fn with_unit(c: &Complaint) -> bool {
    !matches!(
        c.status,
        CaseStatus::Received | CaseStatus::Verified | CaseStatus::Forwarded | CaseStatus::Rejected
    )
}

/// Whether `p` may list a unit's queue: whoever reads cases (each case still filtered by
/// [`can_view`]), except that a unit's own officers list their own unit's only.
pub fn may_list_unit_queue(p: &Principal, unit: &UnitId) -> bool {
    match p.role {
        Role::Leadership => false,
        Role::LiaisonOfficer | Role::UnitHead => p.unit.as_ref() == Some(unit),
        Role::Administrator | Role::ProvincialCoordinator | Role::RegencyCoordinator | Role::Inspectorate => {
            true
        }
    }
}

/// Why `p` may not take `action` on the case, if they may not.
pub fn forbid(p: &Principal, action: Action, c: &Complaint, directory: &Directory) -> Option<&'static str> {
    if !can_view(p, c, directory) {
        return Some("this case is not in your unit or region");
    }
    use Action as A;
    let coordinator = matches!(p.role, Role::ProvincialCoordinator | Role::RegencyCoordinator);
    let unit_officer = matches!(p.role, Role::LiaisonOfficer | Role::UnitHead);
    let allowed = match action {
        A::Verify | A::Reject | A::MarkDuplicate | A::Dispatch | A::Close | A::Reopen => coordinator,
        A::Forward => coordinator || unit_officer,
        A::Accept | A::RequestInformation | A::Respond | A::Complete => unit_officer,
        A::Receive | A::ProvideInformation | A::Escalate | A::Rate | A::LaporUpdate => false,
    };
    if allowed {
        None
    } else if p.role == Role::Inspectorate {
        Some("the inspectorate oversees cases but does not act on them")
    } else if coordinator {
        Some("the unit holding the case takes this action, not the coordinator")
    } else {
        Some("your role does not allow this action")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::Ticket;

    fn case(unit: &str, region: &str) -> Complaint {
        let mut c = crate::casework::tests_support::complaint(Ticket::number(2026, 1).unwrap());
        c.status = CaseStatus::Dispatched;
        c.unit = Some(UnitId::parse(unit).unwrap());
        c.location.region_code = RegionCode::parse(region).unwrap();
        c
    }

    fn who(role: Role, unit: Option<&str>) -> Principal {
        Principal { username: "u".into(), role, unit: unit.map(|u| UnitId::parse(u).unwrap()) }
    }

    #[test]
    fn a_liaison_sees_and_answers_only_their_units_cases() {
        let dir = Directory::seed();
        let dikes = who(Role::LiaisonOfficer, Some("dikes"));
        assert!(can_view(&dikes, &case("dikes", "52.71"), &dir));
        assert!(!can_view(&dikes, &case("dikbud", "52.71"), &dir));
        assert_eq!(forbid(&dikes, Action::Respond, &case("dikes", "52.71"), &dir), None);
        assert!(forbid(&dikes, Action::Respond, &case("dikbud", "52.71"), &dir).is_some());
        assert!(forbid(&dikes, Action::Dispatch, &case("dikes", "52.71"), &dir).is_some());
    }

    #[test]
    fn a_unit_reads_a_case_only_once_it_is_dispatched_to_it() {
        let dir = Directory::seed();
        let dikes = who(Role::LiaisonOfficer, Some("dikes"));
        let head = who(Role::UnitHead, Some("dikes"));
        let mut c = case("dikes", "52.71");
        for status in
            [CaseStatus::Received, CaseStatus::Verified, CaseStatus::Forwarded, CaseStatus::Rejected]
        {
            c.status = status;
            assert!(!can_view(&dikes, &c, &dir) && !can_view(&head, &c, &dir), "{status:?}");
            assert!(can_view(&who(Role::ProvincialCoordinator, None), &c, &dir), "{status:?}");
        }
        for status in
            [CaseStatus::Dispatched, CaseStatus::InProgress, CaseStatus::Responded, CaseStatus::Closed]
        {
            c.status = status;
            assert!(can_view(&dikes, &c, &dir) && can_view(&head, &c, &dir), "{status:?}");
        }
    }

    #[test]
    fn a_unit_lists_its_own_queue_only_and_leadership_none() {
        let dikes = UnitId::parse("dikes").unwrap();
        let mataram = UnitId::parse("pemkot-mataram").unwrap();
        assert!(may_list_unit_queue(&who(Role::LiaisonOfficer, Some("dikes")), &dikes));
        assert!(!may_list_unit_queue(&who(Role::UnitHead, Some("dikes")), &mataram));
        assert!(!may_list_unit_queue(&who(Role::Leadership, None), &dikes));
        assert!(may_list_unit_queue(&who(Role::Inspectorate, None), &mataram));
        assert!(may_list_unit_queue(&who(Role::RegencyCoordinator, Some("pemkot-mataram")), &dikes));
    }

    #[test]
    fn a_regency_coordinator_sees_their_region_only() {
        let dir = Directory::seed();
        let mataram = who(Role::RegencyCoordinator, Some("pemkot-mataram"));
        assert!(can_view(&mataram, &case("dikes", "52.71.01"), &dir));
        assert!(can_view(&mataram, &case("pemkot-mataram", "52"), &dir));
        assert!(!can_view(&mataram, &case("dikes", "52.03"), &dir));
    }

    #[test]
    fn the_inspectorate_sees_everything_and_acts_on_nothing() {
        let dir = Directory::seed();
        let insp = who(Role::Inspectorate, None);
        assert!(can_view(&insp, &case("dikes", "52.03"), &dir));
        let why = forbid(&insp, Action::Respond, &case("dikes", "52.03"), &dir).unwrap();
        assert!(why.contains("inspectorate"));
    }

    #[test]
    fn leadership_reads_reports_not_cases() {
        let dir = Directory::seed();
        assert!(!can_view(&who(Role::Leadership, None), &case("dikes", "52.03"), &dir));
    }

    #[test]
    fn roles_that_act_for_a_unit_must_name_a_real_one() {
        let dir = Directory::seed();
        assert_eq!(
            check_assignment(Role::LiaisonOfficer, None, &dir),
            Err(OfficerError::UnitRequired("liaison-officer"))
        );
        let ghost = UnitId::parse("dinas-hantu").unwrap();
        assert!(matches!(
            check_assignment(Role::UnitHead, Some(&ghost), &dir),
            Err(OfficerError::UnknownUnit(_))
        ));
        let dikes = UnitId::parse("dikes").unwrap();
        assert_eq!(
            check_assignment(Role::RegencyCoordinator, Some(&dikes), &dir),
            Err(OfficerError::NotAGovernment)
        );
        assert!(check_assignment(Role::Inspectorate, Some(&dikes), &dir).is_err());
        assert!(check_assignment(Role::LiaisonOfficer, Some(&dikes), &dir).is_ok());
    }

    #[test]
    fn passwords_are_hashed_and_verified() {
        let phc = hash_password("rahasia-sekali", &[7u8; 16]).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("rahasia-sekali", &phc));
        assert!(!verify_password("rahasia-sekalI", &phc));
        assert!(!verify_password("rahasia-sekali", "not a hash"));
        assert_eq!(hash_password("pendek", &[7u8; 16]), Err(OfficerError::WeakPassword(PASSWORD_MIN_CHARS)));
    }
}

/// Storing and finding officers' accounts.
pub mod accounts {
    use super::*;
    use crate::keys;
    use crate::store::{create_once, get_json, update_json, KeyValue, StoreError};

    #[derive(Debug, Error)]
    pub enum RegisterError {
        #[error("username `{0}` is taken")]
        Taken(String),
        #[error(transparent)]
        Store(#[from] StoreError),
    }

    /// Register a new account; a username is claimed once, even under concurrent requests.
    pub fn register(store: &impl KeyValue, officer: &Officer) -> Result<(), RegisterError> {
        if store.increment(&keys::officer_claim(&officer.username), 1)? != 1 {
            return Err(RegisterError::Taken(officer.username.to_string()));
        }
        store
            .set(&keys::officer(&officer.username), &serde_json::to_vec(officer).expect("officer encodes"))?;
        create_once(store, keys::OFFICERS, b"[]")?;
        update_json(store, keys::OFFICERS, |list: &mut Vec<String>| {
            list.push(officer.username.to_string());
            Ok::<(), ()>(())
        })?;
        Ok(())
    }

    /// Change an account (role, unit, contacts, active, password hash); answers the account
    /// as saved, or none if there is no such account.
    pub fn update(
        store: &impl KeyValue,
        username: &Username,
        change: impl FnMut(&mut Officer) -> Result<(), OfficerError>,
    ) -> Result<Option<Result<Officer, OfficerError>>, StoreError> {
        update_json(store, &keys::officer(username), change)
    }

    pub fn find(store: &impl KeyValue, username: &Username) -> Result<Option<Officer>, StoreError> {
        get_json(store, &keys::officer(username))
    }

    /// Who a signed token speaks for now: the account as it stands (its role and unit
    /// today, not when the token was issued), or none once it is deactivated or gone. A token
    /// proves who signed in, not what they may still do: an officer dismissed or moved to
    /// another unit must not keep the old powers for the rest of a session, or for the year
    /// an integration's API token lasts.
    pub fn current(store: &impl KeyValue, signed: &Principal) -> Result<Option<Principal>, StoreError> {
        let Some(username) = Username::parse(&signed.username) else { return Ok(None) };
        Ok(find(store, &username)?.filter(|o| o.active).map(|o| Principal {
            username: o.username.to_string(),
            role: o.role,
            unit: o.unit,
        }))
    }

    pub fn list(store: &impl KeyValue) -> Result<Vec<Officer>, StoreError> {
        let names: Vec<String> = get_json(store, keys::OFFICERS)?.unwrap_or_default();
        let keys: Vec<String> =
            names.iter().filter_map(|n| Username::parse(n)).map(|u| keys::officer(&u)).collect();
        store
            .get_many(&keys)?
            .into_iter()
            .flatten()
            .map(|v| {
                serde_json::from_slice(&v)
                    .map_err(|e| StoreError::Corrupt { key: "officer".into(), reason: e.to_string() })
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::store::MemoryStore;

        fn officer(name: &str) -> Officer {
            Officer {
                username: Username::parse(name).unwrap(),
                name: "Budi".into(),
                role: Role::LiaisonOfficer,
                unit: UnitId::parse("dikes").ok(),
                password_hash: "x".into(),
                active: true,
                email: None,
                phone: None,
            }
        }

        #[test]
        fn a_username_is_registered_once() {
            let store = MemoryStore::new();
            register(&store, &officer("budi")).unwrap();
            assert!(matches!(register(&store, &officer("budi")), Err(RegisterError::Taken(_))));
            register(&store, &officer("siti")).unwrap();
            let names: Vec<String> =
                list(&store).unwrap().into_iter().map(|o| o.username.to_string()).collect();
            assert_eq!(names, vec!["budi", "siti"]);
            assert!(find(&store, &Username::parse("budi").unwrap()).unwrap().is_some());
        }

        #[test]
        fn a_token_speaks_for_the_account_as_it_stands_now() {
            let store = MemoryStore::new();
            register(&store, &officer("budi")).unwrap();
            let signed = Principal {
                username: "budi".into(),
                role: Role::LiaisonOfficer,
                unit: UnitId::parse("dikes").ok(),
            };
            assert_eq!(current(&store, &signed).unwrap(), Some(signed.clone()));
            let budi = Username::parse("budi").unwrap();
            update(&store, &budi, |o| {
                o.unit = UnitId::parse("dikbud").ok();
                Ok(())
            })
            .unwrap();
            assert_eq!(current(&store, &signed).unwrap().unwrap().unit, UnitId::parse("dikbud").ok());
            update(&store, &budi, |o| {
                o.active = false;
                Ok(())
            })
            .unwrap();
            assert_eq!(current(&store, &signed).unwrap(), None);
            let ghost = Principal { username: "hantu".into(), ..signed };
            assert_eq!(current(&store, &ghost).unwrap(), None);
        }
    }
}
