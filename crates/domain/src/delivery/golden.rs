//! Golden files for provider requests: `tests/fixtures/delivery/<name>`, each the exact request
//! as text (request line, headers, a blank line, the body and a final newline). A mismatch
//! prints both versions line by line; `UPDATE_GOLDEN=1 cargo test` rewrites the files after a
//! deliberate change, which then shows in review as a diff of the wire format.

use super::providers::ProviderRequest;

/// The request as a golden file shows it.
pub(crate) fn render(request: &ProviderRequest) -> String {
    let mut out = format!("{} {}\n", request.method, request.url);
    for (name, value) in &request.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    out.push_str(std::str::from_utf8(&request.body).expect("request bodies are text"));
    out.push('\n');
    out
}

fn path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/delivery").join(name)
}

pub(crate) fn assert_golden(name: &str, request: &ProviderRequest) {
    let actual = render(request);
    let file = path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, &actual).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", file.display()));
    if expected != actual {
        let mut diff = String::new();
        let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
        for i in 0..e.len().max(a.len()) {
            match (e.get(i), a.get(i)) {
                (Some(x), Some(y)) if x == y => diff.push_str(&format!("  {x}\n")),
                (x, y) => {
                    if let Some(x) = x {
                        diff.push_str(&format!("- {x}\n"));
                    }
                    if let Some(y) = y {
                        diff.push_str(&format!("+ {y}\n"));
                    }
                }
            }
        }
        panic!("{} differs from the request built (- golden, + built):\n{diff}", file.display());
    }
}
