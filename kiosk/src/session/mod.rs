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

mod events;
mod filing;
mod lookup;
mod place;
mod rating;
mod reading;
mod render;
mod search;
mod state;
mod submission;
mod view;
mod wording;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use model::protocol::Paths;
use model::{Catalog, Lang};
use time::OffsetDateTime;

pub use events::{
    Capabilities, Effect, Event, FilingStage, FilingStatus, Known, Lookup, PartStatus, PlatformNews, RatingRecord, RatingTarget, ReceiptData,
    Terminal, CONSENT_VERSION, RETENTION_DAYS,
};
pub use view::{ChoiceView, MaterialView, PartView, ProgressView, ReasonView, RowView, Screen, ThemeView, TileView, View};

use state::{reads_card, Purpose, Settings, State};

fn bundle_items(catalog: &Catalog) -> Vec<model::ServiceItem> {
    catalog.bundles.iter().filter_map(|b| catalog.bundle_as_item(b)).collect()
}

/// The session's clock: stamps consent, filings and ratings; tests pass a fixed one.
pub type Clock = Box<dyn Fn() -> OffsetDateTime + Send>;

/// One villager's visit: events in, effects and a [`View`] out; no Slint, no I/O.
pub struct Session {
    catalog: Arc<Catalog>,
    /// A newer catalog that arrived during a visit: taken when the visit
    /// ends, so a villager finishes on the version they started.
    next_catalog: Option<Arc<Catalog>>,
    /// The catalog's bundles, each as the one item a villager files
    /// (`Catalog::bundle_as_item`), rebuilt with the catalog.
    bundle_items: Vec<model::ServiceItem>,
    /// Filings per item code held by this terminal (常办, search ranking).
    filed: std::collections::HashMap<String, u32>,
    /// The catalog's search index, rebuilt with the catalog.
    search_index: model::catalog::SearchIndex,
    /// What the villager typed on the search screen: typed text, so it is
    /// never logged and is zeroised when the visit goes home.
    search_query: zeroize::Zeroizing<String>,
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
    /// The frame's banner on every screen, a message id ("" for none).
    banner: String,
    /// What exists behind this terminal (the hub's signed config): a
    /// sentence about 短信, 电子证照 or 邮寄 is shown only when its path is here.
    paths: Paths,
}

impl Session {
    /// Builds a session at the home screen with default settings, for the
    /// catalog it serves and the terminal's devices.
    pub fn new(catalog: Arc<Catalog>, terminal: Terminal, caps: Capabilities, clock: Clock) -> Session {
        Session {
            bundle_items: bundle_items(&catalog),
            search_index: model::catalog::SearchIndex::new(&catalog),
            search_query: Default::default(),
            catalog,
            next_catalog: None,
            filed: std::collections::HashMap::new(),
            terminal,
            caps,
            settings: Settings::fresh(Vec::new(), Default::default()),
            clock,
            state: State::Home,
            idle_left: None,
            last_spoken: String::new(),
            online: false,
            retention_days: RETENTION_DAYS,
            banner: String::new(),
            paths: Paths::default(),
        }
    }

    /// The screen the visit is on.
    pub fn screen(&self) -> Screen {
        match &self.state {
            State::Home => Screen::Home,
            State::Services { .. } => Screen::Services,
            State::Search { .. } => Screen::Search,
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

    /// The language the villager chose.
    pub fn lang(&self) -> Lang {
        self.settings.lang
    }

    /// Whether personal data of a villager is held right now.
    pub fn holds_personal_data(&self) -> bool {
        matches!(self.state, State::Form(_) | State::Materials { .. } | State::Review(_) | State::Submitting { .. })
    }

    /// Replaces the catalog (e.g. after a sync): at once between visits,
    /// else when the visit in progress ends. A visit never changes version
    /// midway: its form, materials and recorded version stay the ones it
    /// started with.
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.next_catalog = Some(catalog);
        self.adopt_next_catalog();
    }

    /// This terminal's filings per item code (from the outbox; no personal
    /// data): the 常办 chip lists the most filed.
    pub fn set_filed_counts(&mut self, filed: std::collections::HashMap<String, u32>) {
        self.filed = filed;
    }

    /// The version of the catalog the current (or next) visit uses.
    pub fn catalog_version(&self) -> u64 {
        self.catalog.version
    }

    fn adopt_next_catalog(&mut self) {
        if matches!(self.state, State::Home) {
            if let Some(next) = self.next_catalog.take() {
                self.bundle_items = bundle_items(&next);
                self.search_index = model::catalog::SearchIndex::new(&next);
                self.catalog = next;
            }
        }
    }

    /// Tells the session which optional devices (camera, scanner) this terminal has.
    pub fn set_capabilities(&mut self, caps: Capabilities) {
        self.caps = caps;
    }

    /// The retention the consent screen states; must be what the outbox
    /// is configured with (`kiosk.toml` `[outbox] retention_days`).
    pub fn set_retention_days(&mut self, days: u64) {
        self.retention_days = days;
    }

    /// The banner every screen shows (a message id, e.g. "the catalog is
    /// damaged"; "" for none), translated with the rest of the view.
    pub fn set_banner(&mut self, msgid: String) {
        self.banner = msgid;
    }

    /// The promise-bearing paths of the terminal config last applied (none
    /// until a hub said so); takes effect on the next view.
    pub fn set_paths(&mut self, paths: Paths) {
        self.paths = paths;
    }

    /// The promise-bearing paths last set with [`Session::set_paths`].
    pub fn paths(&self) -> Paths {
        self.paths
    }

    /// Whether the hub answered the last sync.
    pub fn online(&self) -> bool {
        self.online
    }

    /// Applies one event; returns what the kiosk must do.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let effects = self.handle_inner(event);
        if matches!(self.state, State::Home) {
            // The visit is over: what was typed goes with it.
            self.search_query = Default::default();
        }
        self.adopt_next_catalog();
        effects
    }

    fn handle_inner(&mut self, event: Event) -> Vec<Effect> {
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
            // 读整页: the whole screen, once, when the engine can read it.
            Event::ReadScreen => {
                self.idle_left = None;
                let lang = self.settings.lang;
                if self.settings.voice_on && self.settings.voices.contains(&lang) {
                    vec![Effect::Speak { lang, text: self.screen_reading(), ids: Vec::new() }]
                } else {
                    vec![]
                }
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
            Event::RecordingsAvailable(recorded) => {
                self.settings.recorded = recorded;
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
            // Each keystroke on the search screen: the results follow.
            Event::SearchTyped(query) => {
                self.idle_left = None;
                if matches!(self.state, State::Search { .. }) {
                    self.search_query = zeroize::Zeroizing::new(query);
                }
                vec![]
            }
            Event::IdleTimeout => {
                self.idle_left = None;
                let state = std::mem::replace(&mut self.state, State::Home);
                let stop = reads_card(&state);
                drop(state);
                // The next person starts from the defaults.
                self.settings = Settings::fresh(
                    std::mem::take(&mut self.settings.voices),
                    std::mem::take(&mut self.settings.recorded),
                );
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

    /// An item of the catalog, or a bundle as the one item filed for it.
    pub(super) fn item_by_code(&self, code: &str) -> Option<&model::ServiceItem> {
        self.catalog.item(code).or_else(|| self.bundle_items.iter().find(|i| i.implement_code.as_str() == code))
    }

    /// The bundle a code names, if it names one.
    pub(super) fn bundle_of(&self, code: &str) -> Option<&model::catalog::Bundle> {
        self.catalog.bundle(code)
    }

    fn state_is_home(&self) -> bool {
        matches!(self.state, State::Home)
    }

    fn speak_if_needed(&mut self, force: bool, effects: &mut Vec<Effect>) {
        let lang = self.settings.lang;
        if !(force || self.settings.voice_on) {
            return;
        }
        let prompt = self.prompt();
        let ids = self.prompt_ids(&prompt);
        if !self.settings.can_say(lang, &ids) {
            return;
        }
        if force || prompt != self.last_spoken {
            self.last_spoken = prompt.clone();
            if !prompt.is_empty() {
                effects.push(Effect::Speak { lang, text: prompt, ids });
            }
        }
    }

    /// One event in one state: the journeys' rules in turn.
    fn step(&self, state: State, event: Event) -> (State, Vec<Effect>) {
        // Leaving the visit from anywhere drops every trace of it.
        if let Event::Cancel = event {
            let stop = reads_card(&state);
            drop(state);
            return (State::Home, if stop { vec![Effect::StopCardReader] } else { vec![] });
        }
        self.step_search(state, event)
            .or_else(|(state, event)| self.step_filing(state, event))
            .or_else(|(state, event)| self.step_lookup(state, event))
            .or_else(|(state, event)| self.step_rating(state, event))
            // Anything else (a late device event, a double tap) changes nothing.
            .unwrap_or_else(|(state, _)| (state, vec![]))
    }
}
