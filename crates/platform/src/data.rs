//! The data an administrator manages: the directory, routing rules, the working-day
//! calendar and the SLA rules. Each is kept as its TOML document under `config/<name>` in the
//! shared store, checked before it is saved; until an administrator saves one, the seed
//! shipped with NTB Care applies. Every function reads the current document, so a change
//! takes effect on the next request of every function, on every replica.

use ntbcare_domain::calendar::WorkingCalendar;
use ntbcare_domain::directory::Directory;
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
}

impl Document {
    pub fn parse(name: &str) -> Option<Document> {
        match name {
            "directory" => Some(Document::Directory),
            "routing-rules" => Some(Document::RoutingRules),
            "calendar" => Some(Document::Calendar),
            "sla-rules" => Some(Document::SlaRules),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Document::Directory => "config/directory",
            Document::RoutingRules => "config/routing-rules",
            Document::Calendar => "config/calendar",
            Document::SlaRules => "config/sla-rules",
        }
    }

    pub fn seed(self) -> &'static str {
        match self {
            Document::Directory => ntbcare_domain::directory::SEED_TOML,
            Document::RoutingRules => ntbcare_domain::routing::SEED_TOML,
            Document::Calendar => ntbcare_domain::calendar::SEED_TOML,
            Document::SlaRules => ntbcare_domain::sla::SEED_TOML,
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

pub fn directory(store: &SpinStore) -> ApiResult<Directory> {
    if !store.exists(Document::Directory.key())? {
        return Ok(Directory::seed());
    }
    Directory::from_toml(&text(store, Document::Directory)?).map_err(|e| corrupt(Document::Directory, e))
}

pub fn routing_rules(store: &SpinStore, directory: &Directory) -> ApiResult<RoutingRules> {
    RoutingRules::from_toml(&text(store, Document::RoutingRules)?, directory)
        .map_err(|e| corrupt(Document::RoutingRules, e))
}

pub fn calendar(store: &SpinStore) -> ApiResult<WorkingCalendar> {
    WorkingCalendar::from_toml(&text(store, Document::Calendar)?).map_err(|e| corrupt(Document::Calendar, e))
}

pub fn sla_rules(store: &SpinStore) -> ApiResult<SlaRules> {
    SlaRules::from_toml(&text(store, Document::SlaRules)?).map_err(|e| corrupt(Document::SlaRules, e))
}

/// Check a new version of a document against everything it must agree with, and save it.
/// Answers the problem, in words an administrator can act on, when it does not check.
pub fn replace(store: &SpinStore, doc: Document, new_text: &str) -> Result<(), String> {
    let current_directory = directory(store).map_err(|e| format!("{e:?}"))?;
    let check = match doc {
        Document::Directory => Directory::from_toml(new_text)
            .map(|dir| {
                // The rules in force must still name units that exist.
                let rules = text(store, Document::RoutingRules).unwrap_or_default();
                RoutingRules::from_toml(&rules, &dir)
                    .map(|_| ())
                    .map_err(|e| format!("the routing rules would break: {e}"))
            })
            .map_err(|e| e.to_string())
            .and_then(|r| r),
        Document::RoutingRules => {
            RoutingRules::from_toml(new_text, &current_directory).map(|_| ()).map_err(|e| e.to_string())
        }
        Document::Calendar => WorkingCalendar::from_toml(new_text).map(|_| ()).map_err(|e| e.to_string()),
        Document::SlaRules => SlaRules::from_toml(new_text).map(|_| ()).map_err(|e| e.to_string()),
    };
    check?;
    store.set(doc.key(), new_text.as_bytes()).map_err(|e| e.to_string())
}
