//! Updates from the hub (issue 19), the kiosk's side: fetching only. When
//! a heartbeat's answer names a target update, the bundle is downloaded
//! into the updates directory (`SyncConfig::updates_dir`, on the data
//! partition) in pieces of at most 1 MiB from the offset the partial file
//! ends at, so a dropped link loses at most one piece and the next round
//! goes on from there, like the attachments' resumable upload the other
//! way. A complete file is hash-checked against the target and renamed to
//! `<version>.tar`; `target.json` says what the hub offers now (removed,
//! with every downloaded bundle, when it offers nothing: a halted rollout
//! leaves nothing behind to install).
//!
//! Installing is not done here: the kiosk runs as `cunban` on a read-only
//! root. `kioskctl update follow` (root, `deploy`) verifies the bundle with
//! the update key only root can change, installs it at the quiet hour when
//! no visit is in progress, and writes `report.json`, which the next
//! heartbeat carries (`update_report`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use model::update::UpdateTarget;
use reqwest::header::CONTENT_RANGE;
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};

use super::outcome::*;
use super::update_files::{update_report, MAX_UPDATE_BYTES, TARGET_FILE};
use super::SyncClient;

fn local(what: &str, path: &Path, e: std::io::Error) -> Failure {
    Failure::Stop(StopReason::LocalStore(format!("{what} {}: {e}", path.display())))
}

/// Writes `bytes` to `path` through a temp file and a rename.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Drops every bundle and partial download except `keep`'s.
fn drop_others(dir: &Path, keep: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let version = name.strip_suffix(".tar.part").or_else(|| name.strip_suffix(".tar"));
        if version.is_some_and(|v| Some(v) != keep) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl SyncClient {
    pub(super) fn updates_dir(&self) -> Option<&PathBuf> {
        self.config.updates_dir.as_ref()
    }

    /// Follows the heartbeat answer's `target`: records it, and fetches the
    /// bundle unless it is here already or was tried.
    pub(super) async fn follow_update(&self, target: Option<&UpdateTarget>, report: &mut SyncReport) -> Result<(), Failure> {
        let Some(dir) = self.updates_dir().cloned() else { return Ok(()) };
        std::fs::create_dir_all(&dir).map_err(|e| local("cannot create", &dir, e))?;
        let target_path = dir.join(TARGET_FILE);
        let Some(t) = target else {
            if target_path.exists() {
                tracing::info!("the hub offers no update now; downloaded bundles dropped");
            }
            let _ = std::fs::remove_file(&target_path);
            drop_others(&dir, None);
            return Ok(());
        };
        let plausible = model::bundle::valid_version(&t.version)
            && t.sha256.len() == 64
            && t.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && (1..=MAX_UPDATE_BYTES).contains(&t.size);
        if !plausible {
            tracing::warn!(size = t.size, "the hub's update target is not one this terminal fetches");
            return Ok(());
        }
        let body = serde_json::to_vec(t).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        if std::fs::read(&target_path).ok().as_deref() != Some(body.as_slice()) {
            write_whole(&target_path, &body).map_err(|e| local("cannot write", &target_path, e))?;
        }
        drop_others(&dir, Some(&t.version));
        // Tried already (installed, or failed and rolled back): nothing to fetch.
        if update_report(&dir).is_some_and(|r| r.version == t.version) {
            return Ok(());
        }
        let done = dir.join(format!("{}.tar", t.version));
        if done.exists() {
            return Ok(());
        }
        let part = dir.join(format!("{}.tar.part", t.version));
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&part).map_err(|e| local("cannot open", &part, e))?;
        let mut offset = file.metadata().map_err(|e| local("cannot read", &part, e))?.len();
        if offset > t.size {
            file.set_len(0).map_err(|e| local("cannot truncate", &part, e))?;
            offset = 0;
        }
        let resumed_at = offset;
        while offset < t.size {
            let path = format!("/v1/updates/{}/bundle?offset={offset}", t.version);
            let resp = self.request(Method::GET, &path, None, None).await?;
            match resp.status {
                StatusCode::PARTIAL_CONTENT => {}
                // Withdrawn (halted, paused) since the heartbeat: the next answer says what next.
                StatusCode::NOT_FOUND => return Ok(()),
                StatusCode::RANGE_NOT_SATISFIABLE => {
                    file.set_len(0).map_err(|e| local("cannot truncate", &part, e))?;
                    return Ok(());
                }
                _ => return Err(self.failure(&resp)),
            }
            let starts_here = resp
                .headers
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|s| s.parse::<u64>().ok())
                == Some(offset);
            if !starts_here || resp.body.is_empty() || offset + resp.body.len() as u64 > t.size {
                return Err(Failure::Stop(StopReason::CaptivePortal("the update download answered bytes from elsewhere".into())));
            }
            // Each piece is on disk before the next is asked for: a power cut keeps it.
            file.write_all(&resp.body).and_then(|()| file.sync_data()).map_err(|e| local("cannot write", &part, e))?;
            offset += resp.body.len() as u64;
        }
        drop(file);
        let got = sha256_of(&part).map_err(|e| local("cannot read", &part, e))?;
        if got != t.sha256 {
            // Bytes that do not add up are worth nothing: start again next round.
            let _ = std::fs::remove_file(&part);
            tracing::warn!(version = %t.version, "a downloaded update does not hash to what the hub published; fetched again next round");
            return Ok(());
        }
        std::fs::rename(&part, &done).map_err(|e| local("cannot keep", &done, e))?;
        tracing::info!(version = %t.version, bytes = t.size, resumed_from = resumed_at, "update downloaded; kioskctl installs it at the quiet hour");
        report.update_fetched = Some(t.version.clone());
        Ok(())
    }
}
