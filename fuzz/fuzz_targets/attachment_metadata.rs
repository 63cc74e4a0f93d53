//! The metadata cleaners (`upload::metadata::strip`) over any bytes: byte 1 picks the format
//! (JPEG, PNG, WebP, PDF), the rest is the file. A file that is accepted comes back as the
//! same type, holding only what the allow-lists keep (no APPn but JFIF, a one-entry EXIF and
//! Adobe, no COM; only picture chunks; no EXIF, XMP or ICC in WebP and flags that say so),
//! at most a few bytes longer, and a cleaned image cleans to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::upload::{metadata, sniff};

const FORMATS: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "application/pdf"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else { return };
    let mime = FORMATS[pick as usize % FORMATS.len()];
    let Ok(clean) = metadata::strip(mime, file) else { return };
    if mime == "application/pdf" {
        // lopdf repairs what it can, so a second pass may tidy more; it must still read.
        assert!(clean.starts_with(b"%PDF-"));
        metadata::strip(mime, &clean).expect("a cleaned PDF reads again");
        return;
    }
    assert_eq!(sniff(&clean).map(|(_, m)| m), Some(mime), "the type changed");
    assert!(clean.len() <= file.len() + 8, "grew from {} to {}", file.len(), clean.len());
    assert_eq!(metadata::strip(mime, &clean).as_ref(), Ok(&clean), "cleaning twice changed it");
    match mime {
        "image/jpeg" => jpeg_keeps_only_what_decoding_needs(&clean),
        "image/png" => png_keeps_only_picture_chunks(&clean),
        _ => webp_has_no_metadata(&clean),
    }
});

fn jpeg_keeps_only_what_decoding_needs(jpeg: &[u8]) {
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let code = jpeg[pos + 1];
        if code == 0xDA || code == 0xD9 {
            return; // the segments before the first scan are checked; the walk does the rest
        }
        let length = u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]) as usize;
        let payload = &jpeg[pos + 4..pos + 2 + length];
        match code {
            0xE0 => assert!(payload.starts_with(b"JFIF\0") && payload.len() == 14, "APP0 {payload:?}"),
            0xE1 => assert!(payload.starts_with(b"Exif\0\0") && payload.len() == 32, "APP1 {payload:?}"),
            0xEE => assert!(payload.starts_with(b"Adobe") && payload.len() == 12, "APP14 {payload:?}"),
            0xE2..=0xED | 0xEF | 0xFE => panic!("segment {code:02X} kept"),
            _ => {}
        }
        pos += 2 + length;
    }
}

fn png_keeps_only_picture_chunks(png: &[u8]) {
    const KEPT: &[&[u8]] = &[
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs",
        b"hIST", b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
    ];
    let mut pos = 8;
    while pos + 12 <= png.len() {
        let length = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        assert!(KEPT.contains(&kind), "chunk {:?} kept", String::from_utf8_lossy(kind));
        pos += 12 + length;
    }
    assert_eq!(pos, png.len(), "nothing after IEND");
}

fn webp_has_no_metadata(webp: &[u8]) {
    assert_eq!(u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize + 8, webp.len(), "RIFF size");
    let mut pos = 12;
    while pos + 8 <= webp.len() {
        let kind = &webp[pos..pos + 4];
        let size = u32::from_le_bytes(webp[pos + 4..pos + 8].try_into().unwrap()) as usize;
        assert!(
            !matches!(kind, b"EXIF" | b"XMP " | b"ICCP"),
            "chunk {:?} kept",
            String::from_utf8_lossy(kind)
        );
        if kind == b"VP8X" {
            assert_eq!(webp[pos + 8] & 0x2C, 0, "VP8X still claims ICC, EXIF or XMP");
        }
        pos += 8 + size + size % 2;
    }
}
