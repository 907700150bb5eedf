//! What a screen shows: plain data the `ui` glue copies into Slint. Every
//! text is already in the villager's language.

use model::evaluation::Rating;
use model::Lang;

use super::state::Settings;
use crate::materials::Preview;

/// The materials screen: one material at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialView {
    pub name: String,
    /// 第 1 项，共 2 项
    pub step: String,
    /// What to do, in plain words.
    pub hint: String,
    pub required: bool,
    pub can_scan: bool,
    pub can_photo: bool,
    /// 跳过 is offered (optional material, nothing captured yet).
    pub can_skip: bool,
    /// 下一步 is offered (captured, or not needed on this terminal).
    pub can_next: bool,
    /// A scan or photo is under way.
    pub busy: bool,
    /// What went wrong with the last scan or photo, in plain words.
    pub problem: String,
    /// What was captured: its picture and words (已扫描 2 页).
    pub preview: Option<Preview>,
    pub captured: String,
    /// Captured by scanning (the retake button says 重新扫描) or photo (重拍).
    pub captured_by_scan: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Services,
    Guide,
    Consent,
    IdPrompt,
    Form,
    Materials,
    Review,
    Submitting,
    Saved,
    Receipt,
    Rate,
    Progress,
    Result,
    Goodbye,
    Error,
}


#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileView {
    pub code: String,
    pub name: String,
    pub department: String,
    pub time_limit: String,
    pub enabled: bool,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeView {
    /// "" is all themes.
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowView {
    pub key: String,
    pub label: String,
    /// As displayed: the ID number is masked even on the villager's own screen.
    pub value: String,
    pub kind: ui::FieldKind,
    pub readonly: bool,
    pub error: String,
    pub options: Vec<ChoiceView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One filing found by a lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressView {
    pub item: String,
    pub date: String,
    pub status: String,
    pub number: String,
    pub tone: ui::ProgressTone,
    /// A bundle filing's items, each with its own words and case number.
    pub parts: Vec<PartView>,
}

/// One item of a bundle filing, inside its row.
#[derive(Debug, Clone, PartialEq)]
pub struct PartView {
    pub item: String,
    pub status: String,
    pub number: String,
    pub tone: ui::ProgressTone,
}

/// Everything a screen shows. Plain data; `ui` glue copies it into Slint.
/// Every text is already in `lang`.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub screen: Screen,
    pub lang: Lang,
    pub large_text: bool,
    pub high_contrast: bool,
    pub voice_on: bool,
    /// Whether the current language can be read aloud at all.
    pub voice_available: bool,
    /// Reading on and the engine reads this language: 读整页 is offered.
    pub can_read_screen: bool,
    /// > 0 while the idle warning counts down.
    pub idle_seconds: u32,
    /// The frame's banner, in the villager's language ("" for none).
    pub banner: String,
    /// What reading aloud says on this screen.
    pub prompt: String,
    pub services: Vec<TileView>,
    pub themes: Vec<ThemeView>,
    pub item_name: String,
    pub guide_rows: Vec<(String, String)>,
    pub consent_rows: Vec<(String, String)>,
    pub id_message: String,
    pub id_error: bool,
    pub form_rows: Vec<RowView>,
    pub material: Option<MaterialView>,
    pub review_rows: Vec<(String, String)>,
    pub busy_message: String,
    pub saved_sent: bool,
    pub saved_title: String,
    pub saved_detail: String,
    pub case_number: String,
    pub can_rate: bool,
    pub receipt_message: String,
    pub receipt_busy: bool,
    pub receipt_failed: bool,
    pub rating: Option<Rating>,
    pub reasons: Vec<ReasonView>,
    /// "ask" | "looking" | "found" | "none"
    pub lookup_phase: ui::LookupPhase,
    pub lookup_message: String,
    pub lookup_error: bool,
    pub lookup_rows: Vec<ProgressView>,
    /// Result: a finished case has a document to print here (打印结果文件).
    pub result_printable: bool,
    /// Result: it is being fetched and printed.
    pub result_busy: bool,
    pub goodbye_message: String,
    pub error_message: String,
}

impl View {
    pub(super) fn on(screen: Screen, settings: &Settings) -> View {
        View {
            screen,
            lang: settings.lang,
            large_text: settings.large_text,
            high_contrast: settings.high_contrast,
            voice_on: settings.voice_on,
            voice_available: settings.voices.contains(&settings.lang),
            can_read_screen: settings.voice_on && settings.voices.contains(&settings.lang),
            idle_seconds: 0,
            banner: String::new(),
            prompt: String::new(),
            services: Vec::new(),
            themes: Vec::new(),
            item_name: String::new(),
            guide_rows: Vec::new(),
            consent_rows: Vec::new(),
            id_message: String::new(),
            id_error: false,
            form_rows: Vec::new(),
            material: None,
            review_rows: Vec::new(),
            busy_message: String::new(),
            saved_sent: false,
            saved_title: String::new(),
            saved_detail: String::new(),
            case_number: String::new(),
            can_rate: false,
            receipt_message: String::new(),
            receipt_busy: false,
            receipt_failed: false,
            rating: None,
            reasons: Vec::new(),
            lookup_phase: ui::LookupPhase::Ask,
            lookup_message: String::new(),
            lookup_error: false,
            lookup_rows: Vec::new(),
            result_printable: false,
            result_busy: false,
            goodbye_message: String::new(),
            error_message: String::new(),
        }
    }
}
