//! The self-test of every configured device (what `kioskctl selftest` and
//! the technician screen run), and a set of simulators to run it against.

use crate::a4::private_cups::PrivateCups;
use crate::a4::CupsPrinter;
use crate::camera::{self, FileSource, FrameSource, SyntheticSource};
use crate::config::{
    A4PrinterConfig, BarcodeScannerConfig, CameraConfig, DevicesConfig, DocumentScannerConfig, IdCardConfig,
    ReceiptPrinterConfig, Slot,
};
use crate::docscan::test_backend::SaneTestEnv;
use crate::docscan::SaneScanner;
use crate::health::{DeviceHealth, Health};
use crate::idcard::photo::load_decoder;
use crate::idcard::{SamReader, SamSimulator};
use crate::qr;
use crate::receipt::{FileDriver, NetworkDriver, PrinterSimulator, SerialDriver};
use crate::scanner::{BarcodeScanner, ScannerSimulator};

/// One line of the self-test table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// The configuration slot: `id_card`, `receipt_printer`, ...
    pub slot: &'static str,
    /// Which device, e.g. `SAM /dev/ttyUSB0`.
    pub what: String,
    /// Whether the terminal is unusable without the device.
    pub required: bool,
    /// What the test found.
    pub health: Health,
    /// What the test found when all is well (SAM id, queue state...).
    pub detail: String,
}

impl DeviceReport {
    /// The health as one word (`ok`, `degraded`, `absent`) for the table and
    /// JSON.
    pub fn state(&self) -> &'static str {
        match self.health {
            Health::Ok => "ok",
            Health::Degraded(_) => "degraded",
            Health::Absent(_) => "absent",
        }
    }

    /// The reason for a bad state, else the detail.
    pub fn reason(&self) -> &str {
        match &self.health {
            Health::Ok => &self.detail,
            Health::Degraded(r) | Health::Absent(r) => r,
        }
    }
}

/// Whether every required device is usable.
pub fn all_required_usable(reports: &[DeviceReport]) -> bool {
    reports.iter().all(|r| !r.required || r.health.is_usable())
}

/// Runs each configured device's self-test, in a fixed order. A required
/// slot left unconfigured is reported absent.
pub fn run(devices: &DevicesConfig) -> Vec<DeviceReport> {
    let mut out = Vec::new();
    slot(&mut out, "id_card", true, devices.id_card.as_ref(), test_id_card);
    slot(&mut out, "receipt_printer", true, devices.receipt_printer.as_ref(), test_receipt_printer);
    slot(&mut out, "a4_printer", false, devices.a4_printer.as_ref(), test_a4_printer);
    slot(&mut out, "document_scanner", false, devices.document_scanner.as_ref(), test_document_scanner);
    slot(&mut out, "camera", false, devices.camera.as_ref(), test_camera);
    slot(&mut out, "barcode_scanner", false, devices.barcode_scanner.as_ref(), test_barcode_scanner);
    if devices.camera.is_some() {
        out.push(DeviceReport {
            slot: "qr_decoder",
            what: "rqrr, UTF-8 and GBK".into(),
            required: false,
            health: qr_pipeline_check(),
            detail: "decodes a synthetic GBK code".into(),
        });
    }
    out
}

/// What one device's test found: description, health, detail.
type Outcome = (String, Health, String);

fn slot<K>(
    out: &mut Vec<DeviceReport>,
    name: &'static str,
    required_by_default: bool,
    config: Option<&Slot<K>>,
    test: fn(&K) -> Outcome,
) {
    match config {
        None if required_by_default => out.push(DeviceReport {
            slot: name,
            what: "-".into(),
            required: true,
            health: Health::Absent(format!("no [devices.{name}] in the configuration")),
            detail: String::new(),
        }),
        None => {}
        Some(s) => {
            let (what, health, detail) = test(&s.device);
            out.push(DeviceReport { slot: name, what, required: s.required.unwrap_or(required_by_default), health, detail });
        }
    }
}

fn test_id_card(c: &IdCardConfig) -> Outcome {
    let IdCardConfig::Sam { path, photo_decoder } = c else {
        return ("simulator (built in)".into(), Health::Ok, "the kiosk starts its own".into());
    };
    let what = format!("SAM {}", path.display());
    let mut reader = match SamReader::open(&path.to_string_lossy()) {
        Ok(r) => r,
        Err(e) => return (what, Health::from(&e), String::new()),
    };
    let sam_id = match reader.sam_id() {
        Ok(id) => id,
        Err(e) => return (what, Health::from(&e), String::new()),
    };
    let detail = format!("SAM id {sam_id}");
    match load_decoder(photo_decoder) {
        Ok(None) => (what, Health::Ok, format!("{detail}; photos kept as WLT (no decoder configured)")),
        Ok(Some(d)) => (what, Health::Ok, format!("{detail}; WLT decoder {}", d.path().display())),
        // Cards still read; only the photo cannot be shown.
        Err(e) => (what, Health::Degraded(format!("photo decoder: {e}")), detail),
    }
}

fn test_receipt_printer(c: &ReceiptPrinterConfig) -> Outcome {
    match c {
        ReceiptPrinterConfig::Serial { path, baud } => {
            let what = format!("ESC/POS serial {} @{baud}", path.display());
            match SerialDriver::open(&path.to_string_lossy(), *baud) {
                Ok(mut d) => (what, d.health(), "paper sensor answers".into()),
                Err(e) => (what, Health::Absent(e.to_string()), String::new()),
            }
        }
        ReceiptPrinterConfig::Network { addr } => {
            let what = format!("ESC/POS network {addr}");
            match NetworkDriver::connect(addr) {
                Ok(mut d) => (what, d.health(), "paper sensor answers".into()),
                Err(e) => (what, Health::Absent(e.to_string()), String::new()),
            }
        }
        ReceiptPrinterConfig::File { path } => {
            let what = format!("ESC/POS file {}", path.display());
            match FileDriver::open(path) {
                Ok(mut d) => (what, d.health(), "writable".into()),
                Err(e) => (what, Health::Absent(format!("cannot open {}: {e}", path.display())), String::new()),
            }
        }
    }
}

fn test_a4_printer(c: &A4PrinterConfig) -> Outcome {
    let A4PrinterConfig::Cups { queue, server } = c;
    let what = format!("CUPS {queue} at {server}");
    match CupsPrinter::new(server, queue) {
        Err(e) => (what, Health::Absent(e.to_string()), String::new()),
        Ok(p) => {
            let detail = p.queue_report().map(|q| format!("{:?}", q.state).to_lowercase()).unwrap_or_default();
            (what, p.health(), detail)
        }
    }
}

fn test_document_scanner(c: &DocumentScannerConfig) -> Outcome {
    let DocumentScannerConfig::Sane { device, config_dir } = c;
    let mut scanner = SaneScanner::new(device);
    if let Some(dir) = config_dir {
        scanner = scanner.with_config_dir(dir);
    }
    (format!("SANE {device}"), scanner.health(), "opens".into())
}

fn test_camera(c: &CameraConfig) -> Outcome {
    let opened: Result<Box<dyn FrameSource>, String> = match c {
        CameraConfig::File { path } => FileSource::open(path, true).map(|s| Box::new(s) as _).map_err(|e| e.to_string()),
        CameraConfig::Synthetic { width, height } => Ok(Box::new(SyntheticSource::new(*width, *height))),
        #[cfg(feature = "camera-v4l")]
        CameraConfig::V4l { index, width, height } => {
            camera::v4l::V4lSource::open(*index, *width, *height).map(|s| Box::new(s) as _).map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "camera-v4l"))]
        CameraConfig::V4l { index, .. } => {
            let what = format!("v4l /dev/video{index}");
            return (what, Health::Absent("this build has no V4L support (cargo feature camera-v4l)".into()), String::new());
        }
    };
    match opened {
        Err(e) => (format!("{c:?}"), Health::Absent(e), String::new()),
        Ok(mut source) => {
            let what = source.describe();
            let health = camera::probe(source.as_mut());
            (what, health, "frames arrive, picture not flat".into())
        }
    }
}

fn test_barcode_scanner(c: &BarcodeScannerConfig) -> Outcome {
    let BarcodeScannerConfig::Serial { path, baud } = c;
    let what = format!("serial {} @{baud}", path.display());
    match BarcodeScanner::open(&path.to_string_lossy(), *baud) {
        Ok(mut s) => (what, s.health(), "port open".into()),
        Err(e) if e.is_device_missing() => (what, Health::Absent(e.to_string()), String::new()),
        Err(e) => (what, Health::Degraded(e.to_string()), String::new()),
    }
}

/// A simulator or test backend for every device kind, and the
/// configuration that points at them. Dropping it stops them all.
pub struct Simulation {
    /// The simulated ID card reader.
    pub sam: SamSimulator,
    /// The simulated receipt printer.
    pub printer: PrinterSimulator,
    /// The simulated barcode scanner.
    pub barcode: ScannerSimulator,
    /// `None` where cupsd is not installed.
    pub cups: Option<PrivateCups>,
    /// `None` where scanimage or the test backend is not installed.
    pub sane: Option<SaneTestEnv>,
    /// Why a test backend could not start, per slot.
    pub missing: Vec<(&'static str, String)>,
}

impl Simulation {
    /// Starts every simulator that can run here and returns them with a
    /// `[devices]` configuration pointing at them; errors if a pty cannot be
    /// opened.
    pub fn start() -> std::io::Result<(Simulation, DevicesConfig)> {
        let sam = SamSimulator::start()?;
        let printer = PrinterSimulator::start()?;
        let barcode = ScannerSimulator::start()?;
        let mut missing = Vec::new();
        let cups = match PrivateCups::start("A4") {
            Ok(c) => Some(c),
            Err(e) => {
                missing.push(("a4_printer", e.to_string()));
                None
            }
        };
        let sane = if SaneTestEnv::available() {
            Some(SaneTestEnv::new()?)
        } else {
            missing.push(("document_scanner", "scanimage or SANE's test backend is not installed (sane-utils)".into()));
            None
        };
        let config = DevicesConfig {
            id_card: Some(Slot::new(IdCardConfig::Sam { path: sam.path(), photo_decoder: Default::default() })),
            receipt_printer: Some(Slot::new(ReceiptPrinterConfig::Serial { path: printer.path(), baud: 115_200 })),
            a4_printer: Some(Slot::new(A4PrinterConfig::Cups {
                queue: "A4".into(),
                // Nothing listens on port 9 (discard): an absent printer.
                server: cups.as_ref().map(PrivateCups::server).unwrap_or_else(|| "127.0.0.1:9".into()),
            })),
            document_scanner: Some(Slot::new(DocumentScannerConfig::Sane {
                device: "test:0".into(),
                config_dir: sane.as_ref().map(|s| s.config_dir().to_owned()),
            })),
            camera: Some(Slot::new(CameraConfig::Synthetic { width: 640, height: 480 })),
            barcode_scanner: Some(Slot::new(BarcodeScannerConfig::Serial { path: barcode.path(), baud: 9600 })),
        };
        Ok((Simulation { sam, printer, barcode, cups, sane, missing }, config))
    }

    /// Replaces the reason of a device whose test backend is missing, so
    /// the table says "not installed" instead of a connection error.
    pub fn explain(&self, reports: &mut [DeviceReport]) {
        for r in reports.iter_mut() {
            if let Some((_, why)) = self.missing.iter().find(|(slot, _)| *slot == r.slot) {
                r.health = Health::Absent(why.clone());
            }
        }
    }
}

/// A QR round trip through the synthetic camera: proves decoding works on
/// this machine (the CPU budget, the GBK fallback) without a code to hand.
pub fn qr_pipeline_check() -> Health {
    let mut cam = SyntheticSource::new(640, 480);
    let (gbk, _, _) = encoding_rs::GBK.encode("自检 SELFTEST");
    if let Err(e) = cam.show_qr(&gbk, 4) {
        return Health::Degraded(e.to_string());
    }
    match cam.next_frame().map(|f| qr::scan_frame(&f)) {
        Ok(scan) if scan.codes.first().is_some_and(|c| c.text == "自检 SELFTEST") => Health::Ok,
        Ok(scan) => Health::Degraded(format!("QR decoding failed on a synthetic frame: {:?}", scan.failures)),
        Err(e) => Health::Degraded(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_table_parses_with_defaults_and_refuses_typos() {
        let text = r#"
[id_card]
kind = "sam"
path = "/dev/ttyUSB0"
photo_decoder = { library = "/opt/v/libwlt.so" }
[receipt_printer]
kind = "file"
path = "/dev/usb/lp0"
[a4_printer]
kind = "cups"
queue = "A4"
required = true
[camera]
kind = "v4l"
[barcode_scanner]
kind = "serial"
path = "/dev/ttyACM0"
"#;
        let c: DevicesConfig = toml::from_str(text).unwrap();
        let a4 = c.a4_printer.unwrap();
        assert_eq!(a4.required, Some(true));
        assert_eq!(a4.device, A4PrinterConfig::Cups { queue: "A4".into(), server: "127.0.0.1:631".into() });
        assert_eq!(c.camera.unwrap().device, CameraConfig::V4l { index: 0, width: 1280, height: 720 });
        assert!(toml::from_str::<DevicesConfig>("[a4_printer]\nkind = \"cups\"\nqueu = \"A4\"\n").is_err());
        assert!(toml::from_str::<DevicesConfig>("[fax]\nkind = \"x\"\n").is_err());
    }

    #[test]
    fn a_missing_required_device_fails_the_test_and_optional_ones_do_not() {
        let reports = run(&DevicesConfig::default());
        assert_eq!(reports.len(), 2);
        assert!(reports.iter().all(|r| r.required && r.state() == "absent"));
        assert!(!all_required_usable(&reports));
        let optional_gone = DevicesConfig {
            barcode_scanner: Some(Slot::new(BarcodeScannerConfig::Serial { path: "/dev/cunban-none".into(), baud: 9600 })),
            ..Default::default()
        };
        let r = run(&optional_gone);
        assert!(r.iter().any(|r| r.slot == "barcode_scanner" && !r.required && r.state() == "absent"));
    }
}
