//! Reusable answers per category: data an administrator edits, offered to the officer who
//! answers a case of that category as a starting point. They carry blanks to fill in, so an
//! answer made from one is still checked like any other (`casework::check_answer`).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::directory::Directory;

pub const SEED_TOML: &str = include_str!("../../../data/answer-templates.toml");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerTemplate {
    /// A category code, or `*` for all.
    pub category: String,
    pub title: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerTemplates {
    #[serde(rename = "template", default)]
    pub templates: Vec<AnswerTemplate>,
}

#[derive(Debug, Error)]
pub enum AnswerTemplatesError {
    #[error("answer templates are not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("template {row} `{title}`: {problem}")]
    Row { row: usize, title: String, problem: String },
}

impl AnswerTemplates {
    pub fn seed(directory: &Directory) -> AnswerTemplates {
        AnswerTemplates::from_toml(SEED_TOML, directory).expect("the shipped answer templates are valid")
    }

    pub fn from_toml(text: &str, directory: &Directory) -> Result<AnswerTemplates, AnswerTemplatesError> {
        let parsed: AnswerTemplates = toml::from_str(text)?;
        for (i, t) in parsed.templates.iter().enumerate() {
            let row =
                |problem: String| AnswerTemplatesError::Row { row: i + 1, title: t.title.clone(), problem };
            if t.category != "*" && directory.category(&t.category).is_none() {
                return Err(row(format!("category `{}` is not in the directory", t.category)));
            }
            if t.title.trim().is_empty() || t.title.chars().count() > 120 {
                return Err(row("a title is 1–120 characters".into()));
            }
            if t.text.trim().is_empty() || t.text.chars().count() > 5000 {
                return Err(row("a text is 1–5000 characters".into()));
            }
        }
        Ok(parsed)
    }

    /// The templates for a case of `category` (those for every category last).
    pub fn for_category(&self, category: Option<&str>) -> Vec<&AnswerTemplate> {
        let specific = self.templates.iter().filter(|t| Some(t.category.as_str()) == category);
        let general = self.templates.iter().filter(|t| t.category == "*");
        specific.chain(general).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_gets_its_categorys_templates_then_the_general_ones() {
        let dir = Directory::seed();
        let all = AnswerTemplates::seed(&dir);
        let road: Vec<&str> =
            all.for_category(Some("infrastruktur")).iter().map(|t| t.category.as_str()).collect();
        assert_eq!(road, ["infrastruktur", "infrastruktur", "*"]);
        assert_eq!(all.for_category(None).len(), 1);
    }

    #[test]
    fn a_template_for_an_unknown_category_is_refused_with_its_row() {
        let dir = Directory::seed();
        let err = AnswerTemplates::from_toml(
            "[[template]]\ncategory = \"sihir\"\ntitle = \"x\"\ntext = \"y\"\n",
            &dir,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "template 1 `x`: category `sihir` is not in the directory");
    }
}
