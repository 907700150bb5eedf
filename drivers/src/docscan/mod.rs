//! The document scanner, through SANE's `scanimage` (Debian sane-utils) as a
//! subprocess: flatbed and feeder (ADF) scans to PNG, with resolution and
//! mode, and the scanner's failures (jam, empty feeder, open cover) typed.
//!
//! A subprocess rather than libsane bindings: a crashing vendor backend
//! takes down `scanimage`, not the kiosk.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;
use tracing::debug;

use crate::health::Health;

pub mod test_backend;

/// The `scanimage` binary, looked up on `PATH`.
pub const SCANIMAGE: &str = "scanimage";

/// Where the pages come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The glass: one page per scan.
    Flatbed,
    /// Automatic document feeder: every sheet loaded, one page each.
    Feeder,
}

/// Colour depth of the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 24-bit colour.
    Color,
    /// 8-bit grey, the usual choice for forms.
    Gray,
    /// 1-bit black and white.
    Lineart,
}

/// How to scan: passed to `scanimage` as options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSettings {
    /// Flatbed or feeder.
    pub source: Source,
    /// Colour, grey or black and white.
    pub mode: Mode,
    /// Dots per inch; 150 is plenty for forms, 300 for small print.
    pub resolution: u32,
    /// Feeder only: stop after this many pages.
    pub max_pages: Option<u32>,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings { source: Source::Flatbed, mode: Mode::Gray, resolution: 150, max_pages: None }
    }
}

/// What goes wrong with a scan, classified from scanimage's exit and stderr.
/// Reasons are for technicians and the kiosk's prompts.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScanError {
    /// The `scanimage` binary is missing.
    #[error("scanimage is not installed (Debian package sane-utils)")]
    NotInstalled,
    /// SANE knows no such device.
    #[error("no scanner {0:?} (unplugged, or no SANE backend for it)")]
    NotFound(String),
    /// The feeder jammed; the pages before it were scanned.
    #[error("paper jammed in the scanner after {pages_done} good page(s)")]
    Jammed {
        /// Pages scanned before the jam (they are dropped).
        pages_done: usize,
    },
    /// A feeder scan with no paper loaded.
    #[error("the scanner's feeder is empty")]
    EmptyFeeder,
    /// The cover or feeder lid is open.
    #[error("the scanner's cover is open")]
    CoverOpen,
    /// Another program holds the device; try again later.
    #[error("the scanner is busy (another program is using it)")]
    Busy,
    /// The backend rejected an option (source, mode or resolution).
    #[error("the scanner refused the settings: {0}")]
    Settings(String),
    /// The scan took longer than the scanner's timeout and was killed.
    #[error("the scanner did not finish within {0:?}; scanimage was stopped")]
    Timeout(Duration),
    /// Any other failure; the text is scanimage's stderr.
    #[error("the scan failed: {0}")]
    Failed(String),
}

/// What a finished `scanimage` left.
struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// One scanned page, PNG-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page as a PNG file.
    pub png: Vec<u8>,
}

/// A SANE device, e.g. `test:0` or `fujitsu:fi-7030:1234`.
pub struct SaneScanner {
    device: String,
    /// Private SANE configuration (tests); `None` uses the system's.
    config_dir: Option<PathBuf>,
    timeout: Duration,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl SaneScanner {
    /// Longest a scan may take before scanimage is killed: a feeder of 50
    /// sheets at 300 dpi takes a few minutes; a hung backend takes for ever.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    /// A scanner for the SANE device `device`, with
    /// [`SaneScanner::DEFAULT_TIMEOUT`] and the system's SANE configuration.
    pub fn new(device: &str) -> SaneScanner {
        SaneScanner { device: device.to_owned(), config_dir: None, timeout: Self::DEFAULT_TIMEOUT }
    }

    /// Sets how long a scan may take before scanimage is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> SaneScanner {
        self.timeout = timeout;
        self
    }

    /// Uses `dir` as SANE_CONFIG_DIR (dll.conf and backend configs).
    pub fn with_config_dir(mut self, dir: &Path) -> SaneScanner {
        self.config_dir = Some(dir.to_owned());
        self
    }

    /// The SANE device name.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(SCANIMAGE);
        if let Some(dir) = &self.config_dir {
            cmd.env("SANE_CONFIG_DIR", dir);
        }
        // Messages are matched in English.
        cmd.env("LC_ALL", "C").env("LANGUAGE", "C");
        cmd.arg("-d").arg(&self.device);
        cmd
    }

    /// Runs scanimage, killing it after the timeout: SANE backends can
    /// hang (the `test` backend itself deadlocks now and then on faults).
    /// scanimage sometimes dies of SIGPIPE inside a backend that is
    /// reporting a fault (seen with SANE's test backend under load): that
    /// death says nothing about the scanner, so the command runs once more.
    fn run(&self, mut cmd: Command) -> Result<Output, ScanError> {
        let out = self.run_once(&mut cmd)?;
        if String::from_utf8_lossy(&out.stderr).contains("received signal 13") {
            debug!(device = %self.device, "scanimage died of SIGPIPE; trying once more");
            return self.run_once(&mut cmd);
        }
        Ok(out)
    }

    fn run_once(&self, cmd: &mut Command) -> Result<Output, ScanError> {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ScanError::NotInstalled,
            _ => ScanError::Failed(e.to_string()),
        })?;
        // Both pipes drained on threads so a full pipe never blocks scanimage.
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                buf
            })
        };
        let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = (out.join(), err.join());
                    return Err(ScanError::Timeout(self.timeout));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(ScanError::Failed(e.to_string())),
            }
        };
        Ok(Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() })
    }

    /// Opens the device without scanning (`scanimage -n`).
    pub fn check(&self) -> Result<(), ScanError> {
        let mut cmd = self.command();
        cmd.arg("-n");
        let out = self.run(cmd)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(classify(&self.device, &String::from_utf8_lossy(&out.stderr), 0))
        }
    }

    /// The scanner's state for the service tiles: a cover open, a busy device
    /// or a timeout is degraded, anything else that fails is absent. Blocks
    /// while scanimage asks the device.
    pub fn health(&self) -> Health {
        match self.check() {
            Ok(()) => Health::Ok,
            Err(e @ (ScanError::CoverOpen | ScanError::Busy | ScanError::Timeout(_))) => Health::Degraded(e.to_string()),
            Err(e) => Health::Absent(e.to_string()),
        }
    }

    /// Scans with `settings`: one page from the flatbed, or every page in
    /// the feeder (an empty feeder is [`ScanError::EmptyFeeder`]).
    pub fn scan(&self, settings: &ScanSettings) -> Result<Vec<Page>, ScanError> {
        let mut cmd = self.command();
        cmd.arg("--format=png");
        cmd.arg("--mode").arg(match settings.mode {
            Mode::Color => "Color",
            Mode::Gray => "Gray",
            Mode::Lineart => "Lineart",
        });
        cmd.arg("--resolution").arg(settings.resolution.to_string());
        match settings.source {
            Source::Flatbed => self.scan_flatbed(cmd),
            Source::Feeder => self.scan_feeder(cmd, settings.max_pages),
        }
    }

    fn scan_flatbed(&self, mut cmd: Command) -> Result<Vec<Page>, ScanError> {
        cmd.args(["--source", "Flatbed"]);
        let out = self.run(cmd)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || out.stdout.is_empty() {
            return Err(classify(&self.device, &stderr, 0));
        }
        Ok(vec![Page { png: out.stdout }])
    }

    fn scan_feeder(&self, mut cmd: Command, max_pages: Option<u32>) -> Result<Vec<Page>, ScanError> {
        let dir = std::env::temp_dir().join(format!(
            "cunban-scan-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| ScanError::Failed(e.to_string()))?;
        let result = (|| {
            cmd.args(["--source", "Automatic Document Feeder"]);
            let mut batch = OsString::from("--batch=");
            batch.push(dir.join("page-%04d.png"));
            cmd.arg(batch);
            if let Some(n) = max_pages {
                cmd.arg(format!("--batch-count={n}"));
            }
            let out = self.run(cmd)?;
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            debug!(device = %self.device, %stderr, "scanimage batch finished");
            // In batch mode scanimage exits 0 even when a page failed; each
            // page ends with "(scanner status = N)", 5 (EOF) meaning good.
            let statuses = page_statuses(&stderr);
            let good = statuses.iter().take_while(|&&s| s == SANE_STATUS_EOF).count();
            if let Some(&bad) = statuses.get(good) {
                return Err(status_error(bad, good, &self.device, &stderr));
            }
            if !out.status.success() {
                return Err(classify(&self.device, &stderr, good));
            }
            if good == 0 {
                return Err(ScanError::EmptyFeeder);
            }
            (1..=good)
                .map(|i| {
                    std::fs::read(dir.join(format!("page-{i:04}.png")))
                        .map(|png| Page { png })
                        .map_err(|e| ScanError::Failed(format!("page {i} missing: {e}")))
                })
                .collect()
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result
    }
}

const SANE_STATUS_EOF: u32 = 5;

/// The `(scanner status = N)` of each page scanimage reports in batch mode.
fn page_statuses(stderr: &str) -> Vec<u32> {
    stderr
        .lines()
        .filter_map(|l| l.split("(scanner status = ").nth(1))
        .filter_map(|rest| rest.split(')').next())
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

fn status_error(status: u32, pages_done: usize, device: &str, stderr: &str) -> ScanError {
    match status {
        3 => ScanError::Busy,
        6 => ScanError::Jammed { pages_done },
        7 if pages_done == 0 => ScanError::EmptyFeeder,
        8 => ScanError::CoverOpen,
        _ => classify(device, stderr, pages_done),
    }
}

/// Maps scanimage's messages (SANE's `sane_strstatus` texts) to errors.
fn classify(device: &str, stderr: &str, pages_done: usize) -> ScanError {
    let last = stderr.lines().rev().find(|l| l.starts_with("scanimage:")).unwrap_or(stderr.trim());
    if last.contains("Document feeder jammed") {
        ScanError::Jammed { pages_done }
    } else if last.contains("Document feeder out of documents") {
        ScanError::EmptyFeeder
    } else if last.contains("Scanner cover is open") {
        ScanError::CoverOpen
    } else if last.contains("Device busy") {
        ScanError::Busy
    } else if last.contains("open of device") || last.contains("no SANE devices found") {
        ScanError::NotFound(device.to_owned())
    } else if last.contains("Invalid argument") || last.contains("is not a valid") || last.contains("unrecognized option")
    {
        ScanError::Settings(last.to_owned())
    } else {
        ScanError::Failed(last.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_page_statuses_are_parsed() {
        let err = "Scanning page 1\nScanned page 1. (scanner status = 5)\nScanning page 2\n\
                   Scanned page 2. (scanner status = 6)\nBatch terminated, 2 pages scanned\n";
        assert_eq!(page_statuses(err), [5, 6]);
    }

    #[test]
    fn messages_map_to_typed_errors() {
        assert_eq!(classify("d", "scanimage: sane_read: Document feeder jammed", 0), ScanError::Jammed { pages_done: 0 });
        assert_eq!(classify("d", "scanimage: sane_start: Scanner cover is open", 0), ScanError::CoverOpen);
        assert_eq!(
            classify("x", "scanimage: open of device x failed: Invalid argument", 0),
            ScanError::NotFound("x".into())
        );
    }
}
