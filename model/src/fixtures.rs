//! Test data every crate may use: a sample filing, sample card holders,
//! ID numbers with valid check digits. Cargo feature `fixtures`, enabled
//! only from dev-dependencies (`model = { workspace = true, features =
//! ["fixtures"] }`), so none of it ships. Nobody here exists.
//!
//! A test changes the fields its case is about on a sample (the samples
//! zeroise personal data on drop, so struct update syntax cannot take them
//! apart): `let mut sub = sample_submission(vec![]); sub.terminal_id = ...`.
//!
//! Panics on bad input: these are constants checked by every test that uses
//! them, never device, file or network data.

use std::collections::BTreeMap;

use time::macros::date;
use time::OffsetDateTime;

use crate::catalog::ImplementCode;
use crate::identity::{check_char, CardType, Gender, IdNumber, Identity, Validity};
use crate::submission::{Applicant, AttachmentRef, Consent, FiledBy, Submission, SubmissionId, VillageCode};

/// The item the sample filing is for: 社会保障卡申领 in the starter catalog.
pub const SAMPLE_ITEM: &str = "620000RS0001";
/// The sample filing's village (兰州市城关区).
pub const SAMPLE_VILLAGE: &str = "620102001001";
/// The sample filing's terminal.
pub const SAMPLE_TERMINAL: &str = "T-0001";
/// The first 17 digits of 张三's ID number.
pub const SAMPLE_ID_FIRST17: &str = "62010219900307123";
/// The first 17 digits of 张桂兰's ID number (a Dongxiang county card).
pub const VILLAGER_ID_FIRST17: &str = "62292619520307002";

/// `first17` and its GB 11643 check character, as a string.
pub fn id_number_string(first17: &str) -> String {
    let digits: [u8; 17] = first17.as_bytes().try_into().expect("17 digits");
    format!("{first17}{}", check_char(&digits))
}

/// The ID number `first17` and its check character make.
pub fn id_number(first17: &str) -> IdNumber {
    IdNumber::parse(&id_number_string(first17)).expect("a valid ID number")
}

/// 张三, born 1990-03-07 in 兰州, on a resident ID card.
pub fn sample_applicant() -> Applicant {
    Applicant {
        name: "张三".into(),
        id_number: id_number(SAMPLE_ID_FIRST17),
        card_type: CardType::ResidentId,
        gender: Gender::Male,
        nation_code: "01".into(),
        birth_date: date!(1990 - 03 - 07),
        address: "甘肃省兰州市城关区".into(),
    }
}

/// 张三 files [`SAMPLE_ITEM`] at a self-service terminal ([`SAMPLE_TERMINAL`]
/// in [`SAMPLE_VILLAGE`]) now, with a phone number on the form and consent
/// to text `v1`.
pub fn sample_submission(attachments: Vec<AttachmentRef>) -> Submission {
    Submission {
        id: SubmissionId::new(),
        item_code: ImplementCode::parse(SAMPLE_ITEM).expect("a valid item code"),
        bundle_code: None,
        parts: Vec::new(),
        catalog_version: None,
        applicant: sample_applicant(),
        form: BTreeMap::from([("phone".to_owned(), "13800000000".to_owned())]),
        attachments,
        e_licenses: vec![],
        consent: Consent { text_version: "v1".into(), given_at: OffsetDateTime::now_utc() },
        filed_by: FiledBy::SelfServiceTerminal,
        village_code: VillageCode::parse(SAMPLE_VILLAGE).expect("a valid village"),
        created_at: OffsetDateTime::now_utc(),
        terminal_id: SAMPLE_TERMINAL.into(),
    }
}

/// 张桂兰, born 1952-03-07, of 东乡族自治县, on a resident ID card valid for
/// life: the card villagers put on the reader in the kiosk's tests.
pub fn sample_identity() -> Identity {
    Identity {
        name: "张桂兰".into(),
        gender: Gender::Female,
        nation_code: "01".into(),
        birth_date: date!(1952 - 03 - 07),
        address: "甘肃省临夏回族自治州东乡族自治县锁南镇".into(),
        id_number: id_number(VILLAGER_ID_FIRST17),
        authority: "东乡族自治县公安局".into(),
        valid_from: date!(2016 - 03 - 07),
        valid_until: Validity::LongTerm,
        card_type: CardType::ResidentId,
        photo_wlt: vec![0; 1024],
    }
}

/// Handwritten characters for the handwriting tests: a finger's strokes on a
/// square pad, made from Make Me a Hanzi's stroke medians (see
/// `data/handwriting/README.md`).
pub struct HandwrittenCharacter {
    /// The character written.
    pub character: char,
    /// Its strokes in writing order, each a list of (x, y) pad pixels, y down.
    pub strokes: Vec<Vec<(i32, i32)>>,
}

/// The side of the square pad [`handwritten_characters`] were drawn on, in pixels.
pub const HANDWRITING_PAD: u32 = 300;

/// 33 characters common in names, each as a finger would write it.
pub fn handwritten_characters() -> Vec<HandwrittenCharacter> {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("../data/handwriting/strokes.json")).expect("strokes.json parses");
    assert_eq!(data["pad"].as_u64(), Some(u64::from(HANDWRITING_PAD)));
    let chars = data["characters"].as_object().expect("a map of characters");
    chars
        .iter()
        .map(|(ch, strokes)| HandwrittenCharacter {
            character: ch.chars().next().expect("one character"),
            strokes: serde_json::from_value(strokes.clone()).expect("strokes of (x, y) points"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_are_valid() {
        assert_eq!(sample_submission(vec![]).applicant.id_number.expose(), id_number_string(SAMPLE_ID_FIRST17));
        let v = sample_identity();
        assert_eq!(v.check_valid_on(date!(2026 - 11 - 21)), Ok(()));
        assert!(v.id_number.expose().starts_with(VILLAGER_ID_FIRST17));
        let written = handwritten_characters();
        assert!(written.len() >= 20 && written.iter().all(|c| !c.strokes.is_empty()));
    }
}
