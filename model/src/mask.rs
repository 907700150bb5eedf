//! Masking of personal data for screens, logs and error messages.

/// Keeps the first character of a name and replaces the rest: `张三丰` → `张**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            let mut s = String::with_capacity(first.len_utf8() + rest);
            s.push(first);
            s.extend(std::iter::repeat_n('*', rest));
            s
        }
    }
}

/// Keeps the first four and last four characters of a document number:
/// `620102199003071234` → `6201**********1234`. Short values are masked whole.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..4].iter().collect();
    s.push_str(&"*".repeat(n - 8));
    s.extend(&chars[n - 4..]);
    s
}

/// Keeps the first three and last two digits of a phone number.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 5 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..3].iter().collect();
    s.push_str(&"*".repeat(n - 5));
    s.extend(&chars[n - 2..]);
    s
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

/// Tibetan and Arabic-script letters (Kazakh): names in them cannot be told
/// from words, so every run is masked.
fn is_other_script(c: char) -> bool {
    matches!(c, '\u{0F00}'..='\u{0FFF}' | '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// Masks what could be personal data in free text (log lines leaving a
/// terminal in a diagnostics bundle): runs of six or more digits (ID,
/// phone, bank card numbers; an ID's final X goes with it) keep their last
/// two; a run of two to four Han characters standing alone (a name in a
/// field, in quotes) keeps its first; Tibetan and Arabic-script runs are
/// masked whole. Longer Han runs are sentences of our own messages and
/// stay. A second line of defence: log lines must not carry personal data
/// in the first place (DESIGN §5).
pub fn mask_free_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run_end = |pred: &dyn Fn(char) -> bool| {
            let mut j = i;
            while j < chars.len() && pred(chars[j]) {
                j += 1;
            }
            j
        };
        if c.is_ascii_digit() {
            let mut j = run_end(&|c: char| c.is_ascii_digit());
            if j < chars.len() && matches!(chars[j], 'X' | 'x') && j - i == 17 {
                j += 1;
            }
            let run = &chars[i..j];
            if run.len() >= 6 {
                out.extend(std::iter::repeat_n('*', run.len() - 2));
                out.extend(&run[run.len() - 2..]);
            } else {
                out.extend(run);
            }
            i = j;
        } else if is_han(c) {
            let j = run_end(&|c: char| is_han(c));
            let run: String = chars[i..j].iter().collect();
            if (2..=4).contains(&(j - i)) {
                out.push_str(&mask_name(&run));
            } else {
                out.push_str(&run);
            }
            i = j;
        } else if is_other_script(c) {
            let j = run_end(&|c: char| is_other_script(c));
            out.extend(std::iter::repeat_n('*', j - i));
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_loses_numbers_names_and_other_scripts_but_keeps_sentences() {
        let line = r#"2026-12-04T10:00:01Z WARN kiosk: 读卡器没有回应，请稍后再试 name="张三" id=620102199003071234 phone=13800000000 id2=62292619520307002X bo=བཀྲ་ཤིས kk=ءۇلان port=3"#;
        let m = mask_free_text(line);
        for secret in ["张三", "620102199003071234", "13800000000", "62292619520307002X", "བཀྲ", "ءۇلان"] {
            assert!(!m.contains(secret), "{secret} in {m}");
        }
        assert!(m.contains("读卡器没有回应，请稍后再试") && m.contains("2026-12-04T10:00:01Z") && m.contains("port=3"), "{m}");
        assert!(m.contains("张*") && m.contains("****************34") && m.contains("*********00"), "{m}");
    }

    #[test]
    fn masks_names_numbers_and_phones() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_number("620102199003071234"), "6201**********1234");
        assert_eq!(mask_number("1234"), "****");
        assert_eq!(mask_phone("13912345678"), "139******78");
    }
}
