//! SP4N-LAPOR!, the national complaint system: the pure part of NTB Care's adapter.
//!
//! LAPOR!'s integration documentation is given only to registered integrators, so the
//! adapter follows the shape one real integrator uses (see `docs/lapor.md` and
//! `/work/shared/domain.md` §1.6): static auth headers, a `{"results": {"data": …},
//! "message": …}` envelope, and the endpoints named in [`config::Paths`]. Every path, id and
//! credential is configuration, so the adapter can be adjusted without code changes once NTB
//! receives its own credentials.
//!
//! What lives here, and why it is plain Rust: the request builders and response parsers
//! ([`wire`]), the status mapping both ways ([`status`]), the export payload ([`export`]),
//! the import mapping ([`import`]), the cached master data ([`master`]), the ledger and its
//! schedule ([`ledger`]), the reconciliation report ([`reconcile`]) and the one unit of work
//! a sync performs ([`sync`]). The outside world is one small port, [`sync::Outside`]: send an
//! HTTP request, ask routing, draw a secret. The component implements it over Spin; the unit
//! tests implement it with a scripted LAPOR!.
//!
//! Keys (see [`keys`]): one ledger record per ticket (`lapor/ledger/<ticket>`), an index of
//! ledger tickets (`lapor/ledger-index`, changed with compare-and-swap so the poller never
//! lists the whole store), cached master data (`lapor/master/<kind>`), and the import
//! idempotency scope (`lapor/import/<lapor-id>`).
//!
//! Never sent to LAPOR!: anything that identifies the reporter. The complaint record has no
//! contact at all and a name only for public complaints; the export payload does not read
//! even that (see [`export::payload`]).

pub mod config;
pub mod export;
pub mod import;
pub mod ledger;
pub mod master;
pub mod reconcile;
pub mod status;
pub mod sync;
pub mod wire;

/// Keys of the LAPOR! adapter's records in the default store.
pub mod keys {
    use crate::ticket::Ticket;

    pub const LEDGER_PREFIX: &str = "lapor/ledger/";
    /// The JSON list of every ticket that has a ledger record.
    pub const LEDGER_INDEX: &str = "lapor/ledger-index";
    /// The idempotency scope of imports, keyed by the LAPOR! complaint id.
    pub const IMPORT_SCOPE: &str = "lapor/import";

    pub fn ledger(ticket: &Ticket) -> String {
        format!("{LEDGER_PREFIX}{ticket}")
    }

    /// The ticket reserved for a LAPOR! complaint being imported, written before it is saved,
    /// so a retry after a crash saves under the same ticket instead of numbering it again.
    pub fn import_reservation(lapor_id: &str) -> String {
        format!("lapor/import-ticket/{lapor_id}")
    }

    pub fn master(kind: crate::lapor::master::MasterKind) -> String {
        format!("lapor/master/{}", kind.code())
    }

    /// What the last sync did, for the administrator.
    pub const LAST_SYNC: &str = "lapor/sync/last";
}
