//! The kiosk's Rust-side sentences in the villager's language.
//!
//! Slint translates its own `@tr()` texts from the bundled `.po` files. The
//! sentences the kiosk composes in Rust (an expired card, a save that failed,
//! where a filing stands) are looked up in the same files here, so a
//! translator edits one `ui.po` per language. The message id is the Chinese
//! source text, as in the `.slint` files; a missing or empty translation
//! falls back to it. Entries marked `#, fuzzy` are skipped, as gettext and
//! Slint do.
//!
//! Placeholders are `{}` (in order) or `{0}`, `{1}` (by position), the same
//! as Slint's `@tr`, so a translation may reorder them.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

/// Languages of the kiosk, Chinese (the source) first.
pub const LANGUAGES: [&str; 4] = ["zh-CN", "bo", "kk", "en"];

/// The `.po` files, bundled like Slint bundles them.
const PO_FILES: [(&str, &str); 3] = [
    ("bo", include_str!("../translations/bo/LC_MESSAGES/ui.po")),
    ("kk", include_str!("../translations/kk/LC_MESSAGES/ui.po")),
    ("en", include_str!("../translations/en/LC_MESSAGES/ui.po")),
];

type Catalog = HashMap<String, String>;

fn catalogs() -> &'static HashMap<&'static str, Catalog> {
    static CATALOGS: OnceLock<HashMap<&'static str, Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| PO_FILES.iter().map(|(lang, text)| (*lang, parse_po(text))).collect())
}

/// The translation of `msgid` into `lang`, if there is one.
pub fn lookup(lang: &str, msgid: &str) -> Option<&'static str> {
    catalogs().get(lang)?.get(msgid).map(String::as_str)
}

/// `msgid` in `lang`, or `msgid` itself (Chinese) when untranslated.
pub fn tr(lang: &str, msgid: &str) -> String {
    lookup(lang, msgid).unwrap_or(msgid).to_owned()
}

/// [`tr`] with `{}` / `{n}` placeholders filled in.
pub fn tr_args(lang: &str, msgid: &str, args: &[&dyn Display]) -> String {
    format_placeholders(lookup(lang, msgid).unwrap_or(msgid), args)
}

/// Marks a message id for extraction where it is stored to be translated
/// later, when shown (gettext's `N_`; one marker for `model` and the kiosk).
pub use model::text::n_;

/// A Chinese sentence made from a message with one `{}` number (as
/// [`tr_args`] into `zh-CN` made it), in `lang`: the number is put back
/// into the message's translation. Other sentences as [`tr`].
pub fn tr_with_number(lang: &str, text: &str) -> String {
    if let Some(start) = text.find(|c: char| c.is_ascii_digit()) {
        let len = text[start..].find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len() - start);
        let id = format!("{}{{}}{}", &text[..start], &text[start + len..]);
        if catalogs().values().any(|c| c.contains_key(&id)) {
            return tr_args(lang, &id, &[&&text[start..start + len]]);
        }
    }
    tr(lang, text)
}

/// The message id `text` is in `lang`: the id whose translation it is
/// (unique; `None` when two ids share a translation), or, for Chinese and
/// for untranslated messages shown in Chinese, the id itself. Voice packs
/// are keyed by message id; this finds the recording of a sentence.
pub fn msgid_of(lang: &str, text: &str) -> Option<&'static str> {
    static REVERSE: OnceLock<HashMap<&'static str, HashMap<&'static str, Option<&'static str>>>> = OnceLock::new();
    let reverse = REVERSE.get_or_init(|| {
        catalogs()
            .iter()
            .map(|(lang, c)| {
                let mut r: HashMap<&'static str, Option<&'static str>> = HashMap::new();
                for (id, t) in c {
                    r.entry(t.as_str()).and_modify(|e| *e = None).or_insert(Some(id.as_str()));
                }
                (*lang, r)
            })
            .collect()
    });
    if let Some(found) = reverse.get(lang).and_then(|r| r.get(text)) {
        return *found;
    }
    // Chinese, or a message this language has no translation of (shown in Chinese).
    let untranslated = lang == "zh-CN" || lookup(lang, text).is_none();
    if untranslated {
        catalogs().values().find_map(|c| c.get_key_value(text).map(|(k, _)| k.as_str()))
    } else {
        None
    }
}

/// Every message id with a translation in `lang` (for completeness tests).
pub fn translated_ids(lang: &str) -> Vec<&'static str> {
    catalogs().get(lang).map(|c| c.keys().map(String::as_str).collect()).unwrap_or_default()
}

fn format_placeholders(template: &str, args: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if after[..close].chars().all(|c| c.is_ascii_digit()) => {
                let index = if close == 0 {
                    next += 1;
                    next - 1
                } else {
                    after[..close].parse().unwrap_or(usize::MAX)
                };
                match args.get(index) {
                    Some(a) => out.push_str(&a.to_string()),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A small gettext `.po` reader: msgid/msgstr pairs, multi-line strings,
/// C escapes; msgctxt and plurals are not used by this project.
fn parse_po(text: &str) -> Catalog {
    #[derive(PartialEq)]
    enum Part {
        None,
        Id,
        Str,
        Other,
    }
    let mut map = Catalog::new();
    let (mut id, mut msg, mut fuzzy, mut part) = (String::new(), String::new(), false, Part::None);
    let mut flush = |id: &mut String, msg: &mut String, fuzzy: &mut bool| {
        if !id.is_empty() && !msg.is_empty() && !*fuzzy {
            map.insert(std::mem::take(id), std::mem::take(msg));
        }
        id.clear();
        msg.clear();
        *fuzzy = false;
    };
    for line in text.lines().map(str::trim) {
        if line.starts_with("#,") {
            if part == Part::Str {
                flush(&mut id, &mut msg, &mut fuzzy);
                part = Part::None;
            }
            fuzzy |= line.contains("fuzzy");
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else if let Some(rest) = line.strip_prefix("msgid ") {
            if part == Part::Str {
                flush(&mut id, &mut msg, &mut fuzzy);
            }
            id = unquote(rest);
            part = Part::Id;
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            msg = unquote(rest);
            part = Part::Str;
        } else if line.starts_with('"') {
            match part {
                Part::Id => id.push_str(&unquote(line)),
                Part::Str => msg.push_str(&unquote(line)),
                _ => {}
            }
        } else {
            // msgctxt, msgid_plural, msgstr[n]: not used here.
            part = Part::Other;
        }
    }
    flush(&mut id, &mut msg, &mut fuzzy);
    map
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let inner = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_po_entries_and_skips_fuzzy_ones() {
        let po = r#"
# header
msgid ""
msgstr "Language: en\n"

#. a comment
msgid "回首页"
msgstr "Home"

#, fuzzy
msgid "继续"
msgstr "Go on"

msgid "第 {} 页，共 {} 页"
msgstr ""
"Page {} "
"of {}"

msgid "空"
msgstr ""
"#;
        let c = parse_po(po);
        assert_eq!(c.get("回首页").map(String::as_str), Some("Home"));
        assert_eq!(c.get("继续"), None, "fuzzy entries are not used");
        assert_eq!(c.get("第 {} 页，共 {} 页").map(String::as_str), Some("Page {} of {}"));
        assert_eq!(c.get("空"), None);
        assert_eq!(c.get(""), None, "the header is not a message");
    }

    #[test]
    fn placeholders_in_order_and_by_position() {
        assert_eq!(format_placeholders("第 {} 页，共 {} 页", &[&1, &3]), "第 1 页，共 3 页");
        assert_eq!(format_placeholders("{1} of {0}", &[&"a", &"b"]), "b of a");
        assert_eq!(format_placeholders("{x} {}", &[&7]), "{x} 7");
        assert_eq!(format_placeholders("{} {}", &[&7]), "7 {}");
    }

    #[test]
    fn a_sentence_leads_back_to_its_message_id() {
        assert_eq!(msgid_of("zh-CN", "回首页"), Some("回首页"));
        let en = tr("en", "回首页");
        assert_ne!(en, "回首页");
        assert_eq!(msgid_of("en", &en), Some("回首页"));
        // Another language's text is not this language's message.
        assert_eq!(msgid_of("kk", &en), None);
        assert_eq!(msgid_of("zh-CN", "这句话不在目录里"), None);
    }

    #[test]
    fn untranslated_falls_back_to_chinese() {
        assert_eq!(tr("xx", "回首页"), "回首页");
        assert_eq!(tr_args("zh-CN", "第 {} 页，共 {} 页", &[&2, &5]), "第 2 页，共 5 页");
    }
}
