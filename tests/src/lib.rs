//! End-to-end tests live in `tests/tests/` (one binary, `integration/`,
//! and `watchdog.rs` on its own). The library holds only what the
//! fault and benchmark binaries (`src/bin/`) share.

pub mod netns;
pub mod pg;
pub mod province;
pub mod s3_count;
pub mod sync_fixtures;
