//! Progress and result lookups (by receipt code or ID card), printing a
//! result document, and finding what to rate.

use std::collections::BTreeSet;

use model::{CaseNumber, SubmissionId};


use super::events::{Effect, Event, FilingStage, FilingStatus, Known, Lookup, RatingTarget};
use super::state::{LookupPhase, PrintOutcome, Problem, Purpose, RateState, State, Stepped};
use super::Session;

impl Session {
    /// The rules of looking up progress and results.
    pub(super) fn step_lookup(&self, state: State, event: Event) -> Stepped {
        use Event as E;
        Ok(match (state, event) {
            (
                State::Lookup { phase: LookupPhase::Found(_) | LookupPhase::NotFound | LookupPhase::NotFoundOffline | LookupPhase::NotFoundOnPlatform, .. }
                | State::Lookup { phase: LookupPhase::Printing(_, PrintOutcome::Printed | PrintOutcome::Failed(_)), .. },
                E::Finish,
            ) => (State::Goodbye { rated: false }, vec![]),
            (State::Home, E::QueryProgress) => self.ask(Purpose::Progress),
            (State::Home, E::QueryResult) => self.ask(Purpose::Result),
            (State::Home, E::RateService) => self.ask(Purpose::Rate),
            (State::Lookup { phase: LookupPhase::Ask(_) | LookupPhase::NeedCard(..), .. }, E::Back) => {
                (State::Home, vec![Effect::StopCardReader])
            }
            (State::Lookup { purpose, phase: LookupPhase::NeedCard(code, _) }, E::CardProblem(msg)) => {
                (State::Lookup { purpose, phase: LookupPhase::NeedCard(code, Some(Problem::Said(msg))) }, vec![])
            }
            // The card proves the receipt's filing is this villager's: only
            // then is the platform asked (progress at any terminal). The
            // number goes with the question; the rest of the card is dropped.
            (State::Lookup { purpose, phase: LookupPhase::NeedCard(receipt, _) }, E::CardRead(identity)) => {
                let query = Lookup::Proven { receipt, id_number: identity.id_number.clone() };
                drop(identity);
                (State::Lookup { purpose, phase: LookupPhase::Looking }, vec![Effect::StopCardReader, Effect::LookUp(query)])
            }
            (State::Lookup { purpose, phase: LookupPhase::Looking }, E::NothingKnownOffline) => {
                (State::Lookup { purpose, phase: LookupPhase::NotFoundOffline }, vec![])
            }
            (State::Lookup { purpose, phase: LookupPhase::Looking }, E::NothingOnPlatform) => {
                (State::Lookup { purpose, phase: LookupPhase::NotFoundOnPlatform }, vec![])
            }
            (State::Lookup { purpose, phase: LookupPhase::LookingCode(code) }, E::LookedUp(found)) => {
                if found.is_empty() && purpose != Purpose::Rate {
                    (State::Lookup { purpose, phase: LookupPhase::NeedCard(code, None) }, vec![Effect::ReadCard])
                } else {
                    self.found(purpose, found)
                }
            }
            (State::Lookup { purpose, phase: LookupPhase::LookingCode(_) }, E::LookupFailed(msg)) => {
                (State::Lookup { purpose, phase: LookupPhase::Ask(Some(Problem::Said(msg))) }, vec![Effect::ReadCard])
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
            (State::Lookup { purpose, phase: LookupPhase::NeedCard(pending, _) }, E::CodeEntered(code))
                if parse_receipt_code(&code).is_none() =>
            {
                (State::Lookup { purpose, phase: LookupPhase::NeedCard(pending, Some(Problem::BadCode)) }, vec![])
            }
            (State::Lookup { purpose, phase: LookupPhase::Ask(_) | LookupPhase::NeedCard(..) }, E::CodeEntered(code)) => {
                match parse_receipt_code(&code) {
                    None => (State::Lookup { purpose, phase: LookupPhase::Ask(Some(Problem::BadCode)) }, vec![]),
                    // A receipt names its filing: rating needs no lookup.
                    Some(query) if purpose == Purpose::Rate => {
                        let target = match query {
                            Lookup::Case(c) => RatingTarget::Case(c),
                            Lookup::Reference(r) => RatingTarget::Submission(r),
                            Lookup::IdNumber(_) | Lookup::Proven { .. } => unreachable!("not from a code"),
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
                        State::Lookup { purpose, phase: LookupPhase::LookingCode(code.trim().to_owned()) },
                        vec![Effect::StopCardReader, Effect::LookUp(query)],
                    ),
                }
            }
            (State::Lookup { purpose, phase: LookupPhase::Looking }, E::LookedUp(found)) => self.found(purpose, found),
            (State::Lookup { purpose, phase: LookupPhase::Looking }, E::LookupFailed(msg)) => {
                (State::Lookup { purpose, phase: LookupPhase::Ask(Some(Problem::Said(msg))) }, vec![Effect::ReadCard])
            }
            (State::Lookup { purpose: Purpose::Result, phase: LookupPhase::Found(found) }, E::PrintResult) => {
                match printable(&found).and_then(print_effect) {
                    Some(effect) => {
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
                let effect = printable(&found).and_then(print_effect);
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
            (State::Lookup { purpose, phase: LookupPhase::Found(_) | LookupPhase::NotFound | LookupPhase::NotFoundOffline | LookupPhase::NotFoundOnPlatform }, E::Retry) => {
                (State::Lookup { purpose, phase: LookupPhase::Ask(None) }, vec![Effect::ReadCard])
            }
            (s, e) => return Err((s, e)),
        })
    }

    /// What a lookup found: nothing, the filing to rate, or the list.
    fn found(&self, purpose: Purpose, found: Vec<FilingStatus>) -> (State, Vec<Effect>) {
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

    pub(super) fn ask(&self, purpose: Purpose) -> (State, Vec<Effect>) {
        (State::Lookup { purpose, phase: LookupPhase::Ask(None) }, vec![Effect::ReadCard])
    }
}

/// The filing whose result document can be printed: the newest finished
/// one the platform has a document for.
pub(super) fn printable(found: &[FilingStatus]) -> Option<&FilingStatus> {
    found.iter().find(|f| f.stage == FilingStage::Done && f.result_available && f.case_number.is_some())
}

/// Printing `f`'s result: another terminal's case is fetched with the card
/// that proved it.
fn print_effect(f: &FilingStatus) -> Option<Effect> {
    let proof = match &f.known {
        Known::Platform(news) if !news.filed_here => Some(news.proof.clone()),
        _ => None,
    };
    Some(Effect::PrintResult(f.case_number.clone()?, proof))
}

/// What a receipt's QR code or typed number is: a case number or a local
/// reference. Anything else is refused before any lookup.
pub(super) fn parse_receipt_code(code: &str) -> Option<Lookup> {
    let code = code.trim();
    if let Some(id) = SubmissionId::parse(code) {
        return Some(Lookup::Reference(id));
    }
    CaseNumber::parse(code).ok().map(Lookup::Case)
}
