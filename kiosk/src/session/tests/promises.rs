//! The screen never promises what the system does not do (issue 16): every
//! villager-visible sentence that mentions 短信 (a text), 电子证照 (the
//! e-license library) or 邮寄/快递 (mailing the result), in the `.po` files
//! (every language) and in the catalog, is walked; the session's views are
//! driven through every journey for a terminal whose config lacks that
//! path, and the test fails when one of them is shown.

use std::collections::BTreeMap;

use model::protocol::Paths;

use super::*;

const BIRTH: &str = "620000GA0001"; // 出生医学证明 (e-license) and 户口簿
const BOTH: Capabilities = Capabilities { camera: true, scanner: true };

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Path {
    Sms,
    ELicense,
    Mail,
}

fn path_of(text: &str) -> Option<Path> {
    if text.contains("短信") {
        Some(Path::Sms)
    } else if text.contains("电子证照") {
        Some(Path::ELicense)
    } else if text.contains("邮寄") || text.contains("快递") {
        Some(Path::Mail)
    } else {
        None
    }
}

fn has(paths: Paths, p: Path) -> bool {
    match p {
        Path::Sms => paths.sms,
        Path::ELicense => paths.e_license,
        Path::Mail => paths.mail,
    }
}

/// (msgid, msgstr) of one `.po` file, multi-line strings joined.
fn po_entries(text: &str) -> Vec<(String, String)> {
    fn unquote(line: &str) -> String {
        let inner = line.trim().trim_start_matches('"').trim_end_matches('"');
        inner.replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\")
    }
    let (mut out, mut id, mut s, mut in_str) = (Vec::new(), None::<String>, String::new(), None::<bool>);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            if let Some(i) = id.take() {
                out.push((i, std::mem::take(&mut s)));
            }
            id = Some(unquote(rest));
            in_str = Some(false);
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            s = unquote(rest);
            in_str = Some(true);
        } else if line.starts_with('"') {
            match in_str {
                Some(false) => id.get_or_insert_with(String::new).push_str(&unquote(line)),
                Some(true) => s.push_str(&unquote(line)),
                None => {}
            }
        } else {
            in_str = None;
        }
    }
    if let Some(i) = id {
        out.push((i, s));
    }
    out
}

/// Every sentence that needs a path, as it is shown per language:
/// lang → (sentence, path). Chinese is the msgid.
fn promising_sentences() -> BTreeMap<&'static str, Vec<(String, Path)>> {
    let mut out: BTreeMap<&'static str, Vec<(String, Path)>> = BTreeMap::new();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/translations");
    for lang in ["en", "bo", "kk"] {
        let po = std::fs::read_to_string(format!("{root}/{lang}/LC_MESSAGES/ui.po")).unwrap();
        for (id, tr) in po_entries(&po) {
            let Some(p) = path_of(&id) else { continue };
            out.entry("zh-CN").or_default().push((id.clone(), p));
            if !tr.is_empty() {
                out.entry(lang).or_default().push((tr, p));
            }
        }
    }
    // The catalog's own words (guides, material notes), every string of it.
    fn walk(v: &serde_json::Value, found: &mut Vec<(String, Path)>) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(p) = path_of(s) {
                    found.push((s.clone(), p));
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, found)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    walk(&serde_json::to_value(Catalog::starter()).unwrap(), out.entry("zh-CN").or_default());
    out
}

/// What a villager can see or hear on every screen of every journey, at a
/// terminal with these paths, online or not, in `lang`.
fn everything_shown(paths: Paths, online: bool, lang: Lang) -> Vec<String> {
    let mut shown = Vec::new();
    let mut s = session(BOTH);
    s.set_paths(paths);
    s.handle(Event::LinkChanged { online });
    s.handle(Event::SetLanguage(lang));
    let mut look = |s: &Session| shown.push(format!("{:?}", s.view()));

    // Every service's guide.
    let codes: Vec<String> = Catalog::starter().items.iter().map(|i| i.implement_code.as_str().to_owned()).collect();
    for code in &codes {
        s.handle(Event::Start);
        look(&s);
        s.handle(Event::ChooseService(code.clone()));
        look(&s);
        s.handle(Event::StartFiling);
        look(&s);
        s.handle(Event::Cancel);
    }

    // Filing an item with an e-license material, to the end, sent and saved
    // offline; the library finds it, has none, or does not answer.
    use materials::ELicenseLookup as L;
    for (sent, library) in [(true, None), (false, Some(L::NotFound)), (true, Some(L::NotAnswering))] {
        s.handle(Event::Start);
        s.handle(Event::ChooseService(BIRTH.into()));
        s.handle(Event::StartFiling);
        s.handle(Event::Agree);
        look(&s);
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        look(&s);
        for (k, v) in [("phone", "13912345678"), ("baby_name", "马小花"), ("baby_gender", "2"), ("baby_birth_date", "2026-11-02")] {
            s.handle(Event::FieldEdited { key: k.into(), value: v.into() });
        }
        let fx = s.handle(Event::SubmitForm);
        look(&s);
        through_materials(&mut s, &mut look, fx, library);
        assert_eq!(s.screen(), Screen::Review, "the walk reached the review");
        look(&s);
        let fx = s.handle(Event::Confirm);
        let [Effect::Submit(sub, _)] = fx.as_slice() else { panic!("{fx:?}") };
        let id = sub.id;
        s.handle(Event::Saved { id });
        if sent {
            s.handle(Event::Sent { id, case_number: CaseNumber::parse("62202611210000001").unwrap() });
        } else {
            s.handle(Event::Deferred { id });
        }
        look(&s);
        s.handle(Event::PrintReceipt);
        look(&s);
        s.handle(Event::Printed);
        look(&s);
        s.handle(Event::RateNow);
        s.handle(Event::ChooseRating(Rating::Dissatisfied));
        look(&s);
        s.handle(Event::SubmitRating);
        look(&s);
        s.handle(Event::Finish);
    }

    // A document result (the social security card): how it reaches the
    // villager, mailed to a picked place when the terminal may offer it.
    s.handle(Event::Start);
    s.handle(Event::ChooseService(SOCIAL_CARD.into()));
    s.handle(Event::StartFiling);
    s.handle(Event::Agree);
    s.handle(Event::CardRead(identity(Validity::LongTerm)));
    look(&s);
    for (k, v) in [("phone", "13912345678"), ("bank", "rcc"), ("result_delivery", "mail"), ("mail_address", "622926100202|5社8号")] {
        s.handle(Event::FieldEdited { key: k.into(), value: v.into() });
        look(&s);
    }
    // The review is `delivery.rs`'s; here the form shows every word of it.
    s.handle(Event::SubmitForm);
    look(&s);
    s.handle(Event::Cancel);

    // Progress and results, each stage, with and without a document.
    for query in [Event::QueryProgress, Event::QueryResult] {
        for (stage, result_available) in [
            (FilingStage::Waiting, false),
            (FilingStage::Delivered, false),
            (FilingStage::Done, false),
            (FilingStage::Done, true),
            (FilingStage::Problem, false),
        ] {
            let q = match query {
                Event::QueryProgress => Event::QueryProgress,
                _ => Event::QueryResult,
            };
            s.handle(q);
            look(&s);
            s.handle(Event::CodeEntered("62202611210000001".into()));
            look(&s);
            s.handle(Event::LookedUp(vec![FilingStatus {
                reference: SubmissionId::new(),
                item_code: ImplementCode::parse(BIRTH).unwrap(),
                created_at: datetime!(2026-11-20 10:00 +8),
                case_number: Some(CaseNumber::parse("62202611210000001").unwrap()),
                stage,
                result_available,
                known: Known::Here,
                parts: Vec::new(),
            }]));
            look(&s);
            // Found → goodbye → home, so the next round starts from home.
            s.handle(Event::Finish);
            s.handle(Event::Finish);
            assert_eq!(s.screen(), Screen::Home);
        }
        s.handle(match query {
            Event::QueryProgress => Event::QueryProgress,
            _ => Event::QueryResult,
        });
        s.handle(Event::CodeEntered("62202611210000009".into()));
        s.handle(Event::LookedUp(vec![]));
        look(&s);
        // A receipt from elsewhere: the card, then the platform's answers
        // (none, found with its history and a reply, unreachable).
        s.handle(Event::CardRead(identity(Validity::LongTerm)));
        look(&s);
        s.handle(Event::NothingOnPlatform);
        look(&s);
        // Found/nothing → goodbye → home.
        s.handle(Event::Finish);
        s.handle(Event::Finish);
        assert_eq!(s.screen(), Screen::Home);
        for answer in [Some(Known::HereOffline), None, Some(Known::Here)] {
            s.handle(match query {
                Event::QueryProgress => Event::QueryProgress,
                _ => Event::QueryResult,
            });
            s.handle(Event::CodeEntered("62202611210000009".into()));
            s.handle(Event::LookedUp(vec![]));
            let card = identity(Validity::LongTerm);
            let proof = card.id_number.clone();
            s.handle(Event::CardRead(card));
            let known = answer.unwrap_or_else(|| {
                Known::Platform(Box::new(PlatformNews {
                    history: vec![(model::CaseStatus::Received, datetime!(2026-11-20 10:00 +8)), (model::CaseStatus::Done, datetime!(2026-11-25 10:00 +8))],
                    reason: None,
                    reply: Some("已整改".into()),
                    filed_here: false,
                    proof,
                }))
            });
            if known == Known::Here {
                s.handle(Event::NothingKnownOffline);
            } else {
                s.handle(Event::LookedUp(vec![FilingStatus {
                    reference: SubmissionId::new(),
                    item_code: ImplementCode::parse(BIRTH).unwrap(),
                    created_at: datetime!(2026-11-20 10:00 +8),
                    case_number: Some(CaseNumber::parse("62202611210000009").unwrap()),
                    stage: FilingStage::Done,
                    result_available: true,
                    known,
                    parts: Vec::new(),
                }]));
            }
            look(&s);
            s.handle(Event::Finish);
            s.handle(Event::Finish);
        }
    }
    shown
}

/// Through the materials: 下一步 where it may, a scan where it must.
fn through_materials(s: &mut Session, look: &mut impl FnMut(&Session), mut fx: Vec<Effect>, library: Option<materials::ELicenseLookup>) {
    for _ in 0..6 {
        // The e-license library answers (found, or why not), as the app would.
        for e in std::mem::take(&mut fx) {
            if let Effect::LookUpELicense { material, .. } = e {
                look(s);
                let miss = library.unwrap_or(materials::ELicenseLookup::Found);
                let found = (miss == materials::ELicenseLookup::Found).then(|| {
                    Box::new(model::protocol::ELicenseDocument {
                        name: "出生医学证明".into(),
                        issuer: "临夏州妇幼保健院".into(),
                        license_id: "Q620102512345".into(),
                        issued_on: Some("2026-11-03".into()),
                    })
                });
                s.handle(Event::ELicenseLooked { material, found, miss });
            }
        }
        if s.screen() != Screen::Materials {
            break;
        }
        look(s);
        fx = s.handle(Event::NextMaterial);
        if s.screen() == Screen::Materials && !s.view().material.is_some_and(|m| m.can_next) {
            let capturing = s.handle(Event::CaptureMaterial(CaptureKind::Scan));
            if let [Effect::CaptureMaterial { material, .. }] = capturing.as_slice() {
                let img = image::RgbImage::from_pixel(300, 400, image::Rgb([40, 40, 200]));
                let capture = Box::new(materials::capture_of(CaptureKind::Scan, &[img]).unwrap());
                s.handle(Event::MaterialCaptured { material: material.clone(), capture });
            }
            look(s);
            fx = s.handle(Event::NextMaterial);
        }
    }
}

fn broken_promises(paths: Paths, online: bool) -> Vec<String> {
    let sentences = promising_sentences();
    let mut broken = Vec::new();
    for lang in [Lang::ZhCn, Lang::En, Lang::Bo, Lang::Kk] {
        let shown = everything_shown(paths, online, lang).join("\n");
        for (sentence, path) in sentences.get(lang.code()).into_iter().flatten() {
            // Views are compared in their Debug form, which escapes combining
            // marks (Tibetan vowel signs): look for the sentence escaped alike.
            let escaped = format!("{sentence:?}");
            let escaped = &escaped[1..escaped.len() - 1];
            if !has(paths, *path) && (shown.contains(sentence.as_str()) || shown.contains(escaped)) {
                broken.push(format!("{}: {path:?} promised without it: {sentence}", lang.code()));
            }
        }
        // Any Chinese wording at all (a sentence outside the .po files too).
        if lang == Lang::ZhCn {
            for line in shown.lines() {
                if let Some(p) = path_of(line).filter(|p| !has(paths, *p)) {
                    broken.push(format!("zh-CN: {p:?} mentioned without it in {line}"));
                }
            }
        }
    }
    broken.sort();
    broken.dedup();
    broken
}

#[test]
fn the_walk_covers_sentences_of_every_path() {
    let sentences = promising_sentences();
    let zh = &sentences["zh-CN"];
    assert!([Path::Sms, Path::ELicense, Path::Mail].iter().all(|path| zh.iter().any(|(_, p)| p == path)), "{zh:?}");
    for lang in ["en", "bo", "kk"] {
        assert!(sentences.get(lang).is_some_and(|s| s.len() >= 2), "{lang}: the translations were read");
    }
}

#[test]
fn no_sentence_promises_a_path_this_terminal_lacks() {
    for online in [false, true] {
        let broken = broken_promises(Paths::default(), online);
        assert!(broken.is_empty(), "online {online}:\n{}", broken.join("\n"));
    }
    // Each path alone: the others are still never promised.
    for paths in [
        Paths { sms: true, ..Paths::default() },
        Paths { e_license: true, ..Paths::default() },
        Paths { mail: true, ..Paths::default() },
    ] {
        let broken = broken_promises(paths, true);
        assert!(broken.is_empty(), "{paths:?}:\n{}", broken.join("\n"));
    }
}

/// The walk reaches the places those sentences live: with every path, they show.
#[test]
fn with_the_paths_the_promises_are_made() {
    let all = Paths { sms: true, e_license: true, mail: true };
    let shown = everything_shown(all, true, Lang::ZhCn).join("\n");
    assert!(shown.contains("办结以后，会有短信告诉您"), "the text is promised when a gateway exists");
    assert!(shown.contains("已从电子证照库调取"), "the e-license library is used when it exists");
    for words in ["用的是电子证照「出生医学证明」，编号 Q620*****2345", "正在电子证照库里查找", "电子证照库里没有找到，要扫描", "电子证照库没有回应，要扫描"] {
        assert!(shown.contains(words), "the walk shows {words}");
    }
    assert!(shown.contains("邮寄到家（结果物流快递）"), "mailing the result is offered when the post exists");
    assert!(shown.contains("甘肃省临夏回族自治州东乡族自治县锁南镇巴牙村委会 5社8号"), "to the place picked");
    // The walk reaches the progress-anywhere screens too.
    for words in ["这台机器上没有这张回执", "政务服务平台上没有查到", "在政务服务平台上查到 1 件", "对您评价的答复：已整改", "下面是这台机器知道的", "这台机器上也没有这件事的记录"] {
        assert!(shown.contains(words), "the walk shows {words}");
    }
    let en = everything_shown(all, true, Lang::En).join("\n");
    assert!(en.contains("text message"), "and in English");
    // Without the paths, the same walk shows what happens instead.
    let none = everything_shown(Paths::default(), true, Lang::ZhCn).join("\n");
    assert!(none.contains("可以带上回执再来这里查询和打印"));
}
