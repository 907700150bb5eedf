//! Kazakh in Arabic script (төте жазу, as written in Xinjiang and Gansu's
//! Aksay county), right to left. The 28 letters plus the hamza ٴ that marks a
//! word's vowels as front (ٴا ٴو ٴۇ ٴى for ä ö ü i), typed before the word as
//! Kazakh writers do, rather than the precomposed U+0675..U+0678 Unicode
//! discourages. The rows follow the Uyghur Arabic keyboard used in China
//! where the letters are shared. Spoken names are the Cyrillic letters, which
//! espeak-ng's Kazakh voice reads.

use super::keys::Key;

const ROWS: [&[(&str, &str)]; 4] = [
    &[("ق", "қ"), ("ۋ", "у"), ("ە", "е"), ("ر", "р"), ("ت", "т"), ("ي", "и"), ("ۇ", "ұ"), ("ڭ", "ң"), ("و", "о"), ("پ", "п")],
    &[("ھ", "һ"), ("س", "с"), ("د", "д"), ("ا", "а"), ("ى", "ы"), ("ع", "ғ"), ("ج", "ж"), ("ك", "к"), ("ل", "л"), ("ٴ", "дәйекші")],
    &[("ز", "з"), ("ش", "ш"), ("چ", "ч"), ("گ", "г"), ("ب", "б"), ("ن", "н"), ("م", "м"), ("ف", "ф"), ("ح", "х")],
    &[("،", "үтір"), ("؟", "сұрақ белгісі"), (".", "нүкте")],
];

pub(super) fn rows() -> Vec<Vec<Key>> {
    ROWS.iter().map(|row| row.iter().map(|&(t, s)| Key::named(t, s)).collect()).collect()
}
