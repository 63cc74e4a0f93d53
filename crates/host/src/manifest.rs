//! `spin.toml` (manifest version 2): parsed, validated and refused as Spin would.
//!
//! Only what this host serves is modelled; fields Spin accepts but this host does not
//! implement are refused when they would change behaviour (so an app never silently runs
//! differently here than under `spin up`), and ignored when they cannot (`build`, `description`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;

use crate::allowed_hosts::AllowedHosts;
use crate::template::Template;
use crate::variables::validate_name;

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub version: Option<String>,
    #[allow(dead_code)] // part of the manifest model; not shown by this host
    pub description: Option<String>,
    /// The directory holding spin.toml; component sources are relative to it.
    pub dir: PathBuf,
    pub variables: BTreeMap<String, VariableDecl>,
    /// HTTP triggers in manifest order (order matters for duplicate routes: last wins).
    pub http_triggers: Vec<HttpTrigger>,
    /// `[[trigger.cron]]` (Spin's cron trigger plugin), in manifest order.
    pub cron_triggers: Vec<CronTrigger>,
    pub components: BTreeMap<String, Component>,
}

#[derive(Debug, Clone)]
pub struct VariableDecl {
    pub default: Option<String>,
    /// Secret values are never printed by this host (it prints no values at all).
    #[allow(dead_code)]
    pub secret: bool,
}

#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// `None` for `route = { private = true }`: reachable only through service chaining.
    pub route: Option<String>,
    pub component: String,
}

/// `[[trigger.cron]]`, as the cron trigger plugin's `CronTriggerConfig` (spinframework/
/// spin-trigger-cron `src/lib.rs`, `deny_unknown_fields`): `component` and `cron_expression`.
#[derive(Debug, Clone)]
pub struct CronTrigger {
    pub component: String,
    pub cron_expression: String,
    pub schedule: croner::Cron,
}

/// Parse a cron expression exactly as the plugin's scheduler (tokio-cron-scheduler 0.13) does:
/// croner 2 with the seconds field required and day-of-month AND day-of-week, in UTC.
pub fn parse_cron_expression(expr: &str) -> Result<croner::Cron> {
    croner::Cron::new(expr)
        .with_seconds_required()
        .with_dom_and_dow()
        .parse()
        .map_err(|e| anyhow!("invalid cron_expression {expr:?}: {e} (six fields, seconds first: \"sec min hour day-of-month month day-of-week\")"))
}

#[derive(Debug, Clone)]
pub struct Component {
    #[allow(dead_code)] // the map key; kept so a Component is self-describing
    pub id: String,
    pub source: PathBuf,
    pub description: Option<String>,
    pub key_value_stores: Vec<String>,
    /// Raw entries; templates are resolved once variables are known.
    pub allowed_outbound_hosts: Vec<String>,
    pub variables: BTreeMap<String, Template>,
    pub environment: BTreeMap<String, String>,
}

// ----- raw TOML shapes -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<toml::Table>>,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

// Fields are listed so that Spin's valid keys are accepted, not because the host uses them.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    version: Option<String>,
    description: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    targets: Option<toml::Value>,
    trigger: Option<toml::Table>,
    tool: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<toml::Value>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default)]
    targets: Option<toml::Value>,
    build: Option<toml::Table>,
    tool: Option<toml::Table>,
    #[serde(default)]
    dependencies_inherit_configuration: bool,
    dependencies: Option<toml::Table>,
}

/// Load and validate the manifest at `path`.
pub fn load(path: &Path) -> Result<App> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read manifest {}", path.display()))?;
    let dir = path
        .canonicalize()
        .with_context(|| format!("failed to resolve {}", path.display()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    parse(&text, dir).with_context(|| format!("invalid manifest {}", path.display()))
}

pub fn parse(text: &str, dir: PathBuf) -> Result<App> {
    // Spin 1 manifests have `spin_version`/`spin_manifest_version = "1"`; this host reads only v2.
    let value: toml::Table = toml::from_str(text).context("manifest is not valid TOML")?;
    match value.get("spin_manifest_version") {
        Some(toml::Value::Integer(2)) => {}
        Some(v) => bail!("unsupported spin_manifest_version {v}: this host reads version 2 manifests"),
        None => bail!("missing spin_manifest_version (this host reads version 2 manifests)"),
    }
    let raw: RawManifest = toml::from_str(text).context("manifest does not match Spin's v2 schema")?;
    let _ = raw.spin_manifest_version;
    let RawApplication { name, version, description, authors: _, targets: _, trigger, tool: _ } =
        raw.application;
    if let Some(t) = trigger {
        // `[application.trigger.http] base` was dropped by Spin 2+; anything but http/redis
        // settings is meaningless to this host.
        for k in t.keys() {
            if k != "http" {
                bail!("[application.trigger.{k}] is not supported by this host");
            }
        }
    }

    let mut variables = BTreeMap::new();
    for (name, v) in raw.variables {
        validate_name(&name).map_err(|e| anyhow!("invalid variable name {name:?}: {e}"))?;
        match (&v.default, v.required) {
            (Some(_), true) => bail!("variable {name:?}: a required variable cannot have a default"),
            (None, false) => bail!("variable {name:?}: must either be required or have a default"),
            _ => {}
        }
        let _ = v.description;
        variables.insert(name, VariableDecl { default: v.default, secret: v.secret });
    }

    let mut components = BTreeMap::new();
    for (id, c) in raw.component {
        validate_component_id(&id)?;
        let source = match &c.source {
            toml::Value::String(s) => dir.join(s),
            _ => bail!(
                "component {id:?}: only local file sources are supported by this host \
                 (url/registry sources need `spin up`)"
            ),
        };
        if !c.files.is_empty() {
            bail!("component {id:?}: `files` is not supported by this host");
        }
        if !c.sqlite_databases.is_empty() {
            bail!("component {id:?}: `sqlite_databases` is not supported by this host");
        }
        if !c.ai_models.is_empty() {
            bail!("component {id:?}: `ai_models` is not supported by this host");
        }
        if c.dependencies.as_ref().is_some_and(|d| !d.is_empty()) {
            bail!("component {id:?}: component `dependencies` are not supported by this host");
        }
        if !c.allowed_http_hosts.is_empty() {
            // Spin converts this deprecated key; keeping one spelling keeps the app honest.
            bail!("component {id:?}: `allowed_http_hosts` is deprecated; use `allowed_outbound_hosts`");
        }
        let _ = (&c.exclude_files, &c.targets, &c.build, &c.tool, c.dependencies_inherit_configuration);

        let mut comp_vars = BTreeMap::new();
        for (k, v) in c.variables {
            validate_name(&k).map_err(|e| anyhow!("component {id:?}: invalid variable name {k:?}: {e}"))?;
            let t = Template::parse(&v).with_context(|| format!("component {id:?} variable {k:?}"))?;
            for var in t.variables() {
                if !variables.contains_key(var) {
                    bail!("component {id:?} variable {k:?}: invalid variable template: unknown variable {var:?}");
                }
            }
            comp_vars.insert(k, t);
        }
        // Validate literal allowed hosts now; templated ones are checked once variables resolve.
        AllowedHosts::validate(&c.allowed_outbound_hosts, &variables)
            .with_context(|| format!("component {id:?}: invalid allowed_outbound_hosts"))?;

        components.insert(
            id.clone(),
            Component {
                id,
                source,
                description: c.description,
                key_value_stores: c.key_value_stores,
                allowed_outbound_hosts: c.allowed_outbound_hosts,
                variables: comp_vars,
                environment: c.environment,
            },
        );
    }

    let mut http_triggers = Vec::new();
    let mut cron_triggers = Vec::new();
    for (kind, triggers) in raw.trigger {
        match kind.as_str() {
            "http" => {
                for t in triggers {
                    http_triggers.push(parse_http_trigger(&t, &components)?);
                }
            }
            // Spin runs these with the `trigger-cron` plugin; this host has it built in.
            "cron" => {
                for t in triggers {
                    cron_triggers.push(parse_cron_trigger(&t, &components)?);
                }
            }
            // Spin refuses the whole app without a `trigger-<kind>` plugin; so does this host.
            _ => bail!("No built-in trigger named '{kind}', and no plugin named 'trigger-{kind}' was found"),
        }
    }

    Ok(App { name, version, description, dir, variables, http_triggers, cron_triggers, components })
}

fn parse_http_trigger(t: &toml::Table, components: &BTreeMap<String, Component>) -> Result<HttpTrigger> {
    for k in t.keys() {
        if !matches!(k.as_str(), "route" | "component" | "executor" | "id") {
            bail!("[[trigger.http]]: unknown or unsupported field {k:?}");
        }
    }
    let route = match t.get("route") {
        Some(toml::Value::String(r)) => Some(r.clone()),
        Some(toml::Value::Table(p)) if p.get("private").and_then(|v| v.as_bool()) == Some(true) => None,
        Some(_) => bail!("[[trigger.http]]: route must be a string pattern or '{{ private = true }}'"),
        None => bail!("[[trigger.http]]: missing `route`"),
    };
    let shown = route.clone().unwrap_or_else(|| "(private)".into());
    let component = match t.get("component") {
        Some(toml::Value::String(c)) => c.clone(),
        Some(_) => {
            bail!("[[trigger.http]] route {shown:?}: inline components are not supported by this host")
        }
        None => bail!("[[trigger.http]] route {shown:?}: missing `component`"),
    };
    if let Some(exec) = t.get("executor") {
        let ty = exec.get("type").and_then(|v| v.as_str());
        if ty != Some("http") {
            bail!("[[trigger.http]] route {shown:?}: only the `http` executor is supported (not {exec})");
        }
    }
    if !components.contains_key(&component) {
        bail!("Trigger for route {shown:?} references unknown component {component:?}");
    }
    Ok(HttpTrigger { route, component })
}

fn parse_cron_trigger(t: &toml::Table, components: &BTreeMap<String, Component>) -> Result<CronTrigger> {
    for k in t.keys() {
        // `id` is Spin's own trigger field; the plugin's config takes only the other two.
        if !matches!(k.as_str(), "component" | "cron_expression" | "id") {
            bail!("[[trigger.cron]]: unknown field {k:?} (expected `component` and `cron_expression`)");
        }
    }
    let component = match t.get("component") {
        Some(toml::Value::String(c)) => c.clone(),
        Some(_) => bail!("[[trigger.cron]]: inline components are not supported by this host"),
        None => bail!("[[trigger.cron]]: missing `component`"),
    };
    let cron_expression = match t.get("cron_expression") {
        Some(toml::Value::String(e)) => e.clone(),
        _ => bail!("[[trigger.cron]] for {component:?}: missing string `cron_expression`"),
    };
    if !components.contains_key(&component) {
        bail!("[[trigger.cron]] references unknown component {component:?}");
    }
    let schedule = parse_cron_expression(&cron_expression)
        .with_context(|| format!("[[trigger.cron]] for component {component:?}"))?;
    Ok(CronTrigger { component, cron_expression, schedule })
}

/// Spin's component ids are kebab-case: lowercase letters, digits and single hyphens,
/// starting with a letter.
fn validate_component_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.as_bytes()[0].is_ascii_lowercase()
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    if !ok {
        bail!("invalid component id {id:?}: ids must be kebab-case (lowercase letters, digits and '-', starting with a letter)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
token = { required = true, secret = true }
base = { default = "http://x" }
[[trigger.http]]
route = "/a/..."
component = "one"
[component.one]
source = "one.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://two.spin.internal"]
[component.one.variables]
token = "Bearer {{ token }}"
[component.one.build]
command = "cargo build"
"#;

    #[test]
    fn parses_a_valid_manifest() {
        let app = parse(BASE, PathBuf::from("/app")).unwrap();
        assert_eq!(app.name, "t");
        assert_eq!(app.http_triggers.len(), 1);
        let one = &app.components["one"];
        assert_eq!(one.source, PathBuf::from("/app/one.wasm"));
        assert!(app.variables["token"].default.is_none());
    }

    #[test]
    fn unknown_component_in_trigger_is_refused() {
        let m = BASE.replace("component = \"one\"", "component = \"nope\"");
        let e = parse(&m, PathBuf::from("/")).unwrap_err();
        assert!(format!("{e:#}").contains("unknown component"), "{e:#}");
    }

    #[test]
    fn template_naming_an_undeclared_variable_is_refused() {
        let m = BASE.replace("{{ token }}", "{{ nope }}");
        assert!(parse(&m, PathBuf::from("/")).is_err());
    }

    #[test]
    fn other_trigger_types_are_refused() {
        let m = format!("{BASE}\n[[trigger.mqtt]]\ncomponent = \"one\"\naddress = \"x\"\n");
        let e = parse(&m, PathBuf::from("/")).unwrap_err();
        assert!(format!("{e:#}").contains("no plugin named 'trigger-mqtt'"), "{e:#}");
    }

    #[test]
    fn cron_triggers_parse_with_seconds_first() {
        let m =
            format!("{BASE}\n[[trigger.cron]]\ncomponent = \"one\"\ncron_expression = \"*/5 * * * * *\"\n");
        let app = parse(&m, PathBuf::from("/")).unwrap();
        assert_eq!(app.cron_triggers.len(), 1);
        assert_eq!(app.cron_triggers[0].component, "one");
        // Five fields (no seconds) are refused, as the plugin's scheduler refuses them.
        let five = m.replace("*/5 * * * * *", "*/5 * * * *");
        assert!(format!("{:#}", parse(&five, PathBuf::from("/")).unwrap_err()).contains("cron_expression"));
        let unknown = m.replace("cron_expression", "schedule");
        assert!(parse(&unknown, PathBuf::from("/")).is_err());
        let nobody = m.replace("component = \"one\"\ncron", "component = \"two\"\ncron");
        assert!(parse(&nobody, PathBuf::from("/")).is_err());
    }

    #[test]
    fn cron_schedule_fires_every_second_and_day_fields_are_anded() {
        use chrono::{TimeZone, Utc};
        let every = parse_cron_expression("* * * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(every.find_next_occurrence(&t, false).unwrap(), t + chrono::Duration::seconds(1));
        let five_min = parse_cron_expression("0 */5 * * * *").unwrap();
        let next = five_min.find_next_occurrence(&(t + chrono::Duration::seconds(1)), false).unwrap();
        assert_eq!(next, t + chrono::Duration::minutes(5));
        // 13th AND Friday (croner's with_dom_and_dow): 2026-02-13 is a Friday.
        let fri13 = parse_cron_expression("0 0 0 13 * FRI").unwrap();
        assert_eq!(
            fri13.find_next_occurrence(&t, false).unwrap(),
            Utc.with_ymd_and_hms(2026, 2, 13, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let m = BASE.replace("[component.one]\n", "[component.one]\nsurce = \"x\"\n");
        assert!(parse(&m, PathBuf::from("/")).is_err());
    }

    #[test]
    fn variable_must_be_required_or_defaulted() {
        let m = BASE.replace("base = { default = \"http://x\" }", "base = {}");
        assert!(parse(&m, PathBuf::from("/")).is_err());
    }
}
