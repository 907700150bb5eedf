//! The offline-cache's integration tests, one binary (linking the hub and
//! the client once instead of seven times): the outbox as the kiosk uses
//! it, what protects it, its lifecycle, operators, and sync against the
//! real hub on loopback.

// Fixtures are shared; not every module uses every one.
#[allow(dead_code)]
mod common;

mod audit_anchor;
mod crash_torture;
mod diagnostics;
mod lifecycle;
mod operators;
mod outbox;
mod protection;
mod round;
mod sync;
mod update;
