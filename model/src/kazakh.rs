//! Kazakh's two alphabets: the Arabic script used in China (töte jazu,
//! төте жазу), which the kiosk shows, and Cyrillic, which espeak-ng's `kk`
//! voice reads and in which translators often draft.
//!
//! The correspondence is the published one (one Arabic letter per Cyrillic
//! letter; Xinjiang/Ili usage). Töte jazu does not write vowel harmony with
//! letters: ә ө ү і share ا و ۇ ى with а о ұ ы. A word is front-vowel when
//! it carries the high hamza ٴ (written once, in front of the word) or when
//! it contains ە, ك or گ (which only front words have, so no hamza is
//! needed) and no ق or ع (back consonants: қате, рақмет keep а); in a
//! front word ا و ۇ ى read ә ө ү і. ي is й after a vowel and
//! и elsewhere; ۋ is у, ۆ is в.
//!
//! Not reversible, by the nature of the scripts: Russian-only letters
//! (ц → تس, щ → شش, я → يا, ю → يۋ, ё → يو, э → ە, ъ ь dropped) come back
//! as their spelled-out sounds, and loanwords that mix back and front vowels
//! (газет, кітап) come back with front vowels. Capitals come back lower case.
//!
//! Here because both the kiosk (speech) and translators' tools use it, and
//! it is pure text (DESIGN §2: `model` does no I/O).

const HAMZA: char = '\u{0674}';

/// Cyrillic letter → töte jazu. Front and back vowels share their letter.
const CYRILLIC_TO_ARABIC: [(char, &str); 42] = [
    ('а', "ا"), ('ә', "ا"), ('б', "ب"), ('в', "ۆ"), ('г', "گ"), ('ғ', "ع"), ('д', "د"), ('е', "ە"),
    ('ё', "يو"), ('ж', "ج"), ('з', "ز"), ('и', "ي"), ('й', "ي"), ('к', "ك"), ('қ', "ق"), ('л', "ل"),
    ('м', "م"), ('н', "ن"), ('ң', "ڭ"), ('о', "و"), ('ө', "و"), ('п', "پ"), ('р', "ر"), ('с', "س"),
    ('т', "ت"), ('у', "ۋ"), ('ұ', "ۇ"), ('ү', "ۇ"), ('ф', "ف"), ('х', "ح"), ('һ', "ھ"), ('ц', "تس"),
    ('ч', "چ"), ('ш', "ش"), ('щ', "شش"), ('ъ', ""), ('ы', "ى"), ('і', "ى"), ('ь', ""), ('э', "ە"),
    ('ю', "يۋ"), ('я', "يا"),
];

/// Punctuation that has an Arabic form, Latin ↔ Arabic.
const PUNCTUATION: [(char, char); 3] = [(',', '،'), ('?', '؟'), (';', '؛')];

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}')
}

/// Cyrillic Kazakh → töte jazu. Other text (digits, Latin, Chinese,
/// `{}` placeholders) is kept as it is.
pub fn cyrillic_to_arabic(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let front = word.chars().any(|c| "әөүі".contains(c));
        let marked = word.chars().any(|c| "екгэ".contains(c));
        if front && !marked {
            out.push(HAMZA);
        }
        for c in word.chars() {
            if let Some((_, a)) = CYRILLIC_TO_ARABIC.iter().find(|(k, _)| *k == c) {
                out.push_str(a);
            }
        }
        word.clear();
    };
    for c in text.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        if is_cyrillic(c) {
            word.push(lower);
            continue;
        }
        flush(&mut word, &mut out);
        out.push(PUNCTUATION.iter().find(|(l, _)| *l == c).map_or(c, |(_, a)| *a));
    }
    flush(&mut word, &mut out);
    out
}

/// Töte jazu → Cyrillic Kazakh, lower case (for espeak-ng's `kk` voice).
/// Other text is kept; Arabic punctuation and Arabic-Indic digits become
/// their Latin forms.
pub fn arabic_to_cyrillic(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut word: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_arabic(c) && !is_arabic_punctuation_or_digit(c) {
            word.push(c);
            continue;
        }
        word_to_cyrillic(&word, &mut out);
        word.clear();
        out.push(match c {
            '٠'..='٩' => char::from_u32(c as u32 - '٠' as u32 + '0' as u32).unwrap_or(c),
            '۰'..='۹' => char::from_u32(c as u32 - '۰' as u32 + '0' as u32).unwrap_or(c),
            _ => PUNCTUATION.iter().find(|(_, a)| *a == c).map_or(c, |(l, _)| *l),
        });
    }
    word_to_cyrillic(&word, &mut out);
    out
}

fn is_arabic_punctuation_or_digit(c: char) -> bool {
    PUNCTUATION.iter().any(|(_, a)| *a == c) || matches!(c, '٠'..='٩' | '۰'..='۹' | '\u{066B}' | '\u{066C}' | '\u{06D4}')
}

fn word_to_cyrillic(word: &[char], out: &mut String) {
    if word.is_empty() {
        return;
    }
    // ٴ (or the plain hamza ء some keyboards type) marks a front word.
    // ق and ع belong to back words: a word with them and ە (қате, рақмет,
    // зейнетақы) keeps its back vowels; without them ە, ك, گ make it front.
    let hamza = word.iter().any(|c| matches!(c, '\u{0674}' | '\u{0621}'));
    let marked = word.iter().any(|c| matches!(c, 'ە' | 'ه' | 'ك' | 'ک' | 'گ'));
    let back = word.iter().any(|c| matches!(c, 'ق' | 'ع' | 'غ'));
    let front = hamza || (marked && !back);
    let mut prev_vowel = false;
    for &c in word {
        let (s, vowel) = match c {
            '\u{0674}' | '\u{0621}' => ("", false),
            'ا' | 'أ' | 'إ' | 'آ' => (if front { "ә" } else { "а" }, true),
            'و' => (if front { "ө" } else { "о" }, true),
            'ۇ' => (if front { "ү" } else { "ұ" }, true),
            'ى' => (if front { "і" } else { "ы" }, true),
            'ە' | 'ه' => ("е", true),
            'ي' | 'ی' => (if prev_vowel { "й" } else { "и" }, false),
            'ۋ' => ("у", false),
            'ۆ' => ("в", false),
            'ب' => ("б", false),
            'پ' => ("п", false),
            'ت' => ("т", false),
            'ج' => ("ж", false),
            'چ' => ("ч", false),
            'ح' | 'خ' => ("х", false),
            'د' => ("д", false),
            'ر' => ("р", false),
            'ز' => ("з", false),
            'س' => ("с", false),
            'ش' => ("ш", false),
            'ع' | 'غ' => ("ғ", false),
            'ف' => ("ф", false),
            'ق' => ("қ", false),
            'ك' | 'ک' => ("к", false),
            'گ' => ("г", false),
            'ڭ' => ("ң", false),
            'ل' => ("л", false),
            'م' => ("м", false),
            'ن' => ("н", false),
            'ھ' => ("һ", false),
            // Tatweel and harakat: no sound of their own.
            'ـ' | '\u{064B}'..='\u{065F}' => ("", prev_vowel),
            _ => {
                out.push(c);
                prev_vowel = false;
                continue;
            }
        };
        out.push_str(s);
        prev_vowel = vowel;
    }
}

#[cfg(test)]
mod tests;
