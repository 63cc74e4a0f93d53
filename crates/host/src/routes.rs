//! HTTP route matching, with Spin's semantics (spinframework/spin `crates/http/src/routes.rs`,
//! which delegates to the `routefinder` crate):
//!
//! - a route is `/`-separated segments: literal text, `:name` (one segment, captured as
//!   `spin-path-match-<name>`), and an optional trailing wildcard `/...` (or `/*`) that matches
//!   the prefix itself and anything under it;
//! - the most specific matching route wins, segment by segment: literal beats `:param` beats
//!   wildcard; so an exact route wins over any wildcard, and among wildcards the longest prefix;
//! - trailing slashes on the request path are ignored for matching, but kept in the
//!   wildcard capture (`spin-path-info`), as Spin does for backward compatibility;
//! - duplicate routes are not an error in Spin: the later one wins and the earlier is
//!   reported as unreachable.

use std::collections::HashMap;

use anyhow::{bail, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Param(String),
}

#[derive(Clone, Debug)]
pub struct Route {
    pub component_id: String,
    /// As written in the manifest (`spin-raw-component-route`).
    pub raw: String,
    /// Absolutized, one trailing slash removed (`spin-matched-route`).
    pub based: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl Route {
    fn parse(component_id: &str, raw: &str) -> Result<Route> {
        let abs = if raw.starts_with('/') { raw.to_string() } else { format!("/{raw}") };
        let based = abs.strip_suffix('/').unwrap_or(&abs).to_string();
        let (prefix, wildcard) = if let Some(p) = based.strip_suffix("/...") {
            (p, true)
        } else if let Some(p) = based.strip_suffix("/*") {
            (p, true)
        } else {
            (based.as_str(), false)
        };
        let mut segments = Vec::new();
        for seg in prefix.split('/').filter(|s| !s.is_empty()) {
            if seg == "..." || seg == "*" {
                bail!("route {raw:?}: a wildcard may only end a route");
            }
            match seg.strip_prefix(':') {
                Some("") => bail!("route {raw:?}: empty parameter name"),
                Some(name) => segments.push(Segment::Param(name.to_string())),
                None => segments.push(Segment::Lit(seg.to_string())),
            }
        }
        Ok(Route { component_id: component_id.to_string(), raw: raw.to_string(), based, segments, wildcard })
    }

    /// The route with any trailing wildcard removed (`spin-component-route`).
    pub fn raw_or_prefix(&self) -> String {
        self.raw.strip_suffix("/...").unwrap_or(&self.raw).to_string()
    }

    /// How Spin lists the route at startup.
    pub fn display(&self) -> String {
        if self.wildcard {
            let p = self.based.strip_suffix("/...").or_else(|| self.based.strip_suffix("/*")).unwrap_or("");
            format!("{p} (wildcard)")
        } else {
            self.based.clone()
        }
    }

    /// Match `path`'s segments; on success the captures and the wildcard remainder.
    fn matches(&self, segs: &[&str]) -> Option<(HashMap<String, String>, Option<String>)> {
        if segs.len() < self.segments.len() || (!self.wildcard && segs.len() != self.segments.len()) {
            return None;
        }
        let mut captures = HashMap::new();
        for (want, got) in self.segments.iter().zip(segs) {
            match want {
                Segment::Lit(l) if l == got => {}
                Segment::Lit(_) => return None,
                Segment::Param(name) => {
                    captures.insert(name.clone(), got.to_string());
                }
            }
        }
        let rest = self.wildcard.then(|| segs[self.segments.len()..].join("/"));
        Some((captures, rest))
    }

    /// Specificity, compared lexicographically: literal (3) > param (2) > end of route (1) >
    /// wildcard (0).
    fn rank(&self) -> Vec<u8> {
        let mut r: Vec<u8> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Lit(_) => 3,
                Segment::Param(_) => 2,
            })
            .collect();
        r.push(if self.wildcard { 0 } else { 1 });
        r
    }
}

/// What the router found for a request path.
#[derive(Clone, Debug)]
pub struct RouteMatch {
    pub component_id: String,
    pub raw_route: String,
    pub based_route: String,
    pub raw_route_or_prefix: String,
    /// `spin-path-info`.
    pub path_info: String,
    pub named: HashMap<String, String>,
}

impl RouteMatch {
    /// The match Spin synthesises for a service-chaining request to `component_id`: as if the
    /// component had the catch-all route `/...` (spin `RouteMatch::synthetic`).
    pub fn synthetic(component_id: &str, path: &str) -> RouteMatch {
        RouteMatch {
            component_id: component_id.to_string(),
            raw_route: "/...".into(),
            based_route: "/...".into(),
            raw_route_or_prefix: String::new(),
            path_info: path.to_string(),
            named: HashMap::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

/// A route declared more than once; only the last declaration is served.
#[derive(Debug)]
pub struct Duplicate {
    pub route: String,
    pub replaced: String,
    pub effective: String,
}

impl Router {
    pub fn build<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Router, Vec<Duplicate>)> {
        let mut routes: Vec<Route> = Vec::new();
        let mut duplicates = Vec::new();
        for (component, raw) in entries {
            let route = Route::parse(component, raw)?;
            // Spin de-duplicates on the raw route text, keeping the later one in the earlier's place.
            if let Some(existing) = routes.iter_mut().find(|r| r.raw == route.raw) {
                duplicates.push(Duplicate {
                    route: route.based.clone(),
                    replaced: existing.component_id.clone(),
                    effective: route.component_id.clone(),
                });
                *existing = route;
            } else {
                routes.push(route);
            }
        }
        Ok((Router { routes }, duplicates))
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let segs: Vec<&str> = if trimmed.is_empty() { vec![] } else { trimmed.split('/').collect() };
        let mut best: Option<(&Route, HashMap<String, String>, Option<String>)> = None;
        for r in &self.routes {
            if let Some((caps, rest)) = r.matches(&segs) {
                if best.as_ref().is_none_or(|(b, _, _)| r.rank() > b.rank()) {
                    best = Some((r, caps, rest));
                }
            }
        }
        let (route, named, rest) = best?;
        // Spin keeps the trailing slash in the wildcard capture (routefinder drops it).
        let path_info = match rest {
            None => String::new(),
            Some(s) => match (s.is_empty(), path.ends_with('/') && !path.is_empty()) {
                (true, false) => String::new(),
                (true, true) => "/".into(),
                (false, false) => format!("/{s}"),
                (false, true) => format!("/{s}/"),
            },
        };
        Some(RouteMatch {
            component_id: route.component_id.clone(),
            raw_route: route.raw.clone(),
            based_route: route.based.clone(),
            raw_route_or_prefix: route.raw_or_prefix(),
            path_info,
            named,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(entries: &[(&str, &str)]) -> Router {
        Router::build(entries.iter().copied()).unwrap().0
    }

    fn comp(r: &Router, p: &str) -> Option<String> {
        r.route(p).map(|m| m.component_id)
    }

    #[test]
    fn exact_routes() {
        let r = router(&[("foo", "/foo"), ("foobar", "/foo/bar")]);
        assert_eq!(comp(&r, "/foo").as_deref(), Some("foo"));
        assert_eq!(comp(&r, "/foo/bar").as_deref(), Some("foobar"));
        assert_eq!(comp(&r, "/foo/"), Some("foo".into()), "trailing slash ignored");
        assert_eq!(comp(&r, "/nope"), None);
        assert_eq!(comp(&r, "/foo/bar/baz"), None);
    }

    #[test]
    fn catch_all_matches_everything() {
        let r = router(&[("all", "/...")]);
        for p in ["/foo/bar", "/abc/", "/", ""] {
            assert_eq!(comp(&r, p).as_deref(), Some("all"), "{p}");
        }
    }

    #[test]
    fn exact_beats_wildcard_and_longest_wildcard_wins() {
        let r = router(&[("root", "/..."), ("a", "/a/..."), ("ab", "/a/b"), ("abc", "/a/b/c/...")]);
        assert_eq!(comp(&r, "/a/b").as_deref(), Some("ab"));
        assert_eq!(comp(&r, "/a").as_deref(), Some("a"), "wildcard matches its prefix itself");
        assert_eq!(comp(&r, "/a/x").as_deref(), Some("a"));
        assert_eq!(comp(&r, "/a/b/c/d").as_deref(), Some("abc"));
        assert_eq!(comp(&r, "/a/b/c").as_deref(), Some("abc"));
        assert_eq!(comp(&r, "/ab").as_deref(), Some("root"), "prefix is by segment, not by text");
        // Order of declaration does not matter.
        let r = router(&[("abc", "/a/b/c/..."), ("a", "/a/..."), ("root", "/...")]);
        assert_eq!(comp(&r, "/a/b/c/d").as_deref(), Some("abc"));
    }

    #[test]
    fn path_info_keeps_trailing_slashes_like_spin() {
        let r = router(&[("c", "/test/...")]);
        assert_eq!(r.route("/test").unwrap().path_info, "");
        assert_eq!(r.route("/test/").unwrap().path_info, "/");
        assert_eq!(r.route("/test/hello").unwrap().path_info, "/hello");
        assert_eq!(r.route("/test/hello/").unwrap().path_info, "/hello/");
        let r = router(&[("c", "/...")]);
        assert_eq!(r.route("/1/2/3").unwrap().path_info, "/1/2/3");
    }

    #[test]
    fn named_segments_are_captured_and_beat_wildcards() {
        let r = router(&[("w", "/1/..."), ("p", "/1/:two/3")]);
        let m = r.route("/1/2/3").unwrap();
        assert_eq!(m.component_id, "p");
        assert_eq!(m.named["two"], "2");
        let r = router(&[("p", "/foo/:userid/...")]);
        let m = r.route("/foo/42/bar").unwrap();
        assert_eq!(m.named["userid"], "42");
        assert_eq!(m.path_info, "/bar");
        assert_eq!(m.raw_route_or_prefix, "/foo/:userid");
    }

    #[test]
    fn headers_values_match_spin() {
        let r = router(&[("c", "/foo/...")]);
        let m = r.route("/foo/bar").unwrap();
        assert_eq!(m.based_route, "/foo/...");
        assert_eq!(m.raw_route, "/foo/...");
        assert_eq!(m.raw_route_or_prefix, "/foo");
        assert_eq!(m.path_info, "/bar");
    }

    #[test]
    fn duplicates_last_one_wins() {
        let (r, d) = Router::build([("first", "/foo"), ("second", "/foo"), ("x", "/...")]).unwrap();
        assert_eq!(comp(&r, "/foo").as_deref(), Some("second"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].replaced, "first");
        assert_eq!(r.routes().len(), 2);
    }

    #[test]
    fn display_marks_wildcards() {
        let r = router(&[("c", "/whee/..."), ("d", "/x")]);
        assert_eq!(r.routes()[0].display(), "/whee (wildcard)");
        assert_eq!(r.routes()[1].display(), "/x");
    }
}
