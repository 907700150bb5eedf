//! Files root tools trust, and files written whole.
//!
//! kioskctl runs as root; the kiosk runs as `cunban` and parses untrusted
//! input (card frames, QR codes, PDFs, hub answers). Whatever root acts on
//! (the update key, the kiosk.toml it tests devices from, the vendor photo
//! decoder it loads) must be something `cunban` cannot have written:
//! [`check_trusted`] walks every component of the path and refuses one not
//! owned by the trusted owner (root) or writable by its group or by
//! everyone. A world-writable directory with the sticky bit (`/tmp`) is
//! accepted as a parent, because nobody else can rename or remove an entry
//! the trusted owner owns there; the entry itself is checked like any other.
//!
//! [`write_atomically`] replaces a file whole: a temp file with a random
//! name, created exclusive and no-follow (`O_EXCL | O_NOFOLLOW`) so a
//! symlink or a file planted at that name is never written through, then
//! fsynced, renamed over the target and the directory fsynced.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Root: the owner everything a root tool trusts must have.
pub const ROOT: u32 = 0;

#[derive(Debug, Error)]
pub enum SafeFsError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    /// Names the component and why; never the file's content.
    #[error("refusing {path}: {component} {why}; it must be owned by root and writable by root alone, in directories only root can write (fix: chown root:root and chmod go-w, after checking the file was not planted)")]
    Untrusted { path: PathBuf, component: PathBuf, why: String },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SafeFsError {
    let path = path.to_owned();
    move |source| SafeFsError::Io { what, path, source }
}

/// What makes `meta` (of `component`) untrustworthy for `owner`, if anything.
fn problem(meta: &Metadata, owner: u32, is_parent: bool) -> Option<String> {
    let mode = meta.mode() & 0o7777;
    if meta.uid() != owner && meta.uid() != ROOT {
        return Some(format!("is owned by uid {}, not {}", meta.uid(), if owner == ROOT { "root".to_owned() } else { format!("root or uid {owner}") }));
    }
    let sticky = mode & 0o1000 != 0;
    if mode & 0o002 != 0 && !(is_parent && sticky && meta.is_dir()) {
        return Some(format!("is writable by everyone (mode {mode:04o})"));
    }
    if mode & 0o020 != 0 && !(is_parent && sticky && meta.is_dir()) {
        return Some(format!("is writable by its group, gid {} (mode {mode:04o})", meta.gid()));
    }
    None
}

/// Checks that `path` and every directory above it are owned by `owner`
/// (or root) and writable by nobody else. Symlinks are resolved first and
/// the real path is checked. Production callers pass [`ROOT`]; tests pass
/// their own uid (they do not run as a second user).
pub fn check_trusted(path: &Path, owner: u32) -> Result<PathBuf, SafeFsError> {
    let real = std::fs::canonicalize(path).map_err(io("cannot resolve", path))?;
    let mut at = PathBuf::new();
    let parts: Vec<_> = real.components().collect();
    for (i, c) in parts.iter().enumerate() {
        at.push(c);
        let meta = std::fs::symlink_metadata(&at).map_err(io("cannot inspect", &at))?;
        if let Some(why) = problem(&meta, owner, i + 1 < parts.len()) {
            return Err(SafeFsError::Untrusted { path: path.to_owned(), component: at, why });
        }
    }
    Ok(real)
}

/// Reads a file a root tool acts on, after [`check_trusted`]; the opened
/// file is checked again (owner and mode), so what was checked is what is read.
pub fn read_trusted(path: &Path, owner: u32, limit: u64) -> Result<Vec<u8>, SafeFsError> {
    let real = check_trusted(path, owner)?;
    let f = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&real).map_err(io("cannot open", path))?;
    let meta = f.metadata().map_err(io("cannot inspect", path))?;
    if let Some(why) = problem(&meta, owner, false) {
        return Err(SafeFsError::Untrusted { path: path.to_owned(), component: real, why });
    }
    if !meta.is_file() {
        return Err(SafeFsError::Untrusted { path: path.to_owned(), component: real, why: "is not a regular file".into() });
    }
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(f, limit), &mut buf).map_err(io("cannot read", path))?;
    Ok(buf)
}

/// Fsyncs a directory, so a rename in it survives a power cut.
pub fn fsync_dir(dir: &Path) -> Result<(), SafeFsError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("cannot sync", dir))
}

/// The directory `path` lives in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Owner and group to give a written file (`fchown` before the rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// Replaces `path` with `bytes`, whole or not at all: a randomly named temp
/// file beside it, created `O_EXCL | O_NOFOLLOW` with `mode`, given `owner`
/// if set, fsynced, renamed over `path`; then the directory is fsynced.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32, owner: Option<Owner>) -> Result<(), SafeFsError> {
    let dir = parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| SafeFsError::Io { what: "no entropy for", path: path.to_owned(), source: std::io::Error::other(e.to_string()) })?;
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(rnd)));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(io("cannot create", &tmp))?;
    let written = (|| {
        // The umask may have taken bits away; set exactly what was asked.
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        if let Some(o) = owner {
            std::os::unix::fs::fchown(&f, Some(o.uid), Some(o.gid))?;
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(SafeFsError::Io { what: "cannot write", path: tmp, source: e });
    }
    drop(f);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(SafeFsError::Io { what: "cannot replace", path: path.to_owned(), source: e });
    }
    fsync_dir(dir)
}

/// The uid and gid of a system user (from /etc/passwd), if it exists.
pub fn system_user(name: &str) -> Option<Owner> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| Some(Owner { uid: f[2].parse().ok()?, gid: f[3].parse().ok()? })).flatten()
    })
}

/// The effective uid of this process (`/proc/self` is owned by it).
pub fn current_uid() -> Result<u32, SafeFsError> {
    std::fs::metadata("/proc/self").map(|m| m.uid()).map_err(io("cannot inspect", Path::new("/proc/self")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn me() -> u32 {
        current_uid().unwrap()
    }

    #[test]
    fn a_trusted_file_passes_and_a_group_writable_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let key = dir.path().join("update-key.pub");
        std::fs::write(&key, "ed25519:x").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_trusted(&key, me(), 1024).unwrap(), b"ed25519:x");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o775)).unwrap();
        let e = check_trusted(&key, me()).unwrap_err().to_string();
        assert!(e.contains("writable by its group") && e.contains(&dir.path().display().to_string()), "{e}");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(check_trusted(&key, me()).unwrap_err().to_string().contains("writable by everyone"));
    }

    #[test]
    fn a_file_of_another_owner_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kiosk.toml");
        std::fs::write(&f, "").unwrap();
        // Trusting a uid that owns nothing here: the temp dir is ours, not its.
        let e = check_trusted(&f, 4242);
        if me() == ROOT {
            // Root-owned files are always trusted; make it someone else's.
            std::os::unix::fs::chown(&f, Some(4242), None).unwrap();
            assert!(check_trusted(&f, ROOT).unwrap_err().to_string().contains("owned by uid 4242"));
        } else {
            assert!(e.unwrap_err().to_string().contains(&format!("owned by uid {}", me())));
        }
    }

    #[test]
    fn writes_whole_files_with_the_mode_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kiosk.toml");
        write_atomically(&p, b"a = 1\n", 0o640, None).unwrap();
        write_atomically(&p, b"a = 2\n", 0o640, None).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"a = 2\n");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temp file left: {left:?}");
    }
}
