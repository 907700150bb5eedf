//! Device health as the kiosk's device workers report it.

use std::fs::OpenOptions;
use std::time::Duration;

use crate::idcard::reader::{IdCardError, SamReader};
use crate::receipt::{FileDriver, NetworkDriver, PaperStatus, PrinterError, SerialDriver};

/// A device's state for the service tiles and the heartbeat. Reasons are
/// for technicians and never carry personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Works.
    Ok,
    /// Works, but something needs attention (paper low, flaky line).
    Degraded(String),
    /// Cannot be used: missing, not answering, or out of paper.
    Absent(String),
}

impl Health {
    /// Whether the device can be used at all (ok or degraded).
    pub fn is_usable(&self) -> bool {
        !matches!(self, Health::Absent(_))
    }
}

/// A device that can say how it is; implemented by each driver the kiosk's
/// device workers poll.
pub trait DeviceHealth {
    /// Probes the device. May block up to the device's timeout.
    fn health(&mut self) -> Health;
}

impl From<&IdCardError> for Health {
    fn from(e: &IdCardError) -> Health {
        match e {
            _ if e.is_device_missing() => Health::Absent(e.to_string()),
            IdCardError::Timeout => Health::Absent(e.to_string()),
            IdCardError::Sam(s) if s.is_module_fault() => Health::Absent(e.to_string()),
            // Card data errors are about one card, not the reader.
            IdCardError::Card(_) => Health::Ok,
            _ => Health::Degraded(e.to_string()),
        }
    }
}

impl DeviceHealth for SamReader {
    /// Reads the SAM id: needs no card and exercises the whole link.
    fn health(&mut self) -> Health {
        match self.sam_id() {
            Ok(_) => Health::Ok,
            Err(e) => Health::from(&e),
        }
    }
}

impl DeviceHealth for FileDriver {
    fn health(&mut self) -> Health {
        match OpenOptions::new().append(true).open(self.path()) {
            Ok(_) => Health::Ok,
            Err(e) => Health::Absent(format!("receipt file {} not writable: {e}", self.path().display())),
        }
    }
}

impl DeviceHealth for SerialDriver {
    fn health(&mut self) -> Health {
        match self.paper_status(Duration::from_millis(500)) {
            Ok(PaperStatus::Ok) => Health::Ok,
            Ok(PaperStatus::NearEnd) => Health::Degraded("receipt paper nearly used up".into()),
            Ok(PaperStatus::Out) => Health::Absent("receipt printer is out of paper".into()),
            Err(e @ (PrinterError::Disconnected | PrinterError::Open { .. })) => Health::Absent(e.to_string()),
            // Off, or a model that ignores DLE EOT: it may still print.
            Err(PrinterError::Timeout) => Health::Degraded("receipt printer does not answer status requests".into()),
            Err(e) => Health::Degraded(e.to_string()),
        }
    }
}

impl DeviceHealth for NetworkDriver {
    fn health(&mut self) -> Health {
        match self.paper_status(Duration::from_millis(500)) {
            Ok(PaperStatus::Ok) => Health::Ok,
            Ok(PaperStatus::NearEnd) => Health::Degraded("receipt paper nearly used up".into()),
            Ok(PaperStatus::Out) => Health::Absent("receipt printer is out of paper".into()),
            Err(e @ (PrinterError::Disconnected | PrinterError::Connect { .. })) => Health::Absent(e.to_string()),
            Err(PrinterError::Timeout) => Health::Degraded("receipt printer does not answer status requests".into()),
            Err(e) => Health::Degraded(e.to_string()),
        }
    }
}
