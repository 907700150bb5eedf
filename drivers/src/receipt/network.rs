//! ESC/POS over the network: raw TCP to the printer (port 9100 on most),
//! the third transport beside serial and USB `lp`.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use escpos::driver::Driver;
use escpos::errors::{PrinterError as EscposError, Result as EscposResult};

use super::driver::lock;
use super::status::{paper_status_from_answer, read_status_byte, PaperStatus, DLE_EOT_PAPER};
use super::error::PrinterError;

/// ESC/POS to a printer over raw TCP; clones share the connection.
#[derive(Clone)]
pub struct NetworkDriver {
    addr: String,
    stream: Arc<Mutex<TcpStream>>,
}

impl NetworkDriver {
    /// How long connecting, a write, or waiting for a status byte may take.
    pub const TIMEOUT: Duration = Duration::from_secs(3);

    /// Connects to `host:port`.
    pub fn connect(addr: &str) -> Result<NetworkDriver, PrinterError> {
        let connect_err = |source: io::Error| PrinterError::Connect { addr: addr.to_owned(), source };
        let target = addr
            .to_socket_addrs()
            .map_err(connect_err)?
            .next()
            .ok_or_else(|| connect_err(io::Error::new(ErrorKind::NotFound, "address resolves to nothing")))?;
        let stream = TcpStream::connect_timeout(&target, Self::TIMEOUT).map_err(connect_err)?;
        stream.set_write_timeout(Some(Self::TIMEOUT)).map_err(connect_err)?;
        stream.set_read_timeout(Some(Self::TIMEOUT)).map_err(connect_err)?;
        // Status requests are 3 bytes: send them now, not after Nagle's delay.
        stream.set_nodelay(true).map_err(connect_err)?;
        Ok(NetworkDriver { addr: addr.to_owned(), stream: Arc::new(Mutex::new(stream)) })
    }

    /// The `host:port` connected to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Asks the paper sensor (`DLE EOT 4`), waiting at most `timeout`.
    pub fn paper_status(&self, timeout: Duration) -> Result<PaperStatus, PrinterError> {
        let mut stream = lock(&self.stream);
        discard_pending(&mut stream).map_err(io_error)?;
        stream.write_all(&DLE_EOT_PAPER).map_err(io_error)?;
        let byte = read_status_byte(&mut *stream, timeout, |s, left| s.set_read_timeout(Some(left)), io_error)?;
        paper_status_from_answer(byte)
    }
}

/// Drops bytes already received (a late status answer).
fn discard_pending(stream: &mut TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    let mut buf = [0u8; 256];
    let result = loop {
        match stream.read(&mut buf) {
            Ok(0) => break Err(io::Error::from(ErrorKind::ConnectionReset)),
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    result
}

fn io_error(e: io::Error) -> PrinterError {
    match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => PrinterError::Timeout,
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::UnexpectedEof => {
            PrinterError::Disconnected
        }
        _ => PrinterError::Io(e),
    }
}

impl Driver for NetworkDriver {
    fn name(&self) -> String {
        format!("network {}", self.addr)
    }
    fn write(&self, data: &[u8]) -> EscposResult<()> {
        lock(&self.stream).write_all(data).map_err(|e| EscposError::Io(io_error(e).to_string()))
    }
    fn read(&self, buf: &mut [u8]) -> EscposResult<usize> {
        Ok(lock(&self.stream).read(buf)?)
    }
    fn flush(&self) -> EscposResult<()> {
        lock(&self.stream).flush().map_err(|e| EscposError::Io(io_error(e).to_string()))
    }
}
