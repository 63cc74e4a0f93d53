//! Golden files for the wire shapes: `tests/fixtures/open311/<name>` holds the exact bytes an
//! answer must have. After a deliberate change of shape, rewrite them with
//! `NTBCARE_BLESS=1 cargo test -p ntbcare-domain open311` and review the diff before keeping it.

use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/open311").join(name)
}

/// The contents of a fixture (an input such as a posted form).
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let p = path(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", p.display()))
}

/// Compare `actual` with the golden file `name`, exactly; on mismatch, fail with the lines
/// that differ.
pub(crate) fn assert_golden(name: &str, actual: &str) {
    let p = path(name);
    if std::env::var_os("NTBCARE_BLESS").is_some() {
        std::fs::write(&p, actual).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        return;
    }
    let expected = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!("cannot read golden file {}: {e}\n(create it with NTBCARE_BLESS=1)", p.display())
    });
    if expected == actual {
        return;
    }
    let (exp, act): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut report = String::new();
    for i in 0..exp.len().max(act.len()) {
        let (e, a) = (exp.get(i), act.get(i));
        if e != a {
            if let Some(e) = e {
                report.push_str(&format!("{:>4} - {e}\n", i + 1));
            }
            if let Some(a) = a {
                report.push_str(&format!("{:>4} + {a}\n", i + 1));
            }
        }
    }
    if report.is_empty() {
        report.push_str("(the lines are equal: the difference is in line endings or the final newline)\n");
    }
    panic!("{name} differs from its golden file ({}):\n{report}", p.display());
}
