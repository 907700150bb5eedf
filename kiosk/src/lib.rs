//! The Cunban kiosk: wires the UI, the devices and the offline cache around
//! one visit state machine ([`session`]).

pub mod app;
pub mod assisted;
pub mod assisted_app;
pub mod assisted_ui;
pub mod capture;
pub mod codes;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod devices;
pub mod diagnostics;
pub mod enroll_screen;
pub mod idle;
pub mod keyboard_glue;
pub mod log_ring;
pub mod materials;
pub mod place_glue;
pub mod ports;
#[cfg(feature = "samples")]
pub mod samples;
#[cfg(feature = "samples")]
pub mod screenshots;
pub mod session;
pub mod ui_glue;
pub mod visit;
pub mod visit_lock;
pub mod voice;
pub mod voicepack;
pub mod watchdog;
