//! The visit's rules, journey by journey.

mod catalog_update;
mod filing;
mod filing_materials;
mod lookup;
mod rating;
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

/// Every Chinese sentence in the session's code (not these tests), as
/// ui/translations/update.py extracts them.
fn own_message_ids() -> Vec<&'static str> {
    let mut ids: Vec<&str> = Vec::new();
    let sources = [
        include_str!("../mod.rs"),
        include_str!("../events.rs"),
        include_str!("../filing.rs"),
        include_str!("../lookup.rs"),
        include_str!("../rating.rs"),
        include_str!("../render.rs"),
        include_str!("../state.rs"),
        include_str!("../submission.rs"),
        include_str!("../view.rs"),
        include_str!("../wording.rs"),
        include_str!("../../capture.rs"),
        include_str!("../../materials.rs"),
    ];
    for source in sources {
        let code = &source[..source.find("#[cfg(test)]\nmod tests {").unwrap_or(source.len())];
        ids.extend(
            code.split('"')
                .skip(1)
                .step_by(2)
                .filter(|s| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        );
    }
    ids.extend(Rating::ALL.iter().map(|r| r.label_zh()));
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Every sentence this module can show has a translation in every
/// language (drafts until reviewed, but never missing).
#[test]
fn every_sentence_is_translated() {
    let ids = own_message_ids();
    assert!(ids.len() > 60, "the scan found the sentences: {}", ids.len());
    for lang in ["bo", "kk", "en"] {
        let missing: Vec<_> = ids.iter().filter(|id| ui::i18n::lookup(lang, id).is_none()).collect();
        assert!(missing.is_empty(), "{lang}.po lacks {} sentences: {missing:?}", missing.len());
    }
}
