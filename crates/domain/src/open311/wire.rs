//! One document tree, two wire formats.
//!
//! Every Open311 answer is built once as a [`Node`] tree and written either as XML or as JSON,
//! so the two formats can never disagree about which fields an answer carries (a confidential
//! complaint withheld in one format and shown in the other would be a leak). Both writers
//! indent by two spaces and end with a newline: the answers are small, and golden files that
//! diff line by line are worth more than the bytes.
//!
//! XML is written by hand rather than with a crate: element names are all fixed by the spec,
//! so the only hard part is text content, which [`escape_xml`] handles (the five special
//! characters, characters XML 1.0 forbids, and carriage returns a parser would otherwise fold).

/// A value in an Open311 document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Text(String),
    Bool(bool),
    Int(i64),
    Number(f64),
    /// Fields in the spec's order. A field whose value is absent is simply not listed.
    Object(Vec<(&'static str, Node)>),
    /// A JSON array; in XML, one `<item>` element per entry.
    List {
        item: &'static str,
        entries: Vec<Node>,
    },
}

impl Node {
    pub(crate) fn text(s: impl Into<String>) -> Node {
        Node::Text(s.into())
    }
}

/// The XML declaration the spec asks for before the root element.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// The document as XML, under the root element `root`.
pub(crate) fn to_xml(root: &'static str, node: &Node) -> String {
    let mut out = String::from(XML_DECLARATION);
    write_xml_element(&mut out, root, node, 0);
    out
}

fn write_xml_element(out: &mut String, name: &str, node: &Node, depth: usize) {
    indent(out, depth);
    match node {
        Node::Object(fields) => {
            open_tag(out, name);
            out.push('\n');
            for (field, value) in fields {
                write_xml_element(out, field, value, depth + 1);
            }
            indent(out, depth);
            close_tag(out, name);
        }
        Node::List { item, entries } => {
            open_tag(out, name);
            out.push('\n');
            for entry in entries {
                write_xml_element(out, item, entry, depth + 1);
            }
            indent(out, depth);
            close_tag(out, name);
        }
        scalar => {
            open_tag(out, name);
            out.push_str(&escape_xml(&scalar_text(scalar)));
            close_tag(out, name);
        }
    }
    out.push('\n');
}

fn scalar_text(node: &Node) -> String {
    match node {
        Node::Text(s) => s.clone(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Number(n) => json_number(*n),
        Node::Object(_) | Node::List { .. } => unreachable!("containers are not scalars"),
    }
}

fn open_tag(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close_tag(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Text made safe for XML element content (and attribute values).
///
/// Besides the five special characters, XML 1.0 cannot carry most C0 control characters at
/// all, not even as character references, so they become U+FFFD; a complaint pasted from a
/// word processor may hold a stray form feed. A carriage return is written as `&#13;`, because
/// a parser folds a literal CR LF into LF and the description would not survive a round trip.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The document as JSON.
pub(crate) fn to_json(node: &Node) -> String {
    let mut out = String::new();
    write_json(&mut out, node, 0);
    out.push('\n');
    out
}

fn write_json(out: &mut String, node: &Node, depth: usize) {
    match node {
        Node::Text(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Number(n) => out.push_str(&json_number(*n)),
        Node::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for (i, (name, value)) in fields.iter().enumerate() {
                indent(out, depth + 1);
                out.push_str(&serde_json::Value::from(*name).to_string());
                out.push_str(": ");
                write_json(out, value, depth + 1);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push('}');
        }
        Node::List { entries, .. } => {
            if entries.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, entry) in entries.iter().enumerate() {
                indent(out, depth + 1);
                write_json(out, entry, depth + 1);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push(']');
        }
    }
}

/// A finite number as JSON writes it (coordinates are always finite: they were checked on the
/// way in). Not-a-number has no JSON form, so it would become `null`.
fn json_number(n: f64) -> String {
    serde_json::Value::from(n).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_special_characters() {
        assert_eq!(escape_xml(r#"a<b & c>"d" 'e'"#), "a&lt;b &amp; c&gt;&quot;d&quot; &apos;e&apos;");
    }

    #[test]
    fn already_escaped_text_is_escaped_again() {
        // The description is plain text, not markup: `&amp;` typed by a citizen is what they typed.
        assert_eq!(escape_xml("&amp;"), "&amp;amp;");
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        assert_eq!(escape_xml("a\u{0}b\u{c}c\u{1b}d"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d");
        assert_eq!(escape_xml("tab\tnew\nline\r\n"), "tab\tnew\nline&#13;\n");
        assert_eq!(escape_xml("Jalan rusak — 🚧 ü"), "Jalan rusak — 🚧 ü");
    }

    #[test]
    fn absent_fields_and_empty_lists_render_in_both_formats() {
        let doc = Node::List { item: "request", entries: vec![] };
        assert_eq!(
            to_xml("service_requests", &doc),
            format!("{XML_DECLARATION}<service_requests>\n</service_requests>\n")
        );
        assert_eq!(to_json(&doc), "[]\n");
        let doc = Node::Object(vec![]);
        assert_eq!(to_json(&doc), "{}\n");
    }

    #[test]
    fn json_text_is_escaped_by_serde() {
        let doc = Node::Object(vec![("description", Node::text("kata \"kutip\"\n\\ </script>"))]);
        assert_eq!(to_json(&doc), "{\n  \"description\": \"kata \\\"kutip\\\"\\n\\\\ </script>\"\n}\n");
    }

    #[test]
    fn numbers_are_written_the_same_in_both_formats() {
        let doc = Node::Object(vec![("lat", Node::Number(-8.5833)), ("long", Node::Number(116.0))]);
        assert!(to_xml("r", &doc).contains("<lat>-8.5833</lat>\n  <long>116.0</long>"));
        assert!(to_json(&doc).contains("\"lat\": -8.5833,\n  \"long\": 116.0\n"));
    }
}
