//! Recorded voice packs on the terminal (`kioskctl voice`): build and sign
//! one from a directory of recordings, verify and install one, list the
//! prompts a language still lacks. The format and its signature are
//! `model::voicepack`; the kiosk reads what is installed here
//! (`kiosk::voicepack`).
//!
//! A pack file is a tar: `voicepack.json` (the signed manifest) first,
//! then the WAV files it names. Installing reads the manifest and checks
//! its signature (the catalog key the terminal pins) before unpacking
//! anything; each file must then match the signed size and SHA-256. The
//! new pack is unpacked beside the old one and swapped in by renaming, so
//! a failed install leaves the installed pack as it was.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use model::auth::{PublicKey, SigningKey};
use model::voicepack::{valid_file_name, Recording, SignedVoicePack, VoicePack, VoicePackError, SIGNED_MANIFEST};
use model::Lang;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Largest signed manifest and largest single recording read.
const MAX_MANIFEST: u64 = 4 << 20;
const MAX_RECORDING: u64 = 16 << 20;

#[derive(Debug, Error)]
pub enum VoiceError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("not a voice pack: {0}")]
    NotAPack(String),
    #[error("refused, nothing installed: {0}")]
    Refused(#[from] VoicePackError),
    #[error("{file} does not match the signed manifest: refused, nothing installed")]
    Mismatch { file: String },
    #[error("the {lang} pack v{offered} is not newer than the installed v{installed} (use --allow-downgrade to force)")]
    Downgrade { lang: &'static str, offered: u64, installed: u64 },
    #[error("bad recordings list {path}, line {line}: {why}")]
    BadList { path: PathBuf, line: usize, why: String },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VoiceError {
    let path = path.to_path_buf();
    move |source| VoiceError::Io { what, path, source }
}

/// Builds and signs a pack from `dir`, which holds `prompts.tsv` (lines
/// `file<TAB>message id`) and the WAV files it names.
pub fn build_pack(dir: &Path, lang: Lang, version: u64, speaker: &str, key: &SigningKey, out: &Path) -> Result<VoicePack, VoiceError> {
    let list = dir.join("prompts.tsv");
    let text = std::fs::read_to_string(&list).map_err(io("cannot read", &list))?;
    let mut prompts = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |why: &str| VoiceError::BadList { path: list.clone(), line: n + 1, why: why.to_owned() };
        let (file, id) = line.split_once('\t').ok_or_else(|| bad("expected FILE<TAB>MESSAGE ID"))?;
        if !valid_file_name(file) {
            return Err(bad("file names are [a-z0-9_-]+.wav"));
        }
        let path = dir.join(file);
        let data = std::fs::read(&path).map_err(io("cannot read", &path))?;
        if !data.starts_with(b"RIFF") {
            return Err(bad("not a WAV file"));
        }
        let r = Recording { file: file.to_owned(), bytes: data.len() as u64, sha256: hex::encode(Sha256::digest(&data)) };
        if prompts.insert(id.to_owned(), r).is_some() {
            return Err(bad("the message id is listed twice"));
        }
    }
    let pack = VoicePack { lang, version, speaker: speaker.to_owned(), prompts };
    let signed = SignedVoicePack::sign(key, &pack)?;
    let json = serde_json::to_vec_pretty(&signed).map_err(|e| VoiceError::NotAPack(e.to_string()))?;
    let file = std::fs::File::create(out).map_err(io("cannot create", out))?;
    let mut tar = tar::Builder::new(file);
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), VoiceError> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, bytes).map_err(io("cannot write", out))
    };
    add(SIGNED_MANIFEST, &json)?;
    for r in pack.prompts.values() {
        let data = std::fs::read(dir.join(&r.file)).map_err(io("cannot read", &dir.join(&r.file)))?;
        add(&r.file, &data)?;
    }
    tar.into_inner().and_then(|f| f.sync_all()).map_err(io("cannot write", out))?;
    Ok(pack)
}

/// The pack installed for `lang` under `voice_dir`, verified with `key`.
pub fn installed(voice_dir: &Path, lang: Lang, key: &PublicKey) -> Result<Option<VoicePack>, VoiceError> {
    let path = voice_dir.join(lang.code()).join(SIGNED_MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VoiceError::Io { what: "cannot read", path, source: e }),
    };
    Ok(Some(SignedVoicePack::from_json(&bytes)?.verify(key)?))
}

/// Verifies `pack_file` and installs it as `voice_dir/<lang>/`.
pub fn install(pack_file: &Path, key: &PublicKey, voice_dir: &Path, allow_downgrade: bool) -> Result<VoicePack, VoiceError> {
    // Pass 1: the signed manifest only.
    let mut manifest = None;
    each_entry(pack_file, |name, entry| {
        if name == SIGNED_MANIFEST {
            let mut buf = Vec::new();
            entry.take(MAX_MANIFEST).read_to_end(&mut buf).map_err(io("cannot read", pack_file))?;
            manifest = Some(buf);
        }
        Ok(())
    })?;
    let manifest = manifest.ok_or_else(|| VoiceError::NotAPack(format!("no {SIGNED_MANIFEST}")))?;
    let pack = SignedVoicePack::from_json(&manifest)?.verify(key)?;
    if let Some(old) = installed(voice_dir, pack.lang, key).ok().flatten() {
        if old.version >= pack.version && !allow_downgrade {
            return Err(VoiceError::Downgrade { lang: pack.lang.code(), offered: pack.version, installed: old.version });
        }
    }

    // Pass 2: each file the manifest names, checked, into a staging directory.
    let stage = voice_dir.join(format!(".{}.new", pack.lang.code()));
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).map_err(io("cannot create", &stage))?;
    let result = unpack(pack_file, &pack, &manifest, &stage);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&stage);
        return Err(e);
    }
    let target = voice_dir.join(pack.lang.code());
    let old = voice_dir.join(format!(".{}.old", pack.lang.code()));
    let _ = std::fs::remove_dir_all(&old);
    if target.exists() {
        std::fs::rename(&target, &old).map_err(io("cannot move aside", &target))?;
    }
    std::fs::rename(&stage, &target).map_err(io("cannot install", &target))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(pack)
}

/// Walks the pack's tar entries in order, with their names.
fn each_entry(
    pack_file: &Path,
    mut visit: impl FnMut(&str, tar::Entry<'_, std::fs::File>) -> Result<(), VoiceError>,
) -> Result<(), VoiceError> {
    let not_a_pack = |e: std::io::Error| VoiceError::NotAPack(e.to_string());
    let f = std::fs::File::open(pack_file).map_err(io("cannot open", pack_file))?;
    let mut tar = tar::Archive::new(f);
    for entry in tar.entries().map_err(not_a_pack)? {
        let entry = entry.map_err(not_a_pack)?;
        let name = entry.path().map_err(not_a_pack)?.to_string_lossy().into_owned();
        visit(&name, entry)?;
    }
    Ok(())
}

fn unpack(pack_file: &Path, pack: &VoicePack, manifest: &[u8], stage: &Path) -> Result<(), VoiceError> {
    let by_file: BTreeMap<&str, &Recording> = pack.prompts.values().map(|r| (r.file.as_str(), r)).collect();
    let mut seen = std::collections::BTreeSet::new();
    each_entry(pack_file, |name, entry| {
        if name == SIGNED_MANIFEST {
            return Ok(());
        }
        let Some(want) = by_file.get(name) else {
            return Err(VoiceError::Mismatch { file: name.to_owned() });
        };
        let mut data = Vec::new();
        entry.take(want.bytes.min(MAX_RECORDING) + 1).read_to_end(&mut data).map_err(io("cannot read", pack_file))?;
        if data.len() as u64 != want.bytes || hex::encode(Sha256::digest(&data)) != want.sha256 {
            return Err(VoiceError::Mismatch { file: name.to_owned() });
        }
        let out = stage.join(&want.file);
        std::fs::write(&out, &data).map_err(io("cannot write", &out))?;
        seen.insert(want.file.clone());
        Ok(())
    })?;
    if let Some(r) = pack.prompts.values().find(|r| !seen.contains(&r.file)) {
        return Err(VoiceError::Mismatch { file: r.file.clone() });
    }
    let m = stage.join(SIGNED_MANIFEST);
    std::fs::write(&m, manifest).map_err(io("cannot write", &m))
}

/// The spoken prompts (`model::voicepack::spoken_prompts`) with no
/// recording in `pack` (all of them without a pack).
pub fn missing(pack: Option<&VoicePack>) -> Vec<&'static str> {
    model::voicepack::spoken_prompts().into_iter().filter(|id| pack.is_none_or(|p| !p.prompts.contains_key(*id))).collect()
}
