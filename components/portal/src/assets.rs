//! The static assets, embedded in the component: a stylesheet, a small optional script and
//! the logo. No font, script or style ever comes from another server.

use crate::Page;

pub const CSS: &str = include_str!("../assets/portal.css");
pub const JS: &str = include_str!("../assets/portal.js");
pub const LOGO: &str = include_str!("../assets/logo.svg");

/// A short content hash (FNV-1a), for ETags and cache-busting asset addresses.
pub fn version(content: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in content.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// The address of an asset, with its version so a changed file is fetched again.
pub fn href(name: &str) -> String {
    let content = match name {
        "portal.css" => CSS,
        "portal.js" => JS,
        _ => LOGO,
    };
    format!("/aset/{name}?v={}", version(content))
}

pub fn serve(name: &str, if_none_match: Option<&str>) -> Page {
    let (content, content_type) = match name {
        "portal.css" => (CSS, "text/css; charset=utf-8"),
        "portal.js" => (JS, "text/javascript; charset=utf-8"),
        "logo.svg" => (LOGO, "image/svg+xml"),
        _ => {
            return Page {
                status: 404,
                headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                body: b"not found".to_vec(),
            }
        }
    };
    let etag = format!("\"{}\"", version(content));
    let headers = vec![
        ("content-type".into(), content_type.into()),
        ("etag".into(), etag.clone()),
        ("cache-control".into(), "public, max-age=604800".into()),
        ("x-content-type-options".into(), "nosniff".into()),
    ];
    if if_none_match == Some(etag.as_str()) {
        return Page { status: 304, headers, body: vec![] };
    }
    Page { status: 200, headers, body: content.as_bytes().to_vec() }
}
