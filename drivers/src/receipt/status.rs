//! The printer's paper sensor, read with the real-time command `DLE EOT 4`.

use std::io::{self, ErrorKind, Read};
use std::time::{Duration, Instant};

use super::error::PrinterError;

/// `DLE EOT 4`: transmit roll paper sensor status.
pub const DLE_EOT_PAPER: [u8; 3] = [0x10, 0x04, 0x04];

/// Bits 2-3 of the answer: roll nearly empty.
const NEAR_END: u8 = 0b0000_1100;
/// Bits 5-6: no paper.
const PAPER_END: u8 = 0b0110_0000;
/// Bits that are always 0 (bits 0, 7) and always 1 (bits 1, 4) in a status byte.
const FIXED_MASK: u8 = 0b1001_0011;
const FIXED_VALUE: u8 = 0b0001_0010;

/// The roll's state, from the paper sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperStatus {
    /// Paper loaded.
    Ok,
    /// The roll is nearly empty: print, but tell a technician.
    NearEnd,
    /// No paper: do not print.
    Out,
}

impl PaperStatus {
    /// Decodes a `DLE EOT 4` answer; `None` if the fixed bits are wrong
    /// (not a status byte: line noise or leftover output).
    pub fn from_byte(b: u8) -> Option<PaperStatus> {
        if b & FIXED_MASK != FIXED_VALUE {
            return None;
        }
        Some(if b & PAPER_END != 0 {
            PaperStatus::Out
        } else if b & NEAR_END != 0 {
            PaperStatus::NearEnd
        } else {
            PaperStatus::Ok
        })
    }

    /// The answer a printer in this state sends.
    pub fn to_byte(self) -> u8 {
        match self {
            PaperStatus::Ok => FIXED_VALUE,
            PaperStatus::NearEnd => FIXED_VALUE | NEAR_END,
            PaperStatus::Out => FIXED_VALUE | NEAR_END | PAPER_END,
        }
    }
}

/// Waits at most `timeout` for the one-byte answer to a `DLE EOT 4` the
/// caller sent, on any transport: each read is bounded by the time left
/// (`set_timeout`), timeouts and interruptions are retried until the
/// deadline, and `io_error` classifies other failures. A read of nothing is
/// a closed line.
pub(super) fn read_status_byte<P: Read>(
    port: &mut P,
    timeout: Duration,
    mut set_timeout: impl FnMut(&mut P, Duration) -> io::Result<()>,
    io_error: impl Fn(io::Error) -> PrinterError,
) -> Result<u8, PrinterError> {
    let deadline = Instant::now() + timeout;
    let mut byte = [0u8; 1];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PrinterError::Timeout);
        }
        set_timeout(port, left).map_err(&io_error)?;
        match port.read(&mut byte) {
            Ok(1) => return Ok(byte[0]),
            Ok(_) => return Err(PrinterError::Disconnected),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(io_error(e)),
        }
    }
}

/// [`PaperStatus::from_byte`] as a printer error: a byte that is no status
/// answer is invalid data.
pub(super) fn paper_status_from_answer(byte: u8) -> Result<PaperStatus, PrinterError> {
    PaperStatus::from_byte(byte).ok_or(PrinterError::Io(io::Error::new(
        ErrorKind::InvalidData,
        format!("printer status byte {byte:#04x} is not a DLE EOT 4 answer"),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes_roundtrip_and_noise_is_refused() {
        for s in [PaperStatus::Ok, PaperStatus::NearEnd, PaperStatus::Out] {
            assert_eq!(PaperStatus::from_byte(s.to_byte()), Some(s));
        }
        assert_eq!(PaperStatus::from_byte(0x12), Some(PaperStatus::Ok));
        assert_eq!(PaperStatus::from_byte(0x7E), Some(PaperStatus::Out));
        assert_eq!(PaperStatus::from_byte(0x00), None);
        assert_eq!(PaperStatus::from_byte(0xFF), None);
    }
}
