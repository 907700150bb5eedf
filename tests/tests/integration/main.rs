//! The end-to-end tests, one module a journey, linked into one test binary
//! (ripgrep's `tests/integration` layout): the kiosk, the hub and Slint are
//! linked once instead of seven times. One module's tests:
//! `cargo test -p tests --test integration van_kiosk::`. The watchdog test
//! stays a binary of its own (`tests/watchdog.rs`): it sets the process's
//! NOTIFY_SOCKET and runs Slint's process-wide event loop.

mod e_license_journey;
mod enroll;
mod harness;
mod hub_load;
mod journey;
mod layout;
mod progress_anywhere;
mod read_only_root;
mod rollout;
mod sync_bench;
mod sync_faults_province;
mod translations;
mod ui_browse_screens;
mod ui_bundle;
mod ui_catalog_live;
mod ui_diagnostics;
mod ui_journey;
mod ui_keyboard;
mod ui_place;
mod ui_search;
mod ui_text_fits;
mod van_kiosk;
mod van_offline;
