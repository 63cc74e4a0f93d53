//! Photos and documents sent with a complaint: multipart/form-data read at the boundary,
//! each file checked by what it is (its first bytes), not by what the sender says it is.
//!
//! A submission is a `complaint` part holding the JSON document of the JSON API and up to
//! [`MAX_FILES`] `attachment` parts. File names are kept only as a display name, stripped of
//! any path, so nothing a sender writes there can reach a file system or a page unescaped.
//! Every file is cleaned of its metadata ([`metadata`]) as it is read, so what intake stores
//! is the cleaned file and the original is never kept; a file that cannot be cleaned is
//! refused.

use thiserror::Error;

use crate::language::Text;

pub mod metadata;

pub const MAX_FILES: usize = 3;
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// The whole multipart body: three files and the JSON.
pub const MAX_BODY_BYTES: usize = MAX_FILES * MAX_FILE_BYTES + 256 * 1024;

/// One part of a multipart body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// A file that passed the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// `image` or `document`.
    pub kind: &'static str,
    pub mime_type: &'static str,
    /// A display name without any path.
    pub name: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum UploadError {
    #[error("the multipart body is malformed: {0}")]
    Malformed(&'static str),
    #[error("the multipart body has no `complaint` part")]
    NoComplaint,
    #[error("at most {MAX_FILES} files may be attached")]
    TooManyFiles,
    #[error("file `{0}` is larger than 4 MB")]
    FileTooLarge(String),
    #[error("file `{0}` is not a JPEG, PNG or WebP photo or a PDF document")]
    UnsupportedType(String),
    #[error("part `{0}` is not expected")]
    UnexpectedPart(String),
    #[error("photo `{0}` could not be read, so it was not kept: send another photo, or a screenshot of it")]
    PhotoUnreadable(String),
    #[error(
        "PDF `{0}` could not be read (damaged, or locked with a password), so it was not kept: send it \
         again without a password, or photos of its pages"
    )]
    DocumentUnreadable(String),
}

impl UploadError {
    pub fn code(&self) -> &'static str {
        match self {
            UploadError::Malformed(_) => "malformed-multipart",
            UploadError::NoComplaint => "missing-field",
            UploadError::TooManyFiles => "too-many-files",
            UploadError::FileTooLarge(_) => "file-too-large",
            UploadError::UnsupportedType(_) => "unsupported-file-type",
            UploadError::UnexpectedPart(_) => "unknown-field",
            UploadError::PhotoUnreadable(_) | UploadError::DocumentUnreadable(_) => "unreadable-file",
        }
    }

    pub fn message(&self) -> Text {
        let id = match self {
            UploadError::Malformed(_) => "Isi formulir (multipart) rusak.".to_string(),
            UploadError::NoComplaint => "Bagian `complaint` wajib ada.".to_string(),
            UploadError::TooManyFiles => format!("Paling banyak {MAX_FILES} berkas boleh dilampirkan."),
            UploadError::FileTooLarge(n) => format!("Berkas `{n}` lebih besar dari 4 MB."),
            UploadError::UnsupportedType(n) => {
                format!("Berkas `{n}` bukan foto JPEG, PNG, WebP atau dokumen PDF.")
            }
            UploadError::UnexpectedPart(n) => format!("Bagian `{n}` tidak dikenal."),
            UploadError::PhotoUnreadable(n) => format!(
                "Foto `{n}` tidak dapat dibaca, jadi tidak kami simpan. Kirim foto lain, atau tangkapan layar \
                 (screenshot) foto itu."
            ),
            UploadError::DocumentUnreadable(n) => format!(
                "PDF `{n}` tidak dapat dibaca (rusak atau dikunci kata sandi), jadi tidak kami simpan. Kirim \
                 lagi tanpa kata sandi, atau foto halaman-halamannya."
            ),
        };
        let mut en = self.to_string();
        if let Some(first) = en.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        en.push('.');
        Text::new(id, en)
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .split(';')
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Split a multipart body into its parts (RFC 7578).
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, UploadError> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0).ok_or(UploadError::Malformed("no boundary"))? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err(UploadError::Malformed("boundary not followed by a line end"));
        }
        pos += 2;
        let headers_end =
            find(body, b"\r\n\r\n", pos).ok_or(UploadError::Malformed("part without headers"))?;
        let headers =
            std::str::from_utf8(&body[pos..headers_end]).map_err(|_| UploadError::Malformed("headers"))?;
        let mut next_delimiter = b"\r\n".to_vec();
        next_delimiter.extend_from_slice(&delimiter);
        let data_start = headers_end + 4;
        let data_end =
            find(body, &next_delimiter, data_start).ok_or(UploadError::Malformed("unterminated part"))?;
        let mut part = Part {
            name: String::new(),
            filename: None,
            content_type: None,
            data: body[data_start..data_end].to_vec(),
        };
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else { continue };
            match key.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in value.split(';').skip(1) {
                        let Some((k, v)) = param.trim().split_once('=') else { continue };
                        let v = v.trim().trim_matches('"').to_string();
                        match k.trim() {
                            "name" => part.name = v,
                            "filename" => part.filename = Some(v),
                            _ => {}
                        }
                    }
                }
                "content-type" => part.content_type = Some(value.trim().to_string()),
                _ => {}
            }
        }
        if part.name.is_empty() {
            return Err(UploadError::Malformed("part without a name"));
        }
        parts.push(part);
        pos = data_end + next_delimiter.len();
        if parts.len() > 16 {
            return Err(UploadError::Malformed("too many parts"));
        }
    }
}

/// The file's real type from its first bytes.
pub fn sniff(data: &[u8]) -> Option<(&'static str, &'static str)> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image", "image/jpeg"))
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image", "image/png"))
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some(("image", "image/webp"))
    } else if data.starts_with(b"%PDF-") {
        Some(("document", "application/pdf"))
    } else {
        None
    }
}

/// A display name: the last path segment, printable characters only, at most 100.
pub fn display_name(filename: &str) -> Option<String> {
    let last = filename.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | '"' | '\'' | '&'))
        .take(100)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    (!clean.is_empty()).then_some(clean)
}

/// Split a submission into its JSON document and its checked files.
pub fn submission_parts(body: &[u8], boundary: &str) -> Result<(Vec<u8>, Vec<Upload>), UploadError> {
    let mut json = None;
    let mut files = Vec::new();
    for part in parse(body, boundary)? {
        match part.name.as_str() {
            "complaint" => json = Some(part.data),
            "attachment" => {
                if part.data.is_empty() && part.filename.as_deref().unwrap_or("").is_empty() {
                    continue; // an empty file input
                }
                let shown =
                    part.filename.as_deref().and_then(display_name).unwrap_or_else(|| "berkas".into());
                if files.len() == MAX_FILES {
                    return Err(UploadError::TooManyFiles);
                }
                if part.data.len() > MAX_FILE_BYTES {
                    return Err(UploadError::FileTooLarge(shown));
                }
                let (kind, mime_type) =
                    sniff(&part.data).ok_or_else(|| UploadError::UnsupportedType(shown.clone()))?;
                // Cleaned here, before anything can store it; the sent bytes go out of scope.
                let data = metadata::strip(mime_type, &part.data).map_err(|_| match kind {
                    "image" => UploadError::PhotoUnreadable(shown.clone()),
                    _ => UploadError::DocumentUnreadable(shown.clone()),
                })?;
                files.push(Upload { kind, mime_type, name: Some(shown), data });
            }
            other => return Err(UploadError::UnexpectedPart(other.chars().take(40).collect())),
        }
    }
    Ok((json.ok_or(UploadError::NoComplaint)?, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real 8x8 JPEG, as an encoder writes it (JFIF, tables, one scan): nothing to clean.
    fn jpeg() -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 8, image::Rgb([90, 120, 150])))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, filename, data) in parts {
            b.extend_from_slice(b"--XyZ\r\n");
            match filename {
                Some(f) => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/jpeg\r\n\r\n")
                        .as_bytes(),
                ),
                None => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            b.extend_from_slice(data);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        b
    }

    #[test]
    fn a_complaint_with_a_photo_splits_into_json_and_a_checked_file() {
        let jpeg = jpeg();
        let b = body(&[
            ("complaint", None, br#"{"description": "x"}"#),
            ("attachment", Some("jalan.jpg"), &jpeg),
        ]);
        let (json, files) = submission_parts(&b, "XyZ").unwrap();
        assert_eq!(json, br#"{"description": "x"}"#);
        assert_eq!(
            (files[0].kind, files[0].mime_type, files[0].name.as_deref()),
            ("image", "image/jpeg", Some("jalan.jpg"))
        );
        assert_eq!(files[0].data, jpeg, "a photo with nothing to clean is kept as sent");
    }

    #[test]
    fn a_photo_is_cleaned_as_it_is_read_and_one_that_cannot_be_is_refused() {
        let jpeg = jpeg();
        let sent = metadata::fixtures::jpeg_with_metadata(&jpeg, 1);
        let b = body(&[("complaint", None, b"{}"), ("attachment", Some("jalan.jpg"), &sent)]);
        let (_, files) = submission_parts(&b, "XyZ").unwrap();
        assert_eq!(files[0].data, jpeg, "EXIF, XMP, ICC, IPTC, comment and trailer gone");
        assert_eq!(files[0].mime_type, "image/jpeg");

        let garbage = b"\xFF\xD8\xFF\xE1 not a photo";
        let b = body(&[("complaint", None, b"{}"), ("attachment", Some("foto.jpg"), garbage)]);
        let e = submission_parts(&b, "XyZ").unwrap_err();
        assert_eq!(e, UploadError::PhotoUnreadable("foto.jpg".into()));
        assert_eq!(e.code(), "unreadable-file");
        assert!(e.message().id.starts_with("Foto `foto.jpg` tidak dapat dibaca"), "{}", e.message().id);
        assert!(e.message().en.starts_with("Photo `foto.jpg` could not be read"), "{}", e.message().en);
        let b = body(&[("complaint", None, b"{}"), ("attachment", Some("surat.pdf"), b"%PDF-1.4 rusak")]);
        assert_eq!(submission_parts(&b, "XyZ"), Err(UploadError::DocumentUnreadable("surat.pdf".into())));
    }

    #[test]
    fn a_file_is_judged_by_its_bytes_not_its_name() {
        let b = body(&[("complaint", None, b"{}"), ("attachment", Some("foto.jpg"), b"#!/bin/sh\nrm -rf /")]);
        assert_eq!(submission_parts(&b, "XyZ"), Err(UploadError::UnsupportedType("foto.jpg".into())));
    }

    #[test]
    fn path_traversal_in_a_file_name_is_stripped() {
        assert_eq!(display_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(display_name("C:\\Users\\x\\<script>.jpg").as_deref(), Some("script.jpg"));
        assert_eq!(display_name("..").as_deref(), None);
    }

    #[test]
    fn limits_and_malformed_bodies_are_refused() {
        let jpeg = jpeg();
        let four = [("attachment", Some("a.jpg"), &jpeg[..]); 4];
        let mut parts = vec![("complaint", None, &b"{}"[..])];
        parts.extend(four.iter().map(|(n, f, d)| (*n, *f, *d)));
        assert_eq!(submission_parts(&body(&parts), "XyZ"), Err(UploadError::TooManyFiles));
        let mut big = jpeg.clone();
        big.resize(MAX_FILE_BYTES + 1, 0);
        let b = body(&[("complaint", None, b"{}"), ("attachment", Some("besar.jpg"), &big)]);
        assert_eq!(submission_parts(&b, "XyZ"), Err(UploadError::FileTooLarge("besar.jpg".into())));
        assert_eq!(
            submission_parts(&body(&[("attachment", Some("a.jpg"), &jpeg)]), "XyZ"),
            Err(UploadError::NoComplaint)
        );
        assert!(matches!(submission_parts(b"garbage", "XyZ"), Err(UploadError::Malformed(_))));
        assert!(matches!(
            submission_parts(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", "XyZ"),
            Err(UploadError::Malformed(_))
        ));
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4").as_deref(),
            Some("----WebKitFormBoundary7MA4")
        );
        assert_eq!(boundary("multipart/form-data; boundary=\"q\"").as_deref(), Some("q"));
        assert_eq!(boundary("application/json"), None);
    }
}
