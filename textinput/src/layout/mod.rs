//! Keyboard layouts: which keys a keyboard shows and what text a sequence of
//! key presses makes. Pure data and rules, table-tested (keys in, Unicode
//! out); the ui crate draws [`Layout::rows`] and feeds presses to a
//! [`Typist`].

mod kazakh;
mod keys;
mod latin;
mod tibetan;

pub use keys::{Action, Key, Kind};

/// A keyboard: rows of keys, top row first, each row in reading order
/// (right to left for Kazakh: the UI mirrors it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Which keyboard this is.
    pub kind: Kind,
    /// Rows of character keys; the UI adds the big delete, space and done.
    pub rows: Vec<Vec<Key>>,
}

/// The layout of `kind`.
pub fn layout(kind: Kind) -> Layout {
    let rows = match kind {
        Kind::Pinyin => latin::letters(),
        Kind::English => latin::with_shift(latin::letters()),
        Kind::Digits => latin::digits(),
        Kind::Tibetan => tibetan::rows(),
        Kind::Kazakh => kazakh::rows(),
    };
    Layout { kind, rows }
}

/// The text a keyboard is editing and the keyboard's one-shot modes. Plain
/// layouts only: pinyin keys go to the pinyin engine instead.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Typist {
    text: String,
    stack: bool,
    shift: bool,
}

impl Typist {
    /// Starts editing `text` (the field's current value).
    pub fn new(text: &str) -> Typist {
        Typist { text: text.to_owned(), ..Typist::default() }
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the next Tibetan consonant will be stacked.
    pub fn stacking(&self) -> bool {
        self.stack
    }

    /// Whether the next Latin letter will be upper case.
    pub fn shifted(&self) -> bool {
        self.shift
    }

    /// Applies one key press. Returns `true` when the keyboard should close.
    pub fn press(&mut self, action: Action) -> bool {
        match action {
            Action::Insert(s) => {
                let stack = std::mem::take(&mut self.stack);
                let shift = std::mem::take(&mut self.shift);
                match (stack, tibetan::subjoined(s)) {
                    (true, Some(sub)) => self.text.push(sub),
                    _ if shift => self.text.extend(s.chars().flat_map(char::to_uppercase)),
                    _ => self.text.push_str(s),
                }
            }
            Action::Stack => self.stack = !self.stack,
            Action::Shift => self.shift = !self.shift,
            Action::Space => self.text.push(' '),
            Action::Backspace => {
                self.stack = false;
                self.text.pop();
            }
            Action::Done => return true,
        }
        false
    }

    /// Inserts text that did not come from a key (a pinyin or handwriting
    /// candidate).
    pub fn insert(&mut self, text: &str) {
        self.stack = false;
        self.shift = false;
        self.text.push_str(text);
    }

    /// Takes the text out, leaving the typist empty.
    pub fn take(&mut self) -> String {
        self.stack = false;
        self.shift = false;
        std::mem::take(&mut self.text)
    }
}

impl Drop for Typist {
    fn drop(&mut self) {
        // What was typed leaves memory with the keyboard.
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}
