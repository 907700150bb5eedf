//! The `[devices]` table of the terminal configuration: which device of each
//! kind the terminal has, how to reach it, and whether services need it.
//!
//! ```toml
//! [devices.id_card]
//! kind = "sam"
//! path = "/dev/serial/by-id/usb-...-if00-port0"
//! photo_decoder = { library = "/opt/vendor/libwlt.so" }   # optional
//!
//! [devices.receipt_printer]
//! kind = "serial"            # or "file" (USB lp node), "network" { addr }
//! path = "/dev/ttyS1"
//! baud = 9600
//!
//! [devices.a4_printer]
//! kind = "cups"
//! queue = "A4"               # server defaults to 127.0.0.1:631
//!
//! [devices.document_scanner]
//! kind = "sane"
//! device = "fujitsu:fi-7030:1234"
//!
//! [devices.camera]
//! kind = "v4l"               # or "file" { path }, "synthetic"
//! index = 0
//!
//! [devices.barcode_scanner]
//! kind = "serial"
//! path = "/dev/ttyACM0"
//! baud = 9600
//! ```
//!
//! Every device takes `required = true|false`; by default the ID card
//! reader and the receipt printer are required, the rest optional.

use std::path::PathBuf;

use serde::Deserialize;

use crate::idcard::photo::PhotoDecoderConfig;

/// The `[devices]` table: one optional slot per kind of device. A kind left out
/// is a terminal without that device.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DevicesConfig {
    /// The ID card reader.
    pub id_card: Option<Slot<IdCardConfig>>,
    /// The receipt (ESC/POS) printer.
    pub receipt_printer: Option<Slot<ReceiptPrinterConfig>>,
    /// The A4 printer, through CUPS.
    pub a4_printer: Option<Slot<A4PrinterConfig>>,
    /// The document scanner, through SANE.
    pub document_scanner: Option<Slot<DocumentScannerConfig>>,
    /// The camera, for photos and QR codes.
    pub camera: Option<Slot<CameraConfig>>,
    /// The barcode / QR scanner on a serial line.
    pub barcode_scanner: Option<Slot<BarcodeScannerConfig>>,
}

/// One device and whether the terminal is unusable without it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Slot<K> {
    /// The device's own settings (the table's `kind` and the rest).
    #[serde(flatten)]
    pub device: K,
    /// Unset: the slot's default (see the module docs).
    pub required: Option<bool>,
}

impl<K> Slot<K> {
    /// A slot for `device` with the default `required`.
    pub fn new(device: K) -> Slot<K> {
        Slot { device, required: None }
    }
}

/// How to reach the ID card reader.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdCardConfig {
    /// A SAM module on a serial port.
    Sam {
        /// The serial device, best a `/dev/serial/by-id/...` path.
        path: PathBuf,
        /// Which vendor library decodes the card photo; none by default.
        #[serde(default)]
        photo_decoder: PhotoDecoderConfig,
    },
    /// The built-in SAM simulator (demo).
    Simulator,
}

/// How to reach the receipt printer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReceiptPrinterConfig {
    /// ESC/POS over a serial port.
    Serial {
        /// The serial device.
        path: PathBuf,
        /// Bits per second, as set on the printer.
        baud: u32,
    },
    /// ESC/POS appended to a file or a USB `lp` device node.
    File {
        /// The file or `/dev/usb/lp0`.
        path: PathBuf,
    },
    /// Raw TCP, `host:port` (port 9100 on most).
    Network {
        /// `host:port` of the printer.
        addr: String,
    },
}

/// Where the terminal's own cupsd listens, the `server` default.
pub const DEFAULT_CUPS_SERVER: &str = "127.0.0.1:631";

/// How to reach the A4 printer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum A4PrinterConfig {
    /// A CUPS queue.
    Cups {
        /// The queue's name, as `lpstat -p` lists it.
        queue: String,
        /// CUPS's `host:port`; defaults to [`DEFAULT_CUPS_SERVER`].
        #[serde(default = "default_cups_server")]
        server: String,
    },
}

fn default_cups_server() -> String {
    DEFAULT_CUPS_SERVER.into()
}

/// How to reach the document scanner.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocumentScannerConfig {
    /// A SANE device through `scanimage`.
    Sane {
        /// The SANE device name, e.g. `fujitsu:fi-7030:1234` (`scanimage -L`).
        device: String,
        /// A private SANE_CONFIG_DIR; unset uses /etc/sane.d.
        config_dir: Option<PathBuf>,
    },
}

/// Where camera frames come from.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CameraConfig {
    /// `/dev/video{index}`; needs a build with the `camera-v4l` feature.
    V4l {
        /// The `N` of `/dev/videoN`; default 0.
        #[serde(default)]
        index: u32,
        /// Requested frame width in pixels.
        #[serde(default = "default_width")]
        width: u32,
        /// Requested frame height in pixels.
        #[serde(default = "default_height")]
        height: u32,
    },
    /// An image file or a directory of them, looped.
    File {
        /// The image file or directory.
        path: PathBuf,
    },
    /// Drawn frames (demo, tests): see [`crate::camera::SyntheticSource`].
    Synthetic {
        /// Frame width in pixels.
        #[serde(default = "default_width")]
        width: u32,
        /// Frame height in pixels.
        #[serde(default = "default_height")]
        height: u32,
    },
}

fn default_width() -> u32 {
    1280
}

fn default_height() -> u32 {
    720
}

/// How to reach the barcode scanner.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BarcodeScannerConfig {
    /// A scanner in serial (CDC/USB-COM) mode, one code per line.
    Serial {
        /// The serial device.
        path: PathBuf,
        /// Bits per second; 9600 if unset.
        #[serde(default = "default_scanner_baud")]
        baud: u32,
    },
}

fn default_scanner_baud() -> u32 {
    9600
}
