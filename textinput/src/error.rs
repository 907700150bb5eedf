//! The crate's one error type. Messages name files and engines, never what
//! was typed or written.

use std::path::PathBuf;

/// Why an engine could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The handwriting model is missing or unreadable.
    #[error("handwriting model {path} could not be loaded ({reason}); install tegaki-zinnia-simplified-chinese")]
    HandwritingModel {
        /// The model file tried.
        path: PathBuf,
        /// zinnia's own message.
        reason: String,
    },
    /// The pinyin data (librime schema and dictionary) is missing.
    #[error("pinyin data not found in {path}; install rime-data-luna-pinyin")]
    PinyinData {
        /// The shared data directory tried.
        path: PathBuf,
    },
    /// librime refused to start or to open a session.
    #[error("librime: {0}")]
    Rime(&'static str),
    /// Only one pinyin visit can be open at a time (librime is one per process).
    #[error("a pinyin session is already open")]
    Busy,
    /// A path that cannot be passed to C (it contains a NUL byte).
    #[error("path {0} cannot be passed to the engine")]
    BadPath(PathBuf),
    /// The per-visit scratch directory could not be made or removed.
    #[error("scratch directory: {0}")]
    Scratch(#[from] std::io::Error),
}
