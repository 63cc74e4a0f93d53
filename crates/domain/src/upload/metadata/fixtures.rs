//! Files carrying identifying metadata, for the tests of the cleaners (unit and end-to-end).
//!
//! Each function takes a clean, real file (made by an encoder in the test) and writes into it
//! metadata the way cameras, phones and office software do, with canary strings a test then
//! looks for. Written against the formats' specifications, independently of the cleaners.

/// Every canary the fixtures write. None may survive cleaning.
pub const CANARIES: &[&str] = &[
    ARTIST,
    COPYRIGHT,
    GPS_DATUM,
    XMP_CREATOR,
    COMMENT,
    IPTC,
    ICC,
    TRAILER,
    PNG_AUTHOR,
    PNG_ITXT,
    PRIVATE,
    PDF_AUTHOR,
    PDF_CREATOR,
    PDF_OLD_AUTHOR,
    PDF_TITLE,
    PDF_ANNOT_AUTHOR,
    PDF_ORPHAN,
    PDF_EMBEDDED,
    PDF_ID,
];

pub const ARTIST: &str = "KANARI-ARTIST Ruslan Fotografer";
pub const COPYRIGHT: &str = "KANARI-COPYRIGHT Ruslan";
pub const GPS_DATUM: &str = "KANARI-GPS-WGS84";
pub const XMP_CREATOR: &str = "KANARI-XMP-CREATOR";
pub const COMMENT: &str = "KANARI-JPEG-COMMENT";
pub const IPTC: &str = "KANARI-IPTC-BYLINE";
pub const ICC: &str = "KANARI-ICC-DESCRIPTION";
pub const TRAILER: &str = "KANARI-AFTER-EOI";
pub const PNG_AUTHOR: &str = "KANARI-PNG-AUTHOR";
pub const PNG_ITXT: &str = "KANARI-PNG-ITXT";
pub const PRIVATE: &str = "KANARI-PRIVATE-CHUNK";
pub const PDF_AUTHOR: &str = "KANARI-PDF-AUTHOR";
pub const PDF_CREATOR: &str = "KANARI-PDF-CREATOR";
pub const PDF_OLD_AUTHOR: &str = "KANARI-PDF-OLD-REVISION";
/// Written in /Info as UTF-16BE with a byte order mark, as Word and LibreOffice do.
pub const PDF_TITLE: &str = "KANARI-PDF-TITLE";
pub const PDF_ANNOT_AUTHOR: &str = "KANARI-PDF-ANNOT-AUTHOR";
pub const PDF_ORPHAN: &str = "KANARI-PDF-ORPHAN";
pub const PDF_EMBEDDED: &str = "KANARI-PDF-EMBEDDED-FILE";
/// The document /ID, written as hex strings as PDF writers do.
pub const PDF_ID: &str = "KANARI-PDF-ID";
/// Text on the PDF's page: content, which must survive.
pub const PDF_PAGE_TEXT: &str = "Jalan rusak di depan SDN 3";
/// The GPS latitude written (8 deg 35' 12.34" S, Mataram), as its first rational, big-endian.
pub const GPS_LATITUDE_DEGREES: [u8; 8] = [0, 0, 0, 8, 0, 0, 0, 1];

/// The forms a canary can take in a file: as written, UTF-16BE (PDF text strings), hex
/// (PDF hex strings, of the bytes or of UTF-16BE, either case) and base64 (at each of the three alignments).
pub fn encodings(canary: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![canary.as_bytes().to_vec()];
    forms.push(canary.bytes().flat_map(|b| [0, b]).collect());
    for hex in [
        canary.bytes().map(|b| format!("{b:02X}")).collect::<String>(),
        canary.bytes().map(|b| format!("00{b:02X}")).collect::<String>(),
    ] {
        forms.push(hex.clone().into_bytes());
        forms.push(hex.to_lowercase().into_bytes());
    }
    for skip in 0..3 {
        use base64::Engine;
        let mut padded = vec![b'x'; skip];
        padded.extend_from_slice(canary.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(&padded);
        // Only the characters that depend on the canary alone, not on its neighbours.
        let start = (skip * 4).div_ceil(3) + 1;
        let stable = &b64.as_bytes()[start.min(b64.len())..b64.len().saturating_sub(4)];
        if stable.len() >= 8 {
            forms.push(stable.to_vec());
        }
    }
    forms
}

/// The canaries found in `data`, in any of their [`encodings`].
pub fn canaries_in(data: &[u8]) -> Vec<&'static str> {
    CANARIES.iter().copied().filter(|c| encodings(c).iter().any(|form| contains(data, form))).collect()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A TIFF structure as EXIF holds it (big-endian): IFD0 with Orientation, Artist, Copyright
/// and a GPS IFD with latitude and datum.
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    // Layout: header (8), IFD0 at 8 with 4 entries, GPS IFD after it, then the values.
    let ifd0_entries = 4u16;
    let ifd0_len = 2 + 12 * ifd0_entries as usize + 4;
    let gps_at = 8 + ifd0_len;
    let gps_entries = 3u16;
    let gps_len = 2 + 12 * gps_entries as usize + 4;
    let mut values_at = gps_at + gps_len;
    let mut values = Vec::new();
    let put = |values: &mut Vec<u8>, values_at: &mut usize, bytes: &[u8]| -> u32 {
        let at = *values_at;
        values.extend_from_slice(bytes);
        if bytes.len() % 2 == 1 {
            values.push(0);
        }
        *values_at = gps_at + gps_len + values.len();
        at as u32
    };
    let ascii = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        b
    };
    let artist = ascii(ARTIST);
    let copyright = ascii(COPYRIGHT);
    let datum = ascii(GPS_DATUM);
    let artist_at = put(&mut values, &mut values_at, &artist);
    let copyright_at = put(&mut values, &mut values_at, &copyright);
    let datum_at = put(&mut values, &mut values_at, &datum);
    let mut latitude = GPS_LATITUDE_DEGREES.to_vec();
    latitude.extend_from_slice(&[0, 0, 0, 35, 0, 0, 0, 1, 0, 0, 4, 210, 0, 0, 0, 100]);
    let latitude_at = put(&mut values, &mut values_at, &latitude);

    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        let mut e = Vec::with_capacity(12);
        e.extend_from_slice(&tag.to_be_bytes());
        e.extend_from_slice(&kind.to_be_bytes());
        e.extend_from_slice(&count.to_be_bytes());
        e.extend_from_slice(&value.to_be_bytes());
        e
    };
    let mut t = b"MM\0*\0\0\0\x08".to_vec();
    t.extend_from_slice(&ifd0_entries.to_be_bytes());
    t.extend(entry(0x0112, 3, 1, (orientation as u32) << 16));
    t.extend(entry(0x013B, 2, artist.len() as u32, artist_at));
    t.extend(entry(0x8298, 2, copyright.len() as u32, copyright_at));
    t.extend(entry(0x8825, 4, 1, gps_at as u32));
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(&gps_entries.to_be_bytes());
    t.extend(entry(0x0001, 2, 2, u32::from_be_bytes([b'S', 0, 0, 0])));
    t.extend(entry(0x0002, 5, 3, latitude_at));
    t.extend(entry(0x0012, 2, datum.len() as u32, datum_at));
    t.extend_from_slice(&[0; 4]);
    t.extend(values);
    t
}

/// An XMP packet naming its creator.
pub fn xmp_packet() -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:creator>{XMP_CREATOR}</dc:creator>\
         </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    )
}

fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// A clean JPEG as a phone writes it: EXIF (Artist, Copyright, GPS, `orientation`), XMP, an
/// ICC profile, Photoshop IRB with IPTC, a comment after the tables, and data after EOI.
pub fn jpeg_with_metadata(clean: &[u8], orientation: u16) -> Vec<u8> {
    assert!(clean.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let mut out = vec![0xFF, 0xD8];
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(exif_tiff(orientation));
    out.extend(jpeg_segment(0xE1, &exif));
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(xmp_packet().as_bytes());
    out.extend(jpeg_segment(0xE1, &xmp));
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend_from_slice(&[0; 128]);
    icc.extend_from_slice(format!("desc{ICC}").as_bytes());
    out.extend(jpeg_segment(0xE2, &icc));
    let mut irb = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    let iptc = [&[0x1C, 0x02, 0x50, 0x00, IPTC.len() as u8][..], IPTC.as_bytes()].concat();
    irb.extend_from_slice(&(iptc.len() as u32).to_be_bytes());
    irb.extend(iptc);
    out.extend(jpeg_segment(0xED, &irb));
    // The clean file's own segments follow, with a comment before its first scan.
    let rest = &clean[2..];
    let sos = rest.windows(2).position(|w| w == [0xFF, 0xDA]).expect("a scan");
    out.extend_from_slice(&rest[..sos]);
    out.extend(jpeg_segment(0xFE, COMMENT.as_bytes()));
    out.extend_from_slice(&rest[sos..]);
    out.extend_from_slice(TRAILER.as_bytes());
    out
}

/// CRC-32 (ISO-HDLC) as PNG uses it, bit by bit: fixtures only.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

/// A clean PNG with tEXt Author, iTXt, eXIf, tIME, iCCP and a private chunk, before and
/// after the image data.
pub fn png_with_metadata(clean: &[u8]) -> Vec<u8> {
    assert!(clean.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let ihdr_end = 8 + 12 + 13;
    let mut out = clean[..ihdr_end].to_vec();
    out.extend(png_chunk(b"tEXt", format!("Author\0{PNG_AUTHOR}").as_bytes()));
    out.extend(png_chunk(b"iTXt", format!("Description\0\0\0id\0Keterangan\0{PNG_ITXT}").as_bytes()));
    let mut iccp = b"profil\0\0".to_vec();
    iccp.extend_from_slice(ICC.as_bytes()); // not valid zlib: a reader would refuse the profile
    out.extend(png_chunk(b"iCCP", &iccp));
    out.extend(png_chunk(b"eXIf", &exif_tiff(1)));
    out.extend(png_chunk(b"tIME", &[0x07, 0xEA, 12, 7, 9, 30, 0]));
    let iend = clean.len() - 12;
    out.extend_from_slice(&clean[ihdr_end..iend]);
    out.extend(png_chunk(b"prVt", PRIVATE.as_bytes()));
    out.extend_from_slice(&clean[iend..]);
    out.extend_from_slice(TRAILER.as_bytes());
    out
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A simple (lossy or lossless) WebP made extended: VP8X with ICC, EXIF and XMP flags, an
/// ICCP chunk, the image, EXIF and XMP chunks, and a private chunk.
pub fn webp_with_metadata(clean: &[u8], width: u32, height: u32) -> Vec<u8> {
    assert!(clean.len() > 20 && &clean[..4] == b"RIFF" && &clean[8..12] == b"WEBP", "a WebP");
    let image = &clean[12..];
    assert!(&image[..4] == b"VP8 " || &image[..4] == b"VP8L", "a simple WebP");
    let mut vp8x = vec![0x20 | 0x08 | 0x04, 0, 0, 0];
    vp8x.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend(riff_chunk(b"ICCP", format!("{:0>128}{ICC}", "").as_bytes()));
    body.extend_from_slice(image);
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(exif_tiff(1));
    body.extend(riff_chunk(b"EXIF", &exif));
    body.extend(riff_chunk(b"XMP ", xmp_packet().as_bytes()));
    body.extend(riff_chunk(b"prVt", PRIVATE.as_bytes()));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out.extend_from_slice(TRAILER.as_bytes());
    out
}

/// A one-page PDF as office software and scanners leave them: /Info with author, creator and
/// a UTF-16BE title, an XMP stream on the catalog, a document /ID, an annotation with its
/// author, an embedded file, an orphaned object, a scanned JPEG (`scan`, with EXIF) drawn on
/// the page, and an incremental update whose old revision still holds the earlier author.
pub fn pdf_with_metadata(scan: &[u8]) -> Vec<u8> {
    let title: String =
        std::iter::once("FEFF".to_string()).chain(PDF_TITLE.bytes().map(|b| format!("00{b:02X}"))).collect();
    let content = format!("q 40 0 0 40 72 600 cm /Im1 Do Q BT /F1 12 Tf 72 712 Td ({PDF_PAGE_TEXT}) Tj ET");
    let xmp = xmp_packet();
    let mut objects: Vec<(u32, Vec<u8>)> = vec![
        (1, b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /Names << /EmbeddedFiles << /Names [(bukti.txt) 9 0 R] >> >> >>".to_vec()),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
        (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Annots [7 0 R] /PieceInfo << /Aplikasi << /Private (KANARI-PDF-CREATOR) >> >> /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 11 0 R >> >> >>".to_vec()),
        (4, stream("", content.as_bytes())),
        (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec()),
        (6, stream("/Type /Metadata /Subtype /XML", xmp.as_bytes())),
        (7, format!("<< /Type /Annot /Subtype /Text /Rect [72 650 90 668] /Contents (Lihat foto) /T ({PDF_ANNOT_AUTHOR}) >>").into_bytes()),
        (8, format!("<< /Author ({PDF_OLD_AUTHOR}) /Creator ({PDF_CREATOR}) >>").into_bytes()),
        (9, b"<< /Type /Filespec /F (bukti.txt) /EF << /F 10 0 R >> >>".to_vec()),
        (10, stream("/Type /EmbeddedFile", PDF_EMBEDDED.as_bytes())),
        (11, stream("/Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", scan)),
        (12, format!("<< /Catatan ({PDF_ORPHAN}) >>").into_bytes()),
    ];
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let id_hex: String = PDF_ID.bytes().map(|b| format!("{b:02X}")).collect();
    let id = format!("<{id_hex}> <{id_hex}>");
    let first_xref =
        write_revision(&mut out, &objects, &format!("/Size 13 /Root 1 0 R /Info 8 0 R /ID [{id}]"), None);
    // The update: a new /Info; the old one (object 8) stays in the file's first revision.
    objects = vec![(
        13,
        format!("<< /Author ({PDF_AUTHOR}) /Creator ({PDF_CREATOR}) /Title <{title}> >>").into_bytes(),
    )];
    write_revision(
        &mut out,
        &objects,
        &format!("/Size 14 /Root 1 0 R /Info 13 0 R /ID [{id}]"),
        Some(first_xref),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut s = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

/// Append objects, a cross-reference section and a trailer; the section's offset.
fn write_revision(
    out: &mut Vec<u8>,
    objects: &[(u32, Vec<u8>)],
    trailer: &str,
    prev: Option<usize>,
) -> usize {
    let mut offsets = Vec::new();
    for (n, body) in objects {
        offsets.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    if prev.is_none() {
        out.extend_from_slice(format!("0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for (_, at) in &offsets {
            out.extend_from_slice(format!("{at:010} 00000 n \n").as_bytes());
        }
    } else {
        for (n, at) in &offsets {
            out.extend_from_slice(format!("{n} 1\n{at:010} 00000 n \n").as_bytes());
        }
    }
    let prev = prev.map(|p| format!(" /Prev {p}")).unwrap_or_default();
    out.extend_from_slice(format!("trailer\n<< {trailer}{prev} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    xref
}
