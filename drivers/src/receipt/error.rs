//! What goes wrong with a receipt printer.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PrinterError {
    #[error("ESC/POS: {0}")]
    Escpos(#[from] escpos::errors::PrinterError),
    #[error("cannot open the printer at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: serialport::Error,
    },
    #[error("cannot connect to the network printer at {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the printer is disconnected")]
    Disconnected,
    #[error("the printer did not answer in time")]
    Timeout,
    #[error("printer I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("receipt field `{0}` is not masked; refusing to print personal data")]
    Unmasked(&'static str),
    #[error("receipt has neither a case number nor a local reference to encode")]
    NoReference,
}
