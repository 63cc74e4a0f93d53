//! JPEG (ITU-T T.81 with JFIF and EXIF): a walk over every marker segment to EOI, copying the
//! frame, tables and scans and nothing else (see the module above for what is kept and why).

const SOI: [u8; 2] = [0xFF, 0xD8];
const EOI: [u8; 2] = [0xFF, 0xD9];
const ORIENTATION: u16 = 0x0112;

pub(super) fn strip(data: &[u8]) -> Result<Vec<u8>, &'static str> {
    if !data.starts_with(&SOI) {
        return Err("no start-of-image marker");
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&SOI);
    let mut pos = 2;
    let (mut frame, mut scans, mut orientation_written) = (false, 0usize, false);
    loop {
        if data.get(pos) != Some(&0xFF) {
            // A file cut short after its image data: decoders show what there is, and so do we.
            if pos >= data.len() && scans > 0 {
                out.extend_from_slice(&EOI);
                return Ok(out);
            }
            return Err("expected a marker");
        }
        // Any number of 0xFF fill bytes may precede a marker's code.
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let code = *data.get(pos).ok_or("the file ends inside a marker")?;
        pos += 1;
        match code {
            0xD9 => {
                if !frame || scans == 0 {
                    return Err("no image data");
                }
                // Whatever follows EOI (motion-photo videos, vendor trailers) is not copied.
                out.extend_from_slice(&EOI);
                return Ok(out);
            }
            0x00 | 0xD8 => return Err("a marker out of place"),
            // Markers without a length: TEM and restart markers.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]);
                continue;
            }
            _ => {}
        }
        let length = data.get(pos..pos + 2).ok_or("the file ends inside a segment")?;
        let length = u16::from_be_bytes([length[0], length[1]]) as usize;
        if length < 2 {
            return Err("a segment with an impossible length");
        }
        let end = pos + length;
        let payload = data.get(pos + 2..end).ok_or("a segment runs past the end of the file")?;
        pos = end;
        match code {
            // JFIF: version, density units and density; the thumbnail is dropped.
            0xE0 if payload.starts_with(b"JFIF\0") && payload.len() >= 12 => {
                let mut jfif = payload[..12].to_vec();
                jfif.extend_from_slice(&[0, 0]);
                segment(&mut out, 0xE0, &jfif);
            }
            // EXIF: only the orientation, when the photo is stored rotated.
            0xE1 if payload.starts_with(b"Exif\0\0") => {
                if let Some(o) = exif_orientation(&payload[6..]).filter(|&o| o != 1) {
                    if !orientation_written {
                        segment(&mut out, 0xE1, &minimal_exif(o));
                        orientation_written = true;
                    }
                }
            }
            // Adobe: the colour transform decoders need, in its fixed 12 bytes.
            0xEE if payload.starts_with(b"Adobe") && payload.len() >= 12 => {
                segment(&mut out, 0xEE, &payload[..12])
            }
            // Every other application segment (XMP, ICC, IPTC, MPF, vendors'), and comments.
            0xE0..=0xEF | 0xFE => {}
            // Frames (SOF0-3, 5-7, 9-11, 13-15).
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                frame = true;
                segment(&mut out, code, payload);
            }
            // Tables and scan parameters: DHT, DAC, DNL, DQT, DRI, EXP.
            0xC4 | 0xCC | 0xDB | 0xDC | 0xDD | 0xDF => segment(&mut out, code, payload),
            0xDA => {
                if !frame {
                    return Err("a scan before any frame");
                }
                segment(&mut out, code, payload);
                scans += 1;
                let coded = entropy_coded_len(&data[pos..]);
                out.extend_from_slice(&data[pos..pos + coded]);
                pos += coded;
            }
            // JPGn extensions and reserved markers: nothing a viewer shows.
            _ => {}
        }
    }
}

fn segment(out: &mut Vec<u8>, code: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, code]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// How many bytes of entropy-coded data follow a scan header: up to the next marker, where
/// 0xFF is followed by neither a stuffed 0x00 nor a restart marker.
fn entropy_coded_len(data: &[u8]) -> usize {
    let mut i = 0;
    while let Some(at) = data[i..].iter().position(|&b| b == 0xFF) {
        let ff = i + at;
        match data.get(ff + 1) {
            Some(0x00) | Some(0xD0..=0xD7) => i = ff + 2,
            Some(_) => return ff,
            None => return data.len(),
        }
    }
    data.len()
}

/// The Orientation tag (1-8) of IFD0 in an EXIF TIFF structure, if it has a valid one.
pub(super) fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) })
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let ifd0 = u32_at(4)? as usize;
    let entries = u16_at(ifd0)? as usize;
    (0..entries).find_map(|n| {
        let entry = ifd0.checked_add(2 + 12 * n)?;
        // SHORT (3), one value, stored in the first two bytes of the value field.
        (u16_at(entry)? == ORIENTATION && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}

/// An EXIF segment's payload holding nothing but IFD0 with the Orientation tag.
fn minimal_exif(orientation: u16) -> Vec<u8> {
    let mut e = b"Exif\0\0MM\0*\0\0\0\x08\0\x01".to_vec();
    e.extend_from_slice(&ORIENTATION.to_be_bytes());
    e.extend_from_slice(&[0, 3, 0, 0, 0, 1]);
    e.extend_from_slice(&orientation.to_be_bytes());
    e.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    e
}
