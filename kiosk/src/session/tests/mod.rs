//! The visit's rules, journey by journey.

mod bundles;
mod catalog_update;
mod delivery;
mod filing;
mod filing_materials;
mod lookup;
mod promises;
mod rating;
mod reading;
mod redaction;
mod search;
mod settings;

use std::sync::Arc;

use model::evaluation::Rating;
use model::identity::{parse_yyyymmdd, CardType, IdNumber, Validity};
use model::submission::Channel;
use model::{CaseNumber, Catalog, Identity, ImplementCode, Lang, SubmissionId, VillageCode};
use time::macros::datetime;

use super::*;
use crate::materials::{self, Capture, CaptureKind};

/// 张桂兰's card (`model::fixtures`), valid until `valid_until`.
fn identity(valid_until: Validity) -> Box<Identity> {
    let mut card = model::fixtures::sample_identity();
    card.valid_until = valid_until;
    Box::new(card)
}

fn session(caps: Capabilities) -> Session {
    Session::new(
        Arc::new(Catalog::starter()),
        Terminal {
            terminal_id: "GS-TEST-0001".into(),
            village_code: VillageCode::parse("622926100202").unwrap(),
            channel: Channel::SelfServiceTerminal,
        },
        caps,
        Box::new(|| datetime!(2026-11-21 10:00 +8)),
    )
}

const SOCIAL_CARD: &str = "620000RS0001";

fn to_id_prompt(s: &mut Session) {
    s.handle(Event::Start);
    assert!(s.handle(Event::ChooseService(SOCIAL_CARD.into())).is_empty());
    assert_eq!(s.screen(), Screen::Guide);
    s.handle(Event::StartFiling);
    assert_eq!(s.screen(), Screen::Consent);
    let fx = s.handle(Event::Agree);
    assert!(matches!(fx.as_slice(), [Effect::ReadCard]));
    assert_eq!(s.screen(), Screen::IdPrompt);
}

fn to_form(s: &mut Session) {
    to_id_prompt(s);
    let fx = s.handle(Event::CardRead(identity(Validity::LongTerm)));
    assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
    assert_eq!(s.screen(), Screen::Form);
}

fn to_saved(s: &mut Session, sent: bool) -> SubmissionId {
    to_form(s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    s.handle(Event::SubmitForm);
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected one submit, got {fx:?}") };
    let id = sub.id;
    s.handle(Event::Saved { id });
    if sent {
        s.handle(Event::Sent { id, case_number: CaseNumber::parse("62202611210000001").unwrap() });
    } else {
        s.handle(Event::Deferred { id });
    }
    assert_eq!(s.screen(), Screen::Saved);
    id
}

// Every sentence the session can show is extracted and translated:
// tests/tests/integration/translations.rs (ui/translations/extract.sh).
