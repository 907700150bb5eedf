//! Updates from the hub (issue 19), on the wire: the version a terminal's
//! rollout stage offers it (in the heartbeat's answer) and what became of
//! its last install (in the heartbeat). The bundle format and its
//! verification are `deploy::update`'s.

use serde::{Deserialize, Serialize};

/// The bundle the hub wants this terminal to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateTarget {
    /// Package version (`deploy::update::valid_version`).
    pub version: String,
    /// SHA-256 (hex) of the bundle file, as published.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// How an install ended on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateOutcome {
    /// Installed and its health check passed.
    Installed,
    /// Refused, or failed its health check and was rolled back locally.
    Failed,
}

/// The terminal's last install, reported with each heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateReport {
    /// The version it tried.
    pub version: String,
    /// How that ended.
    pub outcome: UpdateOutcome,
    /// Why, in a line (no personal data: versions, commands, exit codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
