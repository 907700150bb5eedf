//! A fake SAM module on a pty, answering with real response frames.
//!
//! The reader under test opens [`SamSimulator::path`] like any serial port,
//! so the frames, the serial settings and the timeouts are the real ones.

use std::io::{self, ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use model::identity::check_char;
use serialport::{SerialPort, TTYPort};
use tracing::warn;

use super::frame::{encode_response, Decoder, FrameError, Request};
use super::reader::{sam_id_bytes, FIND_CARD, READ_SAM_ID, READ_TEXT_PHOTO, SAM_ID_LEN, SELECT_CARD};
use super::status::{SamError, FIND_SUCCESS, SUCCESS};
use super::text::{encode_read_data, CardText, LONG_TERM, PHOTO_LEN};
use crate::pty::Pty;

/// A card to put on the simulated reader. Fields are raw so tests can
/// carry invalid values onto the wire.
#[derive(Clone, Debug)]
pub struct SimCard {
    pub text: CardText,
    /// 1024 bytes in a real card.
    pub photo_wlt: Vec<u8>,
}

/// 17 digits plus their GB 11643 check character.
fn with_check(first17: &str) -> String {
    let mut digits = [0u8; 17];
    digits.copy_from_slice(first17.as_bytes());
    format!("{first17}{}", check_char(&digits))
}

/// A stand-in for a WLT photo that holds every byte value, so any byte the
/// line mangled shows up as a photo mismatch.
fn sample_photo() -> Vec<u8> {
    (0..PHOTO_LEN).map(|i| (i % 256) as u8).collect()
}

impl SimCard {
    /// A fictional villager of 东乡族自治县 (region 622926): 张桂兰, female,
    /// born 1952-03-07, card valid from 2016-03-07 for life (长期).
    pub fn sample() -> SimCard {
        SimCard {
            text: CardText {
                name: "张桂兰".into(),
                gender: "2".into(),
                nation: "01".into(),
                birth: "19520307".into(),
                address: "甘肃省临夏回族自治州东乡族自治县锁南镇白家村37号".into(),
                id_number: with_check("62292619520307002"),
                authority: "东乡族自治县公安局".into(),
                valid_from: "20160307".into(),
                valid_until: LONG_TERM.into(),
                card_type: ' ',
            },
            photo_wlt: sample_photo(),
        }
    }

    /// A fictional young man whose ten-year card ran out on 2020-05-12.
    pub fn expired() -> SimCard {
        SimCard {
            text: CardText {
                name: "马文华".into(),
                gender: "1".into(),
                nation: "28".into(),
                birth: "19900512".into(),
                address: "甘肃省临夏回族自治州东乡族自治县锁南镇苜叶村12号".into(),
                id_number: with_check("62292619900512003"),
                authority: "东乡族自治县公安局".into(),
                valid_from: "20100512".into(),
                valid_until: "20200512".into(),
                card_type: ' ',
            },
            photo_wlt: sample_photo(),
        }
    }

    /// [`SimCard::sample`] with a wrong check character (what a forged or
    /// misprinted number looks like).
    pub fn bad_check_digit() -> SimCard {
        let mut card = SimCard::sample();
        let good = card.text.id_number.pop().unwrap_or('0');
        card.text.id_number.push(if good == '0' { '1' } else { '0' });
        card
    }

    /// Encodes the `30 01` answer data.
    fn read_data(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, super::text::CardDataError> {
        let block = self.text.encode()?;
        encode_read_data(&block, &self.photo_wlt)
    }
}

#[derive(Default)]
struct State {
    card: Option<SimCard>,
    /// The SAM only selects a card it found, and only reads a selected one.
    found: bool,
    selected: bool,
    delay: Duration,
    corrupt_next: bool,
    garbage_next: Vec<u8>,
    fail_next: Option<SamError>,
    requests: Vec<(u8, u8)>,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in the simulator thread must not hide the test's own result.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A simulated SAM-V reader. Dropping it stops the thread and closes the pty
/// (an open reader then sees a disconnect).
pub struct SamSimulator {
    shared: Arc<Shared>,
    path: PathBuf,
    thread: Option<JoinHandle<()>>,
    _slave: TTYPort,
}

/// The simulator's SAM id: `05.01-20261121-0000012345-0000067890`.
pub const SIM_SAM_ID: [u8; SAM_ID_LEN] = {
    // const fn equivalent of sam_id_bytes(5, 1, 20261121, 12345, 67890)
    let c = 20261121u32.to_le_bytes();
    let d = 12345u32.to_le_bytes();
    let e = 67890u32.to_le_bytes();
    [5, 0, 1, 0, c[0], c[1], c[2], c[3], d[0], d[1], d[2], d[3], e[0], e[1], e[2], e[3]]
};

/// How often the thread looks at the stop flag while idle.
const POLL: Duration = Duration::from_millis(20);

impl SamSimulator {
    /// Opens a pty and starts answering on it, with no card on the reader.
    pub fn start() -> io::Result<SamSimulator> {
        debug_assert_eq!(SIM_SAM_ID, sam_id_bytes(5, 1, 20261121, 12345, 67890));
        let Pty { mut master, slave, path } = Pty::open()?;
        SerialPort::set_timeout(&mut master, POLL).map_err(io::Error::from)?;
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), stop: AtomicBool::new(false) });
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new().name("sam-simulator".into()).spawn(move || serve(master, &shared))?
        };
        Ok(SamSimulator { shared, path, thread: Some(thread), _slave: slave })
    }

    /// The device path to give [`super::SamReader::open`]. Valid while the
    /// simulator lives.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Puts a card on the reader (replacing any).
    pub fn present(&self, card: SimCard) {
        let mut s = self.shared.state();
        s.card = Some(card);
        s.found = false;
        s.selected = false;
    }

    /// Takes the card away.
    pub fn remove(&self) {
        let mut s = self.shared.state();
        s.card = None;
        s.found = false;
        s.selected = false;
    }

    /// Delays every answer (a slow or hung module).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.state().delay = delay;
    }

    /// Flips the checksum of the next answer (line noise).
    pub fn corrupt_next_response(&self) {
        self.shared.state().corrupt_next = true;
    }

    /// Sends these bytes just before the next answer.
    pub fn inject_garbage(&self, bytes: &[u8]) {
        self.shared.state().garbage_next.extend_from_slice(bytes);
    }

    /// Answers the next request with this status instead of doing it.
    pub fn fail_next(&self, error: SamError) {
        self.shared.state().fail_next = Some(error);
    }

    /// (CMD, PARA) of every request received so far.
    pub fn requests(&self) -> Vec<(u8, u8)> {
        self.shared.state().requests.clone()
    }
}

impl Drop for SamSimulator {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut master: TTYPort, shared: &Shared) {
    let mut decoder = Decoder::new();
    let mut buf = [0u8; 512];
    while !shared.stop.load(Ordering::Relaxed) {
        match master.read(&mut buf) {
            Ok(n) => decoder.push(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                continue;
            }
            Err(e) => {
                warn!(error = %e, "SAM simulator: pty read failed, stopping");
                return;
            }
        }
        while let Some(frame) = decoder.next_frame() {
            let reply = match frame.and_then(|f| f.into_request()) {
                Ok(req) => answer(shared, &req),
                // What a real module says about a frame it could not parse.
                Err(FrameError::Checksum { .. }) => error_reply(SamError::RequestChecksum),
                Err(_) => error_reply(SamError::RequestLength),
            };
            if let Err(e) = send(&mut master, shared, reply) {
                warn!(error = %e, "SAM simulator: pty write failed, stopping");
                return;
            }
        }
    }
}

fn error_reply(e: SamError) -> Vec<u8> {
    // Empty data always fits a frame.
    encode_response(e.sw3(), &[]).unwrap_or_default()
}

/// Builds the answer a SAM would give, updating card state.
fn answer(shared: &Shared, req: &Request) -> Vec<u8> {
    let mut s = shared.state();
    let key = (req.cmd, req.para);
    s.requests.push(key);
    if let Some(e) = s.fail_next.take() {
        return error_reply(e);
    }
    let present = s.card.is_some();
    let reply = match key {
        FIND_CARD if present => {
            s.found = true;
            encode_response(FIND_SUCCESS, &[0; 4])
        }
        FIND_CARD => return error_reply(SamError::NoCard),
        SELECT_CARD if present && s.found => {
            s.selected = true;
            encode_response(SUCCESS, &[0; 8])
        }
        SELECT_CARD => return error_reply(SamError::SelectFailed),
        READ_TEXT_PHOTO if present && s.selected => {
            // A real SAM needs find and select again before the next read.
            s.found = false;
            s.selected = false;
            match s.card.as_ref().map(SimCard::read_data) {
                Some(Ok(data)) => encode_response(SUCCESS, &data),
                _ => return error_reply(SamError::ReadFailed),
            }
        }
        READ_TEXT_PHOTO => return error_reply(SamError::ReadFailed),
        READ_SAM_ID => encode_response(SUCCESS, &SIM_SAM_ID),
        _ => return error_reply(SamError::UnknownCommand),
    };
    reply.unwrap_or_else(|_| error_reply(SamError::InfoLength))
}

/// Applies the configured faults and writes the answer.
fn send(master: &mut TTYPort, shared: &Shared, mut reply: Vec<u8>) -> io::Result<()> {
    let (delay, garbage) = {
        let mut s = shared.state();
        if std::mem::take(&mut s.corrupt_next) {
            if let Some(chk) = reply.last_mut() {
                *chk ^= 0xFF;
            }
        }
        (s.delay, std::mem::take(&mut s.garbage_next))
    };
    let until = Instant::now() + delay;
    while Instant::now() < until {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
    // Writes may need to wait for the reader to drain the pty buffer.
    SerialPort::set_timeout(master, Duration::from_secs(2)).map_err(io::Error::from)?;
    master.write_all(&garbage)?;
    // No flush: tcdrain means nothing on a pty master.
    master.write_all(&reply)?;
    SerialPort::set_timeout(master, POLL).map_err(io::Error::from)
}
