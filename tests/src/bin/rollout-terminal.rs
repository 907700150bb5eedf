//! `rollout-terminal`: one terminal of the staged-rollout test (issue 19,
//! `tests/integration/rollout.rs`), as a process of its own. Each round it
//! does what a kiosk and its root timer do between them: the sync round
//! with a heartbeat (`SyncClient::sync_all` with `updates_dir`: the
//! heartbeat carries the last install report, its answer the target, and
//! the bundle is downloaded resumably), then one pass of
//! `deploy::follow::Follow::once` with `deploy::update::ShellSystem`, the
//! code `kioskctl update follow` runs. On a real terminal those are two
//! processes (the kiosk as `cunban`, kioskctl as root); here one process
//! per terminal runs both, one after the other, as one user.
//!
//! Prints one line per event (`fetched V`, `installed V`, `failed V: …`,
//! `later: …`) and runs until killed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use deploy::follow::{china_hour_now, Follow, FollowOutcome};
use deploy::update::ShellSystem;
use model::auth::PublicKey;
use model::seal::PlatformPublicKey;
use offline_cache::{DeviceIdentity, Outbox, OutboxConfig, SyncClient, SyncConfig};

#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    hub_url: String,
    /// The terminal's data directory: device.key, outbox.db, updates/, visit.lock.
    #[arg(long)]
    data_dir: PathBuf,
    /// Root-only on a real terminal: the updater's versions and history.
    #[arg(long)]
    state_dir: PathBuf,
    #[arg(long)]
    terminal_id: String,
    /// The platform's public key (what filings are sealed to).
    #[arg(long)]
    platform_key: String,
    /// The update key's public half.
    #[arg(long)]
    update_key: String,
    #[arg(long)]
    apply_cmd: String,
    #[arg(long)]
    health_cmd: String,
    #[arg(long, default_value_t = 0)]
    quiet_start: u8,
    #[arg(long, default_value_t = 24)]
    quiet_end: u8,
    /// Pause between rounds, milliseconds.
    #[arg(long, default_value_t = 300)]
    every_ms: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let platform = PlatformPublicKey::parse(&args.platform_key).map_err(|e| anyhow::anyhow!("platform key: {e}"))?;
    let update_key = PublicKey::parse(&args.update_key).map_err(|e| anyhow::anyhow!("update key: {e}"))?;
    let mut oc = OutboxConfig::new(platform, &args.terminal_id);
    oc.disk_reserve_bytes = 0;
    let outbox = Outbox::open(&args.data_dir.join("outbox.db"), oc).context("outbox")?;
    let (identity, _) = DeviceIdentity::load_or_create(&args.data_dir.join("device.key"), &args.terminal_id)?;
    let config = SyncConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        updates_dir: Some(args.data_dir.join("updates")),
        app_version: "rollout-terminal".into(),
        ..SyncConfig::default()
    };
    let client = SyncClient::with_config(&args.hub_url, identity, config)?;
    let follow = Follow {
        updates_dir: args.data_dir.join("updates"),
        visit_lock: args.data_dir.join("visit.lock"),
        state_dir: args.state_dir.clone(),
        quiet_hours: (args.quiet_start, args.quiet_end),
    };
    let mut last_line = String::new();
    loop {
        // Every round heartbeats: the test's clock is seconds, not the fleet's minutes.
        client.heartbeat_soon();
        let report = client.sync_all(&outbox).await;
        let mut line = String::new();
        if let Some(v) = &report.update_fetched {
            line = format!("fetched {v}");
        } else if let Some(stop) = &report.stopped {
            line = format!("round stopped: {stop:?}");
        }
        if !line.is_empty() && line != last_line {
            println!("{line}");
            last_line = line;
        }
        let mut system = ShellSystem { apply: args.apply_cmd.clone(), health: args.health_cmd.clone() };
        let line = match follow.once(&update_key, &mut system, china_hour_now()) {
            Ok(FollowOutcome::Nothing(_)) => String::new(),
            Ok(FollowOutcome::Later(why)) => format!("later: {why}"),
            Ok(FollowOutcome::Installed(v)) => format!("installed {v}"),
            Ok(FollowOutcome::Failed(r)) => format!("failed {}: {}", r.version, r.detail.unwrap_or_default()),
            Err(e) => format!("follow error: {e}"),
        };
        if !line.is_empty() && line != last_line {
            println!("{line}");
            last_line = line;
        }
        tokio::time::sleep(Duration::from_millis(args.every_ms)).await;
    }
}
