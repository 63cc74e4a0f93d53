//! The runtime config file (`--runtime-config-file`), in Spin's format
//! (spinframework/spin `crates/runtime-config/src/lib.rs`, `crates/key-value-spin/src/lib.rs`):
//!
//! - `[key_value_store.<label>]` with `type = "spin"` and an optional `path`. A relative `path`
//!   is resolved against the **directory of the runtime config file** (Spin's
//!   `key_value_config_resolver(runtime_config_dir, state_dir)`), not the state directory; no
//!   `path` means an in-memory store. `type = "redis"` takes `url`.
//! - The `default` label, unless configured, is a SQLite file `sqlite_key_value.db` in the
//!   state directory.
//! - Top-level `state_dir` (used when `--state-dir` is not given) and `log_dir` (accepted; this
//!   host forwards guest output to its own stdout/stderr instead of writing log files).
//! - `[[variables_provider]]` (alias `config_provider`) of `type = "static"` or `"env"`.
//! - Any key Spin would not recognise is refused, as Spin does ("unused runtime config key(s)").

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::variables::Provider;

#[derive(Clone, Debug, PartialEq)]
pub enum KvBackendConfig {
    /// SQLite file, or in memory when `None`.
    Sqlite(Option<PathBuf>),
    Redis {
        url: String,
    },
}

#[derive(Debug, Default)]
pub struct RuntimeConfig {
    pub state_dir: Option<PathBuf>,
    pub key_value_stores: BTreeMap<String, KvBackendConfig>,
    /// Providers from the file, before the always-present environment provider.
    pub variable_providers: Vec<Provider>,
}

pub const DEFAULT_STORE_FILE: &str = "sqlite_key_value.db";

impl RuntimeConfig {
    pub fn load(path: Option<&Path>) -> Result<RuntimeConfig> {
        let Some(path) = path else { return Ok(RuntimeConfig::default()) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read runtime config file '{}'", path.display()))?;
        let dir = std::path::absolute(path)?.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, &dir).with_context(|| format!("invalid runtime config file '{}'", path.display()))
    }

    /// `dir` is the runtime config file's directory (relative store paths resolve against it).
    pub fn parse(text: &str, dir: &Path) -> Result<RuntimeConfig> {
        let table: toml::Table =
            toml::from_str(text).context("failed to parse runtime config file as toml")?;
        let mut rc = RuntimeConfig::default();
        let mut unused = Vec::new();
        for (key, value) in &table {
            match key.as_str() {
                "state_dir" => {
                    let s = value.as_str().ok_or_else(|| anyhow!("state_dir must be a string"))?;
                    if !s.is_empty() {
                        rc.state_dir = Some(std::path::absolute(s)?);
                    }
                }
                "log_dir" => {}
                "key_value_store" => {
                    let stores =
                        value.as_table().ok_or_else(|| anyhow!("key_value_store must be a table"))?;
                    for (label, cfg) in stores {
                        rc.key_value_stores.insert(label.clone(), parse_store(label, cfg, dir)?);
                    }
                }
                "variables_provider" | "config_provider" => {
                    let arr = value.as_array().ok_or_else(|| anyhow!("{key} must be an array of tables"))?;
                    for p in arr {
                        rc.variable_providers.push(parse_provider(p)?);
                    }
                }
                "sqlite_database"
                | "llm_compute"
                | "client_tls"
                | "outbound_networking"
                | "blob_store"
                | "otel" => bail!("runtime config [{key}] is not supported by this host"),
                _ => unused.push(key.clone()),
            }
        }
        if !unused.is_empty() {
            bail!("unused runtime config key(s): {}", unused.join(", "));
        }
        Ok(rc)
    }

    /// All configured stores, with the implicit `default` added when not configured.
    pub fn stores_with_default(&self, state_dir: &Path) -> BTreeMap<String, KvBackendConfig> {
        let mut stores = self.key_value_stores.clone();
        stores
            .entry("default".into())
            .or_insert_with(|| KvBackendConfig::Sqlite(Some(state_dir.join(DEFAULT_STORE_FILE))));
        stores
    }
}

fn parse_store(label: &str, cfg: &toml::Value, dir: &Path) -> Result<KvBackendConfig> {
    let t = cfg.as_table().ok_or_else(|| anyhow!("[key_value_store.{label}] must be a table"))?;
    let ty = t
        .get("type")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow!("[key_value_store.{label}] needs a `type`"))?;
    let check_keys = |allowed: &[&str]| -> Result<()> {
        for k in t.keys() {
            if k != "type" && !allowed.contains(&k.as_str()) {
                bail!("[key_value_store.{label}]: unknown field {k:?} for type {ty:?}");
            }
        }
        Ok(())
    };
    match ty {
        "spin" => {
            check_keys(&["path"])?;
            let path = match t.get("path") {
                None => None,
                Some(v) => {
                    let p = PathBuf::from(v.as_str().ok_or_else(|| anyhow!("[key_value_store.{label}] path must be a string"))?);
                    Some(if p.is_absolute() { p } else { dir.join(p) })
                }
            };
            Ok(KvBackendConfig::Sqlite(path))
        }
        "redis" => {
            check_keys(&["url"])?;
            let url = t.get("url").and_then(|v| v.as_str()).ok_or_else(|| anyhow!("[key_value_store.{label}] type \"redis\" needs `url`"))?;
            redis::parse_redis_url(url).ok_or_else(|| anyhow!("[key_value_store.{label}]: Invalid Redis URL {url:?}"))?;
            Ok(KvBackendConfig::Redis { url: url.to_string() })
        }
        other => bail!("[key_value_store.{label}]: store type {other:?} is not supported by this host (supported: spin, redis)"),
    }
}

fn parse_provider(p: &toml::Value) -> Result<Provider> {
    let t = p.as_table().ok_or_else(|| anyhow!("variables_provider entries must be tables"))?;
    match t.get("type").and_then(|v| v.as_str()) {
        Some("static") => {
            let values = t.get("values").and_then(|v| v.as_table()).cloned().unwrap_or_default();
            let values: HashMap<String, String> = values
                .into_iter()
                .map(|(k, v)| {
                    Ok((
                        k,
                        v.as_str()
                            .ok_or_else(|| anyhow!("static variable values must be strings"))?
                            .to_string(),
                    ))
                })
                .collect::<Result<_>>()?;
            Ok(Provider::Static(values))
        }
        Some("env") => {
            let prefix = t.get("prefix").and_then(|v| v.as_str()).map(str::to_string);
            let dotenv = t.get("dotenv_path").and_then(|v| v.as_str()).map(PathBuf::from);
            Ok(Provider::env(prefix, dotenv.as_deref()))
        }
        Some(other) => {
            bail!("variables_provider type {other:?} is not supported by this host (supported: static, env)")
        }
        None => bail!("variables_provider entry needs a `type`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_store_paths_resolve_against_the_runtime_config_dir() {
        let rc = RuntimeConfig::parse(
            "[key_value_store.default]\ntype = \"spin\"\npath = \"kv.db\"\n[key_value_store.abs]\ntype = \"spin\"\npath = \"/x/y.db\"\n[key_value_store.mem]\ntype = \"spin\"\n",
            Path::new("/cfg"),
        )
        .unwrap();
        assert_eq!(rc.key_value_stores["default"], KvBackendConfig::Sqlite(Some("/cfg/kv.db".into())));
        assert_eq!(rc.key_value_stores["abs"], KvBackendConfig::Sqlite(Some("/x/y.db".into())));
        assert_eq!(rc.key_value_stores["mem"], KvBackendConfig::Sqlite(None));
    }

    #[test]
    fn default_store_lives_in_the_state_dir_unless_configured() {
        let rc = RuntimeConfig::parse("", Path::new("/cfg")).unwrap();
        let s = rc.stores_with_default(Path::new("/state"));
        assert_eq!(s["default"], KvBackendConfig::Sqlite(Some("/state/sqlite_key_value.db".into())));
    }

    #[test]
    fn redis_and_unknown_keys() {
        let rc = RuntimeConfig::parse(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n",
            Path::new("/"),
        )
        .unwrap();
        assert!(matches!(rc.key_value_stores["default"], KvBackendConfig::Redis { .. }));
        let e = RuntimeConfig::parse("baz = 1\n", Path::new("/")).unwrap_err();
        assert_eq!(e.to_string(), "unused runtime config key(s): baz");
        assert!(
            RuntimeConfig::parse("[key_value_store.x]\ntype = \"azure_cosmos\"\n", Path::new("/")).is_err()
        );
    }
}
