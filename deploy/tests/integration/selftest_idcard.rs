//! `kioskctl selftest` and `kioskctl idcard decode` as a technician runs them.


use drivers::idcard::frame::{encode_response, PREAMBLE};
use drivers::idcard::text::encode_read_data;
use drivers::idcard::CardBlock;
use drivers::SimCard;
use serde_json::Value;
use crate::common::kioskctl;

fn read_frame(card: &SimCard) -> String {
    let block = match &card.foreign {
        Some(f) => CardBlock::Foreign(f.clone()),
        None => CardBlock::Citizen(card.text.clone()),
    };
    let data = encode_read_data(&block.encode().unwrap(), &card.photo_wlt).unwrap();
    hex::encode(encode_response(0x90, &data).unwrap())
}

fn decode(args: &[&str]) -> (i32, Value, String) {
    let (code, out, err) = kioskctl(args);
    let v = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, v, err)
}

#[test]
fn every_card_type_decodes_to_masked_json() {
    for (card, ty) in [
        (SimCard::sample(), "resident_id"),
        (SimCard::hmt_permit(), "hmt_residence_permit"),
        (SimCard::foreign_2017(), "foreign_permanent_resident"),
        (SimCard::foreign_2023(), "foreign_permanent_resident2023"),
    ] {
        let hex = read_frame(&card);
        let (code, v, err) = decode(&["idcard", "decode", "--hex", &hex]);
        assert_eq!(code, 0, "{ty}: {err}");
        let c = &v["card"];
        assert_eq!(c["card_type"], ty, "{v:#}");
        assert_eq!(v["masked"], true);
        assert_eq!(c["photo"]["format"], "wlt");
        assert_eq!(c["photo"]["bytes"], 1024);
        let shown = v.to_string();
        let (name, number) = match &card.foreign {
            Some(f) => (f.name_en.clone(), f.number.clone()),
            None => (card.text.name.clone(), card.text.id_number.clone()),
        };
        assert!(!shown.contains(&name), "{ty}: name leaked: {shown}");
        assert!(!shown.contains(&number), "{ty}: number leaked: {shown}");
        assert!(!shown.contains("wlt_hex"));
    }
}

#[test]
fn reveal_shows_everything_for_the_technician() {
    let card = SimCard::foreign_2023();
    let f = card.foreign.clone().unwrap();
    let (code, v, _) = decode(&["idcard", "decode", "--reveal", "--hex", &read_frame(&card)]);
    assert_eq!(code, 0);
    assert_eq!(v["masked"], false);
    assert_eq!(v["card"]["name_en"], "MUELLER ANNA MARIA");
    assert_eq!(v["card"]["number"], f.number.as_str());
    assert_eq!(v["card"]["birth_date"], "1975-08-21");
    assert_eq!(v["card"]["nationality"], "DEU");
    assert_eq!(v["card"]["photo"]["wlt_hex"].as_str().unwrap().len(), 2048);
    let (_, v, _) = decode(&["--json", "idcard", "decode", "--reveal", "--hex", &read_frame(&SimCard::hmt_permit())]);
    assert_eq!(v["card"]["permit"]["pass_number"], "01234567");
    assert_eq!(v["card"]["name"], "林志明");
}

#[test]
fn malformed_input_is_refused_with_a_reason_never_a_panic() {
    let good = read_frame(&SimCard::sample());
    let mut bad_len = PREAMBLE.to_vec();
    bad_len.extend([0xFF, 0xFF, 0x00]);
    let cases: Vec<(String, &str)> = vec![
        (good[..good.len() - 40].to_owned(), "no complete SAM frame"),
        (format!("{}00", &good[..good.len() - 2]), "checksum"),
        (hex::encode(&bad_len), "length"),
        ("AA AA AA 96 69 00 02 00 02".into(), "length"),
        ("12345".into(), "not hexadecimal"),
        ("zz".into(), "not hexadecimal"),
        ("".into(), "no complete SAM frame"),
    ];
    for (hex, reason) in cases {
        let (code, out, err) = kioskctl(&["idcard", "decode", "--hex", &hex]);
        assert_eq!(code, 2, "{hex}: {out} {err}");
        assert!(err.contains(reason), "{hex}: wanted {reason:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A well-formed frame whose card is bad: decoded, with the reason, exit 1.
    let (code, v, _) = decode(&["idcard", "decode", "--hex", &read_frame(&SimCard::bad_check_digit())]);
    assert_eq!(code, 1);
    assert!(v["card_error"].as_str().unwrap().contains("check digit"), "{v:#}");
    // A status answer without a card.
    let (code, v, _) = decode(&["idcard", "decode", "--hex", &hex::encode(encode_response(0x80, &[]).unwrap())]);
    assert_eq!(code, 0);
    assert_eq!(v["status"], "00 00 80");
    assert!(v["meaning"].as_str().unwrap().contains("no card"));
}

#[test]
fn simulated_selftest_passes_with_every_device() {
    let (code, out, err) = kioskctl(&["--json", "selftest", "--simulated"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    let devices: Vec<&str> = v["devices"].as_array().unwrap().iter().map(|d| d["device"].as_str().unwrap()).collect();
    for slot in ["id_card", "receipt_printer", "a4_printer", "document_scanner", "camera", "barcode_scanner"] {
        assert!(devices.contains(&slot), "{slot} missing from {devices:?}");
    }
    for d in v["devices"].as_array().unwrap() {
        assert_eq!(d["state"], "ok", "{d:#}");
    }
    let (code, table, _) = kioskctl(&["selftest", "--simulated"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("DEVICE"), "{table}");
    assert!(table.contains("all required devices usable"));
}

#[test]
fn an_absent_required_device_fails_the_selftest() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        r#"
terminal_id = "GS-0001"
[devices.id_card]
kind = "sam"
path = "/dev/cunban-no-such-reader"
[devices.receipt_printer]
kind = "file"
path = "/dev/null"
[devices.barcode_scanner]
kind = "serial"
path = "/dev/cunban-no-such-scanner"
"#,
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let (code, out, _) = kioskctl(&["--json", "selftest", "--config", cfg]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let by = |slot: &str| v["devices"].as_array().unwrap().iter().find(|d| d["device"] == slot).cloned().unwrap();
    assert_eq!(by("id_card")["state"], "absent");
    assert!(by("id_card")["reason"].as_str().unwrap().contains("cunban-no-such-reader"));
    assert_eq!(by("receipt_printer")["state"], "ok");
    // An optional device absent is reported but does not fail the test.
    assert_eq!(by("barcode_scanner")["state"], "absent");
    assert_eq!(by("barcode_scanner")["required"], false);
    let (code, table, _) = kioskctl(&["selftest", "--config", cfg]);
    assert_eq!(code, 1);
    assert!(table.contains("cannot serve villagers"));
    // No config at all: bad usage, exit 2.
    let (code, _, err) = kioskctl(&["selftest", "--config", "/nonexistent/kiosk.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("--simulated"), "{err}");
}
