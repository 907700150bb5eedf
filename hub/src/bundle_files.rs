//! Published update bundles as files, `<dir>/<sha256>.tar`, for either store:
//! written beside and renamed so a download never sees half a bundle, read
//! back by range for the terminals' resumable downloads.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::store::StoreError;

/// The folder of published bundles.
#[derive(Debug, Clone)]
pub struct BundleFiles {
    dir: PathBuf,
}

impl BundleFiles {
    /// Bundles kept in `dir` (created on the first publish).
    pub fn new(dir: PathBuf) -> BundleFiles {
        BundleFiles { dir }
    }

    /// Where the bundles are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(StoreError::Update(format!("{sha256:?} is not a SHA-256")));
        }
        Ok(self.dir.join(format!("{sha256}.tar")))
    }

    /// Keeps `bytes` under their hash, refusing bytes that do not hash to `sha256`.
    pub fn keep(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let dest = self.path(sha256)?;
        if hex::encode(sha2::Sha256::digest(bytes)) != sha256 {
            return Err(StoreError::Update(format!("the bundle's bytes do not hash to {sha256}")));
        }
        let io = |what: &str, e: std::io::Error| StoreError::Update(format!("{what} {}: {e}", dest.display()));
        std::fs::create_dir_all(&self.dir).map_err(|e| io("cannot create the directory of", e))?;
        let tmp = self.dir.join(format!(".{sha256}.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &dest)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io("cannot keep", e));
        }
        Ok(())
    }

    /// Up to `max` bytes of the bundle `sha256` (of `size` bytes) from
    /// `offset`; None when the file is not here.
    pub fn range(&self, sha256: &str, size: u64, offset: u64, max: u64) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let path = self.path(sha256)?;
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unreadable(&path, e)),
        };
        if offset > size {
            return Err(StoreError::RangeMismatch { sha256: sha256.to_owned(), offset, received: size });
        }
        let want = max.min(size - offset);
        let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        f.seek(SeekFrom::Start(offset)).and_then(|_| f.take(want).read_to_end(&mut buf)).map_err(|e| unreadable(&path, e))?;
        Ok(Some((buf, size)))
    }
}

fn unreadable(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Update(format!("cannot read {}: {e}", path.display()))
}
