//! CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads Indonesian text as
//! UTF-8), RFC 4180 quoting, CRLF line ends, and stable English column names.

use crate::complaint::{Complaint, Privacy};
use crate::directory::Directory;
use crate::keys;
use crate::store::{decode_counter, KeyValue, StoreError};

use super::facts::{
    answered_in_time, closed_at, first_answer_at, followed_up, verified_at, working_mwd, Context, Month,
};

/// A CSV document being written into memory.
pub struct Csv {
    pub bytes: Vec<u8>,
}

impl Csv {
    /// A document with the byte-order mark and the header row.
    pub fn new(columns: &[&str]) -> Csv {
        let mut csv = Csv { bytes: Vec::with_capacity(1 << 16) };
        csv.bytes.extend_from_slice("\u{feff}".as_bytes());
        csv.row(columns.iter().copied());
        csv
    }

    /// One row; a field is quoted when it holds a comma, a quote, CR or LF, and its quotes
    /// are doubled.
    pub fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.bytes.push(b',');
            }
            if f.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
                self.bytes.push(b'"');
                for part in f.split('"').enumerate() {
                    if part.0 > 0 {
                        self.bytes.extend_from_slice(b"\"\"");
                    }
                    self.bytes.extend_from_slice(part.1.as_bytes());
                }
                self.bytes.push(b'"');
            } else {
                self.bytes.extend_from_slice(f.as_bytes());
            }
        }
        self.bytes.extend_from_slice(b"\r\n");
    }
}

/// Complaint records a page at a time, read by the ticket numbering of each year, oldest
/// first (the order of `tally::for_each_complaint`), for exports that send each page before
/// reading the next.
pub struct ComplaintPages {
    /// (year, next sequence number, last sequence number) still to read.
    years: std::collections::VecDeque<(i32, u64, u64)>,
}

impl ComplaintPages {
    /// Records per page.
    pub const PAGE: u64 = 500;

    /// The pages of `years`, as far as each year's ticket counter reads now.
    pub fn new(store: &impl KeyValue, years: std::ops::RangeInclusive<i32>) -> Result<Self, StoreError> {
        let years: Vec<i32> = years.collect();
        let counter_keys: Vec<String> = years.iter().map(|y| keys::ticket_sequence(*y)).collect();
        let counters = store.get_many(&counter_keys)?;
        let mut out = std::collections::VecDeque::new();
        for ((year, key), value) in years.iter().zip(&counter_keys).zip(counters) {
            let counter = decode_counter(key, value.as_deref())?.max(0) as u64;
            if counter > 0 {
                out.push_back((*year, 1, counter));
            }
        }
        Ok(ComplaintPages { years: out })
    }

    /// The next page of records (numbers without a record are skipped; a page may be empty),
    /// or `None` when every year is read.
    pub fn next_page(&mut self, store: &impl KeyValue) -> Result<Option<Vec<Complaint>>, StoreError> {
        let Some((year, seq, counter)) = self.years.front_mut() else { return Ok(None) };
        let (year, first) = (*year, *seq);
        let last = (first + Self::PAGE - 1).min(*counter);
        *seq = last + 1;
        if *seq > *counter {
            self.years.pop_front();
        }
        let tickets = crate::intake::issued(store, year, first..=last)?;
        let keys: Vec<String> = tickets.iter().flatten().map(keys::complaint).collect();
        let mut page = Vec::with_capacity(keys.len());
        for (k, value) in keys.iter().zip(store.get_many(&keys)?) {
            let Some(value) = value else { continue };
            page.push(
                serde_json::from_slice(&value)
                    .map_err(|e| StoreError::Corrupt { key: k.clone(), reason: e.to_string() })?,
            );
        }
        Ok(Some(page))
    }
}

/// The columns of the per-complaint export, in order. Never rename or reorder: add at the end.
pub const COMPLAINT_COLUMNS: [&str; 25] = [
    "ticket",
    "received_at",
    "month",
    "channel",
    "region_code",
    "region_name",
    "category",
    "category_name",
    "unit",
    "unit_name",
    "status",
    "privacy",
    "title",
    "verified_at",
    "first_answer_at",
    "closed_at",
    "working_days_to_verification",
    "working_days_to_first_answer",
    "working_days_to_closure",
    "answered_within_deadline",
    "followed_up",
    "escalations",
    "reopened",
    "rating",
    "resolved",
];

fn wd(mwd: i64) -> String {
    format!("{}.{:03}", mwd / 1000, mwd % 1000)
}

/// Text a citizen wrote, made safe to open in a spreadsheet: a cell starting with `=`, `+`,
/// `-`, `@`, tab or CR is a formula to Excel and LibreOffice (`=HYPERLINK(...)` sends
/// whoever clicks it to the writer's site), so it gets a leading `'`, which shows it as text.
pub fn not_a_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// One complaint's row: no reporter identity, no description, and for a confidential
/// complaint no title.
pub fn complaint_row(c: &Complaint, dir: &Directory, ctx: &Context) -> Vec<String> {
    let region = c.location.region_code.regency();
    let at = |t: Option<crate::clock::Timestamp>| t.map(|t| t.to_rfc3339_wita()).unwrap_or_default();
    let dur =
        |t: Option<crate::clock::Timestamp>| t.map(|t| wd(working_mwd(c, t, ctx).max(0))).unwrap_or_default();
    let (v, a, cl) = (verified_at(c), first_answer_at(c), closed_at(c));
    let yes_no = |b: bool| if b { "ya" } else { "tidak" }.to_string();
    vec![
        c.ticket.to_string(),
        c.received_at.to_rfc3339_wita(),
        Month::of(c.received_at).to_string(),
        c.channel.code().to_string(),
        region.as_str().to_string(),
        dir.region(&region).map(|r| r.name.clone()).unwrap_or_default(),
        c.category.clone().unwrap_or_default(),
        c.category.as_deref().and_then(|k| dir.category(k)).map(|k| k.name.clone()).unwrap_or_default(),
        c.unit.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        c.unit.as_ref().and_then(|u| dir.unit(u)).map(|u| u.name.clone()).unwrap_or_default(),
        c.status.code().to_string(),
        c.privacy.code().to_string(),
        if c.privacy == Privacy::Confidential {
            String::new()
        } else {
            not_a_formula(c.title.as_deref().unwrap_or_default())
        },
        at(v),
        at(a),
        at(cl),
        dur(v),
        dur(a),
        dur(cl),
        answered_in_time(c, ctx).map(yes_no).unwrap_or_default(),
        yes_no(followed_up(c)),
        c.history.iter().filter(|e| e.action == crate::lifecycle::Action::Escalate).count().to_string(),
        c.case.reopened.to_string(),
        c.case.rating.as_ref().map(|r| r.score.to_string()).unwrap_or_default(),
        c.case
            .rating
            .as_ref()
            .map(|r| match r.resolved {
                crate::complaint::Resolution::Yes => "yes",
                crate::complaint::Resolution::Partly => "partly",
                crate::complaint::Resolution::No => "no",
            })
            .unwrap_or_default()
            .to_string(),
    ]
}

/// Parse CSV text (RFC 4180) back into rows: for tests and for checking exports.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
