//! What a technician and the enqueue path do with the pinned platform key
//! (see `platform_key` for the rule).

use model::seal::PlatformPublicKey;

use crate::audit;
use crate::clock::now;
use crate::error::StoreError;
use crate::outbox::Outbox;
use crate::platform_key::{meta, read_state, set_meta, PlatformKeyState, CONFIGURED, PINNED};

impl Outbox {
    /// The pinned and configured platform keys (readable by tools too).
    pub fn platform_key_state(&self) -> Result<PlatformKeyState, StoreError> {
        read_state(&self.lock())
    }

    /// Refuses sealing to `key` unless it is the pinned one. Read each time,
    /// so a confirmation by `kioskctl` takes effect without a restart.
    pub(crate) fn check_platform_key(&self, key: &PlatformPublicKey) -> Result<(), StoreError> {
        let configured = key.fingerprint();
        let pinned = meta(&self.lock(), PINNED)?;
        match pinned {
            Some(p) if p != configured => Err(StoreError::PlatformKeyChanged { pinned: p, configured }),
            _ => Ok(()),
        }
    }

    /// A technician confirms the key the kiosk was started with. They type
    /// its fingerprint, read from the province's notice, not from the
    /// terminal's screen; anything else changes nothing. Audited.
    pub fn confirm_platform_key(&self, fingerprint: &str) -> Result<PlatformKeyState, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let configured = meta(&tx, CONFIGURED)?.ok_or(StoreError::PlatformKeyUnknown)?;
        if configured != fingerprint.trim() {
            return Err(StoreError::PlatformKeyFingerprintMismatch { typed: fingerprint.trim().to_owned(), configured });
        }
        let before = meta(&tx, PINNED)?;
        set_meta(&tx, PINNED, &configured)?;
        let terminal = meta(&tx, "terminal_id")?.unwrap_or_default();
        let outcome = format!("technician confirmed {configured} (was {})", before.as_deref().unwrap_or("none"));
        audit::append(&tx, now(), &audit::Record { terminal: &terminal, operator: None, action: "platform key", subject: None, outcome: &outcome })?;
        tx.commit()?;
        tracing::warn!(%outcome, "platform key confirmed");
        Ok(PlatformKeyState { pinned: Some(configured.clone()), configured: Some(configured) })
    }
}
