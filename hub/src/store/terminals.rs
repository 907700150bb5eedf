//! The terminal registry: keys, revocation, replay nonces, heartbeats, configs.

use model::auth::PublicKey;
use model::audit_chain::AuditHead;
use model::protocol::{Heartbeat, TerminalConfig};
use model::VillageCode;
use time::OffsetDateTime;

use super::audit::AuditBreak;
use super::error::StoreError;

/// Whether a terminal may talk to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalStatus {
    Active,
    Revoked,
}

impl TerminalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TerminalStatus::Active => "active",
            TerminalStatus::Revoked => "revoked",
        }
    }
}

/// A terminal to trust: the registry that enrollment (issue 8) writes into.
#[derive(Debug, Clone)]
pub struct NewTerminal {
    pub id: String,
    pub public_key: PublicKey,
    pub village_code: Option<VillageCode>,
    pub label: Option<String>,
}

/// A registered terminal and what it last reported.
#[derive(Debug, Clone)]
pub struct TerminalRecord {
    pub id: String,
    pub public_key: PublicKey,
    pub status: TerminalStatus,
    pub village_code: Option<VillageCode>,
    pub label: Option<String>,
    pub added_at: OffsetDateTime,
    /// Last authenticated request of any kind.
    pub last_seen_at: Option<OffsetDateTime>,
    pub last_heartbeat: Option<(OffsetDateTime, Heartbeat)>,
    /// The terminal's audit head the hub holds (issue 19), and when it got it.
    pub audit_anchor: Option<(AuditHead, OffsetDateTime)>,
    /// Every time a reported head did not extend the anchored one, newest first.
    pub audit_breaks: Vec<AuditBreak>,
}

/// One page of the fleet (server-side: a province has 20,000 terminals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetQuery {
    /// A division code prefix: 6 digits a county, 9 a township, 12 a village.
    pub place: Option<String>,
    /// Terminals not heard from since then are stale.
    pub stale_before: OffsetDateTime,
    pub offset: u64,
    pub limit: u64,
}

/// The page, ordered audit-broken first, then stale, then in touch, revoked
/// last (by id within each), with counts over every matching terminal.
#[derive(Debug, Clone)]
pub struct FleetPage {
    pub terminals: Vec<TerminalRecord>,
    pub total: u64,
    pub broken: u64,
    pub stale: u64,
}

/// The terminal registry, replay nonces, heartbeats and configs.
pub trait TerminalStore: Send + Sync {
    /// One page of the fleet page's rows (reads only, like [`Self::terminals_read_only`]).
    fn fleet_page(&self, q: &FleetQuery) -> Result<FleetPage, StoreError>;

    /// Registers a terminal. Registering the same id with the same key again is fine.
    fn add_terminal(&self, t: &NewTerminal, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Registers many terminals in one transaction, by the rules of
    /// [`Self::add_terminal`]; any conflict leaves none registered. For
    /// bulk provisioning (and `hub-load`'s 20,000 terminals): one round trip
    /// on PostgreSQL, one transaction on SQLite. Answers how many were given.
    fn add_terminals(&self, terminals: &[NewTerminal], at: OffsetDateTime) -> Result<usize, StoreError>;

    fn revoke_terminal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The key and status of a terminal, for checking a request.
    fn terminal_key(&self, id: &str) -> Result<Option<(PublicKey, TerminalStatus)>, StoreError>;

    /// Records a request's nonce; false if `terminal` used it before.
    /// Forgets nonces older than `forget_before` (unix seconds).
    fn remember_nonce(&self, terminal: &str, nonce: &str, now_unix: i64, forget_before: i64) -> Result<bool, StoreError>;

    fn terminals(&self) -> Result<Vec<TerminalRecord>, StoreError>;

    /// The registry as last committed, for readers that must not write (the
    /// fleet page): heartbeats written behind may be a moment late.
    fn terminals_read_only(&self) -> Result<Vec<TerminalRecord>, StoreError>;

    /// Keeps a terminal's latest heartbeat. May be written behind (telemetry),
    /// but [`Self::terminals`] sees it.
    fn record_heartbeat(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The config for `terminal`: its own, else the default, else built-in defaults.
    fn terminal_config(&self, terminal: &str) -> Result<TerminalConfig, StoreError>;

    /// Sets the config of one terminal, or with `None` the default for all.
    fn set_terminal_config(&self, terminal: Option<&str>, config: &TerminalConfig) -> Result<(), StoreError>;
}
