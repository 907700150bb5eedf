//! Turns touches into text for the kiosk's on-screen keyboard: handwriting
//! ([`Zinnia`]), pinyin ([`RimePinyin`]), and the Tibetan, Kazakh, English
//! and digit layouts ([`layout`]). No UI here: the ui crate draws keys and
//! the pad, and calls the [`Handwriting`] and [`Pinyin`] traits.

pub mod check;
mod engine;
mod error;
pub mod layout;
mod rime;
mod zinnia;

pub use engine::{Composition, Handwriting, Pinyin, Point, Stroke};
pub use error::Error;
pub use rime::{RimePinyin, RimeShared, DEBIAN_RIME_DATA};
pub use zinnia::{Zinnia, DEBIAN_MODEL};
