//! Cunban's devices: the ID card reader (SAM protocol over serial) and the
//! ESC/POS receipt printer, each with a simulator that speaks the real
//! protocol over a pty, plus health reporting for the kiosk's device workers.
//!
//! Everything here blocks; the kiosk runs each device on its own thread (or
//! `spawn_blocking`).

pub mod escpos_inspect;
pub mod health;
pub mod idcard;
pub mod pty;
pub mod receipt;
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
};
