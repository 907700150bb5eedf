//! The kiosk's systemd watchdog (issue 8): READY=1 and WATCHDOG=1 arrive on
//! a fake NOTIFY_SOCKET while the event loop runs, and stop while the event
//! loop is blocked, which is what makes systemd restart a frozen kiosk.
//! One test per process: the event-loop testing backend is process-wide.

use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ui::slint;
use ui::slint::ComponentHandle as _;

#[test]
fn watchdog_pings_stop_while_the_event_loop_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    // As systemd sets them for WatchdogSec=200ms; before any thread starts.
    std::env::set_var("NOTIFY_SOCKET", &sock_path);
    std::env::set_var("WATCHDOG_USEC", "200000");
    std::env::remove_var("WATCHDOG_PID");

    let t0 = Instant::now();
    let received: Arc<Mutex<Vec<(Duration, String)>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = {
        let (received, done) = (received.clone(), done.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    let msg = String::from_utf8_lossy(&buf[..n]).trim().to_owned();
                    received.lock().unwrap().push((t0.elapsed(), msg));
                }
            }
        })
    };

    i_slint_backend_testing::init_integration_test_with_system_time();
    let window = ui::KioskWindow::new().unwrap();
    window.show().unwrap();
    let watchdog = kiosk::watchdog::start();
    assert_eq!(watchdog.interval, Some(Duration::from_millis(100)), "half of WATCHDOG_USEC");

    // Run 700 ms, freeze the loop for 1 s (a hung handler), run 700 ms more.
    let frozen: Arc<Mutex<Option<(Duration, Duration)>>> = Arc::default();
    let freeze = slint::Timer::default();
    let f = frozen.clone();
    freeze.start(slint::TimerMode::SingleShot, Duration::from_millis(700), move || {
        let from = t0.elapsed();
        std::thread::sleep(Duration::from_millis(1000));
        *f.lock().unwrap() = Some((from, t0.elapsed()));
    });
    let stop = slint::Timer::default();
    stop.start(slint::TimerMode::SingleShot, Duration::from_millis(2400), || {
        let _ = slint::quit_event_loop();
    });
    slint::run_event_loop_until_quit().unwrap();
    drop(watchdog);
    std::thread::sleep(Duration::from_millis(100));
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    listener.join().unwrap();

    let received = received.lock().unwrap().clone();
    let (from, to) = frozen.lock().unwrap().expect("the freeze ran");
    assert_eq!(received.first().map(|(_, m)| m.as_str()), Some("READY=1"), "{received:?}");
    let pings: Vec<Duration> = received.iter().filter(|(_, m)| m == "WATCHDOG=1").map(|(t, _)| *t).collect();
    let before = pings.iter().filter(|t| **t < from).count();
    // Allow one ping that was already in flight as the freeze began.
    let during = pings.iter().filter(|t| **t > from + Duration::from_millis(20) && **t < to).count();
    let after = pings.iter().filter(|t| **t > to).count();
    assert!(before >= 4, "pings while the loop ran: {pings:?}");
    assert_eq!(during, 0, "no ping while the loop was blocked {from:?}..{to:?}: {pings:?}");
    assert!(after >= 3, "pings again once it ran: {pings:?}");
    // The longest silence covers the freeze: more than WatchdogSec, so systemd would act.
    let longest = pings.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(longest > Duration::from_millis(900), "{longest:?}");
}
