//! The visit lock (issue 19): while a visit is in progress (any screen but
//! home) the kiosk holds a shared `flock` on `<data_dir>/visit.lock`.
//! `kioskctl update follow` (root) installs an update only when it can take
//! that lock exclusively, and keeps it for the whole install, so an update
//! never restarts the kiosk in the middle of someone's filing. The lock
//! goes with the process: a crashed kiosk holds nothing.
//!
//! Two holders share the one lock: the villager's own visit, and on a van
//! an assistant's session (login to logout or timeout), during which the
//! villager session waits on its home screen. The file is held while
//! either is on.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Mutex;

/// Who wants the lock held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A villager's visit (any screen but home).
    Villager,
    /// An assistant logged in on a van (filings on behalf).
    Assisted,
}

#[derive(Default)]
struct State {
    villager: bool,
    assisted: bool,
    file: Option<File>,
}

/// Holds the lock for the length of a visit or an assisted session.
pub struct VisitLock {
    path: PathBuf,
    held: Mutex<State>,
}

impl VisitLock {
    /// The lock file at `path`, not yet held.
    pub fn new(path: PathBuf) -> VisitLock {
        VisitLock { path, held: Mutex::new(State::default()) }
    }

    /// Told with each view: takes the lock when a visit starts, lets it go
    /// back at home (unless an assisted session still holds it).
    pub fn visit(&self, in_visit: bool) {
        self.hold(Holder::Villager, in_visit);
    }

    /// `who` wants the lock held (`on`) or is done with it. The file is
    /// locked while any holder is on and unlocked when the last lets go.
    pub fn hold(&self, who: Holder, on: bool) {
        let mut state = self.held.lock().unwrap_or_else(|e| e.into_inner());
        match who {
            Holder::Villager => state.villager = on,
            Holder::Assisted => state.assisted = on,
        }
        if !state.villager && !state.assisted {
            state.file = None;
            return;
        }
        if state.file.is_some() {
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
            Ok(()) => state.file = Some(file),
            // The updater holds it: the kiosk is about to be restarted into
            // the new version; the visit goes on as far as it gets.
            Err(std::fs::TryLockError::WouldBlock) => tracing::warn!("an update is being installed; this visit may be cut short"),
            Err(std::fs::TryLockError::Error(e)) => tracing::warn!(error = %e, "cannot take the visit lock"),
        }
    }

    /// Whether the lock file is held now (for tests and diagnostics).
    pub fn is_held(&self) -> bool {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).file.is_some()
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

    #[test]
    fn an_assisted_session_holds_the_lock_while_the_villager_session_is_home() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("visit.lock");
        let lock = VisitLock::new(path.clone());
        let updater = || File::open(&path).map(|f| f.try_lock().is_ok());
        lock.hold(Holder::Assisted, true);
        // The villager session sits on home meanwhile and says so with each view.
        lock.visit(false);
        assert!(lock.is_held());
        assert!(!updater().unwrap(), "the updater waits while the assistant is logged in");
        // The filing on behalf runs the villager screens; its end is no logout.
        lock.visit(true);
        lock.visit(false);
        assert!(!updater().unwrap(), "still logged in");
        lock.hold(Holder::Assisted, false);
        assert!(!lock.is_held());
        assert!(updater().unwrap(), "after logout the updater may install");
    }
}
