//! Serial port plumbing shared by the ID card reader and the receipt printer.

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

/// A byte link to a device. The real one is a serial port; tests may use
/// anything that reads and writes, but the simulators use real ptys so the
/// serial code path is the one tested.
pub trait Transport: Read + Write + Send {
    /// Drops bytes received but not yet read (a late answer to an abandoned
    /// request must not be taken for the answer to the next one).
    fn discard_input(&mut self) -> io::Result<()>;
    /// How long one `read` may block.
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()>;
}

/// An open serial port, 8N1, no flow control, exclusive while open.
pub struct SerialTransport {
    port: TTYPort,
}

impl SerialTransport {
    /// Opens `path` 8N1, no flow control, with `timeout` for reads and writes.
    pub fn open(path: &str, baud: u32, timeout: Duration) -> Result<SerialTransport, serialport::Error> {
        let port = serialport::new(path, baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(timeout)
            .open_native()?;
        Ok(SerialTransport { port })
    }
}

impl Read for SerialTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.port.read(buf)
    }
}

impl Write for SerialTransport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.port.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.port.flush()
    }
}

impl Transport for SerialTransport {
    fn discard_input(&mut self) -> io::Result<()> {
        self.port.clear(ClearBuffer::Input).map_err(io::Error::from)
    }
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        SerialPort::set_timeout(&mut self.port, timeout).map_err(io::Error::from)
    }
}

impl Drop for SerialTransport {
    fn drop(&mut self) {
        // TIOCEXCL outlives our fd while anyone else holds the tty open (a
        // simulator's pty, a getty): clear it so the next open succeeds.
        let _ = self.port.set_exclusive(false);
    }
}

/// Whether an I/O error means the device went away rather than misbehaved.
/// serialport drops errno for read/write failures (EIO becomes "Other"),
/// so a vanished device node is the reliable sign of an unplugged adapter.
pub(crate) fn is_disconnect(err: &io::Error, path: Option<&Path>) -> bool {
    use io::ErrorKind as K;
    matches!(
        err.kind(),
        K::BrokenPipe | K::UnexpectedEof | K::NotConnected | K::ConnectionReset | K::ConnectionAborted | K::NotFound
    ) || matches!(err.raw_os_error(), Some(5 | 6 | 19)) // EIO, ENXIO, ENODEV
        || path.is_some_and(|p| !p.exists())
}

/// Whether an open failure means there is no device at that path.
pub(crate) fn is_absent(err: &serialport::Error) -> bool {
    matches!(err.kind(), serialport::ErrorKind::NoDevice | serialport::ErrorKind::Io(io::ErrorKind::NotFound))
}
