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
use crate::org::{forbid, with_unit, Principal};
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
    Verify {
        title: Option<String>,
        category: Option<String>,
        privacy: Option<Privacy>,
        priority: Option<crate::sla::Priority>,
    },
    Reject {
        reason: RejectReason,
    },
    MarkDuplicate {
        of: Ticket,
    },
    Dispatch {
        unit: Option<UnitId>,
    },
    Forward {
        reason: String,
        suggested_unit: Option<UnitId>,
    },
    Accept,
    RequestInformation {
        question: String,
    },
    Respond {
        answer: String,
        /// The unit needs a field inspection to settle it: the longer completion limit.
        inspection: bool,
    },
    /// The unit reports the follow-up done: what was done, for the complainant and public.
    Complete {
        report: String,
    },
    Close,
    Reopen {
        reason: String,
    },
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
            Command::Complete { .. } => Action::Complete,
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
                priority: text(&obj, "priority", 20)?
                    .map(|p| {
                        crate::sla::Priority::parse(&p)
                            .ok_or_else(|| invalid("priority", "must be urgent, important or ordinary"))
                    })
                    .transpose()?,
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
            "respond" => Command::Respond {
                answer: required(&obj, "answer", 5000)?,
                inspection: match obj.get("field_inspection") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(invalid("field_inspection", "must be true or false")),
                },
            },
            "complete" => Command::Complete { report: required(&obj, "report", 5000)? },
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

/// Words beyond courtesies: those of three letters or more once the boilerplate is removed.
fn substantive_words(text: &str) -> usize {
    let mut rest = format!(" {} ", text.to_lowercase());
    for phrase in BOILERPLATE {
        rest = rest.replace(phrase, " ");
    }
    rest.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).count()
}

/// Words that say when something happened: days, months and time words.
const WHEN_WORDS: &[&str] = &[
    "senin",
    "selasa",
    "rabu",
    "kamis",
    "jumat",
    "sabtu",
    "minggu",
    "tanggal",
    "kemarin",
    "hari",
    "pagi",
    "siang",
    "sore",
    "malam",
    "pukul",
    "jam",
    "pekan",
    "bulan",
    "januari",
    "februari",
    "maret",
    "april",
    "mei",
    "juni",
    "juli",
    "agustus",
    "september",
    "oktober",
    "november",
    "desember",
];

/// Refuse a completion report that does not say what was done, saying what is missing: the
/// same eight words beyond courtesies as an answer, and, as concrete hints, whether it names
/// when (a date or day) and the count of words it has.
pub fn check_completion(report: &str) -> Result<(), CaseError> {
    let words = substantive_words(report);
    if words >= ANSWER_MIN_SUBSTANTIVE_WORDS {
        return Ok(());
    }
    let lower = report.to_lowercase();
    let names_when =
        lower.chars().any(|c| c.is_ascii_digit()) || WHEN_WORDS.iter().any(|w| lower.contains(w));
    let mut missing = vec![format!(
        "what was done and where (it has {words} of {ANSWER_MIN_SUBSTANTIVE_WORDS} words beyond courtesies)"
    )];
    if !names_when {
        missing.push("when it was done (a date or day)".to_string());
    }
    missing.push("by whom (the team or office that did it)".to_string());
    Err(invalid(
        "report",
        format!(
            "report the follow-up done, e.g. \"Lubang ditambal tim PUPR Kota Mataram pada 3 Maret\"; missing: {}",
            missing.join("; ")
        ),
    ))
}

/// Refuse an empty or boilerplate-only answer, saying why.
pub fn check_answer(answer: &str) -> Result<(), CaseError> {
    let words = substantive_words(answer);
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
        Command::Verify { title, category, privacy, priority } => {
            if priority.is_some() {
                next.case.priority = priority;
            }
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
        Command::Respond { answer, inspection } => {
            check_answer(&answer)?;
            let unit = case.unit.clone().ok_or_else(|| invalid("answer", "the case has no unit"))?;
            next.case.answers.push(Answer { at: now, unit, text: answer.clone() });
            // The answer opens the completion step: the follow-up is not done until the
            // unit reports it done or the complainant confirms it.
            next.case.completion = Some(crate::complaint::Completion { inspection, completed_at: None });
            close_pause(&mut next, now);
            Some(answer)
        }
        Command::Complete { report } => {
            match &case.case.completion {
                Some(c) if c.completed_at.is_none() => {}
                _ => {
                    return Err(CaseError::Conflict(TransitionError {
                        action,
                        from,
                        reason: "the follow-up of this answer is already reported done",
                    }))
                }
            }
            check_completion(&report)?;
            if let Some(c) = next.case.completion.as_mut() {
                c.completed_at = Some(now);
            }
            // The quiet period before closing is a new step with its own escalation record.
            next.case.escalation = None;
            Some(report)
        }
        Command::Close => None,
        Command::Reopen { reason } => {
            reopen_completion(&mut next);
            next.case.reopened += 1;
            next.case.priority = Some(raised(next.case.priority));
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
    if to != from {
        // A new step starts with a clean escalation record.
        next.case.escalation = None;
    }
    next.status = to;
    next.updated_at = now;
    next.history.push(event.clone());
    let unit_before = case.unit.clone();
    *case = next;
    Ok(Applied { from, to, unit_before, event })
}

/// A reopened case's follow-up is not done any more: the next answer opens a new completion
/// step. (Kept as a step, not removed: no completion at all marks a record from before.)
fn reopen_completion(case: &mut Complaint) {
    if let Some(done) = case.case.completion.as_mut() {
        done.completed_at = None;
    }
}

/// One level more urgent: a reopened case must not wait as long as it already did.
pub fn raised(p: Option<crate::sla::Priority>) -> crate::sla::Priority {
    use crate::sla::Priority as P;
    match p.unwrap_or(P::Ordinary) {
        P::Ordinary => P::Important,
        P::Important | P::Urgent => P::Urgent,
    }
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
            external: None,
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

    fn answered() -> Complaint {
        let mut c = case();
        act(&mut c, &coordinator(), r#"{"action": "verify"}"#).unwrap();
        act(&mut c, &coordinator(), r#"{"action": "dispatch"}"#).unwrap();
        let unit = liaison("pemkot-mataram");
        act(&mut c, &unit, r#"{"action": "accept"}"#).unwrap();
        act(&mut c, &unit, GOOD_ANSWER).unwrap();
        c
    }

    const GOOD_REPORT: &str = r#"{"action": "complete", "report": "Tim Dinas PUPR Kota Mataram menambal lubang di depan SDN 3 pada Senin 2 Maret, diperiksa lurah."}"#;

    #[test]
    fn an_answer_opens_the_completion_step_and_the_report_ends_it() {
        use crate::sla::Step;
        let mut c = answered();
        assert_eq!(c.case.completion, Some(crate::complaint::Completion::default()));
        assert_eq!(clocks::open_step(&c).map(|(s, _)| s), Some(Step::Completion));
        let applied = act(&mut c, &liaison("pemkot-mataram"), GOOD_REPORT).unwrap();
        assert_eq!((applied.from, applied.to), (CaseStatus::Responded, CaseStatus::Responded));
        assert_eq!(clocks::open_step(&c), Some((Step::AutoClose, Timestamp(1_000))));
        assert!(applied.event.public_note.as_deref().unwrap().contains("menambal"));
        // Reported once: a second report is a conflict.
        let err = act(&mut c, &liaison("pemkot-mataram"), GOOD_REPORT).unwrap_err();
        assert_eq!(err.status(), 409);
    }

    #[test]
    fn followed_up_means_completed_or_confirmed_and_answered_stays_its_own_measure() {
        use crate::measures::facts::{answered as was_answered, followed_up};
        let mut c = answered();
        assert!(was_answered(&c) && !followed_up(&c));
        act(&mut c, &liaison("pemkot-mataram"), GOOD_REPORT).unwrap();
        assert!(followed_up(&c));
        // The complainant's confirmation counts without the unit's report.
        let mut confirmed = answered();
        let rating =
            RatingRequest { score: 4, resolved: crate::complaint::Resolution::Partly, comment: None };
        rate(&mut confirmed, rating, Timestamp(2_000)).unwrap();
        assert_eq!(confirmed.status, CaseStatus::Closed);
        assert!(followed_up(&confirmed));
        // A reopening undoes the completion until the unit reports it done again.
        let rating = RatingRequest { score: 1, resolved: crate::complaint::Resolution::No, comment: None };
        rate(&mut c, rating, Timestamp(3_000)).unwrap();
        assert!(!followed_up(&c));
        // A record answered before completion was a step counts its answer, as it did then.
        let mut legacy = answered();
        legacy.case.completion = None;
        assert!(followed_up(&legacy));
    }

    #[test]
    fn a_unit_that_needs_a_field_inspection_gets_the_longer_completion_step() {
        let mut c = case();
        c.status = CaseStatus::InProgress;
        let json =
            GOOD_ANSWER.replace(r#""action": "respond""#, r#""action": "respond", "field_inspection": true"#);
        act(&mut c, &liaison("pemkot-mataram"), &json).unwrap();
        assert_eq!(clocks::open_step(&c).map(|(s, _)| s), Some(crate::sla::Step::CompletionInspection));
    }

    #[test]
    fn a_vague_completion_report_is_refused_saying_what_is_missing() {
        let mut c = answered();
        let err = act(
            &mut c,
            &liaison("pemkot-mataram"),
            r#"{"action": "complete", "report": "Terima kasih, sudah ditindaklanjuti."}"#,
        )
        .unwrap_err();
        assert_eq!((err.status(), err.field()), (422, Some("report")));
        let text = err.to_string();
        assert!(text.contains("0 of 8 words"), "{text}");
        assert!(text.contains("when it was done"), "{text}");
        assert!(text.contains("by whom"), "{text}");
        assert_eq!(c.case.completion.as_ref().unwrap().completed_at, None);
    }

    #[test]
    fn only_the_unit_reports_completion_and_only_after_an_answer() {
        let mut c = answered();
        assert_eq!(act(&mut c, &coordinator(), GOOD_REPORT).unwrap_err().status(), 403);
        let mut early = case();
        early.status = CaseStatus::InProgress;
        assert_eq!(act(&mut early, &liaison("pemkot-mataram"), GOOD_REPORT).unwrap_err().status(), 409);
    }

    #[test]
    fn a_record_answered_before_completion_was_a_step_still_deserializes_and_waits_to_close() {
        let mut c = answered();
        c.case.completion = None;
        let mut json = serde_json::to_value(&c).unwrap();
        assert!(json["case"].get("completion").is_none());
        json["case"].as_object_mut().unwrap().remove("completion");
        let old: Complaint = serde_json::from_value(json).unwrap();
        assert_eq!(old.case.completion, None);
        assert_eq!(clocks::open_step(&old), Some((crate::sla::Step::AutoClose, Timestamp(1_000))));
    }

    #[test]
    fn malformed_actions_name_the_problem() {
        for (json, field) in [
            (r#"{"action": "fly"}"#, "action"),
            (r#"{}"#, "action"),
            (r#"{"action": "reject", "reason": "bosan"}"#, "reason"),
            (r#"{"action": "respond"}"#, "answer"),
            (r#"{"action": "respond", "answer": "x", "field_inspection": "ya"}"#, "field_inspection"),
            (r#"{"action": "complete"}"#, "report"),
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
        let mut before = None;
        let mut applied = None;
        let outcome = update_json(store, &keys::complaint(ticket), |case: &mut Complaint| {
            before_queue = queue_of(case);
            before = Some(case.clone());
            applied = Some(apply(case, by, request.clone(), now, directory)?);
            Ok::<(), CaseError>(())
        })?;
        let case = match outcome {
            None => return Err(ActError::NotFound(ticket.clone())),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(case)) => case,
        };
        let applied = applied.expect("applied when the update succeeded");
        record(
            store,
            before.as_ref(),
            &case,
            &applied,
            before_queue,
            notices_for(&case, &applied, directory),
        )?;
        Ok((case, applied))
    }

    /// What follows a change to a case, whoever made it (an officer, the sweep, the
    /// complainant, LAPOR!): status tallies, measure tallies (the change from `before`, the
    /// record as it was), queues, notices.
    pub fn record(
        store: &impl KeyValue,
        before: Option<&Complaint>,
        case: &Complaint,
        applied: &Applied,
        before_queue: Option<crate::queues::Queue>,
        notices: Vec<crate::notices::Notice>,
    ) -> Result<(), StoreError> {
        if !notices.is_empty() {
            let entries: Vec<(String, Vec<u8>)> =
                notices.iter().map(|n| (n.key(), serde_json::to_vec(n).expect("notice encodes"))).collect();
            store.set_many(&entries)?;
        }
        if applied.from != applied.to {
            store.increment(&keys::tally_status(applied.from), -1)?;
            store.increment(&keys::tally_status(applied.to), 1)?;
        }
        crate::measures::tally::apply(store, &crate::measures::tally_deltas(before, case))?;
        crate::open_index::record(store, before_queue.clone(), case)?;
        move_case(store, before_queue, queue_of(case), &case.ticket)
    }

    #[derive(Debug, Error)]
    pub enum RateError {
        #[error("no case {0}")]
        NotFound(Ticket),
        #[error(transparent)]
        Case(#[from] CaseError),
        #[error(transparent)]
        Store(#[from] StoreError),
    }

    /// The complainant rates the answer, once the caller has established who they are (intake
    /// checks the tracking code on the web, or the verified channel for a reply): the rules of
    /// [`rate`](super::rate), the unit told of a reopening, tallies and queues moved.
    pub fn rate_case(
        store: &impl KeyValue,
        ticket: &Ticket,
        rating: RatingRequest,
        now: Timestamp,
    ) -> Result<(Complaint, Applied), RateError> {
        let mut before_queue = None;
        let mut before = None;
        let mut applied = None;
        let outcome = update_json(store, &keys::complaint(ticket), |case: &mut Complaint| {
            before_queue = queue_of(case);
            before = Some(case.clone());
            applied = Some(rate(case, rating.clone(), now)?);
            Ok::<(), RateError>(())
        })?;
        let case = match outcome {
            None => return Err(RateError::NotFound(ticket.clone())),
            Some(Err(e)) => return Err(e),
            Some(Ok(case)) => case,
        };
        let applied = applied.expect("applied when the update succeeded");
        let notices = match (&applied.event.action, &case.unit) {
            (Action::Reopen, Some(unit)) => vec![crate::notices::Notice::new(
                ticket,
                &format!("event-{}", case.history.len()),
                crate::notices::Audience::UnitOfficers { unit: unit.clone() },
                "case-reopened",
                vec![("ticket".into(), ticket.to_string())],
                now,
            )],
            _ => vec![],
        };
        record(store, before.as_ref(), &case, &applied, before_queue, notices)?;
        Ok((case, applied))
    }

    /// What one sweep did.
    #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
    pub struct SweepReport {
        pub examined: usize,
        /// Cases escalated (one or more levels).
        pub escalated: usize,
        /// Escalation levels raised: more than the cases when a late sweep caught up.
        pub levels: usize,
        pub closed: usize,
    }

    /// Every open case: triage, the forwarded queue and every unit's queue.
    pub fn open_cases(
        store: &impl KeyValue,
        directory: &Directory,
        now: Timestamp,
    ) -> Result<Vec<Complaint>, StoreError> {
        use crate::queues::{tickets_in, triage, Queue};
        let mut cases = triage(store, now, usize::MAX)?;
        let mut tickets = tickets_in(store, &Queue::Forwarded)?;
        for unit in &directory.units {
            tickets.extend(tickets_in(store, &Queue::Unit(unit.id.clone()))?);
        }
        let keys: Vec<String> = tickets.iter().map(keys::complaint).collect();
        for value in store.get_many(&keys)?.into_iter().flatten() {
            let c: Complaint = serde_json::from_slice(&value)
                .map_err(|e| StoreError::Corrupt { key: "complaint".into(), reason: e.to_string() })?;
            cases.push(c);
        }
        Ok(cases)
    }

    /// The escalation sweep: warn before deadlines, escalate at and after them, close
    /// answers nobody replied to. Each level is raised once per step, so running the sweep
    /// twice, or two sweeps at once, raises nothing twice.
    pub fn sweep(
        store: &impl KeyValue,
        directory: &Directory,
        rules: &crate::sla::SlaRules,
        calendar: &crate::calendar::WorkingCalendar,
        now: Timestamp,
    ) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        for case in open_cases(store, directory, now)? {
            report.examined += 1;
            if assess(&case, rules, calendar, now) == SweepStep::Nothing {
                continue;
            }
            let mut before_queue = None;
            let mut before = None;
            let mut done = None;
            // Decide again on the fresh record inside the update: another sweep may have won.
            let outcome = update_json(store, &keys::complaint(&case.ticket), |c: &mut Complaint| {
                let step = assess(c, rules, calendar, now);
                before_queue = queue_of(c);
                before = Some(c.clone());
                match apply_sweep(c, &step, now) {
                    Some(applied) => {
                        done = Some((step, applied));
                        Ok(())
                    }
                    None => Err(()),
                }
            })?;
            let Some(Ok(updated)) = outcome else { continue };
            let (step, applied) = done.expect("applied when the update succeeded");
            match &step {
                SweepStep::AutoClose => report.closed += 1,
                SweepStep::Escalate { levels, .. } => {
                    report.escalated += 1;
                    report.levels += levels.len();
                }
                SweepStep::Nothing => {}
            }
            record(
                store,
                before.as_ref(),
                &updated,
                &applied,
                before_queue,
                sweep_notices(&updated, &step, directory, now),
            )?;
        }
        Ok(report)
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

/// The clock of the step a case is in (kept beside the record, see [`crate::complaint::clocks`]).
pub use crate::complaint::clocks;

/// Notices an applied action asks for. Officers hear of work; the complainant hears of
/// every change they should know, never of internal notes.
pub fn notices_for(
    case: &Complaint,
    applied: &Applied,
    directory: &Directory,
) -> Vec<crate::notices::Notice> {
    use crate::notices::{Audience, Notice};
    let subject = format!("event-{}", case.history.len());
    let at = applied.event.at;
    let ticket = &case.ticket;
    let status = (String::from("status"), case.status.label().get(case.language).to_string());
    let agency =
        case.unit.as_ref().and_then(|u| directory.unit(u)).map(|u| u.name.clone()).unwrap_or_default();
    let mut out = Vec::new();
    let mut tell = |audience: Audience, template: &str, fields: Vec<(String, String)>| {
        out.push(Notice::new(ticket, &subject, audience, template, fields, at));
    };
    let base = vec![("ticket".to_string(), ticket.to_string()), status.clone()];
    match applied.event.action {
        Action::Dispatch => {
            if let Some(unit) = &case.unit {
                tell(Audience::UnitOfficers { unit: unit.clone() }, "case-assigned", base.clone());
            }
            let mut f = base.clone();
            f.push(("agency".into(), agency));
            tell(Audience::Complainant, "status-changed", f);
        }
        Action::Reopen => {
            if let Some(unit) = &case.unit {
                tell(Audience::UnitOfficers { unit: unit.clone() }, "case-reopened", base.clone());
            }
            tell(Audience::Complainant, "status-changed", base);
        }
        Action::RequestInformation => {
            let mut f = base;
            f.push(("question".into(), applied.event.public_note.clone().unwrap_or_default()));
            tell(Audience::Complainant, "information-requested", f);
        }
        Action::Respond => {
            let mut f = base;
            f.push(("agency".into(), agency));
            let excerpt: String =
                applied.event.public_note.clone().unwrap_or_default().chars().take(300).collect();
            f.push(("answer_excerpt".into(), excerpt));
            tell(Audience::Complainant, "answer-given", f);
        }
        Action::Reject | Action::MarkDuplicate => {
            let mut f = base;
            f.push(("reason".into(), applied.event.public_note.clone().unwrap_or_default()));
            tell(Audience::Complainant, "complaint-rejected", f);
        }
        Action::Complete => {
            let done = Text::new("Tindak lanjut dilaporkan selesai", "Follow-up reported done");
            let f = vec![
                ("ticket".to_string(), ticket.to_string()),
                ("status".to_string(), done.get(case.language).to_string()),
            ];
            tell(Audience::Complainant, "status-changed", f);
        }
        Action::Close => tell(Audience::Complainant, "complaint-closed", base),
        Action::Verify | Action::Accept | Action::Forward => {
            if applied.from != applied.to {
                tell(Audience::Complainant, "status-changed", base);
            }
        }
        Action::Receive
        | Action::ProvideInformation
        | Action::Escalate
        | Action::Rate
        | Action::LaporUpdate => {}
    }
    out
}

/// What the complainant says of an answer.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingRequest {
    pub score: u8,
    pub resolved: crate::complaint::Resolution,
    pub comment: Option<String>,
}

impl RatingRequest {
    /// Parse `{"score": 1-5, "resolved": "yes" | "partly" | "no", "comment": "..."}`.
    pub fn from_json(body: &[u8]) -> Result<RatingRequest, CaseError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| invalid("body", format!("not valid JSON: {e}")))?;
        let Value::Object(obj) = value else { return Err(invalid("body", "must be a JSON object")) };
        let score = obj
            .get("score")
            .and_then(Value::as_u64)
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| invalid("score", "must be a whole number from 1 to 5"))? as u8;
        let resolved = match required(&obj, "resolved", 10)?.as_str() {
            "yes" | "ya" => crate::complaint::Resolution::Yes,
            "partly" | "sebagian" => crate::complaint::Resolution::Partly,
            "no" | "tidak" => crate::complaint::Resolution::No,
            _ => return Err(invalid("resolved", "must be yes, partly or no")),
        };
        Ok(RatingRequest { score, resolved, comment: text(&obj, "comment", 1000)? })
    }

    /// Whether the complainant was let down: a low score or "not resolved".
    pub fn reopens(&self) -> bool {
        self.score <= 2 || self.resolved == crate::complaint::Resolution::No
    }
}

/// Record the complainant's rating of an answer: a low rating or "not resolved" reopens
/// the case to the same unit, one priority higher; otherwise the case closes, and that
/// closure is the complainant's confirmation of the follow-up (it counts as completed
/// whether or not the unit reported it done).
pub fn rate(case: &mut Complaint, rating: RatingRequest, now: Timestamp) -> Result<Applied, CaseError> {
    if case.status != CaseStatus::Responded {
        return Err(CaseError::Conflict(TransitionError {
            action: Action::Rate,
            from: case.status,
            reason: "only an answered case can be rated",
        }));
    }
    let from = case.status;
    let (action, to, note) = if rating.reopens() {
        (
            Action::Reopen,
            CaseStatus::Reopened,
            "Pelapor menilai jawaban belum menyelesaikan masalah; dibuka kembali.",
        )
    } else {
        (
            Action::Close,
            CaseStatus::Closed,
            "Pelapor menilai jawaban, menyatakan tindak lanjut diterima, dan pengaduan ditutup.",
        )
    };
    if rating.reopens() {
        reopen_completion(case);
        case.case.reopened += 1;
        case.case.priority = Some(raised(case.case.priority));
    }
    case.case.rating = Some(crate::complaint::Rating {
        at: now,
        score: rating.score,
        resolved: rating.resolved,
        comment: rating.comment,
    });
    let event = Event {
        at: now,
        actor: Actor::Complainant,
        action,
        from: Some(from),
        to,
        public_note: Some(note.to_string()),
        internal_note: None,
    };
    case.status = to;
    case.updated_at = now;
    case.case.escalation = None;
    case.history.push(event.clone());
    Ok(Applied { from, to, unit_before: case.unit.clone(), event })
}

/// What the sweep does to one case at `now`.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepStep {
    Nothing,
    /// The answer got no reply in time: close it.
    AutoClose,
    /// Deadline levels reached for the first time, lowest first: every level above the one
    /// recorded, up to where the step stands now. A sweep that comes late (the first one
    /// after the late point) still raises the warning and the overdue level before the late
    /// one, so nobody on the way up is skipped.
    Escalate {
        step: crate::sla::Step,
        levels: Vec<crate::sla::Escalation>,
        deadlines: crate::sla::Deadlines,
    },
}

/// Decide the sweep's step for one case.
pub fn assess(
    c: &Complaint,
    rules: &crate::sla::SlaRules,
    calendar: &crate::calendar::WorkingCalendar,
    now: Timestamp,
) -> SweepStep {
    use crate::sla::{Escalation, Step};
    let Some((step, deadlines)) = clocks::deadlines(c, rules, calendar, now) else {
        return SweepStep::Nothing;
    };
    if step == Step::AutoClose {
        return if now >= deadlines.due { SweepStep::AutoClose } else { SweepStep::Nothing };
    }
    let level = deadlines.escalation(now);
    let recorded =
        c.case.escalation.filter(|(s, _)| *s == step).map(|(_, l)| l).unwrap_or(Escalation::OnTime);
    let levels: Vec<Escalation> = [Escalation::Warn, Escalation::Overdue, Escalation::Late]
        .into_iter()
        .filter(|l| *l > recorded && *l <= level)
        .collect();
    if levels.is_empty() {
        SweepStep::Nothing
    } else {
        SweepStep::Escalate { step, levels, deadlines }
    }
}

/// What an escalation's history note says, by level and by whose hands the case is in. The
/// note's first words name the level (`measures::facts` reads them).
fn escalation_note(level: crate::sla::Escalation, dispatched: bool) -> Option<&'static str> {
    use crate::sla::Escalation;
    Some(match (level, dispatched) {
        (Escalation::OnTime, _) => return None,
        (Escalation::Warn, true) => "Peringatan: tenggat segera tiba",
        (Escalation::Warn, false) => {
            "Peringatan: tenggat verifikasi segera tiba, koordinator wilayah diberi tahu"
        }
        (Escalation::Overdue, true) => "Melewati tenggat: dieskalasi ke kepala unit",
        (Escalation::Overdue, false) => "Melewati tenggat: dieskalasi ke koordinator provinsi",
        (Escalation::Late, true) => "Terlambat: dieskalasi ke koordinator dan Inspektorat",
        (Escalation::Late, false) => "Terlambat: dieskalasi ke Inspektorat",
    })
}

/// Apply the sweep's step: one escalation event per level raised (in order), or the
/// automatic closure, by NTB Care itself. The answer carries the last event.
pub fn apply_sweep(c: &mut Complaint, step: &SweepStep, now: Timestamp) -> Option<Applied> {
    let from = c.status;
    let event = match step {
        SweepStep::Nothing => return None,
        SweepStep::AutoClose => {
            c.status = CaseStatus::Closed;
            let event = Event {
                at: now,
                actor: Actor::System,
                action: Action::Close,
                from: Some(from),
                to: CaseStatus::Closed,
                public_note: Some(
                    "Ditutup otomatis: tindak lanjut dilaporkan selesai dan tidak ada tanggapan pelapor dalam batas waktu."
                        .into(),
                ),
                internal_note: None,
            };
            c.history.push(event.clone());
            event
        }
        SweepStep::Escalate { step: s, levels, deadlines } => {
            let dispatched = with_unit(c);
            let mut last = None;
            for level in levels {
                let Some(what) = escalation_note(*level, dispatched) else { continue };
                c.case.escalation = Some((*s, *level));
                let event = Event {
                    at: now,
                    actor: Actor::System,
                    action: Action::Escalate,
                    from: Some(from),
                    to: from,
                    public_note: None,
                    internal_note: Some(format!(
                        "{what} ({}; tenggat {}).",
                        s.code(),
                        deadlines.due.to_rfc3339_wita()
                    )),
                };
                c.history.push(event.clone());
                last = Some(event);
            }
            last?
        }
    };
    c.updated_at = now;
    Some(Applied { from, to: c.status, unit_before: c.unit.clone(), event })
}

/// Notices for a sweep step: escalations go up the chain, a closure to the complainant.
///
/// Up which chain depends on whose hands the case is in. Dispatched, it is the unit's: its
/// liaison officers are warned, its head hears when it is overdue, the coordinators and the
/// inspectorate when it is late. Not yet dispatched (waiting for verification, or forwarded
/// back), it is the coordinators' alone and the proposed unit hears nothing: the
/// coordinators of the complaint's region are warned (the provincial ones where the region
/// has no regency or city government in the directory), the provincial coordinators hear
/// when it is overdue, the inspectorate when it is late. One notice per level raised, each
/// with its own id, so a late sweep tells every level.
pub fn sweep_notices(
    c: &Complaint,
    step: &SweepStep,
    directory: &Directory,
    now: Timestamp,
) -> Vec<crate::notices::Notice> {
    use crate::notices::{Audience, Notice};
    use crate::sla::Escalation;
    let t = &c.ticket;
    let fields = |due: Option<Timestamp>| {
        let mut f = vec![("ticket".to_string(), t.to_string())];
        if let Some(due) = due {
            f.push(("due_date".to_string(), due.to_rfc3339_wita()));
        }
        f
    };
    match step {
        SweepStep::Nothing => vec![],
        SweepStep::AutoClose => {
            vec![Notice::new(t, "auto-close", Audience::Complainant, "complaint-closed", fields(None), now)]
        }
        SweepStep::Escalate { step: s, levels, deadlines } => {
            let unit = c.unit.clone().filter(|_| with_unit(c));
            let mut told = fields(Some(deadlines.due));
            if unit.is_none() {
                // Messages say "case … at {agency}": before dispatch the case is in the
                // coordinators' queue, not at the unit routing proposed.
                told.push(("agency".to_string(), WAITING_FOR_DISPATCH.to_string()));
            }
            let mut out = Vec::new();
            for level in levels {
                let subject = format!("{}-{}", s.code(), level.code());
                let audiences = match (level, &unit) {
                    (Escalation::OnTime, _) => vec![],
                    (Escalation::Warn, Some(u)) => {
                        vec![(Audience::UnitOfficers { unit: u.clone() }, "deadline-approaching")]
                    }
                    (Escalation::Overdue, Some(u)) => {
                        vec![(Audience::UnitHead { unit: u.clone() }, "case-escalated")]
                    }
                    (Escalation::Late, Some(_)) => vec![
                        (Audience::Coordinators, "case-escalated"),
                        (Audience::Inspectorate, "case-escalated"),
                    ],
                    (Escalation::Warn, None) => {
                        vec![(region_coordinators(c, directory), "deadline-approaching")]
                    }
                    (Escalation::Overdue, None) => {
                        vec![(Audience::ProvincialCoordinators, "case-escalated")]
                    }
                    (Escalation::Late, None) => vec![(Audience::Inspectorate, "case-escalated")],
                };
                out.extend(
                    audiences.into_iter().map(|(a, tpl)| Notice::new(t, &subject, a, tpl, told.clone(), now)),
                );
            }
            out
        }
    }
}

/// Where an escalation notice says a case is before any coordinator has dispatched it.
pub const WAITING_FOR_DISPATCH: &str = "antrean verifikasi koordinator (belum didisposisikan)";

/// The first coordinators of a complaint waiting for verification: those of the regency or
/// city where the problem is, if the directory has its government, else the province's.
fn region_coordinators(c: &Complaint, directory: &Directory) -> crate::notices::Audience {
    use crate::directory::UnitKind;
    use crate::notices::Audience;
    let has_government = directory.units.iter().any(|u| {
        matches!(u.kind, UnitKind::Regency | UnitKind::City) && c.location.region_code.is_within(&u.region)
    });
    if has_government {
        Audience::RegionCoordinators
    } else {
        Audience::ProvincialCoordinators
    }
}

#[cfg(test)]
mod sweep_tests {
    use super::*;
    use crate::calendar::WorkingCalendar;
    use crate::notices::{Audience, Notice};
    use crate::region::RegionCode;
    use crate::sla::{Escalation, SlaRules};

    /// Received Wednesday 4 March 2026 10:00 WITA: verification warns at the end of Friday 6,
    /// is due at the end of Monday 9 and late after Wednesday 11.
    fn received() -> Timestamp {
        Timestamp::from_wita(2026, 3, 4, 10, 0)
    }

    /// A complaint in Lombok Timur about the provincial transport agency's own staff, which
    /// routing proposed to that agency, waiting for a coordinator.
    fn extortion_by_dishub() -> Complaint {
        let mut c = tests_support::complaint(Ticket::number(2026, 7).unwrap());
        c.description = "Petugas Dishub meminta pungutan liar di Terminal Pancor".into();
        c.category = Some("transportasi".into());
        c.location.region_code = RegionCode::parse("52.03").unwrap();
        c.unit = UnitId::parse("dishub").ok();
        c.received_at = received();
        c.updated_at = received();
        c
    }

    fn sweep_at(c: &Complaint, now: Timestamp) -> (SweepStep, Vec<Notice>) {
        let (rules, cal, dir) = (SlaRules::seed(), WorkingCalendar::seed(), Directory::seed());
        let step = assess(c, &rules, &cal, now);
        let notices = sweep_notices(c, &step, &dir, now);
        (step, notices)
    }

    fn audiences(notices: &[Notice]) -> Vec<(Audience, String)> {
        notices.iter().map(|n| (n.audience.clone(), n.template.clone())).collect()
    }

    fn told(a: Audience, template: &str) -> (Audience, String) {
        (a, template.to_string())
    }

    fn names_a_unit(a: &Audience) -> bool {
        matches!(a, Audience::UnitOfficers { .. } | Audience::UnitHead { .. })
    }

    /// Sweep once at `now` and apply, as the service does; answers the notices.
    fn sweep_and_apply(c: &mut Complaint, now: Timestamp) -> Vec<Notice> {
        let (step, _) = sweep_at(c, now);
        apply_sweep(c, &step, now);
        sweep_notices(c, &step, &Directory::seed(), now)
    }

    #[test]
    fn an_unverified_complaint_climbs_the_coordinators_never_the_proposed_unit() {
        let mut c = extortion_by_dishub();
        let friday_evening = Timestamp::from_wita(2026, 3, 6, 23, 59);
        assert_eq!(sweep_at(&c, Timestamp::from_wita(2026, 3, 6, 9, 0)).0, SweepStep::Nothing);
        // Warned: the coordinator of Lombok Timur, where the problem is.
        let warned = sweep_and_apply(&mut c, Timestamp(friday_evening.0 + 60_000));
        assert_eq!(audiences(&warned), [told(Audience::RegionCoordinators, "deadline-approaching")]);
        // Overdue (Tuesday 10): the provincial coordinators.
        let overdue = sweep_and_apply(&mut c, Timestamp::from_wita(2026, 3, 10, 9, 0));
        assert_eq!(audiences(&overdue), [told(Audience::ProvincialCoordinators, "case-escalated")]);
        // Late (Thursday 12): the inspectorate.
        let late = sweep_and_apply(&mut c, Timestamp::from_wita(2026, 3, 12, 9, 0));
        assert_eq!(audiences(&late), [told(Audience::Inspectorate, "case-escalated")]);
        assert_eq!(sweep_at(&c, Timestamp::from_wita(2026, 3, 20, 9, 0)).0, SweepStep::Nothing);
        let notes: Vec<&str> = c.history.iter().filter_map(|e| e.internal_note.as_deref()).collect();
        assert!(notes.iter().all(|n| !n.contains("kepala unit")), "{notes:?}");
        // The messages place the case in the coordinators' queue, not at the agency.
        for n in warned.iter().chain(&overdue).chain(&late) {
            assert!(n.fields.contains(&("agency".to_string(), WAITING_FOR_DISPATCH.to_string())), "{n:?}");
        }
    }

    #[test]
    fn a_verified_but_undispatched_complaint_still_tells_no_unit() {
        let mut c = extortion_by_dishub();
        c.status = CaseStatus::Verified;
        let (_, notices) = sweep_at(&c, Timestamp::from_wita(2026, 4, 30, 9, 0));
        assert_eq!(notices.len(), 3);
        assert!(notices.iter().all(|n| !names_a_unit(&n.audience)), "{notices:?}");
    }

    #[test]
    fn a_forwarded_complaint_is_the_coordinators_not_the_suggested_units() {
        let mut c = extortion_by_dishub();
        c.status = CaseStatus::Forwarded;
        c.case.forwarded_from = UnitId::parse("pemkab-lombok-timur").ok();
        c.history.push(Event {
            at: received(),
            actor: Actor::Officer { id: "lotim".into() },
            action: Action::Forward,
            from: Some(CaseStatus::InProgress),
            to: CaseStatus::Forwarded,
            public_note: None,
            internal_note: None,
        });
        let (_, notices) = sweep_at(&c, Timestamp::from_wita(2026, 4, 30, 9, 0));
        assert_eq!(
            audiences(&notices),
            [
                told(Audience::RegionCoordinators, "deadline-approaching"),
                told(Audience::ProvincialCoordinators, "case-escalated"),
                told(Audience::Inspectorate, "case-escalated"),
            ]
        );
    }

    #[test]
    fn a_complaint_placed_only_in_the_province_warns_the_provincial_coordinators_first() {
        let mut c = extortion_by_dishub();
        c.location.region_code = RegionCode::parse("52").unwrap();
        let (_, notices) = sweep_at(&c, Timestamp::from_wita(2026, 3, 7, 9, 0));
        assert_eq!(audiences(&notices), [told(Audience::ProvincialCoordinators, "deadline-approaching")]);
    }

    #[test]
    fn a_dispatched_case_escalates_up_the_units_own_chain() {
        let mut c = extortion_by_dishub();
        c.status = CaseStatus::Dispatched;
        c.history.push(Event {
            at: received(),
            actor: Actor::Officer { id: "koordinator".into() },
            action: Action::Dispatch,
            from: Some(CaseStatus::Verified),
            to: CaseStatus::Dispatched,
            public_note: None,
            internal_note: None,
        });
        // Ordinary first response: 48 hours from Wednesday 10:00.
        let notices = sweep_and_apply(&mut c, Timestamp::from_wita(2026, 3, 8, 9, 0));
        let dishub = UnitId::parse("dishub").unwrap();
        assert_eq!(
            audiences(&notices),
            [
                told(Audience::UnitOfficers { unit: dishub.clone() }, "deadline-approaching"),
                told(Audience::UnitHead { unit: dishub }, "case-escalated"),
                told(Audience::Coordinators, "case-escalated"),
                told(Audience::Inspectorate, "case-escalated"),
            ]
        );
    }

    #[test]
    fn a_late_first_sweep_raises_every_level_in_order() {
        let mut c = extortion_by_dishub();
        let long_after = Timestamp::from_wita(2026, 4, 30, 9, 0);
        let (step, notices) = sweep_at(&c, long_after);
        let SweepStep::Escalate { levels, .. } = &step else { panic!("{step:?}") };
        assert_eq!(levels, &[Escalation::Warn, Escalation::Overdue, Escalation::Late]);
        // Each level its own notice (its own id), lowest first.
        assert_eq!(
            audiences(&notices),
            [
                told(Audience::RegionCoordinators, "deadline-approaching"),
                told(Audience::ProvincialCoordinators, "case-escalated"),
                told(Audience::Inspectorate, "case-escalated"),
            ]
        );
        let mut ids: Vec<&str> = notices.iter().map(|n| n.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        // Recorded in the case history in the same order, as one applied step.
        let applied = apply_sweep(&mut c, &step, long_after).unwrap();
        let notes: Vec<&str> = c
            .history
            .iter()
            .filter(|e| e.action == Action::Escalate)
            .map(|e| e.internal_note.as_deref().unwrap())
            .collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].starts_with("Peringatan"), "{notes:?}");
        assert!(notes[1].starts_with("Melewati tenggat"), "{notes:?}");
        assert!(notes[2].starts_with("Terlambat"), "{notes:?}");
        assert_eq!(applied.event.internal_note.as_deref(), Some(notes[2]));
        assert_eq!(c.case.escalation, Some((crate::sla::Step::Verification, Escalation::Late)));
        // Nothing is raised twice.
        assert_eq!(sweep_at(&c, long_after).0, SweepStep::Nothing);
    }

    /// Dispatched to dishub on Wednesday 4 March and answered on Thursday 5: the completion
    /// step (14 working days from the dispatch) is open.
    fn answered_by_dishub() -> Complaint {
        let mut c = extortion_by_dishub();
        c.status = CaseStatus::Responded;
        for (action, to, day) in [
            (Action::Dispatch, CaseStatus::Dispatched, 4),
            (Action::Accept, CaseStatus::InProgress, 4),
            (Action::Respond, CaseStatus::Responded, 5),
        ] {
            c.history.push(Event {
                at: Timestamp::from_wita(2026, 3, day, 11, 0),
                actor: Actor::Officer { id: "dishub".into() },
                action,
                from: None,
                to,
                public_note: None,
                internal_note: None,
            });
        }
        c.case.completion = Some(crate::complaint::Completion::default());
        c
    }

    #[test]
    fn an_answer_without_completion_escalates_every_level_and_never_closes() {
        let mut c = answered_by_dishub();
        let months_later = Timestamp::from_wita(2026, 9, 1, 9, 0);
        let notices = sweep_and_apply(&mut c, months_later);
        let dishub = UnitId::parse("dishub").unwrap();
        assert_eq!(
            audiences(&notices),
            [
                told(Audience::UnitOfficers { unit: dishub.clone() }, "deadline-approaching"),
                told(Audience::UnitHead { unit: dishub }, "case-escalated"),
                told(Audience::Coordinators, "case-escalated"),
                told(Audience::Inspectorate, "case-escalated"),
            ]
        );
        assert_eq!(c.case.escalation, Some((crate::sla::Step::Completion, Escalation::Late)));
        assert_eq!(sweep_at(&c, Timestamp::from_wita(2027, 3, 1, 9, 0)).0, SweepStep::Nothing);
        assert_eq!(c.status, CaseStatus::Responded);
    }

    #[test]
    fn a_completed_case_closes_after_the_quiet_period_from_the_report() {
        let mut c = answered_by_dishub();
        let reported = Timestamp::from_wita(2026, 3, 10, 9, 0);
        c.case.completion.as_mut().unwrap().completed_at = Some(reported);
        // Ten working days from Tuesday 10 March, over Nyepi and Idulfitri: not yet on 20 March.
        assert_eq!(sweep_at(&c, Timestamp::from_wita(2026, 3, 20, 9, 0)).0, SweepStep::Nothing);
        let (step, notices) = sweep_at(&c, Timestamp::from_wita(2026, 4, 15, 9, 0));
        assert_eq!(step, SweepStep::AutoClose);
        assert_eq!(audiences(&notices), [told(Audience::Complainant, "complaint-closed")]);
    }

    #[test]
    fn a_sweep_after_the_warning_catches_up_from_the_level_recorded() {
        let mut c = extortion_by_dishub();
        sweep_and_apply(&mut c, Timestamp::from_wita(2026, 3, 7, 9, 0));
        let notices = sweep_and_apply(&mut c, Timestamp::from_wita(2026, 4, 30, 9, 0));
        assert_eq!(
            audiences(&notices),
            [
                told(Audience::ProvincialCoordinators, "case-escalated"),
                told(Audience::Inspectorate, "case-escalated"),
            ]
        );
        assert_eq!(c.history.iter().filter(|e| e.action == Action::Escalate).count(), 3);
    }
}
