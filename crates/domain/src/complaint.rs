//! Complaints: what a citizen submits, what NTB Care keeps, and what each reader may see.
//!
//! A submission is parsed at the boundary into a [`Submission`]: every field checked, every
//! problem an error that names the field in the reader's language. Past the boundary only
//! typed values travel. The reporter's identity ([`Reporter`]) is kept apart from the
//! [`Complaint`] record: the record is what agencies, reports and LAPOR! may see, and for an
//! anonymous or confidential complaint it carries nothing that identifies the reporter.

pub mod clocks;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::clock::Timestamp;
use crate::directory::{Directory, RegionsAndCategories, UnitId};
use crate::language::{Language, Text};
use crate::lifecycle::{CaseStatus, Event};
use crate::region::RegionCode;
use crate::ticket::Ticket;

/// Where a complaint came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Mobile,
    Sms,
    Whatsapp,
    Facebook,
    Instagram,
    Email,
    Open311,
    Partner,
    Lapor,
}

impl Channel {
    pub const ALL: [Channel; 10] = [
        Channel::Web,
        Channel::Mobile,
        Channel::Sms,
        Channel::Whatsapp,
        Channel::Facebook,
        Channel::Instagram,
        Channel::Email,
        Channel::Open311,
        Channel::Partner,
        Channel::Lapor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Mobile => "mobile",
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Facebook => "facebook",
            Channel::Instagram => "instagram",
            Channel::Email => "email",
            Channel::Open311 => "open311",
            Channel::Partner => "partner",
            Channel::Lapor => "lapor",
        }
    }
}

/// What the complainant chose to reveal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// Complaint and name may be shown.
    Public,
    /// The complaint may be shown, the identity never leaves intake. The default: a citizen
    /// who did not choose is protected.
    #[default]
    Anonymous,
    /// Only the status is shown to anyone but the complainant.
    Confidential,
}

impl Privacy {
    pub fn code(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::Anonymous => "anonymous",
            Privacy::Confidential => "confidential",
        }
    }

    /// Whether others may learn who the reporter is.
    pub fn reveals_identity(self) -> bool {
        self == Privacy::Public
    }
}

/// A phone number in international form (`+6281234567890`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts Indonesian habits: `0812-3456-7890`, `62812…`, `+62 812 …`.
    pub fn parse(input: &str) -> Option<PhoneNumber> {
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest.to_string()
        } else if let Some(rest) = compact.strip_prefix('0') {
            format!("62{rest}")
        } else {
            compact
        };
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        ok.then(|| PhoneNumber(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked for shape only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Option<EmailAddress> {
        let s = input.trim();
        let (local, domain) = s.split_once('@')?;
        let ok = !local.is_empty()
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        ok.then(|| EmailAddress(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who complained and how to reach them. Lives only in the identity store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// A messaging handle (WhatsApp id, Messenger PSID, Instagram id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
}

impl Reporter {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none() && self.handle.is_none()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

/// Where the problem is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub region_code: RegionCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
}

/// Limits on what a citizen may send.
pub mod limits {
    pub const DESCRIPTION_MIN_CHARS: usize = 10;
    pub const DESCRIPTION_MAX_CHARS: usize = 5000;
    pub const TITLE_MAX_CHARS: usize = 150;
    pub const ADDRESS_MAX_CHARS: usize = 300;
    pub const NAME_MAX_CHARS: usize = 100;
    /// A JSON submission, attachments excluded.
    pub const JSON_BODY_MAX_BYTES: usize = 64 * 1024;
}

/// A checked submission from any channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    pub title: Option<String>,
    pub attachments: Vec<Attachment>,
    pub description: String,
    pub category: Option<String>,
    pub location: Location,
    pub privacy: Privacy,
    pub reporter: Reporter,
    pub language: Language,
}

/// What is wrong with a submission. Each names the field it is about.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum SubmissionError {
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("field `{0}` is required")]
    Missing(&'static str),
    #[error("field `{field}` must be {expected}")]
    WrongType { field: String, expected: &'static str },
    #[error("field `{field}` is too long: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("field `{field}` is too short: at least {min} characters")]
    TooShort { field: &'static str, min: usize },
    #[error("region code `{0}` is not a Kemendagri code such as 52.71")]
    MalformedRegion(String),
    #[error("region `{0}` is not in West Nusa Tenggara")]
    UnknownRegion(String),
    #[error("category `{0}` is not known")]
    UnknownCategory(String),
    #[error("privacy must be public, anonymous or confidential")]
    UnknownPrivacy,
    #[error("`{0}` is not a phone number")]
    InvalidPhone(String),
    #[error("`{0}` is not an e-mail address")]
    InvalidEmail(String),
    #[error("coordinates are not in West Nusa Tenggara")]
    CoordinatesOutside,
    #[error("field `{0}` is not known")]
    UnknownField(String),
}

impl SubmissionError {
    /// The field the error is about, for clients that highlight it.
    pub fn field(&self) -> Option<String> {
        use SubmissionError::*;
        match self {
            MalformedJson(_) | NotAnObject => None,
            Missing(f) | TooLong { field: f, .. } | TooShort { field: f, .. } => Some(f.to_string()),
            WrongType { field, .. } => Some(field.clone()),
            MalformedRegion(_) | UnknownRegion(_) => Some("region_code".into()),
            UnknownCategory(_) => Some("category".into()),
            UnknownPrivacy => Some("privacy".into()),
            InvalidPhone(_) => Some("reporter.phone".into()),
            InvalidEmail(_) => Some("reporter.email".into()),
            CoordinatesOutside => Some("coordinates".into()),
            UnknownField(f) => Some(f.clone()),
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use SubmissionError::*;
        match self {
            MalformedJson(_) => "malformed-json",
            NotAnObject => "not-an-object",
            Missing(_) => "missing-field",
            WrongType { .. } => "wrong-type",
            TooLong { .. } => "too-long",
            TooShort { .. } => "too-short",
            MalformedRegion(_) => "malformed-region-code",
            UnknownRegion(_) => "unknown-region",
            UnknownCategory(_) => "unknown-category",
            UnknownPrivacy => "unknown-privacy",
            InvalidPhone(_) => "invalid-phone",
            InvalidEmail(_) => "invalid-email",
            CoordinatesOutside => "coordinates-outside-ntb",
            UnknownField(_) => "unknown-field",
        }
    }

    /// The message a citizen reads, in Bahasa Indonesia and English.
    pub fn message(&self) -> Text {
        use SubmissionError::*;
        let id = match self {
            MalformedJson(_) => "Isi permintaan bukan JSON yang sah.".to_string(),
            NotAnObject => "Isi permintaan harus berupa objek JSON.".to_string(),
            Missing(f) => format!("Kolom `{f}` wajib diisi."),
            WrongType { field, expected } => {
                format!("Kolom `{field}` harus berupa {}.", expected_id(expected))
            }
            TooLong { field, max } => {
                format!("Kolom `{field}` terlalu panjang: paling banyak {max} karakter.")
            }
            TooShort { field, min } => {
                format!("Kolom `{field}` terlalu pendek: paling sedikit {min} karakter.")
            }
            MalformedRegion(c) => format!("Kode wilayah `{c}` tidak sesuai format Kemendagri, contoh 52.71."),
            UnknownRegion(c) => format!("Wilayah `{c}` tidak berada di Nusa Tenggara Barat."),
            UnknownCategory(c) => format!("Kategori `{c}` tidak dikenal."),
            UnknownPrivacy => "Pilihan privasi harus public, anonymous, atau confidential.".to_string(),
            InvalidPhone(p) => format!("`{p}` bukan nomor telepon yang sah."),
            InvalidEmail(e) => format!("`{e}` bukan alamat e-mail yang sah."),
            CoordinatesOutside => "Koordinat tidak berada di Nusa Tenggara Barat.".to_string(),
            UnknownField(f) => format!("Kolom `{f}` tidak dikenal."),
        };
        let mut en = self.to_string();
        if let Some(first) = en.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        en.push('.');
        Text::new(id, en)
    }
}

fn expected_id(expected: &str) -> &'static str {
    match expected {
        "a string" => "teks",
        "an object" => "objek",
        "a number" => "angka",
        _ => "nilai yang sah",
    }
}

/// Roughly NTB's bounding box; catches swapped latitude and longitude.
const NTB_LAT: (f64, f64) = (-9.6, -7.6);
const NTB_LON: (f64, f64) = (115.6, 119.6);

impl Submission {
    /// Parse a JSON body from the web or mobile API against the directory.
    pub fn from_json(
        body: &[u8],
        directory: &(impl RegionsAndCategories + ?Sized),
    ) -> Result<Submission, SubmissionError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| SubmissionError::MalformedJson(e.to_string()))?;
        let Value::Object(obj) = value else { return Err(SubmissionError::NotAnObject) };
        const KNOWN: [&str; 9] = [
            "title",
            "description",
            "category",
            "region_code",
            "address",
            "coordinates",
            "privacy",
            "reporter",
            "language",
        ];
        if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(SubmissionError::UnknownField(unknown.chars().take(64).collect()));
        }

        let description = text_field(&obj, "description", limits::DESCRIPTION_MAX_CHARS)?
            .ok_or(SubmissionError::Missing("description"))?;
        if description.chars().count() < limits::DESCRIPTION_MIN_CHARS {
            return Err(SubmissionError::TooShort {
                field: "description",
                min: limits::DESCRIPTION_MIN_CHARS,
            });
        }
        let title = text_field(&obj, "title", limits::TITLE_MAX_CHARS)?;
        let region_raw =
            text_field(&obj, "region_code", 40)?.ok_or(SubmissionError::Missing("region_code"))?;
        let region_code = RegionCode::parse(&region_raw)
            .map_err(|_| SubmissionError::MalformedRegion(region_raw.clone()))?;
        if directory.region(&region_code).is_none() {
            return Err(SubmissionError::UnknownRegion(region_code.to_string()));
        }
        let category = match text_field(&obj, "category", 64)? {
            Some(c) => {
                let c = c.to_lowercase();
                if directory.category(&c).is_none() {
                    return Err(SubmissionError::UnknownCategory(c));
                }
                Some(c)
            }
            None => None,
        };
        let address = text_field(&obj, "address", limits::ADDRESS_MAX_CHARS)?;
        let coordinates = match obj.get("coordinates") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => {
                let num = |k: &'static str| {
                    c.get(k).and_then(Value::as_f64).ok_or(SubmissionError::WrongType {
                        field: format!("coordinates.{k}"),
                        expected: "a number",
                    })
                };
                let (lat, lon) = (num("lat")?, num("lon")?);
                if !(NTB_LAT.0..=NTB_LAT.1).contains(&lat) || !(NTB_LON.0..=NTB_LON.1).contains(&lon) {
                    return Err(SubmissionError::CoordinatesOutside);
                }
                Some(Coordinates { lat, lon })
            }
            Some(_) => {
                return Err(SubmissionError::WrongType { field: "coordinates".into(), expected: "an object" })
            }
        };
        let privacy = match text_field(&obj, "privacy", 20)? {
            None => Privacy::default(),
            Some(p) => match p.to_lowercase().as_str() {
                "public" | "publik" => Privacy::Public,
                "anonymous" | "anonim" => Privacy::Anonymous,
                "confidential" | "rahasia" => Privacy::Confidential,
                _ => return Err(SubmissionError::UnknownPrivacy),
            },
        };
        let language = match text_field(&obj, "language", 8)?.as_deref() {
            Some("en") => Language::En,
            _ => Language::Id,
        };
        let reporter = match obj.get("reporter") {
            None | Some(Value::Null) => Reporter::default(),
            Some(Value::Object(r)) => parse_reporter(r)?,
            Some(_) => {
                return Err(SubmissionError::WrongType { field: "reporter".into(), expected: "an object" })
            }
        };
        Ok(Submission {
            title,
            attachments: vec![],
            description,
            category,
            location: Location { region_code, address, coordinates },
            privacy,
            reporter,
            language,
        })
    }
}

fn parse_reporter(r: &Map<String, Value>) -> Result<Reporter, SubmissionError> {
    if let Some(unknown) = r.keys().find(|k| !["name", "phone", "email"].contains(&k.as_str())) {
        return Err(SubmissionError::UnknownField(format!(
            "reporter.{}",
            unknown.chars().take(64).collect::<String>()
        )));
    }
    let name = text_field(r, "name", limits::NAME_MAX_CHARS).map_err(|e| prefix_field(e, "reporter."))?;
    let phone = match text_field(r, "phone", 32).map_err(|e| prefix_field(e, "reporter."))? {
        Some(p) => Some(PhoneNumber::parse(&p).ok_or(SubmissionError::InvalidPhone(p))?),
        None => None,
    };
    let email = match text_field(r, "email", 254).map_err(|e| prefix_field(e, "reporter."))? {
        Some(e) => Some(EmailAddress::parse(&e).ok_or(SubmissionError::InvalidEmail(e))?),
        None => None,
    };
    Ok(Reporter { name, phone, email, handle: None })
}

fn prefix_field(e: SubmissionError, prefix: &str) -> SubmissionError {
    match e {
        SubmissionError::WrongType { field, expected } => {
            SubmissionError::WrongType { field: format!("{prefix}{field}"), expected }
        }
        SubmissionError::TooLong { field: "name", max } => {
            SubmissionError::TooLong { field: "reporter.name", max }
        }
        other => other,
    }
}

/// A trimmed, non-empty string field of at most `max` characters, or none.
fn text_field(
    obj: &Map<String, Value>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, SubmissionError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else if s.chars().count() > max {
                Err(SubmissionError::TooLong { field, max })
            } else {
                Ok(Some(s.to_string()))
            }
        }
        Some(_) => Err(SubmissionError::WrongType { field: field.to_string(), expected: "a string" }),
    }
}

/// The complaint as NTB Care keeps it in the shared store: everything an agency may need,
/// and for anonymous or confidential complaints nothing that identifies the reporter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    pub ticket: Ticket,
    pub channel: Channel,
    pub privacy: Privacy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub location: Location,
    pub status: CaseStatus,
    /// The responsible unit; none while the complaint waits in the coordinator's triage queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    /// The routing rule that chose the unit (or why none did).
    pub routing_rule: String,
    pub received_at: Timestamp,
    pub updated_at: Timestamp,
    pub language: Language,
    /// The reporter's name, only for public complaints whose reporter gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_name: Option<String>,
    /// Whether intake holds a way to reach the reporter (never the address itself).
    pub reachable: bool,
    /// SHA-256 of the tracking secret, hex.
    pub tracking_secret_sha256: String,
    pub history: Vec<Event>,
    /// Photos and documents sent with the complaint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The partner system it came from and its reference there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalReference>,
    /// Where the casework stands beyond the status.
    #[serde(default)]
    pub case: CaseState,
}

/// A complaint's identity in the partner system that sent it (a regency's own app).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub system: String,
    pub reference: String,
}

/// Casework state beyond the status: answers, pauses, duplicates, reopenings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    /// Answers given by the unit, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    /// Since when the case waits for the complainant (the clock is paused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_information_since: Option<Timestamp>,
    /// Closed pauses of the clock, (from, until).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<(Timestamp, Timestamp)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Ticket>,
    /// An earlier complaint of the same reporter with very similar text, for the verifier
    /// to judge (never acted on automatically).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_duplicate_of: Option<Ticket>,
    /// The unit that said the case is not theirs, while it waits to be dispatched again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<UnitId>,
    #[serde(default)]
    pub reopened: u32,
    /// What the complainant sent after the complaint was opened (messaging channels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<FollowUp>,
    /// Set by the verifier; none means ordinary (*biasa*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<crate::sla::Priority>,
    /// The highest escalation recorded for the step now open, so each level is raised once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<(crate::sla::Step, crate::sla::Escalation)>,
    /// The complainant's rating of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// The completion step the latest answer opened: the unit must report the follow-up
    /// done (or the complainant confirm it) before the case may close. None on a record
    /// answered before completion was a step of its own: for such a record the answer
    /// stands for the completion, as it did when it was given (see [`clocks`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
}

/// The completion step of an answered case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// The unit said a field inspection is needed: the longer completion limit applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inspection: bool,
    /// When the unit reported the follow-up done (the `complete` action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
}

/// How the complainant judged the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub at: Timestamp,
    /// 1 (very bad) to 5 (very good).
    pub score: u8,
    pub resolved: Resolution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Whether the answer solved the problem, in the complainant's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    Yes,
    Partly,
    No,
}

/// A later message from the complainant, added to their complaint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub at: Timestamp,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// A digest of the provider's id for the message it came in, so that a redelivered
    /// message is never added twice. Never the id itself: WhatsApp's ids encode the
    /// sender's number, and agencies read follow-ups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A photo, document or other file the complainant sent, by reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// `image`, `document`, `audio`, `video`, `sticker` or `other`.
    pub kind: String,
    /// Where it is: the provider's media id or URL, or the attachment store's key.
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Bytes, for files NTB Care keeps itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A unit's answer to the complainant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub at: Timestamp,
    pub unit: UnitId,
    pub text: String,
}

/// One line of the public history: no officer-internal notes, no actor identities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicEvent {
    pub at: String,
    pub status: String,
    pub status_label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the line comes from when it is not NTB Care: `lapor` for SP4N-LAPOR!.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What anyone holding the ticket may read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicView {
    pub ticket: String,
    pub status: String,
    pub status_label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PublicEvent>,
}

/// What the complainant sees with their tracking secret: everything public, plus the
/// answers, the open question, their rating, and whether they may rate now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnView {
    #[serde(flatten)]
    pub public: PublicView,
    pub answers: Vec<OwnAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    pub can_rate: bool,
    /// When the unit reported the follow-up of the latest answer done; absent while it is
    /// still to be done (the complainant's rating then confirms or disputes the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnAnswer {
    pub at: String,
    pub agency: String,
    pub text: String,
}

impl Complaint {
    /// The complainant's own view (the caller has checked the tracking secret).
    pub fn own_view(&self, directory: &Directory, lang: Language) -> OwnView {
        // The complainant sees their own complaint in full, whatever its privacy.
        let mut as_public = self.clone();
        as_public.privacy = Privacy::Anonymous;
        let mut public = as_public.public_view(directory, lang);
        public.privacy = Some(self.privacy.code().into());
        let question = self.case.awaiting_information_since.and_then(|_| {
            self.history
                .iter()
                .rev()
                .find(|e| e.action == crate::lifecycle::Action::RequestInformation)
                .and_then(|e| e.public_note.clone())
        });
        OwnView {
            public,
            answers: self
                .case
                .answers
                .iter()
                .map(|a| OwnAnswer {
                    at: a.at.to_rfc3339_wita(),
                    agency: directory
                        .unit(&a.unit)
                        .map(|u| u.name.clone())
                        .unwrap_or_else(|| a.unit.to_string()),
                    text: a.text.clone(),
                })
                .collect(),
            question,
            rating: self.case.rating.clone(),
            can_rate: self.status == CaseStatus::Responded,
            completed_at: self
                .case
                .completion
                .as_ref()
                .and_then(|d| d.completed_at)
                .map(|t| t.to_rfc3339_wita()),
        }
    }

    /// The public view: for a confidential complaint nothing but its status; otherwise the
    /// complaint without personal data and the public history.
    pub fn public_view(&self, directory: &Directory, lang: Language) -> PublicView {
        let status_label = self.status.label().get(lang).to_string();
        if self.privacy == Privacy::Confidential {
            return PublicView {
                ticket: self.ticket.to_string(),
                status: self.status.code().into(),
                status_label,
                received_at: None,
                privacy: Some(self.privacy.code().into()),
                title: None,
                description: None,
                category: None,
                region_code: None,
                unit: None,
                history: vec![],
            };
        }
        PublicView {
            ticket: self.ticket.to_string(),
            status: self.status.code().into(),
            status_label,
            received_at: Some(self.received_at.to_rfc3339_wita()),
            privacy: Some(self.privacy.code().into()),
            title: self.title.clone(),
            description: Some(self.description.clone()),
            category: self.category.clone(),
            region_code: Some(self.location.region_code.to_string()),
            // The unit in whose hands the complaint is: none shown until a coordinator has
            // dispatched it (the unit routing proposed is the coordinators' working guess).
            unit: self
                .unit
                .as_ref()
                .filter(|_| crate::org::with_unit(self))
                .map(|u| directory.unit(u).map(|u| u.name.clone()).unwrap_or_else(|| u.to_string())),
            history: self
                .history
                .iter()
                .map(|e| PublicEvent {
                    at: e.at.to_rfc3339_wita(),
                    status: e.to.code().into(),
                    status_label: e.to.label().get(lang).to_string(),
                    note: e.public_note.clone(),
                    source: (e.action == crate::lifecycle::Action::LaporUpdate).then(|| "lapor".to_string()),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Submission, SubmissionError> {
        Submission::from_json(json.as_bytes(), &Directory::seed())
    }

    #[test]
    fn accepts_the_documented_example() {
        let s = parse(
            r#"{"description": "Jalan berlubang di depan SDN 3", "region_code": "5271", "category": "infrastruktur",
                "privacy": "public", "reporter": {"name": "Baiq Nurul", "phone": "0812-3456-7890"}}"#,
        )
        .unwrap();
        assert_eq!(s.location.region_code.as_str(), "52.71");
        assert_eq!(s.privacy, Privacy::Public);
        assert_eq!(s.reporter.phone.unwrap().as_str(), "+6281234567890");
    }

    #[test]
    fn privacy_defaults_to_anonymous() {
        let s = parse(r#"{"description": "Lampu jalan mati sebulan", "region_code": "52.01"}"#).unwrap();
        assert_eq!(s.privacy, Privacy::Anonymous);
    }

    #[test]
    fn each_problem_names_its_field() {
        let cases = [
            (r#"{"region_code": "52.71"}"#, "missing-field", Some("description")),
            (
                r#"{"description": "Jalan rusak parah", "region_code": "52.99"}"#,
                "unknown-region",
                Some("region_code"),
            ),
            (
                r#"{"description": "Jalan rusak parah", "region_code": "abc"}"#,
                "malformed-region-code",
                Some("region_code"),
            ),
            (r#"{"description": "pendek", "region_code": "52.71"}"#, "too-short", Some("description")),
            (r#"{"description": 5, "region_code": "52.71"}"#, "wrong-type", Some("description")),
            (
                r#"{"description": "Jalan rusak parah", "region_code": "52.71", "category": "sihir"}"#,
                "unknown-category",
                Some("category"),
            ),
            (
                r#"{"description": "Jalan rusak parah", "region_code": "52.71", "reporter": {"phone": "abc"}}"#,
                "invalid-phone",
                Some("reporter.phone"),
            ),
            (
                r#"{"description": "Jalan rusak parah", "region_code": "52.71", "colour": "red"}"#,
                "unknown-field",
                Some("colour"),
            ),
            (
                r#"{"description": "Jalan rusak parah", "region_code": "52.71", "coordinates": {"lat": 116.1, "lon": -8.6}}"#,
                "coordinates-outside-ntb",
                Some("coordinates"),
            ),
            (r#"[1, 2]"#, "not-an-object", None),
            (r#"{"description": "#, "malformed-json", None),
        ];
        for (json, code, field) in cases {
            let err = parse(json).unwrap_err();
            assert_eq!(err.code(), code, "{json}");
            assert_eq!(err.field().as_deref(), field, "{json}");
            assert!(!err.message().id.is_empty() && err.message().en.ends_with('.'));
        }
    }

    #[test]
    fn too_long_description_is_refused() {
        let long = "a".repeat(limits::DESCRIPTION_MAX_CHARS + 1);
        let err = parse(&format!(r#"{{"description": "{long}", "region_code": "52.71"}}"#)).unwrap_err();
        assert_eq!(
            err,
            SubmissionError::TooLong { field: "description", max: limits::DESCRIPTION_MAX_CHARS }
        );
        assert_eq!(err.message().id, "Kolom `description` terlalu panjang: paling banyak 5000 karakter.");
    }

    #[test]
    fn indonesian_phone_habits_normalise() {
        for p in ["081234567890", "+62 812 3456 7890", "62-812-3456-7890", "(0812) 3456 7890"] {
            assert_eq!(PhoneNumber::parse(p).unwrap().as_str(), "+6281234567890", "{p}");
        }
        assert!(PhoneNumber::parse("12").is_none());
        assert!(PhoneNumber::parse("0812abc").is_none());
    }
}
