//! The parts of kioskctl other code (and tests) can use as a library.

pub mod follow;
pub mod safe_fs;
pub mod update;
pub mod voice;
