//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use model::catalog::ImplementCode;
use model::identity::check_char;
use model::submission::{Applicant, AttachmentRef, Channel, Consent};
use model::{CardType, Gender, IdNumber, Submission, SubmissionId, VillageCode};
use time::macros::date;
use time::OffsetDateTime;

pub fn submission(attachments: Vec<AttachmentRef>) -> Submission {
    let first17 = *b"62010219900307123";
    let id_number = format!("62010219900307123{}", check_char(&first17));
    Submission {
        id: SubmissionId::new(),
        item_code: ImplementCode::parse("620000RS0001").unwrap(),
        bundle_code: None,
        applicant: Applicant {
            name: "张三".into(),
            id_number: IdNumber::parse(&id_number).unwrap(),
            card_type: CardType::ResidentId,
            gender: Gender::Male,
            nation_code: "01".into(),
            birth_date: date!(1990 - 03 - 07),
            address: "甘肃省兰州市城关区".into(),
        },
        agent: None,
        form: BTreeMap::from([("phone".to_owned(), "13800000000".to_owned())]),
        attachments,
        consent: Consent { text_version: "v1".into(), given_at: OffsetDateTime::now_utc() },
        channel: Channel::SelfServiceTerminal,
        village_code: VillageCode::parse("620102001001").unwrap(),
        created_at: OffsetDateTime::now_utc(),
        terminal_id: "T-0001".into(),
    }
}

/// A submission with one scanned attachment, and the bytes to enqueue with it.
pub fn with_scan(content: &[u8]) -> (Submission, Vec<(AttachmentRef, Vec<u8>)>) {
    let r = AttachmentRef::for_bytes("hukou", "application/pdf", content);
    (submission(vec![r.clone()]), vec![(r, content.to_vec())])
}
