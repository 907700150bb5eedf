//! systemd notification from the UI's event loop: READY=1 once the loop
//! runs, then WATCHDOG=1 at half the interval systemd asked for
//! (`WATCHDOG_USEC`). The pings come from a Slint timer, so they stop when
//! the event loop is stuck: systemd then kills and restarts the kiosk
//! (`WatchdogSec=` and `Restart=always` in deploy/systemd/cunban-kiosk.service).
//! Without `NOTIFY_SOCKET` (not under systemd) nothing is sent.

use std::time::Duration;

use sd_notify::NotifyState;

/// Keeps the timers alive; drop it to stop notifying.
pub struct Watchdog {
    _ready: slint::Timer,
    _ping: Option<slint::Timer>,
    /// Half of WATCHDOG_USEC, if systemd asked for pings.
    pub interval: Option<Duration>,
}

fn send(state: NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        // Logged, not fatal: a kiosk that cannot tell systemd still serves villagers.
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// The watchdog interval systemd asked for. Under `cage` the service's main
/// process is cage and the kiosk its child: systemd's WATCHDOG_PID then
/// names our parent, and (with NotifyAccess=all) our pings count for it.
fn watchdog_usec() -> Option<Duration> {
    if let Some(d) = sd_notify::watchdog_enabled() {
        return Some(d);
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    let pid: u32 = std::env::var("WATCHDOG_PID").ok()?.parse().ok()?;
    (pid == std::os::unix::process::parent_id()).then(|| Duration::from_micros(usec))
}

/// Starts notifying. Call before running the event loop (the timers fire
/// once it runs) and keep the result for the life of the loop.
pub fn start() -> Watchdog {
    let ready = slint::Timer::default();
    ready.start(slint::TimerMode::SingleShot, Duration::ZERO, || {
        send(NotifyState::Ready);
        tracing::info!("told systemd the kiosk is ready");
    });
    let interval = watchdog_usec().map(|usec| (usec / 2).max(Duration::from_millis(10)));
    let ping = interval.map(|every| {
        let t = slint::Timer::default();
        t.start(slint::TimerMode::Repeated, every, || send(NotifyState::Watchdog));
        tracing::info!(every_ms = every.as_millis() as u64, "watchdog pings from the event loop");
        t
    });
    Watchdog { _ready: ready, _ping: ping, interval }
}
