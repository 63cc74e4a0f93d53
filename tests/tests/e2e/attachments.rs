//! Attachments are cleaned of metadata at intake (issue #16, point 1). A phone photo, a PNG, a
//! WebP and a PDF carrying their makers' names, a GPS position, XMP, comments, old revisions
//! and embedded files are sent with anonymous complaints through the built intake; what the
//! public attachment URL serves and what the store holds has none of it, in any encoding,
//! while an independent decoder still shows the same picture. A file that cannot be cleaned
//! is refused with a 4xx that says why, and nothing of that complaint is stored.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, RgbImage};
use ntbcare_domain::upload::metadata::fixtures::{self, canaries_in, contains};
use ntbcare_tests::TestApp;
use serde_json::json;

use crate::intake_api::multipart;

/// A real picture as an encoder writes it: a gradient, so the coded data is not trivial.
fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x * y) % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture).write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn pixels(data: &[u8]) -> Vec<u8> {
    image::load_from_memory(data).expect("the served file decodes").to_rgb8().into_raw()
}

/// Every key and value of one store's SQLite file, read while the host runs.
fn store_rows(file: &Path) -> Vec<(String, Vec<u8>)> {
    let db = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut query = db.prepare("SELECT key, value FROM spin_key_value").unwrap();
    let rows = query.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

fn all_rows(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut rows = store_rows(&app.state_dir().join("sqlite_key_value.db"));
    let identity = app.state_dir().join("identity.db");
    if identity.exists() {
        rows.extend(store_rows(&identity));
    }
    rows
}

/// Post an anonymous complaint with these files; its ticket.
fn submit(app: &TestApp, files: &[(&str, &str, &[u8])]) -> String {
    let complaint = json!({"description": "Jalan berlubang di depan SDN 3, sudah tiga bulan", "region_code": "52.71", "privacy": "anonymous"});
    let json = complaint.to_string();
    let mut parts = vec![("complaint", None, "application/json", json.as_bytes())];
    parts.extend(files.iter().map(|(name, mime, data)| ("attachment", Some(*name), *mime, *data)));
    let (ct, body) = multipart(&parts);
    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.json().unwrap()["ticket"].as_str().unwrap().to_string()
}

/// An attachment as the public gets it (an anonymous complaint's attachments are public).
fn served(app: &TestApp, ticket: &str, n: usize) -> Vec<u8> {
    let (status, bytes) =
        ntbcare_tests::get_bytes(app, &format!("/api/v1/complaints/{ticket}/attachments/{n}")).unwrap();
    assert_eq!(status, 200, "attachment {n}: {}", String::from_utf8_lossy(&bytes));
    bytes
}

#[test]
fn photos_and_pdfs_are_served_and_stored_without_names_positions_or_authors() {
    let app = TestApp::spawn().unwrap();
    let (jpeg_clean, png_clean, webp_clean) = (
        encoded(ImageFormat::Jpeg, 64, 48),
        encoded(ImageFormat::Png, 40, 30),
        encoded(ImageFormat::WebP, 24, 20),
    );
    // A photo taken with the phone on its side (EXIF Orientation 6), as phones store them.
    let jpeg = fixtures::jpeg_with_metadata(&jpeg_clean, 6);
    let png = fixtures::png_with_metadata(&png_clean);
    let webp = fixtures::webp_with_metadata(&webp_clean, 24, 20);
    let pdf =
        fixtures::pdf_with_metadata(&fixtures::jpeg_with_metadata(&encoded(ImageFormat::Jpeg, 16, 16), 1));
    // Positive controls: the search below finds what the files carry as sent.
    for (name, sent) in [("jpeg", &jpeg), ("png", &png), ("webp", &webp), ("pdf", &pdf)] {
        assert!(canaries_in(sent).len() >= 7, "{name} carries {:?}", canaries_in(sent));
    }
    assert!(contains(&jpeg, &fixtures::GPS_LATITUDE_DEGREES));
    for c in [fixtures::PDF_AUTHOR, fixtures::PDF_OLD_AUTHOR, fixtures::PDF_TITLE, fixtures::XMP_CREATOR] {
        assert!(canaries_in(&pdf).contains(&c), "the PDF carries {c}");
    }

    let photos = submit(
        &app,
        &[
            ("jalan.jpg", "image/jpeg", &jpeg),
            ("jalan.png", "image/png", &png),
            ("jalan.webp", "image/webp", &webp),
        ],
    );
    let document = submit(&app, &[("surat.pdf", "application/pdf", &pdf)]);

    let jpeg_back = served(&app, &photos, 1);
    assert_eq!(canaries_in(&jpeg_back), Vec::<&str>::new(), "JPEG");
    assert!(!contains(&jpeg_back, &fixtures::GPS_LATITUDE_DEGREES), "the GPS position");
    assert!(!contains(&jpeg_back, b"ICC_PROFILE") && !contains(&jpeg_back, b"http://ns.adobe.com/xap"));
    assert_eq!(pixels(&jpeg_back), pixels(&jpeg_clean), "the same picture");
    // The orientation stays, alone: an EXIF holding one IFD entry, Orientation = 6.
    let exif = jpeg_back.windows(8).position(|w| w == b"Exif\0\0MM").expect("the orientation is kept");
    assert_eq!(&jpeg_back[exif + 14..exif + 26], &[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6]);

    let png_back = served(&app, &photos, 2);
    assert_eq!(canaries_in(&png_back), Vec::<&str>::new(), "PNG");
    assert_eq!(pixels(&png_back), pixels(&png_clean));
    for chunk in [b"tEXt", b"iTXt", b"eXIf", b"tIME", b"iCCP"] {
        assert!(!contains(&png_back, chunk), "{}", String::from_utf8_lossy(chunk));
    }

    let webp_back = served(&app, &photos, 3);
    assert_eq!(canaries_in(&webp_back), Vec::<&str>::new(), "WebP");
    assert_eq!(pixels(&webp_back), pixels(&webp_clean));
    assert_eq!(webp_back[20] & 0x2C, 0, "VP8X claims no ICC, EXIF or XMP");

    let pdf_back = served(&app, &document, 1);
    assert_eq!(canaries_in(&pdf_back), Vec::<&str>::new(), "PDF");
    assert!(!contains(&pdf_back, b"KANARI"), "{}", String::from_utf8_lossy(&pdf_back));
    assert!(contains(&pdf_back, fixtures::PDF_PAGE_TEXT.as_bytes()), "the page's text stays");
    assert!(pdf_back.starts_with(b"%PDF-"));
    assert_eq!(pdf_back.windows(5).filter(|w| w == b"%%EOF").count(), 1, "one revision");
    for key in [&b"/Info"[..], b"/Metadata", b"/ID", b"/Author", b"/Prev", b"/EF"] {
        assert!(!contains(&pdf_back, key), "{}", String::from_utf8_lossy(key));
    }

    // At rest too: the store holds the cleaned files, and the originals nowhere.
    let rows = all_rows(&app);
    assert!(rows.iter().any(|(k, v)| k == &format!("attachment/{photos}/1") && v == &jpeg_back));
    for (key, value) in &rows {
        assert_eq!(canaries_in(key.as_bytes()), Vec::<&str>::new(), "key {key}");
        assert_eq!(canaries_in(value), Vec::<&str>::new(), "value of {key}");
    }
}

#[test]
fn a_photo_that_cannot_be_read_is_refused_and_nothing_of_the_complaint_is_stored() {
    let app = TestApp::spawn().unwrap();
    let good = fixtures::jpeg_with_metadata(&encoded(ImageFormat::Jpeg, 32, 32), 1);
    let garbage: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00 KANARI-ARTIST Ruslan Fotografer, not a photo";
    let complaint = json!({"description": "Pungutan liar di kantor desa", "region_code": "52.03", "privacy": "anonymous"});
    let json = complaint.to_string();
    // A good photo with a bad one: the whole submission is refused, the good one not kept.
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", json.as_bytes()),
        ("attachment", Some("bukti-1.jpg"), "image/jpeg", &good),
        ("attachment", Some("bukti-2.jpg"), "image/jpeg", garbage),
    ]);
    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
    assert_eq!(r.status, 422, "{}", r.body);
    let error = &r.json().unwrap()["error"];
    assert_eq!(error["code"], "unreadable-file");
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("Foto `bukti-2.jpg` tidak dapat dibaca"), "{message}");
    assert!(message.contains("tangkapan layar"), "says what to do: {message}");

    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[("accept-language", "en")]).unwrap();
    let message = r.json().unwrap()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Photo `bukti-2.jpg` could not be read"), "{message}");

    // A PDF that is not one.
    let (ct, body) = multipart(&[
        ("complaint", None, "application/json", json.as_bytes()),
        ("attachment", Some("surat.pdf"), "application/pdf", b"%PDF-1.7\n% KANARI-PDF-AUTHOR\nrusak"),
    ]);
    let r = app.post_raw("/api/v1/complaints", &ct, &body, &[]).unwrap();
    assert_eq!(
        (r.status, r.json().unwrap()["error"]["code"].as_str()),
        (422, Some("unreadable-file")),
        "{}",
        r.body
    );

    assert_eq!(app.get("/api/v1/reports/summary").unwrap().json().unwrap()["total"], 0, "no complaint made");
    for (key, value) in all_rows(&app) {
        assert!(!key.starts_with("attachment/") && !key.starts_with("complaint/"), "{key} stored");
        assert_eq!(canaries_in(&value), Vec::<&str>::new(), "value of {key}");
    }
}

#[test]
fn a_photo_sent_through_the_portals_form_is_cleaned_the_same_way() {
    let app = TestApp::spawn().unwrap();
    let clean = encoded(ImageFormat::Png, 40, 30);
    let photo = fixtures::png_with_metadata(&clean);
    assert!(canaries_in(&photo).contains(&fixtures::PNG_AUTHOR), "positive control");
    let citizen = crate::portal::Visitor::new(&app);
    let (ticket, _, receipt) = crate::portal::file(&citizen, &crate::portal::road(), Some(&photo));
    assert!(receipt.body.contains("Foto Anda terlampir"), "{}", receipt.body);
    let back = served(&app, &ticket, 1);
    assert_eq!(canaries_in(&back), Vec::<&str>::new());
    assert_eq!(back, clean, "the encoder's picture, nothing else");
}

/// A picture of noise, which no encoder can shrink: a file close to the 4 MB limit.
fn noise(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let picture = RgbImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture).write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn three_files_near_the_4_mb_limit_are_cleaned_within_one_requests_memory_and_time() {
    // The host's default --max-request-body (16 MiB) takes what intake takes (3 x 4 MB and the
    // JSON, `upload::MAX_BODY_BYTES`): the app as shipped, with the guest's memory (256 MiB a
    // request) the limit this measures.
    let app = TestApp::spawn().unwrap();
    let limit = ntbcare_domain::upload::MAX_FILE_BYTES;
    let jpeg = fixtures::jpeg_with_metadata(&noise(ImageFormat::Jpeg, 1800, 1500), 6);
    let png = fixtures::png_with_metadata(&noise(ImageFormat::Png, 1150, 1150));
    let pdf =
        fixtures::pdf_with_metadata(&fixtures::jpeg_with_metadata(&noise(ImageFormat::Jpeg, 1800, 1500), 1));
    for (name, file) in [("jpeg", &jpeg), ("png", &png), ("pdf", &pdf)] {
        assert!(file.len() > limit * 3 / 4 && file.len() <= limit, "{name}: {} bytes", file.len());
    }
    let started = std::time::Instant::now();
    let ticket = submit(
        &app,
        &[
            ("besar.jpg", "image/jpeg", &jpeg),
            ("besar.png", "image/png", &png),
            ("besar.pdf", "application/pdf", &pdf),
        ],
    );
    let took = started.elapsed();
    eprintln!(
        "3 files ({} + {} + {} bytes) cleaned and stored in {took:?}",
        jpeg.len(),
        png.len(),
        pdf.len()
    );
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    for n in 1..=3 {
        assert_eq!(canaries_in(&served(&app, &ticket, n)), Vec::<&str>::new(), "attachment {n}");
    }
}
