//! The platform key the outbox seals to is pinned: the first key it is
//! opened with is remembered, and a different key later (a re-enrollment, a
//! hand-edited config, an attacker's config) is not sealed to until a
//! technician confirms its fingerprint (`kioskctl platform-key confirm`).
//! Until then new filings are refused before anything is written, so no
//! villager's filing goes to a key the province never handed out.

use model::seal::PlatformPublicKey;
use rusqlite::{params, Connection, OptionalExtension};

use crate::audit;
use crate::clock::now;
use crate::error::StoreError;

pub(crate) const PINNED: &str = "platform_key_pinned";
pub(crate) const CONFIGURED: &str = "platform_key_configured";

/// The pinned key and the configured one, by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformKeyState {
    /// What filings are sealed to; None before the outbox was first opened with a key.
    pub pinned: Option<String>,
    /// What the kiosk was last started with.
    pub configured: Option<String>,
}

impl PlatformKeyState {
    /// The kiosk was started with a key other than the pinned one.
    pub fn changed(&self) -> bool {
        matches!((&self.pinned, &self.configured), (Some(p), Some(c)) if p != c)
    }
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT CAST(value AS TEXT) FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", params![key, value])?;
    Ok(())
}

/// At open (in the caller's transaction): records the configured key, and
/// pins it when nothing is pinned yet.
pub(crate) fn record_at_open(conn: &Connection, key: &PlatformPublicKey, terminal: &str) -> Result<PlatformKeyState, StoreError> {
    let configured = key.fingerprint();
    set_meta(conn, CONFIGURED, &configured)?;
    let pinned = match meta(conn, PINNED)? {
        Some(p) => p,
        None => {
            set_meta(conn, PINNED, &configured)?;
            let outcome = format!("pinned {configured}");
            audit::append(conn, now(), &audit::Record { terminal, operator: None, action: "platform key", subject: None, outcome: &outcome })?;
            configured.clone()
        }
    };
    if pinned != configured {
        tracing::error!(pinned = %pinned, configured = %configured, "the platform key changed: new filings are refused until a technician confirms it");
    }
    Ok(PlatformKeyState { pinned: Some(pinned), configured: Some(configured) })
}


/// The pinned and configured fingerprints as stored.
pub(crate) fn read_state(conn: &Connection) -> Result<PlatformKeyState, StoreError> {
    Ok(PlatformKeyState { pinned: meta(conn, PINNED)?, configured: meta(conn, CONFIGURED)? })
}
