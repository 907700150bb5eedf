//! The visit lock (issue 19): while a visit is in progress (any screen but
//! home) the kiosk holds a shared `flock` on `<data_dir>/visit.lock`.
//! `kioskctl update follow` (root) installs an update only when it can take
//! that lock exclusively, and keeps it for the whole install, so an update
//! never restarts the kiosk in the middle of someone's filing. The lock
//! goes with the process: a crashed kiosk holds nothing.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Mutex;

/// Holds the lock for the length of a visit.
pub struct VisitLock {
    path: PathBuf,
    held: Mutex<Option<File>>,
}

impl VisitLock {
    /// The lock file at `path`, not yet held.
    pub fn new(path: PathBuf) -> VisitLock {
        VisitLock { path, held: Mutex::new(None) }
    }

    /// Told with each view: takes the lock when a visit starts, lets it go
    /// back at home.
    pub fn visit(&self, in_visit: bool) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if !in_visit {
            *held = None;
            return;
        }
        if held.is_some() {
            return;
        }
        let file = match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&self.path) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the visit lock; an update could start during this visit");
                return;
            }
        };
        match file.try_lock_shared() {
            Ok(()) => *held = Some(file),
            // The updater holds it: the kiosk is about to be restarted into
            // the new version; the visit goes on as far as it gets.
            Err(std::fs::TryLockError::WouldBlock) => tracing::warn!("an update is being installed; this visit may be cut short"),
            Err(std::fs::TryLockError::Error(e)) => tracing::warn!(error = %e, "cannot take the visit lock"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_holds_the_lock_the_updater_needs_and_home_lets_it_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("visit.lock");
        let lock = VisitLock::new(path.clone());
        let updater = || File::open(&path).map(|f| f.try_lock().is_ok());
        lock.visit(true);
        assert!(!updater().unwrap(), "the updater cannot take the lock during a visit");
        lock.visit(true);
        lock.visit(false);
        assert!(updater().unwrap(), "back at home, the updater may install");
    }
}
