//! What comes in (`Event`s: taps, devices, workers) and what goes out
//! (`Effect`s the kiosk runs), with the plain data both carry.

use model::evaluation::{Evaluation, Rating};
use model::submission::{AttachmentRef, Channel};
use model::{CaseNumber, IdNumber, Identity, ImplementCode, Lang, Submission, SubmissionId, VillageCode};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::materials::{Capture, CaptureKind};

/// Version of the consent text shown on the consent screen.
pub const CONSENT_VERSION: &str = "consent-2026-11-v2";

/// Days a filing is kept after the platform has finished it, as the consent
/// screen says, unless the terminal's `[outbox] retention_days` says
/// otherwise (`Session::set_retention_days`). The outbox's default retention.
pub const RETENTION_DAYS: u64 = 30;

/// Where this session runs: fixed for the life of the kiosk process.
#[derive(Debug, Clone)]
pub struct Terminal {
    /// This terminal's id (e.g. `T-0001`), put on submissions and receipts.
    pub terminal_id: String,
    /// The village this terminal serves, put on submissions and receipts.
    pub village_code: VillageCode,
    /// Self-service terminal or service van, as enrolled.
    pub channel: Channel,
}

/// Which optional devices are present, so tiles can say what is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    /// A camera for photos of materials and face photos.
    pub camera: bool,
    /// A document scanner.
    pub scanner: bool,
}

/// Something that happened: a tap, a device, a worker.
#[derive(Debug)]
pub enum Event {
    /// Home: 我要办事.
    Start,
    /// Home: 一件事一次办 (the services screen showing the bundles).
    StartBundles,
    /// Home: 搜索 (find an item by typing).
    Search,
    /// Search: the text typed so far (every keystroke). Typed text: do not log it.
    SearchTyped(String),
    /// Search: the keyboard opened (继续输入) or closed (完成, 看全部).
    SearchKeyboard(bool),
    /// Services: a theme filter; "" is all.
    ChooseTheme(String),
    /// Services: an item's tile was tapped (its 实施编码).
    ChooseService(String),
    /// Guide: 开始办理.
    StartFiling,
    /// Consent: 同意，继续. (不同意 is `Cancel`.)
    Agree,
    /// 返回: the previous step of the visit.
    Back,
    /// 取消 (and 不同意): back to the home screen from anywhere, stopping
    /// the card reader if it was reading.
    Cancel,
    /// The reader read a card. Personal data: do not log it.
    CardRead(Box<Identity>),
    /// The reader failed; the text is a plain Chinese sentence for the
    /// villager (a message id of the `.po` files, translated on screen).
    CardProblem(String),
    /// Form: a field's value changed.
    FieldEdited {
        /// The field's key in the item's form.
        key: String,
        /// The new value. Personal data: do not log it.
        value: String,
    },
    /// Form: 下一步; the values are checked.
    SubmitForm,
    /// Materials: 扫描 / 拍照 (and 重新扫描 / 重拍).
    CaptureMaterial(CaptureKind),
    /// The scan or photo of `material` is done.
    MaterialCaptured {
        /// The material's code.
        material: String,
        /// The pages or photo, with a preview.
        capture: Box<Capture>,
    },
    /// The scan or photo failed (a Chinese sentence, as `CardProblem`).
    MaterialFailed(String),
    /// Materials: 下一步 (this material is done, or not needed here).
    NextMaterial,
    /// Materials: 跳过 (optional materials only).
    SkipMaterial,
    /// The answer to [`Effect::LookUpELicense`]: the license found (its
    /// type, number, issuer, date), or why there is none (not in the
    /// library, no network, the library not answering).
    ELicenseLooked {
        /// The material's code.
        material: String,
        /// The library's license, when it holds one.
        found: Option<Box<model::protocol::ELicenseDocument>>,
        /// How it ended: `Found` with the license, else why there is none.
        miss: crate::materials::ELicenseLookup,
    },
    /// Whether the hub answered the last sync: the materials screen says
    /// e-licenses need no scan only while online.
    LinkChanged {
        /// Whether the hub answered.
        online: bool,
    },
    /// Review: 确认提交.
    Confirm,
    /// The submission is durably in the outbox.
    Saved {
        /// The submission's id.
        id: SubmissionId,
    },
    /// The outbox refused it; nothing was saved. A Chinese sentence, as `CardProblem`.
    SaveFailed(String),
    /// The hub acknowledged it right away.
    Sent {
        /// The submission's id.
        id: SubmissionId,
        /// The 办件编号 the platform gave it.
        case_number: CaseNumber,
    },
    /// The hub could not be reached; the sync worker sends it later.
    Deferred {
        /// The submission's id.
        id: SubmissionId,
    },
    /// Saved: 打印回执.
    PrintReceipt,
    /// The receipt was printed.
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
    /// Rating: a level was chosen.
    ChooseRating(Rating),
    /// Rating: a reason (its label) was ticked or unticked.
    ToggleReason(String),
    /// Rating: 提交评价.
    SubmitRating,
    /// A code typed on the keypad or read by a QR scanner: a receipt's case
    /// number or local reference (progress, result, rating), or an item's
    /// implementation code (services).
    CodeEntered(String),
    /// The app's answer to [`Effect::LookUp`], newest first.
    LookedUp(Vec<FilingStatus>),
    /// A receipt and card could not be asked of the platform (no network)
    /// and this terminal knows nothing of them either.
    NothingKnownOffline,
    /// The platform has no filing for this receipt with this card (it says
    /// the same when the receipt does not exist).
    NothingOnPlatform,
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
    /// The villager chose a language.
    SetLanguage(Lang),
    /// 大字 on or off.
    ToggleLargeText,
    /// High contrast on or off.
    ToggleHighContrast,
    /// Reading aloud on or off.
    ToggleVoice,
    /// 读整页: read everything on the screen aloud, top to bottom.
    ReadScreen,
    /// Which languages the speech engine can read aloud.
    VoicesAvailable(Vec<Lang>),
    /// Which message ids have a recording, per language (voice packs).
    RecordingsAvailable(std::collections::BTreeMap<Lang, std::collections::BTreeSet<String>>),
    /// Nobody has touched the screen for a while: count down.
    IdleWarning {
        /// Seconds until the visit is dropped.
        seconds_left: u32,
    },
    /// Idle warning: 继续.
    StillHere,
    /// Nobody answered the idle warning: the visit is dropped and the next person starts from the default settings.
    IdleTimeout,
}

/// What the kiosk must do for the session.
#[derive(Debug)]
pub enum Effect {
    /// Start polling the ID card reader.
    ReadCard,
    /// Stop polling the ID card reader.
    StopCardReader,
    /// Durably enqueue, then try to send at once; answer with `Saved` (or
    /// `SaveFailed`) and then `Sent` or `Deferred`.
    /// With the bytes of every attachment the submission references.
    Submit(Box<Submission>, Vec<(AttachmentRef, Zeroizing<Vec<u8>>)>),
    /// Scan or photograph a material; answer with `MaterialCaptured` or `MaterialFailed`.
    CaptureMaterial {
        /// The material's code.
        material: String,
        /// Scan or photo.
        kind: CaptureKind,
    },
    /// Ask the hub's e-license library whether it holds this material for
    /// the card holder; answer with `ELicenseLooked`.
    LookUpELicense {
        /// The material's code.
        material: String,
        /// The card holder's number (sent to the hub over TLS only).
        id_number: IdNumber,
    },
    /// Print this receipt on the receipt printer; answer with `Printed` or `PrintFailed`.
    Print(ReceiptData),
    /// Find filings made on this terminal; answer with `LookedUp` or `LookupFailed`.
    LookUp(Lookup),
    /// Keep a rating and send it to the platform when the link allows.
    StoreRating(RatingRecord),
    /// Fetch this case's result document from the hub and print it on the
    /// A4 printer; answer with `ResultPrinted` or `ResultPrintFailed`.
    PrintResult(CaseNumber, Option<IdNumber>),
    /// Read a sentence aloud (replacing whatever is being read). `ids`: the
    /// message ids it is made of, in order, when all of it is messages
    /// (then a voice pack's recordings may say it); empty otherwise.
    Speak {
        /// The language to speak in.
        lang: Lang,
        /// What to say.
        text: String,
        /// The message ids the text is made of, in order; empty if not all of it is messages.
        ids: Vec<String>,
    },
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
    /// A receipt this terminal does not know, with the card of the person
    /// who filed it: asked of the platform (progress at any terminal).
    Proven {
        /// The receipt's code as read or typed.
        receipt: String,
        /// The number on the card read at this terminal.
        id_number: IdNumber,
    },
}

/// Where a [`FilingStatus`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// This terminal's own record of a filing it made.
    Here,
    /// The platform's answer to a receipt and card (any terminal's filing).
    Platform(Box<PlatformNews>),
    /// The platform could not be asked: only what this terminal knows.
    HereOffline,
}

/// What the platform says of a case beyond its stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformNews {
    /// Every status the case went through, oldest first.
    pub history: Vec<(model::CaseStatus, OffsetDateTime)>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The back office's answer to the villager's bad rating.
    pub reply: Option<String>,
    /// This terminal filed it.
    pub filed_here: bool,
    /// The card number that proved the case is the villager's: needed again
    /// to fetch the result document here. Leaves memory with the visit.
    pub proof: IdNumber,
}

/// Where one filing stands, as the terminal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingStatus {
    /// The submission id, the receipt's local reference.
    pub reference: SubmissionId,
    /// The item filed.
    pub item_code: ImplementCode,
    /// When it was filed.
    pub created_at: OffsetDateTime,
    /// 办件编号 once the platform gave one.
    pub case_number: Option<CaseNumber>,
    /// Where it stands.
    pub stage: FilingStage,
    /// The platform has a result document for it that can be printed here.
    pub result_available: bool,
    /// Where this comes from.
    pub known: Known,
    /// A bundle filing's items as the hub reported them, each a case of its
    /// own (empty until the hub has said, and for a single item).
    pub parts: Vec<PartStatus>,
}

/// One item of a bundle filing, as far as this terminal knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartStatus {
    /// The catalog item this part files.
    pub item_code: ImplementCode,
    /// The part's own case number (`<bundle case>P<n>`).
    pub case_number: CaseNumber,
    /// Where the part stands, as the hub last reported it.
    pub stage: FilingStage,
    /// Why the back office rejected it, in its words (shown as a single
    /// case's reason is).
    pub reason: Option<String>,
}

/// Where a filing stands, in the villager's terms.
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
    /// A case the platform numbered.
    Case(CaseNumber),
    /// A filing still waiting here, by its submission id.
    Submission(SubmissionId),
}

/// A 好差评 rating, ready to keep and send. Reasons are stored as their
/// Chinese labels (DESIGN §4: labels, not codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    /// What was rated.
    pub target: RatingTarget,
    /// The level chosen.
    pub rating: Rating,
    /// Ticked reasons, as Chinese labels.
    pub reasons: Vec<String>,
    /// When the rating was given.
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
    /// The item's name (always Chinese).
    pub item_name: String,
    /// The applicant's name, masked.
    pub applicant_masked: String,
    /// The ID number, masked.
    pub id_number_masked: String,
    /// When the filing was made.
    pub time: OffsetDateTime,
    /// This terminal's id.
    pub terminal_id: String,
    /// The village's 12-digit code.
    pub village_code: String,
    /// How the filing stands, e.g. whether it was sent or waits for the network.
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
