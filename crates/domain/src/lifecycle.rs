//! The case lifecycle as an explicit state machine.
//!
//! received → verified → dispatched → in progress → responded → closed, with rejected,
//! forwarded and reopened beside them. Every transition is an [`Event`] carrying its actor,
//! time and notes; a transition the machine does not allow is an error that says why, so an
//! officer's screen (HTTP 409) can tell them what to do instead.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::clock::Timestamp;
use crate::language::Text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseStatus {
    Received,
    Verified,
    Dispatched,
    InProgress,
    Responded,
    Closed,
    Rejected,
    Forwarded,
    Reopened,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 9] = [
        CaseStatus::Received,
        CaseStatus::Verified,
        CaseStatus::Dispatched,
        CaseStatus::InProgress,
        CaseStatus::Responded,
        CaseStatus::Closed,
        CaseStatus::Rejected,
        CaseStatus::Forwarded,
        CaseStatus::Reopened,
    ];

    /// The stable code used in APIs and keys (`in-progress`).
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::Verified => "verified",
            CaseStatus::Dispatched => "dispatched",
            CaseStatus::InProgress => "in-progress",
            CaseStatus::Responded => "responded",
            CaseStatus::Closed => "closed",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Forwarded => "forwarded",
            CaseStatus::Reopened => "reopened",
        }
    }

    /// What a citizen reads.
    pub fn label(self) -> Text {
        let (id, en) = match self {
            CaseStatus::Received => ("Diterima", "Received"),
            CaseStatus::Verified => ("Terverifikasi", "Verified"),
            CaseStatus::Dispatched => ("Diteruskan ke instansi", "Sent to the agency"),
            CaseStatus::InProgress => ("Sedang ditindaklanjuti", "Being followed up"),
            CaseStatus::Responded => ("Sudah dijawab", "Answered"),
            CaseStatus::Closed => ("Selesai", "Closed"),
            CaseStatus::Rejected => ("Ditolak", "Rejected"),
            CaseStatus::Forwarded => ("Dialihkan ke instansi lain", "Forwarded to another agency"),
            CaseStatus::Reopened => ("Dibuka kembali", "Reopened"),
        };
        Text::new(id, en)
    }

    /// Whether the case still needs someone to act.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Closed | CaseStatus::Rejected)
    }
}

/// What someone does to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A complaint arrives through a channel.
    Receive,
    Verify,
    Reject,
    MarkDuplicate,
    Dispatch,
    Forward,
    Accept,
    RequestInformation,
    ProvideInformation,
    Respond,
    /// The unit reports the follow-up done (what was done, publicly); after an answer.
    Complete,
    Close,
    Reopen,
    /// A deadline warning or escalation raised by the sweep; changes no status.
    Escalate,
    /// The complainant rated the answer (the case then closes or reopens).
    Rate,
    /// A status line or follow-up mirrored from SP4N-LAPOR! (the source is LAPOR!, never
    /// the complainant or an officer); changes no status.
    LaporUpdate,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Receive => "receive",
            Action::Verify => "verify",
            Action::Reject => "reject",
            Action::MarkDuplicate => "mark-duplicate",
            Action::Dispatch => "dispatch",
            Action::Forward => "forward",
            Action::Accept => "accept",
            Action::RequestInformation => "request-information",
            Action::ProvideInformation => "provide-information",
            Action::Respond => "respond",
            Action::Complete => "complete",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Escalate => "escalate",
            Action::Rate => "rate",
            Action::LaporUpdate => "lapor-update",
        }
    }

    /// What an officer's screen calls the action.
    pub fn label(self) -> Text {
        let (id, en) = match self {
            Action::Receive => ("Pengaduan masuk", "Received"),
            Action::Verify => ("Verifikasi", "Verify"),
            Action::Reject => ("Tolak", "Reject"),
            Action::MarkDuplicate => ("Tandai duplikat", "Mark as duplicate"),
            Action::Dispatch => ("Teruskan ke instansi", "Dispatch to the agency"),
            Action::Forward => ("Alihkan (bukan kewenangan kami)", "Forward (not ours)"),
            Action::Accept => ("Terima untuk ditangani", "Accept"),
            Action::RequestInformation => ("Minta keterangan pelapor", "Ask the complainant"),
            Action::ProvideInformation => ("Keterangan pelapor", "Complainant's information"),
            Action::Respond => ("Jawab pengaduan", "Answer"),
            Action::Complete => ("Laporkan tindak lanjut selesai", "Report the follow-up done"),
            Action::Close => ("Tutup", "Close"),
            Action::Reopen => ("Buka kembali", "Reopen"),
            Action::Escalate => ("Eskalasi", "Escalation"),
            Action::Rate => ("Penilaian pelapor", "Complainant's rating"),
            Action::LaporUpdate => ("Kabar dari SP4N-LAPOR!", "Update from SP4N-LAPOR!"),
        };
        Text::new(id, en)
    }

    /// Whether the complainant took this action (LAPOR!'s mirrored lines never are).
    pub fn by_complainant(self) -> bool {
        matches!(self, Action::ProvideInformation | Action::Rate)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{action}` is not allowed on a case that is `{from}`: {reason}", action = action.code(), from = from.code())]
pub struct TransitionError {
    pub action: Action,
    pub from: CaseStatus,
    pub reason: &'static str,
}

/// The status an action leads to from a status, or why it cannot be taken.
pub fn next_status(from: CaseStatus, action: Action) -> Result<CaseStatus, TransitionError> {
    use Action as A;
    use CaseStatus as S;
    let to = match (action, from) {
        (A::Verify, S::Received) => S::Verified,
        (A::Reject | A::MarkDuplicate, S::Received | S::Verified) => S::Rejected,
        (A::Dispatch, S::Verified | S::Forwarded) => S::Dispatched,
        (A::Forward, S::Dispatched | S::InProgress | S::Reopened) => S::Forwarded,
        (A::Accept, S::Dispatched | S::Reopened) => S::InProgress,
        (A::RequestInformation | A::ProvideInformation, S::InProgress) => S::InProgress,
        (A::Respond, S::InProgress) => S::Responded,
        // The completion step runs inside `responded`: casework checks that it is open.
        (A::Complete, S::Responded) => S::Responded,
        (A::Close, S::Responded) => S::Closed,
        (A::Reopen, S::Responded | S::Closed) => S::Reopened,
        _ => {
            let reason = match (action, from) {
                (A::Receive, _) => "a case is received only once, when it arrives",
                (A::Escalate | A::Rate | A::LaporUpdate, _) => {
                    "this is recorded by NTB Care itself, not taken as an action"
                }
                (_, S::Closed) => "the case is closed; reopen it first",
                (_, S::Rejected) => "the case was rejected",
                (A::Dispatch, _) => "only a verified or forwarded case can be dispatched",
                (A::Verify, _) => "only a newly received case can be verified",
                (A::Reject | A::MarkDuplicate, _) => "only a case not yet dispatched can be rejected",
                (A::Accept, _) => "only a case dispatched to the unit can be accepted",
                (A::Respond, _) => "accept the case before answering it",
                (A::Complete, _) => "answer the case before reporting its follow-up done",
                (A::Close, _) => "only an answered case can be closed",
                (A::Reopen, _) => "only an answered or closed case can be reopened",
                (A::Forward, _) => "only a case held by a unit can be forwarded",
                (A::RequestInformation | A::ProvideInformation, _) => {
                    "information is asked for while the case is in progress"
                }
            };
            return Err(TransitionError { action, from, reason });
        }
    };
    Ok(to)
}

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Actor {
    /// NTB Care itself (routing, sweeps).
    System,
    /// The complainant, whoever they are: never named in an event.
    Complainant,
    /// An officer, by account id.
    Officer { id: String },
}

/// One step in a case's history. Events are only ever appended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    pub actor: Actor,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<CaseStatus>,
    pub to: CaseStatus,
    /// What the public and the complainant may read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_note: Option<String>,
    /// What only officers may read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_reaches_closed() {
        let mut s = CaseStatus::Received;
        for a in [Action::Verify, Action::Dispatch, Action::Accept, Action::Respond, Action::Close] {
            s = next_status(s, a).unwrap();
        }
        assert_eq!(s, CaseStatus::Closed);
    }

    #[test]
    fn a_low_rating_reopens_to_the_same_unit_which_accepts_again() {
        let s = next_status(CaseStatus::Responded, Action::Reopen).unwrap();
        assert_eq!(s, CaseStatus::Reopened);
        assert_eq!(next_status(s, Action::Accept).unwrap(), CaseStatus::InProgress);
    }

    #[test]
    fn forwarding_goes_back_through_dispatch() {
        let s = next_status(CaseStatus::InProgress, Action::Forward).unwrap();
        assert_eq!(next_status(s, Action::Dispatch).unwrap(), CaseStatus::Dispatched);
    }

    #[test]
    fn invalid_transitions_say_why() {
        let err = next_status(CaseStatus::Received, Action::Respond).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`respond` is not allowed on a case that is `received`: accept the case before answering it"
        );
        let err = next_status(CaseStatus::Closed, Action::Accept).unwrap_err();
        assert!(err.reason.contains("reopen"));
        assert!(next_status(CaseStatus::Dispatched, Action::Receive).is_err());
    }

    #[test]
    fn terminal_states_accept_only_reopen() {
        for a in [
            Action::Verify,
            Action::Dispatch,
            Action::Accept,
            Action::Respond,
            Action::Close,
            Action::Forward,
        ] {
            assert!(next_status(CaseStatus::Rejected, a).is_err());
        }
        assert!(next_status(CaseStatus::Closed, Action::Reopen).is_ok());
    }
}
