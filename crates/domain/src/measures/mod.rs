//! Monitoring and evaluation measures (definitions in `docs/measures.md`).
//!
//! Every measure is a sum over complaints of what each complaint's record says
//! ([`facts::facts`]: a pure function of the record, the working-day calendar and the SLA
//! rules), kept per cell of (dimension, value, WITA month of receipt). Two ways lead to the
//! same figures, and tests hold them to it:
//!
//! - **Tallies**, kept current as events happen: intake and casework add
//!   [`tally_deltas`]`(before, after)` with the store's atomic increment, so a summary over
//!   a year is a fixed number of key reads, never a scan.
//! - **Rebuild** from the records ([`tally::rebuild`]), read by the ticket numbering, for
//!   repair and audit; and [`read::compute_from_records`] for filters that combine
//!   dimensions, which no single cell answers.
//!
//! Durations are working days on [`crate::calendar::WorkingCalendar`], kept as counts, sums
//! and histogram buckets ([`metric::BUCKET_EDGES_MWD`]) so medians and 90th percentiles can be
//! read from increments. Exact per-complaint durations are in the CSV export.
//!
//! Measures that depend on the moment they are read (backlog by age, overdue cases) are
//! computed from the open cases only ([`live`]).
//!
//! This module never imports spin-sdk; its keys are built here (`m/…`) because only
//! reporting reads them.

pub mod access;
pub mod csv;
pub mod facts;
pub mod live;
pub mod metric;
pub mod open_data;
pub mod read;
pub mod scorecard;
pub mod tally;

pub use facts::{facts, Context, Dim, Facts, Month};
pub use read::{Filter, Measures};
pub use tally::{tally_deltas, tally_deltas_with};

#[cfg(test)]
mod tests;
