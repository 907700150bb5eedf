//! The vocabulary of keyboards: which keyboard, what a key shows and does.

/// Which keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Letters for pinyin (the candidates come from the pinyin engine).
    Pinyin,
    /// Unicode Tibetan, stacks built with the stack key.
    Tibetan,
    /// Kazakh in Arabic script, right to left.
    Kazakh,
    /// English letters.
    English,
    /// Digits (and X, the ID number's check character).
    Digits,
}

impl Kind {
    /// Every keyboard, for screenshots and tests.
    pub const ALL: [Kind; 5] = [Kind::Pinyin, Kind::Tibetan, Kind::Kazakh, Kind::English, Kind::Digits];

    /// Whether the text runs right to left (the keyboard is mirrored).
    pub fn is_right_to_left(self) -> bool {
        self == Kind::Kazakh
    }
}

/// What pressing a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Inserts this text (or, in stack mode, a Tibetan letter's subjoined form).
    Insert(&'static str),
    /// Tibetan: the next consonant is written below the previous one.
    Stack,
    /// Latin: the next letter is upper case.
    Shift,
    /// A space.
    Space,
    /// Deletes the last character (or the last letter of a pinyin composition).
    Backspace,
    /// Closes the keyboard, keeping the text.
    Done,
}

/// One key: what it shows and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The label on the key (the text it inserts, for letter keys).
    pub label: &'static str,
    /// What pressing it does.
    pub action: Action,
    /// A name to speak when reading aloud is on (e.g. "ka" for ཀ), if the
    /// label alone is not pronounceable by the voice.
    pub spoken: Option<&'static str>,
}

impl Key {
    pub(super) const fn letter(text: &'static str) -> Key {
        Key { label: text, action: Action::Insert(text), spoken: None }
    }
    pub(super) const fn named(text: &'static str, spoken: &'static str) -> Key {
        Key { label: text, action: Action::Insert(text), spoken: Some(spoken) }
    }
}
