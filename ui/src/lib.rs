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
#[cfg(feature = "testing")]
pub mod testing;

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

/// Every screen of a villager's visit, in the order of a visit (assisted
/// mode's screens follow in [`Screen`] but need a van profile to reach).
pub const VISIT_SCREENS: [Screen; 17] = [
    Screen::Home,
    Screen::Services,
    Screen::Search,
    Screen::Guide,
    Screen::Consent,
    Screen::IdPrompt,
    Screen::Form,
    Screen::Materials,
    Screen::Review,
    Screen::Submitting,
    Screen::Saved,
    Screen::Receipt,
    Screen::Rate,
    Screen::Progress,
    Screen::Result,
    Screen::Goodbye,
    Screen::Error,
];

/// Assisted mode's screens (service vans), after the visit's in [`Screen`].
pub const ASSISTED_SCREENS: [Screen; 4] = [Screen::OperatorLogin, Screen::Trip, Screen::TripSummary, Screen::Signature];

/// A screen's name in file names and on command lines: `IdPrompt` → `id-prompt`
/// (the name Slint gives the enum value).
pub fn screen_name(screen: Screen) -> String {
    let mut out = String::new();
    for (i, c) in format!("{screen:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Keyboard rows as the window's key caps: ids in reading order, each row
/// centred under the widest. A key is its printed label and the name read
/// aloud. Returns the caps and the widest row's length.
pub fn key_caps<'a>(rows: &[Vec<(&'a str, &'a str)>]) -> (Vec<KeyCap>, usize) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1);
    let mut caps = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        for (c, (label, spoken)) in row.iter().enumerate() {
            caps.push(KeyCap {
                id: caps.len() as i32,
                label: (*label).into(),
                spoken: (*spoken).into(),
                row: r as i32,
                col: c as i32,
                offset: (columns - row.len()) as f32 / 2.0,
                span: 1.0,
                toggled: false,
            });
        }
    }
    (caps, columns)
}

/// The screen of that name (see [`screen_name`]), for command lines.
pub fn screen_named(name: &str) -> Option<Screen> {
    VISIT_SCREENS.into_iter().chain(ASSISTED_SCREENS).find(|s| screen_name(*s) == name)
}
