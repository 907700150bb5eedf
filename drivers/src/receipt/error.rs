//! What goes wrong with a receipt printer.

use thiserror::Error;

/// What goes wrong printing a receipt. Reasons are for technicians and never
/// carry personal data.
#[derive(Debug, Error)]
pub enum PrinterError {
    /// escpos failed to encode or send a command.
    #[error("ESC/POS: {0}")]
    Escpos(#[from] escpos::errors::PrinterError),
    /// The serial port would not open.
    #[error("cannot open the printer at {path}: {source}")]
    Open {
        /// The serial device.
        path: String,
        /// serialport's error.
        #[source]
        source: serialport::Error,
    },
    /// The network printer did not accept a connection.
    #[error("cannot connect to the network printer at {addr}: {source}")]
    Connect {
        /// `host:port` of the printer.
        addr: String,
        /// The connection error.
        #[source]
        source: std::io::Error,
    },
    /// The device went away (unplugged, link dropped).
    #[error("the printer is disconnected")]
    Disconnected,
    /// No answer within the printer's timeout (e.g. to the paper-sensor
    /// request).
    #[error("the printer did not answer in time")]
    Timeout,
    /// Any other I/O error.
    #[error("printer I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A personal field (named here) arrived unmasked; nothing is printed.
    #[error("receipt field `{0}` is not masked; refusing to print personal data")]
    Unmasked(&'static str),
    /// The receipt would have no QR code: neither a case number nor a local
    /// reference.
    #[error("receipt has neither a case number nor a local reference to encode")]
    NoReference,
}
