//! The hub's own signing key: operator lists and terminal configs are
//! signed with it ([`model::document`]), and terminals pin its public half
//! at enrollment. Unlike the catalog key (kept offline by whoever publishes
//! catalogs) the hub signs these live, per request, so it holds this key.
//!
//! By default it lives beside the database (`<db>.signing.key`, 0600),
//! created on first start, so an embedded hub signs with no setup.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use model::auth::SigningKey;
use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
pub enum SigningKeyError {
    #[error("cannot read the hub signing key {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot create the hub signing key {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a hub signing key: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path} may be read by others than its owner (mode {mode:o}); chmod 600 it")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("no entropy from the OS: {0}")]
    Entropy(String),
}

/// Where the key lives by default for the database at `db`.
pub fn default_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "hub.db".into());
    name.push(".signing.key");
    db.with_file_name(name)
}

/// A new key from the OS's entropy.
pub fn generate() -> Result<SigningKey, SigningKeyError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut seed[..]).map_err(|e| SigningKeyError::Entropy(e.to_string()))?;
    Ok(SigningKey::from_seed(&seed))
}

/// Loads the key at `path`. A file others may read is refused: whoever
/// reads it can sign operator lists for every terminal.
pub fn load(path: &Path) -> Result<SigningKey, SigningKeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| SigningKeyError::Read { path: path.to_owned(), source })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SigningKeyError::TooOpen { path: path.to_owned(), mode });
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| SigningKeyError::Read { path: path.to_owned(), source })?);
    SigningKey::parse(text.trim()).map_err(|e| SigningKeyError::Malformed { path: path.to_owned(), reason: e.to_string() })
}

/// Loads the key at `path`, creating it (0600, exclusive) if there is none.
pub fn load_or_create(path: &Path) -> Result<SigningKey, SigningKeyError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => return load(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(SigningKeyError::Read { path: path.to_owned(), source }),
    }
    let key = generate()?;
    let create = |source| SigningKeyError::Create { path: path.to_owned(), source };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = match opts.open(path) {
        Ok(f) => f,
        // Another instance made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return load(path),
        Err(e) => return Err(create(e)),
    };
    file.write_all(key.to_text().as_bytes()).and_then(|()| file.sync_all()).map_err(create)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(create)?;
    }
    tracing::info!(file = %path.display(), key = %key.public_key().fingerprint(), "hub signing key created");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_then_reused_and_refused_when_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(&dir.path().join("hub.db"));
        assert!(path.ends_with("hub.db.signing.key"));
        let a = load_or_create(&path).unwrap();
        let b = load_or_create(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(load(&path), Err(SigningKeyError::TooOpen { .. })));
        }
    }
}
