//! Attachment bytes in an S3-compatible bucket through the `object_store`
//! crate, laid out as the blob folder is: `ab/<sha256>` when complete,
//! `partial/<sha256>/<offset>` chunks while an upload is under way,
//! `updates/<sha256>.tar` for published update bundles.
//!
//! Why chunk objects and not one S3 multipart upload per attachment: S3
//! parts must be at least 5 MiB (all but the last), and the hub writes
//! what arrived whenever a connection breaks, at any offset. A chunk object
//! is durable and visible to every instance the moment its PUT returns, so
//! an upload begun on one instance resumes on another (the held length is
//! the contiguous run of chunks from 0), and no upload state lives in
//! either database schema. Completion streams the chunks through a
//! multipart upload to the final name while hashing them, and completes it
//! only if the SHA-256 matches: the final name never shows wrong bytes.
//! Races between instances are harmless: everything is content addressed,
//! so two writers of the same range write the same bytes.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use model::protocol::PutOutcome;

use super::range::bytes_to_write;
use crate::store::StoreError;

/// Below this an attachment is written with one PUT; above, in 8 MiB parts.
const PART: usize = 8 << 20;

/// Largest attachment the hub gathers in memory and stores with one PUT
/// ([`S3Objects::put_whole`]) when it arrives whole: the memory an upload
/// holds while streamed anyway (a 4 MiB chunk gathering while the one
/// before is written).
pub const WHOLE_LIMIT: u64 = PART as u64;

/// Where the bucket is: `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&credentials_file=PATH`.
/// Credentials come from that file (`access_key_id = …`, `secret_access_key = …`)
/// or the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; never from the URL,
/// which shows in process lists and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub credentials_file: Option<std::path::PathBuf>,
}

pub fn is_s3_url(s: &str) -> bool {
    s.starts_with("s3://")
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::Blob(msg.into())
}

impl S3Location {
    pub fn parse(s: &str) -> Result<S3Location, StoreError> {
        let url = url::Url::parse(s).map_err(|e| bad(format!("not an s3:// URL: {e}")))?;
        if url.scheme() != "s3" {
            return Err(bad("the object store URL must start with s3://"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("give S3 credentials in a file (credentials_file=) or the environment, not in the URL"));
        }
        let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| bad("the s3:// URL names no bucket"))?.to_owned();
        let prefix = url.path().trim_matches('/').to_owned();
        let mut loc = S3Location { bucket, prefix, endpoint: None, region: None, credentials_file: None };
        for (k, v) in url.query_pairs() {
            match &*k {
                "endpoint" => loc.endpoint = Some(v.into_owned()),
                "region" => loc.region = Some(v.into_owned()),
                "credentials_file" => loc.credentials_file = Some(v.into_owned().into()),
                k if k.contains("secret") || k.contains("key") || k.contains("token") => {
                    return Err(bad("give S3 credentials in a file (credentials_file=) or the environment, not in the URL"));
                }
                other => return Err(bad(format!("unknown s3:// URL parameter {other:?} (endpoint, region, credentials_file)"))),
            }
        }
        Ok(loc)
    }
}

/// Shown in errors and logs: no credentials.
impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)?;
        if let Some(e) = &self.endpoint {
            write!(f, " at {e}")?;
        }
        Ok(())
    }
}

/// `access_key_id = …` and `secret_access_key = …` lines (`#` comments).
fn read_credentials(path: &std::path::Path) -> Result<(String, String), StoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read the S3 credentials file {}: {}", path.display(), e.kind())))?;
    let (mut id, mut secret) = (None, None);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some((k, v)) = line.split_once('=') else {
            return Err(bad(format!("the S3 credentials file {} has a line without '='", path.display())));
        };
        match k.trim() {
            "access_key_id" => id = Some(v.trim().to_owned()),
            "secret_access_key" => secret = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    match (id, secret) {
        (Some(i), Some(s)) if !i.is_empty() && !s.is_empty() => Ok((i, s)),
        _ => Err(bad(format!("the S3 credentials file {} needs access_key_id and secret_access_key", path.display()))),
    }
}

pub struct S3Objects {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    shown: String,
    /// The client's own runtime, so the sync store methods work from any
    /// thread (tokio's blocking pool, the CLI, tests). Taken only by `drop`.
    rt: Option<Runtime>,
}

impl std::fmt::Debug for S3Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

fn not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

impl S3Objects {
    pub fn open(loc: &S3Location) -> Result<S3Objects, StoreError> {
        // reqwest's rustls here has no provider of its own (see Cargo.toml).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&loc.bucket).with_retry(RetryConfig {
            // A bucket that does not answer fails the request in seconds (the
            // terminal retries), not after the default three minutes.
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
            ..RetryConfig::default()
        });
        if let Some(e) = &loc.endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(r) = &loc.region {
            b = b.with_region(r);
        }
        if let Some(path) = &loc.credentials_file {
            let (id, secret) = read_credentials(path)?;
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = b.build().map_err(|e| bad(format!("cannot use the bucket {loc}: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hub-objects")
            .enable_all()
            .build()
            .map_err(|e| bad(format!("cannot start the object store runtime: {e}")))?;
        Ok(S3Objects { store: Arc::new(store), prefix: loc.prefix.clone(), shown: loc.to_string(), rt: Some(rt) })
    }

    fn path(&self, rel: &str) -> ObjPath {
        if self.prefix.is_empty() {
            ObjPath::from(rel)
        } else {
            ObjPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn final_path(&self, sha256: &str) -> ObjPath {
        self.path(&format!("{}/{sha256}", &sha256[..2]))
    }

    fn chunk_dir(&self, sha256: &str) -> ObjPath {
        self.path(&format!("partial/{sha256}"))
    }

    fn chunk_path(&self, sha256: &str, offset: u64) -> ObjPath {
        self.path(&format!("partial/{sha256}/{offset:020}"))
    }

    /// Runs `fut` on the client's runtime and waits for it from any thread,
    /// by a plain channel: the PostgreSQL store calls this from inside its
    /// own `block_on`, where another executor may not be entered.
    fn wait<T: Send + 'static>(&self, fut: impl Future<Output = Result<T, StoreError>> + Send + 'static) -> Result<T, StoreError> {
        let Some(rt) = &self.rt else { return Err(StoreError::Busy) };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| bad("an object store task failed"))?
    }

    fn err(&self, what: &'static str) -> impl Fn(object_store::Error) -> StoreError + Send + 'static {
        let shown = self.shown.clone();
        move |e| bad(format!("{what} ({shown}): {e}"))
    }

    /// Chunks of an unfinished upload: (offset, length, name), by offset.
    fn chunks(&self, sha256: &str) -> Result<Vec<(u64, u64, ObjPath, SystemTime)>, StoreError> {
        let (store, dir, err) = (self.store.clone(), self.chunk_dir(sha256), self.err("cannot list a partial upload"));
        let listed = self.wait(async move { store.list_with_delimiter(Some(&dir)).await.map_err(err) })?;
        let mut out: Vec<_> = listed
            .objects
            .into_iter()
            .filter_map(|m| {
                let offset = m.location.filename()?.parse::<u64>().ok()?;
                Some((offset, m.size, m.location, SystemTime::from(m.last_modified)))
            })
            .collect();
        out.sort_by_key(|c| c.0);
        Ok(out)
    }

    /// The contiguous bytes from 0 the chunks hold.
    fn held(chunks: &[(u64, u64, ObjPath, SystemTime)]) -> u64 {
        let mut held = 0;
        for (offset, len, _, _) in chunks {
            if *offset > held {
                break;
            }
            held = held.max(offset + len);
        }
        held
    }

    pub fn exists(&self, sha256: &str) -> Result<bool, StoreError> {
        self.exists_path(self.final_path(sha256))
    }

    fn exists_path(&self, path: ObjPath) -> Result<bool, StoreError> {
        let (store, err) = (self.store.clone(), self.err("cannot look up an object"));
        self.wait(async move {
            match store.head(&path).await {
                Ok(_) => Ok(true),
                Err(e) if not_found(&e) => Ok(false),
                Err(e) => Err(err(e)),
            }
        })
    }

    pub fn partial_len(&self, sha256: &str) -> Result<u64, StoreError> {
        Ok(Self::held(&self.chunks(sha256)?))
    }

    pub fn partials(&self) -> Result<Vec<String>, StoreError> {
        let (store, dir, err) = (self.store.clone(), self.path("partial"), self.err("cannot list partial uploads"));
        let listed = self.wait(async move { store.list_with_delimiter(Some(&dir)).await.map_err(err) })?;
        Ok(listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_owned)).collect())
    }

    fn delete_all(&self, paths: Vec<ObjPath>) -> Result<(), StoreError> {
        let (store, err) = (self.store.clone(), self.err("cannot delete an object"));
        self.wait(async move {
            for p in paths {
                match store.delete(&p).await {
                    Ok(()) => {}
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(err(e)),
                }
            }
            Ok(())
        })
    }

    pub fn drop_stale_partial(&self, sha256: &str, before: SystemTime) -> Result<bool, StoreError> {
        let chunks = self.chunks(sha256)?;
        if chunks.is_empty() || chunks.iter().any(|c| c.3 >= before) {
            return Ok(false);
        }
        self.delete_all(chunks.into_iter().map(|c| c.2).collect())?;
        Ok(true)
    }

    pub fn remove(&self, sha256: &str) -> Result<(), StoreError> {
        let mut paths: Vec<_> = self.chunks(sha256)?.into_iter().map(|c| c.2).collect();
        paths.push(self.final_path(sha256));
        self.delete_all(paths)
    }

    pub fn append(&self, sha256: &str, offset: u64, bytes: &[u8], size: u64) -> Result<u64, StoreError> {
        let held = self.partial_len(sha256)?;
        let Some(skip) = bytes_to_write(sha256, offset, bytes.len(), size, held)? else {
            return Ok(held);
        };
        let end = held + (bytes.len() - skip) as u64;
        let payload = PutPayload::from(bytes[skip..].to_vec());
        let (store, path, err) = (self.store.clone(), self.chunk_path(sha256, held), self.err("cannot write a partial upload"));
        self.wait(async move { store.put(&path, payload).await.map(drop).map_err(err) })?;
        Ok(end)
    }

    pub fn truncate(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        let (store, err) = (self.store.clone(), self.err("cannot cut a partial upload"));
        let chunks = self.chunks(sha256)?;
        self.wait(async move {
            for (start, len, path, _) in chunks {
                if start >= offset {
                    match store.delete(&path).await {
                        Err(e) if !not_found(&e) => return Err(err(e)),
                        _ => {}
                    }
                } else if start + len > offset {
                    let kept = store.get_range(&path, 0..offset - start).await.map_err(&err)?;
                    store.put(&path, PutPayload::from(kept)).await.map_err(&err)?;
                }
            }
            Ok(())
        })
    }

    /// Streams the held chunks into the final name, hashing them; the
    /// final name appears only if they hash to `sha256`. The chunks go either way.
    pub fn finish(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        let chunks = self.chunks(sha256)?;
        let chunk_paths: Vec<ObjPath> = chunks.iter().map(|c| c.2.clone()).collect();
        if self.exists(sha256)? {
            self.delete_all(chunk_paths)?;
            return Ok(PutOutcome::Replayed);
        }
        let held = Self::held(&chunks);
        let (store, target, want) = (self.store.clone(), self.final_path(sha256), sha256.to_owned());
        let err = self.err("cannot complete an attachment");
        let stored = self.wait(async move {
            let mut hasher = Sha256::new();
            let mut small = Vec::new();
            let mut big: Option<WriteMultipart> = None;
            let mut pos = 0u64;
            for (start, len, path, _) in chunks {
                if start > pos {
                    break; // a gap: what follows is not held
                }
                if start + len <= pos {
                    continue; // covered already (two instances wrote the same range)
                }
                let bytes = store.get(&path).await.map_err(&err)?.bytes().await.map_err(&err)?;
                let new = bytes.slice(usize::try_from(pos - start).unwrap_or(usize::MAX).min(bytes.len())..);
                hasher.update(&new);
                pos += new.len() as u64;
                match &mut big {
                    Some(w) => w.put(new),
                    None if small.len() + new.len() <= PART => small.extend_from_slice(&new),
                    None => {
                        let mut w = WriteMultipart::new_with_chunk_size(store.put_multipart(&target).await.map_err(&err)?, PART);
                        w.write(&small);
                        small = Vec::new();
                        w.put(new);
                        big = Some(w);
                    }
                }
                if let Some(w) = &mut big {
                    w.wait_for_capacity(2).await.map_err(&err)?;
                }
            }
            debug_assert_eq!(pos, held);
            if hex::encode(hasher.finalize()) != want {
                if let Some(w) = big {
                    let _ = w.abort().await;
                }
                return Ok(false);
            }
            match big {
                Some(w) => w.finish().await.map_err(&err)?,
                None => store.put(&target, PutPayload::from(small)).await.map_err(&err)?,
            };
            Ok(true)
        })?;
        self.delete_all(chunk_paths)?;
        if stored {
            Ok(PutOutcome::Stored)
        } else {
            Err(StoreError::HashMismatch { sha256: sha256.to_owned() })
        }
    }

    /// An attachment that arrived whole in one request: hashed here, then
    /// one PUT to its final name, so the name never shows other bytes and
    /// the bucket takes the bytes once (through chunks it would take them
    /// twice and give them back once). Nothing is written when the hash
    /// differs. A PUT is atomic: the object is all there or not at all.
    pub fn put_whole(&self, sha256: &str, bytes: Vec<u8>) -> Result<PutOutcome, StoreError> {
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(StoreError::HashMismatch { sha256: sha256.to_owned() });
        }
        let (store, path, err) = (self.store.clone(), self.final_path(sha256), self.err("cannot store an attachment"));
        let payload = PutPayload::from(bytes);
        self.wait(async move { store.put(&path, payload).await.map(drop).map_err(err) })?;
        Ok(PutOutcome::Stored)
    }

    pub fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_path(self.final_path(sha256))
    }

    fn read_path(&self, path: ObjPath) -> Result<Option<Vec<u8>>, StoreError> {
        let (store, err) = (self.store.clone(), self.err("cannot read an object"));
        self.wait(async move {
            match store.get(&path).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(err)?.to_vec())),
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(err(e)),
            }
        })
    }

    fn bundle_path(&self, sha256: &str) -> ObjPath {
        self.path(&format!("updates/{sha256}.tar"))
    }

    /// An update bundle whose bytes were checked against `sha256` by the caller.
    pub fn keep_bundle(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let (store, path, err) = (self.store.clone(), self.bundle_path(sha256), self.err("cannot keep an update bundle"));
        let payload = PutPayload::from(bytes.to_vec());
        self.wait(async move { store.put(&path, payload).await.map(drop).map_err(err) })
    }

    /// `offset..end` of a bundle; None when it is not in the bucket.
    pub fn bundle_range(&self, sha256: &str, offset: u64, end: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let (store, path, err) = (self.store.clone(), self.bundle_path(sha256), self.err("cannot read an update bundle"));
        self.wait(async move {
            if offset == end {
                return match store.head(&path).await {
                    Ok(_) => Ok(Some(Vec::new())),
                    Err(e) if not_found(&e) => Ok(None),
                    Err(e) => Err(err(e)),
                };
            }
            match store.get_range(&path, offset..end).await {
                Ok(b) => Ok(Some(b.to_vec())),
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(err(e)),
            }
        })
    }
}

impl Drop for S3Objects {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_refuse_secrets() {
        let l = S3Location::parse("s3://cunban/hub-a?endpoint=http://127.0.0.1:3900&region=garage&credentials_file=/etc/cunban/s3").unwrap();
        assert_eq!(l.bucket, "cunban");
        assert_eq!(l.prefix, "hub-a");
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
        assert_eq!(l.to_string(), "s3://cunban/hub-a at http://127.0.0.1:3900");
        assert!(S3Location::parse("s3://k:s@cunban").is_err());
        assert!(S3Location::parse("s3://cunban?secret_access_key=x").is_err());
        assert!(S3Location::parse("s3://cunban?endpoint=x&colour=blue").is_err());
        assert!(S3Location::parse("file:///srv").is_err());
    }
}
