//! Remote diagnostics (issue 19): staff ask a terminal for a bundle from
//! the fleet page; the terminal learns of it in a heartbeat's answer,
//! announces the bundle (`POST /v1/diagnostics/{id}` [`DiagnosticsAnnounce`])
//! and uploads it with the same resumable transfer as attachments
//! (`GET|PUT /v1/diagnostics/{id}/bundle/{sha256}`, Content-Range). Staff
//! download it from the hub. Nothing personal is in it: counts, versions,
//! devices, and log lines passed through [`crate::mask::mask_free_text`].

use serde::{Deserialize, Serialize};

use crate::audit_chain::AuditHead;
use crate::protocol::{DeviceHealth, QueueSnapshot};

/// Largest bundle a hub accepts.
pub const BUNDLE_LIMIT: u64 = 1024 * 1024;

pub use crate::protocol::DiagnosticsRequest;

/// `POST /v1/diagnostics/{id}`: the bundle the terminal is about to upload.
/// Announcing again (a restarted terminal built a new bundle) replaces an
/// unfinished one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsAnnounce {
    /// SHA-256 (hex) of the bundle's bytes.
    pub sha256: String,
    /// Its size in bytes, at most [`BUNDLE_LIMIT`].
    pub size: u64,
}

/// The bundle: JSON, readable by staff as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsBundle {
    /// The request it answers.
    pub request_id: uuid::Uuid,
    /// The terminal that made it.
    pub terminal_id: String,
    /// When it was made (the terminal's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: time::OffsetDateTime,
    /// Software, catalog and config versions.
    pub app_version: String,
    /// The catalog in use.
    pub catalog_version: Option<u64>,
    /// The signed config in use.
    pub config_version: Option<u64>,
    /// The outbox's counts.
    pub queue: QueueSnapshot,
    /// Free bytes on the data partition.
    pub free_disk_bytes: Option<u64>,
    /// The device table as the kiosk last reported it.
    pub devices: Vec<DeviceHealth>,
    /// Alert codes.
    pub alerts: Vec<String>,
    /// The audit chain's head.
    pub audit_head: Option<AuditHead>,
    /// Self-test lines (device checks, the local checks of the outbox).
    pub selftest: Vec<String>,
    /// Recent log lines, personal data masked.
    pub logs: Vec<String>,
}
