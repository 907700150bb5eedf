//! End-to-end tests live in `tests/tests/`. The library holds only what the
//! fault and benchmark binaries (`src/bin/`) share.

#[path = "src/sync_fixtures.rs"]
pub mod sync_fixtures;

#[path = "src/netns.rs"]
pub mod netns;
