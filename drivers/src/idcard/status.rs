//! SW3 status codes of SAM responses.

use thiserror::Error;

/// SW3 for a successful command.
pub const SUCCESS: u8 = 0x90;
/// SW3 for a successful find-card.
pub const FIND_SUCCESS: u8 = 0x9F;

/// A status the SAM reported instead of success, one variant per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SamError {
    /// No card on the reader: the normal answer while polling.
    #[error("no card on the reader (0x80)")]
    NoCard,
    /// The card did not answer selection.
    #[error("selecting the card failed (0x81)")]
    SelectFailed,
    /// The card could not be read (moved away mid-read).
    #[error("reading the card failed (0x41)")]
    ReadFailed,
    /// Our frame's checksum was wrong.
    #[error("the reader rejected our frame's checksum (0x10)")]
    RequestChecksum,
    /// Our frame's length was wrong.
    #[error("the reader rejected our frame's length (0x11)")]
    RequestLength,
    /// The reader does not know the command.
    #[error("the reader does not know the command (0x21)")]
    UnknownCommand,
    /// Operation not authorised.
    #[error("operation not authorised (越权操作, 0x23)")]
    NotAuthorised,
    /// Unrecognised error.
    #[error("the reader reported an unrecognised error (0x24)")]
    Unrecognised,
    /// The card failed authentication (not genuine, or damaged).
    #[error("card authentication failed (0x31)")]
    CardAuthentication,
    /// The card's information failed its checksum.
    #[error("card information checksum error (0x32)")]
    InfoChecksum,
    /// The card's information has the wrong length.
    #[error("card information length error (0x33)")]
    InfoLength,
    /// Card operation failed.
    #[error("card operation failed (0x40)")]
    CardOperation,
    /// The card has no content.
    #[error("the card has no content (0x47)")]
    NoContent,
    /// The SAM module failed its self-check: replace the reader.
    #[error("the SAM module failed its self-check (0x60)")]
    SamSelfCheck,
    /// The SAM module is not authorised.
    #[error("the SAM module is not authorised (0x66)")]
    SamNotAuthorised,
    /// A status word not in the table.
    #[error("unexpected status word {sw1:#04x} {sw2:#04x} {sw3:#04x}")]
    Unknown {
        /// First status byte.
        sw1: u8,
        /// Second status byte.
        sw2: u8,
        /// Third status byte.
        sw3: u8,
    },
}

impl SamError {
    /// The error for a status word, `None` for either success code.
    pub fn from_status(sw1: u8, sw2: u8, sw3: u8) -> Option<SamError> {
        if (sw1, sw2) != (0, 0) {
            return Some(SamError::Unknown { sw1, sw2, sw3 });
        }
        Some(match sw3 {
            SUCCESS | FIND_SUCCESS => return None,
            0x80 => SamError::NoCard,
            0x81 => SamError::SelectFailed,
            0x41 => SamError::ReadFailed,
            0x10 => SamError::RequestChecksum,
            0x11 => SamError::RequestLength,
            0x21 => SamError::UnknownCommand,
            0x23 => SamError::NotAuthorised,
            0x24 => SamError::Unrecognised,
            0x31 => SamError::CardAuthentication,
            0x32 => SamError::InfoChecksum,
            0x33 => SamError::InfoLength,
            0x40 => SamError::CardOperation,
            0x47 => SamError::NoContent,
            0x60 => SamError::SamSelfCheck,
            0x66 => SamError::SamNotAuthorised,
            other => SamError::Unknown { sw1, sw2, sw3: other },
        })
    }

    /// The SW3 byte that carries this error (used by the simulator).
    pub fn sw3(self) -> u8 {
        match self {
            SamError::NoCard => 0x80,
            SamError::SelectFailed => 0x81,
            SamError::ReadFailed => 0x41,
            SamError::RequestChecksum => 0x10,
            SamError::RequestLength => 0x11,
            SamError::UnknownCommand => 0x21,
            SamError::NotAuthorised => 0x23,
            SamError::Unrecognised => 0x24,
            SamError::CardAuthentication => 0x31,
            SamError::InfoChecksum => 0x32,
            SamError::InfoLength => 0x33,
            SamError::CardOperation => 0x40,
            SamError::NoContent => 0x47,
            SamError::SamSelfCheck => 0x60,
            SamError::SamNotAuthorised => 0x66,
            SamError::Unknown { sw3, .. } => sw3,
        }
    }

    /// Whether the SAM module itself is at fault (as opposed to the card or
    /// the villager's timing): the reader needs a technician.
    pub fn is_module_fault(self) -> bool {
        matches!(self, SamError::SamSelfCheck | SamError::SamNotAuthorised | SamError::NotAuthorised)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_maps_to_its_own_variant_and_back() {
        let codes = [0x80, 0x81, 0x41, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x47, 0x60, 0x66];
        let mut seen = Vec::new();
        for code in codes {
            let e = SamError::from_status(0, 0, code).unwrap();
            assert!(!matches!(e, SamError::Unknown { .. }), "{code:#04x} unmapped");
            assert_eq!(e.sw3(), code);
            assert!(!seen.contains(&e), "{code:#04x} shares a variant");
            seen.push(e);
        }
    }

    #[test]
    fn success_codes_are_not_errors_and_odd_words_are() {
        assert_eq!(SamError::from_status(0, 0, SUCCESS), None);
        assert_eq!(SamError::from_status(0, 0, FIND_SUCCESS), None);
        assert_eq!(SamError::from_status(0, 0, 0x55), Some(SamError::Unknown { sw1: 0, sw2: 0, sw3: 0x55 }));
        assert_eq!(
            SamError::from_status(0x6A, 0, SUCCESS),
            Some(SamError::Unknown { sw1: 0x6A, sw2: 0, sw3: SUCCESS })
        );
    }
}
