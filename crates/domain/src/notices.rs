//! Notices: what casework wants someone told, before anyone knows how to reach them.
//!
//! Casework never holds an address: it writes a notice naming an audience (the complainant,
//! the unit's officers, its head, the coordinators, the inspectorate) under
//! `notice/<id>` in the shared store, and notification resolves the audience to people and
//! channels (the complainant's address from the identity store). The id is derived from
//! what the notice is about, so writing the same notice twice writes one key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::directory::UnitId;
use crate::ticket::Ticket;

pub const NOTICE_PREFIX: &str = "notice/";

/// Who is to be told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Audience {
    /// The complainant, on their own channel.
    Complainant,
    /// The liaison officers of a unit.
    UnitOfficers { unit: UnitId },
    /// The head of a unit.
    UnitHead { unit: UnitId },
    /// The provincial coordinators (and the regency coordinator of the case's region).
    Coordinators,
    /// The regency or city coordinators of the region where the problem is (not of the unit
    /// routing proposed); the provincial coordinators when that region has none. The first
    /// to hear that a complaint waits for verification.
    RegionCoordinators,
    /// The provincial coordinators only.
    ProvincialCoordinators,
    /// The inspectorate.
    Inspectorate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub ticket: Ticket,
    pub audience: Audience,
    /// A template of `data/templates.toml`.
    pub template: String,
    /// Values for the template; never a complainant's identity.
    pub fields: Vec<(String, String)>,
    pub at: Timestamp,
}

impl Notice {
    /// A notice about `subject` (an event or a deadline level) of a case.
    pub fn new(
        ticket: &Ticket,
        subject: &str,
        audience: Audience,
        template: &str,
        fields: Vec<(String, String)>,
        at: Timestamp,
    ) -> Notice {
        let audience_code = serde_json::to_string(&audience).expect("audience encodes");
        let digest = Sha256::digest(format!("{ticket}\n{subject}\n{audience_code}\n{template}").as_bytes());
        let id = crate::hex::encode(&digest[..16]);
        Notice { id, ticket: ticket.clone(), audience, template: template.into(), fields, at }
    }

    pub fn key(&self) -> String {
        format!("{NOTICE_PREFIX}{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_notice_has_the_same_id_and_others_differ() {
        let t = Ticket::number(2026, 1).unwrap();
        let a = Notice::new(&t, "event-3", Audience::Complainant, "answer-given", vec![], Timestamp(1));
        let b = Notice::new(&t, "event-3", Audience::Complainant, "answer-given", vec![], Timestamp(2));
        let c = Notice::new(&t, "event-4", Audience::Complainant, "answer-given", vec![], Timestamp(1));
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(a.key(), format!("notice/{}", a.id));
    }
}
