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
    /// `dir` (created), or a new temporary directory named `prefix…`.
    pub(crate) fn new(dir: Option<&Path>, prefix: &str) -> Result<Dir> {
        match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(io(format!("creating {}", d.display())))?;
                Ok(Dir::Kept(d.to_owned()))
            }
            None => tempfile::Builder::new().prefix(prefix).tempdir().map(Dir::Temp).map_err(io("creating a temporary directory")),
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
