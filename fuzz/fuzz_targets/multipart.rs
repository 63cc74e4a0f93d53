//! `multipart/form-data` submissions (a `complaint` JSON part and up to three files): the
//! first line is the `Content-Type` boundary, the rest the body. Checks the limits of an
//! accepted submission, and that a form written by the LAPOR! client's writer reads back
//! part for part.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::lapor::wire::Multipart;
use ntbcare_domain::upload::{self, MAX_FILES, MAX_FILE_BYTES};

fuzz_target!(|data: &[u8]| {
    let (boundary_text, body) = ntbcare_fuzz::header_and_body(data);
    let content_type = format!("multipart/form-data; boundary={boundary_text}");
    let Some(boundary) = upload::boundary(&content_type) else { return };
    assert!(!boundary.is_empty() && boundary.len() <= 70);

    if let Ok(parts) = upload::parse(body, &boundary) {
        assert!(parts.len() <= 16, "more parts than the parser allows");
        for p in &parts {
            assert!(!p.name.is_empty());
        }
    }
    match upload::submission_parts(body, &boundary) {
        Ok((_json, files)) => {
            assert!(files.len() <= MAX_FILES);
            for f in &files {
                assert!(f.data.len() <= MAX_FILE_BYTES);
                assert_eq!(upload::sniff(&f.data), Some((f.kind, f.mime_type)), "type not from the bytes");
                let name = f.name.as_deref().expect("a shown name");
                assert!(!name.is_empty() && name.chars().count() <= 100);
                assert!(!name.contains(['/', '\\', '<', '>', '"', '\'', '&']), "unsafe name {name:?}");
                assert!(!name.chars().any(char::is_control) && !name.starts_with('.'));
            }
        }
        Err(e) => {
            let _ = (e.code(), e.message());
        }
    }

    // Round trip: text fields made of the body's lines, written by `Multipart` and read back.
    let text = String::from_utf8_lossy(body);
    let fields: Vec<(String, String)> = text
        .split('\n')
        .take(8)
        .map(|line| {
            let (n, v) = line.split_once('=').unwrap_or((line, ""));
            // The writer replaces `"`, CR and LF in names; a name is never empty on the wire.
            let n = n.replace(['"', '\r', '\n'], "_");
            let n = if n.trim().is_empty() || n.contains(';') || n.trim() != n { "f".into() } else { n };
            (n, v.to_string())
        })
        .collect();
    let mut form = Multipart::default();
    for (n, v) in &fields {
        form.text(n, v);
    }
    let (ct, bytes) = form.finish();
    let b = upload::boundary(&ct).expect("the writer's content type has a boundary");
    let parts = upload::parse(&bytes, &b).expect("the writer's form parses");
    assert_eq!(parts.len(), fields.len());
    for (p, (n, v)) in parts.iter().zip(&fields) {
        assert_eq!(&p.name, n);
        assert_eq!(p.data, v.as_bytes());
    }
});
