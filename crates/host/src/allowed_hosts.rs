//! `allowed_outbound_hosts`, with Spin's syntax and matching
//! (spinframework/spin `crates/outbound-networking-config/src/allowed_hosts.rs`):
//! `scheme://host[:port]` where the scheme may be `*`, the host `*`, `*.domain`, a literal
//! name or a CIDR, and the port `*`, a number or `a..b`; a missing port means the scheme's
//! well-known port. Entries may be `{{ variable }}` templates, resolved at startup.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anyhow::{bail, Context, Result};

use crate::manifest::VariableDecl;
use crate::template::Template;

pub const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

#[derive(Clone, Debug, PartialEq)]
enum SchemeRule {
    Any,
    One(String),
}

#[derive(Clone, Debug, PartialEq)]
enum HostRule {
    Any,
    /// `*.example.com` stored as `.example.com`.
    AnySubdomain(String),
    Exact(String),
    Cidr(IpAddr, u8),
    /// `self`: relative requests to this app (not served by this host; never matches a URL).
    ToSelf,
}

#[derive(Clone, Debug, PartialEq)]
enum PortRule {
    Any,
    One(u16),
    Range(u16, u16),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AllowedHost {
    #[allow(dead_code)] // kept for error messages and debugging output
    original: String,
    scheme: SchemeRule,
    host: HostRule,
    port: PortRule,
}

fn well_known_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "postgres" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        "http" => 80,
        "https" => 443,
        _ => return None,
    })
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<AllowedHost> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            if matches!(url, "*" | ":" | "" | "?") {
                bail!("{url:?} is not an allowed outbound host format: hosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each (use '*://*:*' to allow everything)");
            }
            bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')");
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((port, path)) => {
                if !path.is_empty() {
                    bail!("{url:?} has a path but is not allowed to");
                }
                port
            }
            None => rest,
        };
        let scheme_rule = if scheme == "*" {
            SchemeRule::Any
        } else if scheme.chars().all(|c| c.is_alphabetic()) && !scheme.is_empty() {
            SchemeRule::One(scheme.to_string())
        } else {
            bail!("{url:?}: scheme {scheme:?} contains non alphabetic character");
        };
        let host_rule = parse_host(host.trim()).with_context(|| format!("{url:?}"))?;
        let port_rule = if port.is_empty() {
            let p = well_known_port(scheme).with_context(|| {
                format!("{url:?}: no port was provided and the scheme {scheme:?} does not have a known default port number")
            })?;
            PortRule::One(p)
        } else if port == "*" {
            PortRule::Any
        } else if let Some((a, b)) = port.split_once("..") {
            PortRule::Range(
                a.parse().with_context(|| format!("port range {port:?} contains non-number"))?,
                b.parse().with_context(|| format!("port range {port:?} contains non-number"))?,
            )
        } else {
            PortRule::One(port.parse().with_context(|| format!("port {port:?} is not a number"))?)
        };
        Ok(AllowedHost { original: entry.to_string(), scheme: scheme_rule, host: host_rule, port: port_rule })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme_ok = match &self.scheme {
            SchemeRule::Any => true,
            SchemeRule::One(s) => s == scheme,
        };
        let host_ok = match &self.host {
            HostRule::Any => true,
            HostRule::AnySubdomain(suffix) => host.ends_with(suffix.as_str()),
            HostRule::Exact(h) => h == host,
            HostRule::Cidr(net, bits) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| cidr_contains(*net, *bits, ip)),
            HostRule::ToSelf => false,
        };
        let port_ok = match &self.port {
            PortRule::Any => true,
            rule => match port.or_else(|| well_known_port(scheme)) {
                None => false,
                Some(p) => match rule {
                    PortRule::One(x) => *x == p,
                    PortRule::Range(a, b) => (*a..*b).contains(&p),
                    PortRule::Any => true,
                },
            },
        };
        scheme_ok && host_ok && port_ok
    }
}

fn parse_host(host: &str) -> Result<HostRule> {
    if host == "*" {
        return Ok(HostRule::Any);
    }
    if host == "self" || host == "self.alt" {
        return Ok(HostRule::ToSelf);
    }
    if host.starts_with('{') {
        bail!("host lists are not yet supported");
    }
    if let Some(rule) = parse_cidr(host) {
        return Ok(rule);
    }
    if matches!(host.split('/').nth(1), Some(path) if !path.is_empty()) {
        bail!("hosts must not contain paths");
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if domain.contains('*') {
            bail!("Invalid allowed host {host}: wildcards are allowed only as prefixes");
        }
        return Ok(HostRule::AnySubdomain(format!(".{domain}")));
    }
    if host.contains('*') {
        bail!("Invalid allowed host {host}: wildcards are allowed only as subdomains");
    }
    Ok(HostRule::Exact(host.trim_end_matches('/').to_string()))
}

/// An IP address, optionally with `/bits` (Spin uses `IpNetwork::from_str_truncate`).
fn parse_cidr(host: &str) -> Option<HostRule> {
    let (addr, bits) = match host.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (host, None),
    };
    let ip: IpAddr = addr.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some(HostRule::Cidr(ip, bits))
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        _ => false,
    }
}

/// A component's resolved `allowed_outbound_hosts`.
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Check entries at manifest load: literals must parse, templates must name declared variables.
    pub fn validate(entries: &[String], variables: &BTreeMap<String, VariableDecl>) -> Result<()> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic");
        }
        for e in entries {
            let t = Template::parse(e)?;
            if t.is_literal() {
                AllowedHost::parse(e)?;
            } else {
                for v in t.variables() {
                    if !variables.contains_key(v) {
                        bail!("{e:?}: invalid variable template: unknown variable {v:?}");
                    }
                }
            }
        }
        Ok(())
    }

    /// Resolve templates through `lookup` (application variable values) and parse.
    pub fn resolve(entries: &[String], lookup: impl Fn(&str) -> Result<String>) -> Result<AllowedHosts> {
        let mut hosts = Vec::new();
        for e in entries {
            let text = Template::parse(e)?.render(&lookup)?;
            hosts.push(AllowedHost::parse(&text)?);
        }
        Ok(AllowedHosts { hosts })
    }

    /// Whether a request to `url` (absolute) may be sent.
    pub fn allows_url(&self, url: &http::Uri) -> bool {
        let Some(host) = url.host() else { return false };
        let scheme = url.scheme_str().unwrap_or("https");
        self.hosts.iter().any(|h| h.allows(scheme, host, url.port_u16()))
    }

    /// Targets of `http://<id>.spin.internal` entries (`*` for a wildcard), for startup checks.
    pub fn chaining_targets(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter_map(|h| match &h.host {
                HostRule::Exact(host) => service_chaining_target(host),
                HostRule::AnySubdomain(s) if s == SERVICE_CHAINING_SUFFIX => Some("*".into()),
                _ => None,
            })
            .collect()
    }
}

/// `routing.spin.internal[:port]` → `routing`.
pub fn service_chaining_target(host: &str) -> Option<String> {
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let (first, rest) = host.split_once('.')?;
    (rest == "spin.internal").then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str], url: &str) -> bool {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::resolve(&entries, |_| unreachable!()).unwrap().allows_url(&url.parse().unwrap())
    }

    #[test]
    fn exact_host_and_default_port() {
        assert!(allows(&["https://example.com"], "https://example.com/x"));
        assert!(allows(&["https://example.com"], "https://example.com:443/x"));
        assert!(!allows(&["https://example.com"], "https://example.com:8443/x"));
        assert!(!allows(&["https://example.com"], "http://example.com/x"));
        assert!(!allows(&["https://example.com"], "https://evil.com/x"));
        assert!(!allows(&[], "https://example.com/x"));
    }

    #[test]
    fn wildcards() {
        assert!(allows(&["*://*:*"], "http://anything:1234/"));
        assert!(allows(&["https://*.example.com"], "https://api.example.com/"));
        assert!(!allows(&["https://*.example.com"], "https://example.com/"));
        assert!(allows(&["http://localhost:*"], "http://localhost:9999/"));
        assert!(allows(&["http://localhost:3000..3010"], "http://localhost:3005/"));
        assert!(!allows(&["http://localhost:3000..3010"], "http://localhost:3010/"));
        assert!(allows(&["*://example.com:80"], "http://example.com/"));
    }

    #[test]
    fn cidr_hosts() {
        assert!(allows(&["http://127.0.0.0/8:*"], "http://127.1.2.3:5000/"));
        assert!(allows(&["http://127.0.0.1:*"], "http://127.0.0.1:5000/"));
        assert!(!allows(&["http://10.0.0.0/8:*"], "http://127.0.0.1:5000/"));
    }

    #[test]
    fn service_chaining_entries() {
        assert!(allows(&["http://routing.spin.internal"], "http://routing.spin.internal/x"));
        assert!(!allows(&["http://routing.spin.internal"], "http://notification.spin.internal/x"));
        assert!(allows(&["http://*.spin.internal"], "http://notification.spin.internal/x"));
        let h = AllowedHosts::resolve(
            &["http://routing.spin.internal".into(), "http://*.spin.internal".into()],
            |_| unreachable!(),
        )
        .unwrap();
        assert_eq!(h.chaining_targets(), vec!["routing".to_string(), "*".to_string()]);
        assert_eq!(service_chaining_target("a.spin.internal:80").as_deref(), Some("a"));
        assert_eq!(service_chaining_target("a.b.spin.internal"), None);
    }

    #[test]
    fn templates_resolve_through_variables() {
        let h = AllowedHosts::resolve(&["http://{{ host }}:{{ port }}".into()], |v| {
            Ok(match v {
                "host" => "svc.local".into(),
                _ => "8080".into(),
            })
        })
        .unwrap();
        assert!(h.allows_url(&"http://svc.local:8080/a".parse().unwrap()));
        assert!(!h.allows_url(&"http://svc.local/a".parse().unwrap()));
    }

    #[test]
    fn invalid_entries_are_refused() {
        for bad in [
            "example.com",
            "*",
            "https://example.com/path",
            "https://ex*mple.com",
            "ftp://x.com",
            "insecure:allow-all",
        ] {
            assert!(AllowedHosts::validate(&[bad.to_string()], &BTreeMap::new()).is_err(), "{bad}");
        }
        assert!(AllowedHosts::validate(&["http://{{ nope }}".into()], &BTreeMap::new()).is_err());
    }
}
