//! WebP (RFC 9649): a RIFF container whose chunks are copied when they hold the picture, with
//! VP8X's flags made to say what is left and the RIFF size rewritten.

/// VP8X flags for chunks that are dropped: ICC profile, EXIF, XMP.
const DROPPED_FLAGS: u8 = 0x20 | 0x08 | 0x04;

pub(super) fn strip(data: &[u8]) -> Result<Vec<u8>, &'static str> {
    if data.len() < 12 || &data[..4] != b"RIFF" || &data[8..12] != b"WEBP" {
        return Err("not a RIFF WebP file");
    }
    let size = u32::from_le_bytes(data[4..8].try_into().expect("four bytes")) as usize;
    // Bytes after the RIFF size are not part of the file and are not copied.
    let riff = data.get(12..size.checked_add(8).ok_or("a bad RIFF size")?).ok_or("the file is cut short")?;
    let mut body = Vec::with_capacity(riff.len());
    let mut image = false;
    let mut first = true;
    for chunk in chunks(riff) {
        let (kind, payload) = chunk?;
        match kind {
            b"VP8X" if first => {
                if payload.len() < 10 {
                    return Err("a VP8X chunk too short");
                }
                let mut vp8x = payload.to_vec();
                vp8x[0] &= !DROPPED_FLAGS;
                put(&mut body, kind, &vp8x);
            }
            b"VP8 " | b"VP8L" => {
                image = true;
                put(&mut body, kind, payload);
            }
            b"ALPH" | b"ANIM" => put(&mut body, kind, payload),
            b"ANMF" => {
                // A frame: its 16-byte header, then its own chunks, of which only image data stays.
                let header = payload.get(..16).ok_or("an ANMF chunk too short")?;
                let mut frame = header.to_vec();
                for sub in chunks(&payload[16..]) {
                    let (kind, payload) = sub?;
                    if matches!(kind, b"ALPH" | b"VP8 " | b"VP8L") {
                        image |= kind != b"ALPH";
                        put(&mut frame, kind, payload);
                    }
                }
                put(&mut body, b"ANMF", &frame);
            }
            // EXIF, XMP, ICCP and every chunk no viewer needs.
            _ => {}
        }
        first = false;
    }
    if !image {
        return Err("no image data");
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend(body);
    Ok(out)
}

type Chunk<'a> = Result<(&'a [u8; 4], &'a [u8]), &'static str>;

/// The chunks of a RIFF body: four-character code, little-endian size, payload, a pad byte
/// after an odd payload.
fn chunks(mut data: &[u8]) -> impl Iterator<Item = Chunk<'_>> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let Some(header) = data.get(..8) else {
            data = &[];
            return Some(Err("a chunk header cut short"));
        };
        let kind: &[u8; 4] = header[..4].try_into().expect("four bytes");
        let size = u32::from_le_bytes(header[4..8].try_into().expect("four bytes")) as usize;
        let Some(payload) = data.get(8..8 + size) else {
            data = &[];
            return Some(Err("a chunk runs past the end of the file"));
        };
        data = data.get(8 + size + size % 2..).unwrap_or(&[]);
        Some(Ok((kind, payload)))
    })
}

fn put(out: &mut Vec<u8>, kind: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}
