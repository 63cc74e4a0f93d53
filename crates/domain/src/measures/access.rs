//! Who sees which figures: leadership, the inspectorate, coordinators and administrators
//! see everything; a unit's head or liaison officer sees their unit only; anyone else sees
//! the open data.

use crate::directory::UnitId;
use crate::org::{Principal, Role};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Unit(UnitId),
    OpenData,
}

pub fn scope(p: Option<&Principal>) -> Scope {
    let Some(p) = p else { return Scope::OpenData };
    match p.role {
        Role::Administrator
        | Role::ProvincialCoordinator
        | Role::RegencyCoordinator
        | Role::Inspectorate
        | Role::Leadership => Scope::Everything,
        Role::UnitHead | Role::LiaisonOfficer => match &p.unit {
            Some(u) => Scope::Unit(u.clone()),
            None => Scope::OpenData,
        },
    }
}

/// Whether the role may rebuild the tallies.
pub fn may_rebuild(p: &Principal) -> bool {
    p.role == Role::Administrator
}
