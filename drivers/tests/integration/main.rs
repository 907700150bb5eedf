//! The drivers' integration tests, one module a device, linked into one test
//! binary (ripgrep's `tests/integration` layout): one link instead of nine.
//! Run one device's tests with `cargo test -p drivers --test integration idcard_reader::`.

mod a4_cups;
mod docscan_sane;
mod fuzz_seeds;
mod idcard_reader;
mod idcard_supervisor;
mod pty_raw;
mod receipt_printer;
mod scanner_camera;
mod wlt_decoder;
