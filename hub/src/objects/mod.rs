//! One interface to the hub's objects (attachments, diagnostics bundles,
//! result documents on PostgreSQL, update bundles): a local folder by
//! default (`crate::blobs`, the pilot's `<db>.blobs/` as before), or an
//! S3-compatible bucket for a province (`s3://…`, see [`s3`]), which every
//! hub instance shares. Both keep the same names: `ab/<sha256>` complete,
//! `partial/<sha256>…` while uploading, `updates/<sha256>.tar`.

pub(crate) mod range;
pub mod s3;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use model::protocol::PutOutcome;

use crate::blobs::Blobs;
use crate::store::StoreError;
pub use s3::{is_s3_url, S3Location, S3Objects};

/// Where a PostgreSQL hub keeps its objects: the `--blob-dir` value, a
/// folder or an `s3://` URL.
pub fn location_is_s3(loc: &Path) -> bool {
    loc.to_str().is_some_and(is_s3_url)
}

pub(crate) enum Objects {
    Files(Blobs),
    S3(Arc<S3Objects>),
}

impl Objects {
    /// A folder, or a bucket when `loc` is an `s3://` URL.
    pub fn open(loc: &Path) -> Result<Objects, StoreError> {
        match loc.to_str().filter(|s| is_s3_url(s)) {
            Some(url) => Ok(Objects::S3(Arc::new(S3Objects::open(&S3Location::parse(url)?)?))),
            None => Ok(Objects::Files(Blobs::open_dir(loc.to_owned())?)),
        }
    }

    /// The folder beside a SQLite database (`<db>.blobs/`).
    pub fn beside(db_path: &Path) -> Result<Objects, StoreError> {
        Ok(Objects::Files(Blobs::open(db_path)?))
    }

    /// Where update bundles go: `<folder>/updates`, or the bucket's `updates/`.
    pub fn bundles(&self) -> crate::bundle_files::BundleFiles {
        match self {
            Objects::Files(b) => crate::bundle_files::BundleFiles::new(b.dir().join("updates")),
            Objects::S3(s) => crate::bundle_files::BundleFiles::in_bucket(s.clone()),
        }
    }

    /// The folder, when the objects are files.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Objects::Files(b) => Some(b.dir()),
            Objects::S3(_) => None,
        }
    }

    fn check(sha256: &str) -> Result<(), StoreError> {
        if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(())
        } else {
            Err(StoreError::Corrupt("a blob name is not a lowercase hex SHA-256".into()))
        }
    }

    pub fn exists(&self, sha256: &str) -> Result<bool, StoreError> {
        match self {
            Objects::Files(b) => b.exists(sha256),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.exists(sha256)),
        }
    }

    pub fn drop_stale_partial(&self, sha256: &str, before: SystemTime) -> Result<bool, StoreError> {
        match self {
            Objects::Files(b) => b.drop_stale_partial(sha256, before),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.drop_stale_partial(sha256, before)),
        }
    }

    pub fn partials(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Objects::Files(b) => b.partials(),
            Objects::S3(s) => Ok(s.partials()?.into_iter().filter(|n| Self::check(n).is_ok()).collect()),
        }
    }

    pub fn remove(&self, sha256: &str) -> Result<(), StoreError> {
        match self {
            Objects::Files(b) => b.remove(sha256),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.remove(sha256)),
        }
    }

    pub fn partial_len(&self, sha256: &str) -> Result<u64, StoreError> {
        match self {
            Objects::Files(b) => b.partial_len(sha256),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.partial_len(sha256)),
        }
    }

    pub fn append(&self, sha256: &str, offset: u64, bytes: &[u8], size: u64) -> Result<u64, StoreError> {
        match self {
            Objects::Files(b) => b.append(sha256, offset, bytes, size),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.append(sha256, offset, bytes, size)),
        }
    }

    pub fn truncate(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        match self {
            Objects::Files(b) => b.truncate(sha256, offset),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.truncate(sha256, offset)),
        }
    }

    pub fn finish(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        match self {
            Objects::Files(b) => b.finish(sha256),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.finish(sha256)),
        }
    }

    /// Largest attachment [`Self::put_whole`] should be given: in a bucket,
    /// one PUT instead of chunk objects written and read back; in a folder
    /// none (appending and renaming cost nothing more).
    pub fn whole_limit(&self) -> u64 {
        match self {
            Objects::Files(_) => 0,
            Objects::S3(_) => s3::WHOLE_LIMIT,
        }
    }

    /// Keeps `bytes`, all of an attachment that arrived whole and none of
    /// which was held, under its name if they hash to it.
    pub fn put_whole(&self, sha256: &str, bytes: Vec<u8>) -> Result<PutOutcome, StoreError> {
        match self {
            Objects::Files(b) => {
                b.append(sha256, 0, &bytes, bytes.len() as u64)?;
                b.finish(sha256)
            }
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.put_whole(sha256, bytes)),
        }
    }

    pub fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Objects::Files(b) => b.read(sha256),
            Objects::S3(s) => Self::check(sha256).and_then(|()| s.read(sha256)),
        }
    }

    /// Keeps whole `bytes` under their name through the upload path (the
    /// hash is checked before the object gets its name). Replayed if held.
    pub fn put_verified(&self, sha256: &str, bytes: &[u8]) -> Result<PutOutcome, StoreError> {
        if self.exists(sha256)? {
            return Ok(PutOutcome::Replayed);
        }
        self.truncate(sha256, 0)?;
        self.append(sha256, 0, bytes, bytes.len() as u64)?;
        self.finish(sha256)
    }

    /// Copies the complete blobs of a blob folder (`ab/<sha256>` files) in,
    /// each verified by its hash; returns how many. Partial uploads are not
    /// copied (their terminals send them again).
    pub fn import_folder(&self, dir: &Path) -> Result<u64, StoreError> {
        let mut n = 0;
        for path in complete_files(dir)? {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let bytes = std::fs::read(&path).map_err(|e| StoreError::Blob(format!("cannot read {}: {e}", path.display())))?;
            match self.put_verified(&name, &bytes) {
                Ok(_) => n += 1,
                Err(StoreError::HashMismatch { .. }) => {
                    return Err(StoreError::Corrupt(format!("{} does not hash to its name: not copied", path.display())))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

/// `dir/ab/<sha256>` files (a missing folder has none).
fn complete_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let io = |e: std::io::Error| StoreError::Blob(format!("cannot list {}: {e}", dir.display()));
    let mut out = Vec::new();
    let top = match std::fs::read_dir(dir) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(e)),
    };
    for sub in top {
        let sub = sub.map_err(io)?;
        let name = sub.file_name();
        let Some(prefix) = name.to_str().filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit())) else { continue };
        for f in std::fs::read_dir(sub.path()).map_err(io)? {
            let f = f.map_err(io)?;
            if f.file_name().to_str().is_some_and(|n| n.len() == 64 && n.starts_with(prefix)) {
                out.push(f.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
