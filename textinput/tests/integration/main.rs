//! textinput's integration tests: the real engines with Debian's data. They
//! fail, never skip, when a package is missing (`./dev test` installs them).

mod handwriting;
mod layouts;
mod pinyin;
mod checks;

/// librime is one engine per process and allows one visit at a time: tests
/// that open one take this lock (the test harness runs tests in threads).
pub fn rime_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
