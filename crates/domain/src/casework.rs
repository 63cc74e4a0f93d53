//! Officers' actions on a case: parsed at the boundary, authorised by role and unit,
//! checked against the lifecycle, and applied as one appended event.
//!
//! Order of checks, and so of answers: may this officer touch this case at all (403), is the
//! action possible from the case's status (409), is what they sent good enough (422).

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::clock::Timestamp;
use crate::complaint::{Answer, Complaint, Privacy};
use crate::directory::{Directory, UnitId};
use crate::language::Text;
use crate::lifecycle::{next_status, Action, Actor, CaseStatus, Event, TransitionError};
use crate::org::{forbid, Principal};
use crate::ticket::Ticket;

/// Why a complaint is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    Spam,
    OutOfScope,
    Incomplete,
    Other,
}

/// An officer's action with what it needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Verify { title: Option<String>, category: Option<String>, privacy: Option<Privacy> },
    Reject { reason: RejectReason },
    MarkDuplicate { of: Ticket },
    Dispatch { unit: Option<UnitId> },
    Forward { reason: String, suggested_unit: Option<UnitId> },
    Accept,
    RequestInformation { question: String },
    Respond { answer: String },
    Close,
    Reopen { reason: String },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Verify { .. } => Action::Verify,
            Command::Reject { .. } => Action::Reject,
            Command::MarkDuplicate { .. } => Action::MarkDuplicate,
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Forward { .. } => Action::Forward,
            Command::Accept => Action::Accept,
            Command::RequestInformation { .. } => Action::RequestInformation,
            Command::Respond { .. } => Action::Respond,
            Command::Close => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
        }
    }
}

/// An action as it arrives, with the notes every action may carry.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRequest {
    pub command: Command,
    /// Shown to officers only.
    pub internal_note: Option<String>,
}

#[derive(Debug, Error, PartialEq)]
pub enum CaseError {
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Conflict(#[from] TransitionError),
    #[error("field `{field}`: {problem}")]
    Invalid { field: &'static str, problem: String },
}

impl CaseError {
    pub fn status(&self) -> u16 {
        match self {
            CaseError::Forbidden(_) => 403,
            CaseError::Conflict(_) => 409,
            CaseError::Invalid { .. } => 422,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            CaseError::Forbidden(_) => "forbidden",
            CaseError::Conflict(_) => "invalid-transition",
            CaseError::Invalid { .. } => "invalid-action",
        }
    }

    /// Officers read Indonesian first; the English is the error's own text.
    pub fn message(&self) -> Text {
        let id = match self {
            CaseError::Forbidden(_) => {
                "Anda tidak berwenang atas tindakan ini pada pengaduan ini.".to_string()
            }
            CaseError::Conflict(t) => format!(
                "Tindakan `{}` tidak dapat dilakukan pada pengaduan berstatus `{}`.",
                t.action.code(),
                t.from.code()
            ),
            CaseError::Invalid { field, .. } => format!("Isian `{field}` belum memenuhi syarat."),
        };
        Text::new(format!("{id} ({self})"), self.to_string())
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            CaseError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> CaseError {
    CaseError::Invalid { field, problem: problem.into() }
}

fn text(
    obj: &serde_json::Map<String, Value>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, CaseError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(invalid(field, format!("at most {max} characters")))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

fn required(
    obj: &serde_json::Map<String, Value>,
    field: &'static str,
    max: usize,
) -> Result<String, CaseError> {
    text(obj, field, max)?.ok_or_else(|| invalid(field, "is required"))
}

impl ActionRequest {
    /// Parse `{"action": "respond", "answer": "...", "internal_note": "..."}`.
    pub fn from_json(body: &[u8]) -> Result<ActionRequest, CaseError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| invalid("body", format!("not valid JSON: {e}")))?;
        let Value::Object(obj) = value else { return Err(invalid("body", "must be a JSON object")) };
        let action = required(&obj, "action", 40)?;
        let unit = |field: &'static str| -> Result<Option<UnitId>, CaseError> {
            text(&obj, field, 64)?
                .map(|u| UnitId::parse(&u).map_err(|e| invalid(field, e.to_string())))
                .transpose()
        };
        let command = match action.as_str() {
            "verify" => Command::Verify {
                title: text(&obj, "title", 150)?,
                category: text(&obj, "category", 64)?,
                privacy: match text(&obj, "privacy", 20)?.as_deref() {
                    None => None,
                    Some("public") => Some(Privacy::Public),
                    Some("anonymous") => Some(Privacy::Anonymous),
                    Some("confidential") => Some(Privacy::Confidential),
                    Some(_) => return Err(invalid("privacy", "must be public, anonymous or confidential")),
                },
            },
            "reject" => Command::Reject {
                reason: serde_json::from_value(Value::String(required(&obj, "reason", 20)?))
                    .map_err(|_| invalid("reason", "must be spam, out-of-scope, incomplete or other"))?,
            },
            "mark-duplicate" => Command::MarkDuplicate {
                of: Ticket::parse(&required(&obj, "of", 40)?).map_err(|e| invalid("of", e.to_string()))?,
            },
            "dispatch" => Command::Dispatch { unit: unit("unit")? },
            "forward" => Command::Forward {
                reason: required(&obj, "reason", 1000)?,
                suggested_unit: unit("suggested_unit")?,
            },
            "accept" => Command::Accept,
            "request-information" => {
                Command::RequestInformation { question: required(&obj, "question", 2000)? }
            }
            "respond" => Command::Respond { answer: required(&obj, "answer", 5000)? },
            "close" => Command::Close,
            "reopen" => Command::Reopen { reason: required(&obj, "reason", 1000)? },
            other => return Err(invalid("action", format!("`{other}` is not an action"))),
        };
        Ok(ActionRequest { command, internal_note: text(&obj, "internal_note", 2000)? })
    }
}

/// Phrases that say nothing about what was done; an answer made only of them is refused.
const BOILERPLATE: [&str; 12] = [
    "terima kasih",
    "atas laporan",
    "laporan anda",
    "sudah ditindaklanjuti",
    "akan ditindaklanjuti",
    "segera ditindaklanjuti",
    "sedang diproses",
    "akan diproses",
    "sudah diproses",
    "mohon maaf",
    "atas ketidaknyamanan",
    "kami teruskan",
];

/// The least an answer must say: it tells the complainant what was done.
pub const ANSWER_MIN_SUBSTANTIVE_WORDS: usize = 8;

/// Refuse an empty or boilerplate-only answer, saying why.
pub fn check_answer(answer: &str) -> Result<(), CaseError> {
    let mut rest = format!(" {} ", answer.to_lowercase());
    for phrase in BOILERPLATE {
        rest = rest.replace(phrase, " ");
    }
    let words = rest.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).count();
    if words < ANSWER_MIN_SUBSTANTIVE_WORDS {
        return Err(invalid(
            "answer",
            format!(
                "say what was done, when and by whom: at least {ANSWER_MIN_SUBSTANTIVE_WORDS} words beyond courtesies"
            ),
        ));
    }
    Ok(())
}

/// What an applied action changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub unit_before: Option<UnitId>,
    pub event: Event,
}

/// Apply an officer's action to a case, or say why not. On error the case is unchanged.
pub fn apply(
    case: &mut Complaint,
    by: &Principal,
    request: ActionRequest,
    now: Timestamp,
    directory: &Directory,
) -> Result<Applied, CaseError> {
    let action = request.command.action();
    if let Some(why) = forbid(by, action, case, directory) {
        return Err(CaseError::Forbidden(why));
    }
    let from = case.status;
    let to = next_status(from, action)?;
    let mut next = case.clone();
    let mut forward_reason = None;
    let public_note = match request.command {
        Command::Verify { title, category, privacy } => {
            if let Some(c) = &category {
                if directory.category(c).is_none() {
                    return Err(invalid("category", format!("`{c}` is not a known category")));
                }
                next.category = Some(c.clone());
            }
            if let Some(p) = privacy {
                if rank(p) < rank(case.privacy) {
                    return Err(invalid("privacy", "a complainant's privacy can be raised, never lowered"));
                }
                next.privacy = p;
                if p != Privacy::Public {
                    next.reporter_name = None;
                }
            }
            next.title = title.or(next.title);
            None
        }
        Command::Reject { reason } => Some(
            match reason {
                RejectReason::Spam => "Ditolak: bukan pengaduan.",
                RejectReason::OutOfScope => "Ditolak: di luar lingkup pelayanan publik.",
                RejectReason::Incomplete => "Ditolak: informasi tidak cukup untuk ditindaklanjuti.",
                RejectReason::Other => "Ditolak oleh verifikator.",
            }
            .to_string(),
        ),
        Command::MarkDuplicate { of } => {
            if of == case.ticket {
                return Err(invalid("of", "a case cannot duplicate itself"));
            }
            let note = format!("Sama dengan pengaduan {of}.");
            next.case.duplicate_of = Some(of);
            Some(note)
        }
        Command::Dispatch { unit } => {
            let unit = unit
                .or(case.unit.clone())
                .ok_or_else(|| invalid("unit", "choose the unit to dispatch to"))?;
            let found = directory
                .unit(&unit)
                .ok_or_else(|| invalid("unit", format!("`{unit}` is not in the directory")))?;
            next.unit = Some(unit);
            next.case.forwarded_from = None;
            Some(format!("Diteruskan kepada {}.", found.name))
        }
        Command::Forward { reason, suggested_unit } => {
            if let Some(u) = &suggested_unit {
                if directory.unit(u).is_none() {
                    return Err(invalid("suggested_unit", format!("`{u}` is not in the directory")));
                }
            }
            next.case.forwarded_from = case.unit.clone();
            next.unit = suggested_unit;
            forward_reason = Some(reason);
            Some("Dialihkan: bukan kewenangan instansi sebelumnya.".to_string())
        }
        Command::Accept => None,
        Command::RequestInformation { question } => {
            if case.case.awaiting_information_since.is_some() {
                return Err(invalid(
                    "question",
                    "the complainant has not answered the previous question yet",
                ));
            }
            next.case.awaiting_information_since = Some(now);
            Some(question)
        }
        Command::Respond { answer } => {
            check_answer(&answer)?;
            let unit = case.unit.clone().ok_or_else(|| invalid("answer", "the case has no unit"))?;
            next.case.answers.push(Answer { at: now, unit, text: answer.clone() });
            close_pause(&mut next, now);
            Some(answer)
        }
        Command::Close => None,
        Command::Reopen { reason } => {
            next.case.reopened += 1;
            Some(reason)
        }
    };
    // A forward's reason is for the coordinator who dispatches again, not for the public.
    let internal_note = match (forward_reason, request.internal_note) {
        (Some(reason), Some(note)) => Some(format!("{reason} — {note}")),
        (Some(reason), None) => Some(reason),
        (None, note) => note,
    };
    let event = Event {
        at: now,
        actor: Actor::Officer { id: by.username.clone() },
        action,
        from: Some(from),
        to,
        public_note,
        internal_note,
    };
    next.status = to;
    next.updated_at = now;
    next.history.push(event.clone());
    let unit_before = case.unit.clone();
    *case = next;
    Ok(Applied { from, to, unit_before, event })
}

fn rank(p: Privacy) -> u8 {
    match p {
        Privacy::Public => 0,
        Privacy::Anonymous => 1,
        Privacy::Confidential => 2,
    }
}

fn close_pause(case: &mut Complaint, now: Timestamp) {
    if let Some(since) = case.case.awaiting_information_since.take() {
        case.case.pauses.push((since, now));
    }
}

/// A plausible case for unit tests elsewhere in the domain.
#[cfg(any(test, feature = "test-util"))]
pub mod tests_support {
    use super::*;
    use crate::complaint::{Channel, Location};
    use crate::language::Language;
    use crate::region::RegionCode;

    pub fn complaint(ticket: Ticket) -> Complaint {
        Complaint {
            ticket,
            channel: Channel::Web,
            privacy: Privacy::Anonymous,
            title: None,
            description: "Jalan berlubang di depan SDN 3".into(),
            category: Some("infrastruktur".into()),
            location: Location {
                region_code: RegionCode::parse("52.71").unwrap(),
                address: None,
                coordinates: None,
            },
            status: CaseStatus::Received,
            unit: UnitId::parse("pemkot-mataram").ok(),
            routing_rule: "lokal-mataram".into(),
            received_at: Timestamp(0),
            updated_at: Timestamp(0),
            language: Language::Id,
            reporter_name: None,
            reachable: true,
            tracking_secret_sha256: String::new(),
            history: vec![],
            attachments: vec![],
            case: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Role;

    fn case() -> Complaint {
        super::tests_support::complaint(Ticket::number(2026, 5).unwrap())
    }

    fn coordinator() -> Principal {
        Principal { username: "koordinator".into(), role: Role::ProvincialCoordinator, unit: None }
    }

    fn liaison(unit: &str) -> Principal {
        Principal {
            username: "penghubung".into(),
            role: Role::LiaisonOfficer,
            unit: UnitId::parse(unit).ok(),
        }
    }

    fn act(c: &mut Complaint, by: &Principal, json: &str) -> Result<Applied, CaseError> {
        apply(c, by, ActionRequest::from_json(json.as_bytes())?, Timestamp(1_000), &Directory::seed())
    }

    const GOOD_ANSWER: &str = r#"{"action": "respond", "answer": "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi."}"#;

    #[test]
    fn a_case_goes_from_verification_to_an_answer() {
        let mut c = case();
        act(&mut c, &coordinator(), r#"{"action": "verify", "title": "Jalan berlubang"}"#).unwrap();
        act(&mut c, &coordinator(), r#"{"action": "dispatch"}"#).unwrap();
        let unit = liaison("pemkot-mataram");
        act(&mut c, &unit, r#"{"action": "accept"}"#).unwrap();
        let applied = act(&mut c, &unit, GOOD_ANSWER).unwrap();
        assert_eq!((applied.from, applied.to), (CaseStatus::InProgress, CaseStatus::Responded));
        assert_eq!(c.case.answers.len(), 1);
        assert_eq!(c.history.len(), 4);
        assert_eq!(c.title.as_deref(), Some("Jalan berlubang"));
    }

    #[test]
    fn another_units_officer_is_forbidden_before_anything_else() {
        let mut c = case();
        c.status = CaseStatus::Dispatched;
        let before = c.clone();
        let err = act(&mut c, &liaison("dikes"), r#"{"action": "accept"}"#).unwrap_err();
        assert_eq!(err.status(), 403);
        assert_eq!(c, before);
    }

    #[test]
    fn an_impossible_transition_is_a_conflict_that_says_why() {
        let mut c = case();
        c.status = CaseStatus::Dispatched;
        let err = act(&mut c, &liaison("pemkot-mataram"), GOOD_ANSWER).unwrap_err();
        assert_eq!(err.status(), 409);
        assert!(err.to_string().contains("accept the case before answering it"), "{err}");
    }

    #[test]
    fn boilerplate_answers_are_refused_with_a_reason() {
        let mut c = case();
        c.status = CaseStatus::InProgress;
        let err = act(
            &mut c,
            &liaison("pemkot-mataram"),
            r#"{"action": "respond", "answer": "Terima kasih atas laporan anda, sudah ditindaklanjuti."}"#,
        )
        .unwrap_err();
        assert_eq!((err.status(), err.field()), (422, Some("answer")));
        assert_eq!(c.status, CaseStatus::InProgress);
    }

    #[test]
    fn privacy_can_be_raised_never_lowered() {
        let mut c = case();
        let err = act(&mut c, &coordinator(), r#"{"action": "verify", "privacy": "public"}"#).unwrap_err();
        assert_eq!(err.field(), Some("privacy"));
        act(&mut c, &coordinator(), r#"{"action": "verify", "privacy": "confidential"}"#).unwrap();
        assert_eq!(c.privacy, Privacy::Confidential);
    }

    #[test]
    fn asking_for_information_pauses_the_clock_until_the_answer() {
        let mut c = case();
        c.status = CaseStatus::InProgress;
        let unit = liaison("pemkot-mataram");
        act(&mut c, &unit, r#"{"action": "request-information", "question": "Di RT berapa lokasinya?"}"#)
            .unwrap();
        assert_eq!(c.case.awaiting_information_since, Some(Timestamp(1_000)));
        assert!(act(&mut c, &unit, r#"{"action": "request-information", "question": "Lagi?"}"#).is_err());
        act(&mut c, &unit, GOOD_ANSWER).unwrap();
        assert_eq!(c.case.pauses, vec![(Timestamp(1_000), Timestamp(1_000))]);
    }

    #[test]
    fn forwarding_hands_the_case_back_to_the_coordinator() {
        let mut c = case();
        c.status = CaseStatus::InProgress;
        act(
            &mut c,
            &liaison("pemkot-mataram"),
            r#"{"action": "forward", "reason": "bukan wewenang", "suggested_unit": "pupr", "internal_note": "jalan provinsi"}"#,
        )
        .unwrap();
        assert_eq!(c.status, CaseStatus::Forwarded);
        assert_eq!(c.unit.as_ref().map(|u| u.as_str()), Some("pupr"));
        assert_eq!(c.case.forwarded_from.as_ref().map(|u| u.as_str()), Some("pemkot-mataram"));
        let last = c.history.last().unwrap();
        assert_eq!(last.internal_note.as_deref(), Some("bukan wewenang — jalan provinsi"));
        assert!(!last.public_note.as_deref().unwrap().contains("jalan provinsi"));
        act(&mut c, &coordinator(), r#"{"action": "dispatch"}"#).unwrap();
        assert_eq!(c.status, CaseStatus::Dispatched);
    }

    #[test]
    fn malformed_actions_name_the_problem() {
        for (json, field) in [
            (r#"{"action": "fly"}"#, "action"),
            (r#"{}"#, "action"),
            (r#"{"action": "reject", "reason": "bosan"}"#, "reason"),
            (r#"{"action": "respond"}"#, "answer"),
            (r#"{"action": "dispatch", "unit": "Not A Unit"}"#, "unit"),
            (r#"[]"#, "body"),
        ] {
            let err = ActionRequest::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(err.field(), Some(field), "{json}");
        }
    }
}

/// Acting on a stored case: the action applied with compare-and-swap, then the tallies and
/// queues it changes.
pub mod service {
    use super::*;
    use crate::keys;
    use crate::queues::{move_case, queue_of};
    use crate::store::{update_json, KeyValue, StoreError};

    #[derive(Debug, Error)]
    pub enum ActError {
        #[error("no case {0}")]
        NotFound(Ticket),
        #[error(transparent)]
        Case(#[from] CaseError),
        #[error(transparent)]
        Store(#[from] StoreError),
    }

    /// Apply `request` to the case `ticket` as `by`, and answer the case as it now stands.
    pub fn act(
        store: &impl KeyValue,
        directory: &Directory,
        by: &Principal,
        ticket: &Ticket,
        request: ActionRequest,
        now: Timestamp,
    ) -> Result<(Complaint, Applied), ActError> {
        let mut before_queue = None;
        let mut applied = None;
        let outcome = update_json(store, &keys::complaint(ticket), |case: &mut Complaint| {
            before_queue = queue_of(case);
            applied = Some(apply(case, by, request.clone(), now, directory)?);
            Ok::<(), CaseError>(())
        })?;
        let case = match outcome {
            None => return Err(ActError::NotFound(ticket.clone())),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(case)) => case,
        };
        let applied = applied.expect("applied when the update succeeded");
        if applied.from != applied.to {
            store.increment(&keys::tally_status(applied.from), -1)?;
            store.increment(&keys::tally_status(applied.to), 1)?;
        }
        move_case(store, before_queue, queue_of(&case), ticket)?;
        Ok((case, applied))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::org::Role;
        use crate::queues::{tickets_in, Queue};
        use crate::store::MemoryStore;

        #[test]
        fn acting_moves_the_case_between_queues_and_tallies() {
            let store = MemoryStore::new();
            let dir = Directory::seed();
            let t = Ticket::number(2026, 3).unwrap();
            let mut c = tests_support::complaint(t.clone());
            c.status = CaseStatus::Verified;
            store.set(&keys::complaint(&t), &serde_json::to_vec(&c).unwrap()).unwrap();
            store.increment(&keys::tally_status(CaseStatus::Verified), 1).unwrap();
            let coordinator =
                Principal { username: "k".into(), role: Role::ProvincialCoordinator, unit: None };
            let dispatch = ActionRequest::from_json(br#"{"action": "dispatch"}"#).unwrap();
            let (case, _) = act(&store, &dir, &coordinator, &t, dispatch, Timestamp(5)).unwrap();
            assert_eq!(case.status, CaseStatus::Dispatched);
            let unit = Queue::Unit(UnitId::parse("pemkot-mataram").unwrap());
            assert_eq!(tickets_in(&store, &unit).unwrap(), vec![t.clone()]);
            let count = |s| {
                crate::store::decode_counter("", store.get(&keys::tally_status(s)).unwrap().as_deref())
                    .unwrap()
            };
            assert_eq!((count(CaseStatus::Verified), count(CaseStatus::Dispatched)), (0, 1));

            // A refused action changes nothing.
            let again = ActionRequest::from_json(br#"{"action": "dispatch"}"#).unwrap();
            assert!(matches!(
                act(&store, &dir, &coordinator, &t, again, Timestamp(6)),
                Err(ActError::Case(_))
            ));
            assert_eq!(count(CaseStatus::Dispatched), 1);
            let missing = Ticket::number(2026, 99).unwrap();
            let accept = ActionRequest::from_json(br#"{"action": "accept"}"#).unwrap();
            assert!(matches!(
                act(&store, &dir, &coordinator, &missing, accept, Timestamp(7)),
                Err(ActError::NotFound(_))
            ));
        }
    }
}
