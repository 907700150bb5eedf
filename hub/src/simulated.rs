//! Simulated terminals for load tools, benchmarks and examples: N terminals
//! with real Ed25519 device keys, registered in one bulk insert.
//!
//! `hub-load`, `sync-bench heartbeats` and the `fleet_at_scale` example all
//! need the same thing; it lives here, not in `testkit`, because it speaks
//! the hub's store and `model`'s keys, and `testkit` depends on no crate of
//! ours (hub/README.md, "Simulated terminals").

use model::auth::SigningKey;
use model::VillageCode;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::store::{NewTerminal, StoreError, TerminalStore};

/// One simulated terminal: its id, its private key (to sign requests
/// with) and where it stands.
pub struct SimulatedTerminal {
    pub id: String,
    pub key: SigningKey,
    pub village_code: Option<VillageCode>,
}

/// The device key of terminal `index` under `seed`: SHA-256 of both, so
/// keys are distinct, repeatable and cost nothing to store.
fn key_of(seed: u64, index: u64) -> SigningKey {
    let mut h = Sha256::new();
    h.update(b"cunban simulated terminal");
    h.update(seed.to_le_bytes());
    h.update(index.to_le_bytes());
    SigningKey::from_seed(&h.finalize().into())
}

/// `count` terminals `{id_prefix}000000`…, with real keys derived from
/// `seed` (the same seed, the same keys: a run is repeatable); terminal `i`
/// stands in `villages[i % len]` (nowhere when `villages` is empty).
pub fn simulated_terminals(count: usize, seed: u64, id_prefix: &str, villages: &[VillageCode]) -> Vec<SimulatedTerminal> {
    (0..count)
        .map(|i| SimulatedTerminal {
            id: format!("{id_prefix}{i:06}"),
            key: key_of(seed, i as u64),
            village_code: (!villages.is_empty()).then(|| villages[i % villages.len()].clone()),
        })
        .collect()
}

/// Registers `terminals` in one transaction ([`TerminalStore::add_terminals`]:
/// all or none; the same terminals again are fine), each labelled `label`.
/// Answers how many were given.
pub fn register_simulated(store: &dyn TerminalStore, terminals: &[SimulatedTerminal], label: Option<&str>, at: OffsetDateTime) -> Result<usize, StoreError> {
    let rows: Vec<NewTerminal> = terminals
        .iter()
        .map(|t| NewTerminal { id: t.id.clone(), public_key: t.key.public_key(), village_code: t.village_code.clone(), label: label.map(str::to_owned) })
        .collect();
    store.add_terminals(&rows, at)
}
