//! Application variables and `fermyon:spin/variables@2.0.0`, as Spin resolves them
//! (spinframework/spin `crates/expressions`, `crates/factor-variables`, `crates/variables-env`):
//!
//! - an application variable's value comes from the first provider that has it, else its
//!   default: providers are any `[[variables_provider]]` of the runtime config (static only,
//!   here) and then always the environment provider: `SPIN_VARIABLE_<NAME>` from the process
//!   environment, then from `.env` in the working directory;
//! - a component sees only the names in its `[component.<id>.variables]`, whose values are
//!   templates over application variables;
//! - Spin 4 refuses to start when a required variable has no value and every provider is a
//!   static one (as here); the check is repeated at `get` time for the error shape.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{bail, Result};

use crate::manifest::{App, VariableDecl};
use crate::template::Template;

/// Spin's variable-name rule (`spin_expressions::Key::validate`).
pub fn validate_name(key: &str) -> Result<(), String> {
    if key.is_empty() {
        Err("must not be empty".into())
    } else if let Some(c) = key.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Err(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ))
    } else if !key.as_bytes()[0].is_ascii_lowercase() {
        Err("must start with a lowercase ASCII letter".into())
    } else if !key.as_bytes()[key.len() - 1].is_ascii_alphanumeric() {
        Err("must end with a lowercase ASCII letter or digit".into())
    } else if key.contains("__") {
        Err("must not contain multiple consecutive underscores".into())
    } else {
        Ok(())
    }
}

/// The error variants of `fermyon:spin/variables@2.0.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    InvalidName(String),
    Undefined(String),
    Provider(String),
    /// Part of the WIT error type; no provider of this host produces it.
    #[allow(dead_code)]
    Other(String),
}

impl std::fmt::Display for VarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarError::InvalidName(m) => write!(f, "invalid variable name: {m}"),
            VarError::Undefined(m) => write!(f, "undefined variable: {m}"),
            VarError::Provider(m) => write!(f, "provider error: {m}"),
            VarError::Other(m) => write!(f, "{m}"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Provider {
    /// `[[variables_provider]] type = "static"` with `values = { name = "value" }`.
    Static(HashMap<String, String>),
    /// Spin's environment provider: `<prefix>_<NAME>` from the environment, then a dotenv file.
    Env { prefix: String, dotenv: HashMap<String, String> },
}

impl Provider {
    pub fn env_default() -> Provider {
        Provider::env(None, Some(std::path::Path::new(".env")))
    }

    pub fn env(prefix: Option<String>, dotenv_path: Option<&std::path::Path>) -> Provider {
        let dotenv = dotenv_path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| parse_dotenv(&t))
            .unwrap_or_default();
        Provider::Env { prefix: prefix.unwrap_or_else(|| "SPIN_VARIABLE".into()), dotenv }
    }

    fn get(&self, name: &str) -> Option<String> {
        match self {
            Provider::Static(values) => values.get(name).cloned(),
            Provider::Env { prefix, dotenv } => {
                let key = format!("{prefix}_{}", name.to_ascii_uppercase());
                std::env::var(&key).ok().or_else(|| dotenv.get(&key).cloned())
            }
        }
    }
}

fn parse_dotenv(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

#[derive(Debug)]
pub struct Resolver {
    app_vars: BTreeMap<String, VariableDecl>,
    components: HashMap<String, BTreeMap<String, Template>>,
    providers: Vec<Provider>,
}

impl Resolver {
    pub fn new(app: &App, providers: Vec<Provider>) -> Arc<Resolver> {
        Arc::new(Resolver {
            app_vars: app.variables.clone(),
            components: app.components.iter().map(|(id, c)| (id.clone(), c.variables.clone())).collect(),
            providers,
        })
    }

    /// An application variable's value.
    pub fn app_variable(&self, name: &str) -> Result<String, VarError> {
        let Some(decl) = self.app_vars.get(name) else {
            return Err(VarError::InvalidName(name.to_string()));
        };
        for p in &self.providers {
            if let Some(v) = p.get(name) {
                return Ok(v);
            }
        }
        decl.default
            .clone()
            .ok_or_else(|| VarError::Provider(format!("no provider resolved required variable {name:?}")))
    }

    /// `variables.get(name)` for `component`.
    pub fn get(&self, component: &str, name: &str) -> Result<String, VarError> {
        validate_name(name).map_err(|e| VarError::InvalidName(format!("{name:?}: {e}")))?;
        let template = self
            .components
            .get(component)
            .and_then(|vars| vars.get(name))
            .ok_or_else(|| VarError::Undefined(format!("no variable for {component:?}.{name:?}")))?;
        template.render(|v| self.app_variable(v))
    }

    /// Spin 4 refuses to start when a required application variable has no value.
    pub fn ensure_required_resolvable(&self) -> Result<()> {
        let missing: Vec<&str> = self
            .app_vars
            .iter()
            .filter(|(name, decl)| {
                decl.default.is_none() && self.providers.iter().all(|p| p.get(name).is_none())
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if !missing.is_empty() {
            let hints: Vec<String> =
                missing.iter().map(|n| format!("SPIN_VARIABLE_{}", n.to_ascii_uppercase())).collect();
            bail!(
                "required application variable(s) {} have no value: set {} (or another variables provider)",
                missing.join(", "),
                hints.join(", ")
            );
        }
        Ok(())
    }
}

/// `fermyon:spin/variables@2.0.0` for guests.
impl crate::bindings::fermyon::spin::variables::Host for crate::instance::HostState {
    async fn get(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<String, crate::bindings::fermyon::spin::variables::Error>> {
        use crate::bindings::fermyon::spin::variables::Error as E;
        Ok(self.resolver.get(&self.component_id, &name).map_err(|e| match e {
            VarError::InvalidName(m) => E::InvalidName(m),
            VarError::Undefined(m) => E::Undefined(m),
            VarError::Provider(m) => E::Provider(m),
            VarError::Other(m) => E::Other(m),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest;

    fn app() -> App {
        manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
token = { required = true }
base = { default = "http://x" }
[component.c]
source = "c.wasm"
[component.c.variables]
auth = "Bearer {{ token }}"
url = "{{ base }}/api"
"#,
            "/".into(),
        )
        .unwrap()
    }

    #[test]
    fn names_follow_spin_rules() {
        for ok in ["a", "abc", "a1b2", "a_1", "a_1_b_3"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn component_templates_resolve_against_providers_then_defaults() {
        let r = Resolver::new(
            &app(),
            vec![Provider::Static([("token".to_string(), "s3cret".to_string())].into())],
        );
        assert_eq!(r.get("c", "auth").unwrap(), "Bearer s3cret");
        assert_eq!(r.get("c", "url").unwrap(), "http://x/api");
        assert!(r.ensure_required_resolvable().is_ok());
    }

    #[test]
    fn errors_have_spin_shapes() {
        let r = Resolver::new(&app(), vec![]);
        assert!(matches!(r.get("c", "nope"), Err(VarError::Undefined(_))));
        assert!(
            matches!(r.get("c", "token"), Err(VarError::Undefined(_))),
            "app variable not exposed to component"
        );
        assert!(matches!(r.get("c", "Bad-Name"), Err(VarError::InvalidName(_))));
        assert!(matches!(r.get("c", "auth"), Err(VarError::Provider(_))));
        assert!(r.ensure_required_resolvable().is_err());
    }

    #[test]
    fn env_provider_uses_spin_variable_prefix_and_dotenv() {
        let p = Provider::Env {
            prefix: "SPIN_VARIABLE".into(),
            dotenv: parse_dotenv("# c\nSPIN_VARIABLE_FROM_DOTENV=\"yes\"\n"),
        };
        assert_eq!(p.get("from_dotenv").as_deref(), Some("yes"));
        assert_eq!(p.get("definitely_not_set_anywhere"), None);
    }
}
