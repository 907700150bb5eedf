//! The card photo. Cards store it as 1024 bytes of WLT, a proprietary
//! wavelet format only licensed vendor libraries decode. We keep the raw
//! bytes everywhere and load a vendor decoder only when the terminal's
//! configuration names one.

use std::ffi::{c_char, c_int};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

/// Size of the WLT photo on every card type.
pub const WLT_LEN: usize = 1024;
/// The decoded photo: 102 × 126 pixels, 24-bit BMP with rows padded to 4
/// bytes (308 × 126) after the 54-byte header.
pub const BMP_LEN: usize = 54 + 308 * 126;

/// Why the card photo could not be decoded. Decoding is optional: the raw WLT
/// is kept either way.
#[derive(Debug, Error)]
pub enum PhotoError {
    /// The configured library path does not exist.
    #[error("the configured WLT decoder library {0} does not exist")]
    LibraryMissing(PathBuf),
    /// `dlopen` failed (wrong architecture, missing dependencies).
    #[error("cannot load the WLT decoder library {path}: {source}")]
    Load {
        /// The library.
        path: PathBuf,
        /// The loader's error.
        #[source]
        source: libloading::Error,
    },
    /// The library lacks the configured function.
    #[error("the WLT decoder library {path} has no `{symbol}` function: {source}")]
    Symbol {
        /// The library.
        path: PathBuf,
        /// The function's name.
        symbol: String,
        /// The loader's error.
        #[source]
        source: libloading::Error,
    },
    /// The photo does not have [`WLT_LEN`] bytes.
    #[error("a WLT photo is {WLT_LEN} bytes, this one has {0}")]
    WltLength(usize),
    /// The vendor function returned this failure code.
    #[error("the vendor decoder refused the photo (returned {0})")]
    Decode(i32),
    /// The vendor function's output does not start like a BMP file.
    #[error("the vendor decoder's output is not a BMP")]
    NotBmp,
}

/// Turns a WLT photo into a BMP image.
pub trait PhotoDecoder: Send {
    /// Decodes a [`WLT_LEN`]-byte photo into a [`BMP_LEN`]-byte BMP file;
    /// errors if the input has the wrong size or the decoder refuses it.
    fn decode_wlt(&self, wlt: &[u8]) -> Result<Vec<u8>, PhotoError>;
}

/// `[devices.id_card.photo_decoder]` in the terminal configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PhotoDecoderConfig {
    /// Path of the vendor's shared library (e.g. `/opt/vendor/libwlt.so`).
    /// Unset: no decoder, photos stay WLT.
    pub library: Option<PathBuf>,
    /// Its entry point; vendors' Linux libraries call it `unpack`.
    #[serde(default = "default_symbol")]
    pub symbol: String,
}

fn default_symbol() -> String {
    "unpack".into()
}

/// Loads the configured decoder, `Ok(None)` when none is configured.
pub fn load_decoder(config: &PhotoDecoderConfig) -> Result<Option<VendorWltDecoder>, PhotoError> {
    match &config.library {
        None => Ok(None),
        Some(path) => VendorWltDecoder::load(path, &config.symbol).map(Some),
    }
}

/// `int unpack(char *wlt, char *bmp, int with_header)`: returns 1 and fills
/// [`BMP_LEN`] bytes on success (the vendors' Linux ABI).
type UnpackFn = unsafe extern "C" fn(*const c_char, *mut c_char, c_int) -> c_int;

/// A vendor WLT library loaded with `dlopen`.
pub struct VendorWltDecoder {
    path: PathBuf,
    unpack: UnpackFn,
    // Keeps the library mapped while `unpack` may be called.
    _lib: libloading::Library,
}

impl VendorWltDecoder {
    /// Loads the library at `path` and looks up its `symbol` function (the
    /// vendors' `unpack` ABI); errors if either is missing.
    pub fn load(path: &Path, symbol: &str) -> Result<VendorWltDecoder, PhotoError> {
        // dlopen of a missing path gives a vague message; say it plainly.
        if !path.exists() {
            return Err(PhotoError::LibraryMissing(path.to_owned()));
        }
        // SAFETY: loading runs the library's initialisers. The path is the
        // technician's configured vendor decoder, trusted like the kiosk
        // binary itself.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|source| PhotoError::Load { path: path.to_owned(), source })?;
        // SAFETY: the symbol is declared with the vendors' documented
        // signature; a library exporting it with another one is a
        // misconfiguration we cannot detect.
        let unpack = unsafe { lib.get::<UnpackFn>(symbol.as_bytes()) }
            .map(|f| *f)
            .map_err(|source| PhotoError::Symbol { path: path.to_owned(), symbol: symbol.to_owned(), source })?;
        Ok(VendorWltDecoder { path: path.to_owned(), unpack, _lib: lib })
    }

    /// The loaded library's path, for logs.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl PhotoDecoder for VendorWltDecoder {
    fn decode_wlt(&self, wlt: &[u8]) -> Result<Vec<u8>, PhotoError> {
        if wlt.len() != WLT_LEN {
            return Err(PhotoError::WltLength(wlt.len()));
        }
        let mut bmp = vec![0u8; BMP_LEN];
        // SAFETY: `wlt` holds the 1024 bytes the function reads and `bmp`
        // the BMP_LEN bytes it writes; `_lib` keeps the code mapped.
        let rc = unsafe { (self.unpack)(wlt.as_ptr().cast(), bmp.as_mut_ptr().cast(), 1) };
        if rc != 1 {
            return Err(PhotoError::Decode(rc));
        }
        if !bmp.starts_with(b"BM") {
            return Err(PhotoError::NotBmp);
        }
        Ok(bmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_library_configured_means_no_decoder() {
        assert!(load_decoder(&PhotoDecoderConfig::default()).unwrap().is_none());
    }

    #[test]
    fn a_missing_library_is_a_clear_error() {
        let config = PhotoDecoderConfig { library: Some("/opt/no-such-vendor/libwlt.so".into()), symbol: "unpack".into() };
        let err = load_decoder(&config).err().expect("missing library");
        assert!(matches!(err, PhotoError::LibraryMissing(_)), "{err:?}");
        assert!(err.to_string().contains("/opt/no-such-vendor/libwlt.so"), "{err}");
    }

    #[test]
    fn a_file_that_is_no_library_fails_to_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libwlt.so");
        std::fs::write(&path, b"not an ELF file").unwrap();
        let err = VendorWltDecoder::load(&path, "unpack").err().expect("not a library");
        assert!(matches!(err, PhotoError::Load { .. }), "{err:?}");
    }

    #[test]
    fn a_library_without_the_entry_point_is_refused() {
        // libc is always there and exports no `unpack`.
        let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib/libc.so.6"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists());
        let Some(libc) = libc else {
            eprintln!("skipped: no libc.so.6 at a known path");
            return;
        };
        let err = VendorWltDecoder::load(libc, "unpack").err().expect("libc has no unpack");
        assert!(matches!(err, PhotoError::Symbol { .. }), "{err:?}");
    }
}
