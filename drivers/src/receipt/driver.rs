//! Our implementations of escpos's `Driver` trait. escpos calls them through
//! `&self`, so each holds its handle behind `Arc<Mutex<_>>` and clones share it.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use escpos::driver::Driver;
use escpos::errors::{PrinterError as EscposError, Result as EscposResult};

use super::status::{paper_status_from_answer, read_status_byte, PaperStatus, DLE_EOT_PAPER};
use super::error::PrinterError;
use crate::serial::{is_disconnect, SerialTransport, Transport};

/// Locks a driver's shared handle; the network driver uses it too.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded handle holds no invariant a panic could break.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Appends everything printed to a file: the demo's printer, and a way to
/// look at exactly what a real printer would get.
#[derive(Clone)]
pub struct FileDriver {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl FileDriver {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileDriver> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(FileDriver { path, file: Arc::new(Mutex::new(file)) })
    }

    /// The file printed to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Driver for FileDriver {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }
    fn write(&self, data: &[u8]) -> EscposResult<()> {
        Ok(lock(&self.file).write_all(data)?)
    }
    fn read(&self, _buf: &mut [u8]) -> EscposResult<usize> {
        Ok(0)
    }
    fn flush(&self) -> EscposResult<()> {
        Ok(lock(&self.file).flush()?)
    }
}

/// Collects the bytes in memory (for [`super::receipt_bytes`] and tests).
#[derive(Clone, Default)]
pub struct MemoryDriver {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl MemoryDriver {
    /// An empty buffer.
    pub fn new() -> MemoryDriver {
        MemoryDriver::default()
    }

    /// Everything printed so far.
    pub fn bytes(&self) -> Vec<u8> {
        lock(&self.buf).clone()
    }
}

impl Driver for MemoryDriver {
    fn name(&self) -> String {
        "memory".into()
    }
    fn write(&self, data: &[u8]) -> EscposResult<()> {
        lock(&self.buf).extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> EscposResult<usize> {
        Ok(0)
    }
    fn flush(&self) -> EscposResult<()> {
        Ok(())
    }
}

/// A receipt printer on a serial port we opened ourselves (escpos's own
/// serial driver would pull in libudev).
#[derive(Clone)]
pub struct SerialDriver {
    path: PathBuf,
    port: Arc<Mutex<SerialTransport>>,
}

impl SerialDriver {
    /// How long a write may block (the printer pauses input while it cuts
    /// or its buffer is full) and how long to wait for a status byte.
    pub const TIMEOUT: Duration = Duration::from_secs(2);

    /// Opens the port 8N1 at `baud` (9600 or 115200 on most kiosk printers).
    pub fn open(path: &str, baud: u32) -> Result<SerialDriver, PrinterError> {
        let port = SerialTransport::open(path, baud, Self::TIMEOUT)
            .map_err(|source| PrinterError::Open { path: path.to_owned(), source })?;
        Ok(SerialDriver { path: PathBuf::from(path), port: Arc::new(Mutex::new(port)) })
    }

    /// Asks the paper sensor (`DLE EOT 4`), waiting at most `timeout`.
    pub fn paper_status(&self, timeout: Duration) -> Result<PaperStatus, PrinterError> {
        let mut port = lock(&self.port);
        let classify = |e: io::Error| self.io_error(e);
        port.discard_input().map_err(classify)?;
        port.write_all(&DLE_EOT_PAPER).map_err(classify)?;
        let byte = read_status_byte(&mut *port, timeout, |p, left| p.set_timeout(left), classify)?;
        port.set_timeout(Self::TIMEOUT).map_err(classify)?;
        paper_status_from_answer(byte)
    }

    fn io_error(&self, e: io::Error) -> PrinterError {
        if e.kind() == ErrorKind::TimedOut {
            PrinterError::Timeout
        } else if is_disconnect(&e, Some(&self.path)) {
            PrinterError::Disconnected
        } else {
            PrinterError::Io(e)
        }
    }
}

impl Driver for SerialDriver {
    fn name(&self) -> String {
        format!("serial {}", self.path.display())
    }
    fn write(&self, data: &[u8]) -> EscposResult<()> {
        lock(&self.port).write_all(data).map_err(|e| EscposError::Io(self.io_error(e).to_string()))
    }
    fn read(&self, buf: &mut [u8]) -> EscposResult<usize> {
        Ok(lock(&self.port).read(buf)?)
    }
    fn flush(&self) -> EscposResult<()> {
        lock(&self.port).flush().map_err(|e| EscposError::Io(self.io_error(e).to_string()))
    }
}
