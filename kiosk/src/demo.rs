//! `--demo`: a kiosk with no hardware. The ID card reader is the SAM simulator
//! on a pty (so the real driver runs), receipts go to a file, and a local hub
//! runs as a child process (the kiosk does not link the hub: DESIGN §2).
//! The demo plays the platform too: it keeps a platform key pair in its data
//! directory, seals to the public half and gives the hub the private half.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use model::seal::{PlatformPublicKey, PlatformSecretKey};
use tracing::info;

/// The demo's platform key: `path` if it exists (so earlier demo filings
/// still open), else a new one written there (mode 0600). Returns the public half.
pub fn platform_key(path: &Path) -> Result<PlatformPublicKey> {
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let key = PlatformSecretKey::parse(&text).map_err(|e| anyhow!("{} is not a platform key: {e}", path.display()))?;
        return Ok(key.public_key());
    }
    let key = offline_cache::generate_platform_key();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, key.to_text().as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key.public_key())
}

/// A hub child process, stopped when dropped.
pub struct LocalHub {
    child: Child,
    /// The hub's base URL (http on loopback).
    pub url: String,
    /// The hub's signing key (public half), which a real terminal pins at
    /// enrollment; the demo reads it from the key file the hub made.
    pub hub_key: model::auth::PublicKey,
}

impl LocalHub {
    /// Starts the `hub` binary found next to this executable, on a free
    /// loopback port, with its database in `data_dir`, the platform's
    /// private key from `platform_key_file`, trusting `terminal` (id and
    /// device public key) as a technician's registration would.
    pub fn start(data_dir: &Path, platform_key_file: &Path, terminal: (&str, &model::auth::PublicKey)) -> Result<LocalHub> {
        let exe = hub_binary()?;
        let mut child = Command::new(&exe)
            .args(["--listen", "127.0.0.1:0", "--db"])
            .arg(data_dir.join("hub.db"))
            .arg("--platform-key-file")
            .arg(platform_key_file)
            .arg("--trust-terminal")
            .arg(format!("{}:{}", terminal.0, terminal.1))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start the local hub {}", exe.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("hub has no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        // The hub prints `listening on ADDR` once it accepts connections.
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        break rest.trim().to_owned();
                    }
                }
                Some(Err(e)) => bail!("reading the hub's output: {e}"),
                None => bail!("the local hub exited before listening"),
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let url = format!("http://{addr}");
        let key_file = data_dir.join("hub.db.signing.key");
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(&key_file).with_context(|| format!("cannot read {}", key_file.display()))?);
        let hub_key = model::auth::SigningKey::parse(text.trim()).map_err(|e| anyhow!("{}: {e}", key_file.display()))?.public_key();
        info!(%url, "local hub started");
        Ok(LocalHub { child, url, hub_key })
    }
}

impl Drop for LocalHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hub_binary() -> Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find the kiosk executable")?;
    let dir = me.parent().ok_or_else(|| anyhow!("executable has no directory"))?;
    // Test binaries live one level down, in deps/.
    for candidate in [dir.join("hub"), dir.join("../hub")] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("no `hub` binary next to {}; build it with `cargo build -p hub`", me.display())
}

/// How long the demo's simulated card lies on the reader before the villager
/// takes it back.
pub const CARD_ON_READER: Duration = Duration::from_secs(3);
