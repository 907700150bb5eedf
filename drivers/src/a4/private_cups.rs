//! A cupsd of our own on loopback, for tests and `kioskctl selftest
//! --simulated`: configuration, spool and logs in a private directory, and
//! one queue whose backend writes each job to a file. Faults are set by
//! writing the backend's exit code to `<output>.fail` (1 = the job fails,
//! 4 = the printer stops), which is what a real backend returns for a jam
//! or a printer gone offline.

use std::fs;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Why the private cupsd could not be set up; tests skip on
/// [`PrivateCupsError::NotInstalled`].
#[derive(Debug, Error)]
pub enum PrivateCupsError {
    /// cupsd or lpadmin is missing on this machine.
    #[error("cupsd is not installed (Debian packages cups-daemon and cups-client)")]
    NotInstalled,
    /// Writing the private configuration or spool failed.
    #[error("cannot set up the private cupsd: {0}")]
    Io(#[from] io::Error),
    /// cupsd exited or never answered on its port; the text names the log.
    #[error("the private cupsd did not start: {0}")]
    Start(String),
    /// lpadmin failed; the text is its stderr.
    #[error("lpadmin could not add the test queue: {0}")]
    Queue(String),
}

/// Where the daemons and tools live on Debian.
const CUPSD: &str = "/usr/sbin/cupsd";
const LPADMIN: &str = "/usr/sbin/lpadmin";
const CUPS_LIB: &str = "/usr/lib/cups";

const BACKEND: &str = r#"#!/bin/sh
# cunbantest:/path — writes each job to that file (CUPS test backend).
if [ $# -eq 0 ]; then echo 'direct cunbantest "Unknown" "Cunban test printer"'; exit 0; fi
out="${DEVICE_URI#cunbantest:}"
if [ -f "$out.fail" ]; then
    code=$(cat "$out.fail")
    echo "ERROR: simulated printer fault (backend exit $code)" >&2
    exit "$code"
fi
if [ -n "$6" ]; then cat "$6" > "$out.tmp"; else cat > "$out.tmp"; fi
mv "$out.tmp" "$out"
"#;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A running private cupsd; stopped and removed on drop.
pub struct PrivateCups {
    dir: PathBuf,
    child: Child,
    port: u16,
    queue: String,
}

impl PrivateCups {
    /// Whether this machine can run one at all.
    pub fn available() -> bool {
        Path::new(CUPSD).exists() && Path::new(LPADMIN).exists()
    }

    /// Starts cupsd on a free loopback port with one queue, `queue`.
    pub fn start(queue: &str) -> Result<PrivateCups, PrivateCupsError> {
        if !PrivateCups::available() {
            return Err(PrivateCupsError::NotInstalled);
        }
        let dir = std::env::temp_dir().join(format!(
            "cunban-cups-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        for sub in ["root", "spool", "tmp", "state", "cache", "log", "out", "bin/backend"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        // Backends and filters run as `lp`: they need to write here.
        for sub in ["tmp", "out"] {
            fs::set_permissions(dir.join(sub), fs::Permissions::from_mode(0o1777))?;
        }
        // Our backend beside the system's filters.
        for sub in ["filter", "cgi-bin", "daemon", "monitor", "notifier", "driver"] {
            let target = Path::new(CUPS_LIB).join(sub);
            if target.exists() {
                std::os::unix::fs::symlink(&target, dir.join("bin").join(sub))?;
            }
        }
        let backend = dir.join("bin/backend/cunbantest");
        fs::write(&backend, BACKEND)?;
        // 0700: cupsd runs root-only backends as root (we may not have `lp`).
        fs::set_permissions(&backend, fs::Permissions::from_mode(0o700))?;

        let port = free_port()?;
        let d = dir.display();
        fs::write(
            dir.join("root/cups-files.conf"),
            format!(
                "ServerRoot {d}/root\nRequestRoot {d}/spool\nTempDir {d}/tmp\nStateDir {d}/state\n\
                 CacheDir {d}/cache\nAccessLog {d}/log/access_log\nErrorLog {d}/log/error_log\n\
                 PageLog {d}/log/page_log\nServerBin {d}/bin\nDataDir /usr/share/cups\nSystemGroup root\n"
            ),
        )?;
        fs::write(
            dir.join("root/cupsd.conf"),
            format!(
                "Listen 127.0.0.1:{port}\nLogLevel info\nWebInterface No\nBrowsing No\nDefaultAuthType None\n\
                 JobRetryLimit 0\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Policy default>\n  <Limit All>\n    Order deny,allow\n    Allow all\n  </Limit>\n</Policy>\n"
            ),
        )?;
        let child = Command::new(CUPSD)
            .arg("-f")
            .arg("-c")
            .arg(dir.join("root/cupsd.conf"))
            .arg("-s")
            .arg(dir.join("root/cups-files.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut cups = PrivateCups { dir, child, port, queue: queue.to_owned() };
        cups.wait_listening()?;
        cups.add_queue()?;
        Ok(cups)
    }

    fn wait_listening(&mut self) -> Result<(), PrivateCupsError> {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait()? {
                let log = fs::read_to_string(self.dir.join("log/error_log")).unwrap_or_default();
                return Err(PrivateCupsError::Start(format!("cupsd exited ({status}): {}", tail(&log))));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(PrivateCupsError::Start("not listening after 10 s".into()))
    }

    fn add_queue(&self) -> Result<(), PrivateCupsError> {
        let out = Command::new(LPADMIN)
            .args(["-h", &self.server(), "-p", &self.queue, "-E", "-m", "raw"])
            .arg("-v")
            .arg(format!("cunbantest:{}", self.output().display()))
            // A failed backend aborts the job (so tests see it) instead of
            // retrying for ever; exit 4 still stops the printer.
            .args(["-o", "printer-error-policy=abort-job"])
            .output()?;
        if !out.status.success() {
            return Err(PrivateCupsError::Queue(String::from_utf8_lossy(&out.stderr).into_owned()));
        }
        Ok(())
    }

    /// `host:port` for [`super::CupsPrinter::new`].
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The name of the one queue, for [`super::CupsPrinter::new`].
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The file the queue's last job was written to.
    pub fn output(&self) -> PathBuf {
        self.dir.join("out/a4.out")
    }

    /// Makes the backend fail with this exit code (1: job fails, 4: printer
    /// stops), or work again with `None`.
    pub fn set_backend_fault(&self, exit_code: Option<u8>) -> io::Result<()> {
        let fail = self.dir.join("out/a4.out.fail");
        match exit_code {
            Some(code) => fs::write(fail, code.to_string()),
            None => match fs::remove_file(fail) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Stops the queue as a technician would (`cupsdisable`), or starts
    /// it again (`cupsenable`).
    pub fn set_queue_enabled(&self, enabled: bool) -> Result<(), PrivateCupsError> {
        let tool = if enabled { "/usr/sbin/cupsenable" } else { "/usr/sbin/cupsdisable" };
        let out = Command::new(tool).args(["-h", &self.server(), &self.queue]).output()?;
        if !out.status.success() {
            return Err(PrivateCupsError::Queue(String::from_utf8_lossy(&out.stderr).into_owned()));
        }
        Ok(())
    }

    /// The daemon's log, for test failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log/error_log")).unwrap_or_default()
    }
}

impl Drop for PrivateCups {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> io::Result<u16> {
    // The kernel picks a free port; cupsd binds it right after. A race with
    // another process is possible but shows as a clear start error.
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}
