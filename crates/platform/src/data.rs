//! The data an administrator manages: the directory, routing rules, the working-day
//! calendar, the SLA rules and the answer templates. Each is kept as its TOML document under `config/<name>` in the
//! shared store, checked before it is saved; until an administrator saves one, the seed
//! shipped with NTB Care applies. Every function reads the current document, so a change
//! takes effect on the next request of every function, on every replica.

use ntbcare_domain::answers::AnswerTemplates;
use ntbcare_domain::calendar::WorkingCalendar;
use ntbcare_domain::directory::{Codes, Directory};
use ntbcare_domain::routing::RoutingRules;
use ntbcare_domain::sla::SlaRules;
use ntbcare_domain::store::KeyValue;

use crate::{ApiError, ApiResult, SpinStore};

/// A managed document: its store key and its seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    Directory,
    RoutingRules,
    Calendar,
    SlaRules,
    AnswerTemplates,
}

impl Document {
    pub fn parse(name: &str) -> Option<Document> {
        match name {
            "directory" => Some(Document::Directory),
            "routing-rules" => Some(Document::RoutingRules),
            "calendar" => Some(Document::Calendar),
            "sla-rules" => Some(Document::SlaRules),
            "answer-templates" => Some(Document::AnswerTemplates),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Document::Directory => "config/directory",
            Document::RoutingRules => "config/routing-rules",
            Document::Calendar => "config/calendar",
            Document::SlaRules => "config/sla-rules",
            Document::AnswerTemplates => "config/answer-templates",
        }
    }

    pub fn seed(self) -> &'static str {
        match self {
            Document::Directory => ntbcare_domain::directory::SEED_TOML,
            Document::RoutingRules => ntbcare_domain::routing::SEED_TOML,
            Document::Calendar => ntbcare_domain::calendar::SEED_TOML,
            Document::SlaRules => ntbcare_domain::sla::SEED_TOML,
            Document::AnswerTemplates => ntbcare_domain::answers::SEED_TOML,
        }
    }
}

/// The document's current text: the administrator's, or the seed.
pub fn text(store: &SpinStore, doc: Document) -> ApiResult<String> {
    match store.get(doc.key())? {
        Some(bytes) => {
            String::from_utf8(bytes).map_err(|_| ApiError::internal(format!("{} is not UTF-8", doc.key())))
        }
        None => Ok(doc.seed().to_string()),
    }
}

fn corrupt(doc: Document, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("stored {} no longer parses: {e}", doc.key()))
}

/// The JSON form kept beside a saved document: parsing it is an order of magnitude faster
/// than TOML, and the directory is read on nearly every request.
fn json_key(doc: Document) -> String {
    format!("{}.json", doc.key())
}

fn json_text(store: &SpinStore, doc: Document) -> ApiResult<Option<String>> {
    store
        .get(&json_key(doc))?
        .map(|b| {
            String::from_utf8(b).map_err(|_| ApiError::internal(format!("{} is not UTF-8", json_key(doc))))
        })
        .transpose()
}

pub fn directory(store: &SpinStore) -> ApiResult<Directory> {
    match json_text(store, Document::Directory)? {
        None => Ok(Directory::seed()),
        Some(json) => Directory::from_json(&json).map_err(|e| corrupt(Document::Directory, e)),
    }
}

/// The directory's regions and categories alone: what a new complaint is checked against.
pub fn codes(store: &SpinStore) -> ApiResult<Codes> {
    match json_text(store, Document::Directory)? {
        None => Ok(Codes::seed()),
        Some(json) => Codes::from_json(&json).map_err(|e| corrupt(Document::Directory, e)),
    }
}

pub fn routing_rules(store: &SpinStore, directory: &Directory) -> ApiResult<RoutingRules> {
    match json_text(store, Document::RoutingRules)? {
        None => Ok(RoutingRules::seed(directory)),
        Some(json) => {
            RoutingRules::from_json(&json, directory).map_err(|e| corrupt(Document::RoutingRules, e))
        }
    }
}

/// The rules in force, for deciding: without the directory, since they were checked against
/// it when saved (and a directory is refused while the rules in force name a unit it drops),
/// and the seed against the seed directory by the domain's tests. Routing decides on every
/// complaint; parsing and checking the directory was a third of its work. `category_given`:
/// see [`RoutingRules::in_force_from_json`].
pub fn routing_rules_in_force(store: &SpinStore, category_given: bool) -> ApiResult<RoutingRules> {
    let json = json_text(store, Document::RoutingRules)?;
    let text = json.as_deref().unwrap_or(ntbcare_domain::routing::SEED_JSON);
    RoutingRules::in_force_from_json(text, category_given).map_err(|e| corrupt(Document::RoutingRules, e))
}

pub fn calendar(store: &SpinStore) -> ApiResult<WorkingCalendar> {
    WorkingCalendar::from_toml(&text(store, Document::Calendar)?).map_err(|e| corrupt(Document::Calendar, e))
}

pub fn answer_templates(store: &SpinStore, directory: &Directory) -> ApiResult<AnswerTemplates> {
    AnswerTemplates::from_toml(&text(store, Document::AnswerTemplates)?, directory)
        .map_err(|e| corrupt(Document::AnswerTemplates, e))
}

pub fn sla_rules(store: &SpinStore) -> ApiResult<SlaRules> {
    SlaRules::from_toml(&text(store, Document::SlaRules)?).map_err(|e| corrupt(Document::SlaRules, e))
}

/// Check a new version of a document against everything it must agree with, and save it.
/// Answers the problem, in words an administrator can act on, when it does not check.
pub fn replace(store: &SpinStore, doc: Document, new_text: &str) -> Result<(), String> {
    let current_directory = directory(store).map_err(|e| format!("{e:?}"))?;
    // The JSON form (for the documents read on hot paths) is what readers parse.
    let json: Option<String> = match doc {
        Document::Directory => {
            let dir = Directory::from_toml(new_text).map_err(|e| e.to_string())?;
            // The rules in force must still name units that exist.
            let rules = routing_rules(store, &current_directory).map_err(|e| format!("{e:?}"))?;
            let rules_json = serde_json::to_string(&rules).expect("rules encode");
            RoutingRules::from_json(&rules_json, &dir)
                .map_err(|e| format!("the routing rules would break: {e}"))?;
            Some(serde_json::to_string(&dir).expect("a directory encodes"))
        }
        Document::RoutingRules => {
            let rules = RoutingRules::from_toml(new_text, &current_directory).map_err(|e| e.to_string())?;
            Some(serde_json::to_string(&rules).expect("rules encode"))
        }
        Document::Calendar => {
            WorkingCalendar::from_toml(new_text).map(|_| None).map_err(|e| e.to_string())?
        }
        Document::SlaRules => SlaRules::from_toml(new_text).map(|_| None).map_err(|e| e.to_string())?,
        Document::AnswerTemplates => AnswerTemplates::from_toml(new_text, &current_directory)
            .map(|_| None)
            .map_err(|e| e.to_string())?,
    };
    // When this version took effect, for the published service standard (same commit).
    let now = ntbcare_domain::clock::Clock::now(&crate::SystemClock).to_rfc3339_wita();
    let mut entries = vec![
        (doc.key().to_string(), new_text.as_bytes().to_vec()),
        (ntbcare_domain::service_standard::effective_from_key(doc.key()), now.into_bytes()),
    ];
    if let Some(json) = json {
        entries.push((json_key(doc), json.into_bytes()));
    }
    store.set_many(&entries).map_err(|e| e.to_string())
}
