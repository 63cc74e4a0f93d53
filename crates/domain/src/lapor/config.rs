//! The adapter's configuration: where LAPOR! is, how to authenticate, which ids NTB has
//! there, and every path as a template. Read from Spin variables by the component; an empty
//! base URL means the integration is off.

use thiserror::Error;

/// The name of the header that carries the auth secret. The integrator's settings form
/// accepts exactly these two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthHeader {
    Authorization,
    Auth,
}

impl AuthHeader {
    pub fn name(self) -> &'static str {
        match self {
            AuthHeader::Authorization => "Authorization",
            AuthHeader::Auth => "auth",
        }
    }
}

/// Every endpoint, as a template relative to the base URL. `{id}` is a LAPOR! complaint id,
/// `{institution_id}` NTB's institution id, `{reference}` an NTB Care ticket; values are
/// percent-encoded when substituted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub upload: String,
    pub create: String,
    pub detail: String,
    pub followups: String,
    pub followup_add: String,
    pub reject: String,
    pub institutions: String,
    pub categories: String,
    pub locations: String,
    /// Find complaints by our reference. Not seen in the integrator: off unless configured.
    pub search: Option<String>,
    /// Complaints dispositioned to NTB. Not seen in the integrator: off unless configured.
    pub inbox: Option<String>,
}

impl Default for Paths {
    /// The integrator's shape (domain.md §1.6). `/complaints/complaint` is the generic form
    /// of the integrator's channel-specific `/complaints/complaint-lmw`; the category and
    /// location masters are UNCONFIRMED guesses beside the seen `/masters/institutions/external`.
    fn default() -> Self {
        Paths {
            upload: "/complaints/complaint/file".into(),
            create: "/complaints/complaint".into(),
            detail: "/complaints/{id}/complaint".into(),
            followups: "/complaints/{id}/followups".into(),
            followup_add: "/complaints/followup/add".into(),
            reject: "/complaints/process/{id}/reject".into(),
            institutions: "/masters/institutions/external?page_size=1000".into(),
            categories: "/masters/categories?page_size=1000".into(),
            locations: "/masters/locations?page_size=1000".into(),
            search: None,
            inbox: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaporConfig {
    /// Without a trailing slash.
    pub base_url: String,
    pub auth_header: AuthHeader,
    pub auth_value: String,
    pub token: String,
    /// NTB Care's channel id in LAPOR!'s master data (`channel`).
    pub channel_id: Option<i64>,
    /// NTB's own institution in LAPOR!: the default disposition target, the sender of
    /// follow-ups, and whose inbox is imported.
    pub institution_id: Option<String>,
    /// The LAPOR! user NTB Care acts as (`user_id`), if the account needs one.
    pub user_id: Option<String>,
    /// `classification_id` for complaints (pengaduan) in LAPOR!'s master data.
    pub classification_id: Option<i64>,
    /// `template_code` of follow-ups.
    pub template_code: String,
    /// How long to wait for LAPOR!'s first byte.
    pub timeout_ms: u64,
    pub paths: Paths,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("`{variable}`: {problem}")]
    Invalid { variable: &'static str, problem: String },
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { variable, problem: problem.into() }
}

pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;
pub const DEFAULT_TEMPLATE_CODE: &str = "reply";

impl LaporConfig {
    /// Read the configuration through `get` (a Spin variable by name, `None` or empty when
    /// unset). `Ok(None)`: the base URL is empty and the integration is off.
    pub fn from_variables(get: impl Fn(&str) -> Option<String>) -> Result<Option<LaporConfig>, ConfigError> {
        let var = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let Some(base_url) = var("lapor_base_url") else { return Ok(None) };
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(invalid("lapor_base_url", "must start with https:// (or http:// for a test server)"));
        }
        let auth_header = match var("lapor_auth_header").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("authorization") => AuthHeader::Authorization,
            Some("auth") => AuthHeader::Auth,
            Some(_) => return Err(invalid("lapor_auth_header", "must be `Authorization` or `auth`")),
        };
        let auth_value = var("lapor_auth")
            .ok_or_else(|| invalid("lapor_auth", "is required when lapor_base_url is set"))?;
        let token = var("lapor_token")
            .ok_or_else(|| invalid("lapor_token", "is required when lapor_base_url is set"))?;
        let int = |name: &'static str| -> Result<Option<i64>, ConfigError> {
            var(name)
                .map(|v| v.parse::<i64>().map_err(|_| invalid(name, "must be a whole number")))
                .transpose()
        };
        let defaults = Paths::default();
        let path = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            let p = var(name).unwrap_or_else(|| default.to_string());
            if !p.starts_with('/') {
                return Err(invalid(name, "must start with `/`"));
            }
            Ok(p)
        };
        let optional_path = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match var(name) {
                None => Ok(None),
                Some(p) if p.starts_with('/') => Ok(Some(p)),
                Some(_) => Err(invalid(name, "must start with `/`")),
            }
        };
        let paths = Paths {
            upload: path("lapor_path_upload", &defaults.upload)?,
            create: path("lapor_path_create", &defaults.create)?,
            detail: path("lapor_path_detail", &defaults.detail)?,
            followups: path("lapor_path_followups", &defaults.followups)?,
            followup_add: path("lapor_path_followup_add", &defaults.followup_add)?,
            reject: path("lapor_path_reject", &defaults.reject)?,
            institutions: path("lapor_path_institutions", &defaults.institutions)?,
            categories: path("lapor_path_categories", &defaults.categories)?,
            locations: path("lapor_path_locations", &defaults.locations)?,
            search: optional_path("lapor_path_search")?,
            inbox: optional_path("lapor_path_inbox")?,
        };
        let timeout_ms = match var("lapor_timeout_ms") {
            None => DEFAULT_TIMEOUT_MS,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|t| (100..=120_000).contains(t))
                .ok_or_else(|| invalid("lapor_timeout_ms", "must be 100 to 120000"))?,
        };
        Ok(Some(LaporConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            auth_header,
            auth_value,
            token,
            channel_id: int("lapor_channel_id")?,
            institution_id: var("lapor_institution_id"),
            user_id: var("lapor_user_id"),
            classification_id: int("lapor_classification_id")?,
            template_code: var("lapor_template_code").unwrap_or_else(|| DEFAULT_TEMPLATE_CODE.into()),
            timeout_ms,
            paths,
        }))
    }

    /// The absolute URL of a path template with its placeholders filled.
    pub fn url(&self, template: &str, values: &[(&str, &str)]) -> String {
        let mut path = template.to_string();
        for (name, value) in values {
            path = path.replace(&format!("{{{name}}}"), &percent_encode(value));
        }
        if let Some(inst) = &self.institution_id {
            path = path.replace("{institution_id}", &percent_encode(inst));
        }
        format!("{}{path}", self.base_url)
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
pub(crate) fn test_config(base: &str) -> LaporConfig {
    let vars = [
        ("lapor_base_url", base.to_string()),
        ("lapor_auth_header", "auth".to_string()),
        ("lapor_auth", "rahasia-auth".to_string()),
        ("lapor_token", "rahasia-token".to_string()),
        ("lapor_channel_id", "21".to_string()),
        ("lapor_institution_id", "5200".to_string()),
        ("lapor_classification_id", "6".to_string()),
        ("lapor_path_search", "/complaints/search?keyword={reference}".to_string()),
        ("lapor_path_inbox", "/complaints/inbox?disposition_id={institution_id}".to_string()),
    ];
    LaporConfig::from_variables(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()))
        .unwrap()
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_base_url_turns_the_integration_off() {
        assert_eq!(LaporConfig::from_variables(|_| None), Ok(None));
        assert_eq!(LaporConfig::from_variables(|_| Some("  ".into())), Ok(None));
    }

    #[test]
    fn defaults_follow_the_integrator_and_templates_fill() {
        let c = test_config("https://api.lapor.example/v3/");
        assert_eq!(c.auth_header.name(), "auth");
        assert_eq!(c.paths.create, "/complaints/complaint");
        assert_eq!(
            c.url(&c.paths.detail, &[("id", "77")]),
            "https://api.lapor.example/v3/complaints/77/complaint"
        );
        assert_eq!(
            c.url(c.paths.search.as_deref().unwrap(), &[("reference", "NTB-26 X")]),
            "https://api.lapor.example/v3/complaints/search?keyword=NTB-26%20X"
        );
        assert_eq!(
            c.url(c.paths.inbox.as_deref().unwrap(), &[]),
            "https://api.lapor.example/v3/complaints/inbox?disposition_id=5200"
        );
    }

    #[test]
    fn bad_settings_name_their_variable() {
        let get = |bad: (&'static str, &'static str)| {
            move |n: &str| {
                if n == bad.0 {
                    return Some(bad.1.to_string());
                }
                match n {
                    "lapor_base_url" => Some("https://x.example".into()),
                    "lapor_auth" | "lapor_token" => Some("s".into()),
                    _ => None,
                }
            }
        };
        for (var, value) in [
            ("lapor_auth_header", "Bearer"),
            ("lapor_channel_id", "tiga"),
            ("lapor_path_create", "complaints"),
            ("lapor_base_url", "ftp://x"),
            ("lapor_timeout_ms", "5"),
        ] {
            let err = LaporConfig::from_variables(get((var, value))).unwrap_err();
            assert!(err.to_string().starts_with(&format!("`{var}`")), "{err}");
        }
        let missing =
            LaporConfig::from_variables(|n| (n == "lapor_base_url").then(|| "https://x.example".into()));
        assert!(missing.unwrap_err().to_string().contains("lapor_auth"));
    }
}
