//! Serial barcode scanner over a pty, and QR codes from file frames.

use std::time::{Duration, Instant};

use drivers::camera::{FileSource, FrameSource, SyntheticSource};
use drivers::health::Health;
use drivers::qr::{scan_frame, TextEncoding};
use drivers::scanner::{BarcodeScanner, ScannerError, ScannerSimulator};

fn open(sim: &ScannerSimulator) -> BarcodeScanner {
    BarcodeScanner::open(sim.path().to_str().unwrap(), 9600).expect("open scanner")
}

#[test]
fn codes_arrive_one_per_line_whatever_the_terminator() {
    let sim = ScannerSimulator::start().unwrap();
    let mut scanner = open(&sim);
    let t = Duration::from_secs(2);
    sim.scan(b"620000-000-123456789-01").unwrap();
    assert_eq!(scanner.next_code(t).unwrap().unwrap().text, "620000-000-123456789-01");
    sim.set_terminator(b"\r\n");
    sim.scan("GSKB:受理回执 LX2026-00731".as_bytes()).unwrap();
    sim.scan(b"SECOND").unwrap();
    let code = scanner.next_code(t).unwrap().unwrap();
    assert_eq!((code.text.as_str(), code.encoding), ("GSKB:受理回执 LX2026-00731", TextEncoding::Utf8));
    assert_eq!(scanner.next_code(t).unwrap().unwrap().text, "SECOND");
    // A scanner left in GBK mode.
    sim.set_terminator(b"\n");
    let (gbk, _, _) = encoding_rs::GBK.encode("东乡族自治县");
    sim.scan(&gbk).unwrap();
    let code = scanner.next_code(t).unwrap().unwrap();
    assert_eq!((code.text.as_str(), code.encoding), ("东乡族自治县", TextEncoding::Gbk));
}

#[test]
fn nothing_scanned_times_out_quietly_and_a_split_line_is_joined() {
    let sim = ScannerSimulator::start().unwrap();
    let mut scanner = open(&sim);
    let started = Instant::now();
    assert!(scanner.next_code(Duration::from_millis(200)).unwrap().is_none());
    assert!(started.elapsed() < Duration::from_millis(600));
    sim.send_raw(b"PART").unwrap();
    assert!(scanner.next_code(Duration::from_millis(100)).unwrap().is_none());
    sim.send_raw(b"-TWO\r").unwrap();
    assert_eq!(scanner.next_code(Duration::from_secs(2)).unwrap().unwrap().text, "PART-TWO");
    assert_eq!(scanner.health(), Health::Ok);
}

#[test]
fn an_unplugged_scanner_is_reported_as_disconnected() {
    let sim = ScannerSimulator::start().unwrap();
    let mut scanner = open(&sim);
    drop(sim);
    let err = scanner.next_code(Duration::from_secs(1)).unwrap_err();
    assert!(matches!(err, ScannerError::Disconnected), "{err:?}");
    assert!(matches!(scanner.health(), Health::Absent(_)));
    let err = BarcodeScanner::open("/dev/cunban-no-such-scanner", 9600).err().unwrap();
    assert!(err.is_device_missing());
}

#[test]
fn qr_codes_are_read_from_saved_camera_frames() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (payload, scale)) in [("LX2026-00731", 3), ("620000-000-123456789-01", 5)].into_iter().enumerate() {
        let mut cam = SyntheticSource::new(1280, 720);
        cam.show_qr(payload.as_bytes(), scale).unwrap();
        let frame = cam.next_frame().unwrap();
        // One as PNG, one as a camera-like JPEG.
        if i == 0 {
            frame.image.save(dir.path().join("0.png")).unwrap();
        } else {
            std::fs::write(dir.path().join("1.jpg"), frame.to_jpeg(80).unwrap()).unwrap();
        }
    }
    let mut files = FileSource::open(dir.path(), false).unwrap();
    let texts: Vec<String> =
        (0..2).map(|_| scan_frame(&files.next_frame().unwrap()).codes.remove(0).text).collect();
    assert_eq!(texts, ["LX2026-00731", "620000-000-123456789-01"]);
}
