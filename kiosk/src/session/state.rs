//! Where a visit stands: the private state of the machine. Personal data
//! lives only here, and leaves with the state.

use std::collections::{BTreeMap, BTreeSet};

use model::catalog::FieldError;
use model::evaluation::Rating;
use model::{CaseNumber, Identity, ImplementCode, Lang, SubmissionId};
use time::{Date, OffsetDateTime};

use super::events::{Effect, Event, FilingStatus, RatingTarget, ReceiptData};
use crate::materials::{CaptureKind, Outcome};

/// The villager's settings for this visit. Reset when the visit times out,
/// so the next person starts from the terminal's defaults.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) lang: Lang,
    pub(super) large_text: bool,
    pub(super) high_contrast: bool,
    pub(super) voice_on: bool,
    /// Languages the speech engine can read (not reset: it is the machine's).
    pub(super) voices: Vec<Lang>,
    /// Message ids with a recording, per language (installed voice packs).
    pub(super) recorded: BTreeMap<Lang, BTreeSet<String>>,
}

impl Settings {
    pub(super) fn fresh(voices: Vec<Lang>, recorded: BTreeMap<Lang, BTreeSet<String>>) -> Settings {
        Settings { lang: Lang::ZhCn, large_text: false, high_contrast: false, voice_on: false, voices, recorded }
    }

    /// Whether a prompt made of these messages (empty: not all of it is a
    /// message) can be said in `lang`: by a recording of every part, or by
    /// the engine. Never by another language's voice.
    pub(super) fn can_say(&self, lang: Lang, ids: &[String]) -> bool {
        let recorded = !ids.is_empty() && self.recorded.get(&lang).is_some_and(|r| ids.iter().all(|id| r.contains(id)));
        recorded || self.voices.contains(&lang)
    }
}

/// A form being filled for one item by one card holder.
pub(super) struct Draft {
    pub(super) item: ImplementCode,
    pub(super) identity: Box<Identity>,
    pub(super) consent_at: OffsetDateTime,
    pub(super) values: BTreeMap<String, String>,
    pub(super) errors: BTreeMap<String, FieldError>,
    /// Material code → how it stands (captures zeroise on drop).
    pub(super) materials: BTreeMap<String, Outcome>,
    /// Material code → how asking the e-license library for it stands.
    pub(super) e_licenses: BTreeMap<String, crate::materials::ELicenseLookup>,
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
pub(super) enum Delivery {
    Sent(CaseNumber),
    Waiting(SubmissionId),
}

/// A filing that is safely saved: what the saved and receipt screens show.
pub(super) struct Filed {
    pub(super) item: ImplementCode,
    pub(super) receipt: ReceiptData,
    pub(super) delivery: Delivery,
}

impl Filed {
    pub(super) fn rating_target(&self) -> RatingTarget {
        match &self.delivery {
            Delivery::Sent(case) => RatingTarget::Case(case.clone()),
            Delivery::Waiting(id) => RatingTarget::Submission(*id),
        }
    }
}

/// A problem to show, kept as its message id so it is worded in whatever
/// language is chosen when it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Problem {
    /// A Chinese sentence from a device or worker.
    Said(String),
    Expired(Date),
    NotYetValid(Date),
    BadCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Progress,
    Result,
    Rate,
}

pub(super) enum LookupPhase {
    Ask(Option<Problem>),
    Looking,
    /// Looking a receipt up on this terminal; if it knows none, the card
    /// is asked for and the platform asked (progress at any terminal).
    LookingCode(String),
    /// This terminal does not know the receipt: the card must prove the
    /// filing is the villager's before the platform is asked.
    NeedCard(String, Option<Problem>),
    /// The platform could not be asked and this terminal knows nothing.
    NotFoundOffline,
    /// The platform has nothing for this receipt and card.
    NotFoundOnPlatform,
    Found(Vec<FilingStatus>),
    /// Result: printing the document of a found case.
    Printing(Vec<FilingStatus>, PrintOutcome),
    NotFound,
}

/// The services lists that are not a catalog theme (no theme may use these ids).
/// The 常办 chip: the items this village files most.
pub(super) const FREQUENT: &str = "frequent";
/// The 一件事一次办 chip: every bundle of the catalog.
pub(super) const BUNDLES: &str = "bundles";
/// The 按部门 chip: the catalog's departments.
pub(super) const DEPARTMENTS: &str = "departments";
/// One department's items: this prefix and the department's Chinese name.
pub(super) const DEPARTMENT: &str = "department:";
/// Not a list: a guide opened from the search results (返回 goes back to them).
pub(super) const FROM_SEARCH: &str = "search";

pub(super) enum State {
    Home,
    /// The list of a theme ("" all, 常办, 一件事一次办, the departments or
    /// one department: see `search.rs`).
    Services { theme: String },
    /// Typing to find an item; `typing`: the keyboard is up. The query is
    /// the session's `search_query`.
    Search { typing: bool },
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

pub(super) struct RateState {
    pub(super) target: RatingTarget,
    /// The item, when known (not when rating by a receipt number).
    pub(super) item: Option<ImplementCode>,
    pub(super) rating: Option<Rating>,
    pub(super) reasons: BTreeSet<String>,
    /// Where 不评了 goes back to.
    pub(super) back: Box<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PrintOutcome {
    Printing,
    Printed,
    Failed(String),
}

/// A journey's answer to an event: the next state and what the kiosk must
/// do, or the state and the event back when the journey has no rule for them.
pub(super) type Stepped = Result<(State, Vec<Effect>), (State, Event)>;

/// Whether the card reader is on in this state (and must be stopped on leaving).
pub(super) fn reads_card(state: &State) -> bool {
    matches!(state, State::IdPrompt { .. } | State::Lookup { phase: LookupPhase::Ask(_) | LookupPhase::NeedCard(..), .. })
}
