//! The `hub` instances under load, each a child process on loopback
//! killed on drop (the release binary beside this one). PostgreSQL and
//! nginx in front of two instances come from `testkit`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

/// A `hub` process; killed on drop.
pub struct HubProcess {
    child: Child,
    pub addr: String,
}

impl HubProcess {
    /// Starts `hub` with `args` and waits for its "listening on" line.
    /// Its log (warnings and worse) goes to `log`.
    pub fn start(exe: &Path, args: &[std::ffi::OsString], log: &Path) -> Result<HubProcess> {
        let mut child = Command::new(exe)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("hub stdout")?).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("the hub did not start (it said {line:?}); see {}", log.display());
        };
        Ok(HubProcess { addr: addr.to_owned(), child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running (a crash under load is a failure).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `hub` binary: `--hub-bin`, else the one beside this executable
/// (`cargo build --release -p hub -p tests` puts them together).
pub fn hub_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    let exe = match given {
        Some(p) => p,
        None => std::env::current_exe()?.parent().context("executable has no directory")?.join("hub"),
    };
    if !exe.is_file() {
        bail!("no hub binary at {}; build it (`cargo build --release -p hub`) or give --hub-bin", exe.display());
    }
    Ok(exe)
}
