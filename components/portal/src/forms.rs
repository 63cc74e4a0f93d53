//! What a browser posts: `application/x-www-form-urlencoded` fields, or `multipart/form-data`
//! fields and files (the complaint form with its photo). Read here, at the boundary, into one
//! [`Form`]; pages then take fields by name.

/// A file field of a multipart form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePart {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A posted form: text fields in order, and files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    fields: Vec<(String, String)>,
    pub files: Vec<(String, FilePart)>,
}

impl Form {
    /// A field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// A field's value, or "" (to echo back into a form).
    pub fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// A file field that holds a file (browsers send an empty part when none was chosen).
    pub fn file(&self, name: &str) -> Option<&FilePart> {
        self.files.iter().find(|(k, f)| k == name && !f.data.is_empty()).map(|(_, f)| f)
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Form {
        Form { fields: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), files: vec![] }
    }

    /// Parse a body by its content type.
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Form, &'static str> {
        let lower = content_type.to_ascii_lowercase();
        if lower.starts_with("multipart/form-data") {
            let boundary = content_type
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim().trim_matches('"').to_string())
                .ok_or("multipart without a boundary")?;
            parse_multipart(&boundary, body)
        } else {
            Ok(parse_urlencoded(body))
        }
    }
}

/// `a=1&b=two+words`.
pub fn parse_urlencoded(body: &[u8]) -> Form {
    let text = String::from_utf8_lossy(body);
    let fields = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Form { fields, files: vec![] }
}

/// Percent-decoding with `+` as a space, as forms encode.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// RFC 7578 multipart/form-data: parts separated by `--boundary`, each with headers, a blank
/// line and its content.
fn parse_multipart(boundary: &str, body: &[u8]) -> Result<Form, &'static str> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err("bad multipart boundary");
    }
    let delimiter = format!("--{boundary}").into_bytes();
    let mut form = Form::default();
    let mut pos = find(body, &delimiter, 0).ok_or("multipart body without its boundary")?;
    loop {
        pos += delimiter.len();
        if body[pos..].starts_with(b"--") {
            return Ok(form);
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err("malformed multipart delimiter");
        }
        pos += 2;
        let headers_end = find(body, b"\r\n\r\n", pos).ok_or("multipart part without headers")?;
        let headers = String::from_utf8_lossy(&body[pos..headers_end]).into_owned();
        let content_start = headers_end + 4;
        let mut next_delim = delimiter.clone();
        next_delim.splice(0..0, b"\r\n".iter().copied());
        let content_end = find(body, &next_delim, content_start).ok_or("multipart part not closed")?;
        let content = &body[content_start..content_end];
        let mut name = None;
        let mut filename = None;
        let mut content_type = String::from("application/octet-stream");
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else { continue };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(value, "name");
                filename = disposition_param(value, "filename");
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                content_type = value.trim().to_string();
            }
        }
        let name = name.ok_or("multipart part without a name")?;
        match filename {
            Some(filename) => {
                form.files.push((name, FilePart { filename, content_type, data: content.to_vec() }))
            }
            None => form.fields.push((name, String::from_utf8_lossy(content).into_owned())),
        }
        pos = content_end + 2;
    }
}

/// `form-data; name="x"; filename="y.jpg"` → the quoted value of `param`.
fn disposition_param(value: &str, param: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case(param).then(|| v.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_fields_decode() {
        let f = parse_urlencoded(b"description=Jalan+rusak%21&empty=&x=%3Cb%3E");
        assert_eq!(f.get("description"), Some("Jalan rusak!"));
        assert_eq!(f.get("empty"), None);
        assert_eq!(f.get("x"), Some("<b>"));
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nJalan rusak\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"none\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n\
--XyZ--\r\n";
        let f = Form::parse("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(f.get("description"), Some("Jalan rusak"));
        let photo = f.file("photo").unwrap();
        assert_eq!((photo.filename.as_str(), photo.content_type.as_str()), ("a.png", "image/png"));
        assert_eq!(photo.data, b"\x89PNG\r\n\x1a\n");
        assert!(f.file("none").is_none());
        assert!(Form::parse("multipart/form-data", body).is_err());
        assert!(Form::parse("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbroken").is_err());
    }
}
