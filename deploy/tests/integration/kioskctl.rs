//! kioskctl as a technician runs it.


use drivers::idcard::frame::encode_response;
use drivers::idcard::text::encode_read_data;
use drivers::SimCard;
use crate::common::kioskctl;

#[test]
fn decodes_a_read_frame_with_personal_data_masked() {
    let card = SimCard::sample();
    let text = card.text.encode().unwrap();
    let data = encode_read_data(&text, &card.photo_wlt).unwrap();
    let frame = encode_response(0x90, &data).unwrap();
    let (code, out, err) = kioskctl(&["idcard", "decode", "--hex", &hex::encode(&frame)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("张**"), "{out}");
    assert!(out.contains("6229**********"), "{out}");
    assert!(!out.contains(card.text.id_number.as_str()));
    assert!(!out.contains(card.text.name.as_str()));
}

#[test]
fn refuses_a_corrupt_frame_clearly() {
    let mut frame = encode_response(0x9F, &[0, 0, 0, 0]).unwrap();
    let last = frame.len() - 1;
    frame[last] ^= 0xFF;
    let (code, _, err) = kioskctl(&["idcard", "decode", "--hex", &hex::encode(&frame)]);
    assert_eq!(code, 2);
    assert!(err.contains("not a valid SAM frame"), "{err}");
    let (code, _, err) = kioskctl(&["idcard", "decode", "--hex", "zz"]);
    assert_eq!(code, 2);
    assert!(err.contains("not hexadecimal"), "{err}");
}

#[test]
fn status_reports_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = kioskctl(&["status", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no outbox"), "{err}");
    let key = offline_cache::generate_platform_key();
    offline_cache::Outbox::open(&dir.path().join("outbox.db"), offline_cache::OutboxConfig::new(key.public_key(), "T-0001")).unwrap();
    let (code, out, err) = kioskctl(&["--json", "status", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["queued"], 0);
    assert_eq!(v["journal_mode"], "wal");
    assert_eq!(v["synchronous_full"], true);
}
