//! A fake SAM module on a pty, answering with real response frames.
//!
//! The reader under test opens [`SamSimulator::path`] like any serial port,
//! so the frames, the serial settings and the timeouts are the real ones.

use std::io::{self, ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use model::identity::check_char;
use serialport::{SerialPort, TTYPort};
use tracing::warn;

use super::frame::{encode_response, Decoder, FrameError, Request};
use super::reader::{sam_id_bytes, FIND_CARD, READ_SAM_ID, READ_TEXT_PHOTO, SAM_ID_LEN, SELECT_CARD};
use super::status::{SamError, FIND_SUCCESS, SUCCESS};
use super::foreign::{icao_check_digit, ForeignCardText};
use super::text::{encode_read_data, CardText, LONG_TERM, PHOTO_LEN};
use crate::pty::Pty;

/// A card to put on the simulated reader. Fields are raw so tests can
/// carry invalid values onto the wire.
#[derive(Clone, Debug)]
pub struct SimCard {
    /// The citizen text block, used unless `foreign` is set.
    pub text: CardText,
    /// When set, the card is a foreign permanent resident card and this
    /// block goes on the wire instead of `text`.
    pub foreign: Option<ForeignCardText>,
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
                pass_number: String::new(),
                issue_count: String::new(),
                card_type: ' ',
            },
            foreign: None,
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
                pass_number: String::new(),
                issue_count: String::new(),
                card_type: ' ',
            },
            foreign: None,
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

    /// A fictional Taiwan resident living in 兰州 with a residence permit
    /// (`J`): number prefix 830000, no nation code, pass number and issue count.
    pub fn hmt_permit() -> SimCard {
        SimCard {
            text: CardText {
                name: "林志明".into(),
                gender: "1".into(),
                nation: String::new(),
                birth: "19880614".into(),
                address: "甘肃省兰州市城关区东岗西路街道".into(),
                id_number: with_check("83000019880614003"),
                authority: "兰州市公安局城关分局".into(),
                valid_from: "20210301".into(),
                valid_until: "20260301".into(),
                pass_number: "01234567".into(),
                issue_count: "02".into(),
                card_type: 'J',
            },
            foreign: None,
            photo_wlt: sample_photo(),
        }
    }

    /// A fictional foreign permanent resident, 2017 card (`I`): born
    /// 1975-08-21, US national, number `USA62007508211` + check digit.
    pub fn foreign_2017() -> SimCard {
        let first14 = "USA62007508211";
        let check = icao_check_digit(first14.as_bytes()).map(char::from).unwrap_or('0');
        SimCard::foreign(ForeignCardText {
            card_type: 'I',
            name_en: "MUELLER ANNA MARIA".into(),
            name_zh: "穆安娜".into(),
            gender: "2".into(),
            number: format!("{first14}{check}"),
            nationality: "DEU".into(),
            birth: "19750821".into(),
            valid_from: "20190610".into(),
            valid_until: "20290610".into(),
            card_version: "01".into(),
            issuing_office: "6200".into(),
            renewal_count: String::new(),
            previous_number_link: String::new(),
        })
    }

    /// The same holder on a 2023 card (`Y`): number 9 62 276 19750821 002 + check.
    pub fn foreign_2023() -> SimCard {
        SimCard::foreign(ForeignCardText {
            card_type: 'Y',
            name_en: "MUELLER ANNA MARIA".into(),
            name_zh: "穆安娜".into(),
            gender: "2".into(),
            number: with_check("96227619750821002"),
            nationality: "DEU".into(),
            birth: "19750821".into(),
            valid_from: "20240110".into(),
            valid_until: "20340110".into(),
            card_version: String::new(),
            issuing_office: String::new(),
            renewal_count: "01".into(),
            previous_number_link: "001".into(),
        })
    }

    fn foreign(text: ForeignCardText) -> SimCard {
        // `text` is unused on the wire; keep it blank so nothing leaks from it.
        let mut card = SimCard::sample();
        card.text = CardText::decode(&super::text::blank_block()).unwrap_or_else(|_| card.text.clone());
        card.foreign = Some(text);
        card
    }

    /// Encodes the `30 01` answer data.
    fn read_data(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, super::text::CardDataError> {
        let block = match &self.foreign {
            Some(f) => f.encode()?,
            None => self.text.encode()?,
        };
        encode_read_data(&block, &self.photo_wlt)
    }

    /// What select answers: the card's 8-byte serial. Real cards each have
    /// their own; the simulator derives one from the document number.
    fn serial(&self) -> [u8; 8] {
        let number = match &self.foreign {
            Some(f) => f.number.as_str(),
            None => self.text.id_number.as_str(),
        };
        // FNV-1a: stable across runs, unlike std's randomised hasher.
        let h = number.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        h.to_le_bytes()
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
    replace_next: Option<Vec<u8>>,
    /// Pace bytes as a serial line at this rate would (a pty has no baud rate).
    line_rate: Option<u32>,
    fail_next: Option<SamError>,
    fail_on: Option<((u8, u8), SamError)>,
    requests: Vec<(u8, u8)>,
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in the simulator thread must not hide the test's own result.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One plugged-in reader: a pty and the thread answering on it.
struct Port {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _slave: TTYPort,
}

impl Port {
    fn open(shared: &Arc<Shared>) -> io::Result<(Port, PathBuf)> {
        let Pty { mut master, slave, path } = Pty::open()?;
        SerialPort::set_timeout(&mut master, POLL).map_err(io::Error::from)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (Arc::clone(shared), Arc::clone(&stop));
            thread::Builder::new().name("sam-simulator".into()).spawn(move || serve(master, &shared, &stop))?
        };
        Ok((Port { stop, thread: Some(thread), _slave: slave }, path))
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A simulated SAM-V reader. Dropping it stops the thread and closes the pty
/// (an open reader then sees a disconnect).
///
/// Drivers open [`SamSimulator::path`], a symlink to the current pty, the
/// way kiosks name readers by a udev link (`/dev/serial/by-id/...`): after
/// [`SamSimulator::unplug`] the link is gone, after
/// [`SamSimulator::replug`] it points at a fresh pty.
pub struct SamSimulator {
    shared: Arc<Shared>,
    dir: PathBuf,
    link: PathBuf,
    port: Mutex<Option<Port>>,
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

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

impl SamSimulator {
    /// Opens a pty and starts answering on it, with no card on the reader.
    pub fn start() -> io::Result<SamSimulator> {
        debug_assert_eq!(SIM_SAM_ID, sam_id_bytes(5, 1, 20261121, 12345, 67890));
        let dir = std::env::temp_dir().join(format!(
            "cunban-sam-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let sim = SamSimulator {
            shared: Arc::new(Shared { state: Mutex::new(State::default()) }),
            link: dir.join("idcard-reader"),
            dir,
            port: Mutex::new(None),
        };
        sim.replug()?;
        Ok(sim)
    }

    /// The device path to give [`super::SamReader::open`]. Valid while the
    /// simulator lives and is plugged in.
    pub fn path(&self) -> PathBuf {
        self.link.clone()
    }

    /// Pulls the reader's cable: the device node disappears and an open
    /// port stops working. Cards and faults set up stay as they are.
    pub fn unplug(&self) {
        let _ = std::fs::remove_file(&self.link);
        let port = self.port.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(port);
    }

    /// Plugs the reader back in (a new pty behind the same path). Plugging
    /// in a plugged reader replugs it.
    pub fn replug(&self) -> io::Result<()> {
        self.unplug();
        let (port, pty) = Port::open(&self.shared)?;
        std::os::unix::fs::symlink(&pty, &self.link)?;
        *self.port.lock().unwrap_or_else(|p| p.into_inner()) = Some(port);
        Ok(())
    }

    /// Makes the link as slow as a real serial line at `baud` (8N1: 10
    /// bits a byte), both ways; `None` for pty speed.
    pub fn set_line_rate(&self, baud: Option<u32>) {
        self.shared.state().line_rate = baud;
    }

    /// Answers the next request with these bytes instead (a malformed or
    /// truncated frame, a frame for another command...).
    pub fn replace_next_response(&self, bytes: &[u8]) {
        self.shared.state().replace_next = Some(bytes.to_vec());
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

    /// Answers the next request for `command` (e.g. `SELECT_CARD`) with
    /// this status: a card lifted between find and select, a read that fails.
    pub fn fail_next_command(&self, command: (u8, u8), error: SamError) {
        self.shared.state().fail_on = Some((command, error));
    }

    /// (CMD, PARA) of every request received so far.
    pub fn requests(&self) -> Vec<(u8, u8)> {
        self.shared.state().requests.clone()
    }
}

impl Drop for SamSimulator {
    fn drop(&mut self) {
        self.unplug();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn serve(mut master: TTYPort, shared: &Shared, stop: &AtomicBool) {
    let mut decoder = Decoder::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
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
            if let Some(baud) = shared.state().line_rate {
                // The request took this long to arrive on a real line.
                let len = frame.as_ref().map(|f| f.body.len() + 8).unwrap_or(0);
                thread::sleep(wire_time(len, baud));
            }
            let reply = match frame.and_then(|f| f.into_request()) {
                Ok(req) => answer(shared, &req),
                // What a real module says about a frame it could not parse.
                Err(FrameError::Checksum { .. }) => error_reply(SamError::RequestChecksum),
                Err(_) => error_reply(SamError::RequestLength),
            };
            if let Err(e) = send(&mut master, shared, stop, reply) {
                warn!(error = %e, "SAM simulator: pty write failed, stopping");
                return;
            }
        }
    }
}

/// Time `bytes` take on an 8N1 line at `baud`.
pub fn wire_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(baud.max(1)))
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
    if let Some((_, e)) = s.fail_on.take_if(|(k, _)| *k == key) {
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
            let serial = s.card.as_ref().map(SimCard::serial).unwrap_or_default();
            encode_response(SUCCESS, &serial)
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
fn send(master: &mut TTYPort, shared: &Shared, stop: &AtomicBool, mut reply: Vec<u8>) -> io::Result<()> {
    let (delay, garbage, line_rate) = {
        let mut s = shared.state();
        if std::mem::take(&mut s.corrupt_next) {
            if let Some(chk) = reply.last_mut() {
                *chk ^= 0xFF;
            }
        }
        if let Some(raw) = s.replace_next.take() {
            reply = raw;
        }
        (s.delay, std::mem::take(&mut s.garbage_next), s.line_rate)
    };
    let until = Instant::now() + delay;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
    // Writes may need to wait for the reader to drain the pty buffer.
    SerialPort::set_timeout(master, Duration::from_secs(2)).map_err(io::Error::from)?;
    master.write_all(&garbage)?;
    // No flush: tcdrain means nothing on a pty master.
    match line_rate {
        None => master.write_all(&reply)?,
        Some(baud) => {
            // Each chunk leaves when the line would have finished sending
            // it: an absolute schedule, so sleeps do not add up.
            let started = Instant::now();
            let mut sent = 0usize;
            for chunk in reply.chunks(32) {
                master.write_all(chunk)?;
                sent += chunk.len();
                let due = started + wire_time(sent, baud);
                thread::sleep(due.saturating_duration_since(Instant::now()));
            }
        }
    }
    SerialPort::set_timeout(master, POLL).map_err(io::Error::from)
}
