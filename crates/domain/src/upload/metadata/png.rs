//! PNG (ISO/IEC 15948, PNG third edition): chunks copied whole when they are needed to show
//! the picture and hold no text; every chunk's CRC checked, nothing after IEND copied.

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Critical chunks, then the ancillary chunks that hold only numbers a viewer uses (colour,
/// transparency, pixel size, HDR levels) and APNG's animation frames.
const KEPT: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs",
    b"hIST", b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
];

pub(super) fn strip(data: &[u8]) -> Result<Vec<u8>, &'static str> {
    if !data.starts_with(SIGNATURE) {
        return Err("no PNG signature");
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(SIGNATURE);
    let mut pos = SIGNATURE.len();
    let mut image_data = false;
    loop {
        let header = data.get(pos..pos + 8).ok_or("the file ends before IEND")?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind: &[u8; 4] = header[4..8].try_into().expect("four bytes");
        if length > i32::MAX as usize || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err("a malformed chunk");
        }
        let end = (pos + 12).checked_add(length).ok_or("a chunk runs past the end of the file")?;
        let chunk = data.get(pos..end).ok_or("a chunk runs past the end of the file")?;
        let stored_crc = u32::from_be_bytes(chunk[chunk.len() - 4..].try_into().expect("four bytes"));
        if crc32fast::hash(&chunk[4..chunk.len() - 4]) != stored_crc {
            return Err("a chunk with a wrong CRC");
        }
        if pos == SIGNATURE.len() && kind != b"IHDR" {
            return Err("IHDR is not the first chunk");
        }
        pos = end;
        if KEPT.contains(&kind) {
            out.extend_from_slice(chunk);
        } else if kind[0].is_ascii_uppercase() {
            // A critical chunk no viewer knows: the picture cannot be shown.
            return Err("an unknown critical chunk");
        }
        match kind {
            b"IDAT" => image_data = true,
            b"IEND" if image_data => return Ok(out),
            b"IEND" => return Err("no image data"),
            _ => {}
        }
    }
}
