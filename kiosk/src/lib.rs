//! The Cunban kiosk: wires the UI, the devices and the offline cache around
//! one visit state machine ([`session`]).

pub mod config;
pub mod session;
