//! Terminal public keys one hub instance remembers (issue 17), so a
//! request's signature is checked without a trip to the database first.
//!
//! Only an optimisation: a remembered key is never the truth. The request
//! that uses one has the database spend its nonce only if the terminal is
//! still active and still holds that very key, in the same round trip
//! (`HeartbeatStore::spend_nonce`, `heartbeat_round`), so a terminal
//! revoked or re-keyed on any instance is refused at once on every other.
//! Losing the cache (a restart, a full cache) costs one lookup per terminal.

use std::collections::HashMap;
use std::sync::RwLock;

use model::auth::PublicKey;

/// Keys remembered at most: a province has ~20,000 terminals; past this
/// the cache starts over rather than grow on made-up ids.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub(crate) struct KeyCache {
    keys: RwLock<HashMap<String, PublicKey>>,
}

impl KeyCache {
    pub(crate) fn get(&self, terminal: &str) -> Option<PublicKey> {
        // A map of keys stays whole even if a holder panicked.
        self.keys.read().unwrap_or_else(|e| e.into_inner()).get(terminal).copied()
    }

    /// Remembers the key a request from `terminal` verified under, as the database held it.
    pub(crate) fn put(&self, terminal: &str, key: PublicKey) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= MAX_KEYS && !keys.contains_key(terminal) {
            keys.clear();
        }
        keys.insert(terminal.to_owned(), key);
    }

    pub(crate) fn forget(&self, terminal: &str) {
        self.keys.write().unwrap_or_else(|e| e.into_inner()).remove(terminal);
    }
}
