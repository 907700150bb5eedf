//! kioskctl and the package as a technician meets them, one test binary:
//! audit, enroll, export, status and config, the package's files and
//! modes, what root tools refuse to trust, the ID card self-test, updates.

mod common;

mod audit;
mod enroll;
mod export;
mod follow;
mod kioskctl;
mod package;
mod root_trust;
mod selftest_idcard;
mod unit_hardening;
mod update;
mod voice;
