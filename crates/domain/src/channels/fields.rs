//! Reading fields of a provider's JSON, with the path of the field in every error.
//!
//! Providers add fields without notice, so unknown fields are ignored; but a field NTB Care
//! needs that is absent or of the wrong type is named exactly (`entry[0].changes[1].value.
//! messages[0].id is missing`), because the person reading the log is debugging a format
//! change, not a citizen's typo. `null` counts as absent.

use serde_json::Value;

use super::ChannelError;
use crate::clock::Timestamp;

/// A JSON value and where it sits in the payload.
#[derive(Clone)]
pub(crate) struct Node<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value) -> Node<'a> {
        Node { value, path: String::new() }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn missing(&self, key: &str) -> ChannelError {
        ChannelError::Malformed(format!("`{}` is missing", self.child_path(key)))
    }

    pub fn wrong(&self, expected: &str) -> ChannelError {
        ChannelError::Malformed(format!("`{}` must be {expected}", self.path))
    }

    /// A field that may be absent.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Node { value, path: self.child_path(key) }),
        }
    }

    /// A field that must be present.
    pub fn req(&self, key: &str) -> Result<Node<'a>, ChannelError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// An object field that may be absent; present but not an object is an error.
    pub fn object(&self, key: &str) -> Result<Option<Node<'a>>, ChannelError> {
        match self.get(key) {
            Some(n) if n.value.is_object() => Ok(Some(n)),
            Some(n) => Err(n.wrong("an object")),
            None => Ok(None),
        }
    }

    pub fn as_str(&self) -> Result<&'a str, ChannelError> {
        self.value.as_str().ok_or_else(|| self.wrong("a string"))
    }

    /// A string field that may be absent; trimmed, and empty counts as absent.
    pub fn opt_str(&self, key: &str) -> Result<Option<String>, ChannelError> {
        match self.get(key) {
            Some(n) => {
                let s = n.as_str()?.trim();
                Ok((!s.is_empty()).then(|| s.to_string()))
            }
            None => Ok(None),
        }
    }

    /// A string field that must be present and non-empty.
    pub fn req_str(&self, key: &str) -> Result<String, ChannelError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// A boolean flag; absent is false.
    pub fn flag(&self, key: &str) -> Result<bool, ChannelError> {
        match self.get(key) {
            Some(n) => n.value.as_bool().ok_or_else(|| n.wrong("true or false")),
            None => Ok(false),
        }
    }

    /// A number field that must be present.
    pub fn req_f64(&self, key: &str) -> Result<f64, ChannelError> {
        let n = self.req(key)?;
        n.value.as_f64().ok_or_else(|| n.wrong("a number"))
    }

    /// The elements of an array field; absent is empty.
    pub fn items(&self, key: &str) -> Result<Vec<Node<'a>>, ChannelError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(n) => match n.value.as_array() {
                Some(items) => Ok(items
                    .iter()
                    .enumerate()
                    .map(|(i, value)| Node { value, path: format!("{}[{i}]", n.path) })
                    .collect()),
                None => Err(n.wrong("an array")),
            },
        }
    }

    /// Unix seconds, as a string (WhatsApp) or a number; may be absent.
    pub fn opt_unix_seconds(&self, key: &str) -> Result<Option<Timestamp>, ChannelError> {
        let Some(n) = self.get(key) else { return Ok(None) };
        let seconds = match n.value {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            Value::Number(x) => x.as_i64(),
            _ => None,
        };
        let seconds = seconds.ok_or_else(|| n.wrong("Unix seconds"))?;
        seconds.checked_mul(1000).map(|ms| Some(Timestamp(ms))).ok_or_else(|| n.wrong("Unix seconds"))
    }

    /// Unix milliseconds as a number (Messenger, Instagram); may be absent.
    pub fn opt_unix_millis(&self, key: &str) -> Result<Option<Timestamp>, ChannelError> {
        let Some(n) = self.get(key) else { return Ok(None) };
        n.value.as_i64().map(|ms| Some(Timestamp(ms))).ok_or_else(|| n.wrong("Unix milliseconds"))
    }
}

/// Coordinates as a chat app shares them; anything off the globe is malformed.
pub(crate) fn coordinates(
    lat: f64,
    lon: f64,
    at: &Node<'_>,
) -> Result<crate::complaint::Coordinates, ChannelError> {
    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
        Ok(crate::complaint::Coordinates { lat, lon })
    } else {
        Err(at.wrong("a latitude and longitude on Earth"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_full_path() {
        let v = json!({"entry": [{"changes": [{"value": {"id": 5}}]}]});
        let root = Node::root(&v);
        let entry = &root.items("entry").unwrap()[0];
        let change = &entry.items("changes").unwrap()[0];
        let value = change.req("value").unwrap();
        assert_eq!(
            value.req_str("id"),
            Err(ChannelError::Malformed("`entry[0].changes[0].value.id` must be a string".into()))
        );
        assert_eq!(
            value.req_str("from"),
            Err(ChannelError::Malformed("`entry[0].changes[0].value.from` is missing".into()))
        );
        assert_eq!(root.items("missing").unwrap().len(), 0);
        assert!(Node::root(&json!({"entry": {}})).items("entry").is_err());
    }

    #[test]
    fn timestamps_read_as_strings_or_numbers() {
        let v = json!({"s": "1749416383", "n": 1749416383, "ms": 1457764197627i64, "bad": "soon", "f": 1.5});
        let root = Node::root(&v);
        assert_eq!(root.opt_unix_seconds("s").unwrap(), Some(Timestamp(1_749_416_383_000)));
        assert_eq!(root.opt_unix_seconds("n").unwrap(), Some(Timestamp(1_749_416_383_000)));
        assert_eq!(root.opt_unix_millis("ms").unwrap(), Some(Timestamp(1_457_764_197_627)));
        assert_eq!(root.opt_unix_seconds("absent").unwrap(), None);
        assert!(root.opt_unix_seconds("bad").is_err());
        assert!(root.opt_unix_millis("f").is_err());
        assert!(Node::root(&json!({"s": i64::MAX})).opt_unix_seconds("s").is_err());
    }
}
