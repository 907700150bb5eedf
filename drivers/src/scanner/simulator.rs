//! A serial barcode scanner on a pty: each [`ScannerSimulator::scan`] sends
//! the payload and the line terminator, as the real one does per code read.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

use crate::pty::Pty;

/// A barcode scanner on a pty, for tests and the demo.
pub struct ScannerSimulator {
    master: Mutex<TTYPort>,
    terminator: Mutex<Vec<u8>>,
    path: PathBuf,
    _slave: TTYPort,
}

impl ScannerSimulator {
    /// A scanner sending CR after each code (the factory default).
    pub fn start() -> io::Result<ScannerSimulator> {
        let Pty { mut master, slave, path } = Pty::open()?;
        // Writes block only if the driver stops reading for kilobytes.
        SerialPort::set_timeout(&mut master, Duration::from_secs(2)).map_err(io::Error::from)?;
        Ok(ScannerSimulator { master: Mutex::new(master), terminator: Mutex::new(b"\r".to_vec()), path, _slave: slave })
    }

    /// The pty to open as the scanner's port.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// What follows each code: `\r`, `\n` or `\r\n`.
    pub fn set_terminator(&self, terminator: &[u8]) {
        *lock(&self.terminator) = terminator.to_vec();
    }

    /// Sends one code (any bytes: ASCII, UTF-8 or GBK text).
    pub fn scan(&self, payload: &[u8]) -> io::Result<()> {
        let mut line = payload.to_vec();
        line.extend_from_slice(&lock(&self.terminator));
        self.send_raw(&line)
    }

    /// Sends bytes as they are (noise, a scanner in the wrong mode).
    pub fn send_raw(&self, bytes: &[u8]) -> io::Result<()> {
        lock(&self.master).write_all(bytes)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
