//! Unicode Tibetan. Consonants in the order of the alphabet (ཀ ཁ ག ང …), as
//! villagers learned it; vowel signs, tsheg and shad on the last row. Stacks
//! are built the way standard Tibetan keyboards build them: the stack key
//! makes the next consonant subjoined (ས, stack, ཀ → སྐ; press stack again
//! for a third letter: སྐྱ).

use super::keys::{Action, Key};

/// The 30 consonants with their names for reading aloud.
const CONSONANTS: [(&str, &str); 30] = [
    ("ཀ", "ka"), ("ཁ", "kha"), ("ག", "ga"), ("ང", "nga"), ("ཅ", "ca"), ("ཆ", "cha"), ("ཇ", "ja"), ("ཉ", "nya"),
    ("ཏ", "ta"), ("ཐ", "tha"), ("ད", "da"), ("ན", "na"), ("པ", "pa"), ("ཕ", "pha"), ("བ", "ba"), ("མ", "ma"),
    ("ཙ", "tsa"), ("ཚ", "tsha"), ("ཛ", "dza"), ("ཝ", "wa"), ("ཞ", "zha"), ("ཟ", "za"), ("འ", "'a"), ("ཡ", "ya"),
    ("ར", "ra"), ("ལ", "la"), ("ཤ", "sha"), ("ས", "sa"), ("ཧ", "ha"), ("ཨ", "a"),
];

pub(super) fn rows() -> Vec<Vec<Key>> {
    // Three rows of ten consonants, then the stack key beside the vowel
    // signs: four rows fit the screen in large-text mode too.
    let mut rows: Vec<Vec<Key>> = CONSONANTS.chunks(10).map(|c| c.iter().map(|&(t, s)| Key::named(t, s)).collect()).collect();
    rows.push(vec![
        Key { label: "\u{25CC}\u{0F90}", action: Action::Stack, spoken: Some("stack") },
        Key::named("\u{0F72}", "gi gu"),
        Key::named("\u{0F74}", "zhabs kyu"),
        Key::named("\u{0F7A}", "'greng bu"),
        Key::named("\u{0F7C}", "na ro"),
        Key::named("\u{0F0B}", "tsheg"),
        Key::named("\u{0F0D}", "shad"),
    ]);
    rows
}

/// The subjoined form of a Tibetan consonant (U+0F40..U+0F6C → U+0F90..U+0FBC).
/// `None` for anything else, which a stack key press then inserts as is.
pub(super) fn subjoined(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if chars.next().is_some() || !('\u{0F40}'..='\u{0F6C}').contains(&c) {
        return None;
    }
    char::from_u32(c as u32 + 0x50)
}
