//! Signed update bundles: verified before anything is installed, a health
//! check after the new version starts, and the previous version put back
//! when that check fails.
//!
//! A bundle is a tar file: `manifest.json` (package, version, and the
//! SHA-256 and size of every payload file), `manifest.sig` (base64 Ed25519
//! over the manifest's bytes, by the update key) and the payload files
//! (normally one .deb). Verification reads the manifest and its signature
//! first and refuses the bundle before unpacking anything else; payload
//! files must then hash to what the signed manifest says.
//!
//! The state directory keeps each installed version's payload under
//! `versions/<version>/`, and `current` names the running one, so a
//! rollback re-applies exactly what ran before.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use model::auth::{PublicKey, SigningKey};
use thiserror::Error;

pub use model::bundle::{compare_versions, valid_version, FileEntry, Manifest, MANIFEST, PACKAGE, SIGNATURE};
use model::bundle::{check_payloads, read_signed_manifest, write_bundle, BundleError};

/// Versions kept for rollback (the current one and the one before).
const KEEP_VERSIONS: usize = 2;

#[derive(Debug, Error)]
pub enum UpdateError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("not an update bundle: {0}")]
    NotABundle(String),
    #[error("the bundle's signature does not verify with the update key: refused, nothing installed")]
    BadSignature,
    #[error("the bundle is for package {0:?}, not {PACKAGE}: refused, nothing installed")]
    WrongPackage(String),
    #[error("payload {path} does not match the signed manifest ({why}): refused, nothing installed")]
    PayloadMismatch { path: String, why: String },
    #[error("version {offered} is not newer than the installed {current} (use --allow-downgrade to force)")]
    Downgrade { current: String, offered: String },
    #[error("installing version {version} failed: {reason}{}", if *rolled_back { "; the previous version was put back" } else { "" })]
    ApplyFailed { version: String, reason: String, rolled_back: bool },
    #[error("version {version} failed its health check ({reason}); {}", match previous { Some(p) => format!("rolled back to {p}"), None => "there was no previous version to roll back to".into() })]
    HealthFailed { version: String, reason: String, previous: Option<String> },
    #[error("version {version} failed ({reason}) and rolling back to {previous} failed too: {rollback}")]
    RollbackFailed { version: String, reason: String, previous: String, rollback: String },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError {
    let path = path.to_owned();
    move |source| UpdateError::Io { what, path, source }
}

/// `model::bundle`'s verdict in this crate's terms; `bundle` and `dest`
/// name the files for I/O errors.
fn from_bundle(e: BundleError, bundle: &Path, dest: &Path) -> UpdateError {
    match e {
        BundleError::Read(source) => UpdateError::Io { what: "cannot read", path: bundle.to_owned(), source },
        BundleError::Sink { path, source } => UpdateError::Io { what: "cannot write", path: dest.join(path), source },
        BundleError::NotABundle(why) => UpdateError::NotABundle(why),
        BundleError::BadSignature => UpdateError::BadSignature,
        BundleError::WrongPackage(p) => UpdateError::WrongPackage(p),
        BundleError::PayloadMismatch { path, why } => UpdateError::PayloadMismatch { path, why },
    }
}

/// Makes a signed bundle of `files` (release side: `kioskctl update sign`).
pub fn build_bundle(out: &Path, key: &SigningKey, package: &str, version: &str, files: &[PathBuf]) -> Result<Manifest, UpdateError> {
    let mut named = Vec::new();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).ok_or_else(|| UpdateError::NotABundle(format!("{} has no usable file name", f.display())))?;
        named.push((name, std::fs::read(f).map_err(io("cannot read", f))?));
    }
    let parts: Vec<(&str, &[u8])> = named.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let file = std::fs::File::create(out).map_err(io("cannot create", out))?;
    let mut w = std::io::BufWriter::new(file);
    let manifest = write_bundle(&mut w, key, package, version, &parts).map_err(|e| from_bundle(e, out, crate::safe_fs::parent_dir(out)))?;
    let file = w.into_inner().map_err(|e| UpdateError::Io { what: "cannot write", path: out.to_owned(), source: e.into_error() })?;
    file.sync_all().map_err(io("cannot write", out))?;
    Ok(manifest)
}

/// Checks the signature, then unpacks and checks every payload file into
/// `dest` (created; must not exist). Nothing outside `dest` is touched.
/// The checks are `model::bundle`'s, the same the hub makes at publication.
pub fn verify_bundle(bundle: &Path, key: &PublicKey, dest: &Path) -> Result<Manifest, UpdateError> {
    let open = || std::fs::File::open(bundle).map(std::io::BufReader::new).map_err(io("cannot open", bundle));
    let manifest = read_signed_manifest(open()?, key).map_err(|e| from_bundle(e, bundle, dest))?;
    std::fs::create_dir_all(dest.parent().unwrap_or(Path::new("."))).map_err(io("cannot create", dest))?;
    std::fs::create_dir(dest).map_err(io("cannot create", dest))?;
    check_payloads(open()?, &manifest, |f| Ok(Box::new(std::fs::File::create(dest.join(&f.path))?))).map_err(|e| from_bundle(e, bundle, dest))?;
    for f in &manifest.files {
        let p = dest.join(&f.path);
        std::fs::File::open(&p).and_then(|f| f.sync_all()).map_err(io("cannot write", &p))?;
    }
    Ok(manifest)
}

/// What installs a verified payload directory, and what tells whether the
/// version then runs well. kioskctl runs commands for both (dpkg -i, and
/// a systemctl restart that waits for READY=1).
pub trait System {
    fn apply(&mut self, version: &str, payload: &Path) -> Result<(), String>;
    fn health(&mut self, version: &str) -> Result<(), String>;
}

/// Runs the technician's commands through `sh -c`, `{dir}` and `{version}`
/// filled in (shell-quoted): what `kioskctl update install|follow` use.
pub struct ShellSystem {
    /// Installs the payload directory `{dir}` of `{version}`.
    pub apply: String,
    /// Exits 0 when `{version}` runs well.
    pub health: String,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn sh(template: &str, version: &str, dir: Option<&Path>) -> Result<(), String> {
    let mut cmd = template.replace("{version}", &quote(version));
    if let Some(d) = dir {
        // A glob after {dir} (e.g. {dir}/*.deb) must stay outside the quotes.
        cmd = cmd.replace("{dir}", &quote(&d.to_string_lossy()));
    }
    let out = std::process::Command::new("sh").arg("-c").arg(&cmd).output().map_err(|e| format!("cannot run sh: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim();
        Err(format!("`{template}` exited with {}{}", out.status, if last.is_empty() { String::new() } else { format!(": {last}") }))
    }
}

impl System for ShellSystem {
    fn apply(&mut self, version: &str, payload: &Path) -> Result<(), String> {
        sh(&self.apply, version, Some(payload))
    }
    fn health(&mut self, version: &str) -> Result<(), String> {
        sh(&self.health, version, None)
    }
}

/// The versions kept under a state directory.
pub struct Updater {
    state: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub version: String,
    pub previous: Option<String>,
}

impl Updater {
    pub fn new(state_dir: &Path) -> Updater {
        Updater { state: state_dir.to_owned() }
    }

    fn versions(&self) -> PathBuf {
        self.state.join("versions")
    }

    /// The version that passed its health check last.
    pub fn current(&self) -> Result<Option<String>, UpdateError> {
        let p = self.state.join("current");
        match std::fs::read_to_string(&p) {
            Ok(s) if valid_version(s.trim()) => Ok(Some(s.trim().to_owned())),
            Ok(_) => Err(UpdateError::NotABundle(format!("{} is damaged", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("cannot read", &p)(e)),
        }
    }

    /// Replaces `current` whole (random exclusive no-follow temp file,
    /// fsync, rename) and fsyncs the directory, so after a power cut it
    /// names the old version or the new one, never none.
    fn set_current(&self, version: &str) -> Result<(), UpdateError> {
        crate::safe_fs::write_atomically(&self.state.join("current"), version.as_bytes(), 0o644, None).map_err(|e| match e {
            crate::safe_fs::SafeFsError::Io { what, path, source } => UpdateError::Io { what, path, source },
            other => UpdateError::NotABundle(other.to_string()),
        })
    }

    fn log(&self, line: &str) {
        let p = self.state.join("history.log");
        let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&p) {
            let _ = writeln!(f, "{now} {line}");
        }
    }

    /// Verifies `bundle`, installs it, checks its health, and rolls back
    /// to the current version when either step fails.
    pub fn install(&self, bundle: &Path, key: &PublicKey, system: &mut dyn System, allow_downgrade: bool) -> Result<Installed, UpdateError> {
        std::fs::create_dir_all(self.versions()).map_err(io("cannot create", &self.versions()))?;
        let staging = self.state.join(".staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io("cannot clear", &staging))?;
        }
        let manifest = match verify_bundle(bundle, key, &staging) {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                self.log(&format!("refused {}: {e}", bundle.display()));
                return Err(e);
            }
        };
        let version = manifest.version.clone();
        let current = self.current()?;
        if let Some(cur) = &current {
            if !allow_downgrade && compare_versions(&version, cur).is_le() {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(UpdateError::Downgrade { current: cur.clone(), offered: version });
            }
        }
        let dir = self.versions().join(&version);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io("cannot replace", &dir))?;
        }
        std::fs::rename(&staging, &dir).map_err(io("cannot keep", &dir))?;

        let failed = match system.apply(&version, &dir) {
            Err(reason) => Some((reason, true)),
            Ok(()) => system.health(&version).err().map(|r| (r, false)),
        };
        let Some((reason, at_apply)) = failed else {
            self.set_current(&version)?;
            self.log(&format!("installed {version} (was {})", current.as_deref().unwrap_or("none")));
            self.prune(&version, current.as_deref());
            return Ok(Installed { version, previous: current });
        };
        // Roll back to what ran before, exactly as it was installed.
        let Some(prev) = current else {
            self.log(&format!("{version} failed ({reason}); nothing to roll back to"));
            return Err(if at_apply {
                UpdateError::ApplyFailed { version, reason, rolled_back: false }
            } else {
                UpdateError::HealthFailed { version, reason, previous: None }
            });
        };
        let prev_dir = self.versions().join(&prev);
        let back = system.apply(&prev, &prev_dir).and_then(|()| system.health(&prev));
        let _ = std::fs::remove_dir_all(&dir);
        match back {
            Ok(()) => {
                self.log(&format!("{version} failed ({reason}); rolled back to {prev}"));
                Err(if at_apply {
                    UpdateError::ApplyFailed { version, reason, rolled_back: true }
                } else {
                    UpdateError::HealthFailed { version, reason, previous: Some(prev) }
                })
            }
            Err(rollback) => {
                self.log(&format!("{version} failed ({reason}); rollback to {prev} failed: {rollback}"));
                Err(UpdateError::RollbackFailed { version, reason, previous: prev, rollback })
            }
        }
    }

    /// Keeps the current and previous versions' payloads, drops older ones.
    fn prune(&self, current: &str, previous: Option<&str>) {
        let Ok(entries) = std::fs::read_dir(self.versions()) else { return };
        let mut names: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
        names.sort_by(|a, b| compare_versions(b, a));
        let keep: Vec<&str> = [Some(current), previous].into_iter().flatten().collect();
        for name in names.iter().filter(|n| !keep.contains(&n.as_str())).skip(KEEP_VERSIONS.saturating_sub(keep.len())) {
            let _ = std::fs::remove_dir_all(self.versions().join(name));
        }
    }
}
