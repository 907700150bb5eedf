//! Cunban's devices: the ID card reader (SAM protocol over serial), the
//! ESC/POS receipt printer, the A4 printer (CUPS/IPP), the document scanner
//! (SANE), cameras and QR decoding, and serial barcode scanners. Each has a
//! simulator or a real test backend speaking the real protocol, plus health
//! reporting and a self-test for the kiosk's device workers and kioskctl.
//!
//! Everything here blocks; the kiosk runs each device on its own thread (or
//! `spawn_blocking`).

pub mod a4;
pub mod camera;
pub mod config;
pub mod docscan;
pub mod escpos_inspect;
pub mod health;
pub mod idcard;
pub mod pty;
pub mod qr;
mod qr_finder;
pub mod receipt;
pub mod scanner;
pub mod selftest;
pub mod serial;

pub use health::{DeviceHealth, Health};
pub use idcard::{IdCardError, SamReader, SamSimulator, SimCard};
pub use receipt::{print_receipt, receipt_bytes, FileDriver, PrinterError, Receipt, SerialDriver, SubmitState};

// The kiosk moves each device onto its own worker thread and shares printer
// drivers between the session and the health probe.
const _: () = {
    const fn send<T: Send>() {}
    const fn send_sync<T: Send + Sync>() {}
    send::<SamReader>();
    send::<IdCardError>();
    send_sync::<SamSimulator>();
    send_sync::<FileDriver>();
    send_sync::<SerialDriver>();
    send_sync::<receipt::PrinterSimulator>();
    send::<idcard::ReaderSupervisor>();
    send::<idcard::VendorWltDecoder>();
    send::<scanner::BarcodeScanner>();
    send_sync::<scanner::ScannerSimulator>();
    send_sync::<a4::CupsPrinter>();
    send_sync::<docscan::SaneScanner>();
    send::<camera::FileSource>();
    send::<camera::SyntheticSource>();
    send::<selftest::Simulation>();
};
