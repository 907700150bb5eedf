//! Throwaway servers on loopback for tests and benchmarks: PostgreSQL
//! ([`pg`], Debian's `postgresql`), nginx in front of N upstreams
//! ([`nginx`], Debian's `nginx-light`) and Garage, an S3-compatible store
//! with one key and one bucket ([`garage`], installed by `./dev test`).
//!
//! Each server runs in its own directory on ports from [`ports`], and is
//! stopped when its handle is dropped, also while a test panics. A missing
//! tool is an [`Error`] naming what to install: a test that needs a server
//! fails without it, never passes silently.

mod error;
pub mod garage;
pub mod nginx;
pub mod pg;
pub mod ports;
mod process;

pub use error::{Error, Result};
