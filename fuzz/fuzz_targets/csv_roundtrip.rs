//! CSV exports carry citizens' free text (descriptions, addresses, answers): whatever a field
//! holds, a row written by `Csv` reads back to the same fields, so no text can add a column
//! or a row to a spreadsheet (and `parse` never panics on any text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::measures::csv::{self, Csv};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = csv::parse(&text);
    // Fields are separated by the unit separator; rows by the record separator.
    let rows: Vec<Vec<&str>> = text.split('\u{1e}').map(|r| r.split('\u{1f}').collect()).collect();
    let header = ["a", "b"];
    let mut doc = Csv::new(&header);
    for r in &rows {
        doc.row(r.iter().copied());
    }
    let written = String::from_utf8(doc.bytes).expect("CSV is UTF-8");
    assert!(written.starts_with('\u{feff}'));
    let read = csv::parse(&written);
    assert_eq!(read.len(), rows.len() + 1, "a field added or removed a row");
    assert_eq!(read[0], header);
    for (got, want) in read[1..].iter().zip(&rows) {
        assert_eq!(got, want);
    }
});
