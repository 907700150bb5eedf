//! What the launchers share: the server's directory, running a set-up
//! command, a child process killed on drop, a little randomness.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::error::{io, Error, Result};

/// A server's directory: a temporary one (removed after the server has
/// stopped) or one the caller named (kept, logs and all).
#[derive(Debug)]
pub(crate) enum Dir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Dir {
    /// `dir` (created), or a new temporary directory named `prefix…`
    /// that names this process as its owner (see `reap_stale`).
    pub(crate) fn new(dir: Option<&Path>, prefix: &str) -> Result<Dir> {
        match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(io(format!("creating {}", d.display())))?;
                Ok(Dir::Kept(d.to_owned()))
            }
            None => {
                let t = tempfile::Builder::new().prefix(prefix).tempdir().map_err(io("creating a temporary directory"))?;
                let me = std::process::id();
                // Without /proc no owner is named, and the directory is never reaped.
                if let Some(started) = start_time(me) {
                    std::fs::write(t.path().join(OWNER), format!("{me} {started}")).map_err(io("writing the owner file"))?;
                }
                Ok(Dir::Temp(t))
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        match self {
            Dir::Temp(t) => t.path(),
            Dir::Kept(p) => p,
        }
    }
}

/// Whether this process runs as root (PostgreSQL refuses to).
pub(crate) fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// Runs `cmd` to its end: its stdout, or what it printed when it failed.
pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().map_err(io(format!("cannot run {what}")))?;
    if !out.status.success() {
        let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        return Err(Error::Failed { what: what.to_owned(), output });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A server process, killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub(crate) struct Killed(pub(crate) Child);

impl Killed {
    /// Whether it has exited (a server that cannot bind its port does).
    pub(crate) fn exited(&mut self) -> bool {
        !matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `n` random bytes from the kernel, as hex.
pub(crate) fn random_hex(n: usize) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).map_err(io("reading /dev/urandom"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The last `max` bytes of a log file, for an error message.
pub(crate) fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    format!("{} (log {})", &text[start..], path.display())
}

/// In a temporary server directory: `<pid> <start time>` of the process that made it.
const OWNER: &str = "testkit-owner";

/// In a server's directory: the server's process id (when the server does not write one).
pub(crate) const SERVER_PID: &str = "testkit-server.pid";

/// When process `pid` started (clock ticks after boot), if it exists.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (in parentheses): state is field 3, starttime field 22.
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` has exited (gone, or a zombie not yet reaped).
pub(crate) fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// Stops the servers that test processes which died without dropping
/// them (SIGKILL, a CI timeout, Ctrl-C) left running, so a machine that
/// runs the tests again and again does not collect them: every temporary
/// directory `prefix…` whose owner process is gone has the process named
/// in its `pid_file` (first line) sent `signal`, if that process's
/// command line names the directory, and is then removed.
pub(crate) fn reap_stale(prefix: &str, pid_file: &str, signal: rustix::process::Signal) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let dir = e.path();
        // No owner file: not ours, or still being made.
        let Ok(owner) = std::fs::read_to_string(dir.join(OWNER)) else { continue };
        let mut it = owner.split_whitespace().filter_map(|v| v.parse::<u64>().ok());
        let (Some(pid), Some(started)) = (it.next(), it.next()) else { continue };
        if u32::try_from(pid).ok().and_then(start_time) == Some(started) {
            continue; // its owner runs
        }
        // Claimed by renaming: of two processes reaping at once, one goes on.
        let claimed = dir.with_file_name(format!("testkit-reaping-{}", e.file_name().to_string_lossy()));
        if std::fs::rename(&dir, &claimed).is_err() {
            continue;
        }
        let server = std::fs::read_to_string(claimed.join(pid_file)).ok().and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
        if let Some(server) = server {
            let cmdline = std::fs::read(format!("/proc/{server}/cmdline")).unwrap_or_default();
            let names_dir = String::from_utf8_lossy(&cmdline).contains(&*dir.to_string_lossy());
            if names_dir {
                if let Some(p) = i32::try_from(server).ok().and_then(rustix::process::Pid::from_raw) {
                    let _ = rustix::process::kill_process(p, signal);
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                    while !gone(server) && std::time::Instant::now() < deadline {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&claimed);
    }
}
