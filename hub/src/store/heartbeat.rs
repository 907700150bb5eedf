//! A heartbeat's whole trip to the store: the nonce spent under the key
//! the hub instance remembers for the terminal (checked again here), the
//! heartbeat kept, and what the answer needs read (issue 17: one round
//! trip on PostgreSQL instead of eight).

use model::audit_chain::{AnchorCheck, AuditHead};
use model::auth::PublicKey;
use model::protocol::Heartbeat;
use model::update::UpdateTarget;
use time::OffsetDateTime;

use super::audit::AuditStore;
use super::catalog::CatalogStore;
use super::diagnostics::DiagnosticsStore;
use super::error::StoreError;
use super::rollouts::RolloutStore;
use super::terminals::{TerminalStatus, TerminalStore};

/// What spending a request's nonce under a key the caller believes the
/// terminal holds found. Only [`NonceSpend::Fresh`] kept anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceSpend {
    Fresh,
    /// The terminal used this nonce before.
    Replayed,
    Revoked,
    /// No terminal has this id.
    Unknown,
    /// The terminal holds another key than the one asked about.
    OtherKey,
}

/// A nonce to spend with the heartbeat, under `key` (see `auth.rs`).
#[derive(Debug, Clone, Copy)]
pub struct SpendNonce<'a> {
    pub key: &'a PublicKey,
    pub nonce: &'a str,
    pub now_unix: i64,
    /// Nonces older than this (unix seconds) may be forgotten.
    pub forget_before: i64,
}

/// What a heartbeat's answer needs. With a nonce to spend that was not
/// [`NonceSpend::Fresh`], nothing was kept and the rest is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRound {
    pub spend: NonceSpend,
    /// When the heartbeat carried an audit proof: the check of it and the
    /// head the hub holds now.
    pub audit: Option<(AnchorCheck, AuditHead)>,
    pub config_version: u64,
    pub catalog_version: Option<u64>,
    pub diagnostics: Option<uuid::Uuid>,
    pub update: Option<UpdateTarget>,
}

impl HeartbeatRound {
    /// The answer to a refused nonce: nothing kept, nothing read.
    pub fn refused(spend: NonceSpend) -> HeartbeatRound {
        HeartbeatRound { spend, audit: None, config_version: 0, catalog_version: None, diagnostics: None, update: None }
    }
}

/// Steps a heartbeat's read could not settle by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unsettled {
    /// The proof is not the anchored head: [`AuditStore::anchor_audit`].
    pub audit: bool,
    /// A new update report: [`RolloutStore::record_update_report`], then the offer again.
    pub report: bool,
    /// The oldest request was announced: is its bundle all here?
    pub diagnostics: bool,
}

impl Unsettled {
    pub fn any(&self) -> bool {
        self.audit || self.report || self.diagnostics
    }
}

/// A heartbeat kept and read in one trip, and what is left for [`HeartbeatStore::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundRead {
    pub round: HeartbeatRound,
    pub unsettled: Unsettled,
}

/// A store's future awaited on the caller's task.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The heartbeat as kept: the audit entries were for the check, the fleet
/// page shows the head.
pub fn heartbeat_to_keep(hb: &Heartbeat) -> Heartbeat {
    let mut kept = hb.clone();
    if let Some(proof) = kept.audit.as_mut() {
        proof.since.clear();
    }
    kept
}

/// The heartbeat's round. The defaults call the small methods one after
/// another (SQLite: each is a call into the same process); PostgreSQL
/// answers the usual heartbeat in one statement.
pub trait HeartbeatStore: TerminalStore + CatalogStore + DiagnosticsStore + RolloutStore + AuditStore {
    /// Spends `nonce` for `terminal` if the terminal is active and holds
    /// `key` (the database decides, not the caller's memory of the key).
    fn spend_nonce(&self, terminal: &str, key: &PublicKey, nonce: &str, now_unix: i64, forget_before: i64) -> Result<NonceSpend, StoreError> {
        match self.terminal_key(terminal)? {
            None => Ok(NonceSpend::Unknown),
            Some((held, _)) if held != *key => Ok(NonceSpend::OtherKey),
            Some((_, TerminalStatus::Revoked)) => Ok(NonceSpend::Revoked),
            Some((_, TerminalStatus::Active)) => {
                Ok(if self.remember_nonce(terminal, nonce, now_unix, forget_before)? { NonceSpend::Fresh } else { NonceSpend::Replayed })
            }
        }
    }

    /// [`Self::spend_nonce`] awaited on the caller's task (see
    /// [`Self::read_round_async`]); None: call it on the blocking pool.
    fn spend_nonce_async<'a>(&'a self, _terminal: &'a str, _key: &'a PublicKey, _nonce: &'a str, _now_unix: i64, _forget_before: i64) -> Option<BoxFuture<'a, Result<NonceSpend, StoreError>>> {
        None
    }

    /// A whole heartbeat: spends `spend`'s nonce as [`Self::spend_nonce`]
    /// (none: the caller spent it already) and, only if it was fresh,
    /// anchors the audit proof ([`AuditStore::anchor_audit`]), keeps a new
    /// update report ([`RolloutStore::record_update_report`]) and the
    /// heartbeat, and reads the terminal's config version, the catalog
    /// version, its oldest unanswered diagnostics request and the update it
    /// is offered.
    fn heartbeat_round(&self, terminal: &str, spend: Option<SpendNonce<'_>>, hb: &Heartbeat, at: OffsetDateTime) -> Result<HeartbeatRound, StoreError> {
        if let Some(s) = spend {
            let verdict = self.spend_nonce(terminal, s.key, s.nonce, s.now_unix, s.forget_before)?;
            if verdict != NonceSpend::Fresh {
                return Ok(HeartbeatRound::refused(verdict));
            }
        }
        // The chain is checked before anything else is kept, in its own
        // transaction: a break must not wait behind telemetry.
        let audit = hb.audit.as_ref().map(|proof| self.anchor_audit(terminal, proof, at)).transpose()?;
        if let Some(report) = &hb.update {
            self.record_update_report(terminal, report, at)?;
        }
        self.record_heartbeat(terminal, &heartbeat_to_keep(hb), at)?;
        Ok(HeartbeatRound {
            spend: NonceSpend::Fresh,
            audit,
            config_version: self.terminal_config(terminal)?.version,
            catalog_version: self.latest_catalog_version()?,
            diagnostics: self.pending_diagnostics(terminal)?,
            update: self.update_target(terminal)?,
        })
    }

    /// The round's read ([`RoundRead`]: what [`Self::heartbeat_round`]
    /// does but [`Self::settle`]), awaited on the caller's task, for a
    /// store whose connections are async (PostgreSQL: no hand-over to the
    /// blocking pool, no exclusive connection). None: the store has no
    /// such path; call [`Self::heartbeat_round`] on the blocking pool.
    fn read_round_async<'a>(&'a self, _terminal: &'a str, _spend: Option<SpendNonce<'a>>, _hb: &'a Heartbeat, _at: OffsetDateTime) -> Option<BoxFuture<'a, Result<RoundRead, StoreError>>> {
        None
    }

    /// Finishes a round read: anchors a proof that is not the anchored
    /// head, keeps a new update report (the offer read again after it: a
    /// failed version is not offered again, a stage may have opened), looks
    /// for the pending diagnostics request when one was announced.
    fn settle(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime, read: RoundRead) -> Result<HeartbeatRound, StoreError> {
        let RoundRead { mut round, unsettled } = read;
        if let (true, Some(proof)) = (unsettled.audit, &hb.audit) {
            round.audit = Some(self.anchor_audit(terminal, proof, at)?);
        }
        if let (true, Some(report)) = (unsettled.report, &hb.update) {
            self.record_update_report(terminal, report, at)?;
            round.update = self.update_target(terminal)?;
        }
        if unsettled.diagnostics {
            round.diagnostics = self.pending_diagnostics(terminal)?;
        }
        Ok(round)
    }
}
