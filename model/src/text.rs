//! Text in several languages, with Chinese as the source and fallback.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Marks a Chinese message id for the translation files (gettext's `N_`):
/// `ui/translations/extract.sh` collects every `n_("…")` in `model` and the
/// kiosk; the text is translated where it is shown (`ui::i18n::tr`).
pub const fn n_(msgid: &'static str) -> &'static str {
    msgid
}

/// A display language of the kiosk. Chinese is the source language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum Lang {
    /// Simplified Chinese (简体中文), the source language.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// Tibetan (བོད་ཡིག).
    #[serde(rename = "bo")]
    Bo,
    /// Kazakh in Arabic script, right to left (قازاقشا).
    #[serde(rename = "kk")]
    Kk,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Every language, source first.
    pub const ALL: [Lang; 4] = [Lang::ZhCn, Lang::Bo, Lang::Kk, Lang::En];

    /// The BCP 47 tag, as in catalogs and translation files.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::Bo => "bo",
            Lang::Kk => "kk",
            Lang::En => "en",
        }
    }

    /// The language with tag `code`; `None` for an unknown tag.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// Whether the language runs right to left (Kazakh in Arabic script).
    pub fn is_right_to_left(self) -> bool {
        matches!(self, Lang::Kk)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A text keyed by language code. Chinese (`zh-CN`) must be present; it is the
/// fallback for any language without its own text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct LocalizedText(BTreeMap<String, String>);

impl LocalizedText {
    /// A text in Chinese only; add translations with [`LocalizedText::with`].
    pub fn new(zh: impl Into<String>) -> Self {
        let mut m = BTreeMap::new();
        m.insert(Lang::ZhCn.code().to_owned(), zh.into());
        LocalizedText(m)
    }

    /// Adds or replaces the text in `lang`.
    pub fn with(mut self, lang: Lang, text: impl Into<String>) -> Self {
        self.0.insert(lang.code().to_owned(), text.into());
        self
    }

    /// The text in `lang`, or the Chinese text when that language has none.
    pub fn get(&self, lang: Lang) -> &str {
        self.0
            .get(lang.code())
            .or_else(|| self.0.get(Lang::ZhCn.code()))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Whether `lang` has its own non-empty text (no fallback).
    pub fn has(&self, lang: Lang) -> bool {
        self.0.get(lang.code()).is_some_and(|s| !s.trim().is_empty())
    }

    /// Whether the Chinese source text is there and not blank; a catalog
    /// without it is refused.
    pub fn has_source(&self) -> bool {
        self.0.get(Lang::ZhCn.code()).is_some_and(|s| !s.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_chinese() {
        let t = LocalizedText::new("出生登记").with(Lang::En, "Birth registration");
        assert_eq!(t.get(Lang::En), "Birth registration");
        assert_eq!(t.get(Lang::Bo), "出生登记");
        assert!(t.has_source());
        assert!(!LocalizedText::default().has_source());
    }
}
