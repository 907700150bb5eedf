//! One villager's visit as a plain state machine: events in, effects and a
//! view out. No Slint, no devices, no storage here, so every rule of the
//! journey is unit-tested on its own.
//!
//! Journeys: file an application (services → guide → consent → ID card →
//! form → review → saved → receipt), check progress or a result (receipt QR
//! or number, or ID card), rate the service; each ends on a goodbye screen.
//! The villager's settings (language, large text, high contrast, reading
//! aloud) live beside the journey and apply to every screen.
//!
//! Personal data lives only in the current state; leaving a visit (finish,
//! cancel, idle timeout) drops it, and `Identity`/`Submission` zeroise on drop.
//!
//! Every sentence the villager sees or hears is worded here in Chinese (the
//! message id) and translated when the view is built, through the same `.po`
//! files as the screens (`ui::i18n`), so switching language re-words
//! everything, including device problems, and keeps what was entered.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::sync::Arc;

use model::catalog::{Availability, Fee, FieldError, FieldKind, MaterialSource, Prefill, TimeLimit, TimeUnit};
use model::evaluation::{Evaluation, Rating};
use model::identity::{nation_name_zh, IdentityError};
use model::submission::{Applicant, Channel, Consent, FiledBy};
use model::{
    CaseNumber, Catalog, IdNumber, Identity, ImplementCode, Lang, ServiceItem, Submission, SubmissionId, VillageCode,
};
use time::{Date, OffsetDateTime};
use zeroize::Zeroizing;

use crate::materials::{self, Capture, CaptureKind, Outcome, Preview};
use model::submission::AttachmentRef;

/// Version of the consent text shown on the consent screen.
pub const CONSENT_VERSION: &str = "consent-2026-11-v2";

/// Days a filing is kept after the platform has finished it, as the consent
/// screen says, unless the terminal's `[outbox] retention_days` says
/// otherwise (`Session::set_retention_days`). The outbox's default retention.
pub const RETENTION_DAYS: u64 = 30;

/// Where this session runs: fixed for the life of the kiosk process.
#[derive(Debug, Clone)]
pub struct Terminal {
    pub terminal_id: String,
    pub village_code: VillageCode,
    pub channel: Channel,
}

/// Which optional devices are present, so tiles can say what is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    pub camera: bool,
    pub scanner: bool,
}

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

/// Something that happened: a tap, a device, a worker.
#[derive(Debug)]
pub enum Event {
    /// Home: 我要办事.
    Start,
    /// Services: a theme filter; "" is all.
    ChooseTheme(String),
    ChooseService(String),
    /// Guide: 开始办理.
    StartFiling,
    /// Consent: 同意，继续. (不同意 is `Cancel`.)
    Agree,
    Back,
    Cancel,
    CardRead(Box<Identity>),
    /// The reader failed; the text is a plain Chinese sentence for the
    /// villager (a message id of the `.po` files, translated on screen).
    CardProblem(String),
    FieldEdited { key: String, value: String },
    SubmitForm,
    /// Materials: 扫描 / 拍照 (and 重新扫描 / 重拍).
    CaptureMaterial(CaptureKind),
    /// The scan or photo of `material` is done.
    MaterialCaptured { material: String, capture: Box<Capture> },
    /// The scan or photo failed (a Chinese sentence, as `CardProblem`).
    MaterialFailed(String),
    /// Materials: 下一步 (this material is done, or not needed here).
    NextMaterial,
    /// Materials: 跳过 (optional materials only).
    SkipMaterial,
    /// Whether the hub answered the last sync: the materials screen says
    /// e-licenses need no scan only while online.
    LinkChanged { online: bool },
    Confirm,
    /// The submission is durably in the outbox.
    Saved { id: SubmissionId },
    /// The outbox refused it; nothing was saved. A Chinese sentence, as `CardProblem`.
    SaveFailed(String),
    /// The hub acknowledged it right away.
    Sent { id: SubmissionId, case_number: CaseNumber },
    /// The hub could not be reached; the sync worker sends it later.
    Deferred { id: SubmissionId },
    PrintReceipt,
    Printed,
    /// A Chinese sentence, as `CardProblem`.
    PrintFailed(String),
    /// 完成 (saved, receipt, lookup) and 回首页 (error, goodbye).
    Finish,
    /// Home: 查进度.
    QueryProgress,
    /// Home: 打印结果.
    QueryResult,
    /// Home: 评价.
    RateService,
    /// Saved/receipt: rate this filing.
    RateNow,
    ChooseRating(Rating),
    ToggleReason(String),
    SubmitRating,
    /// A code typed on the keypad or read by a QR scanner: a receipt's case
    /// number or local reference (progress, result, rating), or an item's
    /// implementation code (services).
    CodeEntered(String),
    /// The app's answer to [`Effect::LookUp`], newest first.
    LookedUp(Vec<FilingStatus>),
    /// The lookup itself failed (a Chinese sentence).
    LookupFailed(String),
    /// Progress/result: 再查一次.
    Retry,
    /// Result: 打印结果文件.
    PrintResult,
    /// The result document was printed on the A4 printer.
    ResultPrinted,
    /// It was not (a Chinese sentence, as `CardProblem`).
    ResultPrintFailed(String),
    SetLanguage(Lang),
    ToggleLargeText,
    ToggleHighContrast,
    ToggleVoice,
    /// Which languages the speaker can read aloud.
    VoicesAvailable(Vec<Lang>),
    /// Nobody has touched the screen for a while: count down.
    IdleWarning { seconds_left: u32 },
    /// Idle warning: 继续.
    StillHere,
    IdleTimeout,
}

/// What the kiosk must do for the session.
#[derive(Debug)]
pub enum Effect {
    /// Start polling the ID card reader.
    ReadCard,
    StopCardReader,
    /// Durably enqueue, then try to send at once; answer with `Saved` (or
    /// `SaveFailed`) and then `Sent` or `Deferred`.
    /// With the bytes of every attachment the submission references.
    Submit(Box<Submission>, Vec<(AttachmentRef, Zeroizing<Vec<u8>>)>),
    /// Scan or photograph a material; answer with `MaterialCaptured` or `MaterialFailed`.
    CaptureMaterial { material: String, kind: CaptureKind },
    Print(ReceiptData),
    /// Find filings made on this terminal; answer with `LookedUp` or `LookupFailed`.
    LookUp(Lookup),
    /// Keep a rating and send it to the platform when the link allows.
    StoreRating(RatingRecord),
    /// Fetch this case's result document from the hub and print it on the
    /// A4 printer; answer with `ResultPrinted` or `ResultPrintFailed`.
    PrintResult(CaseNumber),
    /// Read a sentence aloud (replacing whatever is being read).
    Speak { lang: Lang, text: String },
}

/// How a villager's filings are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A case number from the receipt (sent filings).
    Case(CaseNumber),
    /// The local reference from the receipt (filings that waited for the network).
    Reference(SubmissionId),
    /// The villager's ID card: every filing of this card holder on this terminal.
    IdNumber(IdNumber),
}

/// Where one filing stands, as the terminal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingStatus {
    pub reference: SubmissionId,
    pub item_code: ImplementCode,
    pub created_at: OffsetDateTime,
    pub case_number: Option<CaseNumber>,
    pub stage: FilingStage,
    /// The platform has a result document for it that can be printed here.
    pub result_available: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingStage {
    /// Saved here, waiting for the network.
    Waiting,
    /// Delivered to the platform, being handled.
    Delivered,
    /// The platform has finished it.
    Done,
    /// Refused by the platform or stuck; a person must look at it.
    Problem,
}

/// What was rated: a case the platform numbered, or a filing still waiting
/// here (the app links it to its case number once it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingTarget {
    Case(CaseNumber),
    Submission(SubmissionId),
}

/// A 好差评 rating, ready to keep and send. Reasons are stored as their
/// Chinese labels (DESIGN §4: labels, not codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    pub target: RatingTarget,
    pub rating: Rating,
    pub reasons: Vec<String>,
    pub at: OffsetDateTime,
}

impl RatingRecord {
    /// The platform's evaluation, once the case number is known.
    pub fn evaluation(&self) -> Option<Evaluation> {
        match &self.target {
            RatingTarget::Case(case_number) => Some(Evaluation {
                case_number: case_number.clone(),
                rating: self.rating,
                reasons: self.reasons.clone(),
                text: String::new(),
            }),
            RatingTarget::Submission(_) => None,
        }
    }
}

/// What a receipt shows. Only masked personal data. Always in Chinese: the
/// receipt printer speaks GB18030, and the case is handled in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptData {
    pub item_name: String,
    pub applicant_masked: String,
    pub id_number_masked: String,
    pub time: OffsetDateTime,
    pub terminal_id: String,
    pub village_code: String,
    pub status_line: String,
    /// Case number when the platform assigned one.
    pub case_number: Option<CaseNumber>,
    /// The local reference otherwise (the submission id), which the kiosk can
    /// look up once the case number arrives.
    pub reference: String,
}

impl ReceiptData {
    /// What the QR code on the receipt carries.
    pub fn qr_payload(&self) -> &str {
        self.case_number.as_ref().map(CaseNumber::as_str).unwrap_or(&self.reference)
    }
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

impl Screen {
    pub fn name(self) -> &'static str {
        match self {
            Screen::Home => "home",
            Screen::Services => "services",
            Screen::Guide => "guide",
            Screen::Consent => "consent",
            Screen::IdPrompt => "id-prompt",
            Screen::Form => "form",
            Screen::Materials => "materials",
            Screen::Review => "review",
            Screen::Submitting => "submitting",
            Screen::Saved => "saved",
            Screen::Receipt => "receipt",
            Screen::Rate => "rate",
            Screen::Progress => "progress",
            Screen::Result => "result",
            Screen::Goodbye => "goodbye",
            Screen::Error => "error",
        }
    }
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowView {
    pub key: String,
    pub label: String,
    /// As displayed: the ID number is masked even on the villager's own screen.
    pub value: String,
    pub kind: &'static str,
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

/// One filing found by a lookup. `tone`: "done" | "waiting" | "working" | "problem".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressView {
    pub item: String,
    pub date: String,
    pub status: String,
    pub number: String,
    pub tone: &'static str,
}

/// Everything a screen shows. Plain data; `ui` glue copies it into Slint.
/// Every text is already in `lang`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub screen: Screen,
    pub lang: Lang,
    pub large_text: bool,
    pub high_contrast: bool,
    pub voice_on: bool,
    /// Whether the current language can be read aloud at all.
    pub voice_available: bool,
    /// > 0 while the idle warning counts down.
    pub idle_seconds: u32,
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
    pub lookup_phase: &'static str,
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
    fn on(screen: Screen, settings: &Settings) -> View {
        View {
            screen,
            lang: settings.lang,
            large_text: settings.large_text,
            high_contrast: settings.high_contrast,
            voice_on: settings.voice_on,
            voice_available: settings.voices.contains(&settings.lang),
            idle_seconds: 0,
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
            lookup_phase: "ask",
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

/// The villager's settings for this visit. Reset when the visit times out,
/// so the next person starts from the terminal's defaults.
#[derive(Debug, Clone)]
struct Settings {
    lang: Lang,
    large_text: bool,
    high_contrast: bool,
    voice_on: bool,
    /// Languages the speaker can read (not reset: it is the machine's).
    voices: Vec<Lang>,
}

impl Settings {
    fn fresh(voices: Vec<Lang>) -> Settings {
        Settings { lang: Lang::ZhCn, large_text: false, high_contrast: false, voice_on: false, voices }
    }
}

/// A form being filled for one item by one card holder.
struct Draft {
    item: ImplementCode,
    identity: Box<Identity>,
    consent_at: OffsetDateTime,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, FieldError>,
    /// Material code → how it stands (captures zeroise on drop).
    materials: BTreeMap<String, Outcome>,
}

impl Drop for Draft {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.values.values_mut() {
            v.zeroize();
        }
    }
}

/// How the saved submission stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Delivery {
    Sent(CaseNumber),
    Waiting(SubmissionId),
}

/// A filing that is safely saved: what the saved and receipt screens show.
struct Filed {
    item: ImplementCode,
    receipt: ReceiptData,
    delivery: Delivery,
}

impl Filed {
    fn rating_target(&self) -> RatingTarget {
        match &self.delivery {
            Delivery::Sent(case) => RatingTarget::Case(case.clone()),
            Delivery::Waiting(id) => RatingTarget::Submission(*id),
        }
    }
}

/// A problem to show, kept as its message id so it is worded in whatever
/// language is chosen when it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    /// A Chinese sentence from a device or worker.
    Said(String),
    Expired(Date),
    NotYetValid(Date),
    BadCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Progress,
    Result,
    Rate,
}

enum LookupPhase {
    Ask(Option<Problem>),
    Looking,
    Found(Vec<FilingStatus>),
    /// Result: printing the document of a found case.
    Printing(Vec<FilingStatus>, PrintOutcome),
    NotFound,
}

enum State {
    Home,
    Services { theme: String },
    Guide { item: ImplementCode, theme: String },
    Consent { item: ImplementCode, theme: String },
    IdPrompt { item: ImplementCode, consent_at: OffsetDateTime, problem: Option<Problem> },
    Form(Draft),
    /// `index` into the item's materials shown on this screen.
    Materials { draft: Draft, index: usize, busy: Option<CaptureKind>, problem: Option<Problem> },
    Review(Draft),
    Submitting { draft: Draft, id: SubmissionId, saved: bool },
    Saved(Filed),
    Receipt(Filed, PrintOutcome),
    Rate(RateState),
    Lookup { purpose: Purpose, phase: LookupPhase },
    Goodbye { rated: bool },
    Error(Problem),
}

struct RateState {
    target: RatingTarget,
    /// The item, when known (not when rating by a receipt number).
    item: Option<ImplementCode>,
    rating: Option<Rating>,
    reasons: BTreeSet<String>,
    /// Where 不评了 goes back to.
    back: Box<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PrintOutcome {
    Printing,
    Printed,
    Failed(String),
}

/// Optional reasons on the rating screen: (value, Chinese label). Good
/// ratings get praise, the others complaints.
const GOOD_REASONS: [(&str, &str); 4] =
    [("fast", "办得快"), ("easy", "机器好用"), ("clear", "说明清楚"), ("helpful", "工作人员热心")];
const BAD_REASONS: [(&str, &str); 5] = [
    ("slow", "等的时间太长"),
    ("complex", "手续太麻烦"),
    ("machine", "机器不好用"),
    ("unclear", "说明看不懂"),
    ("staff", "工作人员态度不好"),
];

fn reasons_for(rating: Rating) -> &'static [(&'static str, &'static str)] {
    if matches!(rating, Rating::VerySatisfied | Rating::Satisfied) {
        &GOOD_REASONS
    } else {
        &BAD_REASONS
    }
}

pub type Clock = Box<dyn Fn() -> OffsetDateTime + Send>;

pub struct Session {
    catalog: Arc<Catalog>,
    terminal: Terminal,
    caps: Capabilities,
    settings: Settings,
    clock: Clock,
    state: State,
    /// Seconds left of the idle warning, while it shows.
    idle_left: Option<u32>,
    /// What was last read aloud, so a prompt is read once per screen.
    last_spoken: String,
    /// The hub answered the last sync (e-licenses can be fetched).
    online: bool,
    /// What the consent screen promises: the outbox's configured retention.
    retention_days: u64,
}

impl Session {
    pub fn new(catalog: Arc<Catalog>, terminal: Terminal, caps: Capabilities, clock: Clock) -> Session {
        Session {
            catalog,
            terminal,
            caps,
            settings: Settings::fresh(Vec::new()),
            clock,
            state: State::Home,
            idle_left: None,
            last_spoken: String::new(),
            online: false,
            retention_days: RETENTION_DAYS,
        }
    }

    pub fn screen(&self) -> Screen {
        match &self.state {
            State::Home => Screen::Home,
            State::Services { .. } => Screen::Services,
            State::Guide { .. } => Screen::Guide,
            State::Consent { .. } => Screen::Consent,
            State::IdPrompt { .. } => Screen::IdPrompt,
            State::Form(_) => Screen::Form,
            State::Materials { .. } => Screen::Materials,
            State::Review(_) => Screen::Review,
            State::Submitting { .. } => Screen::Submitting,
            State::Saved(_) => Screen::Saved,
            State::Receipt(..) => Screen::Receipt,
            State::Rate(_) => Screen::Rate,
            State::Lookup { purpose: Purpose::Result, .. } => Screen::Result,
            State::Lookup { .. } => Screen::Progress,
            State::Goodbye { .. } => Screen::Goodbye,
            State::Error(_) => Screen::Error,
        }
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang
    }

    /// Whether personal data of a villager is held right now.
    pub fn holds_personal_data(&self) -> bool {
        matches!(self.state, State::Form(_) | State::Materials { .. } | State::Review(_) | State::Submitting { .. })
    }

    /// Replaces the catalog (e.g. after a sync); takes effect on the next visit.
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = catalog;
    }

    pub fn set_capabilities(&mut self, caps: Capabilities) {
        self.caps = caps;
    }

    /// The retention the consent screen states; must be what the outbox
    /// is configured with (`kiosk.toml` `[outbox] retention_days`).
    pub fn set_retention_days(&mut self, days: u64) {
        self.retention_days = days;
    }

    /// Whether the hub answered the last sync.
    pub fn online(&self) -> bool {
        self.online
    }

    /// Applies one event; returns what the kiosk must do.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let was_warning = self.idle_left.is_some();
        let mut force_speak = false;
        let mut effects = match event {
            // Settings change the view, never the journey: what was entered stays.
            Event::SetLanguage(lang) => {
                self.settings.lang = lang;
                vec![]
            }
            Event::ToggleLargeText => {
                self.settings.large_text = !self.settings.large_text;
                vec![]
            }
            Event::ToggleHighContrast => {
                self.settings.high_contrast = !self.settings.high_contrast;
                vec![]
            }
            Event::ToggleVoice => {
                self.settings.voice_on = !self.settings.voice_on;
                // Turning it on reads the current screen at once.
                self.last_spoken.clear();
                vec![]
            }
            Event::VoicesAvailable(langs) => {
                self.settings.voices = langs;
                vec![]
            }
            // The machine's state, not the villager's doing.
            Event::LinkChanged { online } => {
                self.online = online;
                vec![]
            }
            Event::IdleWarning { seconds_left } => {
                if self.state_is_home() {
                    vec![]
                } else {
                    self.idle_left = Some(seconds_left.max(1));
                    // Said aloud even with reading off: someone who stepped
                    // away may hear it and come back.
                    force_speak = !was_warning;
                    vec![]
                }
            }
            Event::StillHere => {
                self.idle_left = None;
                vec![]
            }
            Event::IdleTimeout => {
                self.idle_left = None;
                let state = std::mem::replace(&mut self.state, State::Home);
                let stop = reads_card(&state);
                drop(state);
                // The next person starts from the defaults.
                self.settings = Settings::fresh(std::mem::take(&mut self.settings.voices));
                self.last_spoken.clear();
                if stop {
                    vec![Effect::StopCardReader]
                } else {
                    vec![]
                }
            }
            event => {
                // Any other event is activity: the warning goes away.
                self.idle_left = None;
                let state = std::mem::replace(&mut self.state, State::Home);
                let (next, effects) = self.step(state, event);
                self.state = next;
                effects
            }
        };
        self.speak_if_needed(force_speak, &mut effects);
        effects
    }

    fn state_is_home(&self) -> bool {
        matches!(self.state, State::Home)
    }

    fn speak_if_needed(&mut self, force: bool, effects: &mut Vec<Effect>) {
        let lang = self.settings.lang;
        if !self.settings.voices.contains(&lang) || !(force || self.settings.voice_on) {
            return;
        }
        let prompt = self.prompt();
        if force || prompt != self.last_spoken {
            self.last_spoken = prompt.clone();
            if !prompt.is_empty() {
                effects.push(Effect::Speak { lang, text: prompt });
            }
        }
    }

    fn step(&self, state: State, event: Event) -> (State, Vec<Effect>) {
        use Event as E;
        match (state, event) {
            // Leaving the visit from anywhere drops every trace of it.
            (s, E::Cancel) => {
                let stop = reads_card(&s);
                drop(s);
                (State::Home, if stop { vec![Effect::StopCardReader] } else { vec![] })
            }

            // ---- Filing ----
            (State::Home, E::Start) => (State::Services { theme: String::new() }, vec![]),
            (State::Services { .. }, E::Back) => (State::Home, vec![]),
            (State::Services { .. }, E::ChooseTheme(theme)) => (State::Services { theme }, vec![]),
            // A code held to a scanner on the home screen: an item's QR code
            // opens its guide, a receipt's looks up where the filing stands.
            (State::Home, E::CodeEntered(code)) => match self.item_in_code(&code) {
                Some(item) if self.tile_problem(item).is_none() => {
                    (State::Guide { item: item.implement_code.clone(), theme: String::new() }, vec![])
                }
                Some(_) => (State::Services { theme: String::new() }, vec![]),
                None => match parse_receipt_code(&code) {
                    Some(query) => (
                        State::Lookup { purpose: Purpose::Progress, phase: LookupPhase::Looking },
                        vec![Effect::LookUp(query)],
                    ),
                    None => (State::Home, vec![]),
                },
            },
            (State::Services { theme }, E::ChooseService(code)) => match self.catalog.item(code.trim()) {
                Some(item) if self.tile_problem(item).is_none() => {
                    (State::Guide { item: item.implement_code.clone(), theme }, vec![])
                }
                _ => (State::Services { theme }, vec![]),
            },
            (State::Services { theme }, E::CodeEntered(code)) => {
                match self.item_in_code(&code) {
                    Some(item) if self.tile_problem(item).is_none() => {
                        (State::Guide { item: item.implement_code.clone(), theme }, vec![])
                    }
                    // A disabled or unknown tile or code: stay on the list.
                    _ => (State::Services { theme }, vec![]),
                }
            }
            (State::Guide { theme, .. }, E::Back) => (State::Services { theme }, vec![]),
            (State::Guide { item, theme }, E::StartFiling) => (State::Consent { item, theme }, vec![]),
            (State::Consent { item, theme }, E::Back) => (State::Guide { item, theme }, vec![]),
            (State::Consent { item, .. }, E::Agree) => {
                let consent_at = (self.clock)();
                (State::IdPrompt { item, consent_at, problem: None }, vec![Effect::ReadCard])
            }
            (State::IdPrompt { item, .. }, E::Back) => {
                (State::Guide { item, theme: String::new() }, vec![Effect::StopCardReader])
            }
            (State::IdPrompt { item, consent_at, .. }, E::CardProblem(msg)) => {
                (State::IdPrompt { item, consent_at, problem: Some(Problem::Said(msg)) }, vec![])
            }
            (State::IdPrompt { item, consent_at, .. }, E::CardRead(identity)) => {
                match self.check_card(&identity) {
                    Some(problem) => {
                        // Keep reading: the villager may put another card down.
                        (State::IdPrompt { item, consent_at, problem: Some(problem) }, vec![])
                    }
                    None => {
                        let values = self.prefill(&item, &identity);
                        let draft = Draft {
                            item,
                            identity,
                            consent_at,
                            values,
                            errors: BTreeMap::new(),
                            materials: BTreeMap::new(),
                        };
                        (State::Form(draft), vec![Effect::StopCardReader])
                    }
                }
            }
            (State::Form(mut d), E::FieldEdited { key, value }) => {
                if let Some(field) = self.item_of(&d).form.iter().find(|f| f.key == key) {
                    // Card values can't be edited: they are what the card says.
                    // What the card lacks (a foreign card has no address) is typed.
                    if field.prefill.is_none() || !self.from_card(&d, &key) {
                        d.errors.remove(&key);
                        d.values.insert(key, value);
                    }
                }
                (State::Form(d), vec![])
            }
            (State::Form(mut d), E::SubmitForm) => {
                d.errors = self.item_of(&d).validate_form(&d.values).into_iter().collect();
                if d.errors.is_empty() {
                    self.enter_materials(d, 0)
                } else {
                    (State::Form(d), vec![])
                }
            }
            (State::Form(d), E::Back) => (State::Guide { item: d.item.clone(), theme: String::new() }, vec![]),
            (State::Review(d), E::Back) => match self.screen_materials(&d).len() {
                0 => (State::Form(d), vec![]),
                n => (State::Materials { draft: d, index: n - 1, busy: None, problem: None }, vec![]),
            },
            (State::Materials { draft, index, busy: None, .. }, E::CaptureMaterial(kind)) => {
                let material = self.screen_materials(&draft).get(index).map(|m| (m.code.clone(), materials::fits(m)));
                let usable = |(scan, photo): (bool, bool)| match kind {
                    CaptureKind::Scan => scan && self.caps.scanner,
                    CaptureKind::Photo => photo && self.caps.camera,
                };
                match material {
                    Some((code, fits)) if usable(fits) => (
                        State::Materials { draft, index, busy: Some(kind), problem: None },
                        vec![Effect::CaptureMaterial { material: code, kind }],
                    ),
                    _ => (State::Materials { draft, index, busy: None, problem: None }, vec![]),
                }
            }
            (State::Materials { mut draft, index, busy: Some(_), .. }, E::MaterialCaptured { material, capture }) => {
                let current = self.screen_materials(&draft).get(index).map(|m| m.code.clone());
                if current.as_deref() == Some(material.as_str()) {
                    draft.materials.insert(material, Outcome::Captured(*capture));
                }
                (State::Materials { draft, index, busy: None, problem: None }, vec![])
            }
            (State::Materials { draft, index, busy: Some(_), .. }, E::MaterialFailed(msg)) => {
                (State::Materials { draft, index, busy: None, problem: Some(Problem::Said(msg)) }, vec![])
            }
            (State::Materials { mut draft, index, busy: None, problem }, E::NextMaterial) => {
                let Some(m) = self.screen_materials(&draft).get(index).copied() else {
                    return (State::Review(draft), vec![]);
                };
                let captured = matches!(draft.materials.get(&m.code), Some(Outcome::Captured(_)));
                let outcome = if captured {
                    None
                } else if m.source == MaterialSource::ELicense && self.online {
                    Some(Outcome::ELicense)
                } else if !self.can_capture(m) {
                    Some(Outcome::Paper)
                } else {
                    // Needed, and it can be captured here: scan or photograph it first.
                    return (State::Materials { draft, index, busy: None, problem }, vec![]);
                };
                if let Some(o) = outcome {
                    draft.materials.insert(m.code.clone(), o);
                }
                self.enter_materials(draft, index + 1)
            }
            (State::Materials { mut draft, index, busy: None, problem }, E::SkipMaterial) => {
                match self.screen_materials(&draft).get(index).copied() {
                    Some(m) if !m.required => {
                        // Skipping drops a capture made before: what is kept is what the review shows.
                        draft.materials.insert(m.code.clone(), Outcome::Skipped);
                        self.enter_materials(draft, index + 1)
                    }
                    _ => (State::Materials { draft, index, busy: None, problem }, vec![]),
                }
            }
            (State::Materials { draft, index, busy: None, .. }, E::Back) => match index {
                0 => (State::Form(draft), vec![]),
                i => (State::Materials { draft, index: i - 1, busy: None, problem: None }, vec![]),
            },
            (State::Review(d), E::Confirm) => {
                let (sub, files) = self.build_submission(&d);
                let id = sub.id;
                (State::Submitting { draft: d, id, saved: false }, vec![Effect::Submit(Box::new(sub), files)])
            }
            (State::Submitting { draft, id, .. }, E::Saved { id: got }) if got == id => {
                (State::Submitting { draft, id, saved: true }, vec![])
            }
            (State::Submitting { draft, saved: false, .. }, E::SaveFailed(msg)) => {
                drop(draft);
                (State::Error(Problem::Said(msg)), vec![])
            }
            (State::Submitting { draft, id, saved: true }, E::Sent { id: got, case_number }) if got == id => {
                let receipt = self.receipt(&draft, id, Some(case_number.clone()), "已提交到政务服务平台");
                let item = draft.item.clone();
                (State::Saved(Filed { item, receipt, delivery: Delivery::Sent(case_number) }), vec![])
            }
            (State::Submitting { draft, id, saved: true }, E::Deferred { id: got }) if got == id => {
                let receipt = self.receipt(&draft, id, None, "已保存在本机，网络恢复后自动发送");
                let item = draft.item.clone();
                (State::Saved(Filed { item, receipt, delivery: Delivery::Waiting(id) }), vec![])
            }
            (State::Saved(filed), E::PrintReceipt) => {
                let effect = Effect::Print(filed.receipt.clone());
                (State::Receipt(filed, PrintOutcome::Printing), vec![effect])
            }
            (State::Receipt(filed, _), E::Printed) => (State::Receipt(filed, PrintOutcome::Printed), vec![]),
            (State::Receipt(filed, _), E::PrintFailed(msg)) => {
                (State::Receipt(filed, PrintOutcome::Failed(msg)), vec![])
            }
            (s @ (State::Saved(_) | State::Receipt(..)), E::RateNow) => {
                let (State::Saved(filed) | State::Receipt(filed, _)) = &s else { unreachable!("matched above") };
                let (target, item) = (filed.rating_target(), Some(filed.item.clone()));
                let rate = RateState { target, item, rating: None, reasons: BTreeSet::new(), back: Box::new(s) };
                (State::Rate(rate), vec![])
            }
            (
                State::Saved(_)
                | State::Receipt(..)
                | State::Lookup { phase: LookupPhase::Found(_) | LookupPhase::NotFound, .. }
                | State::Lookup { phase: LookupPhase::Printing(_, PrintOutcome::Printed | PrintOutcome::Failed(_)), .. },
                E::Finish,
            ) => (State::Goodbye { rated: false }, vec![]),
            (State::Error(_) | State::Goodbye { .. }, E::Finish) => (State::Home, vec![]),

            // ---- Progress, result, rating from home ----
            (State::Home, E::QueryProgress) => self.ask(Purpose::Progress),
            (State::Home, E::QueryResult) => self.ask(Purpose::Result),
            (State::Home, E::RateService) => self.ask(Purpose::Rate),
            (State::Lookup { phase: LookupPhase::Ask(_), .. }, E::Back) => {
                (State::Home, vec![Effect::StopCardReader])
            }
            (State::Lookup { purpose, phase: LookupPhase::Ask(_) }, E::CardProblem(msg)) => {
                (State::Lookup { purpose, phase: LookupPhase::Ask(Some(Problem::Said(msg))) }, vec![])
            }
            (State::Lookup { purpose, phase: LookupPhase::Ask(_) }, E::CardRead(identity)) => {
                // Only the number is used, to find the card holder's filings;
                // the rest of the card is dropped here. An expired card still
                // says who you are.
                let query = Lookup::IdNumber(identity.id_number.clone());
                drop(identity);
                (
                    State::Lookup { purpose, phase: LookupPhase::Looking },
                    vec![Effect::StopCardReader, Effect::LookUp(query)],
                )
            }
            (State::Lookup { purpose, phase: LookupPhase::Ask(_) }, E::CodeEntered(code)) => {
                match parse_receipt_code(&code) {
                    None => (State::Lookup { purpose, phase: LookupPhase::Ask(Some(Problem::BadCode)) }, vec![]),
                    // A receipt names its filing: rating needs no lookup.
                    Some(query) if purpose == Purpose::Rate => {
                        let target = match query {
                            Lookup::Case(c) => RatingTarget::Case(c),
                            Lookup::Reference(r) => RatingTarget::Submission(r),
                            Lookup::IdNumber(_) => unreachable!("not from a code"),
                        };
                        let rate = RateState {
                            target,
                            item: None,
                            rating: None,
                            reasons: BTreeSet::new(),
                            back: Box::new(State::Home),
                        };
                        (State::Rate(rate), vec![Effect::StopCardReader])
                    }
                    Some(query) => (
                        State::Lookup { purpose, phase: LookupPhase::Looking },
                        vec![Effect::StopCardReader, Effect::LookUp(query)],
                    ),
                }
            }
            (State::Lookup { purpose, phase: LookupPhase::Looking }, E::LookedUp(found)) => {
                if found.is_empty() {
                    (State::Lookup { purpose, phase: LookupPhase::NotFound }, vec![])
                } else if purpose == Purpose::Rate {
                    // The newest filing; the rating screen names it.
                    let newest = &found[0];
                    let target = match &newest.case_number {
                        Some(c) => RatingTarget::Case(c.clone()),
                        None => RatingTarget::Submission(newest.reference),
                    };
                    let rate = RateState {
                        target,
                        item: Some(newest.item_code.clone()),
                        rating: None,
                        reasons: BTreeSet::new(),
                        back: Box::new(State::Home),
                    };
                    (State::Rate(rate), vec![])
                } else {
                    (State::Lookup { purpose, phase: LookupPhase::Found(found) }, vec![])
                }
            }
            (State::Lookup { purpose, phase: LookupPhase::Looking }, E::LookupFailed(msg)) => {
                (State::Lookup { purpose, phase: LookupPhase::Ask(Some(Problem::Said(msg))) }, vec![Effect::ReadCard])
            }
            (State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Found(found) }, E::PrintResult) => {
                match printable(&found) {
                    Some(case) => {
                        let effect = Effect::PrintResult(case.clone());
                        (
                            State::Lookup {
                                purpose: Purpose::Result,
                                phase: LookupPhase::Printing(found, PrintOutcome::Printing),
                            },
                            vec![effect],
                        )
                    }
                    None => (State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Found(found) }, vec![]),
                }
            }
            (
                State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Printing(found, PrintOutcome::Printing) },
                E::ResultPrinted,
            ) => (State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Printing(found, PrintOutcome::Printed) }, vec![]),
            (
                State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Printing(found, PrintOutcome::Printing) },
                E::ResultPrintFailed(msg),
            ) => (
                State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Printing(found, PrintOutcome::Failed(msg)) },
                vec![],
            ),
            // Printed or failed: 再打印一份 / try again.
            (
                State::Lookup {
                    purpose: Purpose::Result,
                    phase: LookupPhase::Printing(found, PrintOutcome::Printed | PrintOutcome::Failed(_)),
                },
                E::PrintResult,
            ) => {
                let effect = printable(&found).map(|c| Effect::PrintResult(c.clone()));
                (
                    State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Printing(found, PrintOutcome::Printing) },
                    effect.into_iter().collect(),
                )
            }
            (
                State::Lookup {
                    purpose,
                    phase: LookupPhase::Printing(_, PrintOutcome::Printed | PrintOutcome::Failed(_)),
                },
                E::Retry,
            ) => (State::Lookup { purpose, phase: LookupPhase::Ask(None) }, vec![Effect::ReadCard]),
            (State::Lookup { purpose, phase: LookupPhase::Found(_) | LookupPhase::NotFound }, E::Retry) => {
                (State::Lookup { purpose, phase: LookupPhase::Ask(None) }, vec![Effect::ReadCard])
            }

            // ---- Rating ----
            (State::Rate(mut r), E::ChooseRating(rating)) => {
                // Praise and complaints are different lists: a new kind clears them.
                if r.rating.is_some_and(|old| reasons_for(old) != reasons_for(rating)) {
                    r.reasons.clear();
                }
                r.rating = Some(rating);
                (State::Rate(r), vec![])
            }
            (State::Rate(mut r), E::ToggleReason(value)) => {
                let known = r.rating.is_some_and(|rating| reasons_for(rating).iter().any(|(v, _)| *v == value));
                if known && !r.reasons.remove(&value) {
                    r.reasons.insert(value);
                }
                (State::Rate(r), vec![])
            }
            (State::Rate(r), E::SubmitRating) => match r.rating {
                Some(rating) => {
                    let reasons = reasons_for(rating)
                        .iter()
                        .filter(|(v, _)| r.reasons.contains(*v))
                        .map(|(_, label)| (*label).to_owned())
                        .collect();
                    let record = RatingRecord { target: r.target.clone(), rating, reasons, at: (self.clock)() };
                    (State::Goodbye { rated: true }, vec![Effect::StoreRating(record)])
                }
                None => (State::Rate(r), vec![]),
            },
            (State::Rate(r), E::Back) => (*r.back, vec![]),

            // Anything else (a late device event, a double tap) changes nothing.
            (s, _) => (s, vec![]),
        }
    }

    /// The catalog item a scanned code names: the implementation code
    /// itself, or a link that carries it (item QR codes on posters are often
    /// URLs of the provincial portal with the code as a path segment or
    /// query value).
    fn item_in_code(&self, code: &str) -> Option<&ServiceItem> {
        let code = code.trim();
        self.catalog.item(code).or_else(|| {
            code.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).find_map(|t| self.catalog.item(t))
        })
    }

    fn ask(&self, purpose: Purpose) -> (State, Vec<Effect>) {
        (State::Lookup { purpose, phase: LookupPhase::Ask(None) }, vec![Effect::ReadCard])
    }

    fn check_card(&self, identity: &Identity) -> Option<Problem> {
        let today = (self.clock)().date();
        match identity.check_valid_on(today) {
            Ok(()) => None,
            Err(IdentityError::Expired(d)) => Some(Problem::Expired(d)),
            Err(IdentityError::NotYetValid(d)) => Some(Problem::NotYetValid(d)),
        }
    }

    fn item_of(&self, d: &Draft) -> &ServiceItem {
        // A draft is only made for an item of the catalog it was chosen from;
        // a catalog swap mid-visit keeps the old `Arc` alive in `self.catalog`
        // only for new visits, so fall back to the first item defensively.
        self.catalog.item(d.item.as_str()).unwrap_or(&self.catalog.items[0])
    }

    /// Why a tile is disabled, in plain words (a message id), or None when it can be used.
    fn tile_problem(&self, item: &ServiceItem) -> Option<&'static str> {
        if item.availability == Availability::AssistedOnly && self.terminal.channel == Channel::SelfServiceTerminal {
            return Some("需由工作人员帮办，请联系村代办员");
        }
        if item.needs(MaterialSource::FacePhoto) && !self.caps.camera {
            return Some("需要拍照，本机摄像头暂不可用");
        }
        None
    }

    /// Whether the card gave this field its value (then it is read-only).
    fn from_card(&self, d: &Draft, key: &str) -> bool {
        self.item_of(d).form.iter().any(|f| f.key == key && f.prefill.is_some())
            && !self.prefill(&d.item, &d.identity).get(key).is_none_or(String::is_empty)
    }

    fn prefill(&self, item: &ImplementCode, id: &Identity) -> BTreeMap<String, String> {
        let Some(item) = self.catalog.item(item.as_str()) else { return BTreeMap::new() };
        item.form
            .iter()
            .filter_map(|f| {
                let v = match f.prefill? {
                    Prefill::Name => id.name.clone(),
                    Prefill::IdNumber => id.id_number.expose().to_owned(),
                    Prefill::Gender => id.gender.code().to_owned(),
                    Prefill::BirthDate => id.birth_date.to_string(),
                    Prefill::Address => id.address.clone(),
                    Prefill::Nation => id.nation_code.clone(),
                };
                // A card without it (foreign cards have no address or 民族): typed instead.
                (!v.is_empty()).then(|| (f.key.clone(), v))
            })
            .collect()
    }

    /// The item's materials shown on the materials screen, in catalog order:
    /// those this terminal has a device for. The others go to the village
    /// assistant on paper (the guide and the review say so); a screen of
    /// things the terminal cannot do would only be one more tap.
    fn screen_materials<'a>(&'a self, d: &Draft) -> Vec<&'a model::catalog::Material> {
        self.item_of(d)
            .materials
            .iter()
            .filter(|m| materials::on_materials_screen(m) && self.can_capture(m))
            .collect()
    }

    /// Whether this terminal has a device for a material.
    fn can_capture(&self, m: &model::catalog::Material) -> bool {
        let (scan, photo) = materials::fits(m);
        (scan && self.caps.scanner) || (photo && self.caps.camera)
    }

    /// The materials screen at `index`, or the review once all are done.
    fn enter_materials(&self, d: Draft, index: usize) -> (State, Vec<Effect>) {
        if index < self.screen_materials(&d).len() {
            (State::Materials { draft: d, index, busy: None, problem: None }, vec![])
        } else {
            (State::Review(d), vec![])
        }
    }

    fn build_submission(&self, d: &Draft) -> (Submission, Vec<(AttachmentRef, Zeroizing<Vec<u8>>)>) {
        let now = (self.clock)();
        // Catalog order, so the same filing always lists its files the same way.
        let captured = self.screen_materials(d).into_iter().filter_map(|m| match d.materials.get(&m.code) {
            Some(Outcome::Captured(c)) => Some((m.code.as_str(), c)),
            _ => None,
        });
        let files = materials::attachments(captured);
        let sub = Submission {
            id: SubmissionId::new(),
            item_code: d.item.clone(),
            bundle_code: None,
            applicant: Applicant::from(&*d.identity),
            form: d.values.clone(),
            attachments: files.iter().map(|(r, _)| r.clone()).collect(),
            consent: Consent { text_version: CONSENT_VERSION.to_owned(), given_at: d.consent_at },
            // The villager's own session; assisted filings are built in `assisted.rs`.
            filed_by: FiledBy::SelfServiceTerminal,
            village_code: self.terminal.village_code.clone(),
            created_at: now,
            terminal_id: self.terminal.terminal_id.clone(),
        };
        (sub, files)
    }

    fn receipt(&self, d: &Draft, id: SubmissionId, case_number: Option<CaseNumber>, status: &str) -> ReceiptData {
        ReceiptData {
            item_name: self.item_of(d).name.get(Lang::ZhCn).to_owned(),
            applicant_masked: d.identity.masked_name(),
            id_number_masked: d.identity.id_number.masked(),
            time: (self.clock)(),
            terminal_id: self.terminal.terminal_id.clone(),
            village_code: self.terminal.village_code.as_str().to_owned(),
            status_line: status.to_owned(),
            case_number,
            reference: id.to_string(),
        }
    }

    // ---------------------------------------------------------- wording ----

    /// A sentence in the villager's language (the message id is the Chinese).
    fn t(&self, msgid: &str) -> String {
        ui::i18n::tr(self.settings.lang.code(), msgid)
    }

    /// [`Self::t`] with `{}` placeholders.
    fn tf(&self, msgid: &str, args: &[&dyn Display]) -> String {
        ui::i18n::tr_args(self.settings.lang.code(), msgid, args)
    }

    fn problem_text(&self, p: &Problem) -> String {
        match p {
            Problem::Said(msg) => self.t(msg),
            Problem::Expired(d) => self.tf("这张身份证已过期（{}），请换一张有效证件，或到乡镇办理。", &[d]),
            Problem::NotYetValid(d) => self.tf("这张身份证 {} 才生效，请换一张有效证件。", &[d]),
            Problem::BadCode => self.t("这个号码查不到，请再看一下回执上的号码，或者放身份证来查。"),
        }
    }

    fn field_error(&self, e: &FieldError) -> String {
        match e {
            FieldError::Missing => self.t("请填写此项"),
            FieldError::TooLong(n) => self.tf("最多{}个字", &[n]),
            FieldError::NotDigits => self.t("只能填数字"),
            FieldError::DigitCount { min, max } => self.tf("应为{}到{}位数字", &[min, max]),
            FieldError::Phone => self.t("手机号应为1开头的11位数字"),
            FieldError::NotAnOption => self.t("请从选项中选择"),
            FieldError::Date => self.t("日期格式应为 年-月-日"),
        }
    }

    fn time_limit(&self, limit: &TimeLimit) -> String {
        match limit.unit {
            TimeUnit::Immediate => self.t("当场办结"),
            TimeUnit::WorkingDays => self.tf("{}个工作日", &[&limit.amount]),
            TimeUnit::NaturalDays => self.tf("{}天", &[&limit.amount]),
        }
    }

    fn fee(&self, fee: &Fee) -> String {
        match fee {
            Fee::Free => self.t("不收费"),
            Fee::Charged { fen } => self.tf("{} 元", &[&format!("{}.{:02}", fen / 100, fen % 100)]),
        }
    }

    fn item_name(&self, code: &ImplementCode) -> String {
        let lang = self.settings.lang;
        self.catalog.item(code.as_str()).map(|i| i.name.get(lang).to_owned()).unwrap_or_default()
    }

    /// What reading aloud says on the current screen.
    pub fn prompt(&self) -> String {
        if self.idle_left.is_some() {
            return self.t("您还在吗？要继续的话，请点「继续」。不然，您填写的内容会被清除。");
        }
        let v = self.view_without_prompt();
        match &self.state {
            State::Home => self.t("您好！要办事，请点「我要办事」。查进度、打印结果和评价，也在这一页。"),
            State::Services { .. } => self.t("请选择要办的事，点一下事项的名字。"),
            State::Guide { item, .. } => {
                self.sentences(&self.item_name(item), &self.t("请看办事指南，准备好了请点「开始办理」。"))
            }
            State::Consent { .. } => {
                self.t("办理要读取您的身份证，并把您填写的信息交给政务服务平台。同意的话，请点「同意，继续」。")
            }
            State::IdPrompt { .. } => v.id_message,
            State::Form(d) => {
                if d.errors.is_empty() {
                    self.t("请核对信息，蓝框的请点一下填写，填好后请点「下一步」。")
                } else {
                    self.tf("有 {} 项要改一改，请看红色的提示。", &[&d.errors.len()])
                }
            }
            State::Materials { .. } => match &v.material {
                Some(m) if !m.problem.is_empty() => m.problem.clone(),
                Some(m) if m.busy => v.busy_message,
                Some(m) => self.sentences(&m.name, &m.hint),
                None => String::new(),
            },
            State::Review(_) => self.t("请核对信息，对的话请点「确认提交」。"),
            State::Submitting { .. } => v.busy_message,
            State::Saved(_) => self.sentences(&v.saved_title, &v.saved_detail),
            State::Receipt(..) => v.receipt_message,
            State::Rate(_) => self.t("这次办得怎么样？请点一个笑脸，再点「提交评价」。"),
            State::Lookup { phase: LookupPhase::Ask(Some(p)), .. } => self.problem_text(p),
            State::Lookup { phase: LookupPhase::Ask(None), .. } => {
                self.t("请把回执上的二维码对准扫码口，或者把身份证放在读卡器上。")
            }
            State::Lookup { phase: LookupPhase::Looking, .. } => self.t("正在查询，请稍等。"),
            State::Lookup { .. } => v.lookup_message,
            State::Goodbye { .. } => v.goodbye_message,
            State::Error(_) => v.error_message,
        }
    }

    /// What the screen shows now.
    pub fn view(&self) -> View {
        let mut v = self.view_without_prompt();
        v.prompt = self.prompt();
        v
    }

    fn view_without_prompt(&self) -> View {
        let lang = self.settings.lang;
        let mut v = View::on(self.screen(), &self.settings);
        v.idle_seconds = self.idle_left.unwrap_or(0);
        match &self.state {
            State::Home => {}
            State::Error(p) => {
                v.error_message = self.tf(
                    "没有保存成功：{}。您的信息没有留在本机，请稍后再试或联系村代办员。",
                    &[&self.problem_text(p)],
                );
            }
            State::Services { theme } => {
                v.themes = std::iter::once(ThemeView {
                    id: String::new(),
                    name: self.t("全部"),
                    selected: theme.is_empty(),
                })
                .chain(self.catalog.themes.iter().filter(|t| self.catalog.items_in_theme(&t.id).next().is_some()).map(
                    |t| ThemeView { id: t.id.clone(), name: t.name.get(lang).to_owned(), selected: *theme == t.id },
                ))
                .collect();
                v.services = self
                    .catalog
                    .items
                    .iter()
                    .filter(|item| theme.is_empty() || item.theme == *theme)
                    .map(|item| {
                        let problem = self.tile_problem(item);
                        TileView {
                            code: item.implement_code.to_string(),
                            name: item.name.get(lang).to_owned(),
                            department: item.department.get(lang).to_owned(),
                            time_limit: self.tf("承诺{}办结", &[&self.time_limit(&item.promised_time_limit)]),
                            enabled: problem.is_none(),
                            note: problem.map(|p| self.t(p)).unwrap_or_default(),
                        }
                    })
                    .collect();
            }
            State::Guide { item, .. } | State::Consent { item, .. } => {
                v.item_name = self.item_name(item);
                if let Some(item) = self.catalog.item(item.as_str()) {
                    if matches!(self.state, State::Guide { .. }) {
                        v.guide_rows = self.guide_rows(item);
                    } else {
                        v.consent_rows = self.consent_rows(item);
                    }
                }
            }
            State::IdPrompt { item, problem, .. } => {
                v.item_name = self.item_name(item);
                match problem {
                    Some(p) => {
                        v.id_message = self.problem_text(p);
                        v.id_error = true;
                    }
                    None => v.id_message = self.t("请把身份证放在读卡器上，不要拿开"),
                }
            }
            State::Form(d) => {
                v.item_name = self.item_name(&d.item);
                v.form_rows = self.rows(d);
            }
            State::Materials { draft, index, busy, problem } => {
                v.item_name = self.item_name(&draft.item);
                v.material = self.material_view(draft, *index, *busy, problem.as_ref());
                if let Some(kind) = busy {
                    v.busy_message = match kind {
                        CaptureKind::Scan => self.t("正在扫描，请不要打开盖子…"),
                        CaptureKind::Photo => self.t("正在拍照，请不要动…"),
                    };
                }
            }
            State::Review(d) => {
                v.item_name = self.item_name(&d.item);
                v.review_rows = self
                    .rows(d)
                    .into_iter()
                    .map(|r| {
                        // Show the chosen option's words, not its code.
                        let shown = r.options.iter().find(|o| o.value == r.value).map(|o| o.label.clone());
                        (r.label, shown.unwrap_or(r.value))
                    })
                    .collect();
                // Each material and how it stands.
                for m in self.item_of(d).materials.iter().filter(|m| m.source != MaterialSource::IdCard) {
                    let status = match d.materials.get(&m.code) {
                        Some(Outcome::Captured(c)) => self.captured_words(c),
                        Some(Outcome::ELicense) => self.t("从电子证照库调取，不用扫描"),
                        Some(Outcome::Skipped) => self.t("没有提交（可以不交）"),
                        Some(Outcome::Paper) | None => self.t("请把纸质材料交给村代办员"),
                    };
                    v.review_rows.push((m.name.get(lang).to_owned(), status));
                }
            }
            State::Submitting { draft, saved, .. } => {
                v.item_name = self.item_name(&draft.item);
                v.busy_message = if *saved {
                    self.t("已保存在本机，正在发送到政务服务平台…")
                } else {
                    self.t("正在保存您的申请，请稍候…")
                };
            }
            State::Saved(filed) | State::Receipt(filed, _) => {
                v.item_name = self.item_name(&filed.item);
                v.can_rate = true;
                match &filed.delivery {
                    Delivery::Sent(case) => {
                        v.saved_sent = true;
                        v.saved_title = self.t("已提交");
                        v.saved_detail = self.t("您的申请已送到政务服务平台。请记好办件编号，可凭回执查询进度。");
                        v.case_number = case.to_string();
                    }
                    Delivery::Waiting(_) => {
                        v.saved_sent = false;
                        v.saved_title = self.t("已保存，网络恢复后自动发送");
                        v.saved_detail = self.t(
                            "现在没有网络。您的申请已安全保存在本机，网络恢复后会自动发送，不用再跑一趟。",
                        );
                        v.case_number = filed.receipt.reference.clone();
                    }
                }
                if let State::Receipt(_, outcome) = &self.state {
                    match outcome {
                        PrintOutcome::Printing => {
                            v.receipt_message = self.t("正在打印回执…");
                            v.receipt_busy = true;
                        }
                        PrintOutcome::Printed => v.receipt_message = self.t("回执已打印，请从出纸口取走"),
                        PrintOutcome::Failed(msg) => {
                            v.receipt_message =
                                self.tf("回执没有打印出来：{}。请记下上面的编号。", &[&self.t(msg)]);
                            v.receipt_failed = true;
                        }
                    }
                }
            }
            State::Rate(r) => {
                v.item_name = match (&r.item, &r.target) {
                    (Some(code), _) => self.item_name(code),
                    (None, RatingTarget::Case(c)) => self.tf("办件编号 {}", &[c]),
                    (None, RatingTarget::Submission(_)) => String::new(),
                };
                v.rating = r.rating;
                if let Some(rating) = r.rating {
                    v.reasons = reasons_for(rating)
                        .iter()
                        .map(|(value, label)| ReasonView {
                            value: (*value).to_owned(),
                            label: self.t(label),
                            selected: r.reasons.contains(*value),
                        })
                        .collect();
                }
            }
            State::Lookup { purpose, phase } => match phase {
                LookupPhase::Ask(problem) => {
                    v.lookup_phase = "ask";
                    if let Some(p) = problem {
                        v.lookup_message = self.problem_text(p);
                        v.lookup_error = true;
                    } else if *purpose == Purpose::Rate {
                        v.lookup_message = self.t("先找到要评价的那件事。");
                    }
                }
                LookupPhase::Looking => v.lookup_phase = "looking",
                LookupPhase::NotFound => {
                    v.lookup_phase = "none";
                    v.lookup_message = self.t(
                        "这台机器上没有查到。如果是在别处办的，或者已经过了很久，请问村代办员或乡镇便民服务中心。",
                    );
                }
                LookupPhase::Found(found) => {
                    v.lookup_phase = "found";
                    v.lookup_rows = found.iter().map(|f| self.progress_row(f)).collect();
                    v.lookup_message = if *purpose == Purpose::Result {
                        if printable(found).is_some() {
                            v.result_printable = true;
                            self.t("有办结的事，结果文件可以在这里打印。请点「打印结果文件」。")
                        } else if found.iter().any(|f| f.stage == FilingStage::Done) {
                            self.t("有办结的事，但这里没有可以打印的结果文件，请带上回执到乡镇便民服务中心领取。")
                        } else {
                            self.t("还没有可以打印的结果。办结以后，会有短信告诉您。")
                        }
                    } else {
                        self.tf("查到 {} 件：", &[&found.len()])
                    };
                }
                LookupPhase::Printing(found, outcome) => {
                    v.lookup_phase = "found";
                    v.lookup_rows = found.iter().map(|f| self.progress_row(f)).collect();
                    v.result_printable = true;
                    match outcome {
                        PrintOutcome::Printing => {
                            v.result_busy = true;
                            v.lookup_message = self.t("正在打印结果文件，请稍等…");
                        }
                        PrintOutcome::Printed => v.lookup_message = self.t("结果文件已打印，请从打印机取走。"),
                        PrintOutcome::Failed(msg) => {
                            v.lookup_error = true;
                            v.lookup_message = self.tf(
                                "结果文件没有打印出来：{}。请带上回执到乡镇便民服务中心领取。",
                                &[&self.t(msg)],
                            );
                        }
                    }
                }
            },
            State::Goodbye { rated } => {
                v.goodbye_message = if *rated {
                    self.t("谢谢您的评价！请带好您的身份证和回执。")
                } else {
                    self.t("请带好您的身份证和回执。")
                };
            }
        }
        v
    }

    /// Two sentences read one after the other, with the full stop of the language.
    fn sentences(&self, first: &str, second: &str) -> String {
        let stop = match self.settings.lang {
            Lang::ZhCn => "。",
            Lang::Bo => "། ",
            Lang::Kk | Lang::En => ". ",
        };
        format!("{first}{stop}{second}")
    }

    fn list_separator(&self) -> &'static str {
        match self.settings.lang {
            Lang::ZhCn => "、",
            Lang::Kk => "، ",
            Lang::Bo => "། ",
            Lang::En => ", ",
        }
    }

    fn guide_rows(&self, item: &ServiceItem) -> Vec<(String, String)> {
        let lang = self.settings.lang;
        let materials: Vec<String> = item
            .materials
            .iter()
            .map(|m| {
                let name = m.name.get(lang);
                if m.required {
                    name.to_owned()
                } else {
                    self.tf("{}（没有也可以）", &[&name])
                }
            })
            .collect();
        let mut rows = vec![
            (self.t("谁可以办"), item.conditions.get(lang).to_owned()),
            (self.t("要带的材料"), materials.join(self.list_separator())),
            (self.t("多久办好"), self.tf("承诺{}办结", &[&self.time_limit(&item.promised_time_limit)])),
            (self.t("收费"), self.fee(&item.fee)),
            (self.t("办理部门"), item.department.get(lang).to_owned()),
        ];
        let paper = item.materials.iter().any(|m| matches!(m.source, MaterialSource::Scan | MaterialSource::ELicense));
        if paper && (self.caps.scanner || self.caps.camera) {
            rows.push((self.t("请注意"), self.t("纸质材料在填完表以后，在这台机器上扫描或拍照，请准备好。")));
        } else if paper || item.needs(MaterialSource::Signature) {
            rows.push((
                self.t("请注意"),
                self.t("要交的纸质材料，这台机器现在还不能扫描，请交给村代办员，或者带到乡镇便民服务中心。"),
            ));
        }
        rows
    }

    fn consent_rows(&self, item: &ServiceItem) -> Vec<(String, String)> {
        let lang = self.settings.lang;
        vec![
            (
                self.t("要用哪些信息"),
                self.t("身份证上的姓名、号码、性别、民族、出生日期、住址，和您在这里填写的内容。身份证照片不保存。"),
            ),
            (
                self.t("用来做什么"),
                self.tf("只用来办理「{}」，交给{}。", &[&item.name.get(lang), &item.department.get(lang)]),
            ),
            (
                self.t("保存多久"),
                self.tf(
                    "在这台机器上加密保存，送到政务服务平台办结后 {} 天删除。屏幕上和回执上的号码会遮住一部分。",
                    &[&self.retention_days],
                ),
            ),
            (self.t("谁能看到"), self.t("只有办理这件事的政府工作人员。村代办员和别的村民看不到。")),
        ]
    }

    /// 已扫描 2 页 / 已拍照.
    fn captured_words(&self, c: &Capture) -> String {
        match c.kind {
            CaptureKind::Scan => self.tf("已扫描 {} 页", &[&c.files.len()]),
            CaptureKind::Photo => self.t("已拍照"),
        }
    }

    fn material_view(
        &self,
        d: &Draft,
        index: usize,
        busy: Option<CaptureKind>,
        problem: Option<&Problem>,
    ) -> Option<MaterialView> {
        let list = self.screen_materials(d);
        let m = *list.get(index)?;
        let (fits_scan, fits_photo) = materials::fits(m);
        let (can_scan, can_photo) = (fits_scan && self.caps.scanner, fits_photo && self.caps.camera);
        let captured = match d.materials.get(&m.code) {
            Some(Outcome::Captured(c)) => Some(c),
            _ => None,
        };
        let e_license = m.source == MaterialSource::ELicense && self.online;
        let name = m.name.get(self.settings.lang).to_owned();
        let hint = if captured.is_some() {
            self.t("请看一下是否清楚。不清楚的话可以重新来；清楚的话请点「下一步」。")
        } else if e_license {
            self.t("这份材料可以从电子证照库调取，不用扫描，请点「下一步」。")
        } else if !can_scan && !can_photo {
            self.t("本机现在不能扫描或拍照，请把纸质材料交给村代办员。")
        } else if m.source == MaterialSource::FacePhoto {
            self.t("请正对摄像头，摘下帽子和眼镜，再点「拍照」。")
        } else if m.source == MaterialSource::Photo {
            self.t("请把照片放在摄像头下面，再点「拍照」。")
        } else if can_scan {
            if m.source == MaterialSource::ELicense {
                self.t("现在没有网络，不能调取电子证照。请把材料打开，面朝下放在扫描仪玻璃上，盖好盖子，再点「扫描」。")
            } else {
                self.t("请把材料打开，面朝下放在扫描仪玻璃上，盖好盖子，再点「扫描」。")
            }
        } else {
            self.t("请把材料平放在摄像头下面，再点「拍照」。")
        };
        Some(MaterialView {
            name,
            step: self.tf("第 {} 项，共 {} 项", &[&(index + 1), &list.len()]),
            hint,
            required: m.required,
            can_scan,
            can_photo,
            can_skip: !m.required,
            can_next: captured.is_some() || e_license || (!can_scan && !can_photo),
            busy: busy.is_some(),
            problem: problem.map(|p| self.problem_text(p)).unwrap_or_default(),
            preview: captured.map(|c| c.preview.clone()),
            captured: captured.map(|c| self.captured_words(c)).unwrap_or_default(),
            captured_by_scan: captured.is_some_and(|c| c.kind == CaptureKind::Scan),
        })
    }

    fn progress_row(&self, f: &FilingStatus) -> ProgressView {
        let (status, tone) = match f.stage {
            FilingStage::Waiting => (self.t("已保存在本机，等网络好了就发送"), "waiting"),
            FilingStage::Delivered => (self.t("已交到政务服务平台，正在办理"), "working"),
            FilingStage::Done => (self.t("已经办结"), "done"),
            FilingStage::Problem => (self.t("发送遇到问题，请找村代办员"), "problem"),
        };
        let china = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
        ProgressView {
            item: self.item_name(&f.item_code),
            date: f.created_at.to_offset(china).date().to_string(),
            status,
            number: f.case_number.as_ref().map(CaseNumber::to_string).unwrap_or_default(),
            tone,
        }
    }

    fn rows(&self, d: &Draft) -> Vec<RowView> {
        let lang = self.settings.lang;
        self.item_of(d)
            .form
            .iter()
            .map(|f| {
                let raw = d.values.get(&f.key).cloned().unwrap_or_default();
                let (kind, options) = match &f.kind {
                    FieldKind::Text { .. } => ("text", vec![]),
                    FieldKind::Digits { .. } => ("digits", vec![]),
                    FieldKind::Phone => ("phone", vec![]),
                    FieldKind::Date => ("date", vec![]),
                    FieldKind::Choice { options } => (
                        "choice",
                        options
                            .iter()
                            .map(|o| ChoiceView { value: o.value.clone(), label: o.label.get(lang).to_owned() })
                            .collect(),
                    ),
                };
                let value = match f.prefill {
                    Some(Prefill::IdNumber) => d.identity.id_number.masked(),
                    Some(Prefill::Nation) => nation_name_zh(&raw).map(|n| self.t(n)).unwrap_or(raw),
                    Some(Prefill::Gender) => self.t(d.identity.gender.label_zh()),
                    _ => raw,
                };
                RowView {
                    key: f.key.clone(),
                    label: f.label.get(lang).to_owned(),
                    value,
                    kind,
                    readonly: self.from_card(d, &f.key),
                    error: d.errors.get(&f.key).map(|e| self.field_error(e)).unwrap_or_default(),
                    options,
                }
            })
            .collect()
    }

}

/// The case whose result document can be printed: the newest finished one
/// the platform has a document for.
fn printable(found: &[FilingStatus]) -> Option<&CaseNumber> {
    found
        .iter()
        .filter(|f| f.stage == FilingStage::Done && f.result_available)
        .find_map(|f| f.case_number.as_ref())
}

/// Whether the card reader is on in this state (and must be stopped on leaving).
fn reads_card(state: &State) -> bool {
    matches!(state, State::IdPrompt { .. } | State::Lookup { phase: LookupPhase::Ask(_), .. })
}

/// What a receipt's QR code or typed number is: a case number or a local
/// reference. Anything else is refused before any lookup.
fn parse_receipt_code(code: &str) -> Option<Lookup> {
    let code = code.trim();
    if let Some(id) = SubmissionId::parse(code) {
        return Some(Lookup::Reference(id));
    }
    CaseNumber::parse(code).ok().map(Lookup::Case)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::identity::{check_char, parse_yyyymmdd, CardType, Gender, IdNumber, Validity};
    use time::macros::datetime;

    fn identity(valid_until: Validity) -> Box<Identity> {
        let first17 = *b"62292619520307002";
        let number = format!("{}{}", std::str::from_utf8(&first17).unwrap(), check_char(&first17));
        Box::new(Identity {
            name: "张桂兰".into(),
            gender: Gender::Female,
            nation_code: "01".into(),
            birth_date: parse_yyyymmdd("19520307").unwrap(),
            address: "甘肃省临夏回族自治州东乡族自治县锁南镇".into(),
            id_number: IdNumber::parse(&number).unwrap(),
            authority: "东乡族自治县公安局".into(),
            valid_from: parse_yyyymmdd("20160307").unwrap(),
            valid_until,
            card_type: CardType::ResidentId,
            photo_wlt: vec![0; 1024],
        })
    }

    fn session(caps: Capabilities) -> Session {
        Session::new(
            Arc::new(Catalog::starter()),
            Terminal {
                terminal_id: "GS-TEST-0001".into(),
                village_code: VillageCode::parse("622926100202").unwrap(),
                channel: Channel::SelfServiceTerminal,
            },
            caps,
            Box::new(|| datetime!(2026-11-21 10:00 +8)),
        )
    }

    const SOCIAL_CARD: &str = "620000RS0001";

    fn to_id_prompt(s: &mut Session) {
        s.handle(Event::Start);
        assert!(s.handle(Event::ChooseService(SOCIAL_CARD.into())).is_empty());
        assert_eq!(s.screen(), Screen::Guide);
        s.handle(Event::StartFiling);
        assert_eq!(s.screen(), Screen::Consent);
        let fx = s.handle(Event::Agree);
        assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
        assert_eq!(s.screen(), Screen::IdPrompt);
    }

    fn to_form(s: &mut Session) {
        to_id_prompt(s);
        let fx = s.handle(Event::CardRead(identity(Validity::LongTerm)));
        assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
        assert_eq!(s.screen(), Screen::Form);
    }

    fn to_saved(s: &mut Session, sent: bool) -> SubmissionId {
        to_form(s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
        s.handle(Event::SubmitForm);
        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
        let id = sub.id;
        s.handle(Event::Saved { id });
        if sent {
            s.handle(Event::Sent { id, case_number: CaseNumber::parse("62202611210000001").unwrap() });
        } else {
            s.handle(Event::Deferred { id });
        }
        assert_eq!(s.screen(), Screen::Saved);
        id
    }

    #[test]
    fn whole_journey_reaches_saved_and_receipt_with_case_number() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        let v = s.view();
        let name = v.form_rows.iter().find(|r| r.key == "name").unwrap();
        assert_eq!(name.value, "张桂兰");
        assert!(name.readonly);
        let id = v.form_rows.iter().find(|r| r.key == "id_number").unwrap();
        assert_eq!(id.value, "6229**********0029");

        // Missing phone and bank: stays on the form with reasons.
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Form);
        let v = s.view();
        assert_eq!(v.form_rows.iter().find(|r| r.key == "phone").unwrap().error, "请填写此项");

        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
        // A card value cannot be overwritten from the form.
        s.handle(Event::FieldEdited { key: "name".into(), value: "李四".into() });
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Review);
        let v = s.view();
        assert!(v.review_rows.contains(&("发卡银行".to_owned(), "甘肃农村信用社".to_owned())));
        assert!(v.review_rows.contains(&("姓名".to_owned(), "张桂兰".to_owned())));

        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
        assert_eq!(sub.item_code.as_str(), SOCIAL_CARD);
        assert_eq!(sub.form.get("phone").map(String::as_str), Some("13912345678"));
        assert_eq!(sub.applicant.name, "张桂兰");
        assert_eq!(sub.consent.text_version, CONSENT_VERSION);
        assert_eq!(sub.consent.given_at, datetime!(2026-11-21 10:00 +8));
        let id = sub.id;
        assert_eq!(s.screen(), Screen::Submitting);

        s.handle(Event::Saved { id });
        assert!(s.view().busy_message.contains("已保存"));
        let case = CaseNumber::parse("62202611210000001").unwrap();
        s.handle(Event::Sent { id, case_number: case.clone() });
        assert_eq!(s.screen(), Screen::Saved);
        let v = s.view();
        assert!(v.saved_sent);
        assert_eq!(v.case_number, case.as_str());
        assert!(!s.holds_personal_data());

        let fx = s.handle(Event::PrintReceipt);
        let [Effect::Print(r)] = fx.as_slice() else { panic!("expected print") };
        assert_eq!(r.qr_payload(), case.as_str());
        assert_eq!(r.applicant_masked, "张**");
        assert!(s.view().receipt_busy, "printing is a wait, and the screen says so");
        s.handle(Event::Printed);
        assert_eq!(s.view().receipt_message, "回执已打印，请从出纸口取走");
        s.handle(Event::Finish);
        assert_eq!(s.screen(), Screen::Goodbye);
        assert!(s.view().goodbye_message.contains("身份证"));
        s.handle(Event::Finish);
        assert_eq!(s.screen(), Screen::Home);
    }

    #[test]
    fn the_guide_comes_before_anything_is_asked_and_says_what_to_bring() {
        let mut s = session(Capabilities::default());
        s.handle(Event::Start);
        s.handle(Event::ChooseService("620000MZ0001".into()));
        let v = s.view();
        assert_eq!(v.screen, Screen::Guide);
        assert_eq!(v.item_name, "高龄津贴申请");
        let row = |label: &str| v.guide_rows.iter().find(|(l, _)| l == label).map(|(_, v)| v.clone()).unwrap();
        assert!(row("谁可以办").contains("80周岁"));
        assert!(row("要带的材料").contains("户口簿"));
        assert_eq!(row("多久办好"), "承诺15个工作日办结");
        assert_eq!(row("收费"), "不收费");
        assert!(row("请注意").contains("不能扫描"), "paper materials: what to do with them");
        // Nothing read yet, nothing held.
        assert!(!s.holds_personal_data());
        s.handle(Event::Back);
        assert_eq!(s.screen(), Screen::Services);
    }

    #[test]
    fn consent_says_what_why_how_long_and_who_and_refusing_keeps_nothing() {
        let mut s = session(Capabilities::default());
        s.handle(Event::Start);
        s.handle(Event::ChooseService(SOCIAL_CARD.into()));
        s.handle(Event::StartFiling);
        let v = s.view();
        assert_eq!(v.screen, Screen::Consent);
        let labels: Vec<&str> = v.consent_rows.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["要用哪些信息", "用来做什么", "保存多久", "谁能看到"]);
        assert!(v.consent_rows[1].1.contains("社会保障卡申领"));
        assert!(v.consent_rows[2].1.contains("30 天"));
        // 不同意 is Cancel: home, and the reader was never started.
        assert!(s.handle(Event::Cancel).is_empty());
        assert_eq!(s.screen(), Screen::Home);
    }

    #[test]
    fn offline_save_says_so_and_receipt_carries_the_local_reference() {
        let mut s = session(Capabilities::default());
        let id = to_saved(&mut s, false);
        let v = s.view();
        assert!(!v.saved_sent);
        assert_eq!(v.saved_title, "已保存，网络恢复后自动发送");
        let fx = s.handle(Event::PrintReceipt);
        let [Effect::Print(r)] = fx.as_slice() else { panic!() };
        assert_eq!(r.qr_payload(), id.to_string());
    }

    #[test]
    fn a_failed_print_says_why_and_what_to_do() {
        let mut s = session(Capabilities::default());
        to_saved(&mut s, true);
        s.handle(Event::PrintReceipt);
        s.handle(Event::PrintFailed("打印机没有连接好".into()));
        let v = s.view();
        assert!(v.receipt_failed && !v.receipt_busy);
        assert_eq!(v.receipt_message, "回执没有打印出来：打印机没有连接好。请记下上面的编号。");
    }

    #[test]
    fn save_failure_is_said_plainly_and_nothing_is_kept() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
        s.handle(Event::SubmitForm);
        s.handle(Event::Confirm);
        s.handle(Event::SaveFailed("本机存储空间不足".into()));
        assert_eq!(s.screen(), Screen::Error);
        assert!(s.view().error_message.contains("本机存储空间不足"));
        assert!(!s.holds_personal_data());
    }

    #[test]
    fn expired_card_is_refused_with_a_clear_sentence() {
        let mut s = session(Capabilities::default());
        to_id_prompt(&mut s);
        s.handle(Event::CardRead(identity(Validity::Until(parse_yyyymmdd("20200101").unwrap()))));
        assert_eq!(s.screen(), Screen::IdPrompt);
        let v = s.view();
        assert!(v.id_error);
        assert!(v.id_message.contains("已过期"), "{}", v.id_message);
        // A valid card afterwards goes on.
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        assert_eq!(s.screen(), Screen::Form);
    }

    #[test]
    fn tiles_say_why_they_are_unavailable_and_themes_filter_them() {
        let s = {
            let mut s = session(Capabilities { camera: false, scanner: false });
            s.handle(Event::Start);
            s
        };
        let v = s.view();
        let cert = v.services.iter().find(|t| t.name == "养老金领取资格认证").unwrap();
        assert!(!cert.enabled);
        assert!(cert.note.contains("摄像头"));
        let dibao = v.services.iter().find(|t| t.name == "农村最低生活保障申请").unwrap();
        assert!(!dibao.enabled);
        assert_eq!(v.themes[0].name, "全部");
        assert!(v.themes[0].selected);
        let mut s = s;
        s.handle(Event::ChooseService(cert.code.clone()));
        assert_eq!(s.screen(), Screen::Services);
        s.handle(Event::ChooseTheme("medical".into()));
        let v = s.view();
        assert_eq!(v.services.len(), 1);
        assert_eq!(v.services[0].name, "城乡居民医保参保登记");
        assert!(v.themes.iter().any(|t| t.id == "medical" && t.selected));
        // An item QR held to the scanner opens its guide.
        s.handle(Event::CodeEntered(" 620000GA0001 ".into()));
        assert_eq!(s.screen(), Screen::Guide);
        let with_camera = {
            let mut s = session(Capabilities { camera: true, scanner: false });
            s.handle(Event::Start);
            s.view()
        };
        assert!(with_camera.services.iter().find(|t| t.name == "养老金领取资格认证").unwrap().enabled);
    }

    #[test]
    fn idle_warning_counts_down_then_the_visit_is_wiped() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::SetLanguage(Lang::Bo));
        s.handle(Event::ToggleLargeText);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::IdleWarning { seconds_left: 20 });
        assert_eq!(s.view().idle_seconds, 20);
        assert_eq!(s.screen(), Screen::Form, "the form stays under the warning");
        // 继续: the warning goes, the visit and what was typed stay.
        s.handle(Event::StillHere);
        let v = s.view();
        assert_eq!(v.idle_seconds, 0);
        assert_eq!(v.form_rows.iter().find(|r| r.key == "phone").unwrap().value, "13912345678");
        // Any tap is activity too.
        s.handle(Event::IdleWarning { seconds_left: 20 });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
        assert_eq!(s.view().idle_seconds, 0);

        s.handle(Event::IdleWarning { seconds_left: 3 });
        assert!(s.holds_personal_data());
        s.handle(Event::IdleTimeout);
        assert_eq!(s.screen(), Screen::Home);
        assert!(!s.holds_personal_data());
        let v = s.view();
        assert!(v.form_rows.is_empty() && v.review_rows.is_empty());
        assert_eq!(v.idle_seconds, 0);
        assert_eq!(v.lang, Lang::ZhCn, "the next villager starts from the defaults");
        assert!(!v.large_text);
        // Nothing to warn about on home.
        s.handle(Event::IdleWarning { seconds_left: 5 });
        assert_eq!(s.view().idle_seconds, 0);
    }

    #[test]
    fn idle_timeout_while_reading_a_card_stops_the_reader() {
        let mut s = session(Capabilities::default());
        to_id_prompt(&mut s);
        let fx = s.handle(Event::IdleTimeout);
        assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
    }

    #[test]
    fn switching_language_rewords_everything_and_keeps_what_was_entered() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "1391234".into() });
        s.handle(Event::SubmitForm);
        let zh = s.view();
        s.handle(Event::SetLanguage(Lang::En));
        let en = s.view();
        assert_eq!(en.screen, Screen::Form);
        assert_eq!(en.lang, Lang::En);
        assert_eq!(en.item_name, "Apply for a social security card");
        let phone = en.form_rows.iter().find(|r| r.key == "phone").unwrap();
        assert_eq!(phone.value, "1391234", "what was typed stays");
        assert_eq!(phone.label, "Phone");
        assert_ne!(phone.error, zh.form_rows.iter().find(|r| r.key == "phone").unwrap().error);
        assert!(phone.error.is_ascii(), "the problem is worded in English: {}", phone.error);
        // Catalog names without a translation fall back to Chinese.
        s.handle(Event::SetLanguage(Lang::Kk));
        let kk = s.view();
        assert!(!kk.item_name.is_empty());
        s.handle(Event::SetLanguage(Lang::ZhCn));
        assert_eq!(s.view(), zh);
    }

    #[test]
    fn device_problems_are_translated_when_shown() {
        let mut s = session(Capabilities::default());
        to_id_prompt(&mut s);
        s.handle(Event::CardProblem("读卡器没有连接好，请联系村代办员。".into()));
        s.handle(Event::SetLanguage(Lang::En));
        let v = s.view();
        assert!(v.id_error);
        assert!(v.id_message.is_ascii() && !v.id_message.is_empty(), "{}", v.id_message);
        // An unknown sentence is shown as it came.
        s.handle(Event::CardProblem("新的问题".into()));
        assert_eq!(s.view().id_message, "新的问题");
    }

    #[test]
    fn progress_by_card_and_by_receipt_code() {
        let mut s = session(Capabilities::default());
        let fx = s.handle(Event::QueryProgress);
        assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
        assert_eq!(s.view().screen, Screen::Progress);
        assert_eq!(s.view().lookup_phase, "ask");

        // By card: only the number leaves the session.
        let fx = s.handle(Event::CardRead(identity(Validity::Until(parse_yyyymmdd("20200101").unwrap()))));
        let [Effect::StopCardReader, Effect::LookUp(Lookup::IdNumber(n))] = fx.as_slice() else {
            panic!("{fx:?}")
        };
        assert_eq!(n.masked(), "6229**********0029");
        assert_eq!(s.view().lookup_phase, "looking");
        let id = SubmissionId::new();
        s.handle(Event::LookedUp(vec![FilingStatus {
            reference: id,
            item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
            created_at: datetime!(2026-11-20 18:00 UTC),
            case_number: None,
            stage: FilingStage::Waiting,
            result_available: false,
        }]));
        let v = s.view();
        assert_eq!(v.lookup_phase, "found");
        assert_eq!(v.lookup_rows.len(), 1);
        assert_eq!(v.lookup_rows[0].item, "社会保障卡申领");
        assert_eq!(v.lookup_rows[0].date, "2026-11-21", "dates are Beijing dates");
        assert_eq!(v.lookup_rows[0].tone, "waiting");
        assert!(v.lookup_rows[0].status.contains("等网络"));

        // Again, by the number on the receipt.
        let fx = s.handle(Event::Retry);
        assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
        let fx = s.handle(Event::CodeEntered("62202611210000001".into()));
        assert!(matches!(fx.as_slice(), [Effect::StopCardReader, Effect::LookUp(Lookup::Case(_))]));
        s.handle(Event::LookedUp(vec![]));
        let v = s.view();
        assert_eq!(v.lookup_phase, "none");
        assert!(v.lookup_message.contains("没有查到"));
        s.handle(Event::Finish);
        assert_eq!(s.screen(), Screen::Goodbye);

        // A code that cannot be a receipt is refused on the spot.
        s.handle(Event::Finish);
        s.handle(Event::QueryProgress);
        let fx = s.handle(Event::CodeEntered("12".into()));
        assert!(fx.is_empty());
        let v = s.view();
        assert!(v.lookup_error && v.lookup_message.contains("查不到"));
        // Leaving stops the reader.
        let fx = s.handle(Event::Back);
        assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
    }

    #[test]
    fn result_printing_says_no_result_yet_from_local_status() {
        let mut s = session(Capabilities::default());
        s.handle(Event::QueryResult);
        assert_eq!(s.screen(), Screen::Result);
        s.handle(Event::CodeEntered(SubmissionId::new().to_string()));
        s.handle(Event::LookedUp(vec![FilingStatus {
            reference: SubmissionId::new(),
            item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
            created_at: datetime!(2026-11-20 10:00 +8),
            case_number: Some(CaseNumber::parse("62202611210000001").unwrap()),
            stage: FilingStage::Delivered,
            result_available: false,
        }]));
        let v = s.view();
        assert_eq!(v.lookup_phase, "found");
        assert!(v.lookup_message.contains("还没有可以打印的结果"));
        assert_eq!(v.lookup_rows[0].number, "62202611210000001");
    }

    #[test]
    fn rating_after_filing_records_an_evaluation() {
        let mut s = session(Capabilities::default());
        to_saved(&mut s, true);
        assert!(s.view().can_rate);
        s.handle(Event::RateNow);
        let v = s.view();
        assert_eq!(v.screen, Screen::Rate);
        assert_eq!(v.item_name, "社会保障卡申领");
        assert!(v.reasons.is_empty(), "reasons come after a face is chosen");
        // Nothing to send without a face.
        assert!(s.handle(Event::SubmitRating).is_empty());
        s.handle(Event::ChooseRating(Rating::Dissatisfied));
        s.handle(Event::ToggleReason("slow".into()));
        s.handle(Event::ToggleReason("machine".into()));
        s.handle(Event::ToggleReason("machine".into()));
        s.handle(Event::ToggleReason("fast".into())); // not a complaint: ignored
        let v = s.view();
        assert_eq!(v.rating, Some(Rating::Dissatisfied));
        assert!(v.reasons.iter().any(|r| r.value == "slow" && r.selected));
        assert!(v.reasons.iter().all(|r| r.value != "machine" || !r.selected));
        let fx = s.handle(Event::SubmitRating);
        let [Effect::StoreRating(record)] = fx.as_slice() else { panic!("{fx:?}") };
        let evaluation = record.evaluation().expect("sent filings have a case number");
        assert_eq!(evaluation.case_number.as_str(), "62202611210000001");
        assert_eq!(evaluation.rating, Rating::Dissatisfied);
        assert_eq!(evaluation.reasons, ["等的时间太长"]);
        assert_eq!(s.screen(), Screen::Goodbye);
        assert!(s.view().goodbye_message.contains("谢谢您的评价"));
    }

    #[test]
    fn rating_a_waiting_filing_names_its_reference_and_back_returns() {
        let mut s = session(Capabilities::default());
        let id = to_saved(&mut s, false);
        s.handle(Event::RateNow);
        s.handle(Event::Back);
        assert_eq!(s.screen(), Screen::Saved, "不评了 goes back where it came from");
        s.handle(Event::RateNow);
        s.handle(Event::ChooseRating(Rating::VerySatisfied));
        let fx = s.handle(Event::SubmitRating);
        let [Effect::StoreRating(record)] = fx.as_slice() else { panic!("{fx:?}") };
        assert_eq!(record.target, RatingTarget::Submission(id));
        assert!(record.evaluation().is_none(), "the app links it once the case number arrives");
    }

    #[test]
    fn rating_from_home_by_receipt_number_or_card() {
        let mut s = session(Capabilities::default());
        s.handle(Event::RateService);
        assert_eq!(s.screen(), Screen::Progress);
        let fx = s.handle(Event::CodeEntered("62202611210000001".into()));
        assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
        assert_eq!(s.screen(), Screen::Rate);
        assert_eq!(s.view().item_name, "办件编号 62202611210000001");
        s.handle(Event::Back);
        assert_eq!(s.screen(), Screen::Home);

        s.handle(Event::RateService);
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        let newest = FilingStatus {
            reference: SubmissionId::new(),
            item_code: ImplementCode::parse("620000GA0001").unwrap(),
            created_at: datetime!(2026-11-21 09:00 +8),
            case_number: None,
            stage: FilingStage::Waiting,
            result_available: false,
        };
        s.handle(Event::LookedUp(vec![newest.clone()]));
        let v = s.view();
        assert_eq!(v.screen, Screen::Rate);
        assert_eq!(v.item_name, "出生登记");
    }

    #[test]
    fn voice_reads_each_new_prompt_once_and_the_idle_warning_always() {
        let mut s = session(Capabilities::default());
        s.handle(Event::VoicesAvailable(vec![Lang::ZhCn, Lang::En]));
        // Off: silent.
        assert!(s.handle(Event::Start).is_empty());
        let fx = s.handle(Event::ToggleVoice);
        let [Effect::Speak { lang: Lang::ZhCn, text }] = fx.as_slice() else { panic!("{fx:?}") };
        assert!(text.contains("请选择要办的事"));
        // Same screen, nothing new to say.
        assert!(s.handle(Event::ChooseTheme(String::new())).is_empty());
        let fx = s.handle(Event::ChooseService(SOCIAL_CARD.into()));
        assert!(matches!(fx.as_slice(), [Effect::Speak { .. }]));
        // No Tibetan voice: the view says so and nothing is spoken.
        let fx = s.handle(Event::SetLanguage(Lang::Bo));
        assert!(fx.is_empty());
        assert!(!s.view().voice_available);
        let fx = s.handle(Event::SetLanguage(Lang::En));
        let [Effect::Speak { lang: Lang::En, text }] = fx.as_slice() else { panic!("{fx:?}") };
        assert!(text.is_ascii(), "{text}");
        // Reading off, the idle warning is still said, once.
        s.handle(Event::ToggleVoice);
        let fx = s.handle(Event::IdleWarning { seconds_left: 20 });
        assert!(matches!(fx.as_slice(), [Effect::Speak { .. }]));
        assert!(s.handle(Event::IdleWarning { seconds_left: 19 }).is_empty());
    }

    #[test]
    fn late_events_from_another_submission_are_ignored() {
        let mut s = session(Capabilities::default());
        to_form(&mut s);
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank".into(), value: "abc".into() });
        s.handle(Event::SubmitForm);
        s.handle(Event::Confirm);
        s.handle(Event::Saved { id: SubmissionId::new() });
        s.handle(Event::Deferred { id: SubmissionId::new() });
        assert_eq!(s.screen(), Screen::Submitting);
    }

    // ---- Materials ----

    const ALLOWANCE: &str = "620000MZ0001"; // 户口簿 and 银行卡, both scanned
    const BIRTH: &str = "620000GA0001"; // 出生医学证明 (e-license) and 户口簿
    const RELIEF: &str = "620000MZ0003"; // 困难情况证明 and optional 医疗费用票据

    const BOTH: Capabilities = Capabilities { camera: true, scanner: true };

    fn to_materials(s: &mut Session, item: &str, fields: &[(&str, &str)]) {
        s.handle(Event::Start);
        s.handle(Event::ChooseService(item.into()));
        s.handle(Event::StartFiling);
        s.handle(Event::Agree);
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        for (k, v) in fields {
            s.handle(Event::FieldEdited { key: (*k).into(), value: (*v).into() });
        }
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Materials, "{:?}", s.view().form_rows);
    }

    fn page(shade: u8) -> Box<Capture> {
        let img = image::RgbImage::from_pixel(300, 400, image::Rgb([shade, shade, 200]));
        Box::new(materials::capture_of(CaptureKind::Scan, &[img]).unwrap())
    }

    /// Taps 扫描 and answers the effect with `capture`; returns the material code asked for.
    fn scan(s: &mut Session, capture: Box<Capture>) -> String {
        let fx = s.handle(Event::CaptureMaterial(CaptureKind::Scan));
        let [Effect::CaptureMaterial { material, kind: CaptureKind::Scan }] = fx.as_slice() else {
            panic!("expected a scan, got {fx:?}")
        };
        let material = material.clone();
        assert!(s.view().material.unwrap().busy);
        s.handle(Event::MaterialCaptured { material: material.clone(), capture });
        material
    }

    #[test]
    fn each_material_is_scanned_previewed_retaken_and_attached() {
        let mut s = session(BOTH);
        to_materials(&mut s, ALLOWANCE, &[("bank_account", "6228480012345678901")]);
        assert!(s.holds_personal_data());
        let v = s.view().material.unwrap();
        assert_eq!((v.name.as_str(), v.step.as_str()), ("户口簿", "第 1 项，共 2 项"));
        assert!(v.can_scan && v.can_photo && v.required && !v.can_skip && !v.can_next && v.preview.is_none());
        // Required and not captured: 下一步 does nothing.
        s.handle(Event::NextMaterial);
        assert_eq!(s.view().material.unwrap().step, "第 1 项，共 2 项");

        // A failed scan says why and offers the buttons again.
        s.handle(Event::CaptureMaterial(CaptureKind::Scan));
        s.handle(Event::MaterialFailed("扫描仪的盖子没有盖好，请盖好再点「扫描」。".into()));
        let v = s.view().material.unwrap();
        assert!(!v.busy && v.problem.contains("盖子") && !v.can_next);

        assert_eq!(scan(&mut s, page(10)), "hukou");
        let v = s.view().material.unwrap();
        assert_eq!(v.captured, "已扫描 1 页");
        assert!(v.can_next && v.captured_by_scan && v.problem.is_empty());
        assert_eq!(v.preview.as_ref().map(|p| (p.width, p.height)), Some((300, 400)));
        // Retake: the second scan replaces the first.
        scan(&mut s, page(90));
        s.handle(Event::NextMaterial);
        assert_eq!(s.view().material.unwrap().name, "本人银行卡或存折");
        // Back keeps what was scanned.
        s.handle(Event::Back);
        assert_eq!(s.view().material.unwrap().captured, "已扫描 1 页");
        s.handle(Event::NextMaterial);
        assert_eq!(scan(&mut s, page(170)), "bankbook");
        s.handle(Event::NextMaterial);
        assert_eq!(s.screen(), Screen::Review);
        let rows = s.view().review_rows;
        assert!(rows.contains(&("户口簿".into(), "已扫描 1 页".into())), "{rows:?}");
        assert!(rows.contains(&("本人银行卡或存折".into(), "已扫描 1 页".into())), "{rows:?}");
        // Back from the review goes to the last material.
        s.handle(Event::Back);
        assert_eq!(s.view().material.unwrap().name, "本人银行卡或存折");
        s.handle(Event::NextMaterial);

        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, files)] = fx.as_slice() else { panic!("expected a submit, got {fx:?}") };
        let codes: Vec<&str> = sub.attachments.iter().map(|a| a.material_code.as_str()).collect();
        assert_eq!(codes, ["hukou", "bankbook"]);
        assert_eq!(files.len(), 2);
        for ((r, bytes), att) in files.iter().zip(&sub.attachments) {
            assert_eq!(r, att);
            assert_eq!(att.sha256, model::submission::sha256_hex(bytes));
            assert_eq!(att.media_type, "image/jpeg");
        }
        // The retake is what was kept: the first scan's picture is gone.
        let first = materials::capture_of(CaptureKind::Scan, &[image::RgbImage::from_pixel(300, 400, image::Rgb([10, 10, 200]))]).unwrap();
        assert_ne!(sub.attachments[0].sha256, model::submission::sha256_hex(&first.files[0].bytes));
    }

    #[test]
    fn e_licenses_need_no_scan_only_while_online() {
        let mut s = session(BOTH);
        to_materials(&mut s, BIRTH, &[("baby_name", "马小花"), ("baby_gender", "2"), ("baby_birth_date", "2026-11-02")]);
        // Offline: the birth certificate must be scanned.
        let v = s.view().material.unwrap();
        assert_eq!(v.name, "出生医学证明");
        assert!(!v.can_next && v.hint.contains("没有网络"), "{v:?}");
        s.handle(Event::NextMaterial);
        assert_eq!(s.view().material.unwrap().name, "出生医学证明");

        // Online: it says so, and 下一步 goes on without a scan.
        s.handle(Event::LinkChanged { online: true });
        let v = s.view().material.unwrap();
        assert!(v.can_next && v.hint.contains("电子证照库") && v.can_scan, "{v:?}");
        s.handle(Event::NextMaterial);
        assert_eq!(s.view().material.unwrap().name, "户口簿");
        scan(&mut s, page(40));
        s.handle(Event::NextMaterial);
        let rows = s.view().review_rows;
        assert!(rows.contains(&("出生医学证明".into(), "从电子证照库调取，不用扫描".into())), "{rows:?}");
        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, files)] = fx.as_slice() else { panic!("expected a submit, got {fx:?}") };
        assert_eq!(sub.attachments.iter().map(|a| a.material_code.as_str()).collect::<Vec<_>>(), ["hukou"]);
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn optional_materials_can_be_skipped_required_ones_cannot() {
        let mut s = session(BOTH);
        to_materials(&mut s, RELIEF, &[("cause", "illness")]);
        s.handle(Event::SkipMaterial);
        assert_eq!(s.view().material.unwrap().name, "困难情况证明材料", "a required one is not skipped");
        scan(&mut s, page(60));
        s.handle(Event::NextMaterial);
        let v = s.view().material.unwrap();
        assert_eq!(v.name, "医疗费用票据");
        assert!(!v.required && v.can_skip && !v.can_next);
        s.handle(Event::SkipMaterial);
        assert_eq!(s.screen(), Screen::Review);
        assert!(s.view().review_rows.contains(&("医疗费用票据".into(), "没有提交（可以不交）".into())));
    }

    #[test]
    fn without_devices_materials_go_on_paper_and_late_captures_are_ignored() {
        // No scanner, no camera: the form leads straight to the review, which says where the paper goes.
        let mut s = session(Capabilities::default());
        s.handle(Event::Start);
        s.handle(Event::ChooseService(ALLOWANCE.into()));
        let guide = s.view().guide_rows;
        assert!(guide.iter().any(|(_, v)| v.contains("还不能扫描")), "{guide:?}");
        s.handle(Event::StartFiling);
        s.handle(Event::Agree);
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::FieldEdited { key: "bank_account".into(), value: "6228480012345678901".into() });
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Review);
        assert!(s.view().review_rows.contains(&("户口簿".into(), "请把纸质材料交给村代办员".into())));

        // A camera only: documents are photographed instead.
        let mut s = session(Capabilities { camera: true, scanner: false });
        to_materials(&mut s, ALLOWANCE, &[("bank_account", "6228480012345678901")]);
        let v = s.view().material.unwrap();
        assert!(!v.can_scan && v.can_photo && v.hint.contains("摄像头"));
        assert!(s.handle(Event::CaptureMaterial(CaptureKind::Scan)).is_empty(), "no scanner to ask");
        // Cancelled while the camera works: the late photo changes nothing.
        assert_eq!(s.handle(Event::CaptureMaterial(CaptureKind::Photo)).len(), 1);
        s.handle(Event::Cancel);
        assert!(!s.holds_personal_data());
        s.handle(Event::MaterialCaptured { material: "hukou".into(), capture: page(1) });
        assert_eq!(s.screen(), Screen::Home);
    }

    #[test]
    fn a_foreign_permanent_resident_files_and_types_what_the_card_lacks() {
        let mut s = session(Capabilities::default());
        s.handle(Event::Start);
        s.handle(Event::ChooseService("620000YB0001".into())); // asks for the address
        s.handle(Event::StartFiling);
        s.handle(Event::Agree);
        let mut card = identity(Validity::LongTerm);
        card.name = "MARIA SANTOS".into();
        card.id_number = IdNumber::parse("CAN310085041712").unwrap();
        card.address = String::new();
        card.nation_code = String::new();
        card.card_type = CardType::ForeignPermanentResident;
        s.handle(Event::CardRead(card));
        assert_eq!(s.screen(), Screen::Form);
        let rows = s.view().form_rows;
        let address = rows.iter().find(|r| r.key == "address").unwrap();
        assert!(!address.readonly && address.value.is_empty(), "{address:?}");
        assert!(rows.iter().find(|r| r.key == "name").unwrap().readonly);
        s.handle(Event::FieldEdited { key: "name".into(), value: "someone else".into() });
        s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Form, "the address is required");
        s.handle(Event::FieldEdited { key: "address".into(), value: "甘肃省兰州市城关区".into() });
        s.handle(Event::SubmitForm);
        assert_eq!(s.screen(), Screen::Review);
        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("{fx:?}") };
        assert_eq!(sub.applicant.id_number.expose(), "CAN310085041712");
        assert_eq!(sub.applicant.card_type, CardType::ForeignPermanentResident);
        assert_eq!(sub.form["name"], "MARIA SANTOS", "card values stay what the card says");
        assert_eq!(sub.form["address"], "甘肃省兰州市城关区");
    }

    #[test]
    fn a_finished_case_with_a_document_is_printed_on_request() {
        let mut s = session(Capabilities::default());
        s.handle(Event::QueryResult);
        s.handle(Event::CodeEntered("62202611210000001".into()));
        let case = CaseNumber::parse("62202611210000001").unwrap();
        let done = |result_available| FilingStatus {
            reference: SubmissionId::new(),
            item_code: ImplementCode::parse(SOCIAL_CARD).unwrap(),
            created_at: datetime!(2026-11-01 10:00 +8),
            case_number: Some(case.clone()),
            stage: FilingStage::Done,
            result_available,
        };
        // Finished, but the platform has no document: nothing to print here.
        s.handle(Event::LookedUp(vec![done(false)]));
        assert!(!s.view().result_printable && s.view().lookup_message.contains("乡镇便民服务中心"));
        assert!(s.handle(Event::PrintResult).is_empty());
        s.handle(Event::Retry);
        s.handle(Event::CodeEntered(case.to_string()));
        s.handle(Event::LookedUp(vec![done(true)]));
        assert!(s.view().result_printable);
        let fx = s.handle(Event::PrintResult);
        assert!(matches!(fx.as_slice(), [Effect::PrintResult(c)] if *c == case), "{fx:?}");
        assert!(s.view().result_busy);
        // A second tap while printing does nothing.
        assert!(s.handle(Event::PrintResult).is_empty());
        s.handle(Event::ResultPrintFailed("打印机没有连接好".into()));
        let v = s.view();
        assert!(v.lookup_error && v.lookup_message.contains("打印机没有连接好") && !v.result_busy);
        // Try again: printed.
        assert_eq!(s.handle(Event::PrintResult).len(), 1);
        s.handle(Event::ResultPrinted);
        assert!(s.view().lookup_message.contains("已打印"));
        s.handle(Event::Finish);
        assert_eq!(s.screen(), Screen::Goodbye);
    }

    #[test]
    fn consent_states_the_configured_retention() {
        let mut s = session(Capabilities::default());
        s.set_retention_days(7);
        s.handle(Event::Start);
        s.handle(Event::ChooseService(SOCIAL_CARD.into()));
        s.handle(Event::StartFiling);
        let rows = s.view().consent_rows;
        let (_, kept) = rows.iter().find(|(l, _)| l == "保存多久").unwrap();
        assert!(kept.contains(" 7 天"), "{kept}");
    }

    #[test]
    fn codes_scanned_at_home_open_items_or_look_up_receipts() {
        let mut s = session(Capabilities::default());
        // An item's code, bare or inside a portal link.
        s.handle(Event::CodeEntered("620000MZ0001".into()));
        assert_eq!((s.screen(), s.view().item_name.as_str()), (Screen::Guide, "高龄津贴申请"));
        s.handle(Event::Cancel);
        s.handle(Event::CodeEntered("https://zwfw.gansu.gov.cn/guide?itemCode=620000GA0001&from=qr".into()));
        assert_eq!((s.screen(), s.view().item_name.as_str()), (Screen::Guide, "出生登记"));
        s.handle(Event::Cancel);
        // An item this terminal cannot do: the list, where the tile says why.
        s.handle(Event::CodeEntered("620000MZ0002".into()));
        assert_eq!(s.screen(), Screen::Services);
        s.handle(Event::Cancel);
        // A receipt's number: where that filing stands.
        let fx = s.handle(Event::CodeEntered("62202611210000001".into()));
        assert_eq!(s.screen(), Screen::Progress);
        assert!(matches!(fx.as_slice(), [Effect::LookUp(Lookup::Case(_))]), "{fx:?}");
        s.handle(Event::Cancel);
        // Anything else changes nothing.
        assert!(s.handle(Event::CodeEntered("hello".into())).is_empty());
        assert_eq!(s.screen(), Screen::Home);
    }

    /// Every Chinese sentence in this module's code (not these tests), as
    /// ui/translations/update.py extracts them.
    fn own_message_ids() -> Vec<&'static str> {
        let mut ids: Vec<&str> = Vec::new();
        for source in [include_str!("mod.rs"), include_str!("../capture.rs"), include_str!("../materials.rs")] {
            let code = &source[..source.find("#[cfg(test)]\nmod tests").unwrap_or(source.len())];
            ids.extend(
                code.split('"')
                    .skip(1)
                    .step_by(2)
                    .filter(|s| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
            );
        }
        ids.extend(Rating::ALL.iter().map(|r| r.label_zh()));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Every sentence this module can show has a translation in every
    /// language (drafts until reviewed, but never missing).
    #[test]
    fn every_sentence_is_translated() {
        let ids = own_message_ids();
        assert!(ids.len() > 60, "the scan found the sentences: {}", ids.len());
        for lang in ["bo", "kk", "en"] {
            let missing: Vec<_> = ids.iter().filter(|id| ui::i18n::lookup(lang, id).is_none()).collect();
            assert!(missing.is_empty(), "{lang}.po lacks {} sentences: {missing:?}", missing.len());
        }
    }
}
