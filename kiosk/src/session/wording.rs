//! Wording: every sentence is a Chinese message id, translated through the
//! same `.po` files as the screens (`ui::i18n`) when it is shown.

use std::fmt::Display;

use model::catalog::{Fee, FieldError, TimeLimit, TimeUnit};
use model::{ImplementCode, Lang};

use super::state::Problem;
use super::Session;
use crate::materials::{Capture, CaptureKind};

impl Session {
    /// A sentence in the villager's language (the message id is the Chinese).
    pub(super) fn t(&self, msgid: &str) -> String {
        ui::i18n::tr(self.settings.lang.code(), msgid)
    }

    /// [`Self::t`] with `{}` placeholders.
    pub(super) fn tf(&self, msgid: &str, args: &[&dyn Display]) -> String {
        ui::i18n::tr_args(self.settings.lang.code(), msgid, args)
    }

    /// [`Self::t`] for a sentence that is read aloud whole (a screen's
    /// prompt or message). The name marks it: `ui/translations/extract.sh`
    /// lists every `say` sentence as a prompt a voice pack may record
    /// (`model/data/spoken_prompts.txt`, `kioskctl voice missing`).
    pub(super) fn say(&self, msgid: &str) -> String {
        self.t(msgid)
    }

    /// [`Self::tf`] for a prompt with a number in it: extracted for
    /// translation like `tf`, but not recordable (the number changes).
    pub(super) fn say_f(&self, msgid: &str, args: &[&dyn Display]) -> String {
        self.tf(msgid, args)
    }

    pub(super) fn problem_text(&self, p: &Problem) -> String {
        match p {
            Problem::Said(msg) => self.t(msg),
            Problem::Expired(d) => self.tf("这张身份证已过期（{}），请换一张有效证件，或到乡镇办理。", &[d]),
            Problem::NotYetValid(d) => self.tf("这张身份证 {} 才生效，请换一张有效证件。", &[d]),
            Problem::BadCode => self.t("这个号码查不到，请再看一下回执上的号码，或者放身份证来查。"),
        }
    }

    pub(super) fn field_error(&self, e: &FieldError) -> String {
        match e {
            FieldError::Missing => self.t("请填写此项"),
            FieldError::TooLong(n) => self.tf("最多{}个字", &[n]),
            FieldError::NotDigits => self.t("只能填数字"),
            FieldError::DigitCount { min, max } => self.tf("应为{}到{}位数字", &[min, max]),
            FieldError::Phone => self.t("手机号应为1开头的11位数字"),
            FieldError::NotAnOption => self.t("请从选项中选择"),
            FieldError::Date => self.t("日期格式应为 年-月-日"),
            FieldError::Place => self.t("请选到村（社区）"),
        }
    }

    pub(super) fn time_limit(&self, limit: &TimeLimit) -> String {
        match limit.unit {
            TimeUnit::Immediate => self.t("当场办结"),
            TimeUnit::WorkingDays => self.tf("{}个工作日", &[&limit.amount]),
            TimeUnit::NaturalDays => self.tf("{}天", &[&limit.amount]),
        }
    }

    pub(super) fn fee(&self, fee: &Fee) -> String {
        match fee {
            Fee::Free => self.t("不收费"),
            Fee::Charged { fen } => self.tf("{} 元", &[&format!("{}.{:02}", fen / 100, fen % 100)]),
        }
    }

    pub(super) fn item_name(&self, code: &ImplementCode) -> String {
        let lang = self.settings.lang;
        self.item_by_code(code.as_str()).map(|i| i.name.get(lang).to_owned()).unwrap_or_default()
    }

    /// Two sentences read one after the other, with the full stop of the language.
    /// Which license the library gave, in plain words: its type, number
    /// (masked, as every number on screen), issuer and date.
    pub(super) fn e_license_words(&self, r: &model::submission::ELicenseRef) -> String {
        match &r.issued_on {
            Some(date) => self.tf("用的是电子证照「{}」，编号 {}，{} {} 发", &[&r.kind, &r.number_masked(), &r.issuer, date]),
            None => self.tf("用的是电子证照「{}」，编号 {}，{} 发", &[&r.kind, &r.number_masked(), &r.issuer]),
        }
    }

    pub(super) fn sentences(&self, first: &str, second: &str) -> String {
        format!("{first}{}{second}", self.stop())
    }

    fn stop(&self) -> &'static str {
        match self.settings.lang {
            Lang::ZhCn => "。",
            Lang::Bo => "། ",
            Lang::Kk | Lang::En => ". ",
        }
    }

    /// The message ids `prompt` is made of: one whole message, or two
    /// joined by [`Self::sentences`]; empty when any part is not a message
    /// (an item name, a number), so only an engine can say it.
    pub(super) fn prompt_ids(&self, prompt: &str) -> Vec<String> {
        let lang = self.settings.lang.code();
        if let Some(id) = ui::i18n::msgid_of(lang, prompt) {
            return vec![id.to_owned()];
        }
        let stop = self.stop();
        for (at, _) in prompt.match_indices(stop) {
            let (first, second) = (&prompt[..at], &prompt[at + stop.len()..]);
            if let (Some(a), Some(b)) = (ui::i18n::msgid_of(lang, first), ui::i18n::msgid_of(lang, second)) {
                return vec![a.to_owned(), b.to_owned()];
            }
        }
        Vec::new()
    }

    /// A list as the language writes one. A Tibetan item usually ends in
    /// its own shad (the catalog's names do); a second one would read །།,
    /// the mark that closes a section, so only a space follows it.
    pub(super) fn join_list(&self, items: &[String]) -> String {
        let separator = match self.settings.lang {
            Lang::ZhCn => "、",
            Lang::Kk => "، ",
            Lang::Bo => "། ",
            Lang::En => ", ",
        };
        let mut out = String::new();
        for item in items {
            if !out.is_empty() {
                out.push_str(if self.settings.lang == Lang::Bo && out.ends_with('།') { " " } else { separator });
            }
            out.push_str(item);
        }
        out
    }

    /// 已扫描 2 页 / 已拍照.
    pub(super) fn captured_words(&self, c: &Capture) -> String {
        match c.kind {
            CaptureKind::Scan => self.tf("已扫描 {} 页", &[&c.files.len()]),
            CaptureKind::Photo => self.t("已拍照"),
        }
    }
}
