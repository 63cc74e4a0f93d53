//! PDF (ISO 32000): loaded whole with `lopdf`, stripped, pruned to what the catalog reaches,
//! and written again as a single revision (see the module above for what goes and why).

use lopdf::{Dictionary, Document, LoadOptions, Object};

/// The most one stream may inflate to while the file is read: a 4 MB upload that claims more
/// is a decompression bomb, and a request's instance has 256 MiB in all.
const MAX_STREAM_BYTES: usize = 32 * 1024 * 1024;

pub(super) fn strip(data: &[u8]) -> Result<Vec<u8>, String> {
    let options = LoadOptions { max_decompressed_size: Some(MAX_STREAM_BYTES), ..LoadOptions::default() };
    let mut doc = Document::load_mem_with_options(data, options).map_err(|e| format!("unreadable: {e}"))?;
    // A document whose pages need a password was not decrypted: nothing to clean or show.
    if doc.is_encrypted() || doc.catalog().is_err() || !has_pages(&doc) {
        return Err("no readable pages (locked with a password, or damaged)".into());
    }
    // The new trailer names the catalog and nothing else: no /Info, no /ID, no /Prev.
    let root = doc.trailer.get(b"Root").map_err(|e| e.to_string())?.clone();
    doc.trailer = Dictionary::new();
    doc.trailer.set("Root", root);
    for object in doc.objects.values_mut() {
        scrub(object)?;
    }
    // Objects only the removed entries reached, old revisions' objects, object streams and
    // cross-reference streams: none is reachable from the new trailer.
    doc.prune_objects();
    // Numbered 1..n again, so the numbering shows nothing of what was removed (and cleaning a
    // cleaned file gives the same bytes).
    doc.renumber_objects();
    let mut out = Vec::with_capacity(data.len());
    doc.save_to(&mut out).map_err(|e| format!("cannot be written: {e}"))?;
    // What is stored must open: read back, it still has pages. (A damaged file that lopdf
    // repaired on the way in can lose them on the way out, found by fuzz/attachment_metadata.)
    let written = Document::load_mem(&out).map_err(|e| format!("unreadable once cleaned: {e}"))?;
    if !has_pages(&written) {
        return Err("no pages once cleaned".into());
    }
    Ok(out)
}

/// The page tree leads to pages, each a dictionary (a mangled tree can lead lopdf to a stream).
fn has_pages(doc: &Document) -> bool {
    let pages = doc.get_pages();
    !pages.is_empty() && pages.values().all(|&id| doc.get_dictionary(id).is_ok())
}

fn scrub(object: &mut Object) -> Result<(), String> {
    match object {
        Object::Dictionary(dict) => scrub_dictionary(dict),
        Object::Array(items) => items.iter_mut().try_for_each(scrub),
        Object::Stream(stream) => {
            scrub_dictionary(&mut stream.dict)?;
            if stream.dict.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"Metadata") {
                stream.set_plain_content(Vec::new());
            }
            let filters = stream.filters().unwrap_or_default();
            if filters.contains(&&b"DCTDecode"[..]) {
                // A scanned page or a photo placed in the document: a JPEG with its own EXIF.
                if filters.len() != 1 {
                    return Err("a JPEG image behind another filter".into());
                }
                let clean =
                    super::jpeg::strip(&stream.content).map_err(|e| format!("an image inside: {e}"))?;
                stream.set_content(clean);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn scrub_dictionary(dict: &mut Dictionary) -> Result<(), String> {
    // XMP packets (catalog, pages, images, fonts) and applications' private data.
    dict.remove(b"Metadata");
    dict.remove(b"PieceInfo");
    // Embedded files: a file specification keeps its name, not the file.
    dict.remove(b"EF");
    dict.remove(b"RF");
    // An annotation's author (/T). In a form field's widget /T is the field's name: kept.
    let is_annotation = dict.has(b"Rect") && dict.get(b"Subtype").and_then(Object::as_name).is_ok();
    let is_widget = dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Widget");
    if is_annotation && !is_widget {
        dict.remove(b"T");
    }
    for (_, value) in dict.iter_mut() {
        scrub(value)?;
    }
    Ok(())
}
