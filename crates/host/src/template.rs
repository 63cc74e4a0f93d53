//! Spin's expression templates: literal text with `{{ name }}` references to application
//! variables, as used by `[component.<id>.variables]` values and `allowed_outbound_hosts`.
//!
//! Parsing mirrors Spin's `spin-expressions` crate: text up to the next `{{` is literal, the
//! text between `{{` and the next `}}` (trimmed) is a variable name, and an unmatched `{{` is
//! an error.

use anyhow::{bail, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Var(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("{{") {
                let Some((expr, tail)) = after.split_once("}}") else {
                    bail!("invalid variable template {text:?}: unmatched '{{{{' in template");
                };
                parts.push(Part::Var(expr.trim().to_string()));
                rest = tail;
            } else if let Some(idx) = rest.find("{{") {
                parts.push(Part::Lit(rest[..idx].to_string()));
                rest = &rest[idx..];
            } else {
                parts.push(Part::Lit(rest.to_string()));
                rest = "";
            }
        }
        Ok(Template { parts })
    }

    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The variable names this template refers to.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Substitute every reference through `lookup`; the first failure is returned.
    pub fn render<E>(&self, mut lookup: impl FnMut(&str) -> Result<String, E>) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(l) => out.push_str(l),
                Part::Var(v) => out.push_str(&lookup(v)?),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str) -> String {
        Template::parse(t).unwrap().render(|v| Ok::<_, ()>(format!("<{v}>"))).unwrap()
    }

    #[test]
    fn literal_text_is_kept() {
        assert!(Template::parse("plain").unwrap().is_literal());
        assert_eq!(render("plain"), "plain");
        assert_eq!(render(""), "");
    }

    #[test]
    fn references_are_trimmed_and_mixed_with_literals() {
        assert_eq!(render("{{ admin_token }}"), "<admin_token>");
        assert_eq!(render("{{x}}"), "<x>");
        assert_eq!(render("http://{{ host }}:{{port}}/x"), "http://<host>:<port>/x");
        assert_eq!(render("{{ a }}{{ b }}"), "<a><b>");
    }

    #[test]
    fn unmatched_braces_are_an_error() {
        assert!(Template::parse("{{ matched }} {{ unmatched").is_err());
    }

    #[test]
    fn variables_are_listed() {
        let t = Template::parse("a{{ one }}b{{two}}").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), vec!["one", "two"]);
    }
}
