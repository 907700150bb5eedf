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

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DevicesConfig {
    pub id_card: Option<Slot<IdCardConfig>>,
    pub receipt_printer: Option<Slot<ReceiptPrinterConfig>>,
    pub a4_printer: Option<Slot<A4PrinterConfig>>,
    pub document_scanner: Option<Slot<DocumentScannerConfig>>,
    pub camera: Option<Slot<CameraConfig>>,
    pub barcode_scanner: Option<Slot<BarcodeScannerConfig>>,
}

/// One device and whether the terminal is unusable without it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Slot<K> {
    #[serde(flatten)]
    pub device: K,
    /// Unset: the slot's default (see the module docs).
    pub required: Option<bool>,
}

impl<K> Slot<K> {
    pub fn new(device: K) -> Slot<K> {
        Slot { device, required: None }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdCardConfig {
    Sam {
        path: PathBuf,
        #[serde(default)]
        photo_decoder: PhotoDecoderConfig,
    },
    /// The built-in SAM simulator (demo).
    Simulator,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReceiptPrinterConfig {
    Serial { path: PathBuf, baud: u32 },
    /// ESC/POS appended to a file or a USB `lp` device node.
    File { path: PathBuf },
    /// Raw TCP, `host:port` (port 9100 on most).
    Network { addr: String },
}

pub const DEFAULT_CUPS_SERVER: &str = "127.0.0.1:631";

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum A4PrinterConfig {
    Cups {
        queue: String,
        #[serde(default = "default_cups_server")]
        server: String,
    },
}

fn default_cups_server() -> String {
    DEFAULT_CUPS_SERVER.into()
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocumentScannerConfig {
    Sane {
        device: String,
        /// A private SANE_CONFIG_DIR; unset uses /etc/sane.d.
        config_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CameraConfig {
    /// `/dev/video{index}`; needs a build with the `camera-v4l` feature.
    V4l {
        #[serde(default)]
        index: u32,
        #[serde(default = "default_width")]
        width: u32,
        #[serde(default = "default_height")]
        height: u32,
    },
    /// An image file or a directory of them, looped.
    File { path: PathBuf },
    Synthetic {
        #[serde(default = "default_width")]
        width: u32,
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

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BarcodeScannerConfig {
    Serial {
        path: PathBuf,
        #[serde(default = "default_scanner_baud")]
        baud: u32,
    },
}

fn default_scanner_baud() -> u32 {
    9600
}
