//! Carries out the effects of the journeys beside filing: reading prompts
//! aloud, progress and result lookups, and ratings. Called from
//! the app's effect loop (answers go back through [`Dispatch`]); like it, never blocks the UI
//! thread (storage runs on the blocking pool).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use model::evaluation::Rating;
use model::protocol::{ProgressCase, ProgressQuery};
use model::{CaseStatus, IdNumber, ImplementCode, SubmissionId};
use serde::{Deserialize, Serialize};
use offline_cache::{Outbox, OutboxEntry, OutboxState, StopReason, StoreError, SyncClient};
use tokio::runtime::Handle;
use tracing::{error, info, warn};

use crate::ports::Dispatch;
use crate::session::{Effect, Event, FilingStage, FilingStatus, Known, Lookup, PartStatus, PlatformNews, RatingRecord, RatingTarget};
use crate::voice::{Silent, Speaker};
use ui::i18n::n_;

/// The app's part of these journeys: the speaker, and ratings of filings
/// that have no case number yet.
pub struct VisitServices {
    speaker: Mutex<Arc<dyn Speaker>>,
    /// Ratings of filings still waiting for the network: an evaluation needs
    /// the case number. Retried after each sync round and whenever another
    /// rating is stored; kept in `ratings_file` so a restart loses none.
    waiting_ratings: Mutex<Vec<RatingRecord>>,
    ratings_file: Mutex<Option<PathBuf>>,
}

impl Default for VisitServices {
    fn default() -> Self {
        VisitServices {
            speaker: Mutex::new(Arc::new(Silent)),
            waiting_ratings: Mutex::new(Vec::new()),
            ratings_file: Mutex::new(None),
        }
    }
}

/// A rating waiting for its filing's case number, as kept on disk. No
/// personal data: the local reference, the level, reason labels, the time.
#[derive(Debug, Serialize, Deserialize)]
struct WaitingRating {
    submission: String,
    rating: Rating,
    reasons: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    at: time::OffsetDateTime,
}

impl WaitingRating {
    fn of(r: &RatingRecord) -> Option<WaitingRating> {
        match &r.target {
            RatingTarget::Submission(id) => {
                Some(WaitingRating { submission: id.to_string(), rating: r.rating, reasons: r.reasons.clone(), at: r.at })
            }
            RatingTarget::Case(_) => None,
        }
    }

    fn record(&self) -> Option<RatingRecord> {
        let id = SubmissionId::parse(&self.submission)?;
        Some(RatingRecord { target: RatingTarget::Submission(id), rating: self.rating, reasons: self.reasons.clone(), at: self.at })
    }
}

/// Loads the waiting ratings kept in `path` (none when it does not exist).
fn load_ratings(path: &Path) -> std::io::Result<Vec<RatingRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let kept: Vec<WaitingRating> = serde_json::from_str(&text).map_err(std::io::Error::other)?;
    Ok(kept.iter().filter_map(WaitingRating::record).collect())
}

/// Replaces `path` with `ratings`, atomically (temp file, fsync, rename):
/// a power cut leaves the old list or the new one, never half of either.
fn save_ratings(path: &Path, ratings: &[RatingRecord]) -> std::io::Result<()> {
    use std::io::Write;
    let kept: Vec<WaitingRating> = ratings.iter().filter_map(WaitingRating::of).collect();
    let body = serde_json::to_vec_pretty(&kept).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // The rename itself must survive a power cut too.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl VisitServices {
    /// Who reads prompts aloud from now on.
    pub fn set_speaker(&self, speaker: Arc<dyn Speaker>) {
        *lock(&self.speaker) = speaker;
    }

    /// Who reads prompts aloud now.
    pub fn speaker(&self) -> Arc<dyn Speaker> {
        lock(&self.speaker).clone()
    }

    /// Ratings kept until their filing has a case number.
    pub fn waiting_ratings(&self) -> usize {
        lock(&self.waiting_ratings).len()
    }

    /// Keeps waiting ratings in `path` from now on, and takes back those a
    /// previous run left there.
    pub fn keep_ratings_in(&self, path: PathBuf) -> std::io::Result<()> {
        let loaded = load_ratings(&path)?;
        if !loaded.is_empty() {
            info!(count = loaded.len(), "ratings waiting for a case number, from the last run");
        }
        lock(&self.waiting_ratings).extend(loaded);
        *lock(&self.ratings_file) = Some(path);
        Ok(())
    }

    /// Writes the waiting list to its file, if one is set.
    fn persist(&self) {
        let file = lock(&self.ratings_file).clone();
        if let Some(path) = file {
            let waiting = lock(&self.waiting_ratings).clone();
            if let Err(e) = save_ratings(&path, &waiting) {
                warn!(error = %e, path = %path.display(), "cannot keep the waiting ratings on disk");
            }
        }
    }

    /// Queues the waiting ratings whose filings now have a case number
    /// (after a sync round). Blocking: call from the blocking pool.
    pub fn retry_waiting(&self, outbox: &Outbox) {
        let waiting: Vec<RatingRecord> = std::mem::take(&mut *lock(&self.waiting_ratings));
        if waiting.is_empty() {
            return;
        }
        let keep = store_all(outbox, waiting);
        self.keep_waiting(keep);
    }
}

/// Stores each rating it can; returns those still waiting for a case number.
fn store_all(outbox: &Outbox, ratings: Vec<RatingRecord>) -> Vec<RatingRecord> {
    let mut keep = Vec::new();
    for r in ratings {
        match store_rating(outbox, &r) {
            Ok(true) => info!(rating = ?r.rating, "rating queued for the platform"),
            Ok(false) => keep.push(r),
            Err(e) => {
                warn!(error = %e, "cannot store a rating; kept to retry");
                keep.push(r);
            }
        }
    }
    keep
}

/// Runs one of the effects this module owns; others are ignored.
pub fn run(app: &impl Dispatch, services: &Arc<VisitServices>, outbox: &Arc<Outbox>, sync: &Arc<SyncClient>, rt: &Handle, effect: Effect) {
    match effect {
        Effect::Speak { lang, text, ids } => services.speaker().speak_prompt(lang, &text, &ids),
        Effect::LookUp(Lookup::Proven { receipt, id_number }) => {
            let app = app.clone();
            let (outbox, sync) = (outbox.clone(), sync.clone());
            rt.spawn(async move { app.dispatch(ask_platform(&sync, outbox, receipt, id_number).await) });
        }
        Effect::LookUp(query) => {
            let app = app.clone();
            let outbox = outbox.clone();
            rt.spawn(async move {
                let found = tokio::task::spawn_blocking(move || look_up(&outbox, &query)).await;
                match found {
                    Ok(Ok(found)) => app.dispatch(Event::LookedUp(found)),
                    Ok(Err(e)) => {
                        warn!(error = %e, "progress lookup failed");
                        app.dispatch(Event::LookupFailed(n_("本机查询出错了，请再试一次，或者请村代办员帮忙。").into()))
                    }
                    Err(e) => {
                        warn!(error = %e, "progress lookup task failed");
                        app.dispatch(Event::LookupFailed(n_("本机查询出错了，请再试一次，或者请村代办员帮忙。").into()))
                    }
                }
            });
        }
        Effect::LookUpELicense { material, id_number } => {
            let app = app.clone();
            let sync = sync.clone();
            rt.spawn(async move {
                let event = ask_e_license(&sync, material, id_number).await;
                app.dispatch(event);
            });
        }
        Effect::StoreRating(record) => {
            let waiting: Vec<RatingRecord> = std::mem::take(&mut *lock(&services.waiting_ratings));
            let outbox = outbox.clone();
            let services = services.clone();
            let ratings: Vec<RatingRecord> = std::iter::once(record).chain(waiting).collect();
            rt.spawn(async move {
                let retry = ratings.clone();
                let kept = services.clone();
                let stored = tokio::task::spawn_blocking(move || {
                    let keep = store_all(&outbox, ratings);
                    kept.keep_waiting(keep);
                })
                .await;
                match stored {
                    Ok(()) => {}
                    // Never ran (the runtime is shutting down): nothing was
                    // stored, so all of them wait (and are kept on disk).
                    Err(e) if e.is_cancelled() => {
                        warn!(count = retry.len(), "storing ratings was cancelled; kept to retry");
                        services.keep_waiting(retry);
                    }
                    // Panicked part-way: which were queued is unknown, and
                    // queuing them again could rate a case twice.
                    Err(e) => error!(error = %e, count = retry.len(), "storing ratings failed; some may be lost"),
                }
            });
        }
        _ => {}
    }
}

/// Asks the hub's e-license library for one material of the card holder.
/// Not reached (no network) and reached-but-the-library-is-down are told
/// apart, so the villager hears why a scan is needed. The ID number is
/// never logged; the license number neither.
async fn ask_e_license(sync: &SyncClient, material: String, id_number: model::IdNumber) -> Event {
    use crate::materials::ELicenseLookup as L;
    let query = model::protocol::ELicenseQuery { material_code: material.clone(), id_number };
    let asked = tokio::time::timeout(E_LICENSE_TIMEOUT, sync.e_license(&query)).await;
    let (found, miss) = match asked {
        Ok(Ok(answer)) => match answer.document.filter(|_| answer.available) {
            Some(doc) => (Some(Box::new(doc)), L::Found),
            None => (None, L::NotFound),
        },
        Ok(Err(stop @ (offline_cache::StopReason::LinkDown(_) | offline_cache::StopReason::Timeout))) => {
            info!(material = %material, reason = %stop, "e-license library not asked: the hub is not reached");
            (None, L::NoNetwork)
        }
        Ok(Err(stop)) => {
            warn!(material = %material, reason = %stop, "the e-license library did not answer");
            (None, L::NotAnswering)
        }
        Err(_) => {
            warn!(material = %material, "the e-license lookup timed out");
            (None, L::NoNetwork)
        }
    };
    info!(material = %material, found = found.is_some(), "e-license lookup answered");
    Event::ELicenseLooked { material, found, miss }
}

/// How long the villager waits for the library before being asked to scan.
const E_LICENSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl VisitServices {
    pub(crate) fn keep_waiting(&self, mut keep: Vec<RatingRecord>) {
        lock(&self.waiting_ratings).append(&mut keep);
        self.persist();
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

/// How long a villager waits for the platform before the terminal shows
/// what it knows itself.
const PLATFORM_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Progress at any terminal: asks the platform about a receipt with the
/// card's number. Unreachable: what this terminal knows of the card holder,
/// marked as such (the screen says the platform could not be asked).
async fn ask_platform(sync: &SyncClient, outbox: Arc<Outbox>, receipt: String, id_number: IdNumber) -> Event {
    let query = ProgressQuery { receipt, id_number };
    match tokio::time::timeout(PLATFORM_WAIT, sync.progress(&query)).await {
        Ok(Ok(Some(answer))) => {
            info!(cases = answer.cases.len(), "progress found on the platform");
            let found: Vec<FilingStatus> = answer.cases.into_iter().filter_map(|c| from_platform(c, &query.id_number)).collect();
            if found.is_empty() { Event::NothingOnPlatform } else { Event::LookedUp(found) }
        }
        Ok(Ok(None)) => Event::NothingOnPlatform,
        Ok(Err(StopReason::ServerBusy { status: 429, .. })) => {
            warn!("progress lookups refused: this terminal is over its allowance of misses today");
            Event::LookupFailed(n_("这台机器今天查不到的次数太多了，请明天再查，或者请村代办员帮忙。").into())
        }
        stopped => {
            match stopped {
                Ok(Err(stop)) => info!(reason = ?stop, "progress: the platform cannot be asked; showing what this terminal knows"),
                _ => info!("progress: the platform did not answer in time; showing what this terminal knows"),
            }
            let number = query.id_number.clone();
            let found = tokio::task::spawn_blocking(move || look_up(&outbox, &Lookup::IdNumber(number))).await;
            match found {
                Ok(Ok(found)) if found.is_empty() => Event::NothingKnownOffline,
                Ok(Ok(found)) => Event::LookedUp(found.into_iter().map(|f| FilingStatus { known: Known::HereOffline, ..f }).collect()),
                Ok(Err(e)) => {
                    warn!(error = %e, "progress lookup failed");
                    Event::LookupFailed(n_("本机查询出错了，请再试一次，或者请村代办员帮忙。").into())
                }
                Err(e) => {
                    warn!(error = %e, "progress lookup task failed");
                    Event::LookupFailed(n_("本机查询出错了，请再试一次，或者请村代办员帮忙。").into())
                }
            }
        }
    }
}

/// None for a case whose item code the catalog's format refuses (a hub bug).
fn from_platform(c: ProgressCase, proof: &IdNumber) -> Option<FilingStatus> {
    let stage = match c.status {
        CaseStatus::Done => FilingStage::Done,
        CaseStatus::Rejected => FilingStage::Problem,
        CaseStatus::Received | CaseStatus::Accepted | CaseStatus::Processing => FilingStage::Delivered,
    };
    let Ok(item_code) = ImplementCode::parse(&c.item_code) else {
        warn!(case = %c.case_number, "the platform answered an item code that is not one");
        return None;
    };
    Some(FilingStatus {
        reference: c.submission_id,
        item_code,
        created_at: c.filed_at,
        case_number: Some(c.case_number),
        stage,
        result_available: c.result_available,
        known: Known::Platform(Box::new(PlatformNews {
            history: c.history.into_iter().map(|s| (s.status, s.at)).collect(),
            reason: c.reason,
            reply: c.followup_reply,
            filed_here: c.filed_here,
            proof: proof.clone(),
        })),
        parts: c.parts.into_iter().filter_map(part_status).collect(),
    })
}

/// The filings a query finds on this terminal, newest first.
pub fn look_up(outbox: &Outbox, query: &Lookup) -> Result<Vec<FilingStatus>, StoreError> {
    let entries: Vec<OutboxEntry> = match query {
        Lookup::IdNumber(number) => outbox.find_by_id_number(number)?,
        Lookup::Reference(id) => outbox.entry(*id)?.into_iter().collect(),
        // Finished cases too, as long as the outbox keeps their row.
        Lookup::Case(case_number) => outbox.find_by_case_number(case_number)?,
        // Asked of the platform (ask_platform); here, the card's filings.
        Lookup::Proven { id_number, .. } => outbox.find_by_id_number(id_number)?,
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
        result_available: case.as_ref().is_some_and(|c| c.result_available),
        known: Known::Here,
        parts: case.map(|c| c.parts).unwrap_or_default().into_iter().filter_map(part_status).collect(),
    })
}

/// A bundle part as the hub reported it; an item code that does not parse
/// (a hub of another make) is left out rather than shown wrong.
fn part_status(p: model::protocol::CasePart) -> Option<PartStatus> {
    let stage = match p.status {
        CaseStatus::Rejected => FilingStage::Problem,
        CaseStatus::Done => FilingStage::Done,
        CaseStatus::Received | CaseStatus::Accepted | CaseStatus::Processing => FilingStage::Delivered,
    };
    Some(PartStatus { item_code: model::ImplementCode::parse(&p.item_code).ok()?, case_number: p.case_number, stage, reason: p.reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ratings_waiting_for_a_case_number_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ratings-waiting.json");
        let first = VisitServices::default();
        first.keep_ratings_in(file.clone()).unwrap();
        let record = RatingRecord {
            target: RatingTarget::Submission(SubmissionId::new()),
            rating: Rating::Satisfied,
            reasons: vec!["办得快".into()],
            at: datetime!(2026-11-21 10:00 +8),
        };
        first.keep_waiting(vec![record.clone()]);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("satisfied") && text.contains("办得快"), "{text}");

        // The next run takes it back, exactly.
        let second = VisitServices::default();
        second.keep_ratings_in(file.clone()).unwrap();
        assert_eq!(second.waiting_ratings(), 1);
        assert_eq!(lock(&second.waiting_ratings)[0], record);

        // A damaged file is reported, not silently replaced.
        std::fs::write(&file, b"{ not json").unwrap();
        let third = VisitServices::default();
        assert!(third.keep_ratings_in(file.clone()).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"{ not json");
    }

    /// The platform's answer for a bundle brings each part, with the back
    /// office's reason for a rejected one; a part whose code is not one is
    /// left out rather than shown wrong.
    #[test]
    fn a_bundle_from_the_platform_keeps_its_parts_and_reasons() {
        use model::protocol::{CasePart, ProgressStep};
        let case = model::CaseNumber::parse("62292620261121000124").unwrap();
        let part = |n: u8, code: &str, status, reason: Option<&str>| CasePart {
            item_code: code.into(),
            case_number: model::CaseNumber::parse(&format!("{case}P{n}")).unwrap(),
            status,
            reason: reason.map(str::to_owned),
        };
        let at = datetime!(2026-11-21 10:00 +8);
        let answer = ProgressCase {
            case_number: case.clone(),
            submission_id: SubmissionId::new(),
            item_code: "620000YJS004".into(),
            status: CaseStatus::Received,
            filed_at: at,
            history: vec![ProgressStep { status: CaseStatus::Received, at }],
            reason: None,
            result_available: false,
            filed_here: false,
            followup_reply: None,
            parts: vec![
                part(1, "620000RS0013", CaseStatus::Done, None),
                part(2, "620000RS0016", CaseStatus::Rejected, Some("缺少离职证明")),
                part(3, "not a code!", CaseStatus::Accepted, None),
            ],
        };
        let proof = model::fixtures::id_number(model::fixtures::SAMPLE_ID_FIRST17);
        let f = from_platform(answer, &proof).expect("a filing");
        let got: Vec<(&str, FilingStage, Option<&str>)> = f.parts.iter().map(|p| (p.item_code.as_str(), p.stage, p.reason.as_deref())).collect();
        assert_eq!(got, [("620000RS0013", FilingStage::Done, None), ("620000RS0016", FilingStage::Problem, Some("缺少离职证明"))]);
        assert_eq!(f.parts[1].case_number.to_string(), format!("{case}P2"));
    }
}
