//! Cunban kiosk screens (Slint), their view-model and their translations.
//!
//! `ui` knows screens and view-models, never devices or storage (DESIGN §2).
//! The kiosk crate maps domain data onto [`KioskWindow`]'s properties and
//! turns its callbacks into session events. See `README.md` for the contract.
//!
//! The windowing backend (`winit` feature, on by default) is only needed to
//! open a real window; headless tests use `i-slint-backend-testing`.

slint::include_modules!();

pub mod i18n;

/// The Slint version this crate is built against, re-exported so the kiosk
/// uses exactly the same types (`ModelRc`, `VecModel`, `SharedString`, ...).
pub use slint;

/// The font family of Chinese and English screens. It must be installed
/// (Debian: `fonts-noto-cjk`): a missing CJK font makes text invisible.
pub const FONT_FAMILY: &str = "Noto Sans CJK SC";

/// Every font family the screens name, with the Debian package that ships
/// it (one list for ui, the kiosk and kioskctl: `model::fonts`). Check them
/// at start-up and in the self-test.
pub use model::fonts::FONT_FAMILIES;

/// Switches every `@tr()` text of the UI to `lang` (`zh-CN`, `bo`, `kk`,
/// `en`; anything else is the Chinese source) and sets the theme's language
/// (font, right-to-left). Call it on the UI thread after the window exists.
pub fn set_language(window: &KioskWindow, lang: &str) {
    use slint::ComponentHandle;
    let bundled = if lang == "zh-CN" { "" } else { lang };
    // The Chinese source is always there; a missing bundle is a build defect
    // that the tests catch, so the screen simply stays as it is.
    let _ = slint::select_bundled_translation(bundled);
    window.global::<Theme>().set_lang(if i18n::LANGUAGES.contains(&lang) { lang } else { "zh-CN" }.into());
}

/// Values of [`KioskWindow`]'s `screen` property.
pub mod screen {
    pub const HOME: &str = "home";
    pub const SERVICES: &str = "services";
    pub const GUIDE: &str = "guide";
    pub const CONSENT: &str = "consent";
    pub const ID_PROMPT: &str = "id-prompt";
    pub const FORM: &str = "form";
    pub const MATERIALS: &str = "materials";
    pub const REVIEW: &str = "review";
    pub const SUBMITTING: &str = "submitting";
    pub const SAVED: &str = "saved";
    pub const RECEIPT: &str = "receipt";
    pub const RATE: &str = "rate";
    pub const PROGRESS: &str = "progress";
    pub const RESULT: &str = "result";
    pub const GOODBYE: &str = "goodbye";
    pub const ERROR: &str = "error";

    /// Every screen, in the order of a visit.
    pub const ALL: [&str; 16] = [
        HOME, SERVICES, GUIDE, CONSENT, ID_PROMPT, FORM, MATERIALS, REVIEW, SUBMITTING, SAVED, RECEIPT, RATE, PROGRESS,
        RESULT, GOODBYE, ERROR,
    ];
}

/// Values of [`FormRow::kind`].
pub mod field_kind {
    pub const TEXT: &str = "text";
    pub const DIGITS: &str = "digits";
    pub const PHONE: &str = "phone";
    pub const CHOICE: &str = "choice";
    pub const DATE: &str = "date";
}

/// Values of [`KioskWindow`]'s `rating` property and `choose-rating` callback.
pub mod rating {
    pub const VERY_SATISFIED: &str = "very_satisfied";
    pub const SATISFIED: &str = "satisfied";
    pub const NEUTRAL: &str = "neutral";
    pub const DISSATISFIED: &str = "dissatisfied";
    pub const VERY_DISSATISFIED: &str = "very_dissatisfied";
}
