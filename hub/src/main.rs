//! `hub`: serve the terminal sync API.
//!
//! Prints `listening on ADDR` on stdout once it accepts connections, so a
//! parent process started with `--listen 127.0.0.1:0` can learn the port.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    let store = hub::open_store(&args.db).await.with_context(|| format!("opening {}", args.db.display()))?;
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;

    // Announce only when ready: the line is what a parent waits for.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}").context("writing to stdout")?;
    out.flush().context("flushing stdout")?;
    drop(out);
    tracing::info!(%addr, db = %args.db.display(), "hub listening");

    hub::serve_until(listener, store, shutdown_signal()).await?;
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
