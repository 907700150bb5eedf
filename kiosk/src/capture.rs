//! The document scanner and the camera as the materials screen needs them,
//! and the plain sentences a villager sees when they fail.

use drivers::camera::{CameraError, FileSource, FrameSource, SyntheticSource};
use drivers::config::{CameraConfig, DocumentScannerConfig};
use drivers::docscan::{Mode, SaneScanner, ScanError, ScanSettings, Source};
use tracing::warn;

use crate::materials::{capture_of, Capture, CaptureKind};
use ui::i18n::n_;

/// Captures materials. Errors are Chinese sentences for the villager (message
/// ids of the `.po` files), never personal data.
pub trait MaterialDevices: Send + 'static {
    /// Whether a document scanner is there.
    fn can_scan(&self) -> bool;
    /// Whether a camera is there.
    fn can_photo(&self) -> bool;
    /// Blocks until the scan or photo is done.
    fn capture(&mut self, kind: CaptureKind) -> Result<Capture, String>;
}

/// No scanner, no camera: materials go to the assistant on paper.
pub struct NoDevices;

impl MaterialDevices for NoDevices {
    fn can_scan(&self) -> bool {
        false
    }
    fn can_photo(&self) -> bool {
        false
    }
    fn capture(&mut self, _: CaptureKind) -> Result<Capture, String> {
        Err(NO_DEVICE.into())
    }
}

const NO_DEVICE: &str = n_("本机现在不能扫描或拍照，请把纸质材料交给村代办员。");

/// How documents are scanned: flatbed, grey, 150 dpi (enough for a
/// household register; colour triples the size for nothing).
pub fn scan_settings() -> ScanSettings {
    ScanSettings { source: Source::Flatbed, mode: Mode::Gray, resolution: 150, max_pages: None }
}

/// A SANE scanner and a camera, as configured (either may be missing).
pub struct Capturers {
    scanner: Option<SaneScanner>,
    camera: Option<Box<dyn FrameSource>>,
}

impl Capturers {
    /// The camera, shared from now on with the QR code reader (codes.rs) of
    /// a terminal without a barcode scanner; None without a camera.
    pub fn share_camera(&mut self) -> Option<crate::codes::SharedCamera> {
        let camera = self.camera.take()?;
        let shared = crate::codes::SharedCamera::new(camera);
        self.camera = Some(Box::new(shared.clone()));
        Some(shared)
    }

    /// Capturers over a SANE scanner and a camera, either of which may be missing.
    pub fn new(scanner: Option<SaneScanner>, camera: Option<Box<dyn FrameSource>>) -> Capturers {
        Capturers { scanner, camera }
    }

    /// Opens what the `[devices]` table names. A camera that cannot be opened
    /// is left out (logged); the scanner is checked on each scan, because a
    /// USB scanner is often switched on later.
    pub fn from_config(scanner: Option<&DocumentScannerConfig>, camera: Option<&CameraConfig>) -> Capturers {
        let scanner = scanner.map(|DocumentScannerConfig::Sane { device, config_dir }| {
            let s = SaneScanner::new(device);
            match config_dir {
                Some(dir) => s.with_config_dir(dir),
                None => s,
            }
        });
        let camera = camera.and_then(|c| match open_camera(c) {
            Ok(source) => Some(source),
            Err(e) => {
                warn!(error = %e, "camera not usable; materials cannot be photographed");
                None
            }
        });
        Capturers { scanner, camera }
    }
}

/// Opens the camera `c` describes: a file of frames, a synthetic source, or
/// (with the `camera-v4l` feature) a V4L device.
pub fn open_camera(c: &CameraConfig) -> Result<Box<dyn FrameSource>, CameraError> {
    match c {
        CameraConfig::File { path } => Ok(Box::new(FileSource::open(path, true)?)),
        CameraConfig::Synthetic { width, height } => Ok(Box::new(SyntheticSource::new(*width, *height))),
        #[cfg(feature = "camera-v4l")]
        CameraConfig::V4l { index, width, height } => {
            Ok(Box::new(drivers::camera::v4l::V4lSource::open(*index, *width, *height)?))
        }
        #[cfg(not(feature = "camera-v4l"))]
        CameraConfig::V4l { index, .. } => Err(CameraError::Open {
            device: format!("/dev/video{index}"),
            reason: "this build has no V4L support (cargo feature camera-v4l)".into(),
        }),
    }
}

impl MaterialDevices for Capturers {
    fn can_scan(&self) -> bool {
        self.scanner.is_some()
    }

    fn can_photo(&self) -> bool {
        self.camera.is_some()
    }

    fn capture(&mut self, kind: CaptureKind) -> Result<Capture, String> {
        let pages = match kind {
            CaptureKind::Scan => {
                let scanner = self.scanner.as_ref().ok_or(NO_DEVICE)?;
                let pages = scanner.scan(&scan_settings()).map_err(|e| {
                    warn!(error = %e, "scan failed");
                    scan_problem(&e).to_owned()
                })?;
                let mut images = Vec::with_capacity(pages.len());
                for page in pages {
                    let img = image::load_from_memory(&page.png).map_err(|e| {
                        warn!(error = %e, "the scanner gave a picture that cannot be read");
                        SCAN_FAILED.to_owned()
                    })?;
                    images.push(img.to_rgb8());
                }
                if images.is_empty() {
                    return Err(SCAN_FAILED.into());
                }
                images
            }
            CaptureKind::Photo => {
                let camera = self.camera.as_mut().ok_or(NO_DEVICE)?;
                let frame = camera.next_frame().map_err(|e| {
                    warn!(error = %e, "photo failed");
                    PHOTO_FAILED.to_owned()
                })?;
                vec![frame.image]
            }
        };
        capture_of(kind, &pages).map_err(|e| {
            warn!(error = %e, "cannot encode the capture");
            SCAN_FAILED.to_owned()
        })
    }
}

const SCAN_FAILED: &str = n_("扫描没有成功，请再试一次，或请村代办员帮忙。");
const PHOTO_FAILED: &str = n_("没有拍成照片，请再试一次，或请村代办员帮忙。");

/// What to tell the villager about a scanner error.
pub fn scan_problem(e: &ScanError) -> &'static str {
    match e {
        ScanError::CoverOpen => n_("扫描仪的盖子没有盖好，请盖好再点「扫描」。"),
        ScanError::EmptyFeeder => n_("扫描仪里没有放材料，请放好再点「扫描」。"),
        ScanError::Jammed { .. } => n_("扫描仪卡纸了，请村代办员帮忙取出。"),
        ScanError::NotInstalled | ScanError::NotFound(_) => n_("扫描仪没有连接好，可以点「拍照」，或请村代办员帮忙。"),
        ScanError::Busy | ScanError::Timeout(_) | ScanError::Settings(_) | ScanError::Failed(_) => SCAN_FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drivers::docscan::test_backend::{SaneTestEnv, TestFault};

    #[test]
    fn a_synthetic_camera_photographs_and_no_devices_says_so() {
        let mut c = Capturers::new(None, Some(Box::new(SyntheticSource::new(640, 480))));
        assert!(c.can_photo() && !c.can_scan());
        let photo = c.capture(CaptureKind::Photo).unwrap();
        assert_eq!(photo.files.len(), 1);
        assert_eq!((photo.preview.width, photo.preview.height), (420, 315));
        assert_eq!(c.capture(CaptureKind::Scan).unwrap_err(), NO_DEVICE);
        assert_eq!(NoDevices.capture(CaptureKind::Photo).unwrap_err(), NO_DEVICE);
    }

    #[test]
    fn scans_on_the_sane_test_backend_and_words_its_faults() {
        if !SaneTestEnv::available() {
            panic!("scanimage or SANE's test backend is not installed (apt-get install sane-utils libsane1, or run ./dev test)");
        }
        let mut env = SaneTestEnv::new().unwrap();
        let mut c = Capturers::new(Some(env.scanner()), None);
        let scan = c.capture(CaptureKind::Scan).unwrap();
        assert!(!scan.files.is_empty());
        assert!(scan.files[0].bytes.starts_with(&[0xFF, 0xD8]));
        env.set_fault(Some(TestFault::CoverOpen)).unwrap();
        // The test backend sometimes hangs on a fault (drivers/README.md): one retry.
        let err = c.capture(CaptureKind::Scan).unwrap_err();
        let err = if err == SCAN_FAILED { c.capture(CaptureKind::Scan).unwrap_err() } else { err };
        assert_eq!(err, scan_problem(&ScanError::CoverOpen));
    }
}
