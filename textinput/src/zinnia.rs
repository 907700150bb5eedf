//! Handwriting through zinnia (Debian `libzinnia-dev`) and the Tegaki
//! Simplified Chinese model (`tegaki-zinnia-simplified-chinese`). A small
//! FFI of our own: the six calls we need, no binding crate exists for it.

use std::ffi::{c_char, c_float, c_int, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::engine::{Handwriting, Stroke};
use crate::error::Error;

/// Where Debian's `tegaki-zinnia-simplified-chinese` puts the model.
pub const DEBIAN_MODEL: &str = "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model";

#[repr(C)]
struct RawRecognizer {
    _private: [u8; 0],
}
#[repr(C)]
struct RawCharacter {
    _private: [u8; 0],
}
#[repr(C)]
struct RawResult {
    _private: [u8; 0],
}

#[link(name = "zinnia")]
extern "C" {
    fn zinnia_recognizer_new() -> *mut RawRecognizer;
    fn zinnia_recognizer_destroy(r: *mut RawRecognizer);
    fn zinnia_recognizer_open(r: *mut RawRecognizer, filename: *const c_char) -> c_int;
    fn zinnia_recognizer_strerror(r: *mut RawRecognizer) -> *const c_char;
    fn zinnia_recognizer_classify(r: *mut RawRecognizer, c: *const RawCharacter, nbest: usize) -> *mut RawResult;
    fn zinnia_character_new() -> *mut RawCharacter;
    fn zinnia_character_destroy(c: *mut RawCharacter);
    fn zinnia_character_set_width(c: *mut RawCharacter, width: usize);
    fn zinnia_character_set_height(c: *mut RawCharacter, height: usize);
    fn zinnia_character_add(c: *mut RawCharacter, id: usize, x: c_int, y: c_int) -> c_int;
    fn zinnia_result_value(r: *mut RawResult, i: usize) -> *const c_char;
    fn zinnia_result_score(r: *mut RawResult, i: usize) -> c_float;
    fn zinnia_result_size(r: *mut RawResult) -> usize;
    fn zinnia_result_destroy(r: *mut RawResult);
}

/// A loaded zinnia model. The model is memory-mapped once and shared by every
/// visit; it holds nothing about what was written.
pub struct Zinnia {
    raw: *mut RawRecognizer,
    path: PathBuf,
}

// SAFETY: a zinnia recognizer has no thread affinity; `classify` only reads
// the model, and `Zinnia` hands out no aliases of the pointer.
unsafe impl Send for Zinnia {}
// SAFETY: classify takes a const recognizer and allocates its own result.
unsafe impl Sync for Zinnia {}

impl Zinnia {
    /// Opens the model at `path` (usually [`DEBIAN_MODEL`]).
    pub fn open(path: &Path) -> Result<Self, Error> {
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::BadPath(path.to_owned()))?;
        // SAFETY: plain constructor; checked for NULL below.
        let raw = unsafe { zinnia_recognizer_new() };
        if raw.is_null() {
            return Err(Error::HandwritingModel { path: path.to_owned(), reason: "out of memory".into() });
        }
        let me = Zinnia { raw, path: path.to_owned() };
        // SAFETY: `raw` is a live recognizer, `c_path` a NUL-terminated string.
        if unsafe { zinnia_recognizer_open(me.raw, c_path.as_ptr()) } == 0 {
            // SAFETY: strerror returns a string owned by the recognizer, copied at once.
            let reason = unsafe { CStr::from_ptr(zinnia_recognizer_strerror(me.raw)) }.to_string_lossy().into_owned();
            return Err(Error::HandwritingModel { path: path.to_owned(), reason });
        }
        Ok(me)
    }

    /// The model file this recogniser loaded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Candidates with zinnia's scores (higher is better), best first.
    pub fn classify(&self, strokes: &[Stroke], width: u32, height: u32, n: usize) -> Vec<(String, f32)> {
        if strokes.iter().all(|s| s.is_empty()) || n == 0 {
            return Vec::new();
        }
        // SAFETY: constructor; checked for NULL.
        let ch = unsafe { zinnia_character_new() };
        if ch.is_null() {
            return Vec::new();
        }
        let mut out = Vec::new();
        // SAFETY: `ch` is live until destroyed at the end of this block;
        // `self.raw` is a live, opened recognizer; the result is read then destroyed.
        unsafe {
            zinnia_character_set_width(ch, width as usize);
            zinnia_character_set_height(ch, height as usize);
            for (id, stroke) in strokes.iter().filter(|s| !s.is_empty()).enumerate() {
                for p in stroke {
                    zinnia_character_add(ch, id, p.x.clamp(0, width as i32), p.y.clamp(0, height as i32));
                }
            }
            let result = zinnia_recognizer_classify(self.raw, ch, n);
            if !result.is_null() {
                for i in 0..zinnia_result_size(result) {
                    let value = zinnia_result_value(result, i);
                    if !value.is_null() {
                        out.push((CStr::from_ptr(value).to_string_lossy().into_owned(), zinnia_result_score(result, i)));
                    }
                }
                zinnia_result_destroy(result);
            }
            zinnia_character_destroy(ch);
        }
        out
    }
}

impl Handwriting for Zinnia {
    fn recognise(&self, strokes: &[Stroke], width: u32, height: u32, n: usize) -> Vec<String> {
        self.classify(strokes, width, height, n).into_iter().map(|(c, _)| c).collect()
    }
}

impl Drop for Zinnia {
    fn drop(&mut self) {
        // SAFETY: `raw` came from zinnia_recognizer_new and is destroyed once.
        unsafe { zinnia_recognizer_destroy(self.raw) }
    }
}
