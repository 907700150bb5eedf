//! Reading a whole screen aloud (the 读整页 button, issue 18): what is on
//! it, top to bottom, in the order a person reads it, from the same view
//! the screen shows (so a value the screen masks is read masked).
//!
//! Kazakh reads right to left: the screens mirror (ui/README.md), so a
//! row's label is on the right and read first, a grid fills from the
//! right, and the logical order below (heading, rows label then value,
//! tiles first to last, the instruction last) is the reading order in
//! every language. The sentence stops follow the language.

use super::view::Screen;
use super::Session;

impl Session {
    /// Everything on the current screen, as one text to read aloud.
    pub fn screen_reading(&self) -> String {
        let v = self.view();
        let mut parts: Vec<String> = Vec::new();
        let mut push = |s: &str| {
            let s = s.trim();
            if !s.is_empty() {
                parts.push(s.to_owned());
            }
        };
        push(&v.banner);
        if v.idle_seconds > 0 {
            push(&v.prompt);
            return self.read_out(parts);
        }
        push(&v.item_name);
        let pairs = |rows: &[(String, String)], push: &mut dyn FnMut(&str)| {
            for (label, value) in rows {
                push(&self.pair(label, value));
            }
        };
        match v.screen {
            Screen::Home => {}
            Screen::Services => {
                for t in v.themes.iter().filter(|t| t.selected) {
                    push(&t.name);
                }
                for t in &v.services {
                    push(&t.name);
                    if !t.enabled {
                        push(&t.note);
                    }
                }
            }
            Screen::Search => {
                push(&v.search_message);
                for t in &v.services {
                    push(&t.name);
                }
            }
            Screen::Guide => pairs(&v.guide_rows, &mut push),
            Screen::Consent => pairs(&v.consent_rows, &mut push),
            Screen::IdPrompt => {}
            Screen::Form => {
                for r in &v.form_rows {
                    let shown = r.options.iter().find(|o| o.value == r.value).map_or(r.value.as_str(), |o| o.label.as_str());
                    push(&self.pair(&r.label, shown));
                    push(&r.error);
                }
            }
            Screen::Materials => {
                if let Some(m) = &v.material {
                    push(&m.step);
                    push(&m.name);
                    push(if m.problem.is_empty() { &m.hint } else { &m.problem });
                    push(&m.captured);
                }
            }
            Screen::Review => pairs(&v.review_rows, &mut push),
            Screen::Saved | Screen::Receipt => {
                push(&v.saved_title);
                push(&v.saved_detail);
                if !v.case_number.is_empty() {
                    let label = if v.saved_sent { "办件编号（请记下或打印回执）" } else { "查询码（请记下或打印回执）" };
                    // Digit by digit, as a person reads a number off a receipt.
                    let spaced: Vec<String> = v.case_number.chars().map(String::from).collect();
                    push(&self.pair(&self.t(label), &spaced.join(" ")));
                }
                push(&v.receipt_message);
            }
            Screen::Rate => {
                for r in v.reasons.iter().filter(|r| r.selected) {
                    push(&r.label);
                }
            }
            Screen::Progress | Screen::Result => {
                for r in &v.lookup_rows {
                    push(&r.item);
                    push(&r.status);
                    push(&r.date);
                }
            }
            Screen::Submitting | Screen::Goodbye | Screen::Error => {}
        }
        // The instruction (or the screen's own message) last: it names the
        // buttons at the bottom.
        push(&v.prompt);
        drop(push);
        parts.dedup();
        self.read_out(parts)
    }

    /// "label: value", with masked characters said as such.
    fn pair(&self, label: &str, value: &str) -> String {
        let value = if value.contains('*') {
            let kept: String = value.split('*').filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" … ");
            format!("{kept} {}", self.t("（部分隐去）"))
        } else {
            value.to_owned()
        };
        let colon = match self.settings.lang {
            model::Lang::ZhCn => "：",
            _ => ": ",
        };
        if value.trim().is_empty() {
            label.to_owned()
        } else {
            format!("{label}{colon}{value}")
        }
    }

    fn read_out(&self, parts: Vec<String>) -> String {
        parts.iter().fold(String::new(), |acc, p| if acc.is_empty() { p.clone() } else { self.sentences(&acc, p) })
    }
}
