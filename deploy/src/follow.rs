//! `kioskctl update follow` (issue 19): installs what the hub's rollout
//! offers this terminal. Runs as root (a systemd timer); the kiosk, which
//! runs as `cunban` on a read-only root, only downloads (offline-cache's
//! sync round writes `updates/target.json` and `updates/<version>.tar`).
//! Why split so: installing needs root and the update key only root can
//! change, and must not depend on anything the kiosk user could forge;
//! fetching needs the device key and the sync loop's link handling, which
//! the kiosk has.
//!
//! One pass: nothing to do unless a downloaded bundle matches the target
//! and is not the running or a failed version; nothing is installed
//! outside the quiet hours or while a visit is in progress (the kiosk
//! holds a shared `flock` on `visit.lock` during a visit; we take it
//! exclusively for the whole install, so no visit starts meanwhile). The
//! bundle is copied into the root-only state directory and hash-checked
//! against the target there, then installed by [`Updater::install`] exactly
//! as `kioskctl update install` does (signature, package, version, every
//! file's hash; apply; health check; local, immediate rollback). The
//! outcome goes to `updates/report.json`, which the next heartbeat carries.

use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::io::AsRawFd as _;
use std::path::{Path, PathBuf};

use model::auth::PublicKey;
use model::update::{UpdateOutcome, UpdateReport, UpdateTarget};
use offline_cache::{UPDATE_REPORT_FILE, UPDATE_TARGET_FILE};
use sha2::{Digest as _, Sha256};

use crate::update::{System, UpdateError, Updater};

/// Where and when to install.
pub struct Follow {
    /// `<data_dir>/updates`: written by the kiosk.
    pub updates_dir: PathBuf,
    /// `<data_dir>/visit.lock`: held (shared) by the kiosk during a visit.
    pub visit_lock: PathBuf,
    /// Root-only: the updater's versions, `current`, history.
    pub state_dir: PathBuf,
    /// Hours (China time, 0..=24) between which installing is allowed:
    /// `start <= hour < end`, or across midnight when start > end.
    pub quiet_hours: (u8, u8),
}

/// What one pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowOutcome {
    /// Nothing offered, not downloaded yet, or already done (why).
    Nothing(String),
    /// Something to install, but not now (why: the hour, a visit).
    Later(String),
    /// Installed, healthy.
    Installed(String),
    /// Refused or failed its health check (and rolled back): the report.
    Failed(UpdateReport),
}

/// Is `hour` inside `(start, end)` as [`Follow::quiet_hours`] means it?
pub fn in_quiet_hours(hour: u8, (start, end): (u8, u8)) -> bool {
    if start <= end {
        start <= hour && hour < end
    } else {
        hour >= start || hour < end
    }
}

/// The hour now in China Standard Time (Gansu has no other; no DST).
pub fn china_hour_now() -> u8 {
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    now.hour()
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError {
    let path = path.to_owned();
    move |source| UpdateError::Io { what, path, source }
}

/// Opens a file the kiosk user may have written without following a
/// symlink it could have planted; None when it is not there.
fn open_nofollow(path: &Path) -> Result<Option<std::fs::File>, UpdateError> {
    match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path) {
        Ok(f) => {
            let meta = f.metadata().map_err(io("cannot read", path))?;
            if !meta.is_file() {
                return Err(UpdateError::NotABundle(format!("{} is not a plain file", path.display())));
            }
            Ok(Some(f))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("cannot open", path)(e)),
    }
}

fn read_small(path: &Path) -> Result<Option<Vec<u8>>, UpdateError> {
    let Some(f) = open_nofollow(path)? else { return Ok(None) };
    let mut buf = Vec::new();
    f.take(64 * 1024).read_to_end(&mut buf).map_err(io("cannot read", path))?;
    Ok(Some(buf))
}

/// A visit holds the lock shared; we try for it exclusively, without waiting.
/// The returned file keeps it until dropped. No lock file: no kiosk has run.
fn no_visit(lock: &Path) -> Result<Option<Option<std::fs::File>>, UpdateError> {
    let Some(f) = open_nofollow(lock)? else { return Ok(Some(None)) };
    // SAFETY: flock on a descriptor we own; no memory is involved.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        Ok(Some(Some(f)))
    } else {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(None)
        } else {
            Err(io("cannot lock", lock)(e))
        }
    }
}

impl Follow {
    fn report(&self, r: &UpdateReport) -> Result<(), UpdateError> {
        let bytes = serde_json::to_vec(r).map_err(|e| UpdateError::NotABundle(e.to_string()))?;
        let path = self.updates_dir.join(UPDATE_REPORT_FILE);
        crate::safe_fs::write_atomically(&path, &bytes, 0o644, None).map_err(|e| UpdateError::NotABundle(e.to_string()))
    }

    /// One pass at hour `hour` (China time), installing through `system`.
    pub fn once(&self, key: &PublicKey, system: &mut dyn System, hour: u8) -> Result<FollowOutcome, UpdateError> {
        let Some(body) = read_small(&self.updates_dir.join(UPDATE_TARGET_FILE))? else {
            return Ok(FollowOutcome::Nothing("the hub offers no update".into()));
        };
        let target: UpdateTarget = serde_json::from_slice(&body).map_err(|e| UpdateError::NotABundle(format!("{UPDATE_TARGET_FILE}: {e}")))?;
        if !crate::update::valid_version(&target.version) {
            return Err(UpdateError::NotABundle(format!("{UPDATE_TARGET_FILE} names no plain version")));
        }
        let updater = Updater::new(&self.state_dir);
        if updater.current()?.as_deref() == Some(target.version.as_str()) {
            return Ok(FollowOutcome::Nothing(format!("{} runs already", target.version)));
        }
        let tried = read_small(&self.updates_dir.join(UPDATE_REPORT_FILE))?.and_then(|b| serde_json::from_slice::<UpdateReport>(&b).ok());
        if tried.is_some_and(|r| r.version == target.version && r.outcome == UpdateOutcome::Failed) {
            return Ok(FollowOutcome::Nothing(format!("{} failed here before; not tried again", target.version)));
        }
        let downloaded = self.updates_dir.join(format!("{}.tar", target.version));
        let Some(mut src) = open_nofollow(&downloaded)? else {
            return Ok(FollowOutcome::Nothing(format!("{} is not downloaded yet", target.version)));
        };
        if !in_quiet_hours(hour, self.quiet_hours) {
            return Ok(FollowOutcome::Later(format!("{} waits for the quiet hours {}-{} (now {hour})", target.version, self.quiet_hours.0, self.quiet_hours.1)));
        }
        let Some(_visit_guard) = no_visit(&self.visit_lock)? else {
            return Ok(FollowOutcome::Later(format!("{} waits: a visit is in progress", target.version)));
        };
        // Our own copy, in a directory the kiosk user cannot reach, is what
        // gets verified and installed: the kiosk cannot swap it midway.
        std::fs::create_dir_all(&self.state_dir).map_err(io("cannot create", &self.state_dir))?;
        let copy = self.state_dir.join("incoming.tar");
        let _ = std::fs::remove_file(&copy);
        let mut out = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&copy).map_err(io("cannot create", &copy))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = src.read(&mut buf).map_err(io("cannot read", &downloaded))?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            std::io::Write::write_all(&mut out, &buf[..k]).map_err(io("cannot write", &copy))?;
        }
        out.sync_all().map_err(io("cannot write", &copy))?;
        drop(out);
        let result = if hex::encode(h.finalize()) != target.sha256 {
            Err(UpdateError::PayloadMismatch { path: downloaded.display().to_string(), why: "not the bundle the hub published".into() })
        } else {
            updater.install(&copy, key, system, false)
        };
        let _ = std::fs::remove_file(&copy);
        // The kiosk's copy has served its purpose either way.
        let _ = std::fs::remove_file(&downloaded);
        match result {
            Ok(done) => {
                self.report(&UpdateReport { version: done.version.clone(), outcome: UpdateOutcome::Installed, detail: done.previous.map(|p| format!("was {p}")) })?;
                Ok(FollowOutcome::Installed(done.version))
            }
            // A disk or permission problem says nothing about the version: try again next pass.
            Err(e @ UpdateError::Io { .. }) => Err(e),
            Err(e) => {
                let r = UpdateReport { version: target.version, outcome: UpdateOutcome::Failed, detail: Some(e.to_string().chars().take(200).collect()) };
                self.report(&r)?;
                Ok(FollowOutcome::Failed(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_around_midnight() {
        assert!(in_quiet_hours(2, (2, 5)) && in_quiet_hours(4, (2, 5)) && !in_quiet_hours(5, (2, 5)) && !in_quiet_hours(1, (2, 5)));
        assert!(in_quiet_hours(23, (23, 3)) && in_quiet_hours(0, (23, 3)) && !in_quiet_hours(3, (23, 3)) && !in_quiet_hours(12, (23, 3)));
        assert!((0..24).all(|h| in_quiet_hours(h, (0, 24))));
    }
}
