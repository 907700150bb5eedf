//! Pseudo-terminal pairs for the device simulators.

use std::io;
use std::path::PathBuf;

use serialport::{SerialPort, TTYPort};

/// A raw pty pair: the simulator talks on `master`; drivers open `path`.
pub struct Pty {
    /// The simulator's end.
    pub master: TTYPort,
    /// The simulator holds the slave open too: with no slave fd open, reads
    /// on the master fail with EIO, and a driver that closes and reopens the
    /// port (re-plug, restart) would break the simulator.
    pub slave: TTYPort,
    /// The slave's device path, e.g. `/dev/pts/7`, for the driver under test.
    pub path: PathBuf,
}

impl Pty {
    /// Opens a pty pair in raw mode (serialport applies `cfmakeraw` to the
    /// slave, which on Linux is the only termios the pair has).
    pub fn open() -> io::Result<Pty> {
        let (master, slave) = TTYPort::pair().map_err(io::Error::from)?;
        let path = slave
            .name()
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("pty slave has no name"))?;
        Ok(Pty { master, slave, path })
    }
}
