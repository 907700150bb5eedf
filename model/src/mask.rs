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

#[cfg(test)]
mod tests {
    use super::*;

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
