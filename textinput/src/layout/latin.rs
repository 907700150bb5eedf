//! English letters (also the pinyin keyboard's keys) and digits.

use super::keys::{Action, Key};

pub(super) fn letters() -> Vec<Vec<Key>> {
    ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
        .iter()
        .map(|row| row.split("").filter(|s| !s.is_empty()).map(Key::letter).collect())
        .collect()
}

pub(super) fn digits() -> Vec<Vec<Key>> {
    // A phone keypad's order; X is the ID number's check character.
    vec![
        vec![Key::letter("1"), Key::letter("2"), Key::letter("3")],
        vec![Key::letter("4"), Key::letter("5"), Key::letter("6")],
        vec![Key::letter("7"), Key::letter("8"), Key::letter("9")],
        vec![Key::letter("X"), Key::letter("0"), Key::letter("-")],
    ]
}

/// English adds a shift key (names and places begin with a capital) at the
/// start of the last row.
pub(super) fn with_shift(mut rows: Vec<Vec<Key>>) -> Vec<Vec<Key>> {
    if let Some(last) = rows.last_mut() {
        last.insert(0, Key { label: "⇧", action: Action::Shift, spoken: Some("shift") });
    }
    rows
}
