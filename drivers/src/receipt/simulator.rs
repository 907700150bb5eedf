//! A receipt printer on a pty: records what it is sent and answers the
//! paper-sensor request like a real one.

use std::io::{self, ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};
use tracing::warn;

use super::status::{PaperStatus, DLE_EOT_PAPER};
use crate::escpos_inspect;
use crate::pty::Pty;

struct State {
    received: Vec<u8>,
    /// How far `received` has been scanned for real-time requests.
    scanned: usize,
    paper: PaperStatus,
    /// A printer that is off, or too cheap to answer status requests.
    mute: bool,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records bytes the printer received and returns its answers to the
    /// status requests among them.
    fn receive(&self, bytes: &[u8]) -> Vec<u8> {
        let mut s = self.state();
        s.received.extend_from_slice(bytes);
        status_requests(&mut s)
    }
}

/// What both simulators share whatever the transport: the serving thread
/// (stopped and joined on drop), what it received and its paper sensor.
struct Recorder {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts the thread `name` running `serve` until the recorder is dropped.
    fn spawn(name: &str, serve: impl FnOnce(&Shared) + Send + 'static) -> io::Result<Recorder> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { received: Vec::new(), scanned: 0, paper: PaperStatus::Ok, mute: false }),
            stop: AtomicBool::new(false),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new().name(name.into()).spawn(move || serve(&shared))?
        };
        Ok(Recorder { shared, thread: Some(thread) })
    }

    fn set_paper(&self, paper: PaperStatus) {
        self.shared.state().paper = paper;
    }

    fn received(&self) -> Vec<u8> {
        self.shared.state().received.clone()
    }

    fn qr_payloads(&self) -> Vec<Vec<u8>> {
        escpos_inspect::qr_payloads(&self.received())
    }

    fn text(&self) -> String {
        escpos_inspect::text_gb18030(&self.received())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Open [`PrinterSimulator::path`] with [`super::SerialDriver::open`].
pub struct PrinterSimulator {
    recorder: Recorder,
    path: PathBuf,
    _slave: TTYPort,
}

const POLL: Duration = Duration::from_millis(20);

impl PrinterSimulator {
    /// Opens a pty and starts answering on it; the driver under test opens
    /// [`PrinterSimulator::path`]. Stops on drop.
    pub fn start() -> io::Result<PrinterSimulator> {
        let Pty { mut master, slave, path } = Pty::open()?;
        SerialPort::set_timeout(&mut master, POLL).map_err(io::Error::from)?;
        let recorder = Recorder::spawn("printer-simulator", move |shared| serve(master, shared))?;
        Ok(PrinterSimulator { recorder, path, _slave: slave })
    }

    /// Device path for the driver; valid while the simulator lives.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// What the paper sensor reports from now on.
    pub fn set_paper(&self, paper: PaperStatus) {
        self.recorder.set_paper(paper);
    }

    /// Stop answering status requests (printer off).
    pub fn set_mute(&self, mute: bool) {
        self.recorder.shared.state().mute = mute;
    }

    /// Every byte received so far.
    pub fn received(&self) -> Vec<u8> {
        self.recorder.received()
    }

    /// QR payloads printed so far.
    pub fn qr_payloads(&self) -> Vec<Vec<u8>> {
        self.recorder.qr_payloads()
    }

    /// Text printed so far.
    pub fn text(&self) -> String {
        self.recorder.text()
    }
}

fn serve(mut master: TTYPort, shared: &Shared) {
    let mut buf = [0u8; 1024];
    while !shared.stop.load(Ordering::Relaxed) {
        let n = match master.read(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                continue;
            }
            Err(e) => {
                warn!(error = %e, "printer simulator: pty read failed, stopping");
                return;
            }
        };
        let answers = shared.receive(&buf[..n]);
        if !answers.is_empty() {
            if let Err(e) = master.write_all(&answers) {
                warn!(error = %e, "printer simulator: pty write failed, stopping");
                return;
            }
        }
    }
}

/// Answers to `DLE EOT 4` requests in the newly received bytes. A real
/// printer acts on these as they arrive, even mid-job.
fn status_requests(s: &mut State) -> Vec<u8> {
    let mut answers = Vec::new();
    let mut i = s.scanned;
    while i + DLE_EOT_PAPER.len() <= s.received.len() {
        if s.received[i..i + DLE_EOT_PAPER.len()] == DLE_EOT_PAPER {
            if !s.mute {
                answers.push(s.paper.to_byte());
            }
            i += DLE_EOT_PAPER.len();
        } else {
            i += 1;
        }
    }
    s.scanned = i;
    answers
}

/// A network receipt printer (raw TCP, port 9100 on real ones) on loopback:
/// records what it is sent and answers `DLE EOT 4` on the same connection.
pub struct NetworkPrinterSimulator {
    recorder: Recorder,
    addr: std::net::SocketAddr,
}

impl NetworkPrinterSimulator {
    /// Listens on a free loopback port and starts answering; connect to
    /// [`NetworkPrinterSimulator::addr`]. Stops on drop.
    pub fn start() -> io::Result<NetworkPrinterSimulator> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let recorder = Recorder::spawn("net-printer-simulator", move |shared| serve_tcp(listener, shared))?;
        Ok(NetworkPrinterSimulator { recorder, addr })
    }

    /// `host:port` for [`super::NetworkDriver::connect`].
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// What the paper sensor reports from now on.
    pub fn set_paper(&self, paper: PaperStatus) {
        self.recorder.set_paper(paper);
    }

    /// Every byte received so far.
    pub fn received(&self) -> Vec<u8> {
        self.recorder.received()
    }

    /// The payloads of the QR codes printed so far.
    pub fn qr_payloads(&self) -> Vec<Vec<u8>> {
        self.recorder.qr_payloads()
    }

    /// The printed text so far, decoded from GB18030.
    pub fn text(&self) -> String {
        self.recorder.text()
    }
}

fn serve_tcp(listener: std::net::TcpListener, shared: &Shared) {
    while !shared.stop.load(Ordering::Relaxed) {
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                thread::sleep(POLL);
                continue;
            }
            Err(e) => {
                warn!(error = %e, "network printer simulator: accept failed, stopping");
                return;
            }
        };
        // One client at a time, like most receipt printers.
        if stream.set_nonblocking(false).and_then(|()| stream.set_read_timeout(Some(POLL))).is_err() {
            continue;
        }
        let mut buf = [0u8; 1024];
        while !shared.stop.load(Ordering::Relaxed) {
            let n = match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                    continue;
                }
                Err(_) => break,
            };
            let answers = shared.receive(&buf[..n]);
            if !answers.is_empty() && stream.write_all(&answers).is_err() {
                break;
            }
        }
    }
}
