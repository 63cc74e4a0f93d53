//! Attachments cleaned of what identifies the person who made them, before anything is stored.
//!
//! A phone photo carries its owner's name (EXIF Artist, Copyright), the device's serial
//! number, the GPS position where it was taken, a thumbnail of the unedited picture and
//! editing history (XMP); a PDF carries its author, the software and account that made it,
//! XMP packets, old revisions kept by incremental saves, and scanned pages that are JPEGs with
//! their own EXIF. An anonymous complaint's attachment is public, and the agency complained
//! about reads it, so none of that may survive intake (issue #16, point 1).
//!
//! The rule is an allow-list, not a deny-list: each cleaner copies only what a viewer needs
//! to show the picture or the pages and drops everything else, known or unknown, so metadata
//! a future phone invents is dropped too. A file whose structure cannot be walked to the end
//! is refused ([`Unreadable`]), never stored as sent. Nothing is decoded or re-encoded:
//! the picture's coded data is copied byte for byte, so cleaning costs one pass over the file,
//! no more memory than a second copy of it, and no loss of quality.
//!
//! Decisions:
//! - **JPEG** keeps SOI, the frame, tables, scans and EOI; JFIF (APP0) rewritten without its
//!   thumbnail, Adobe (APP14) cut to its fixed 12 bytes (decoders need its colour transform).
//!   Every other APPn goes: EXIF, XMP, IPTC/Photoshop, MPF (the secondary images), ICC. EXIF
//!   is replaced by a minimal EXIF holding only the Orientation tag, when it says the photo
//!   is rotated, so a photo taken upright is still shown upright. COM goes; so does anything
//!   after EOI (motion-photo videos, Samsung trailers, appended files).
//! - **ICC profiles are dropped**, in every format. A profile identifies no person in the
//!   usual case, but it carries free-text fields (description, copyright, device model) that
//!   calibration tools fill in with user and machine names. A complaint photo must show what
//!   happened, not exact colour: a wide-gamut photo shown as sRGB is a little less saturated.
//! - **PNG** keeps the critical chunks and the colour and layout chunks that hold numbers only
//!   (tRNS, gAMA, cHRM, sRGB, sBIT, bKGD, pHYs, hIST, cICP, mDCV, cLLI) and APNG's frames;
//!   tEXt, zTXt, iTXt, eXIf, tIME, iCCP, sPLT and every unknown ancillary chunk go. An unknown
//!   critical chunk cannot be shown, so the file is refused.
//! - **WebP** keeps the image chunks (VP8, VP8L, ALPH, ANIM, ANMF with only its image
//!   sub-chunks) and VP8X with its ICC, EXIF and XMP flags cleared; EXIF, XMP, ICCP and
//!   unknown chunks go, and the RIFF size is rewritten.
//! - **PDF** is re-serialised with `lopdf`: the trailer's /Info and /ID, every /Metadata and
//!   /PieceInfo entry, annotation authors (/T outside form fields) and embedded files (/EF)
//!   are removed, JPEG images inside are cleaned as above, then every object no longer
//!   reachable from the trailer is pruned and the document is written as one revision, so
//!   old revisions and orphaned objects do not survive. A PDF that needs a password to open
//!   cannot be cleaned and is refused.

use thiserror::Error;

mod jpeg;
mod pdf;
mod png;
mod webp;

/// A file that could not be walked to its end, so could not be cleaned.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{format} could not be cleaned: {reason}")]
pub struct Unreadable {
    pub format: &'static str,
    pub reason: String,
}

impl Unreadable {
    fn new(format: &'static str, reason: impl Into<String>) -> Self {
        Unreadable { format, reason: reason.into() }
    }
}

/// The file without its metadata, for a type [`super::sniff`] recognised.
pub fn strip(mime_type: &str, data: &[u8]) -> Result<Vec<u8>, Unreadable> {
    match mime_type {
        "image/jpeg" => jpeg::strip(data).map_err(|r| Unreadable::new("JPEG", r)),
        "image/png" => png::strip(data).map_err(|r| Unreadable::new("PNG", r)),
        "image/webp" => webp::strip(data).map_err(|r| Unreadable::new("WebP", r)),
        "application/pdf" => pdf::strip(data).map_err(|r| Unreadable::new("PDF", r)),
        other => Err(Unreadable::new("file", format!("no cleaner for {other}"))),
    }
}

#[cfg(any(test, feature = "test-util"))]
pub mod fixtures;

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{DynamicImage, ImageFormat, RgbImage};

    use super::fixtures::{self, canaries_in, contains};
    use super::*;

    /// A real photo: a gradient, so the coded data is not trivial.
    fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
        let picture = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 256) as u8])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(picture).write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn pixels(data: &[u8]) -> Vec<u8> {
        image::load_from_memory(data).expect("the cleaned file decodes").to_rgb8().into_raw()
    }

    fn png_chunk_names(data: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        let mut pos = 8;
        while pos + 8 <= data.len() {
            let length = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
            names.push(String::from_utf8_lossy(&data[pos + 4..pos + 8]).into_owned());
            pos += 12 + length;
        }
        names
    }

    #[test]
    fn a_phone_photo_loses_its_owner_position_and_comments_and_still_shows_the_same_picture() {
        let clean = encoded(ImageFormat::Jpeg, 64, 48);
        let sent = fixtures::jpeg_with_metadata(&clean, 1);
        assert_eq!(canaries_in(&sent).len(), 8, "positive control: {:?}", canaries_in(&sent));
        assert!(contains(&sent, &fixtures::GPS_LATITUDE_DEGREES));

        let kept = strip("image/jpeg", &sent).unwrap();
        assert_eq!(canaries_in(&kept), Vec::<&str>::new());
        assert!(!contains(&kept, &fixtures::GPS_LATITUDE_DEGREES), "GPS rationals");
        assert!(
            !contains(&kept, b"Exif") && !contains(&kept, b"ICC_PROFILE") && !contains(&kept, b"Photoshop")
        );
        assert!(kept.ends_with(&[0xFF, 0xD9]), "nothing after EOI");
        assert_eq!(pixels(&kept), pixels(&clean), "the coded picture is copied byte for byte");
        assert_eq!(strip("image/jpeg", &kept).unwrap(), kept, "cleaning twice changes nothing");
    }

    #[test]
    fn a_rotated_photo_keeps_its_orientation_and_nothing_else_of_its_exif() {
        let clean = encoded(ImageFormat::Jpeg, 32, 16);
        let kept = strip("image/jpeg", &fixtures::jpeg_with_metadata(&clean, 6)).unwrap();
        assert_eq!(canaries_in(&kept), Vec::<&str>::new());
        let at = kept.windows(6).position(|w| w == b"Exif\0\0").expect("an EXIF segment");
        assert_eq!(u16::from_be_bytes([kept[at - 2], kept[at - 1]]), 2 + 32, "one IFD entry, no more");
        assert_eq!(jpeg::exif_orientation(&kept[at + 6..]), Some(6));
        assert_eq!(pixels(&kept), pixels(&clean));
        assert_eq!(strip("image/jpeg", &kept).unwrap(), kept);
        // An upright photo needs no EXIF at all.
        let upright = strip("image/jpeg", &fixtures::jpeg_with_metadata(&clean, 1)).unwrap();
        assert!(!contains(&upright, b"Exif"));
    }

    #[test]
    fn a_png_keeps_its_picture_chunks_only() {
        let clean = encoded(ImageFormat::Png, 40, 30);
        let sent = fixtures::png_with_metadata(&clean);
        assert_eq!(canaries_in(&sent).len(), 8, "positive control: {:?}", canaries_in(&sent));
        let kept = strip("image/png", &sent).unwrap();
        assert_eq!(canaries_in(&kept), Vec::<&str>::new());
        let names = png_chunk_names(&kept);
        assert!(names.iter().all(|n| ["IHDR", "IDAT", "IEND"].contains(&n.as_str())), "{names:?}");
        assert_eq!(kept, clean, "an encoder's plain PNG is exactly what is left");
        assert_eq!(pixels(&kept), pixels(&clean));
        assert_eq!(strip("image/png", &kept).unwrap(), kept);
    }

    #[test]
    fn a_webp_loses_exif_xmp_and_icc_and_its_flags_say_so() {
        let clean = encoded(ImageFormat::WebP, 24, 20);
        let sent = fixtures::webp_with_metadata(&clean, 24, 20);
        assert_eq!(canaries_in(&sent).len(), 7, "positive control: {:?}", canaries_in(&sent));
        let kept = strip("image/webp", &sent).unwrap();
        assert_eq!(canaries_in(&kept), Vec::<&str>::new());
        assert!(!contains(&kept, b"EXIF") && !contains(&kept, b"XMP ") && !contains(&kept, b"ICCP"));
        assert_eq!(&kept[12..16], b"VP8X");
        assert_eq!(kept[20] & 0x2C, 0, "no ICC, EXIF or XMP flag");
        assert_eq!(u32::from_le_bytes(kept[4..8].try_into().unwrap()) as usize, kept.len() - 8);
        assert_eq!(pixels(&kept), pixels(&clean));
        assert_eq!(strip("image/webp", &kept).unwrap(), kept);
        assert_eq!(strip("image/webp", &clean).unwrap(), clean, "a plain WebP is left as it is");
    }

    #[test]
    fn a_pdf_loses_info_xmp_ids_authors_embedded_files_and_old_revisions() {
        let scan = fixtures::jpeg_with_metadata(&encoded(ImageFormat::Jpeg, 16, 16), 1);
        let sent = fixtures::pdf_with_metadata(&scan);
        let planted = canaries_in(&sent);
        for c in [fixtures::PDF_AUTHOR, fixtures::PDF_OLD_AUTHOR, fixtures::PDF_TITLE, fixtures::XMP_CREATOR]
        {
            assert!(planted.contains(&c), "positive control: {c} in {planted:?}");
        }
        assert!(Document::load_mem(&sent).is_ok(), "the fixture is a PDF lopdf reads");

        let kept = strip("application/pdf", &sent).unwrap();
        assert_eq!(canaries_in(&kept), Vec::<&str>::new());
        assert!(!contains(&kept, b"KANARI"), "{}", String::from_utf8_lossy(&kept));
        assert!(contains(&kept, fixtures::PDF_PAGE_TEXT.as_bytes()), "the page's text stays");
        let doc = Document::load_mem(&kept).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        assert!(!doc.trailer.has(b"Info") && !doc.trailer.has(b"ID") && !doc.trailer.has(b"Prev"));
        assert_eq!(kept.windows(5).filter(|w| w == b"%%EOF").count(), 1, "one revision");
        assert!(strip("application/pdf", &kept).unwrap() == kept, "cleaning twice changes nothing");
    }

    use lopdf::Document;

    #[test]
    fn mangled_pdfs_whose_page_trees_lead_to_no_page_are_refused_not_stored_unreadable() {
        // Found by fuzz/attachment_metadata: files lopdf repairs on the way in whose page tree
        // leads to a stream, or to nothing once cleaned; what would be stored did not open
        // again. The corpus files' first byte picks the format.
        for found in [
            &include_bytes!(
                "../../../../fuzz/corpus/attachment_metadata/pdf-mangled-pages-lost-once-cleaned"
            )[..],
            &include_bytes!("../../../../fuzz/corpus/attachment_metadata/pdf-mangled-page-is-a-stream")[..],
        ] {
            let e = strip("application/pdf", &found[1..]).unwrap_err();
            assert_eq!(e.reason, "no readable pages (locked with a password, or damaged)");
        }
    }

    #[test]
    fn files_that_cannot_be_walked_to_the_end_are_refused() {
        let jpeg = encoded(ImageFormat::Jpeg, 16, 16);
        let png = encoded(ImageFormat::Png, 16, 16);
        let webp = encoded(ImageFormat::WebP, 16, 16);
        let refused = |mime: &str, data: &[u8]| {
            assert!(strip(mime, data).is_err(), "{mime} {:?}", &data[..16.min(data.len())])
        };
        // A JPEG magic number and then anything.
        refused("image/jpeg", b"\xFF\xD8\xFF\xE0 this is not a photo at all, only text");
        refused(
            "image/jpeg",
            &[
                0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
                0xFF, 0xD9,
            ],
        );
        refused("image/jpeg", &jpeg[..jpeg.len() / 4]);
        refused("image/png", &png[..png.len() - 13]);
        let mut bad_crc = png.clone();
        let last = bad_crc.len() - 20;
        bad_crc[last] ^= 0xFF;
        refused("image/png", &bad_crc);
        let mut unknown_critical = png[..33].to_vec();
        unknown_critical.extend(fixtures::png_chunk(b"ZZZZ", b"?"));
        unknown_critical.extend_from_slice(&png[33..]);
        refused("image/png", &unknown_critical);
        refused("image/webp", &webp[..webp.len() - 5]);
        refused("image/webp", b"RIFF\x04\0\0\0WEBP");
        refused("application/pdf", b"%PDF-1.7\nnot a document\n%%EOF");
        refused(
            "application/pdf",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        );
        // A cut-off JPEG that still has its picture data is shown as far as it goes.
        let cut = &jpeg[..jpeg.len() - 2];
        assert!(strip("image/jpeg", cut).unwrap().ends_with(&[0xFF, 0xD9]));
    }
}
