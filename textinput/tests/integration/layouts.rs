//! Keys in, Unicode out, for the plain layouts.

use textinput::layout::{layout, Action, Key, Kind, Typist};

/// The key on `kind`'s keyboard labelled `label` (panics if there is none:
/// a test that names a key the keyboard lacks must fail).
fn key(kind: Kind, label: &str) -> Key {
    *layout(kind).rows.iter().flatten().find(|k| k.label == label).unwrap_or_else(|| panic!("{kind:?} has no key {label}"))
}

fn stack_key() -> Key {
    *layout(Kind::Tibetan).rows.iter().flatten().find(|k| k.action == Action::Stack).expect("a stack key")
}

/// Presses the labelled keys in order ("+" is the Tibetan stack key, " " the space bar).
fn type_keys(kind: Kind, keys: &[&str]) -> String {
    let mut t = Typist::default();
    for k in keys {
        let action = match *k {
            "+" => stack_key().action,
            " " => Action::Space,
            "⌫" => Action::Backspace,
            label => key(kind, label).action,
        };
        t.press(action);
    }
    t.text().to_owned()
}

#[test]
fn tibetan_stacks_are_built_with_subjoined_letters() {
    let table: &[(&[&str], &str)] = &[
        // སྐྱིད (skyid, happiness): sa, stack ka, stack ya, i, da.
        (&["ས", "+", "ཀ", "+", "ཡ", "ི", "ད"], "\u{0F66}\u{0F90}\u{0FB1}\u{0F72}\u{0F51}"),
        // བཀྲ་ཤིས (bkra shis): ra subjoined to ka.
        (&["བ", "ཀ", "+", "ར", "་", "ཤ", "ི", "ས"], "\u{0F56}\u{0F40}\u{0FB2}\u{0F0B}\u{0F64}\u{0F72}\u{0F66}"),
        // རྒྱལ (rgyal): superscript ra, ga, subjoined ya.
        (&["ར", "+", "ག", "+", "ཡ", "ལ"], "\u{0F62}\u{0F92}\u{0FB1}\u{0F63}"),
        // ལྷ (lha), and སྭ with the subjoined wa (wa zur).
        (&["ལ", "+", "ཧ"], "\u{0F63}\u{0FB7}"),
        (&["ས", "+", "ཝ"], "\u{0F66}\u{0FAD}"),
        // བོད། (Tibet), with the shad.
        (&["བ", "ོ", "ད", "།"], "\u{0F56}\u{0F7C}\u{0F51}\u{0F0D}"),
        // Stack pressed twice is cancelled; stack before a vowel sign inserts the sign as is.
        (&["ས", "+", "+", "ཀ"], "\u{0F66}\u{0F40}"),
        (&["ས", "+", "ུ"], "\u{0F66}\u{0F74}"),
        // Backspace removes the subjoined letter only.
        (&["ས", "+", "ཀ", "⌫", "ད"], "\u{0F66}\u{0F51}"),
    ];
    for (keys, want) in table {
        assert_eq!(type_keys(Kind::Tibetan, keys), *want, "{keys:?}");
    }
}

#[test]
fn kazakh_words_come_out_in_arabic_script_and_the_keyboard_has_every_letter() {
    let table: &[(&[&str], &str)] = &[
        // قازاق (Kazakh).
        (&["ق", "ا", "ز", "ا", "ق"], "\u{0642}\u{0627}\u{0632}\u{0627}\u{0642}"),
        // سالەمەتسىز بە (hello), with a space.
        (&["س", "ا", "ل", "ە", "م", "ە", "ت", "س", "ى", "ز", " ", "ب", "ە"], "سالەمەتسىز بە"),
        // ٴتورت (tört, four): the hamza first marks the front vowel.
        (&["ٴ", "ت", "و", "ر", "ت"], "\u{0674}\u{062A}\u{0648}\u{0631}\u{062A}"),
        // اۋىل (auyl, village) and ڭ, ۇ, ع.
        (&["ا", "ۋ", "ى", "ل"], "اۋىل"),
        (&["ت", "ۇ", "ع", "ا", "ن"], "تۇعان"),
    ];
    for (keys, want) in table {
        assert_eq!(type_keys(Kind::Kazakh, keys), *want, "{keys:?}");
    }
    let labels: String = layout(Kind::Kazakh).rows.iter().flatten().map(|k| k.label).collect();
    for letter in "ابپتجچحدرزسشعفقكگڭلمنھوۇۋەىيٴ".chars() {
        assert!(labels.contains(letter), "no key for {letter} (U+{:04X})", letter as u32);
    }
    assert!(Kind::Kazakh.is_right_to_left() && !Kind::Tibetan.is_right_to_left());
    assert!(layout(Kind::Kazakh).rows.iter().flatten().all(|k| k.spoken.is_some()));
}

#[test]
fn english_shift_and_digits() {
    assert_eq!(type_keys(Kind::English, &["⇧", "w", "a", "n", "g", " ", "l", "i"]), "Wang li");
    assert_eq!(type_keys(Kind::Digits, &["1", "3", "8", "0", "X"]), "1380X");
    let letters: String = layout(Kind::Pinyin).rows.iter().flatten().map(|k| k.label).collect();
    assert_eq!(letters, "qwertyuiopasdfghjklzxcvbnm");
    let english: Vec<_> = layout(Kind::English).rows.iter().flatten().map(|k| k.action).collect();
    assert_eq!(english.len(), 27);
    assert_eq!(english.iter().filter(|a| **a == Action::Shift).count(), 1);
}

#[test]
fn done_closes_and_take_empties() {
    let mut t = Typist::new("张");
    assert!(!t.press(key(Kind::English, "a").action));
    assert!(t.press(Action::Done));
    assert_eq!(t.take(), "张a");
    assert_eq!(t.text(), "");
    assert!(!t.stacking() && !t.shifted());
    t.press(Action::Shift);
    t.insert("桂兰");
    assert!(!t.shifted());
    assert_eq!(t.text(), "桂兰");
}
