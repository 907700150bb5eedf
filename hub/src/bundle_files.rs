//! Published update bundles as files, `<dir>/<sha256>.tar`, for either store:
//! written beside and renamed so a download never sees half a bundle, read
//! back by range for the terminals' resumable downloads. On a hub whose
//! objects are in a bucket, `updates/<sha256>.tar` there instead.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use sha2::Digest as _;

use crate::objects::s3::S3Objects;

use crate::store::StoreError;

/// The folder (or bucket) of published bundles.
#[derive(Debug, Clone)]
pub struct BundleFiles {
    dir: PathBuf,
    bucket: Option<Arc<S3Objects>>,
}

impl BundleFiles {
    /// Bundles kept in `dir` (created on the first publish).
    pub fn new(dir: PathBuf) -> BundleFiles {
        BundleFiles { dir, bucket: None }
    }

    /// Bundles kept in the bucket's `updates/`.
    pub fn in_bucket(bucket: Arc<S3Objects>) -> BundleFiles {
        BundleFiles { dir: PathBuf::new(), bucket: Some(bucket) }
    }

    /// Where the bundles are, when they are files.
    pub fn dir(&self) -> Option<&Path> {
        self.bucket.is_none().then_some(self.dir.as_path())
    }

    /// Copies the `<sha256>.tar` bundles of a folder in (each checked by
    /// its hash); returns how many.
    pub fn import_folder(&self, from: &Path) -> Result<u64, StoreError> {
        let entries = match std::fs::read_dir(from) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(unreadable(from, e)),
        };
        let mut n = 0;
        for entry in entries {
            let entry = entry.map_err(|e| unreadable(from, e))?;
            let name = entry.file_name();
            let Some(sha) = name.to_str().and_then(|n| n.strip_suffix(".tar")).filter(|s| s.len() == 64) else { continue };
            let bytes = std::fs::read(entry.path()).map_err(|e| unreadable(&entry.path(), e))?;
            self.keep(sha, &bytes)?;
            n += 1;
        }
        Ok(n)
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
        if let Some(bucket) = &self.bucket {
            return bucket.keep_bundle(sha256, bytes);
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
        if let Some(bucket) = &self.bucket {
            if offset > size {
                return Err(StoreError::RangeMismatch { sha256: sha256.to_owned(), offset, received: size });
            }
            let end = offset + max.min(size - offset);
            return Ok(bucket.bundle_range(sha256, offset, end)?.map(|b| (b, size)));
        }
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
