//! Installed voice packs (`model::voicepack`, installed by `kioskctl voice
//! install` under `<data_dir>/voice/<lang>/`) and the speaker that plays
//! them, falling back to the speech engine.
//!
//! Fallback, per prompt ([`plan`]): the recordings of every message the
//! prompt is made of, in the prompt's language; else the engine's voice for
//! that language; else nothing (the session shows the no-voice sign). A pack
//! is only ever consulted for its own language, and a pack whose signed
//! language differs from its directory is refused, so a prompt is never
//! played in the wrong language.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use model::auth::PublicKey;
use model::voicepack::{SignedVoicePack, VoicePack, SIGNED_MANIFEST};
use model::Lang;
use tracing::{info, warn};

use crate::voice::Speaker;

/// Largest signed manifest read (a pack of thousands of prompts is ~1 MB).
const MAX_MANIFEST: u64 = 4 << 20;

/// A verified pack and where its files are.
pub struct InstalledPack {
    /// The verified manifest.
    pub pack: VoicePack,
    /// The directory holding its recordings.
    pub dir: PathBuf,
}

/// Every usable pack under `voice_dir`, and a sentence for each refused
/// one (for the log; no audio, no personal data).
pub fn load_installed(voice_dir: &Path, key: &PublicKey) -> (BTreeMap<Lang, InstalledPack>, Vec<String>) {
    let (mut packs, mut problems) = (BTreeMap::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(voice_dir) else { return (packs, problems) };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Staging and previous copies of `kioskctl voice install`.
        if name.starts_with('.') {
            continue;
        }
        match load_one(&dir, &name, key) {
            Ok(pack) => {
                info!(lang = pack.lang.code(), version = pack.version, prompts = pack.prompts.len(), "voice pack loaded");
                packs.insert(pack.lang, InstalledPack { pack, dir });
            }
            Err(why) => problems.push(format!("voice pack {}: {why}", dir.display())),
        }
    }
    (packs, problems)
}

fn load_one(dir: &Path, name: &str, key: &PublicKey) -> Result<VoicePack, String> {
    let manifest = dir.join(SIGNED_MANIFEST);
    let mut bytes = Vec::new();
    std::fs::File::open(&manifest)
        .and_then(|f| f.take(MAX_MANIFEST).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {SIGNED_MANIFEST}: {e}"))?;
    let pack = SignedVoicePack::from_json(&bytes).and_then(|s| s.verify(key)).map_err(|e| e.to_string())?;
    if pack.lang.code() != name {
        return Err(format!("signed for {} but installed as {name}: refused", pack.lang.code()));
    }
    for r in pack.prompts.values() {
        let path = dir.join(&r.file);
        let data = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", r.file))?;
        if data.len() as u64 != r.bytes || model::submission::sha256_hex(&data) != r.sha256 {
            return Err(format!("{} does not match the signed manifest: refused", r.file));
        }
    }
    Ok(pack)
}

/// How one prompt is said.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// These files, in order.
    Recordings(Vec<PathBuf>),
    /// The speech engine's voice for the prompt's language.
    Engine,
    /// Nothing can say it in its language.
    Nothing,
}

/// The fallback rule (see the module doc).
pub fn plan(packs: &BTreeMap<Lang, InstalledPack>, engine: &[Lang], lang: Lang, ids: &[String]) -> Plan {
    if let Some(p) = packs.get(&lang).filter(|p| p.pack.lang == lang && !ids.is_empty()) {
        let files: Option<Vec<PathBuf>> = ids.iter().map(|id| p.pack.prompts.get(id).map(|r| p.dir.join(&r.file))).collect();
        if let Some(files) = files {
            return Plan::Recordings(files);
        }
    }
    if engine.contains(&lang) {
        Plan::Engine
    } else {
        Plan::Nothing
    }
}

/// Recordings first, the engine second.
pub struct PackSpeaker {
    packs: BTreeMap<Lang, InstalledPack>,
    engine: Option<Arc<dyn Speaker>>,
    player: PathBuf,
    current: Mutex<Option<Child>>,
}

impl PackSpeaker {
    /// `player` plays WAV files given as arguments, in order (`aplay`,
    /// Debian alsa-utils, on a terminal).
    pub fn new(packs: BTreeMap<Lang, InstalledPack>, engine: Option<Arc<dyn Speaker>>, player: impl Into<PathBuf>) -> PackSpeaker {
        PackSpeaker { packs, engine, player: player.into(), current: Mutex::new(None) }
    }

    fn stop_playing(&self) {
        if let Some(mut old) = self.current.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = old.kill();
            let _ = old.wait();
        }
    }
}

impl Speaker for PackSpeaker {
    fn languages(&self) -> Vec<Lang> {
        self.engine.as_ref().map(|e| e.languages()).unwrap_or_default()
    }

    fn recorded(&self) -> BTreeMap<Lang, BTreeSet<String>> {
        self.packs.iter().map(|(l, p)| (*l, p.pack.prompts.keys().cloned().collect())).collect()
    }

    fn speak(&self, lang: Lang, text: &str) {
        self.speak_prompt(lang, text, &[])
    }

    fn stop(&self) {
        self.stop_playing();
        if let Some(e) = &self.engine {
            e.stop();
        }
    }

    fn speak_prompt(&self, lang: Lang, text: &str, ids: &[String]) {
        match plan(&self.packs, &self.languages(), lang, ids) {
            Plan::Recordings(files) => {
                self.stop();
                let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
                match Command::new(&self.player).args(["-q"]).args(&files).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
                    Ok(child) => *current = Some(child),
                    Err(e) => warn!(error = %e, player = %self.player.display(), "cannot start the audio player"),
                }
            }
            Plan::Engine => {
                self.stop_playing();
                if let Some(e) = &self.engine {
                    e.speak(lang, text);
                }
            }
            Plan::Nothing => self.stop(),
        }
    }
}

impl Drop for PackSpeaker {
    fn drop(&mut self) {
        self.stop_playing();
    }
}

#[cfg(test)]
mod tests;
