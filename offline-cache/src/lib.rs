//! Terminal-side storage and sync.
//!
//! [`Outbox`] is the durable SQLite queue of submissions a villager was told
//! are saved; [`SyncClient`] sends it to the hub over `model::protocol`.
//! Share one `Outbox` (it is `Clone + Send + Sync`) between the UI session,
//! which enqueues, and the sync worker, which drains.

mod error;
mod outbox;
mod schema;
mod sync;

pub use error::{StoreError, SyncError};
pub use outbox::{Outbox, OutboxEntry, OutboxState, QueueCounts, StoreSettings};
pub use sync::{install_crypto_provider, StopReason, SyncClient, SyncConfig, SyncReport};
