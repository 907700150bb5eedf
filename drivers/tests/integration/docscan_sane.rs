//! The document scanner against SANE's test backend (a real virtual
//! scanner) in a private SANE_CONFIG_DIR.

use drivers::docscan::test_backend::{SaneTestEnv, TestFault};
use drivers::docscan::{Mode, SaneScanner, ScanError, ScanSettings, Source};
use drivers::health::Health;

fn env() -> Option<SaneTestEnv> {
    if !SaneTestEnv::available() {
        // A missing tool fails the test rather than skipping it; ./dev test installs it.
        panic!("scanimage or the SANE test backend is not installed (apt-get install sane-utils libsane1, or run ./dev test)");
    }
    Some(SaneTestEnv::new().expect("private SANE config"))
}

/// Pixels for `mm` at `dpi`, give or take the backend's rounding.
fn near(px: u32, mm: f64, dpi: f64) -> bool {
    (f64::from(px) - mm * dpi / 25.4).abs() <= 1.0
}

/// Scans, retrying once when the test backend deadlocked (a known bug of
/// SANE's `test` backend on fault statuses, see `KNOWN_DEADLOCK_RATE`).
fn scan(scanner: &SaneScanner, settings: &ScanSettings) -> Result<Vec<drivers::docscan::Page>, ScanError> {
    match scanner.scan(settings) {
        Err(ScanError::Timeout(_)) => {
            eprintln!("note: SANE test backend hung; scanimage killed and the scan retried");
            scanner.scan(settings)
        }
        other => other,
    }
}

fn size(png: &[u8]) -> (u32, u32, image::ColorType) {
    let img = image::load_from_memory(png).expect("a PNG");
    (img.width(), img.height(), img.color())
}

#[test]
fn flatbed_scans_honour_resolution_and_mode() {
    let Some(env) = env() else { return };
    let scanner = env.scanner();
    assert_eq!(scanner.health(), Health::Ok);
    // The test scanner's area is 80 × 100 mm.
    let pages = scan(&scanner, &ScanSettings { resolution: 100, mode: Mode::Gray, ..Default::default() }).unwrap();
    assert_eq!(pages.len(), 1);
    let (w, h, color) = size(&pages[0].png);
    assert!(near(w, 80.0, 100.0) && near(h, 100.0, 100.0), "{w}x{h}");
    assert_eq!(color, image::ColorType::L8);
    let pages = scan(&scanner, &ScanSettings { resolution: 200, mode: Mode::Color, ..Default::default() }).unwrap();
    let (w, h, color) = size(&pages[0].png);
    assert!(near(w, 80.0, 200.0) && near(h, 100.0, 200.0), "{w}x{h}");
    assert_eq!(color, image::ColorType::Rgb8);
}

#[test]
fn the_feeder_scans_every_sheet_or_as_many_as_asked() {
    let Some(env) = env() else { return };
    let scanner = env.scanner();
    let all = ScanSettings { source: Source::Feeder, resolution: 50, ..Default::default() };
    // The test backend's feeder holds 10 sheets.
    assert_eq!(scan(&scanner, &all).unwrap().len(), 10);
    let three = ScanSettings { max_pages: Some(3), ..all };
    let pages = scan(&scanner, &three).unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.png.starts_with(b"\x89PNG")));
}

#[test]
fn jams_an_empty_feeder_and_an_open_cover_are_typed_errors() {
    let Some(mut env) = env() else { return };
    let feeder = ScanSettings { source: Source::Feeder, resolution: 50, ..Default::default() };
    let flatbed = ScanSettings { resolution: 50, ..Default::default() };
    env.set_fault(Some(TestFault::Jammed)).unwrap();
    let scanner = env.scanner();
    assert_eq!(scan(&scanner, &feeder), Err(ScanError::Jammed { pages_done: 0 }));
    assert_eq!(scan(&scanner, &flatbed), Err(ScanError::Jammed { pages_done: 0 }));
    env.set_fault(Some(TestFault::NoDocs)).unwrap();
    assert_eq!(scan(&scanner, &feeder), Err(ScanError::EmptyFeeder));
    env.set_fault(Some(TestFault::CoverOpen)).unwrap();
    assert_eq!(scan(&scanner, &flatbed), Err(ScanError::CoverOpen));
    env.set_fault(None).unwrap();
    assert_eq!(scan(&scanner, &flatbed).unwrap().len(), 1);
}

#[test]
fn a_missing_scanner_is_absent() {
    let Some(env) = env() else { return };
    let scanner = SaneScanner::new("test:7").with_config_dir(env.config_dir());
    assert_eq!(scanner.check(), Err(ScanError::NotFound("test:7".into())));
    assert!(matches!(scanner.health(), Health::Absent(_)));
}

#[test]
fn a_scan_that_outlives_its_timeout_is_stopped_and_reported() {
    let Some(mut env) = env() else { return };
    env.set_slow(true).unwrap();
    let impatient = env.scanner().with_timeout(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = impatient.scan(&ScanSettings { resolution: 300, ..Default::default() }).err();
    assert!(matches!(err, Some(ScanError::Timeout(_))), "{:?}", err.map(|e| e.to_string()));
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}
