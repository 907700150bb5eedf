//! `hub update publish|rollout|pause|resume|halt|list` (issue 19): staff
//! publish a signed bundle and steer its staged rollout. Every command is
//! written to the hub's audit with the `--by` name.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use hub::rollout::{Rollout, RolloutState, Stage};
use hub::Store;
use model::auth::PublicKey;

#[derive(Debug, Subcommand)]
pub enum UpdateCmd {
    /// Verify a bundle (signature by the release key, package, version,
    /// every file's hash) and keep it for terminals to download.
    Publish {
        bundle: PathBuf,
        /// The release key's public half (`ed25519:...`), or a file holding it.
        #[arg(long)]
        update_key: String,
        /// Who publishes (staff name, for the audit).
        #[arg(long)]
        by: String,
    },
    /// Start the staged rollout of a published version.
    Rollout {
        version: String,
        /// In order: `pilot:T1,T2` (named terminals), `county:622926`, `percent:20`.
        /// The next stage opens when every terminal of the open ones reports healthy.
        #[arg(long = "stage", required = true)]
        stages: Vec<String>,
        /// Failed installs that halt the rollout by themselves.
        #[arg(long, default_value_t = 1)]
        max_failures: u32,
        #[arg(long)]
        by: String,
    },
    /// Offer nothing new until resumed.
    Pause {
        version: String,
        #[arg(long)]
        by: String,
    },
    /// Go on after a pause.
    Resume {
        version: String,
        #[arg(long)]
        by: String,
    },
    /// Stop for good (terminals that installed it keep it).
    Halt {
        version: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Every rollout and where it stands.
    List,
}

fn update_key(arg: &str) -> anyhow::Result<PublicKey> {
    let text = if arg.starts_with("ed25519:") { arg.to_owned() } else { std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))? };
    PublicKey::parse(text.trim()).map_err(|e| anyhow!("{arg} is not an update public key: {e}"))
}

fn staff(by: &str) -> anyhow::Result<&str> {
    let by = by.trim();
    if by.is_empty() || by.len() > 64 || by.chars().any(char::is_control) {
        bail!("--by must name who does this (1..64 printable characters)");
    }
    Ok(by)
}

fn state_word(s: &RolloutState) -> String {
    match s {
        RolloutState::Running => "running".into(),
        RolloutState::Paused => "paused".into(),
        RolloutState::Halted(why) => format!("halted ({why})"),
        RolloutState::Done => "done".into(),
    }
}

pub fn update_cmd(store: &dyn Store, cmd: UpdateCmd) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    match cmd {
        UpdateCmd::Publish { bundle, update_key: key, by } => {
            let key = update_key(&key)?;
            let p = hub::updates::publish_bundle(store, &bundle, &key, staff(&by)?, now)?;
            println!("published {} {} ({} file(s), {} bytes, sha256 {})", p.manifest.package, p.manifest.version, p.manifest.files.len(), p.size, p.sha256);
        }
        UpdateCmd::Rollout { version, stages, max_failures, by } => {
            let parsed = stages
                .iter()
                .map(|s| Stage::parse(s).ok_or_else(|| anyhow!("stage {s:?} is not pilot:T1,T2, county:NNNNNN or percent:1..100")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let r = Rollout { version, stages: parsed, open: 0, state: RolloutState::Running, max_failures: max_failures.max(1) };
            store.start_rollout(&r, staff(&by)?, now)?;
            println!("rollout of {} started: stage 1 of {} open; halts at {} failure(s)", r.version, r.stages.len(), r.max_failures);
        }
        UpdateCmd::Pause { version, by } => {
            let r = store.set_rollout_state(&version, RolloutState::Paused, staff(&by)?, now)?;
            println!("rollout of {} {}", r.version, state_word(&r.state));
        }
        UpdateCmd::Resume { version, by } => {
            let r = store.set_rollout_state(&version, RolloutState::Running, staff(&by)?, now)?;
            println!("rollout of {} {}", r.version, state_word(&r.state));
        }
        UpdateCmd::Halt { version, by, reason } => {
            let by = staff(&by)?;
            let r = store.set_rollout_state(&version, RolloutState::Halted(format!("by {by}: {}", reason.trim())), by, now)?;
            println!("rollout of {} {}", r.version, state_word(&r.state));
        }
        UpdateCmd::List => {
            for r in store.rollouts()? {
                println!("{}\tstage {} of {}\t{}", r.version, (r.open + 1).min(r.stages.len()), r.stages.len(), state_word(&r.state));
            }
        }
    }
    Ok(())
}
