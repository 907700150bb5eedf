//! What a screen shows: plain data the `ui` glue copies into Slint. Every
//! text is already in the villager's language.

use model::evaluation::Rating;
use model::Lang;

use super::state::Settings;
use crate::materials::Preview;

/// The materials screen: one material at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialView {
    /// The material's name (材料名称) in the villager's language.
    pub name: String,
    /// 第 1 项，共 2 项
    pub step: String,
    /// What to do, in plain words.
    pub hint: String,
    /// Whether the item requires it (an optional one can be skipped).
    pub required: bool,
    /// Whether it can be scanned here: the material suits the scanner and this terminal has one.
    pub can_scan: bool,
    /// Whether it can be photographed here: the material suits a photo and this terminal has a camera.
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
    /// What was captured, in words (已扫描 2 页); "" before anything is.
    pub captured: String,
    /// Captured by scanning (the retake button says 重新扫描) or photo (重拍).
    pub captured_by_scan: bool,
    /// Why a scan is needed although the e-license library was to be
    /// asked (not found there, no network, the library not answering); "".
    pub reason: String,
}

/// Which screen the UI shows, from the stage the visit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Start: what the kiosk offers, before anything is chosen.
    Home,
    /// The service tiles of one theme ("" all, or 常办), the departments or one department's.
    Services,
    /// Finding an item by typing on the on-screen keyboard.
    Search,
    /// One item's guide (办事指南): what it needs, where, how long.
    Guide,
    /// What the villager agrees to before their card is read.
    Consent,
    /// Asks for the ID card on the reader.
    IdPrompt,
    /// The item's form, with the card's values prefilled.
    Form,
    /// Scanning or photographing the materials, one at a time.
    Materials,
    /// Everything entered and captured, before filing.
    Review,
    /// Saving and sending the filing.
    Submitting,
    /// Filed: sent (with a case number) or saved to send later.
    Saved,
    /// Printing the receipt (回执).
    Receipt,
    /// Rating a service (好差评).
    Rate,
    /// Filings found by ID card: their progress (查进度), or the one to rate.
    Progress,
    /// Filings found by ID card, to print a finished one's result document.
    Result,
    /// The visit is over; thanks before returning home.
    Goodbye,
    /// Something went wrong that the villager cannot fix; the message says whom to ask.
    Error,
}


/// One service tile on the home or theme screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileView {
    /// The item's 实施编码, sent back when the tile is tapped.
    pub code: String,
    /// The item's name in the villager's language.
    pub name: String,
    /// The department (实施主体) that handles it.
    pub department: String,
    /// The promised time limit in words, e.g. 承诺5个工作日办结.
    pub time_limit: String,
    /// False when this terminal cannot file it (e.g. no camera for a face photo); `note` says why.
    pub enabled: bool,
    /// Why the tile is disabled, in the villager's language; "" when enabled.
    pub note: String,
}

/// One theme tab on the home screen (常办, all, or a life event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeView {
    /// "" is all themes.
    pub id: String,
    /// The tab's label.
    pub name: String,
    /// Whether the tab is the one shown.
    pub selected: bool,
}

/// One option of a choice field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceView {
    /// What is stored when chosen.
    pub value: String,
    /// What the villager sees.
    pub label: String,
}

/// One form field with its current value.
#[derive(Debug, Clone, PartialEq)]
pub struct RowView {
    /// The field's key in the form.
    pub key: String,
    /// The field's label in the villager's language.
    pub label: String,
    /// As displayed: the ID number is masked even on the villager's own screen.
    pub value: String,
    /// How the field is edited (keyboard, keypad, choices, date).
    pub kind: ui::FieldKind,
    /// The value came from the ID card and cannot be edited.
    pub readonly: bool,
    /// Why the value was refused, in the villager's language; "" if it is fine.
    pub error: String,
    /// The choices of a choice field; empty for other kinds.
    pub options: Vec<ChoiceView>,
}

/// One reason a villager may tick on the rating screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonView {
    /// The reason's code, as sent with the evaluation.
    pub value: String,
    /// The reason in the villager's language.
    pub label: String,
    /// Whether it is ticked.
    pub selected: bool,
}

/// One filing found by a lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressView {
    /// The item's name in the villager's language.
    pub item: String,
    /// The day it was filed (China time, `YYYY-MM-DD`).
    pub date: String,
    /// Where it stands, in plain words.
    pub status: String,
    /// 办件编号, or "" before the platform gave one.
    pub number: String,
    /// The row's colour: waiting, being handled, done or a problem.
    pub tone: ui::ProgressTone,
    /// The platform's history of the case ("" when only this terminal's record is known).
    pub history: String,
    /// The back office's answer to a bad rating of it, or "".
    pub reply: String,
    /// A bundle filing's items, each with its own words and case number.
    pub parts: Vec<PartView>,
}

/// One item of a bundle filing, inside its row.
#[derive(Debug, Clone, PartialEq)]
pub struct PartView {
    /// The item's name in the kiosk's language.
    pub item: String,
    /// Where it stands, in words.
    pub status: String,
    /// Its own case number, or "" before the hub has said.
    pub number: String,
    /// The colour and sign of `status`.
    pub tone: ui::ProgressTone,
}

/// Everything a screen shows. Plain data; `ui` glue copies it into Slint.
/// Every text is already in `lang`.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Which screen to show.
    pub screen: Screen,
    /// The villager's language; every text here is in it.
    pub lang: Lang,
    /// Large text (大字) is on.
    pub large_text: bool,
    /// High contrast is on.
    pub high_contrast: bool,
    /// Reading aloud is on.
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
    /// Service tiles of the home or theme screen.
    pub services: Vec<TileView>,
    /// Theme tabs of the home screen.
    pub themes: Vec<ThemeView>,
    /// Services: the heading over the tiles ("" for the usual one).
    pub services_heading: String,
    /// Search: what was typed (typed text: never logged).
    pub search_query: String,
    /// Search: the keyboard is up (results update as keys are typed).
    pub search_typing: bool,
    /// Search: how many were found, or what to type, or that nothing was found.
    pub search_message: String,
    /// Search: nothing matched what was typed (browsing is offered).
    pub search_nothing: bool,
    /// The item or bundle the visit is about, in the villager's language.
    pub item_name: String,
    /// Guide screen: (heading, text) rows of the 办事指南.
    pub guide_rows: Vec<(String, String)>,
    /// Consent screen: (heading, text) rows of what the villager agrees to.
    pub consent_rows: Vec<(String, String)>,
    /// ID prompt: what to do, or what went wrong reading the card.
    pub id_message: String,
    /// `id_message` is a problem (shown in the error style).
    pub id_error: bool,
    /// Form screen: the fields with their values.
    pub form_rows: Vec<RowView>,
    /// Materials screen: the current material; None on other screens.
    pub material: Option<MaterialView>,
    /// Review screen: (label, value) rows; the ID number is masked.
    pub review_rows: Vec<(String, String)>,
    /// What is under way on a busy screen (scanning, saving, sending).
    pub busy_message: String,
    /// Saved screen: true if the platform took the filing, false if it waits for the network.
    pub saved_sent: bool,
    /// Saved screen: the headline (已提交 or 已保存…).
    pub saved_title: String,
    /// Saved screen: what happens next.
    pub saved_detail: String,
    /// The platform's 办件编号 once sent; the receipt's local reference while the filing waits.
    pub case_number: String,
    /// Whether 评价 is offered (after a filing).
    pub can_rate: bool,
    /// Receipt screen: how printing goes, in plain words.
    pub receipt_message: String,
    /// Receipt screen: printing is under way.
    pub receipt_busy: bool,
    /// Receipt screen: printing failed; the villager should note the number.
    pub receipt_failed: bool,
    /// Rating screen: the level chosen so far; None before one is.
    pub rating: Option<Rating>,
    /// Rating screen: the reasons offered for that level.
    pub reasons: Vec<ReasonView>,
    /// "ask" | "looking" | "found" | "none"
    pub lookup_phase: ui::LookupPhase,
    /// Lookup screen: what to do or what happened, in plain words.
    pub lookup_message: String,
    /// `lookup_message` is a problem (shown in the error style).
    pub lookup_error: bool,
    /// Lookup screen: the filings found.
    pub lookup_rows: Vec<ProgressView>,
    /// Lookup: only the card is asked for (a receipt this terminal does not know).
    pub lookup_card_only: bool,
    /// Result: a finished case has a document to print here (打印结果文件).
    pub result_printable: bool,
    /// Result: it is being fetched and printed.
    pub result_busy: bool,
    /// Goodbye screen: the parting sentence.
    pub goodbye_message: String,
    /// Error screen: what went wrong and whom to ask.
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
            services_heading: String::new(),
            search_query: String::new(),
            search_typing: false,
            search_message: String::new(),
            search_nothing: false,
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
            lookup_card_only: false,
            result_printable: false,
            result_busy: false,
            goodbye_message: String::new(),
            error_message: String::new(),
        }
    }
}
