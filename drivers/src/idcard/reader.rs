//! The ID card reader: find → select → read over the SAM protocol.

use std::io::{self, ErrorKind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use model::Identity;
use thiserror::Error;
use tracing::{debug, warn};

use super::frame::{encode_request, Decoder, FrameError, Response};
use super::status::{SamError, FIND_SUCCESS, SUCCESS};
use super::card::{Card, CardBlock};
use super::text::{split_read_data, CardDataError};
use crate::serial::{is_absent, is_disconnect, SerialTransport, Transport};

/// Line speed of SAM-V modules.
pub const BAUD: u32 = 115_200;

/// Command and parameter bytes.
pub const FIND_CARD: (u8, u8) = (0x20, 0x01);
/// Select the card found, answering its serial number.
pub const SELECT_CARD: (u8, u8) = (0x20, 0x02);
/// Read the text block and the WLT photo.
pub const READ_TEXT_PHOTO: (u8, u8) = (0x30, 0x01);
/// Read the SAM module's own id.
pub const READ_SAM_ID: (u8, u8) = (0x12, 0xFF);

/// Data sizes of successful answers.
const FIND_DATA_LEN: usize = 4;
/// The card serial answered to [`SELECT_CARD`].
pub const SELECT_DATA_LEN: usize = 8;
/// The SAM id answered to [`READ_SAM_ID`].
pub const SAM_ID_LEN: usize = 16;

/// What goes wrong reading a card. Reasons are for technicians and never carry
/// personal data.
#[derive(Debug, Error)]
pub enum IdCardError {
    /// The serial port would not open (missing, or in use).
    #[error("cannot open the ID card reader at {path}: {source}")]
    Open {
        /// The serial device.
        path: String,
        /// serialport's error.
        #[source]
        source: serialport::Error,
    },
    /// The device went away (unplugged adapter).
    #[error("the ID card reader is disconnected")]
    Disconnected,
    /// Any other I/O error on the port.
    #[error("I/O error talking to the ID card reader: {0}")]
    Io(#[source] io::Error),
    /// No answer within the reader's timeout.
    #[error("the ID card reader did not answer in time")]
    Timeout,
    /// The reader's bytes were not a valid frame.
    #[error("bad frame from the ID card reader: {0}")]
    Frame(#[from] FrameError),
    /// The SAM answered with an error status (no card, read failure...).
    #[error("the ID card reader reported: {0}")]
    Sam(#[from] SamError),
    /// The card's data was read but refused.
    #[error("the card's data is unusable: {0}")]
    Card(#[from] CardDataError),
    /// An answer with a success status but the wrong size or status for the
    /// command.
    #[error("the reader's answer to {command} has the wrong status or size")]
    UnexpectedResponse {
        /// The command's name, for the log.
        command: &'static str,
    },
}

impl IdCardError {
    /// Whether the port itself is gone (absent at open, or unplugged since).
    pub fn is_device_missing(&self) -> bool {
        match self {
            IdCardError::Open { source, .. } => is_absent(source),
            IdCardError::Disconnected => true,
            _ => false,
        }
    }
}

/// A SAM-V ID card reader on a serial port (or any [`Transport`]).
///
/// Not `Sync`: one thread owns it. Every method is one blocking exchange
/// sequence bounded by the timeout.
pub struct SamReader {
    link: Box<dyn Transport>,
    /// For telling an unplugged adapter from a flaky one.
    path: Option<PathBuf>,
    decoder: Decoder,
    timeout: Duration,
}

impl SamReader {
    /// Longest wait for one answer. A real read of text + photo takes up to
    /// ~1 s (RF exchange with the card), plus 115 ms on the wire.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

    /// Opens the reader's serial port at 115200 8N1.
    pub fn open(path: &str) -> Result<SamReader, IdCardError> {
        let link = SerialTransport::open(path, BAUD, Self::DEFAULT_TIMEOUT)
            .map_err(|source| IdCardError::Open { path: path.to_owned(), source })?;
        let mut reader = SamReader::with_transport(Box::new(link));
        reader.path = Some(PathBuf::from(path));
        Ok(reader)
    }

    /// A reader over any transport (the protocol code is the same).
    pub fn with_transport(link: Box<dyn Transport>) -> SamReader {
        SamReader { link, path: None, decoder: Decoder::new(), timeout: Self::DEFAULT_TIMEOUT }
    }

    /// Longest wait for each answer.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Reads a citizen card (resident ID card or residence permit), `None`
    /// if there is none. A foreign permanent resident card gives
    /// `Card(UnsupportedCardLayout)`: use [`SamReader::read_any_card`].
    ///
    /// An expired card is returned like any other; checking validity is the
    /// caller's job. A card lifted between find and select gives
    /// `Sam(SelectFailed)`: worth one retry.
    pub fn read_card(&mut self) -> Result<Option<Identity>, IdCardError> {
        match self.read_any_card()? {
            None => Ok(None),
            Some(card) => Ok(Some(card.into_identity()?)),
        }
    }

    /// Reads whatever card is on the reader, of any of the four types.
    pub fn read_any_card(&mut self) -> Result<Option<Card>, IdCardError> {
        if !self.find_card()? {
            return Ok(None);
        }
        self.select_card()?;
        self.read_selected().map(Some)
    }

    /// Find (`20 01`): whether a card is in the field.
    pub fn find_card(&mut self) -> Result<bool, IdCardError> {
        let found = self.exchange(FIND_CARD, "find card")?;
        match SamError::from_status(found.sw1, found.sw2, found.sw3) {
            Some(SamError::NoCard) => Ok(false),
            Some(e) => Err(e.into()),
            None => expect(&found, FIND_SUCCESS, Some(FIND_DATA_LEN), "find card").map(|()| true),
        }
    }

    /// Select (`20 02`) the found card; returns its 8-byte serial, which
    /// tells one card from another without reading it.
    pub fn select_card(&mut self) -> Result<[u8; SELECT_DATA_LEN], IdCardError> {
        let selected = self.exchange(SELECT_CARD, "select card")?;
        check(&selected, SUCCESS, Some(SELECT_DATA_LEN), "select card")?;
        selected.data.as_slice().try_into().map_err(|_| IdCardError::UnexpectedResponse { command: "select card" })
    }

    /// Read text + photo (`30 01`) of the selected card.
    pub fn read_selected(&mut self) -> Result<Card, IdCardError> {
        let read = self.exchange(READ_TEXT_PHOTO, "read card")?;
        check(&read, SUCCESS, None, "read card")?;
        let (text, photo) = split_read_data(&read.data)?;
        // The photo stays raw WLT: its decoder is proprietary (see `photo`).
        let card = CardBlock::decode(text)?.to_card(photo.to_vec())?;
        debug!(card_type = ?card.card_type(), name = %card.masked_name(), "ID card read");
        Ok(card)
    }

    /// The SAM module's id, formatted as vendor tools print it (see
    /// [`format_sam_id`]). Cheap, needs no card: used as the health probe.
    pub fn sam_id(&mut self) -> Result<String, IdCardError> {
        let resp = self.exchange(READ_SAM_ID, "read SAM id")?;
        check(&resp, SUCCESS, Some(SAM_ID_LEN), "read SAM id")?;
        let id: &[u8; SAM_ID_LEN] =
            resp.data.as_slice().try_into().map_err(|_| IdCardError::UnexpectedResponse { command: "read SAM id" })?;
        Ok(format_sam_id(id))
    }

    /// Sends one request and waits for one response frame.
    fn exchange(&mut self, (cmd, para): (u8, u8), what: &'static str) -> Result<Response, IdCardError> {
        // Stale bytes (a late answer to a timed-out request, the tail of a
        // corrupted frame) would otherwise be read as this answer.
        self.decoder.clear();
        self.link.discard_input().map_err(|e| self.io_error(e))?;
        let request = encode_request(cmd, para, &[])?;
        self.link.write_all(&request).map_err(|e| self.io_error(e))?;
        self.link.flush().map_err(|e| self.io_error(e))?;

        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 512];
        loop {
            if let Some(frame) = self.decoder.next_frame() {
                let frame = frame.inspect_err(|e| warn!(command = what, error = %e, "bad frame from ID card reader"))?;
                let resp = frame.into_response()?;
                debug!(command = what, sw3 = format_args!("{:#04x}", resp.sw3), len = resp.data.len(), "SAM answered");
                return Ok(resp);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(IdCardError::Timeout);
            }
            self.link.set_timeout(left).map_err(|e| self.io_error(e))?;
            match self.link.read(&mut buf) {
                Ok(0) => return Err(IdCardError::Disconnected),
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }

    fn io_error(&self, e: io::Error) -> IdCardError {
        if e.kind() == ErrorKind::TimedOut {
            IdCardError::Timeout
        } else if is_disconnect(&e, self.path.as_deref()) {
            IdCardError::Disconnected
        } else {
            IdCardError::Io(e)
        }
    }
}

/// Status must be the command's success code; data must have the size that
/// command's answer has.
fn check(resp: &Response, success: u8, len: Option<usize>, command: &'static str) -> Result<(), IdCardError> {
    if let Some(e) = SamError::from_status(resp.sw1, resp.sw2, resp.sw3) {
        return Err(e.into());
    }
    expect(resp, success, len, command)
}

fn expect(resp: &Response, success: u8, len: Option<usize>, command: &'static str) -> Result<(), IdCardError> {
    // Also catches a stale answer to a different command (9F vs 90, sizes).
    if resp.sw3 != success || len.is_some_and(|l| resp.data.len() != l) {
        return Err(IdCardError::UnexpectedResponse { command });
    }
    Ok(())
}

/// Formats a 16-byte SAM id as vendor tools print it:
/// `AA.BB-CCCCCCCC-DDDDDDDDDD-EEEEEEEEEE`, where AA and BB are little-endian
/// u16 at bytes 0 and 2 (two digits), CC a little-endian u32 at byte 4
/// (usually a date), DD and EE little-endian u32 at bytes 8 and 12
/// (ten digits, zero-padded). Example: `05.01-20261121-0000012345-0000067890`.
pub fn format_sam_id(id: &[u8; SAM_ID_LEN]) -> String {
    let u16_at = |i: usize| u16::from_le_bytes([id[i], id[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([id[i], id[i + 1], id[i + 2], id[i + 3]]);
    format!("{:02}.{:02}-{}-{:010}-{:010}", u16_at(0), u16_at(2), u32_at(4), u32_at(8), u32_at(12))
}

/// Inverse of [`format_sam_id`] for the parts' numeric values.
pub fn sam_id_bytes(a: u16, b: u16, c: u32, d: u32, e: u32) -> [u8; SAM_ID_LEN] {
    let mut out = [0u8; SAM_ID_LEN];
    out[0..2].copy_from_slice(&a.to_le_bytes());
    out[2..4].copy_from_slice(&b.to_le_bytes());
    out[4..8].copy_from_slice(&c.to_le_bytes());
    out[8..12].copy_from_slice(&d.to_le_bytes());
    out[12..16].copy_from_slice(&e.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sam_id_formats_like_vendor_tools() {
        let id = sam_id_bytes(5, 1, 20261121, 12345, 67890);
        assert_eq!(format_sam_id(&id), "05.01-20261121-0000012345-0000067890");
    }
}
