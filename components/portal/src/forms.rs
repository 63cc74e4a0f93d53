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

    /// Parse a body by its content type, with the readers intake uses
    /// (`channels::parse_urlencoded`, `upload::parse`), so both ends read forms alike.
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Form, &'static str> {
        match ntbcare_domain::upload::boundary(content_type) {
            Some(boundary) => parse_multipart(&boundary, body),
            None if content_type.to_ascii_lowercase().starts_with("multipart/") => {
                Err("multipart without a boundary")
            }
            None => parse_urlencoded(body),
        }
    }
}

/// `a=1&b=two+words`.
pub fn parse_urlencoded(body: &[u8]) -> Result<Form, &'static str> {
    let fields =
        ntbcare_domain::channels::parse_urlencoded(body).map_err(|_| "the form is not UTF-8 text")?;
    Ok(Form { fields, files: vec![] })
}

/// RFC 7578 multipart/form-data: text fields, and files (parts with a file name).
fn parse_multipart(boundary: &str, body: &[u8]) -> Result<Form, &'static str> {
    let parts = ntbcare_domain::upload::parse(body, boundary).map_err(|_| "malformed multipart body")?;
    let mut form = Form::default();
    for part in parts {
        match part.filename {
            Some(filename) => form.files.push((
                part.name,
                FilePart {
                    filename,
                    content_type: part.content_type.unwrap_or_else(|| "application/octet-stream".into()),
                    data: part.data,
                },
            )),
            None => form.fields.push((part.name, String::from_utf8_lossy(&part.data).into_owned())),
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_fields_decode() {
        let f = parse_urlencoded(b"description=Jalan+rusak%21&empty=&x=%3Cb%3E").unwrap();
        assert_eq!(f.get("description"), Some("Jalan rusak!"));
        assert_eq!(f.get("empty"), None);
        assert_eq!(f.get("x"), Some("<b>"));
        let odd = parse_urlencoded(b"a=100%&b=%zz%4").unwrap();
        assert_eq!((odd.get("a"), odd.get("b")), (Some("100%"), Some("%zz%4")));
        assert!(parse_urlencoded(b"a=%ff%fe").is_err(), "not UTF-8 is refused, not garbled");
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
