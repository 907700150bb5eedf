//! Assisted mode in a service van (帮办代办): an assistant logs in, starts a
//! trip to one of the van's villages, and files for villagers one after
//! another. A plain state machine like [`crate::session`]: events in,
//! effects out, no Slint, no storage.
//!
//! Each filing runs the villager journey itself (a fresh [`Session`] for
//! the trip's village: service, consent, ID card, form, review), so every
//! rule of that journey holds here too. Two steps are added: the assistant
//! attaches scanned materials during the filing, and before the review is
//! confirmed the villager signs on screen with a finger. The submission the
//! journey builds is then turned into an on-behalf filing (agent, relation,
//! trip, signature); the type system makes the signature and the agent
//! impossible to leave out.
//!
//! Separation: nothing here is reachable without a successful operator
//! login, and this machine only exists on a terminal configured as a
//! service van ([`AssistedSession::new`] refuses a self-service terminal).
//! The villager's own [`Session`] has no event that leads here. Every
//! operator action is handed to the app as an [`AssistEffect::Audit`].

use std::sync::Arc;

use model::operator::StaffNumber;
use model::submission::{Agent, AgentRelation, AttachmentRef, Channel, FiledBy, OnBehalf, Signature, Stroke};
use model::{Catalog, Submission, SubmissionId, VillageCode};
use offline_cache::{LoggedIn, VillageTally};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::session::{Capabilities, Clock, Effect, Event, Screen, Session, Terminal};
use ui::i18n::n_;

/// The signature pad, in pad coordinates (the screen scales it).
pub const PAD_WIDTH: u16 = 600;
/// Height of the signature pad, in pad coordinates.
pub const PAD_HEIGHT: u16 = 240;

/// What the assistant or the app did, for [`AssistedSession::handle`].
/// Its `Debug` leaves out scanned bytes (and the PIN, which masks itself
/// only by being zeroised: it is left out too).
#[derive(educe::Educe)]
#[educe(Debug)]
pub enum AssistEvent {
    /// The hidden entry (a long press on the van badge): show the login screen.
    OpenLogin,
    /// Login screen: 登录.
    SubmitLogin {
        /// The staff number typed.
        staff: String,
        /// The PIN typed; zeroised on drop; do not log it.
        #[educe(Debug(ignore))]
        pin: Zeroizing<String>,
    },
    /// The app's answer to [`AssistEffect::CheckLogin`].
    LoginAccepted(LoggedIn),
    /// A sentence for the assistant (wrong PIN, locked, needs network, ...).
    LoginRefused(String),
    /// Trip screen: a village of the operator's list.
    StartTrip(VillageCode),
    /// Trip summary: 新办件.
    NewFiling,
    /// While filing: the villager journey's own events.
    Villager(Event),
    /// While filing: a material scanned or photographed by the assistant.
    MaterialScanned {
        /// The catalog material it is for.
        material_code: String,
        /// MIME type, e.g. `image/jpeg`.
        media_type: String,
        /// The file. Personal data: do not log it.
        #[educe(Debug(ignore))]
        bytes: Vec<u8>,
    },
    /// Signature pad: one finger stroke (pad coordinates).
    Stroke(Vec<[u16; 2]>),
    /// Signature pad: 重写 (clear all strokes).
    ClearSignature,
    /// Signature pad: how the assistant stands to the applicant (代办关系).
    ChooseRelation(AgentRelation),
    /// Signature pad: 确认签名 (then the filing is confirmed and saved).
    AcceptSignature,
    /// Signature pad: 返回 (back to the review).
    BackToReview,
    /// The app's answer to [`AssistEffect::RefreshTrip`].
    TripSummary(Vec<VillageTally>),
    /// The sync worker's progress: sent this round and still waiting.
    SyncProgress {
        /// Filings sent this round.
        sent: u64,
        /// Filings still waiting.
        waiting: u64,
    },
    /// Trip summary: 换村 (pick another village).
    EndTrip,
    /// 退出登录: the operator's session ends; the filing in progress is discarded.
    Logout,
    /// No touch for the operator timeout.
    IdleTimeout,
    /// A sync found the account revoked or expired.
    OperatorInvalid,
    /// Another assistant takes over the van: the session ends, login shows.
    SwitchOperator,
}

/// What the app must do for assisted mode. Its `Debug` leaves out the PIN
/// and the attachments' bytes.
#[derive(educe::Educe)]
#[educe(Debug)]
pub enum AssistEffect {
    /// Check the staff number and PIN against the synced accounts (offline);
    /// answer with `LoginAccepted` or `LoginRefused`.
    CheckLogin {
        /// The staff number typed.
        staff: String,
        /// The PIN typed; zeroised on drop; do not log it.
        #[educe(Debug(ignore))]
        pin: Zeroizing<String>,
    },
    /// Write an audit entry (never personal data in `outcome`).
    Audit {
        /// Who acted.
        staff: StaffNumber,
        /// What was done, a fixed phrase (e.g. `trip start`).
        action: &'static str,
        /// The filing concerned, if any.
        subject: Option<SubmissionId>,
        /// Details: codes and counts, never personal data.
        outcome: String,
    },
    /// Durably enqueue an on-behalf filing with its materials, then answer
    /// the journey with `Villager(Saved|SaveFailed)` and `Villager(Sent|Deferred)`.
    Submit {
        /// The on-behalf filing, with agent and signature.
        submission: Box<Submission>,
        /// Each attachment's reference with its bytes.
        #[educe(Debug(ignore))]
        attachments: Vec<(AttachmentRef, Vec<u8>)>,
    },
    /// Load the trip summary; answer with `TripSummary`.
    RefreshTrip {
        /// The trip to summarise.
        trip_id: Uuid,
    },
    /// What the villager journey asks of the kiosk (card reader, printer, voice).
    Villager(Effect),
}

/// Which assisted screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssistScreen {
    /// Nothing of assisted mode (the van's idle screen).
    Closed,
    /// Staff number and PIN.
    Login,
    /// Choosing the village for a trip (the operator's assigned villages).
    Trip,
    /// The trip's filings per village, with sync progress; 新办件 starts one.
    TripSummary,
    /// The villager journey, under the on-behalf banner.
    Filing(Screen),
    /// The villager signs on screen with a finger, and the relation is chosen.
    Signature,
}

struct Signing {
    strokes: Vec<Stroke>,
    relation: AgentRelation,
    problem: Option<&'static str>,
}

struct Filing {
    session: Session,
    materials: Vec<(AttachmentRef, Vec<u8>)>,
    signing: Option<Signing>,
    /// The signature accepted, waiting for the journey's submission.
    signed: Option<(Signature, AgentRelation)>,
}

impl Drop for Filing {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        for (_, bytes) in &mut self.materials {
            bytes.zeroize();
        }
    }
}

/// The trip under way: its village and what was filed on it.
pub struct TripState {
    /// The trip's id, recorded as `trip_id` on each filing.
    pub id: Uuid,
    /// The village the trip serves; filings carry its code.
    pub village: VillageCode,
    /// Filings per village, as last loaded ([`AssistEffect::RefreshTrip`]).
    pub summary: Vec<VillageTally>,
    /// Filings the sync worker sent in its last round.
    pub sync_sent: u64,
    /// Filings still waiting to be sent.
    pub sync_waiting: u64,
}

enum State {
    Closed,
    Login { problem: Option<String>, checking: bool },
    LoggedIn { op: LoggedIn, trip: Option<TripState>, filing: Option<Filing> },
}

/// The assisted-mode state machine of a service van: login, trip, filings (see the module docs).
pub struct AssistedSession {
    catalog: Arc<Catalog>,
    terminal_id: String,
    caps: Capabilities,
    clock: Arc<dyn Fn() -> time::OffsetDateTime + Send + Sync>,
    state: State,
}

/// [`AssistedSession::new`] on a terminal that is not a service van.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("assisted mode exists only on a terminal configured as a service van")]
pub struct NotAVan;

impl AssistedSession {
    /// Only a van has assisted mode: a self-service kiosk gets an error, so
    /// the app cannot even build this machine there.
    pub fn new(
        catalog: Arc<Catalog>,
        terminal: &Terminal,
        caps: Capabilities,
        clock: Arc<dyn Fn() -> time::OffsetDateTime + Send + Sync>,
    ) -> Result<AssistedSession, NotAVan> {
        if terminal.channel != Channel::ServiceVan {
            return Err(NotAVan);
        }
        Ok(AssistedSession { catalog, terminal_id: terminal.terminal_id.clone(), caps, clock, state: State::Closed })
    }

    /// Which assisted screen to show now.
    pub fn screen(&self) -> AssistScreen {
        match &self.state {
            State::Closed => AssistScreen::Closed,
            State::Login { .. } => AssistScreen::Login,
            State::LoggedIn { trip: None, .. } => AssistScreen::Trip,
            State::LoggedIn { filing: None, .. } => AssistScreen::TripSummary,
            State::LoggedIn { filing: Some(f), .. } if f.signing.is_some() => AssistScreen::Signature,
            State::LoggedIn { filing: Some(f), .. } => AssistScreen::Filing(f.session.screen()),
        }
    }

    /// The logged-in operator, if any.
    pub fn operator(&self) -> Option<&LoggedIn> {
        match &self.state {
            State::LoggedIn { op, .. } => Some(op),
            _ => None,
        }
    }

    /// The trip under way, if any.
    pub fn trip(&self) -> Option<&TripState> {
        match &self.state {
            State::LoggedIn { trip, .. } => trip.as_ref(),
            _ => None,
        }
    }

    /// The villager journey of the filing in progress (its view for the screens).
    pub fn filing_session(&self) -> Option<&Session> {
        match &self.state {
            State::LoggedIn { filing: Some(f), .. } => Some(&f.session),
            _ => None,
        }
    }

    /// Login problem shown on the login screen.
    pub fn login_problem(&self) -> Option<&str> {
        match &self.state {
            State::Login { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }

    /// Signature pad state: strokes drawn, relation, problem.
    pub fn signing(&self) -> Option<(&[Stroke], AgentRelation, Option<&'static str>)> {
        match &self.state {
            State::LoggedIn { filing: Some(Filing { signing: Some(s), .. }), .. } => Some((&s.strokes, s.relation, s.problem)),
            _ => None,
        }
    }

    fn audit(op: &LoggedIn, action: &'static str, subject: Option<SubmissionId>, outcome: impl Into<String>) -> AssistEffect {
        AssistEffect::Audit { staff: op.staff_number.clone(), action, subject, outcome: outcome.into() }
    }

    /// Ends the operator's session: every trace of the filing in progress
    /// goes (materials are zeroised on drop), and the reason is audited.
    fn end(&mut self, why: &'static str, show_login: bool) -> Vec<AssistEffect> {
        let old = std::mem::replace(&mut self.state, if show_login { State::Login { problem: None, checking: false } } else { State::Closed });
        let mut fx = Vec::new();
        if let State::LoggedIn { op, filing, .. } = old {
            let abandoned = filing.as_ref().is_some_and(|f| f.session.holds_personal_data() || f.signing.is_some());
            drop(filing);
            fx.push(Self::audit(&op, "operator session ended", None, if abandoned { format!("{why}; unfinished filing discarded") } else { why.to_owned() }));
            // The reader may have been polling for a card.
            fx.push(AssistEffect::Villager(Effect::StopCardReader));
        }
        fx
    }

    /// Handles one event and returns what the app must do. Logout, idle timeout, a revoked account or a switch of operator end the session from any state.
    pub fn handle(&mut self, event: AssistEvent) -> Vec<AssistEffect> {
        use AssistEvent as A;
        match event {
            A::Logout => return self.end("logout", false),
            A::IdleTimeout => return self.end("timeout", false),
            A::OperatorInvalid => return self.end("account revoked or expired at sync", false),
            A::SwitchOperator => return self.end("operator change", true),
            _ => {}
        }
        let state = std::mem::replace(&mut self.state, State::Closed);
        let (next, fx) = self.step(state, event);
        self.state = next;
        fx
    }

    fn step(&self, state: State, event: AssistEvent) -> (State, Vec<AssistEffect>) {
        use AssistEvent as A;
        match (state, event) {
            (State::Closed, A::OpenLogin) => (State::Login { problem: None, checking: false }, vec![]),
            (State::Login { checking: false, .. }, A::SubmitLogin { staff, pin }) => {
                (State::Login { problem: None, checking: true }, vec![AssistEffect::CheckLogin { staff, pin }])
            }
            (State::Login { checking: true, .. }, A::LoginRefused(why)) => (State::Login { problem: Some(why), checking: false }, vec![]),
            (State::Login { checking: true, .. }, A::LoginAccepted(op)) => {
                let villages = op.villages.len();
                let fx = vec![Self::audit(&op, "assisted mode entered", None, format!("{villages} village(s) assigned"))];
                (State::LoggedIn { op, trip: None, filing: None }, fx)
            }
            (State::Login { .. }, A::OpenLogin) => (State::Login { problem: None, checking: false }, vec![]),

            (State::LoggedIn { op, trip: None, filing: None }, A::StartTrip(village)) => {
                if !op.villages.contains(&village) {
                    let fx = vec![Self::audit(&op, "trip start", None, format!("refused: village {} not assigned", village.as_str()))];
                    return (State::LoggedIn { op, trip: None, filing: None }, fx);
                }
                let id = Uuid::now_v7();
                let fx = vec![
                    Self::audit(&op, "trip start", None, format!("village {} trip {id}", village.as_str())),
                    AssistEffect::RefreshTrip { trip_id: id },
                ];
                let trip = TripState { id, village, summary: Vec::new(), sync_sent: 0, sync_waiting: 0 };
                (State::LoggedIn { op, trip: Some(trip), filing: None }, fx)
            }
            (State::LoggedIn { op, trip: Some(trip), filing: None }, A::EndTrip) => {
                let fx = vec![Self::audit(&op, "trip end", None, format!("village {} trip {}", trip.village.as_str(), trip.id))];
                (State::LoggedIn { op, trip: None, filing: None }, fx)
            }
            (State::LoggedIn { op, trip: Some(mut trip), filing }, A::TripSummary(summary)) => {
                trip.summary = summary;
                (State::LoggedIn { op, trip: Some(trip), filing }, vec![])
            }
            (State::LoggedIn { op, trip: Some(mut trip), filing }, A::SyncProgress { sent, waiting }) => {
                // The assistant keeps working; the summary only shows it.
                trip.sync_sent = sent;
                trip.sync_waiting = waiting;
                (State::LoggedIn { op, trip: Some(trip), filing }, vec![])
            }
            (State::LoggedIn { op, trip: Some(trip), filing: None }, A::NewFiling) => {
                let terminal =
                    Terminal { terminal_id: self.terminal_id.clone(), village_code: trip.village.clone(), channel: Channel::ServiceVan };
                let clock = self.clock.clone();
                let mut session = Session::new(self.catalog.clone(), terminal, self.caps, Box::new(move || clock()) as Clock);
                let inner = session.handle(Event::Start);
                let fx = std::iter::once(Self::audit(&op, "filing started", None, format!("trip {}", trip.id)))
                    .chain(inner.into_iter().map(AssistEffect::Villager))
                    .collect();
                let filing = Filing { session, materials: Vec::new(), signing: None, signed: None };
                (State::LoggedIn { op, trip: Some(trip), filing: Some(filing) }, fx)
            }
            (State::LoggedIn { op, trip: Some(trip), filing: Some(mut f) }, A::MaterialScanned { material_code, media_type, bytes })
                if f.signing.is_none() && f.session.holds_personal_data() =>
            {
                let r = AttachmentRef::for_bytes(&material_code, &media_type, &bytes);
                let fx = vec![Self::audit(&op, "material attached", None, format!("{material_code}, {} bytes", bytes.len()))];
                if !f.materials.iter().any(|(m, _)| m.sha256 == r.sha256) {
                    f.materials.push((r, bytes));
                }
                (State::LoggedIn { op, trip: Some(trip), filing: Some(f) }, fx)
            }
            (State::LoggedIn { op, trip: Some(trip), filing: Some(f) }, A::Villager(ev)) => self.villager(op, trip, f, ev),
            (State::LoggedIn { op, trip, filing: Some(mut f) }, A::Stroke(points)) if f.signing.is_some() => {
                if let Some(s) = f.signing.as_mut() {
                    // Points off the pad (a finger sliding past the edge) are clamped, not lost.
                    let pts = points.into_iter().map(|[x, y]| [x.min(PAD_WIDTH - 1), y.min(PAD_HEIGHT - 1)]).collect();
                    s.strokes.push(Stroke(pts));
                    s.problem = None;
                }
                (State::LoggedIn { op, trip, filing: Some(f) }, vec![])
            }
            (State::LoggedIn { op, trip, filing: Some(mut f) }, A::ClearSignature) if f.signing.is_some() => {
                if let Some(s) = f.signing.as_mut() {
                    s.strokes.clear();
                }
                (State::LoggedIn { op, trip, filing: Some(f) }, vec![])
            }
            (State::LoggedIn { op, trip, filing: Some(mut f) }, A::ChooseRelation(r)) if f.signing.is_some() => {
                if let Some(s) = f.signing.as_mut() {
                    s.relation = r;
                }
                (State::LoggedIn { op, trip, filing: Some(f) }, vec![])
            }
            (State::LoggedIn { op, trip, filing: Some(mut f) }, A::BackToReview) if f.signing.is_some() => {
                f.signing = None;
                (State::LoggedIn { op, trip, filing: Some(f) }, vec![])
            }
            (State::LoggedIn { op, trip: Some(trip), filing: Some(mut f) }, A::AcceptSignature) if f.signing.is_some() => {
                let Some(s) = f.signing.take() else { unreachable!("guarded above") };
                match Signature::new(PAD_WIDTH, PAD_HEIGHT, s.strokes.clone()) {
                    Err(_) => {
                        f.signing = Some(Signing { problem: Some(n_("请申请人在框内签名")), ..s });
                        (State::LoggedIn { op, trip: Some(trip), filing: Some(f) }, vec![])
                    }
                    Ok(sig) => {
                        f.signed = Some((sig, s.relation));
                        // Now the journey confirms and builds the submission.
                        self.villager(op, trip, f, Event::Confirm)
                    }
                }
            }
            // Anything else, in particular every event before a login, changes nothing.
            (state, _) => (state, vec![]),
        }
    }

    /// Forwards one event to the filing's journey and maps what it asks for.
    fn villager(&self, op: LoggedIn, trip: TripState, mut f: Filing, ev: Event) -> (State, Vec<AssistEffect>) {
        // The villager confirms only after signing: Confirm opens the pad.
        if matches!(ev, Event::Confirm) && f.signed.is_none() {
            if f.session.screen() == Screen::Review {
                f.signing = Some(Signing { strokes: Vec::new(), relation: AgentRelation::ServiceStaff, problem: None });
            }
            return (State::LoggedIn { op, trip: Some(trip), filing: Some(f) }, vec![]);
        }
        let inner = f.session.handle(ev);
        let mut fx = Vec::with_capacity(inner.len());
        for e in inner {
            match e {
                Effect::Submit(mut sub, mut captured) => {
                    let Some((signature, relation)) = f.signed.take() else {
                        // Unreachable by construction: Confirm is held until signed.
                        continue;
                    };
                    sub.filed_by = FiledBy::ServiceVan(OnBehalf {
                        agent: Agent { staff_number: op.staff_number.as_str().to_owned(), name: op.name.clone() },
                        relation,
                        trip_id: trip.id,
                        signature,
                    });
                    // What the journey's materials screen captured, then what the
                    // assistant attached; the same bytes only once.
                    let mut attachments: Vec<(AttachmentRef, Vec<u8>)> =
                        captured.iter_mut().map(|(r, bytes)| (r.clone(), std::mem::take(&mut **bytes))).collect();
                    for (r, bytes) in std::mem::take(&mut f.materials) {
                        if !attachments.iter().any(|(m, _)| m.sha256 == r.sha256) {
                            attachments.push((r, bytes));
                        }
                    }
                    sub.attachments = attachments.iter().map(|(r, _)| r.clone()).collect();
                    fx.push(Self::audit(&op, "filing confirmed", Some(sub.id), format!("item {}, {} material(s), signed", sub.item_code, sub.attachments.len())));
                    // The bytes move to the app; the filing keeps none of them.
                    fx.push(AssistEffect::Submit { submission: sub, attachments });
                }
                other => fx.push(AssistEffect::Villager(other)),
            }
        }
        // The journey is over (goodbye, home after cancel): back to the trip.
        if matches!(f.session.screen(), Screen::Goodbye | Screen::Home) {
            drop(f);
            fx.push(Self::audit(&op, "filing closed", None, format!("trip {}", trip.id)));
            fx.push(AssistEffect::RefreshTrip { trip_id: trip.id });
            return (State::LoggedIn { op, trip: Some(trip), filing: None }, fx);
        }
        (State::LoggedIn { op, trip: Some(trip), filing: Some(f) }, fx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Identity;
    use time::macros::datetime;

    fn van() -> Terminal {
        Terminal { terminal_id: "GS-VAN-01".into(), village_code: VillageCode::parse("622926100202").unwrap(), channel: Channel::ServiceVan }
    }

    fn assisted() -> AssistedSession {
        AssistedSession::new(Arc::new(Catalog::starter()), &van(), Capabilities::default(), Arc::new(|| datetime!(2026-11-21 10:00 +8)))
            .unwrap()
    }

    fn op() -> LoggedIn {
        LoggedIn {
            staff_number: StaffNumber::parse("GS0042").unwrap(),
            name: "马小兰".into(),
            villages: vec![VillageCode::parse("622926100202").unwrap(), VillageCode::parse("622926100203").unwrap()],
        }
    }

    fn identity() -> Box<Identity> {
        Box::new(model::fixtures::sample_identity())
    }

    fn logged_in() -> AssistedSession {
        let mut a = assisted();
        a.handle(AssistEvent::OpenLogin);
        let fx = a.handle(AssistEvent::SubmitLogin { staff: "GS0042".into(), pin: Zeroizing::new("480217593062".into()) });
        assert!(matches!(fx.as_slice(), [AssistEffect::CheckLogin { .. }]));
        a.handle(AssistEvent::LoginAccepted(op()));
        a
    }

    fn to_review(a: &mut AssistedSession) {
        a.handle(AssistEvent::StartTrip(VillageCode::parse("622926100203").unwrap()));
        a.handle(AssistEvent::NewFiling);
        for ev in [Event::ChooseService("620000RS0001".into()), Event::StartFiling, Event::Agree, Event::CardRead(identity())] {
            a.handle(AssistEvent::Villager(ev));
        }
        a.handle(AssistEvent::MaterialScanned { material_code: "hukou".into(), media_type: "image/png".into(), bytes: vec![7; 100] });
        a.handle(AssistEvent::Villager(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() }));
        a.handle(AssistEvent::Villager(Event::FieldEdited { key: "bank".into(), value: "rcc".into() }));
        a.handle(AssistEvent::Villager(Event::SubmitForm));
        assert_eq!(a.screen(), AssistScreen::Filing(Screen::Review));
    }

    #[test]
    fn a_self_service_kiosk_has_no_assisted_mode() {
        let kiosk = Terminal { channel: Channel::SelfServiceTerminal, ..van() };
        let r = AssistedSession::new(Arc::new(Catalog::starter()), &kiosk, Capabilities::default(), Arc::new(time::OffsetDateTime::now_utc));
        assert_eq!(r.err(), Some(NotAVan));
    }

    #[test]
    fn nothing_is_reachable_before_a_login() {
        let mut a = assisted();
        let village = VillageCode::parse("622926100202").unwrap();
        let attempts = || {
            vec![
                AssistEvent::StartTrip(village.clone()),
                AssistEvent::NewFiling,
                AssistEvent::Villager(Event::Start),
                AssistEvent::Stroke(vec![[1, 1], [5, 5]]),
                AssistEvent::AcceptSignature,
                AssistEvent::TripSummary(vec![]),
                AssistEvent::MaterialScanned { material_code: "x".into(), media_type: "image/png".into(), bytes: vec![1] },
                AssistEvent::LoginAccepted(op()),
            ]
        };
        for ev in attempts() {
            assert!(a.handle(ev).is_empty());
            assert_eq!(a.screen(), AssistScreen::Closed);
        }
        a.handle(AssistEvent::OpenLogin);
        // An answer nobody asked for is ignored.
        for ev in attempts() {
            assert!(a.handle(ev).is_empty());
            assert_eq!(a.screen(), AssistScreen::Login);
        }
        a.handle(AssistEvent::SubmitLogin { staff: "GS0042".into(), pin: Zeroizing::new("000000".into()) });
        a.handle(AssistEvent::LoginRefused("工号或密码不对".into()));
        assert_eq!(a.screen(), AssistScreen::Login);
        assert_eq!(a.login_problem(), Some("工号或密码不对"));
        assert!(a.operator().is_none());
    }

    #[test]
    fn trips_only_to_assigned_villages() {
        let mut a = logged_in();
        assert_eq!(a.screen(), AssistScreen::Trip);
        let fx = a.handle(AssistEvent::StartTrip(VillageCode::parse("620102001001").unwrap()));
        assert!(matches!(fx.as_slice(), [AssistEffect::Audit { outcome, .. }] if outcome.starts_with("refused")));
        assert_eq!(a.screen(), AssistScreen::Trip);
        a.handle(AssistEvent::StartTrip(VillageCode::parse("622926100203").unwrap()));
        assert_eq!(a.screen(), AssistScreen::TripSummary);
    }

    #[test]
    fn the_villager_signs_before_the_filing_is_saved_and_it_names_the_agent() {
        let mut a = logged_in();
        to_review(&mut a);
        // Confirm opens the pad; nothing is submitted yet.
        assert!(a.handle(AssistEvent::Villager(Event::Confirm)).is_empty());
        assert_eq!(a.screen(), AssistScreen::Signature);
        // An empty pad is refused with a sentence.
        assert!(a.handle(AssistEvent::AcceptSignature).is_empty());
        assert_eq!(a.signing().unwrap().2, Some("请申请人在框内签名"));
        a.handle(AssistEvent::Stroke(vec![[10, 10], [40, 60], [900, 900]]));
        a.handle(AssistEvent::ChooseRelation(AgentRelation::Relative));
        let fx = a.handle(AssistEvent::AcceptSignature);
        let sub = fx
            .iter()
            .find_map(|e| match e {
                AssistEffect::Submit { submission, attachments } => Some((submission, attachments)),
                _ => None,
            })
            .expect("submitted");
        let o = sub.0.filed_by.on_behalf().expect("on behalf");
        assert_eq!(o.agent.staff_number, "GS0042");
        assert_eq!(o.relation, AgentRelation::Relative);
        assert_eq!(o.signature.strokes()[0].0[2], [PAD_WIDTH - 1, PAD_HEIGHT - 1], "clamped to the pad");
        assert_eq!(sub.0.village_code.as_str(), "622926100203", "the trip's village");
        assert_eq!(sub.0.attachments.len(), 1);
        assert_eq!(sub.1.len(), 1);
        assert!(fx.iter().any(|e| matches!(e, AssistEffect::Audit { action: "filing confirmed", .. })));
        assert_eq!(a.screen(), AssistScreen::Filing(Screen::Submitting));
    }

    #[test]
    fn logout_timeout_and_operator_change_end_the_session_and_drop_the_filing() {
        for (ev, screen) in [
            (AssistEvent::Logout, AssistScreen::Closed),
            (AssistEvent::IdleTimeout, AssistScreen::Closed),
            (AssistEvent::OperatorInvalid, AssistScreen::Closed),
            (AssistEvent::SwitchOperator, AssistScreen::Login),
        ] {
            let mut a = logged_in();
            to_review(&mut a);
            let fx = a.handle(ev);
            assert_eq!(a.screen(), screen);
            assert!(a.operator().is_none() && a.filing_session().is_none());
            assert!(fx.iter().any(|e| matches!(e, AssistEffect::Audit { action: "operator session ended", outcome, .. } if outcome.contains("discarded"))));
            // After the end nothing of the old session answers.
            assert!(a.handle(AssistEvent::NewFiling).is_empty());
        }
    }
}
