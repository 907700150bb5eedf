//! Signed update bundles (issue 19): the format and its check, shared by
//! the hub (which refuses to publish a bundle that would not install) and
//! the terminal's updater (`deploy::update`), so both judge a bundle by
//! the same code.
//!
//! A bundle is a tar file: `manifest.json` (package, version, and the
//! SHA-256 and size of every payload file), `manifest.sig` (base64 Ed25519
//! over the manifest's bytes, by the update key) and the payload files.
//! The check reads from any `Read` (no files opened here): pass 1 finds the
//! manifest and its signature and refuses the bundle before any payload is
//! looked at; pass 2 (a second reader over the same bytes) hashes every
//! payload file against the signed manifest while the caller's sink keeps
//! (or discards) the bytes.

use std::io::{Read, Write};
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::auth::PublicKey;

/// The signed manifest's name in the tar.
pub const MANIFEST: &str = "manifest.json";
/// The manifest signature's name in the tar.
pub const SIGNATURE: &str = "manifest.sig";
/// The only package a bundle may name: a bundle signed for another package
/// (same key, another product) is not installed here.
pub const PACKAGE: &str = "cunban-kiosk";
/// Largest manifest (or signature) read before the signature is checked.
pub const MAX_MANIFEST: u64 = 64 * 1024;

/// Why a bundle is refused.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error("cannot read the bundle: {0}")]
    /// The reader failed.
    Read(std::io::Error),
    #[error("not an update bundle: {0}")]
    /// Not a tar with a well-formed manifest and signature.
    NotABundle(String),
    #[error("the bundle's signature does not verify with the update key: refused, nothing installed")]
    /// The manifest is not signed by the update key.
    BadSignature,
    #[error("the bundle is for package {0:?}, not {PACKAGE}: refused, nothing installed")]
    /// Signed for another package.
    WrongPackage(String),
    #[error("payload {path} does not match the signed manifest ({why}): refused, nothing installed")]
    /// A payload file is not what the manifest says.
    #[allow(missing_docs)]
    PayloadMismatch { path: String, why: String },
    #[error("cannot keep payload {path}: {source}")]
    /// The caller's sink failed.
    #[allow(missing_docs)]
    Sink { path: String, source: std::io::Error },
}

/// One payload file as the manifest signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// A plain file name ([`safe_name`]).
    pub path: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// What the update key signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// 1.
    pub format: u32,
    /// [`PACKAGE`].
    pub package: String,
    /// [`valid_version`].
    pub version: String,
    /// Every payload file.
    pub files: Vec<FileEntry>,
}

/// A payload name: one plain file name, nothing that climbs out.
pub fn safe_name(name: &str) -> bool {
    let p = Path::new(name);
    !name.is_empty() && p.components().count() == 1 && matches!(p.components().next(), Some(Component::Normal(_)))
}

/// A version names a directory under the updater's `versions/`: 1..64 of
/// letters, digits and `.-+~`, starting with a letter or digit, so `.`,
/// `..` and anything with a path separator are refused.
pub fn valid_version(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b".-+~".contains(&b))
        && matches!(Path::new(v).components().next(), Some(Component::Normal(_)))
        && Path::new(v).components().count() == 1
}

/// Orders versions part by part, numbers as numbers (0.10 after 0.9).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| s.split(['.', '-', '+', '~']).map(str::to_owned).collect::<Vec<_>>();
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// Writes a signed bundle of `files` (name, bytes) to `out` (release
/// side: `kioskctl update sign`; tests). Manifest and signature come
/// first, then the payload in the given order.
pub fn write_bundle(out: impl Write, key: &crate::auth::SigningKey, package: &str, version: &str, files: &[(&str, &[u8])]) -> Result<Manifest, BundleError> {
    if !valid_version(version) {
        return Err(BundleError::NotABundle(format!("version {version:?} must be 1..64 of letters, digits and .-+~")));
    }
    if let Some((bad, _)) = files.iter().find(|(n, _)| !safe_name(n)) {
        return Err(BundleError::NotABundle(format!("{bad:?} is not a plain file name")));
    }
    let entries = files.iter().map(|(n, b)| FileEntry { path: (*n).to_owned(), sha256: hex::encode(Sha256::digest(b)), size: b.len() as u64 }).collect();
    let manifest = Manifest { format: 1, package: package.to_owned(), version: version.to_owned(), files: entries };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(not_a_bundle)?;
    let sig = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key.sign(&bytes));
    let mut tar = tar::Builder::new(out);
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, data).map_err(|source| BundleError::Sink { path: name.to_owned(), source })
    };
    add(MANIFEST, &bytes)?;
    add(SIGNATURE, sig.as_bytes())?;
    for (name, data) in files {
        add(name, data)?;
    }
    let mut out = tar.into_inner().map_err(|source| BundleError::Sink { path: "bundle".into(), source })?;
    out.flush().map_err(|source| BundleError::Sink { path: "bundle".into(), source })?;
    Ok(manifest)
}

fn not_a_bundle(e: impl std::fmt::Display) -> BundleError {
    BundleError::NotABundle(e.to_string())
}

/// Pass 1: the manifest, only if its signature verifies with `key` and it
/// names [`PACKAGE`], format 1, a [`valid_version`] and safe file names.
pub fn read_signed_manifest(bundle: impl Read, key: &PublicKey) -> Result<Manifest, BundleError> {
    let (mut manifest_bytes, mut sig) = (None, None);
    let mut tar = tar::Archive::new(bundle);
    for entry in tar.entries().map_err(not_a_bundle)? {
        let entry = entry.map_err(not_a_bundle)?;
        let name = entry.path().map_err(not_a_bundle)?.to_string_lossy().into_owned();
        if name == MANIFEST || name == SIGNATURE {
            let mut buf = Vec::new();
            entry.take(MAX_MANIFEST).read_to_end(&mut buf).map_err(BundleError::Read)?;
            if name == MANIFEST {
                manifest_bytes = Some(buf)
            } else {
                sig = Some(buf)
            }
        }
    }
    let manifest_bytes = manifest_bytes.ok_or_else(|| BundleError::NotABundle(format!("no {MANIFEST}")))?;
    let sig = sig.ok_or_else(|| BundleError::NotABundle(format!("no {SIGNATURE}")))?;
    key.verify_b64(&manifest_bytes, &String::from_utf8_lossy(&sig)).map_err(|_| BundleError::BadSignature)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| BundleError::NotABundle(format!("manifest: {e}")))?;
    if manifest.package != PACKAGE {
        return Err(BundleError::WrongPackage(manifest.package));
    }
    if manifest.format != 1 || !valid_version(&manifest.version) || manifest.files.iter().any(|f| !safe_name(&f.path)) {
        return Err(BundleError::NotABundle("the manifest's format, version or file names are not acceptable".into()));
    }
    Ok(manifest)
}

/// Pass 2: every payload file must be listed in `manifest` and hash to its
/// size and SHA-256, and every listed file must be there. `sink` gets each
/// file's bytes as they are hashed (a file to unpack into, or
/// `std::io::sink()` to only check).
pub fn check_payloads(
    bundle: impl Read,
    manifest: &Manifest,
    mut sink: impl FnMut(&FileEntry) -> std::io::Result<Box<dyn Write>>,
) -> Result<(), BundleError> {
    let mut tar = tar::Archive::new(bundle);
    let mut seen = std::collections::BTreeSet::new();
    for entry in tar.entries().map_err(not_a_bundle)? {
        let entry = entry.map_err(not_a_bundle)?;
        let name = entry.path().map_err(not_a_bundle)?.to_string_lossy().into_owned();
        if name == MANIFEST || name == SIGNATURE {
            continue;
        }
        let Some(want) = manifest.files.iter().find(|f| f.path == name) else {
            return Err(BundleError::PayloadMismatch { path: name, why: "not listed in the manifest".into() });
        };
        if !seen.insert(name.clone()) {
            return Err(BundleError::PayloadMismatch { path: name, why: "in the bundle twice".into() });
        }
        let sink_err = |source| BundleError::Sink { path: want.path.clone(), source };
        let mut out = sink(want).map_err(sink_err)?;
        let mut h = Sha256::new();
        let mut n = 0u64;
        // One byte past the signed size is enough to tell it is too long.
        let mut reader = entry.take(want.size + 1);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = reader.read(&mut buf).map_err(BundleError::Read)?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            n += k as u64;
            out.write_all(&buf[..k]).map_err(sink_err)?;
        }
        out.flush().map_err(sink_err)?;
        if n != want.size || hex::encode(h.finalize()) != want.sha256 {
            return Err(BundleError::PayloadMismatch { path: name, why: format!("{n} bytes, or a different SHA-256") });
        }
    }
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.path)) {
        return Err(BundleError::PayloadMismatch { path: missing.path.clone(), why: "missing from the bundle".into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically_and_names_stay_inside() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("0.10.0", "0.9.3"), Greater);
        assert_eq!(compare_versions("1.2.0", "1.2.0"), Equal);
        assert_eq!(compare_versions("1.2", "1.2.1"), Less);
        assert!(safe_name("a.deb") && !safe_name("../a.deb") && !safe_name("/etc/passwd") && !safe_name("a/b"));
        assert!(valid_version("0.2.0") && valid_version("1.0~rc1+b2"));
        for bad in [".", "..", "a/b", "/x", ".hidden", "", "../0.3.0"] {
            assert!(!valid_version(bad), "{bad:?}");
        }
    }
}
