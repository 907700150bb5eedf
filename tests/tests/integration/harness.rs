//! The window tests' harness is ui's (`ui::testing`, one for every crate);
//! this adds where this crate's snapshots go: `<target>/journey/<test>/`.

use std::path::PathBuf;

pub use ui::testing::*;

/// Numbered snapshots of one test's window under `<target>/journey/<name>/`.
pub fn shots(name: &str) -> Shots {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    Shots::in_dir(target.parent().map_or_else(|| target.clone(), PathBuf::from).join("journey").join(name))
}
