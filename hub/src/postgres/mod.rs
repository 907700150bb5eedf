//! The PostgreSQL store: several hub instances over one database (issue 17).
//!
//! Every role trait is implemented here over the same constraints as
//! SQLite's (primary keys and UNIQUE decide replays; case numbers come
//! from an identity column; nonces, enrollment codes and e-license
//! allowances are rows), so any instance may answer any request. Where
//! SQLite serialises writers with one lock, this store takes a
//! transaction-scoped advisory lock on the key a decision is about (a
//! terminal, a code). Attachment bytes stay in a blob directory
//! ([`crate::blobs`]), which instances must share.
//!
//! `mod.rs` holds the store and its pool; each role is implemented in its
//! own module (`submissions`, `cases`, `terminals`, `enrollment`, `audit`,
//! `ratings`, `heartbeat`: the heartbeat's one round trip); `rows` and
//! `pool` are leaves.

mod audit;
mod backlog;
mod cases;
mod enrollment;
mod mail_orders;
pub mod from_sqlite;
mod heartbeat;
mod pool;
mod progress;
mod rate_limit;
mod ratings;
mod reader;
mod rollouts;
mod rows;
mod schema;
mod submissions;
mod terminals;

use std::path::Path;
use std::sync::atomic::AtomicU64;

use crate::objects::Objects;
use crate::store::StoreError;

pub use reader::PgReader;

pub struct PgStore {
    pool: pool::PgPool,
    blobs: Objects,
    /// Published update bundles, `<blob dir>/updates/<sha256>.tar` (or the bucket's `updates/`).
    updates: crate::bundle_files::BundleFiles,
    /// Requests since old nonces were last forgotten (see `terminals`).
    nonce_sweep: AtomicU64,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db` or a key=value
    /// string; `host` may be a unix socket directory), migrates the schema,
    /// and keeps attachment bytes in `blob_dir`: a folder, or an
    /// `s3://bucket?endpoint=…` URL (see [`crate::objects::s3`]).
    pub fn open(url: &str, blob_dir: &Path) -> Result<PgStore, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::Corrupt(format!("not a PostgreSQL connection string: {e}")))?;
        let pool = pool::PgPool::new(config)?;
        {
            let mut client = pool.get()?;
            pool.wait(schema::migrate(&mut client))?;
        }
        let blobs = Objects::open(blob_dir)?;
        let updates = blobs.bundles();
        Ok(PgStore { pool, blobs, updates, nonce_sweep: AtomicU64::new(0) })
    }
}

/// True for a `--db` value that names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}
