//! Keeps an ID card reader usable for the kiosk's lifetime: reopens it after
//! it was unplugged, and turns polling into card events (put on, taken off)
//! so a card lying on the reader is read once, not on every poll.

use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::card::Card;
use super::reader::{IdCardError, SamReader, SELECT_DATA_LEN};
use super::status::SamError;
use crate::health::Health;

/// What changed on the reader since the last poll.
#[derive(Debug)]
pub enum ReaderEvent {
    /// A card was put on the reader (or replaced by another) and read.
    // Boxed: events are moved around every poll, cards are rare.
    Presented(Box<Card>),
    /// The card read earlier was taken away.
    Removed,
    /// Nothing new: no card, or the same card still lying there.
    Unchanged,
}

/// Owns the reader on one thread; call [`ReaderSupervisor::poll`] every few
/// hundred milliseconds.
pub struct ReaderSupervisor {
    path: String,
    reader: Option<SamReader>,
    timeout: Duration,
    /// Serial of the card last read and still on the reader.
    present: Option<[u8; SELECT_DATA_LEN]>,
    /// No reopen before this (the node may be gone for a while).
    reopen_at: Instant,
    backoff: Duration,
    timeouts_in_a_row: u32,
    health: Health,
}

impl ReaderSupervisor {
    /// First wait before reopening a reader that went away; doubles up to
    /// [`ReaderSupervisor::MAX_BACKOFF`].
    pub const MIN_BACKOFF: Duration = Duration::from_millis(200);
    /// Longest wait between attempts to reopen a missing reader.
    pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
    /// A module that stopped answering may be wedged behind a live adapter:
    /// after this many timeouts the port is closed and reopened.
    const TIMEOUTS_BEFORE_REOPEN: u32 = 3;

    /// A supervisor for the reader at `path` (serial device); nothing is opened
    /// until the first poll, and health is absent until then.
    pub fn new(path: impl Into<String>) -> ReaderSupervisor {
        ReaderSupervisor {
            path: path.into(),
            reader: None,
            timeout: SamReader::DEFAULT_TIMEOUT,
            present: None,
            reopen_at: Instant::now(),
            backoff: Self::MIN_BACKOFF,
            timeouts_in_a_row: 0,
            health: Health::Absent("the ID card reader has not been opened yet".into()),
        }
    }

    /// Longest wait for each answer of the module.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        if let Some(r) = self.reader.as_mut() {
            r.set_timeout(timeout);
        }
    }

    /// The reader's state as of the last poll.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Whether a card that was read is still on the reader.
    pub fn card_present(&self) -> bool {
        self.present.is_some()
    }

    /// Forgets the card read last, so the next poll reports a card still
    /// lying on the reader as presented: a new step that needs the card
    /// (the kiosk starts reading for the next journey) gets it without the
    /// villager lifting it off and back on.
    pub fn forget_card(&mut self) {
        self.present = None;
    }

    /// Looks at the reader once. Errors are about this poll only: the next
    /// poll tries again (reopening the port when it went away).
    pub fn poll(&mut self) -> Result<ReaderEvent, IdCardError> {
        if self.reader.is_none() && Instant::now() < self.reopen_at {
            // Still backing off: no new attempt, so no new verdict.
            return Err(IdCardError::Disconnected);
        }
        let result = self.poll_inner();
        match &result {
            Ok(_) => {
                self.timeouts_in_a_row = 0;
                self.health = Health::Ok;
            }
            Err(e) => self.after_error(e),
        }
        result
    }

    fn poll_inner(&mut self) -> Result<ReaderEvent, IdCardError> {
        self.ensure_open()?;
        let Some(reader) = self.reader.as_mut() else { return Err(IdCardError::Disconnected) };
        if !reader.find_card()? {
            return Ok(match self.present.take() {
                Some(_) => ReaderEvent::Removed,
                None => ReaderEvent::Unchanged,
            });
        }
        let serial = match reader.select_card() {
            Ok(serial) => serial,
            // Found but not selectable: the card is still being slid on or
            // off. The next poll sees where it ends up.
            Err(IdCardError::Sam(SamError::SelectFailed)) => return Ok(ReaderEvent::Unchanged),
            Err(e) => return Err(e),
        };
        if self.present == Some(serial) {
            return Ok(ReaderEvent::Unchanged);
        }
        // A new card: forget the old one before reading, so a failed read
        // is retried on the next poll instead of being taken for "same card".
        self.present = None;
        let card = reader.read_selected()?;
        self.present = Some(serial);
        Ok(ReaderEvent::Presented(Box::new(card)))
    }

    /// Opens the reader if it is closed and the backoff allows.
    fn ensure_open(&mut self) -> Result<(), IdCardError> {
        if self.reader.is_none() {
            let mut reader = SamReader::open(&self.path)?;
            reader.set_timeout(self.timeout);
            info!(path = %self.path, "ID card reader opened");
            self.backoff = Self::MIN_BACKOFF;
            // A card lying there when the reader comes (back) is news.
            self.present = None;
            self.reader = Some(reader);
        }
        Ok(())
    }

    fn after_error(&mut self, e: &IdCardError) {
        self.health = Health::from(e);
        let reopen = if e.is_device_missing() {
            true
        } else if matches!(e, IdCardError::Timeout) {
            self.timeouts_in_a_row += 1;
            self.timeouts_in_a_row >= Self::TIMEOUTS_BEFORE_REOPEN
        } else {
            false
        };
        if reopen {
            if self.reader.take().is_some() {
                warn!(path = %self.path, error = %e, "ID card reader lost; will reopen");
            }
            self.present = None;
            self.timeouts_in_a_row = 0;
            self.reopen_at = Instant::now() + self.backoff;
            self.backoff = (self.backoff * 2).min(Self::MAX_BACKOFF);
        }
    }
}
