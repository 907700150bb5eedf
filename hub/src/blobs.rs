//! Sealed attachment bytes as files beside the database: `<db>.blobs/ab/<sha256>`
//! when complete (content-addressed, written once, verified before it gets
//! its name), `<db>.blobs/partial/<sha256>` while an upload is under way.
//!
//! Files rather than SQLite BLOBs: a 5 MB scan in SQLite is written to the
//! WAL, copied at checkpoint, and again when the staged chunks become the
//! final row (about four writes of each byte); a file is written once. It is
//! also the shape an S3-compatible object store takes at province scale
//! (DESIGN §5): partial file ↔ multipart upload, rename ↔ completion.
//!
//! Partial bytes are not fsynced as they arrive: a power cut costs a resend,
//! and a damaged partial fails its hash at completion and is dropped. A
//! complete blob is fsynced, renamed into place, and its directory fsynced,
//! before anyone is told it is there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use model::protocol::PutOutcome;
use sha2::{Digest, Sha256};

use crate::objects::range::bytes_to_write;
use crate::store::StoreError;

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::Blob(format!("{what}: {e}"))
}

/// Serialises work on one upload (appends racing with a finish): one lock
/// per stripe of hashes, enough for a hub's concurrency.
const STRIPES: usize = 64;

pub(crate) struct Blobs {
    dir: PathBuf,
    locks: Vec<Mutex<()>>,
    /// SHA-256 state of each partial file as this process wrote it, so
    /// finishing needn't read the bytes back (after a restart it does).
    running: Mutex<HashMap<String, (u64, Sha256)>>,
}

impl Blobs {
    /// The blob directory of the database at `db_path` (created if missing).
    pub fn open(db_path: &Path) -> Result<Blobs, StoreError> {
        let mut name = db_path.as_os_str().to_owned();
        name.push(".blobs");
        Blobs::open_dir(PathBuf::from(name))
    }

    /// Blobs in `dir` itself (stores whose database is not a file: PostgreSQL).
    pub fn open_dir(dir: PathBuf) -> Result<Blobs, StoreError> {
        std::fs::create_dir_all(dir.join("partial")).map_err(io("cannot create the blob directory"))?;
        Ok(Blobs { dir, locks: (0..STRIPES).map(|_| Mutex::new(())).collect(), running: Mutex::new(HashMap::new()) })
    }

    fn check(sha256: &str) -> Result<(), StoreError> {
        if is_sha256_hex(sha256) {
            Ok(())
        } else {
            Err(StoreError::Corrupt("a blob name is not a lowercase hex SHA-256".into()))
        }
    }

    /// The folder itself (`hub migrate` copies it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn final_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(sha256)
    }

    fn partial_path(&self, sha256: &str) -> PathBuf {
        self.dir.join("partial").join(sha256)
    }

    fn lock(&self, sha256: &str) -> MutexGuard<'_, ()> {
        let stripe = usize::from_str_radix(&sha256[..2], 16).unwrap_or(0) % STRIPES;
        // The guarded state is on disk; a panicked holder left nothing half-done in memory.
        self.locks[stripe].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn running(&self) -> MutexGuard<'_, HashMap<String, (u64, Sha256)>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Complete and verified.
    pub fn exists(&self, sha256: &str) -> Result<bool, StoreError> {
        Self::check(sha256)?;
        Ok(self.final_path(sha256).is_file())
    }

    /// Drops a partial upload last written before `before` (abandoned:
    /// the terminal resends from 0 if it ever comes back). True if dropped.
    pub fn drop_stale_partial(&self, sha256: &str, before: std::time::SystemTime) -> Result<bool, StoreError> {
        Self::check(sha256)?;
        let _one = self.lock(sha256);
        let path = self.partial_path(sha256);
        let modified = match std::fs::metadata(&path).and_then(|m| m.modified()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io("cannot read a partial upload")(e)),
        };
        if modified >= before {
            return Ok(false);
        }
        self.running().remove(sha256);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("cannot drop a partial upload")(e)),
        }
    }

    /// Names of the partial uploads held.
    pub fn partials(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.join("partial")).map_err(io("cannot list partial uploads"))? {
            let entry = entry.map_err(io("cannot list partial uploads"))?;
            if let Some(name) = entry.file_name().to_str().filter(|n| is_sha256_hex(n)) {
                out.push(name.to_owned());
            }
        }
        Ok(out)
    }

    /// Drops an attachment nothing refers to any more, complete or partial.
    pub fn remove(&self, sha256: &str) -> Result<(), StoreError> {
        Self::check(sha256)?;
        let _one = self.lock(sha256);
        self.running().remove(sha256);
        for path in [self.final_path(sha256), self.partial_path(sha256)] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("cannot drop an attachment")(e)),
            }
        }
        Ok(())
    }

    /// Bytes held of an unfinished upload.
    pub fn partial_len(&self, sha256: &str) -> Result<u64, StoreError> {
        Self::check(sha256)?;
        match std::fs::metadata(self.partial_path(sha256)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io("cannot read a partial upload")(e)),
        }
    }

    /// Appends `bytes` given for `offset` (≤ the bytes held; what is held
    /// already is skipped). `size` is the attachment's full size. Returns the bytes held after.
    pub fn append(&self, sha256: &str, offset: u64, bytes: &[u8], size: u64) -> Result<u64, StoreError> {
        Self::check(sha256)?;
        let _one = self.lock(sha256);
        let held = self.partial_len(sha256)?;
        let Some(skip) = bytes_to_write(sha256, offset, bytes.len(), size, held)? else {
            return Ok(held);
        };
        let new = &bytes[skip..];
        let end = held + new.len() as u64;
        let mut f = OpenOptions::new().create(true).append(true).open(self.partial_path(sha256)).map_err(io("cannot open a partial upload"))?;
        if let Err(e) = f.write_all(new) {
            self.running().remove(sha256);
            return Err(io("cannot write a partial upload")(e));
        }
        let mut running = self.running();
        match running.get_mut(sha256) {
            Some((len, h)) if *len == held => {
                h.update(new);
                *len = end;
            }
            // Bytes this process did not see (written before a restart): read back at the end.
            _ if held > 0 => {
                running.remove(sha256);
            }
            _ => {
                let mut h = Sha256::new();
                h.update(new);
                running.insert(sha256.to_owned(), (end, h));
            }
        }
        Ok(end)
    }

    /// Drops held bytes from `offset` on.
    pub fn truncate(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        Self::check(sha256)?;
        let _one = self.lock(sha256);
        self.running().remove(sha256);
        match OpenOptions::new().write(true).open(self.partial_path(sha256)) {
            Ok(f) => {
                if f.metadata().map_err(io("cannot read a partial upload"))?.len() > offset {
                    f.set_len(offset).map_err(io("cannot cut a partial upload"))?;
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("cannot open a partial upload")(e)),
        }
    }

    /// Checks the held bytes against their name; keeps them (durably) or drops them.
    pub fn finish(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        Self::check(sha256)?;
        let _one = self.lock(sha256);
        let partial = self.partial_path(sha256);
        let target = self.final_path(sha256);
        if target.is_file() {
            let _ = std::fs::remove_file(&partial);
            return Ok(PutOutcome::Replayed);
        }
        let mut f = OpenOptions::new().read(true).write(true).open(&partial).map_err(io("cannot open a partial upload"))?;
        let len = f.metadata().map_err(io("cannot read a partial upload"))?.len();
        let digest = match self.running().remove(sha256) {
            Some((seen, h)) if seen == len => h.finalize(),
            _ => {
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = f.read(&mut buf).map_err(io("cannot read a partial upload"))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                }
                hasher.finalize()
            }
        };
        if hex::encode(digest) != sha256 {
            drop(f);
            std::fs::remove_file(&partial).map_err(io("cannot drop a partial upload"))?;
            return Err(StoreError::HashMismatch { sha256: sha256.to_owned() });
        }
        f.sync_all().map_err(io("cannot sync an attachment"))?;
        drop(f);
        let parent = target.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(io("cannot create a blob directory"))?;
        std::fs::rename(&partial, &target).map_err(io("cannot move an attachment into place"))?;
        // The new name must survive a power cut as surely as the bytes. (The
        // old name may come back in partial/: finishing it again finds the
        // blob in place and drops it.)
        if let Ok(d) = File::open(parent) {
            d.sync_all().map_err(io("cannot sync the blob directory"))?;
        }
        Ok(PutOutcome::Stored)
    }

    /// The bytes of a complete blob.
    pub fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Self::check(sha256)?;
        match std::fs::read(self.final_path(sha256)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("cannot read an attachment")(e)),
        }
    }
}
