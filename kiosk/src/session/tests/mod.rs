//! The visit's rules, journey by journey.

mod filing;
mod filing_materials;
mod lookup;
mod rating;
mod settings;

use std::sync::Arc;

use model::evaluation::Rating;
use model::identity::{check_char, parse_yyyymmdd, CardType, Gender, IdNumber, Validity};
use model::submission::Channel;
use model::{CaseNumber, Catalog, Identity, ImplementCode, Lang, SubmissionId, VillageCode};
use time::macros::datetime;

use super::*;
use crate::materials::{self, Capture, CaptureKind};

fn identity(valid_until: Validity) -> Box<Identity> {
    let first17 = *b"62292619520307002";
    let number = format!("{}{}", std::str::from_utf8(&first17).unwrap(), check_char(&first17));
    Box::new(Identity {
        name: "张桂兰".into(),
        gender: Gender::Female,
        nation_code: "01".into(),
        birth_date: parse_yyyymmdd("19520307").unwrap(),
        address: "甘肃省临夏回族自治州东乡族自治县锁南镇".into(),
        id_number: IdNumber::parse(&number).unwrap(),
        authority: "东乡族自治县公安局".into(),
        valid_from: parse_yyyymmdd("20160307").unwrap(),
        valid_until,
        card_type: CardType::ResidentId,
        photo_wlt: vec![0; 1024],
    })
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
