//! What the `hub` subcommands share: key and secret files, the store the
//! commands open, times and status words as the back office prints them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use hub::{NewTerminal, Store};
use model::auth::{PublicKey, SignedCatalog, SigningKey};
use model::seal::PlatformSecretKey;
use model::CaseStatus;

/// Writes `text` to a new file with mode 0600; never overwrites.
pub fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path).with_context(|| format!("cannot create {} (an existing key is never overwritten)", path.display()))?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// Writes a villager's document for the clerk: readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn read_secret(path: &Path, what: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the {what} file is readable by others than its owner");
        }
    }
    Ok(zeroize::Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?))
}

pub fn load_platform_key(path: &Path) -> anyhow::Result<PlatformSecretKey> {
    let text = read_secret(path, "platform key")?;
    PlatformSecretKey::parse(&text).map_err(|e| anyhow!("{} is not a platform private key: {e}", path.display()))
}

pub fn load_catalog_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = read_secret(path, "catalog key")?;
    SigningKey::parse(&text).map_err(|e| anyhow!("{} is not a catalog signing key: {e}", path.display()))
}

pub fn random_seed() -> anyhow::Result<zeroize::Zeroizing<[u8; 32]>> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut seed[..]).map_err(|e| anyhow!("no entropy from the OS: {e}"))?;
    Ok(seed)
}

pub fn sign_catalog(file: &Path, key_file: &Path) -> anyhow::Result<SignedCatalog> {
    let key = load_catalog_key(key_file)?;
    let json = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    SignedCatalog::sign(&key, &json).map_err(|e| anyhow!("{}: {e}", file.display()))
}

/// `ID:ed25519:BASE64` → a terminal to trust.
pub fn parse_trust(s: &str) -> anyhow::Result<NewTerminal> {
    let (id, key) = s.split_once(':').ok_or_else(|| anyhow!("--trust-terminal takes ID:PUBLIC_KEY"))?;
    if !model::auth::valid_terminal_id(id) {
        bail!("terminal id {id:?} must be 1..32 letters, digits or '-'");
    }
    let public_key = PublicKey::parse(key).map_err(|e| anyhow!("--trust-terminal {id}: {e}"))?;
    Ok(NewTerminal { id: id.to_owned(), public_key, village_code: None, label: None })
}

/// `--blob-dir`, set once in main (the commands take only the database).
pub static BLOB_DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

pub fn open_store_sync(db: &Path) -> anyhow::Result<Arc<dyn Store>> {
    let blob_dir = BLOB_DIR.get().cloned().flatten();
    hub::open_store_blocking(db, blob_dir.as_deref()).with_context(|| format!("opening {}", shown_db(db)))
}

/// The database as logs may show it: a URL's password is left out.
pub fn shown_db(db: &Path) -> String {
    let text = db.display().to_string();
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &text[..scheme], &text[at..]),
        _ => text,
    }
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

pub fn stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+8));
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

pub fn status_word(s: CaseStatus) -> &'static str {
    s.name()
}
