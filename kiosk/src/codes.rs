//! QR and barcode scanners as a source of `Event::CodeEntered`: serial
//! scanners (one code per line, `drivers::scanner`) and USB "keyboard wedge"
//! scanners, which type the code as a burst of key presses ending in Enter.
//! What a code means (an item's code opens its guide, a receipt's number
//! looks up its filing) is the session's business.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::scanner::BarcodeScanner;
use tracing::{info, warn};

/// Tells a keyboard-wedge scanner from a person typing: a scanner sends
/// every character within a few milliseconds and ends with Enter. A kiosk
/// has no keyboard for villagers, but a technician may plug one in; slow
/// typing is dropped, never taken for a code.
#[derive(Debug, Default)]
pub struct WedgeDetector {
    buf: String,
    last: Option<Instant>,
    /// A gap too long for a scanner happened within the current burst.
    broken: bool,
}

impl WedgeDetector {
    /// Longest gap between two keys of one scan. Wedge scanners send at
    /// 1-10 ms per key; the fastest human typists need 60 ms or more.
    pub const MAX_GAP: Duration = Duration::from_millis(40);
    /// Shortest code taken (item codes and receipt numbers are far longer).
    pub const MIN_LEN: usize = 4;
    const MAX_LEN: usize = 512;

    /// One key's text at `at`; returns a whole code when Enter ends a burst.
    pub fn key(&mut self, text: &str, at: Instant) -> Option<String> {
        if let Some(last) = self.last {
            if at.duration_since(last) > Self::MAX_GAP && !self.buf.is_empty() {
                // Too slow: this is a person; start over from this key.
                self.buf.clear();
                self.broken = false;
            }
        }
        self.last = Some(at);
        if text == "\n" || text == "\r" {
            let code = std::mem::take(&mut self.buf);
            let broken = std::mem::take(&mut self.broken);
            let code = code.trim().to_owned();
            return (!broken && code.chars().count() >= Self::MIN_LEN).then_some(code);
        }
        if text.chars().any(char::is_control) || self.buf.len() + text.len() > Self::MAX_LEN {
            // Arrows, backspace, function keys: no scanner sends those.
            self.buf.clear();
            self.broken = true;
            return None;
        }
        self.buf.push_str(text);
        None
    }
}

/// Keeps a serial QR/barcode scanner read on its own thread for the life of
/// the handle: each code goes to `on_code`; an unplugged scanner is reopened
/// (backoff 200 ms → 5 s). Dropping the handle stops the thread.
pub struct SerialScannerHandle {
    stop: Arc<AtomicBool>,
}

impl Drop for SerialScannerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn watch_serial_scanner(
    path: String,
    baud: u32,
    on_code: impl Fn(String) + Send + 'static,
) -> std::io::Result<SerialScannerHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new().name("barcode-scanner".into()).spawn(move || {
        let mut scanner: Option<BarcodeScanner> = None;
        let mut backoff = Duration::from_millis(200);
        while !stopped.load(Ordering::Relaxed) {
            let Some(s) = scanner.as_mut() else {
                match BarcodeScanner::open(&path, baud) {
                    Ok(s) => {
                        info!(path = %path, "barcode scanner opened");
                        scanner = Some(s);
                        backoff = Duration::from_millis(200);
                    }
                    Err(e) => {
                        warn!(error = %e, "barcode scanner not usable; retrying");
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
                continue;
            };
            match s.next_code(Duration::from_millis(500)) {
                // The code itself may be personal (a receipt number): not logged.
                Ok(Some(code)) => on_code(code.text),
                Ok(None) => {}
                Err(e) if e.is_device_missing() => {
                    warn!(error = %e, "barcode scanner lost; will reopen");
                    scanner = None;
                }
                // A garbled or over-long scan: the next one may be fine.
                Err(e) => warn!(error = %e, "unreadable scan ignored"),
            }
        }
    })?;
    Ok(SerialScannerHandle { stop })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(d: &mut WedgeDetector, text: &str, start: Instant, gap_ms: u64) -> Option<String> {
        let mut out = None;
        for (i, c) in text.chars().enumerate() {
            let at = start + Duration::from_millis(gap_ms * i as u64);
            out = d.key(&c.to_string(), at);
        }
        out
    }

    #[test]
    fn a_fast_burst_ending_in_enter_is_a_code_typing_is_not() {
        let mut d = WedgeDetector::default();
        let t = Instant::now();
        assert_eq!(typed(&mut d, "620000MZ0001\n", t, 5).as_deref(), Some("620000MZ0001"));
        // A person typing the same.
        assert_eq!(typed(&mut d, "620000MZ0001\n", t + Duration::from_secs(1), 150), None);
        // A slow start, then a scan: only the scan counts.
        let t2 = t + Duration::from_secs(5);
        d.key("x", t2);
        assert_eq!(typed(&mut d, "62292620261121000123\n", t2 + Duration::from_secs(1), 3).as_deref(), Some("62292620261121000123"));
        // Too short, or broken by a control key.
        assert_eq!(typed(&mut d, "12\n", t + Duration::from_secs(9), 2), None);
        let t3 = t + Duration::from_secs(10);
        typed(&mut d, "6200", t3, 2);
        d.key("\u{8}", t3 + Duration::from_millis(10));
        assert_eq!(typed(&mut d, "00MZ\n", t3 + Duration::from_millis(12), 2), None);
        // GBK/UTF-8 text arrives as characters; Chinese codes work too.
        assert_eq!(typed(&mut d, "甘快办码1234\n", t + Duration::from_secs(20), 4).as_deref(), Some("甘快办码1234"));
    }

    #[test]
    fn serial_codes_arrive_as_text() {
        let sim = drivers::scanner::ScannerSimulator::start().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = watch_serial_scanner(sim.path().to_string_lossy().into_owned(), 9600, move |c| {
            let _ = tx.send(c);
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        sim.scan(b"620000MZ0001").unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "620000MZ0001");
        drop(handle);
    }
}
