//! The small traits the UI and tests talk to, so either side can use a fake.

use crate::error::Error;

/// A point on the writing pad, in pad pixels, y pointing down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Pixels from the pad's left edge.
    pub x: i32,
    /// Pixels from the pad's top edge.
    pub y: i32,
}

/// One stroke: the points a finger passed through between touching the pad
/// and lifting.
pub type Stroke = Vec<Point>;

/// What a handwriting engine needs: the strokes of one character on a pad of
/// a given size, best guesses first.
pub trait Handwriting {
    /// Up to `n` candidate characters for `strokes` drawn on a `width` x
    /// `height` pad, best first. No strokes gives no candidates.
    fn recognise(&self, strokes: &[Stroke], width: u32, height: u32, n: usize) -> Vec<String>;
}

/// The state a pinyin engine shows: letters typed so far and one page of
/// candidates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composition {
    /// The letters as the engine segments them (e.g. `x m`), for the field's
    /// preview line.
    pub preedit: String,
    /// This page's candidates, best first.
    pub candidates: Vec<String>,
    /// Zero-based page number.
    pub page: usize,
    /// Whether a further page exists.
    pub has_next_page: bool,
}

/// A pinyin engine for one visit: keys in, a composition and committed text out.
pub trait Pinyin {
    /// Adds one lower-case letter (`a`..`z`) or an apostrophe (syllable break).
    fn push(&mut self, ch: char) -> Result<Composition, Error>;
    /// Removes the last letter.
    fn backspace(&mut self) -> Result<Composition, Error>;
    /// Picks candidate `index` on the current page; returns the text it
    /// commits (empty while more letters remain to be converted).
    fn pick(&mut self, index: usize) -> Result<String, Error>;
    /// Shows the next (`true`) or previous page of candidates.
    fn page(&mut self, forward: bool) -> Result<Composition, Error>;
    /// Drops the letters typed so far.
    fn clear(&mut self);
    /// The current composition.
    fn composition(&self) -> Composition;
}
