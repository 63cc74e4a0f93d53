//! Routing rules: which unit answers a complaint.
//!
//! Rules are data an administrator reads and changes (seeded from `data/routing-rules.toml`):
//! category × region → unit, tried in order, first match wins. Keyword rules in Bahasa
//! Indonesia suggest a category for free text that came without one. Every decision names
//! the rule that made it; what no rule matches goes to the coordinator's triage queue.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::directory::{Directory, UnitId};
use crate::region::RegionCode;

pub const SEED_TOML: &str = include_str!("../../../data/routing-rules.toml");
/// The same seed as JSON, made by build.rs: routing reads it on every request.
pub const SEED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/routing-rules.json"));

/// The rule id recorded when nothing matched.
pub const NO_RULE: &str = "triage:no-rule-matched";

/// A rule's category or region list, or `"*"` for any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Matcher<T> {
    Any(AnyMarker),
    Only(Vec<T>),
}

/// By hand rather than `untagged`, which buffers each value and builds an error message for
/// every variant it tries: that was most of the time routing spent reading its rules.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Matcher<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Matcher<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"*\" or a list")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "*" => Ok(Matcher::Any(AnyMarker::Any)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(x) = seq.next_element()? {
                    out.push(x);
                }
                Ok(Matcher::Only(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The literal `"*"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnyMarker {
    #[serde(rename = "*")]
    Any,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub categories: Matcher<String>,
    pub regions: Matcher<RegionCode>,
    pub unit: UnitId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordRule {
    pub category: String,
    pub words: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRules {
    #[serde(rename = "rule", default)]
    pub rules: Vec<Rule>,
    #[serde(rename = "keyword", default)]
    pub keywords: Vec<KeywordRule>,
}

#[derive(Debug, Error)]
pub enum RulesError {
    #[error("routing rules are not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("routing rules are not valid: {0}")]
    Json(serde_json::Error),
    #[error("routing rule `{rule}` names unknown {what} `{value}`")]
    Unknown { rule: String, what: &'static str, value: String },
}

/// What routing looks at: never anything about the reporter.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutingInput<'a> {
    pub category: Option<&'a str>,
    pub region: &'a RegionCode,
    pub description: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub unit: Option<UnitId>,
    pub rule_id: String,
    pub suggested_category: Option<String>,
}

impl RoutingRules {
    pub fn seed(directory: &Directory) -> RoutingRules {
        RoutingRules::from_json(SEED_JSON, directory).expect("the shipped routing rules are valid")
    }

    /// Parse rules and check every unit and category they name against the directory.
    pub fn from_toml(text: &str, directory: &Directory) -> Result<RoutingRules, RulesError> {
        toml::from_str::<RoutingRules>(text)?.checked(directory)
    }

    /// The rules in force, as routing reads them to decide one complaint, from their JSON
    /// form (checked against the directory when saved). The keyword rules only suggest a
    /// category for a complaint that came without one: for one that names its category they
    /// are skipped, not built (about half the document; a fifth of what reading it cost).
    pub fn in_force_from_json(text: &str, category_given: bool) -> Result<RoutingRules, serde_json::Error> {
        if !category_given {
            return serde_json::from_str(text);
        }
        #[derive(Deserialize)]
        struct RulesOnly {
            #[serde(rename = "rule", default)]
            rules: Vec<Rule>,
        }
        let RulesOnly { rules } = serde_json::from_str(text)?;
        Ok(RoutingRules { rules, keywords: Vec::new() })
    }

    /// The same from JSON (a seed converted at build time, or a saved document's JSON form).
    pub fn from_json(text: &str, directory: &Directory) -> Result<RoutingRules, RulesError> {
        serde_json::from_str::<RoutingRules>(text).map_err(RulesError::Json)?.checked(directory)
    }

    fn checked(self, directory: &Directory) -> Result<RoutingRules, RulesError> {
        let rules = self;
        for rule in &rules.rules {
            if directory.unit(&rule.unit).is_none() {
                return Err(RulesError::Unknown {
                    rule: rule.id.clone(),
                    what: "unit",
                    value: rule.unit.to_string(),
                });
            }
            if let Matcher::Only(categories) = &rule.categories {
                if let Some(c) = categories.iter().find(|c| directory.category(c).is_none()) {
                    return Err(RulesError::Unknown {
                        rule: rule.id.clone(),
                        what: "category",
                        value: c.clone(),
                    });
                }
            }
        }
        for k in &rules.keywords {
            if directory.category(&k.category).is_none() {
                return Err(RulesError::Unknown {
                    rule: format!("keyword:{}", k.category),
                    what: "category",
                    value: k.category.clone(),
                });
            }
        }
        Ok(rules)
    }

    /// The category whose keywords appear most often in the text, if any appears.
    pub fn suggest_category(&self, text: &str) -> Option<String> {
        let words = normalise(text);
        let mut best: Option<(&str, usize)> = None;
        for k in &self.keywords {
            let hits = k.words.iter().filter(|w| contains_phrase(&words, &w.to_lowercase())).count();
            if hits > 0 && best.is_none_or(|(_, b)| hits > b) {
                best = Some((&k.category, hits));
            }
        }
        best.map(|(c, _)| c.to_string())
    }

    /// Decide the responsible unit.
    pub fn decide(&self, input: &RoutingInput<'_>) -> Decision {
        let suggested =
            if input.category.is_none() { self.suggest_category(input.description) } else { None };
        let category = input.category.map(str::to_string).or_else(|| suggested.clone());
        for rule in &self.rules {
            let category_ok = match (&rule.categories, &category) {
                (Matcher::Any(_), _) => true,
                (Matcher::Only(list), Some(c)) => list.iter().any(|x| x == c),
                (Matcher::Only(_), None) => false,
            };
            let region_ok = match &rule.regions {
                Matcher::Any(_) => true,
                Matcher::Only(list) => list.iter().any(|r| input.region.is_within(r)),
            };
            if category_ok && region_ok {
                let rule_id =
                    if suggested.is_some() { format!("{}+keywords", rule.id) } else { rule.id.clone() };
                return Decision { unit: Some(rule.unit.clone()), rule_id, suggested_category: suggested };
            }
        }
        Decision { unit: None, rule_id: NO_RULE.to_string(), suggested_category: suggested }
    }
}

/// Lower-case words separated by single spaces, with a space at each end, so that phrases
/// match on word boundaries (`air` does not match `airport`).
fn normalise(text: &str) -> String {
    let mut out = String::from(" ");
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        out.push_str(&word.to_lowercase());
        out.push(' ');
    }
    out
}

fn contains_phrase(normalised: &str, phrase: &str) -> bool {
    let phrase = normalise(phrase);
    !phrase.trim().is_empty() && normalised.contains(&phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_without_keywords_decide_as_the_whole_rules_when_a_category_is_given() {
        let whole = RoutingRules::in_force_from_json(SEED_JSON, false).unwrap();
        let lean = RoutingRules::in_force_from_json(SEED_JSON, true).unwrap();
        assert_eq!(whole, RoutingRules::seed(&Directory::seed()));
        assert!(lean.keywords.is_empty() && !whole.keywords.is_empty());
        assert_eq!(lean.rules, whole.rules);
        let dir = Directory::seed();
        for region in &dir.regions {
            for category in &dir.categories {
                let input = RoutingInput {
                    category: Some(&category.code),
                    region: &region.code,
                    description: "jalan berlubang dan sampah",
                };
                assert_eq!(lean.decide(&input), whole.decide(&input), "{} {}", category.code, region.code);
            }
        }
    }

    fn decide(category: Option<&str>, region: &str, text: &str) -> Decision {
        let dir = Directory::seed();
        let rules = RoutingRules::seed(&dir);
        let region = RegionCode::parse(region).unwrap();
        rules.decide(&RoutingInput { category, region: &region, description: text })
    }

    #[test]
    fn the_json_seed_is_the_toml_seed() {
        let dir = Directory::seed();
        assert_eq!(
            RoutingRules::from_json(SEED_JSON, &dir).unwrap(),
            RoutingRules::from_toml(SEED_TOML, &dir).unwrap()
        );
    }

    #[test]
    fn city_roads_go_to_the_city_government() {
        let d = decide(Some("infrastruktur"), "52.71", "Jalan berlubang di depan SDN 3");
        assert_eq!(d.unit.unwrap().as_str(), "pemkot-mataram");
        assert_eq!(d.rule_id, "lokal-mataram");
    }

    #[test]
    fn health_goes_to_the_provincial_health_agency_from_anywhere() {
        let d = decide(Some("kesehatan"), "52.06", "Antrian puskesmas sangat lama");
        assert_eq!(d.unit.unwrap().as_str(), "dikes");
    }

    #[test]
    fn earlier_rules_win() {
        // Water in Mataram: the utility's rule comes before the city's.
        let d = decide(Some("air-bersih"), "52.71.01", "Air mati tiga hari");
        assert_eq!(d.unit.unwrap().as_str(), "ptam-giri-menang");
    }

    #[test]
    fn keywords_suggest_a_category_for_free_text() {
        let d = decide(None, "52.03", "Sampah menumpuk di pasar, bau sekali");
        assert_eq!(d.suggested_category.as_deref(), Some("lingkungan"));
        assert_eq!(d.unit.unwrap().as_str(), "pemkab-lombok-timur");
        assert_eq!(d.rule_id, "lokal-lombok-timur+keywords");
    }

    #[test]
    fn keywords_match_whole_words_only() {
        let dir = Directory::seed();
        let rules = RoutingRules::seed(&dir);
        assert_eq!(rules.suggest_category("Penerbangan di bandara airport tertunda"), None);
    }

    #[test]
    fn what_no_rule_matches_waits_in_triage() {
        let d = decide(None, "52.71", "Saya ingin menyampaikan terima kasih");
        assert_eq!(d.unit, None);
        assert_eq!(d.rule_id, NO_RULE);
    }

    #[test]
    fn rules_naming_unknown_units_are_refused() {
        let dir = Directory::seed();
        let text = r#"
            [[rule]]
            id = "x"
            categories = "*"
            regions = ["52"]
            unit = "dinas-sihir"
        "#;
        let err = RoutingRules::from_toml(text, &dir).unwrap_err();
        assert_eq!(err.to_string(), "routing rule `x` names unknown unit `dinas-sihir`");
    }

    #[test]
    fn any_marker_matches_everything() {
        let dir = Directory::seed();
        let text = r#"
            [[rule]]
            id = "all-to-kominfo"
            categories = "*"
            regions = "*"
            unit = "diskominfotik"
        "#;
        let rules = RoutingRules::from_toml(text, &dir).unwrap();
        let region = RegionCode::parse("52.72").unwrap();
        let d = rules.decide(&RoutingInput { category: None, region: &region, description: "apa saja" });
        assert_eq!(d.unit.unwrap().as_str(), "diskominfotik");
    }
}
