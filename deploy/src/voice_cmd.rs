//! `kioskctl voice ...` over `deploy::voice`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use deploy::voice::{build_pack, install, installed, missing, VoiceError};
use model::auth::{PublicKey, SigningKey};
use model::Lang;
use serde_json::json;

#[derive(Subcommand)]
pub enum VoiceCommand {
    /// Verify a voice pack (signed with the catalog key) and install it; the
    /// kiosk plays it after its next start.
    Install {
        pack: PathBuf,
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
        /// Install even if the installed pack is as new or newer.
        #[arg(long)]
        allow_downgrade: bool,
    },
    /// The prompts that still need a recording in a language, for the
    /// people who will record them (message id, i.e. the Chinese text).
    Missing {
        /// bo | kk | zh-CN | en
        #[arg(long)]
        lang: String,
        #[arg(long, default_value = "/etc/cunban/kiosk.toml")]
        config: PathBuf,
    },
    /// Build and sign a pack from a directory of recordings: prompts.tsv
    /// (lines FILE<TAB>MESSAGE ID) and the WAV files it names.
    Pack {
        #[arg(long)]
        lang: String,
        #[arg(long)]
        version: u64,
        /// Who speaks, for the technician (e.g. a name, or "espeak-ng (sample)").
        #[arg(long)]
        speaker: String,
        /// The catalog signing key file (hub --generate-catalog-key).
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        recordings: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

fn lang(code: &str) -> Result<Lang> {
    Lang::from_code(code).ok_or_else(|| anyhow!("unknown language {code:?} (bo, kk, zh-CN or en)"))
}

/// The voice directory and the catalog key from the kiosk's configuration.
fn terminal(config: &Path) -> Result<(PathBuf, PublicKey)> {
    let table = crate::kiosk_toml::merged(config)?;
    let data_dir = table.get("data_dir").and_then(|v| v.as_str()).unwrap_or("/var/lib/cunban");
    let key = table
        .get("catalog_public_key")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow!("{} has no catalog_public_key: voice packs are signed with the catalog key", config.display()))?;
    let key = PublicKey::parse(key).map_err(|e| anyhow!("catalog_public_key is not usable: {e}"))?;
    Ok((Path::new(data_dir).join("voice"), key))
}

pub fn run(cmd: &VoiceCommand, as_json: bool) -> Result<ExitCode> {
    match cmd {
        VoiceCommand::Install { pack, config, allow_downgrade } => {
            let (dir, key) = terminal(config)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            match install(pack, &key, &dir, *allow_downgrade) {
                Ok(p) => {
                    if as_json {
                        println!("{}", json!({ "lang": p.lang.code(), "version": p.version, "prompts": p.prompts.len(), "speaker": p.speaker }));
                    } else {
                        println!(
                            "installed the {} voice pack v{} ({} recorded prompts, {}); restart the kiosk to use it: systemctl restart cunban-kiosk",
                            p.lang.code(),
                            p.version,
                            p.prompts.len(),
                            p.speaker
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ VoiceError::Io { .. }) => Err(e.into()),
                Err(e) => {
                    if as_json {
                        println!("{}", json!({ "error": e.to_string() }));
                    }
                    eprintln!("kioskctl: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        VoiceCommand::Missing { lang: code, config } => {
            let lang = lang(code)?;
            let (dir, key) = terminal(config)?;
            let pack = installed(&dir, lang, &key)?;
            let total = model::voicepack::spoken_prompts().len();
            let list = missing(pack.as_ref());
            if as_json {
                println!("{}", json!({ "lang": lang.code(), "prompts": total, "missing": list }));
            } else {
                match &pack {
                    Some(p) => println!("{} voice pack v{} ({}): {} of {total} prompts have no recording", lang.code(), p.version, p.speaker, list.len()),
                    None => println!("no {} voice pack installed: {} of {total} prompts have no recording", lang.code(), list.len()),
                }
                for id in &list {
                    println!("{id}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VoiceCommand::Pack { lang: code, version, speaker, key, recordings, out } => {
            let lang = lang(code)?;
            let text = zeroize::Zeroizing::new(std::fs::read_to_string(key).with_context(|| format!("cannot read {}", key.display()))?);
            let key = SigningKey::parse(text.trim()).map_err(|e| anyhow!("{} is not a catalog signing key: {e}", key.display()))?;
            if out.exists() {
                bail!("{} exists; not overwritten", out.display());
            }
            let p = build_pack(recordings, lang, *version, speaker, &key, out)?;
            println!("{} voice pack v{} signed into {} ({} prompts)", lang.code(), p.version, out.display(), p.prompts.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
