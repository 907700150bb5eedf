//! Keyed hashes for the local index.
//!
//! The index must find a villager's filings from their ID card (progress
//! query) without storing the number. It stores HMAC-SHA256 under a random
//! per-terminal key kept in the database. That stops precomputed tables and
//! linking the same person across terminals; it does not stop someone who
//! has the whole file from trying every plausible ID number of the county
//! (they are structured, so there are few). A key held outside the file
//! (TPM, DESIGN §8) would; that comes with enrollment.

use hmac::{Hmac, Mac};
use model::IdNumber;
use rusqlite::{Connection, OptionalExtension};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::StoreError;

pub(crate) const KEY_NAME: &str = "index_key";

pub(crate) struct IndexKey(Zeroizing<Vec<u8>>);

impl IndexKey {
    /// A fresh random key (at database creation).
    pub(crate) fn generate() -> Result<IndexKey, StoreError> {
        let mut k = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut k).map_err(|e| StoreError::Corrupt(format!("no entropy for the index key: {e}")))?;
        Ok(IndexKey(k))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn load(conn: &Connection) -> Result<IndexKey, StoreError> {
        let key: Option<Vec<u8>> =
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [KEY_NAME], |r| r.get(0)).optional()?;
        match key {
            Some(k) if k.len() == 32 => Ok(IndexKey(Zeroizing::new(k))),
            _ => Err(StoreError::Corrupt("the index key is missing".into())),
        }
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> String {
        // HMAC takes keys of any length; ours is always 32 bytes.
        let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts any key length")
        };
        m.update(domain);
        m.update(&[0]);
        m.update(data);
        hex::encode(m.finalize().into_bytes())
    }

    /// The index's stand-in for an ID number.
    pub(crate) fn id_number_hash(&self, id: &IdNumber) -> String {
        self.mac(b"id-number", id.expose().as_bytes())
    }

    /// Digest of a submission's plain content, for idempotent replay: the
    /// sealed bytes differ on every sealing, the content doesn't.
    pub(crate) fn content_mac(&self, canonical: &[u8]) -> String {
        self.mac(b"content", canonical)
    }
}
