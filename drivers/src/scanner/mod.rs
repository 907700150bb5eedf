//! Serial QR/barcode scanners (the boxes kiosks mount beside the screen).
//! In serial mode they send each code as one line: the payload followed by
//! CR (factory default on most), LF or CR LF. Chinese models send GBK for
//! Chinese payloads unless set to UTF-8, so lines are read like QR payloads.

use std::io::{self, ErrorKind, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::health::Health;
use crate::qr::{payload_text, TextEncoding};
use crate::serial::{is_absent, is_disconnect, SerialTransport, Transport};

mod simulator;
pub use simulator::ScannerSimulator;

/// Longest line accepted. QR codes hold at most ~3 KB; anything longer
/// without a terminator is a scanner in the wrong mode (or noise).
pub const MAX_LINE: usize = 4096;

/// What goes wrong with the barcode scanner. Reasons are for technicians.
#[derive(Debug, Error)]
pub enum ScannerError {
    /// The serial port would not open.
    #[error("cannot open the barcode scanner at {path}: {source}")]
    Open {
        /// The serial device.
        path: String,
        /// serialport's error.
        #[source]
        source: serialport::Error,
    },
    /// The device went away (unplugged).
    #[error("the barcode scanner is disconnected")]
    Disconnected,
    /// Any other I/O error on the port.
    #[error("I/O error talking to the barcode scanner: {0}")]
    Io(#[source] io::Error),
    /// No line end within [`MAX_LINE`] bytes; the rest of the line is dropped.
    #[error("the barcode scanner sent {0} bytes without a line end (wrong mode or baud rate?)")]
    LineTooLong(usize),
    /// The code's payload is neither UTF-8 nor GBK text.
    #[error("the barcode scanner sent a code that is neither UTF-8 nor GBK text")]
    NotText,
}

impl ScannerError {
    /// Whether the scanner is missing (unplugged or not there), as opposed to
    /// misbehaving; the kiosk then shows it absent.
    pub fn is_device_missing(&self) -> bool {
        match self {
            ScannerError::Open { source, .. } => is_absent(source),
            ScannerError::Disconnected => true,
            _ => false,
        }
    }
}

/// One scanned code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedCode {
    /// The payload as text, without its line end.
    pub text: String,
    /// How the bytes were read.
    pub encoding: TextEncoding,
}

/// A serial barcode scanner, read one line per code.
pub struct BarcodeScanner {
    link: Box<dyn Transport>,
    path: Option<PathBuf>,
    buf: Vec<u8>,
    /// After an over-long line, bytes up to the next line end are dropped.
    discarding: bool,
}

impl BarcodeScanner {
    /// Opens the scanner's port 8N1 (9600 baud is the factory default).
    pub fn open(path: &str, baud: u32) -> Result<BarcodeScanner, ScannerError> {
        let link = SerialTransport::open(path, baud, Duration::from_millis(100))
            .map_err(|source| ScannerError::Open { path: path.to_owned(), source })?;
        let mut s = BarcodeScanner::with_transport(Box::new(link));
        s.path = Some(PathBuf::from(path));
        Ok(s)
    }

    /// A scanner over any transport (tests use a pty or memory).
    pub fn with_transport(link: Box<dyn Transport>) -> BarcodeScanner {
        BarcodeScanner { link, path: None, buf: Vec::new(), discarding: false }
    }

    /// The next code, waiting at most `timeout`; `None` if nobody scanned.
    pub fn next_code(&mut self, timeout: Duration) -> Result<Option<ScannedCode>, ScannerError> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 256];
        loop {
            if let Some(line) = self.take_line()? {
                let (text, encoding) = payload_text(&line).map_err(|_| ScannerError::NotText)?;
                return Ok(Some(ScannedCode { text, encoding }));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.link.set_timeout(left).map_err(|e| self.io_error(e))?;
            match self.link.read(&mut chunk) {
                Ok(0) => return Err(ScannerError::Disconnected),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }

    /// A complete, non-empty line from the buffer, without its terminator.
    fn take_line(&mut self) -> Result<Option<Vec<u8>>, ScannerError> {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\r' || b == b'\n') else {
                if self.buf.len() > MAX_LINE {
                    let n = self.buf.len();
                    self.buf.clear();
                    self.discarding = true;
                    return Err(ScannerError::LineTooLong(n));
                }
                return Ok(None);
            };
            let line: Vec<u8> = self.buf.drain(..=end).take(end).collect();
            if std::mem::take(&mut self.discarding) || line.is_empty() {
                // The tail of a dropped line, or the LF of a CR LF.
                continue;
            }
            return Ok(Some(line));
        }
    }

    fn io_error(&self, e: io::Error) -> ScannerError {
        if is_disconnect(&e, self.path.as_deref()) {
            ScannerError::Disconnected
        } else {
            ScannerError::Io(e)
        }
    }

    /// A scanner says nothing until something is scanned: an open port that
    /// stays open is all there is to check.
    pub fn health(&mut self) -> Health {
        match self.next_code(Duration::from_millis(50)) {
            Ok(_) => Health::Ok,
            Err(e) if e.is_device_missing() => Health::Absent(e.to_string()),
            Err(e) => Health::Degraded(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// An in-memory line for unit tests of the line splitting.
    #[derive(Clone, Default)]
    struct Mem(Arc<Mutex<Vec<u8>>>);
    impl Read for Mem {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut v = self.0.lock().unwrap();
            if v.is_empty() {
                return Err(io::Error::from(ErrorKind::TimedOut));
            }
            let n = buf.len().min(v.len()).min(3); // small reads: lines arrive in pieces
            buf[..n].copy_from_slice(&v[..n]);
            v.drain(..n);
            Ok(n)
        }
    }
    impl Write for Mem {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Transport for Mem {
        fn discard_input(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn set_timeout(&mut self, _: Duration) -> io::Result<()> {
            Ok(())
        }
    }

    fn scanner_with(bytes: &[u8]) -> BarcodeScanner {
        let mem = Mem::default();
        mem.0.lock().unwrap().extend_from_slice(bytes);
        BarcodeScanner::with_transport(Box::new(mem))
    }

    #[test]
    fn splits_lines_on_cr_lf_and_crlf() {
        let mut s = scanner_with(b"ONE\rTWO\nTHREE\r\nFOUR\r");
        let t = Duration::from_millis(10);
        for want in ["ONE", "TWO", "THREE", "FOUR"] {
            assert_eq!(s.next_code(t).unwrap().unwrap().text, want);
        }
        assert!(s.next_code(t).unwrap().is_none());
    }

    #[test]
    fn an_overlong_line_is_an_error_and_the_next_line_reads() {
        let mut bytes = vec![b'A'; MAX_LINE + 10];
        bytes.extend_from_slice(b"\rOK\r");
        let mut s = scanner_with(&bytes);
        let t = Duration::from_secs(5);
        assert!(matches!(s.next_code(t), Err(ScannerError::LineTooLong(_))));
        assert_eq!(s.next_code(t).unwrap().unwrap().text, "OK");
    }
}
