//! Carries out the effects of the journeys beside filing: reading prompts
//! aloud, progress and result lookups, and ratings. Called from
//! [`App`](crate::app::App)'s effect loop; like it, never blocks the UI
//! thread (storage runs on the blocking pool).

use std::sync::{Arc, Mutex};

use model::CaseStatus;
use offline_cache::{Outbox, OutboxEntry, OutboxState, StoreError};
use tokio::runtime::Handle;
use tracing::{info, warn};

use crate::app::App;
use crate::session::{Effect, Event, FilingStage, FilingStatus, Lookup, RatingRecord, RatingTarget};
use crate::voice::{Silent, Speaker};

/// The app's part of these journeys: the speaker, and ratings of filings
/// that have no case number yet.
pub struct VisitServices {
    speaker: Mutex<Arc<dyn Speaker>>,
    /// Ratings of filings still waiting for the network: an evaluation needs
    /// the case number. Retried whenever another rating is stored. In memory
    /// only (offline-cache has no table for them yet).
    waiting_ratings: Mutex<Vec<RatingRecord>>,
}

impl Default for VisitServices {
    fn default() -> Self {
        VisitServices { speaker: Mutex::new(Arc::new(Silent)), waiting_ratings: Mutex::new(Vec::new()) }
    }
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl VisitServices {
    pub fn set_speaker(&self, speaker: Arc<dyn Speaker>) {
        *lock(&self.speaker) = speaker;
    }

    pub fn speaker(&self) -> Arc<dyn Speaker> {
        lock(&self.speaker).clone()
    }

    /// Ratings kept in memory until their filing has a case number.
    pub fn waiting_ratings(&self) -> usize {
        lock(&self.waiting_ratings).len()
    }
}

/// Runs one of the effects this module owns; others are ignored.
pub fn run(app: &App, services: &Arc<VisitServices>, outbox: &Arc<Outbox>, rt: &Handle, effect: Effect) {
    match effect {
        Effect::Speak { lang, text } => services.speaker().speak(lang, &text),
        Effect::LookUp(query) => {
            let app = app.clone();
            let outbox = outbox.clone();
            rt.spawn(async move {
                let found = tokio::task::spawn_blocking(move || look_up(&outbox, &query)).await;
                match found {
                    Ok(Ok(found)) => app.dispatch(Event::LookedUp(found)),
                    Ok(Err(e)) => {
                        warn!(error = %e, "progress lookup failed");
                        app.dispatch(Event::LookupFailed("本机查询出错了，请再试一次，或者请村代办员帮忙。".into()))
                    }
                    Err(e) => {
                        warn!(error = %e, "progress lookup task failed");
                        app.dispatch(Event::LookupFailed("本机查询出错了，请再试一次，或者请村代办员帮忙。".into()))
                    }
                }
            });
        }
        Effect::StoreRating(record) => {
            let waiting: Vec<RatingRecord> = std::mem::take(&mut *lock(&services.waiting_ratings));
            let still_waiting = {
                let outbox = outbox.clone();
                move || -> Vec<RatingRecord> {
                    let mut keep = Vec::new();
                    for r in std::iter::once(record).chain(waiting) {
                        match store_rating(&outbox, &r) {
                            Ok(true) => info!(rating = ?r.rating, "rating queued for the platform"),
                            Ok(false) => keep.push(r),
                            Err(e) => {
                                warn!(error = %e, "cannot store a rating; kept in memory");
                                keep.push(r);
                            }
                        }
                    }
                    keep
                }
            };
            let services = services.clone();
            rt.spawn(async move {
                if let Ok(keep) = tokio::task::spawn_blocking(still_waiting).await {
                    services.keep_waiting(keep);
                }
            });
        }
        _ => {}
    }
}

impl VisitServices {
    pub(crate) fn keep_waiting(&self, mut keep: Vec<RatingRecord>) {
        lock(&self.waiting_ratings).append(&mut keep);
    }
}

/// Queues a rating as an evaluation when its case number is known. Returns
/// false when the filing is still waiting for one.
pub fn store_rating(outbox: &Outbox, record: &RatingRecord) -> Result<bool, StoreError> {
    let evaluation = match (&record.target, record.evaluation()) {
        (_, Some(evaluation)) => evaluation,
        (RatingTarget::Submission(id), None) => match outbox.entry(*id)?.and_then(|e| e.case_number) {
            Some(case_number) => {
                RatingRecord { target: RatingTarget::Case(case_number), ..record.clone() }.evaluation().expect("a case")
            }
            None => return Ok(false),
        },
        (RatingTarget::Case(_), None) => unreachable!("a case target always makes an evaluation"),
    };
    outbox.enqueue_evaluation(&evaluation)?;
    Ok(true)
}

/// The filings a query finds on this terminal, newest first.
pub fn look_up(outbox: &Outbox, query: &Lookup) -> Result<Vec<FilingStatus>, StoreError> {
    let entries: Vec<OutboxEntry> = match query {
        Lookup::IdNumber(number) => outbox.find_by_id_number(number)?,
        Lookup::Reference(id) => outbox.entry(*id)?.into_iter().collect(),
        Lookup::Case(case_number) => {
            // The outbox has no index by case number; a terminal holds few
            // filings awaiting their outcome, so look through those.
            let mut found = Vec::new();
            for id in outbox.awaiting_status(10_000)? {
                if let Some(e) = outbox.entry(id)? {
                    if e.case_number.as_ref() == Some(case_number) {
                        found.push(e);
                    }
                }
            }
            found
        }
    };
    entries.into_iter().map(|e| status_of(outbox, e)).collect()
}

fn status_of(outbox: &Outbox, e: OutboxEntry) -> Result<FilingStatus, StoreError> {
    let case = outbox.case_status(e.id)?;
    let stage = match (e.state, case.as_ref().map(|c| c.status)) {
        (_, Some(CaseStatus::Rejected)) | (OutboxState::Quarantined, _) => FilingStage::Problem,
        (_, Some(CaseStatus::Done)) | (OutboxState::Processed | OutboxState::Purged, _) => FilingStage::Done,
        (OutboxState::Queued | OutboxState::Sending, _) => FilingStage::Waiting,
        (OutboxState::Acknowledged, _) => FilingStage::Delivered,
    };
    Ok(FilingStatus {
        reference: e.id,
        item_code: e.item_code,
        created_at: e.created_at,
        case_number: e.case_number,
        stage,
    })
}
