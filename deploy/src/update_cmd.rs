//! `kioskctl update ...` over `deploy::update`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use deploy::follow::{china_hour_now, Follow, FollowOutcome};
use deploy::update::{build_bundle, ShellSystem, UpdateError, Updater};
use model::auth::{PublicKey, SigningKey};
use serde_json::json;

/// The update key, given inline or as a file. A file must be one only
/// root (or, run as another user, that user) could have written: owned so,
/// and in directories nobody else can write (`safe_fs::check_trusted`);
/// a key the kiosk user could swap would let it sign its own updates.
fn public_key(arg: &str) -> Result<PublicKey> {
    let text = if arg.starts_with("ed25519:") {
        arg.to_owned()
    } else {
        let me = deploy::safe_fs::current_uid()?;
        let bytes = deploy::safe_fs::read_trusted(std::path::Path::new(arg), me, 4096).with_context(|| format!("the update key {arg} is not trusted"))?;
        String::from_utf8(bytes).map_err(|_| anyhow!("{arg} is not an update public key"))?
    };
    PublicKey::parse(text.trim()).map_err(|e| anyhow!("{arg} is not an update public key: {e}"))
}

#[derive(Subcommand)]
pub enum UpdateCommand {
    /// Verify a bundle, install it, check the kiosk runs, roll back if it does not.
    Install {
        bundle: PathBuf,
        /// The update public key (`ed25519:...`), or a file holding it.
        #[arg(long, default_value = "/etc/cunban/update-key.pub")]
        key: String,
        #[arg(long, default_value = "/var/lib/cunban-update")]
        state_dir: PathBuf,
        /// Installs the payload directory {dir} of version {version}.
        #[arg(long, default_value = "dpkg -i {dir}/*.deb")]
        apply_cmd: String,
        /// Exit 0 when version {version} runs well. The default waits for the
        /// kiosk's READY=1 (Type=notify) and checks it still runs 30 s later.
        #[arg(long, default_value = "systemctl restart cunban-kiosk.service && sleep 30 && systemctl is-active --quiet cunban-kiosk.service")]
        health_cmd: String,
        #[arg(long)]
        allow_downgrade: bool,
    },
    /// Install what the hub's rollout offers and the kiosk downloaded: one
    /// pass (run it from a timer as root). Only in the quiet hours, never
    /// during a visit; verified and rolled back exactly as `install`; the
    /// outcome is reported to the hub with the kiosk's next heartbeat.
    Follow {
        /// The kiosk's data directory (`updates/` and `visit.lock` in it).
        #[arg(long, default_value = "/var/lib/cunban")]
        data_dir: PathBuf,
        #[arg(long, default_value = "/etc/cunban/update-key.pub")]
        key: String,
        #[arg(long, default_value = "/var/lib/cunban-update")]
        state_dir: PathBuf,
        #[arg(long, default_value = "dpkg -i {dir}/*.deb")]
        apply_cmd: String,
        #[arg(long, default_value = "systemctl restart cunban-kiosk.service && sleep 30 && systemctl is-active --quiet cunban-kiosk.service")]
        health_cmd: String,
        /// Hours (China time) when installing is allowed: START-END, END not included.
        #[arg(long, default_value = "2-5", value_parser = parse_hours)]
        quiet_hours: (u8, u8),
    },
    /// Make a signed bundle (release side).
    Sign {
        /// The update signing key file (from `update keygen`).
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        version: String,
        #[arg(long, default_value = "cunban-kiosk")]
        package: String,
        #[arg(long)]
        out: PathBuf,
        files: Vec<PathBuf>,
    },
    /// Write a new update signing key (0600) and print its public half.
    Keygen { file: PathBuf },
}

fn parse_hours(s: &str) -> Result<(u8, u8), String> {
    let (a, b) = s.split_once('-').ok_or("START-END, e.g. 2-5")?;
    let (a, b) = (a.trim().parse::<u8>().map_err(|_| "START is an hour 0..23")?, b.trim().parse::<u8>().map_err(|_| "END is an hour 0..24")?);
    if a > 23 || b > 24 || a == b {
        return Err("hours are 0..24 and START differs from END".into());
    }
    Ok((a, b))
}

pub fn run(cmd: &UpdateCommand, as_json: bool) -> Result<ExitCode> {
    match cmd {
        UpdateCommand::Follow { data_dir, key, state_dir, apply_cmd, health_cmd, quiet_hours } => {
            let key = public_key(key)?;
            let mut system = ShellSystem { apply: apply_cmd.clone(), health: health_cmd.clone() };
            let follow = Follow { updates_dir: data_dir.join("updates"), visit_lock: data_dir.join("visit.lock"), state_dir: state_dir.clone(), quiet_hours: *quiet_hours };
            let outcome = follow.once(&key, &mut system, china_hour_now())?;
            let (word, text, code) = match &outcome {
                FollowOutcome::Nothing(why) => ("nothing", why.clone(), 0),
                FollowOutcome::Later(why) => ("later", why.clone(), 0),
                FollowOutcome::Installed(v) => ("installed", format!("installed {v}; health check passed"), 0),
                FollowOutcome::Failed(r) => ("failed", format!("{} failed: {}", r.version, r.detail.as_deref().unwrap_or("")), 1),
            };
            if as_json {
                println!("{}", json!({ "outcome": word, "detail": text }));
            } else {
                println!("{text}");
            }
            Ok(ExitCode::from(code))
        }
        UpdateCommand::Install { bundle, key, state_dir, apply_cmd, health_cmd, allow_downgrade } => {
            let key = public_key(key)?;
            let mut system = ShellSystem { apply: apply_cmd.clone(), health: health_cmd.clone() };
            match Updater::new(state_dir).install(bundle, &key, &mut system, *allow_downgrade) {
                Ok(done) => {
                    if as_json {
                        println!("{}", json!({ "installed": done.version, "previous": done.previous }));
                    } else {
                        println!("installed {} (was {}); health check passed", done.version, done.previous.as_deref().unwrap_or("none"));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ UpdateError::Io { .. }) => Err(e.into()),
                Err(e) => {
                    if as_json {
                        println!("{}", json!({ "error": e.to_string() }));
                    }
                    eprintln!("kioskctl: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        UpdateCommand::Sign { key, version, package, out, files } => {
            let text = zeroize::Zeroizing::new(std::fs::read_to_string(key).with_context(|| format!("cannot read {}", key.display()))?);
            let key = SigningKey::parse(&text).map_err(|e| anyhow!("{} is not an update signing key: {e}", key.display()))?;
            let m = build_bundle(out, &key, package, version, files)?;
            println!("{} {} signed into {} ({} file(s))", m.package, m.version, out.display(), m.files.len());
            Ok(ExitCode::SUCCESS)
        }
        UpdateCommand::Keygen { file } => {
            let mut seed = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut seed[..]).map_err(|e| anyhow!("no entropy: {e}"))?;
            let key = SigningKey::from_seed(&seed);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(file).with_context(|| format!("cannot create {} (an existing key is never overwritten)", file.display()))?;
            f.write_all(key.to_text().as_bytes()).and_then(|()| f.sync_all()).with_context(|| format!("cannot write {}", file.display()))?;
            println!("{}", key.public_key());
            Ok(ExitCode::SUCCESS)
        }
    }
}
