//! Sample data for the screens drawn without a villager: `kiosk
//! --screenshots` and `--bench` (screenshots.rs) and the assisted screens'
//! walk (assisted_ui.rs). Nobody real: the card holder does not exist.

use model::identity::{check_char, parse_yyyymmdd, CardType, Gender, IdNumber, Validity};
use model::Identity;

use crate::materials::{capture_of, sample_page, Capture, CaptureKind};

/// A card holder who does not exist (the ID number has a valid check digit).
pub fn sample_identity() -> Box<Identity> {
    let first17 = *b"62292619520307002";
    let number = format!("{}{}", std::str::from_utf8(&first17).unwrap_or_default(), check_char(&first17));
    Box::new(Identity {
        name: "马桂兰".into(),
        gender: Gender::Female,
        nation_code: "28".into(),
        birth_date: parse_yyyymmdd("19520307").expect("a date"),
        address: "甘肃省临夏回族自治州东乡族自治县锁南镇巴牙村12号".into(),
        id_number: IdNumber::parse(&number).expect("a valid sample number"),
        authority: "东乡族自治县公安局".into(),
        valid_from: parse_yyyymmdd("20160307").expect("a date"),
        valid_until: Validity::LongTerm,
        card_type: CardType::ResidentId,
        photo_wlt: vec![0; 1024],
    })
}

/// What the simulated scanner or camera gives: a sample sheet (scan) or a
/// synthetic camera frame (photo).
pub fn sample_capture(kind: CaptureKind) -> Box<Capture> {
    let pages = match kind {
        CaptureKind::Scan => vec![sample_page(1240, 1754)],
        CaptureKind::Photo => {
            let mut camera = drivers::camera::SyntheticSource::new(640, 480);
            match drivers::camera::FrameSource::next_frame(&mut camera) {
                Ok(frame) => vec![frame.image],
                Err(_) => vec![sample_page(480, 640)],
            }
        }
    };
    Box::new(capture_of(kind, &pages).expect("sample pages encode"))
}
