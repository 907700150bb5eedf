//! Cunban kiosk screens (Slint) and their view-model.
//!
//! `ui` knows screens and view-models, never devices or storage (DESIGN §2).
//! The kiosk crate maps domain data onto [`KioskWindow`]'s properties and
//! turns its callbacks into session events. See `README.md` for the contract.
//!
//! The windowing backend (`winit` feature, on by default) is only needed to
//! open a real window; headless tests use `i-slint-backend-testing`.

slint::include_modules!();

/// The Slint version this crate is built against, re-exported so the kiosk
/// uses exactly the same types (`ModelRc`, `VecModel`, `SharedString`, ...).
pub use slint;

/// The font family every screen asks for. It must be installed
/// (Debian: `fonts-noto-cjk`): a missing CJK font makes text invisible.
/// Check it at start-up and in the self-test.
pub const FONT_FAMILY: &str = "Noto Sans CJK SC";

/// Values of [`KioskWindow`]'s `screen` property.
pub mod screen {
    pub const HOME: &str = "home";
    pub const SERVICES: &str = "services";
    pub const ID_PROMPT: &str = "id-prompt";
    pub const FORM: &str = "form";
    pub const REVIEW: &str = "review";
    pub const SUBMITTING: &str = "submitting";
    pub const SAVED: &str = "saved";
    pub const RECEIPT: &str = "receipt";
    pub const ERROR: &str = "error";

    /// Every screen, in the order of a visit.
    pub const ALL: [&str; 9] = [
        HOME, SERVICES, ID_PROMPT, FORM, REVIEW, SUBMITTING, SAVED, RECEIPT, ERROR,
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
