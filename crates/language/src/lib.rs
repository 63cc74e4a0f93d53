//! The languages people read NTB Care in: Bahasa Indonesia first, English on request. Its
//! own crate because the domain and the local host (whose own error answers are read by the
//! same people) must pick a reader's language by the same rule.

use serde::{Deserialize, Serialize};

/// A language a citizen or officer reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Bahasa Indonesia, the default everywhere.
    #[default]
    Id,
    En,
}

impl Language {
    /// Pick from an `Accept-Language` header: English only when it is preferred over
    /// Indonesian; anything else (absent, `*`, other languages) reads Indonesian.
    pub fn from_accept_language(header: Option<&str>) -> Language {
        let Some(header) = header else { return Language::Id };
        let mut best: Option<(Language, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = match tag.split('-').next().unwrap_or("") {
                "id" | "in" => Language::Id,
                "en" => Language::En,
                _ => continue,
            };
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l).unwrap_or(Language::Id)
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::Id => "id",
            Language::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_is_the_default() {
        assert_eq!(Language::from_accept_language(None), Language::Id);
        assert_eq!(Language::from_accept_language(Some("fr-FR, *;q=0.5")), Language::Id);
    }

    #[test]
    fn english_when_preferred() {
        assert_eq!(Language::from_accept_language(Some("en-US,en;q=0.9")), Language::En);
        assert_eq!(Language::from_accept_language(Some("id;q=0.4, en;q=0.8")), Language::En);
        assert_eq!(Language::from_accept_language(Some("id-ID, en;q=0.8")), Language::Id);
    }
}
