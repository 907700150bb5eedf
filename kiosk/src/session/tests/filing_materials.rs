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

const BABY: &[(&str, &str)] = &[("baby_name", "马小花"), ("baby_gender", "2"), ("baby_birth_date", "2026-11-02")];

/// Up to the birth certificate (an e-license material) on a terminal whose
/// hub has an e-license library: the effects of entering it.
fn to_birth_certificate(s: &mut Session, online: bool) -> Vec<Effect> {
    s.set_paths(model::protocol::Paths { e_license: true, ..Default::default() });
    s.handle(Event::LinkChanged { online });
    s.handle(Event::Start);
    s.handle(Event::ChooseService(BIRTH.into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    for (k, v) in BABY {
        s.handle(Event::FieldEdited { key: (*k).into(), value: (*v).into() });
    }
    let fx = s.handle(Event::SubmitForm);
    assert_eq!(s.view().material.unwrap().name, "出生医学证明");
    fx
}

fn birth_license() -> Box<model::protocol::ELicenseDocument> {
    Box::new(model::protocol::ELicenseDocument {
        name: "出生医学证明".into(),
        issuer: "临夏州妇幼保健院".into(),
        license_id: "Q620102512345".into(),
        issued_on: Some("2026-11-03".into()),
    })
}

#[test]
fn an_e_license_found_online_is_recorded_instead_of_a_scan() {
    let mut s = session(BOTH);
    let fx = to_birth_certificate(&mut s, true);
    // The library is asked for this applicant, at once.
    let [Effect::LookUpELicense { material, id_number }] = fx.as_slice() else { panic!("expected a lookup, got {fx:?}") };
    assert_eq!(material, "birth_cert");
    assert_eq!(id_number, &identity(Validity::LongTerm).id_number);
    let v = s.view().material.unwrap();
    assert!(v.busy && !v.can_next && v.hint.contains("正在电子证照库里查找"), "{v:?}");
    assert!(s.view().busy_message.contains("正在电子证照库里查找"));
    // 下一步 waits for the answer.
    s.handle(Event::NextMaterial);
    assert_eq!(s.view().material.unwrap().name, "出生医学证明");

    s.handle(Event::ELicenseLooked { material: "birth_cert".into(), found: Some(birth_license()), miss: materials::ELicenseLookup::Found });
    let v = s.view().material.unwrap();
    assert!(v.can_next && !v.busy && !v.can_scan && !v.can_photo, "{v:?}");
    assert_eq!(v.captured, "已从电子证照库调取，不用扫描");
    // Which license, in plain words; its number masked as every number on screen.
    assert_eq!(v.hint, "用的是电子证照「出生医学证明」，编号 Q620*****2345，临夏州妇幼保健院 2026-11-03 发");
    assert!(!v.hint.contains("Q620102512345"));
    s.handle(Event::NextMaterial);
    assert_eq!(s.view().material.unwrap().name, "户口簿");
    scan(&mut s, page(40));
    s.handle(Event::NextMaterial);
    let rows = s.view().review_rows;
    let words = "用的是电子证照「出生医学证明」，编号 Q620*****2345，临夏州妇幼保健院 2026-11-03 发";
    assert!(rows.contains(&("出生医学证明".into(), words.into())), "{rows:?}");
    let fx = s.handle(Event::Confirm);
    let [Effect::Submit(sub, files)] = fx.as_slice() else { panic!("expected a submit, got {fx:?}") };
    // Only the household register was scanned; the license is recorded.
    assert_eq!(sub.attachments.iter().map(|a| a.material_code.as_str()).collect::<Vec<_>>(), ["hukou"]);
    assert_eq!(files.len(), 1);
    let r = &sub.e_licenses[..];
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].material_code.as_str(), r[0].kind.as_str(), r[0].number.as_str(), r[0].issuer.as_str(), r[0].issued_on.as_deref()),
        ("birth_cert", "出生医学证明", "Q620102512345", "临夏州妇幼保健院", Some("2026-11-03"))
    );
}

#[test]
fn without_a_license_the_same_material_is_scanned_and_the_screen_says_why() {
    use materials::ELicenseLookup as L;
    for (online, miss, why) in [
        (false, None, "没有网络，不能调取电子证照，要扫描"),
        (true, Some(L::NotFound), "电子证照库里没有找到，要扫描"),
        (true, Some(L::NotAnswering), "电子证照库没有回应，要扫描"),
        (true, Some(L::NoNetwork), "没有网络，不能调取电子证照，要扫描"),
    ] {
        let mut s = session(BOTH);
        let fx = to_birth_certificate(&mut s, online);
        assert_eq!(fx.iter().any(|e| matches!(e, Effect::LookUpELicense { .. })), online, "{fx:?}");
        if let Some(miss) = miss {
            s.handle(Event::ELicenseLooked { material: "birth_cert".into(), found: None, miss });
        }
        let v = s.view().material.unwrap();
        // The reason stands above how to scan; one reason, the true one.
        assert!(v.can_scan && !v.can_next && !v.busy && v.reason == why && v.hint.contains("扫描"), "{why}: {v:?}");
        assert!(!v.hint.contains("电子证照"), "{v:?}");
        s.handle(Event::NextMaterial);
        assert_eq!(s.view().material.unwrap().name, "出生医学证明", "{why}: a scan is needed");
        scan(&mut s, page(30));
        assert_eq!(s.view().material.unwrap().reason, "", "once scanned, the reason is past");
        s.handle(Event::NextMaterial);
        assert_eq!(s.view().material.unwrap().name, "户口簿");
        scan(&mut s, page(40));
        s.handle(Event::NextMaterial);
        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("expected a submit, got {fx:?}") };
        assert!(sub.e_licenses.is_empty());
        assert_eq!(sub.attachments.iter().map(|a| a.material_code.as_str()).collect::<Vec<_>>(), ["birth_cert", "hukou"]);
    }
}

#[test]
fn without_a_library_the_kiosk_neither_asks_nor_mentions_it() {
    let mut s = session(BOTH);
    s.handle(Event::LinkChanged { online: true });
    to_materials(&mut s, BIRTH, BABY);
    let v = s.view().material.unwrap();
    assert_eq!(v.name, "出生医学证明");
    assert!(!v.hint.contains("电子证照") && v.reason.is_empty() && v.can_scan && !v.can_next, "{v:?}");
    // A late answer from a lookup nobody asked for changes nothing.
    s.handle(Event::ELicenseLooked { material: "birth_cert".into(), found: Some(birth_license()), miss: materials::ELicenseLookup::Found });
    assert!(!s.view().material.unwrap().can_next);
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
