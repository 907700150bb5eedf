//! Materials: scan, photo, preview, retake, skip, e-licenses.

use super::*;

const ALLOWANCE: &str = "620000MZ0001"; // 户口簿 and 银行卡, both scanned
const BIRTH: &str = "620000GA0001"; // 出生医学证明 (e-license) and 户口簿
const RELIEF: &str = "620000MZ0003"; // 困难情况证明 and optional 医疗费用票据

const BOTH: Capabilities = Capabilities { camera: true, scanner: true };

fn to_materials(s: &mut Session, item: &str, fields: &[(&str, &str)]) {
    s.handle(Event::Start);
    s.handle(Event::ChooseService(item.into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    for (k, v) in fields {
        s.handle(Event::FieldEdited { key: (*k).into(), value: (*v).into() });
    }
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Materials, "{:?}", s.view().form_rows);
}

fn page(shade: u8) -> Box<Capture> {
    let img = image::RgbImage::from_pixel(300, 400, image::Rgb([shade, shade, 200]));
    Box::new(materials::capture_of(CaptureKind::Scan, &[img]).unwrap())
}

/// Taps 扫描 and answers the effect with `capture`; returns the material code asked for.
fn scan(s: &mut Session, capture: Box<Capture>) -> String {
    let fx = s.handle(Event::CaptureMaterial(CaptureKind::Scan));
    let [Effect::CaptureMaterial { material, kind: CaptureKind::Scan }] = fx.as_slice() else {
        panic!("expected a scan, got {fx:?}")
    };
    let material = material.clone();
    assert!(s.view().material.unwrap().busy);
    s.handle(Event::MaterialCaptured { material: material.clone(), capture });
    material
}

#[test]
fn each_material_is_scanned_previewed_retaken_and_attached() {
    let mut s = session(BOTH);
    to_materials(&mut s, ALLOWANCE, &[("bank_account", "6228480012345678901")]);
    assert!(s.holds_personal_data());
    let v = s.view().material.unwrap();
    assert_eq!((v.name.as_str(), v.step.as_str()), ("户口簿", "第 1 项，共 2 项"));
    assert!(v.can_scan && v.can_photo && v.required && !v.can_skip && !v.can_next && v.preview.is_none());
    // Required and not captured: 下一步 does nothing.
    s.handle(Event::NextMaterial);
    assert_eq!(s.view().material.unwrap().step, "第 1 项，共 2 项");

    // A failed scan says why and offers the buttons again.
    s.handle(Event::CaptureMaterial(CaptureKind::Scan));
    s.handle(Event::MaterialFailed("扫描仪的盖子没有盖好，请盖好再点「扫描」。".into()));
    let v = s.view().material.unwrap();
    assert!(!v.busy && v.problem.contains("盖子") && !v.can_next);

    assert_eq!(scan(&mut s, page(10)), "hukou");
    let v = s.view().material.unwrap();
    assert_eq!(v.captured, "已扫描 1 页");
    assert!(v.can_next && v.captured_by_scan && v.problem.is_empty());
    assert_eq!(v.preview.as_ref().map(|p| (p.width, p.height)), Some((300, 400)));
    // Retake: the second scan replaces the first.
    scan(&mut s, page(90));
    s.handle(Event::NextMaterial);
    assert_eq!(s.view().material.unwrap().name, "本人银行卡或存折");
    // Back keeps what was scanned.
    s.handle(Event::Back);
    assert_eq!(s.view().material.unwrap().captured, "已扫描 1 页");
    s.handle(Event::NextMaterial);
    assert_eq!(scan(&mut s, page(170)), "bankbook");
    s.handle(Event::NextMaterial);
    assert_eq!(s.screen(), Screen::Review);
    let rows = s.view().review_rows;
    assert!(rows.contains(&("户口簿".into(), "已扫描 1 页".into())), "{rows:?}");
    assert!(rows.contains(&("本人银行卡或存折".into(), "已扫描 1 页".into())), "{rows:?}");
    // Back from the review goes to the last material.
    s.handle(Event::Back);
    assert_eq!(s.view().material.unwrap().name, "本人银行卡或存折");
    s.handle(Event::NextMaterial);

    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, files)] = fx.as_slice() else { panic!("expected a submit, got {fx:?}") };
    let codes: Vec<&str> = sub.attachments.iter().map(|a| a.material_code.as_str()).collect();
    assert_eq!(codes, ["hukou", "bankbook"]);
    assert_eq!(files.len(), 2);
    for ((r, bytes), att) in files.iter().zip(&sub.attachments) {
        assert_eq!(r, att);
        assert_eq!(att.sha256, model::submission::sha256_hex(bytes));
        assert_eq!(att.media_type, "image/jpeg");
    }
    // The retake is what was kept: the first scan's picture is gone.
    let first = materials::capture_of(CaptureKind::Scan, &[image::RgbImage::from_pixel(300, 400, image::Rgb([10, 10, 200]))]).unwrap();
    assert_ne!(sub.attachments[0].sha256, model::submission::sha256_hex(&first.files[0].bytes));
}

#[test]
fn e_licenses_need_no_scan_only_while_online() {
    let mut s = session(BOTH);
    // The hub's config says an e-license library is behind this terminal.
    s.set_paths(model::protocol::Paths { e_license: true, ..Default::default() });
    to_materials(&mut s, BIRTH, &[("baby_name", "马小花"), ("baby_gender", "2"), ("baby_birth_date", "2026-11-02")]);
    // Offline: the birth certificate must be scanned.
    let v = s.view().material.unwrap();
    assert_eq!(v.name, "出生医学证明");
    assert!(!v.can_next && v.hint.contains("没有网络"), "{v:?}");
    s.handle(Event::NextMaterial);
    assert_eq!(s.view().material.unwrap().name, "出生医学证明");

    // Online: it says so, and 下一步 goes on without a scan.
    s.handle(Event::LinkChanged { online: true });
    let v = s.view().material.unwrap();
    assert!(v.can_next && v.hint.contains("电子证照库") && v.can_scan, "{v:?}");
    s.handle(Event::NextMaterial);
    assert_eq!(s.view().material.unwrap().name, "户口簿");
    scan(&mut s, page(40));
    s.handle(Event::NextMaterial);
    let rows = s.view().review_rows;
    assert!(rows.contains(&("出生医学证明".into(), "从电子证照库调取，不用扫描".into())), "{rows:?}");
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, files)] = fx.as_slice() else { panic!("expected a submit, got {fx:?}") };
    assert_eq!(sub.attachments.iter().map(|a| a.material_code.as_str()).collect::<Vec<_>>(), ["hukou"]);
    assert_eq!(files.len(), 1);
}

#[test]
fn optional_materials_can_be_skipped_required_ones_cannot() {
    let mut s = session(BOTH);
    to_materials(&mut s, RELIEF, &[("cause", "illness")]);
    s.handle(Event::SkipMaterial);
    assert_eq!(s.view().material.unwrap().name, "困难情况证明材料", "a required one is not skipped");
    scan(&mut s, page(60));
    s.handle(Event::NextMaterial);
    let v = s.view().material.unwrap();
    assert_eq!(v.name, "医疗费用票据");
    assert!(!v.required && v.can_skip && !v.can_next);
    s.handle(Event::SkipMaterial);
    assert_eq!(s.screen(), Screen::Review);
    assert!(s.view().review_rows.contains(&("医疗费用票据".into(), "没有提交（可以不交）".into())));
}

#[test]
fn without_devices_materials_go_on_paper_and_late_captures_are_ignored() {
    // No scanner, no camera: the form leads straight to the review, which says where the paper goes.
    let mut s = session(Capabilities::default());
    s.handle(Event::Start);
    s.handle(Event::ChooseService(ALLOWANCE.into()));
    let guide = s.view().guide_rows;
    assert!(guide.iter().any(|(_, v)| v.contains("还不能扫描")), "{guide:?}");
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank_account".into(), value: "6228480012345678901".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Review);
    assert!(s.view().review_rows.contains(&("户口簿".into(), "请把纸质材料交给村代办员".into())));

    // A camera only: documents are photographed instead.
    let mut s = session(Capabilities { camera: true, scanner: false });
    to_materials(&mut s, ALLOWANCE, &[("bank_account", "6228480012345678901")]);
    let v = s.view().material.unwrap();
    assert!(!v.can_scan && v.can_photo && v.hint.contains("摄像头"));
    assert!(s.handle(Event::CaptureMaterial(CaptureKind::Scan)).is_empty(), "no scanner to ask");
    // Cancelled while the camera works: the late photo changes nothing.
    assert_eq!(s.handle(Event::CaptureMaterial(CaptureKind::Photo)).len(), 1);
    s.handle(Event::Cancel);
    assert!(!s.holds_personal_data());
    s.handle(Event::MaterialCaptured { material: "hukou".into(), capture: page(1) });
    assert_eq!(s.screen(), Screen::Home);
}
