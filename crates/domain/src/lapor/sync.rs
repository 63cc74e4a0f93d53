//! One sync: a bounded unit of work per invocation (STYLE §9). Refresh stale master data,
//! export queued complaints, poll what is due, import what LAPOR! dispositioned to NTB.
//! Schedules and retries live in the ledger; the caller (an authenticated route, called by a
//! scheduler or an administrator) only says "now".
//!
//! A LAPOR! outage stops the run at the first sign (unreachable, timeout, 5xx): the item
//! that saw it backs off, the others are left exactly as they were, and nothing is lost.

use serde::Serialize;

use super::config::LaporConfig;
use super::export;
use super::import;
use super::keys;
use super::ledger::{self, claim_export, ExportStep, LedgerEntry, Origin, State};
use super::master::{Cached, MasterKind, Masters};
use super::status::{mirror, LaporStatus, Mirror};
use super::wire::{self, digest, Delivery, LaporError, WireRequest, WireResponse};
use crate::clock::Timestamp;
use crate::complaint::{Channel, Complaint, FollowUp, Submission};
use crate::directory::{Directory, UnitKind};
use crate::idempotency::{self, Claim, Scope};
use crate::intake::{self, Arrival};
use crate::keys as store_keys;
use crate::lifecycle::{Action, Actor, CaseStatus, Event};
use crate::queues::queue_of;
use crate::routing::Decision;
use crate::store::{get_json, update_json, KeyValue, StoreError};
use crate::ticket::{Ticket, TicketKey};

/// What a sync needs of the world outside the store.
pub trait Outside {
    /// Send one request to LAPOR!. `Err` only for transport failures
    /// ([`LaporError::Unreachable`], [`LaporError::Timeout`]); any HTTP answer is `Ok`.
    fn send(&self, request: &WireRequest) -> Result<WireResponse, LaporError>;
    /// Routing's decision for an imported complaint (the triage queue if routing is down).
    fn route(&self, ticket: &Ticket, submission: &Submission) -> Decision;
    /// A fresh tracking secret.
    fn secret(&self) -> String;
}

/// How much one sync may do.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub exports: usize,
    pub polls: usize,
    pub imports: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { exports: 10, polls: 20, imports: 10 }
    }
}

pub struct Context<'a, S: KeyValue> {
    pub store: &'a S,
    pub directory: &'a Directory,
    pub config: &'a LaporConfig,
    /// For imported complaints' tracking links.
    pub public_base_url: &'a str,
    pub now: Timestamp,
    pub limits: Limits,
    /// Numbers imported complaints as intake numbers its own.
    pub tickets: &'a TicketKey,
}

/// What one sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SyncReport {
    pub at: Timestamp,
    pub exported: usize,
    /// Creates whose outcome was unknown, found on LAPOR! by our ticket.
    pub found_by_search: usize,
    pub polled: usize,
    pub statuses_mirrored: usize,
    pub followups_in: usize,
    pub answers_out: usize,
    pub forwarded: usize,
    pub imported: usize,
    pub skipped: usize,
    pub failures: usize,
    /// LAPOR! looked down, so the run stopped early.
    pub outage: bool,
    pub errors: Vec<String>,
}

struct Run<'a, 'b, S: KeyValue, O: Outside> {
    ctx: &'b Context<'a, S>,
    outside: &'b O,
    report: SyncReport,
    masters: Option<Masters>,
}

pub fn run<S: KeyValue, O: Outside>(ctx: &Context<'_, S>, outside: &O) -> Result<SyncReport, StoreError> {
    let mut r = Run { ctx, outside, report: SyncReport { at: ctx.now, ..Default::default() }, masters: None };
    r.refresh_masters()?;
    r.exports()?;
    if !r.report.outage {
        r.polls()?;
    }
    if !r.report.outage {
        r.imports()?;
    }
    let report = r.report;
    ctx.store.set(keys::LAST_SYNC, &serde_json::to_vec(&report).expect("report encodes"))?;
    Ok(report)
}

/// Tickets queued for export by intake (one marker key each), oldest first: by the time the
/// marker says the complaint was queued (tickets are scrambled, so their order says nothing).
pub fn queued_tickets(store: &impl KeyValue) -> Result<Vec<Ticket>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Marker {
        #[serde(default)]
        queued_at: Option<Timestamp>,
    }
    let tickets: Vec<Ticket> = store
        .keys()?
        .iter()
        .filter_map(|k| k.strip_prefix(store_keys::LAPOR_PENDING_PREFIX))
        .filter_map(|t| Ticket::parse(t).ok())
        .collect();
    let markers = store.get_many(&tickets.iter().map(store_keys::lapor_pending).collect::<Vec<_>>())?;
    let mut queued: Vec<(Option<Timestamp>, Ticket)> = markers
        .into_iter()
        .zip(tickets)
        .map(|(m, t)| {
            (m.and_then(|m| serde_json::from_slice::<Marker>(&m).ok()).and_then(|m| m.queued_at), t)
        })
        .collect();
    queued
        .sort_by(|(a, t), (b, u)| (&t.as_str()[4..6], a).cmp(&(&u.as_str()[4..6], b)).then_with(|| t.cmp(u)));
    Ok(queued.into_iter().map(|(_, t)| t).collect())
}

pub fn load_masters(store: &impl KeyValue) -> Result<Masters, StoreError> {
    let get =
        |k| -> Result<Cached, StoreError> { Ok(get_json(store, &keys::master(k))?.unwrap_or_default()) };
    Ok(Masters {
        institutions: get(MasterKind::Institutions)?,
        categories: get(MasterKind::Categories)?,
        locations: get(MasterKind::Locations)?,
    })
}

impl<S: KeyValue, O: Outside> Run<'_, '_, S, O> {
    fn store(&self) -> &S {
        self.ctx.store
    }

    fn now(&self) -> Timestamp {
        self.ctx.now
    }

    fn call(&mut self, request: &WireRequest) -> Result<WireResponse, LaporError> {
        let answer = self.outside.send(request);
        let outage = match &answer {
            Err(e) => e.is_outage(),
            Ok(resp) => resp.status >= 500,
        };
        if outage {
            self.report.outage = true;
        }
        answer
    }

    fn note_error(&mut self, what: &str, e: &LaporError) {
        if self.report.errors.len() < 20 {
            self.report.errors.push(format!("{what}: {e}"));
        }
    }

    fn refresh_masters(&mut self) -> Result<(), StoreError> {
        let mut masters = load_masters(self.store())?;
        let cfg = self.ctx.config;
        for kind in MasterKind::ALL {
            if !masters.get(kind).is_stale(self.now()) {
                continue;
            }
            let path = match kind {
                MasterKind::Institutions => &cfg.paths.institutions,
                MasterKind::Categories => &cfg.paths.categories,
                MasterKind::Locations => &cfg.paths.locations,
            };
            let request = cfg.master_request(path);
            // Master data is best effort: a stale copy (or none) still lets work go on.
            let fetched = self.outside.send(&request).and_then(|r| wire::parse_master(&r));
            match fetched {
                Ok(items) => {
                    let cached = Cached { fetched_at: self.now(), items };
                    self.store().set(&keys::master(kind), &serde_json::to_vec(&cached).expect("encodes"))?;
                    match kind {
                        MasterKind::Institutions => masters.institutions = cached,
                        MasterKind::Categories => masters.categories = cached,
                        MasterKind::Locations => masters.locations = cached,
                    }
                }
                Err(e) => self.note_error(&format!("master data {}", kind.code()), &e),
            }
        }
        self.masters = Some(masters);
        Ok(())
    }

    fn masters(&self) -> &Masters {
        self.masters.as_ref().expect("loaded at the start of the run")
    }

    // ------------------------------------------------------------------ export

    fn exports(&mut self) -> Result<(), StoreError> {
        let mut attempted = 0;
        for ticket in queued_tickets(self.store())? {
            if self.report.outage || attempted >= self.ctx.limits.exports {
                break;
            }
            if self.export_one(&ticket)? {
                attempted += 1;
            }
        }
        Ok(())
    }

    fn drop_marker(&self, ticket: &Ticket) -> Result<(), StoreError> {
        self.store().delete(&store_keys::lapor_pending(ticket))
    }

    /// Answers whether LAPOR! was called.
    fn export_one(&mut self, ticket: &Ticket) -> Result<bool, StoreError> {
        let now = self.now();
        let Some(c) = get_json::<Complaint>(self.store(), &store_keys::complaint(ticket))? else {
            self.drop_marker(ticket)?;
            return Ok(false);
        };
        let mut initial = LedgerEntry::new(ticket.clone(), Origin::Export, now);
        if let Some(ext) = c.external.as_ref().filter(|e| e.system == import::SYSTEM) {
            // It came from LAPOR!: link it, never send it back.
            initial.origin = Origin::Import;
            initial.state = State::Linked;
            initial.lapor_id = Some(ext.reference.clone());
        } else if c.status == CaseStatus::Rejected {
            initial.state = State::Skipped { reason: "rejected before export".into() };
        }
        ledger::ensure(self.store(), &initial)?;
        let can_search = self.ctx.config.paths.search.is_some();
        let Some((entry, step)) = ledger::update(self.store(), ticket, |e| claim_export(e, now, can_search))?
        else {
            return Ok(false);
        };
        match (&entry.state, step) {
            (State::Linked | State::Skipped { .. }, _) => {
                if matches!(entry.state, State::Skipped { .. }) {
                    self.report.skipped += 1;
                }
                self.drop_marker(ticket)?;
                Ok(false)
            }
            (_, ExportStep::Wait) => Ok(false),
            (_, ExportStep::Search) => {
                self.search_then_create(&c)?;
                Ok(true)
            }
            (_, ExportStep::Create) => {
                self.create(&c)?;
                Ok(true)
            }
        }
    }

    fn search_then_create(&mut self, c: &Complaint) -> Result<(), StoreError> {
        let request =
            self.ctx.config.search_request(c.ticket.as_str()).expect("searched only when configured");
        let found = self.call(&request).and_then(|r| wire::parse_complaints(&r));
        match found {
            Ok(list) => {
                let mine = list
                    .into_iter()
                    .find(|l| l.content.contains(c.ticket.as_str()) || l.title.contains(c.ticket.as_str()));
                match mine {
                    Some(l) => {
                        self.report.found_by_search += 1;
                        self.linked(c, &l.id)
                    }
                    None => self.create(c),
                }
            }
            Err(e) => {
                self.note_error(&format!("search {}", c.ticket), &e);
                self.report.failures += 1;
                let now = self.now();
                ledger::update(self.store(), &c.ticket, |entry| {
                    entry.state = State::Uncertain { since: now };
                    entry.record_failure(&format!("search: {e}"), now);
                })?;
                Ok(())
            }
        }
    }

    fn create(&mut self, c: &Complaint) -> Result<(), StoreError> {
        let payload = export::payload(c, self.ctx.directory, self.masters(), self.ctx.config, &[]);
        let request = self.ctx.config.create_request(&payload);
        let created = self.call(&request).and_then(|r| wire::parse_created(&r));
        match created {
            Ok(id) => self.linked(c, &id),
            Err(e) => {
                self.note_error(&format!("create {}", c.ticket), &e);
                self.report.failures += 1;
                let now = self.now();
                ledger::update(self.store(), &c.ticket, |entry| {
                    entry.state = match e.delivery() {
                        Delivery::NotApplied => State::Queued,
                        Delivery::Unknown => State::Uncertain { since: now },
                    };
                    entry.record_failure(&format!("create: {e}"), now);
                })?;
                Ok(())
            }
        }
    }

    fn linked(&mut self, c: &Complaint, lapor_id: &str) -> Result<(), StoreError> {
        let now = self.now();
        ledger::update(self.store(), &c.ticket, |entry| {
            entry.state = State::Linked;
            entry.lapor_id = Some(lapor_id.to_string());
            entry.version_sent = c.history.len();
            // Read it back at the next sync.
            entry.record_success(false, now);
            entry.next_check_at = now;
        })?;
        self.report.exported += 1;
        self.drop_marker(&c.ticket)
    }

    // ------------------------------------------------------------------ polling

    fn polls(&mut self) -> Result<(), StoreError> {
        let now = self.now();
        let mut due: Vec<LedgerEntry> = ledger::all(self.store())?
            .into_iter()
            .filter(|e| e.state == State::Linked && e.is_due(now))
            .collect();
        due.sort_by_key(|e| e.next_check_at);
        for entry in due.into_iter().take(self.ctx.limits.polls) {
            if self.report.outage {
                break;
            }
            self.poll_one(entry)?;
        }
        Ok(())
    }

    fn fail(&mut self, ticket: &Ticket, what: &str, e: &LaporError) -> Result<(), StoreError> {
        self.note_error(&format!("{what} {ticket}"), e);
        self.report.failures += 1;
        let now = self.now();
        ledger::update(self.store(), ticket, |entry| entry.record_failure(&format!("{what}: {e}"), now))?;
        Ok(())
    }

    fn poll_one(&mut self, entry: LedgerEntry) -> Result<(), StoreError> {
        let ticket = entry.ticket.clone();
        let Some(id) = entry.lapor_id.clone() else { return Ok(()) };
        let cfg = self.ctx.config;
        self.report.polled += 1;

        // 1. LAPOR!'s status, mirrored when it changed.
        let detail = match self.call(&cfg.detail_request(&id)).and_then(|r| wire::parse_detail(&r)) {
            Ok(d) => d,
            Err(e) => return self.fail(&ticket, "detail", &e),
        };
        if entry.lapor_status.as_deref() != Some(detail.status.name()) {
            if self.mirror_status(&ticket, &detail.status, entry.origin == Origin::Import)? {
                self.report.statuses_mirrored += 1;
            }
            let name = detail.status.name().to_string();
            ledger::update(self.store(), &ticket, |e| e.lapor_status = Some(name.clone()))?;
        }

        // 2. Follow-ups: theirs into the case history, ours recognised.
        let followups = match self.call(&cfg.followups_request(&id)).and_then(|r| wire::parse_followups(&r)) {
            Ok(f) => f,
            Err(e) => return self.fail(&ticket, "followups", &e),
        };
        let Some(mut entry) = ledger::get(self.store(), &ticket)? else { return Ok(()) };
        for f in &followups {
            if entry.followups_seen.contains(&f.key) {
                continue;
            }
            let ours = entry.followups_seen.contains(&sent_key(&f.content));
            if !ours && self.mirror_followup(&ticket, f)? {
                self.report.followups_in += 1;
            }
            let key = f.key.clone();
            entry = ledger::update(self.store(), &ticket, |e| {
                if !e.followups_seen.contains(&key) {
                    e.followups_seen.push(key.clone());
                }
            })?
            .map(|(e, ())| e)
            .unwrap_or(entry);
        }

        // 3. NTB Care's answers out, each once: one already in LAPOR!'s thread is not sent again.
        let Some(c) = get_json::<Complaint>(self.store(), &store_keys::complaint(&ticket))? else {
            return Ok(());
        };
        let secret = c.privacy == crate::complaint::Privacy::Confidential;
        for (i, answer) in c.case.answers.iter().enumerate().skip(entry.answers_sent) {
            let there = followups.iter().any(|f| f.content.trim() == answer.text.trim());
            if !there {
                let sent = self
                    .call(&cfg.followup_add_request(&id, &answer.text, secret))
                    .and_then(|r| accepted(&r));
                if let Err(e) = sent {
                    return self.fail(&ticket, "followup/add", &e);
                }
                self.report.answers_out += 1;
            }
            let key = sent_key(&answer.text);
            ledger::update(self.store(), &ticket, |e| {
                e.answers_sent = e.answers_sent.max(i + 1);
                if !e.followups_seen.contains(&key) {
                    e.followups_seen.push(key.clone());
                }
            })?;
        }

        // 4. "Not our authority": a case forwarded to a national (vertical) unit is handed
        // to that institution through LAPOR!'s reject.
        if let Some(unit) = c.unit.as_ref().filter(|_| c.status == CaseStatus::Forwarded) {
            let vertical = self.ctx.directory.unit(unit).filter(|u| u.kind == UnitKind::Vertical);
            if let (Some(u), true) = (vertical, entry.forwarded_to.as_deref() != Some(unit.as_str())) {
                let Some(target) = self.masters().institution_id(self.ctx.directory, unit) else {
                    let e = LaporError::Malformed(format!("no LAPOR! institution is named `{}`", u.name));
                    return self.fail(&ticket, "forward", &e);
                };
                if detail.disposition_id.as_deref() != Some(target.as_str()) {
                    let reason =
                        format!("Bukan kewenangan Pemerintah Provinsi NTB; diteruskan kepada {}.", u.name);
                    let sent =
                        self.call(&cfg.reject_request(&id, &target, &reason)).and_then(|r| accepted(&r));
                    if let Err(e) = sent {
                        return self.fail(&ticket, "reject", &e);
                    }
                    self.report.forwarded += 1;
                }
                let name = u.name.clone();
                self.note(&ticket, format!("Diteruskan melalui SP4N-LAPOR! kepada {name}."))?;
                let unit = unit.to_string();
                ledger::update(self.store(), &ticket, |e| e.forwarded_to = Some(unit.clone()))?;
            }
        }

        // 5. Done: the next check, sooner while anything can still move.
        let now = self.now();
        let settled = detail.status.is_final() && !c.status.is_open();
        let version = c.history.len();
        ledger::update(self.store(), &ticket, |e| {
            e.version_sent = version;
            e.record_success(settled, now);
        })?;
        Ok(())
    }

    /// Apply LAPOR!'s new status to the case (see [`mirror`]); answers whether it changed
    /// the case. Recording the same status twice (a retry after a crash) changes nothing.
    fn mirror_status(
        &mut self,
        ticket: &Ticket,
        status: &LaporStatus,
        came_from_lapor: bool,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let note = format!("{STATUS_NOTE}{}.", status.name());
        let mut before = None;
        let mut before_case = None;
        let mut from = None;
        let outcome = update_json(self.store(), &store_keys::complaint(ticket), |c: &mut Complaint| {
            let last = c
                .history
                .iter()
                .rev()
                .find_map(|e| e.internal_note.as_deref().filter(|n| n.starts_with(STATUS_NOTE)));
            if last == Some(note.as_str()) {
                return Err(());
            }
            before = queue_of(c);
            before_case = Some(c.clone());
            from = Some(c.status);
            let (action, to, public_note) = match mirror(status, c.status, came_from_lapor) {
                Mirror::Close => (
                    Action::Close,
                    CaseStatus::Closed,
                    Some("Dinyatakan selesai di SP4N-LAPOR!.".to_string()),
                ),
                Mirror::Reject => {
                    (Action::Reject, CaseStatus::Rejected, Some(format!("{} di SP4N-LAPOR!.", status.name())))
                }
                // LAPOR!'s status is public there; the citizen sees it here too.
                Mirror::Note => (Action::LaporUpdate, c.status, Some(note.clone())),
            };
            c.history.push(Event {
                at: now,
                actor: Actor::System,
                action,
                from: Some(c.status),
                to,
                public_note,
                internal_note: Some(note.clone()),
            });
            if to == CaseStatus::Closed {
                // LAPOR!'s "Selesai" is the follow-up declared done there: the completion
                // step of an answered case ends with it.
                if let Some(done) = c.case.completion.as_mut().filter(|d| d.completed_at.is_none()) {
                    done.completed_at = Some(now);
                }
            }
            c.status = to;
            c.updated_at = now;
            Ok(())
        })?;
        let Some(Ok(c)) = outcome else { return Ok(false) };
        let from = from.expect("set when the update ran");
        if from != c.status {
            // Recorded exactly as casework records a change: tallies, queues, notices.
            let applied = crate::casework::Applied {
                from,
                to: c.status,
                unit_before: c.unit.clone(),
                event: c.history.last().expect("just pushed").clone(),
            };
            let notices = crate::casework::notices_for(&c, &applied, self.ctx.directory);
            crate::casework::service::record(
                self.store(),
                before_case.as_ref(),
                &c,
                &applied,
                before,
                notices,
            )?;
        }
        Ok(true)
    }

    /// Add a LAPOR! follow-up to the case: its thread and an officers' history line.
    fn mirror_followup(&mut self, ticket: &Ticket, f: &wire::LaporFollowUp) -> Result<bool, StoreError> {
        let now = self.now();
        let outcome = update_json(self.store(), &store_keys::complaint(ticket), |c: &mut Complaint| {
            if c.case
                .follow_ups
                .iter()
                .any(|x| x.channel == Channel::Lapor && x.text.as_deref() == Some(f.content.as_str()))
            {
                return Err(());
            }
            c.case.follow_ups.push(FollowUp {
                at: now,
                channel: Channel::Lapor,
                text: Some(f.content.clone()),
                attachments: vec![],
                message: None,
            });
            let note = format!("Tindak lanjut di SP4N-LAPOR! ({}): {}", f.created_at, f.content);
            // A follow-up on LAPOR! is public there: the citizen's tracking page shows it.
            let mut line = officers_note(c, now, note);
            line.public_note = Some(format!("Tindak lanjut di SP4N-LAPOR!: {}", f.content));
            c.history.push(line);
            c.updated_at = now;
            Ok(())
        })?;
        Ok(matches!(outcome, Some(Ok(_))))
    }

    /// An officers' line in the case history.
    fn note(&mut self, ticket: &Ticket, text: String) -> Result<(), StoreError> {
        let now = self.now();
        update_json(self.store(), &store_keys::complaint(ticket), |c: &mut Complaint| {
            c.history.push(officers_note(c, now, text.clone()));
            c.updated_at = now;
            Ok::<(), ()>(())
        })?;
        Ok(())
    }

    // ------------------------------------------------------------------ import

    fn imports(&mut self) -> Result<(), StoreError> {
        let Some(request) = self.ctx.config.inbox_request() else { return Ok(()) };
        let list = match self.call(&request).and_then(|r| wire::parse_complaints(&r)) {
            Ok(l) => l,
            Err(e) => {
                self.report.failures += 1;
                self.note_error("inbox", &e);
                return Ok(());
            }
        };
        let ours = |l: &wire::LaporComplaint| match (&l.disposition_id, &self.ctx.config.institution_id) {
            (Some(d), Some(inst)) => d == inst,
            _ => true,
        };
        let mut done = 0;
        for l in list.iter().filter(|l| ours(l)) {
            if done >= self.ctx.limits.imports {
                break;
            }
            if self.import_one(l)? {
                done += 1;
            }
        }
        Ok(())
    }

    /// Accept one LAPOR! complaint, exactly once: claimed by its LAPOR! id, its ticket
    /// reserved before it is saved, recorded as done last.
    fn import_one(&mut self, l: &wire::LaporComplaint) -> Result<bool, StoreError> {
        let now = self.now();
        let scope = Scope { name: keys::IMPORT_SCOPE, key: &l.id };
        if idempotency::claim(self.store(), &scope, now)? != Claim::First {
            return Ok(false);
        }
        let reservation = keys::import_reservation(&l.id);
        let reserved: Option<String> = get_json(self.store(), &reservation)?;
        let ticket = match reserved.and_then(|t| Ticket::parse(&t).ok()) {
            Some(t) => t,
            None => {
                let t = intake::allocate_ticket(self.store(), now, self.ctx.tickets)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                self.store().set(&reservation, &serde_json::to_vec(t.as_str()).expect("encodes"))?;
                t
            }
        };
        if !self.store().exists(&store_keys::complaint(&ticket))? {
            let submission = import::submission(l, self.ctx.directory);
            let decision = self.outside.route(&ticket, &submission);
            let secret = self.outside.secret();
            let tracking_url =
                format!("{}/api/v1/complaints/{ticket}", self.ctx.public_base_url.trim_end_matches('/'));
            let mut received = intake::receive(Arrival {
                submission,
                channel: Channel::Lapor,
                ticket: ticket.clone(),
                decision,
                tracking_secret: &secret,
                tracking_url: &tracking_url,
                now,
            });
            received.complaint.external = Some(import::external(l));
            intake::save(self.store(), &NoIdentity, &received, |_| Vec::new())?;
        }
        let mut entry = LedgerEntry::new(ticket.clone(), Origin::Import, now);
        entry.state = State::Linked;
        entry.lapor_id = Some(l.id.clone());
        entry.lapor_status = l.status.as_ref().map(|s| s.name().to_string());
        entry.next_check_at = Timestamp(now.0 + ledger::PENDING_INTERVAL_MS);
        ledger::ensure(self.store(), &entry)?;
        self.drop_marker(&ticket)?;
        idempotency::complete(self.store(), &scope, &ticket)?;
        self.report.imported += 1;
        Ok(true)
    }
}

const STATUS_NOTE: &str = "Status di SP4N-LAPOR!: ";

/// How an answer we sent is remembered among the follow-ups seen.
fn sent_key(content: &str) -> String {
    format!("sent:{}", digest(content.trim()))
}

/// A write call's answer: any success status will do (its body is not needed).
fn accepted(resp: &WireResponse) -> Result<(), LaporError> {
    if (200..300).contains(&resp.status) {
        Ok(())
    } else {
        wire::results(resp).map(|_| ())
    }
}

impl LaporConfig {
    fn master_request(&self, path: &str) -> WireRequest {
        WireRequest {
            method: wire::Method::Get,
            url: self.url(path, &[]),
            headers: vec![
                (self.auth_header.name().to_string(), self.auth_value.clone()),
                ("token".to_string(), self.token.clone()),
                ("accept".to_string(), "application/json".to_string()),
            ],
            body: vec![],
        }
    }
}

/// The identity store of an imported complaint: LAPOR! keeps the reporter, so nothing may
/// be written here, and lapor-export cannot open the real one anyway.
struct NoIdentity;

impl KeyValue for NoIdentity {
    fn get(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }
    fn set(&self, key: &str, _: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::Unavailable(format!("no identity store for imports (`{key}`)")))
    }
    fn delete(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn exists(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    fn keys(&self) -> Result<Vec<String>, StoreError> {
        Ok(vec![])
    }
    fn increment(&self, key: &str, _: i64) -> Result<i64, StoreError> {
        self.set(key, &[]).map(|_| 0)
    }
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        match entries.first() {
            None => Ok(()),
            Some((k, _)) => self.set(k, &[]),
        }
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Ok(keys.iter().map(|_| None).collect())
    }
    fn compare_and_swap(&self, key: &str, _: &[u8], _: &[u8]) -> Result<bool, StoreError> {
        self.set(key, &[]).map(|_| false)
    }
}

/// A line in a case's history that only officers read, written by NTB Care on LAPOR!'s behalf;
/// it changes no status. Its own action (`lapor-update`), so no figure built on actions
/// mistakes it for the complainant's information.
fn officers_note(c: &Complaint, now: Timestamp, note: String) -> Event {
    Event {
        at: now,
        actor: Actor::System,
        action: Action::LaporUpdate,
        from: Some(c.status),
        to: c.status,
        public_note: None,
        internal_note: Some(note),
    }
}

#[cfg(test)]
mod tests;
