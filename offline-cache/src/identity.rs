//! The terminal's device key: an Ed25519 key pair kept in the data
//! directory, made on first start (mode 0600), never replaced silently (the
//! hub knows the terminal by it). Its public half is what a technician
//! registers on the hub (`hub terminal add`, later enrollment).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use model::auth::{valid_terminal_id, PublicKey, SigningKey};
use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("terminal id {0:?} must be 1..32 letters, digits or '-'")]
    BadTerminalId(String),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    /// The file is there but is not a key: it is left alone for a
    /// technician (a new key would need the terminal registered again).
    #[error("{path} is not a device key ({reason}); it was left as it is")]
    BadKeyFile { path: PathBuf, reason: String },
    #[error("no entropy from the operating system: {0}")]
    Entropy(String),
}

/// Who this terminal is to the hub. Clones share nothing but hold the same key.
#[derive(Clone)]
pub struct DeviceIdentity {
    terminal_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceIdentity({} {})", self.terminal_id, self.key.public_key().fingerprint())
    }
}

fn random_seed() -> Result<Zeroizing<[u8; 32]>, IdentityError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut seed[..]).map_err(|e| IdentityError::Entropy(e.to_string()))?;
    Ok(seed)
}

impl DeviceIdentity {
    /// A key that lives only in memory (tests, tools).
    pub fn generate(terminal_id: &str) -> Result<DeviceIdentity, IdentityError> {
        if !valid_terminal_id(terminal_id) {
            return Err(IdentityError::BadTerminalId(terminal_id.to_owned()));
        }
        Ok(DeviceIdentity { terminal_id: terminal_id.to_owned(), key: SigningKey::from_seed(&*random_seed()?) })
    }

    /// The key in `path`, made there (0600) if there is none. The bool is
    /// true when it was made now: its public key must then be registered.
    pub fn load_or_create(path: &Path, terminal_id: &str) -> Result<(DeviceIdentity, bool), IdentityError> {
        if !valid_terminal_id(terminal_id) {
            return Err(IdentityError::BadTerminalId(terminal_id.to_owned()));
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    if let Ok(meta) = std::fs::metadata(path) {
                        if meta.permissions().mode() & 0o077 != 0 {
                            tracing::warn!(file = %path.display(), "the device key file is readable by others than its owner");
                        }
                    }
                }
                let key = SigningKey::parse(&text).map_err(|e| IdentityError::BadKeyFile { path: path.to_owned(), reason: e.to_string() })?;
                Ok((DeviceIdentity { terminal_id: terminal_id.to_owned(), key }, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::from_seed(&*random_seed()?);
                write_new_secret(path, &key.to_text())?;
                tracing::info!(file = %path.display(), key = %key.public_key().fingerprint(), "device key made; register it on the hub");
                Ok((DeviceIdentity { terminal_id: terminal_id.to_owned(), key }, true))
            }
            Err(source) => Err(IdentityError::Io { what: "cannot read device key", path: path.to_owned(), source }),
        }
    }

    /// The key in `path`, which must exist (tools: `kioskctl export` signs
    /// with it and must never make a new one).
    pub fn load(path: &Path, terminal_id: &str) -> Result<DeviceIdentity, IdentityError> {
        if !path.exists() {
            return Err(IdentityError::Io {
                what: "no device key at",
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        Ok(Self::load_or_create(path, terminal_id)?.0)
    }

    pub fn terminal_id(&self) -> &str {
        &self.terminal_id
    }

    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }
}

/// Creates `path` with mode 0600 (never overwriting), writes, and syncs the
/// file and its directory: a key that vanished in a power cut after the
/// terminal was registered would lock it out.
fn write_new_secret(path: &Path, text: &str) -> Result<(), IdentityError> {
    let io = |what, source| IdentityError::Io { what, path: path.to_owned(), source };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path).map_err(|e| io("cannot create device key", e))?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(|e| io("cannot write device key", e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_0600_then_loaded_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        let (a, made) = DeviceIdentity::load_or_create(&path, "GS-0001").unwrap();
        assert!(made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (b, made) = DeviceIdentity::load_or_create(&path, "GS-0001").unwrap();
        assert!(!made);
        assert_eq!(a.public_key(), b.public_key());
        assert!(!format!("{a:?}").contains(&*std::fs::read_to_string(&path).unwrap()));
    }

    #[test]
    fn a_damaged_key_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(DeviceIdentity::load_or_create(&path, "GS-0001"), Err(IdentityError::BadKeyFile { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "garbage");
        assert!(matches!(DeviceIdentity::generate("bad id"), Err(IdentityError::BadTerminalId(_))));
    }
}
