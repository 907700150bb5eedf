//! The files of updates from the hub that the sync round and the root
//! installer (`kioskctl update follow`) share in the updates directory (a
//! leaf: `update.rs` fetches, deploy's `follow.rs` installs).

use std::path::Path;

use model::update::UpdateReport;

/// What the hub offers now (written by the round, read by the installer).
pub const TARGET_FILE: &str = "target.json";
/// The installer's last outcome (written by it, carried by heartbeats).
pub const REPORT_FILE: &str = "report.json";
/// Largest bundle fetched: the data partition is for filings first.
pub const MAX_UPDATE_BYTES: u64 = 512 << 20;

/// The installer's last report, when there is one (read for each heartbeat).
pub fn update_report(dir: &Path) -> Option<UpdateReport> {
    let bytes = std::fs::read(dir.join(REPORT_FILE)).ok()?;
    if bytes.len() > 4096 {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

