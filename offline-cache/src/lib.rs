//! Terminal-side storage and sync.
//!
//! [`Outbox`] is the durable SQLite queue of sealed submissions a villager
//! was told are saved; [`SyncClient`] sends it to the hub over
//! `model::protocol`. Share one `Outbox` (it is `Clone + Send + Sync`)
//! between the UI session, which enqueues, and the sync worker, which drains.
//! See README.md for states, sealing, alerts and the audit log.

mod audit;
mod backoff;
mod clock;
mod disk;
/// Free space on a file system (kioskctl status).
pub use disk::free_bytes;
pub mod enroll;
mod error;
mod hub_url;
mod identity;
mod index;
mod export;
mod operators;
mod outbox;
mod pinning;
mod platform_key;
mod sealed_row;
mod pulled;
mod schema;
mod sync;

pub use audit::{AuditEntry, AuditReport, BrokenLink, LinkProblem};
pub use error::{StoreError, SyncError};
pub use outbox::{
    Alert, Enqueued, OpenReport, Outbox, OutboxConfig, OutboxEntry, OutboxState, PurgeReport, QueueCounts, SealedCopy,
    StoreSettings,
};
pub use export::{write_export_file, ExportSummary};
pub use operators::{LoggedIn, LoginError, LoginPolicy, VillageTally};
pub use schema::MovedAside;
pub use backoff::{Backoff, MAX_RETRY_AFTER};
pub use enroll::{EnrolledTerminal, EnrollError, Enroller};
pub use hub_url::check_hub_url;
pub use identity::{DeviceIdentity, IdentityError};
pub use platform_key::PlatformKeyState;
pub use pulled::{LocalCaseStatus, PendingEvaluation};
pub use sync::{install_crypto_provider, update_report, DiagnosticsSource, StopReason, SyncClient, SyncConfig, SyncReport, MAX_UPDATE_BYTES};
pub use sync::{REPORT_FILE as UPDATE_REPORT_FILE, TARGET_FILE as UPDATE_TARGET_FILE};

/// A new platform key pair from the operating system's CSPRNG, for demos,
/// tests and tools. A real platform key is made and kept on the platform
/// side; a terminal is only ever given the public half.
pub fn generate_platform_key() -> model::seal::PlatformSecretKey {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    model::seal::PlatformSecretKey::generate(model::seal::default_suite(), &mut rng)
}
