//! `hub`: serve the terminal sync API.
//!
//! Prints `listening on ADDR` on stdout once it accepts connections, so a
//! parent process started with `--listen 127.0.0.1:0` can learn the port.
//!
//! `hub --generate-platform-key FILE` writes a new platform private key
//! (mode 0600, never overwriting) and prints its public half, the text a
//! terminal's `platform_public_key` takes.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Parser;
use hub::HubOptions;
use model::seal::{default_suite, PlatformSecretKey};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "hub", version, about = "The server Cunban terminals sync with")]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(long, default_value = "hub.db")]
    db: PathBuf,
    /// The platform's private key (text from --generate-platform-key). With
    /// it, sealed manifests that don't open are refused at upload.
    #[arg(long, env = "CUNBAN_PLATFORM_KEY_FILE")]
    platform_key_file: Option<PathBuf>,
    /// Write a new platform private key to FILE, print its public key, exit.
    #[arg(long, value_name = "FILE", conflicts_with = "platform_key_file")]
    generate_platform_key: Option<PathBuf>,
}

fn generate_key(path: &Path) -> anyhow::Result<()> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let key = PlatformSecretKey::generate(default_suite(), &mut rng);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path).with_context(|| format!("cannot create {} (an existing key is never overwritten)", path.display()))?;
    file.write_all(key.to_text().as_bytes()).and_then(|()| file.sync_all()).with_context(|| format!("writing {}", path.display()))?;
    println!("{}", key.public_key());
    Ok(())
}

fn load_key(path: &Path) -> anyhow::Result<PlatformSecretKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the platform key file is readable by others than its owner");
        }
    }
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?);
    match PlatformSecretKey::parse(&text) {
        Ok(key) => Ok(key),
        Err(e) => bail!("{} is not a platform private key: {e}", path.display()),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    if let Some(path) = &args.generate_platform_key {
        return generate_key(path);
    }
    let platform_key = match &args.platform_key_file {
        Some(path) => {
            let key = load_key(path)?;
            tracing::info!(public_key = %key.public_key().fingerprint(), "platform key loaded");
            Some(Arc::new(key))
        }
        None => {
            tracing::warn!("no platform key: sealed submissions are stored without checking that they open");
            None
        }
    };
    let store = hub::open_store(&args.db).await.with_context(|| format!("opening {}", args.db.display()))?;
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;

    // Announce only when ready: the line is what a parent waits for.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}").context("writing to stdout")?;
    out.flush().context("flushing stdout")?;
    drop(out);
    tracing::info!(%addr, db = %args.db.display(), "hub listening");

    hub::serve_until(listener, store, HubOptions { platform_key }, shutdown_signal()).await?;
    tracing::info!("hub stopped");
    Ok(())
}

/// Completes on ctrl-c or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
