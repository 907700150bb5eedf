//! QR and barcode scanners as a source of `Event::CodeEntered`: serial
//! scanners (one code per line, `drivers::scanner`) and USB "keyboard wedge"
//! scanners, which type the code as a burst of key presses ending in Enter.
//! What a code means (an item's code opens its guide, a receipt's number
//! looks up its filing) is the session's business.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drivers::camera::{CameraError, Frame, FrameSource};
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

/// Reads codes from a serial barcode scanner at `path` on a thread of its own, calling `on_code` with each; stops when the handle is dropped.
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

/// One camera shared by material photos and code reading: whoever holds
/// the lock takes the next frame.
#[derive(Clone)]
pub struct SharedCamera(pub Arc<Mutex<Box<dyn FrameSource>>>);

impl SharedCamera {
    /// Shares `source` between the QR reader and the materials' photos.
    pub fn new(source: Box<dyn FrameSource>) -> SharedCamera {
        SharedCamera(Arc::new(Mutex::new(source)))
    }
}

impl FrameSource for SharedCamera {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        match self.0.lock() {
            Ok(mut s) => s.next_frame(),
            Err(_) => Err(CameraError::Capture("the camera's lock was poisoned".into())),
        }
    }

    fn describe(&self) -> String {
        self.0.lock().map(|s| s.describe()).unwrap_or_else(|_| "camera (poisoned)".into())
    }
}

/// QR codes read from camera frames, for terminals without a barcode
/// scanner: each frame is decoded (`drivers::qr`, UTF-8 or GBK); a code
/// held before the lens is reported once, and again only after it was
/// away or [`CameraCodes::REPEAT_AFTER`] passed.
#[derive(Debug, Default)]
pub struct CameraCodes {
    last: Option<(String, Instant)>,
}

impl CameraCodes {
    /// How long a code that stays before the lens waits to be reported again.
    pub const REPEAT_AFTER: Duration = Duration::from_secs(3);

    /// One frame at `at`: the new code it shows, if any.
    pub fn frame(&mut self, frame: &Frame, at: Instant) -> Option<String> {
        let scan = drivers::qr::scan_frame(frame);
        let Some(code) = scan.codes.into_iter().next() else {
            self.last = None;
            return None;
        };
        if self.last.as_ref().is_some_and(|(c, t)| *c == code.text && at.duration_since(*t) < Self::REPEAT_AFTER) {
            return None;
        }
        self.last = Some((code.text.clone(), at));
        Some(code.text)
    }
}

/// Reads codes from `camera` on its own thread while `wanted` is set (a
/// screen that takes a code is showing), a frame every `every`; each new
/// code goes to `on_code`. Dropping the handle stops the thread.
pub fn watch_camera_codes(
    mut camera: SharedCamera,
    wanted: Arc<AtomicBool>,
    every: Duration,
    on_code: impl Fn(String) + Send + 'static,
) -> std::io::Result<SerialScannerHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new().name("camera-codes".into()).spawn(move || {
        let mut codes = CameraCodes::default();
        let mut failing = false;
        while !stopped.load(Ordering::Relaxed) {
            if wanted.load(Ordering::Relaxed) {
                match camera.next_frame() {
                    Ok(frame) => {
                        failing = false;
                        // The code itself may be personal (a receipt number): not logged.
                        if let Some(code) = codes.frame(&frame, Instant::now()) {
                            on_code(code);
                        }
                    }
                    Err(e) if !failing => {
                        warn!(error = %e, "camera frame for QR codes not read");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
            std::thread::sleep(every);
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

    /// A receipt's QR before the camera of a terminal without a barcode
    /// scanner: the code reaches the session once, as if scanned, and the
    /// progress lookup starts.
    #[test]
    fn a_receipt_qr_before_the_camera_looks_up_the_filing() {
        use crate::session::{Capabilities, Effect, Event, Screen, Session, Terminal};
        let mut cam = drivers::camera::SyntheticSource::new(640, 480);
        cam.show_qr(b"62202611210000001", 4).unwrap();
        let camera = SharedCamera::new(Box::new(cam));
        let wanted = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = watch_camera_codes(camera.clone(), wanted.clone(), Duration::from_millis(20), move |c| {
            let _ = tx.send(c);
        })
        .unwrap();
        // Not read while no screen wants a code.
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());

        let mut s = Session::new(
            Arc::new(model::Catalog::starter()),
            Terminal {
                terminal_id: "GS-TEST-0001".into(),
                village_code: model::VillageCode::parse("622926100202").unwrap(),
                channel: model::submission::Channel::SelfServiceTerminal,
            },
            Capabilities { camera: true, scanner: false },
            Box::new(time::OffsetDateTime::now_utc),
        );
        s.handle(Event::QueryProgress);
        assert_eq!(s.screen(), Screen::Progress);
        wanted.store(true, Ordering::Relaxed);
        let code = rx.recv_timeout(Duration::from_secs(10)).expect("the camera read the code");
        assert_eq!(code, "62202611210000001");
        // Held still before the lens: not read again at once.
        assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "one code, once");
        let fx = s.handle(Event::CodeEntered(code));
        assert!(fx.iter().any(|e| matches!(e, Effect::LookUp(_))), "{fx:?}");
        assert_eq!(s.view().lookup_phase, ui::LookupPhase::Looking);
        drop(handle);
    }

    #[test]
    fn camera_codes_read_gbk_and_report_a_held_code_once() {
        let mut cam = drivers::camera::SyntheticSource::new(640, 480);
        let gbk = encoding_rs::GBK.encode("620000RS0001 社会保障卡申领").0.into_owned();
        cam.show_qr(&gbk, 4).unwrap();
        let frame = cam.next_frame().unwrap();
        let mut codes = CameraCodes::default();
        let t = Instant::now();
        assert_eq!(codes.frame(&frame, t).as_deref(), Some("620000RS0001 社会保障卡申领"));
        assert_eq!(codes.frame(&frame, t + Duration::from_secs(1)), None);
        assert!(codes.frame(&frame, t + CameraCodes::REPEAT_AFTER + Duration::from_secs(1)).is_some());
        // Away from the lens, then back: read again.
        let empty = drivers::camera::SyntheticSource::new(640, 480).next_frame().unwrap();
        assert_eq!(codes.frame(&empty, t + Duration::from_secs(5)), None);
        assert!(codes.frame(&frame, t + Duration::from_secs(5)).is_some());
    }
}
