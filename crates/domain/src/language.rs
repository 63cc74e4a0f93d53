//! The languages people read NTB Care in: Bahasa Indonesia first, English on request.

pub use ntbcare_language::Language;

/// A text in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub id: String,
    pub en: String,
}

impl Text {
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Self {
        Text { id: id.into(), en: en.into() }
    }

    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::Id => &self.id,
            Language::En => &self.en,
        }
    }
}
