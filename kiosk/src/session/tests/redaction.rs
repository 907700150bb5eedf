//! What `{:?}` of an event or effect shows: never what the villager typed,
//! a scan's bytes, a PIN, or what is read aloud (a log line or a panic
//! message that formats one must not carry personal data).

use model::submission::AttachmentRef;
use zeroize::Zeroizing;

use super::*;
use crate::assisted::{AssistEffect, AssistEvent};

/// Bytes that stand for a scan: formatted as a byte list they would show
/// up as "255, 216, 83, ...".
const SCAN: &[u8] = b"\xff\xd8SCAN-OF-HUKOU";

fn assert_hidden(shown: &str, secret: &str, still_there: &str) {
    assert!(!shown.contains(secret), "{secret:?} shows in {shown}");
    assert!(!shown.contains("255, 216"), "the scan's bytes show in {shown}");
    assert!(shown.contains(still_there), "{still_there:?} should still show in {shown}");
}

#[test]
fn a_typed_value_or_search_is_left_out() {
    let shown = format!("{:?}", Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    assert_hidden(&shown, "13912345678", "phone");
    let shown = format!("{:?}", Event::SearchTyped("张桂兰".into()));
    assert_hidden(&shown, "张桂兰", "SearchTyped");
}

#[test]
fn attachments_and_what_is_read_aloud_are_left_out_of_effects() {
    let refs = vec![AttachmentRef::for_bytes("HUKOU", "image/jpeg", SCAN)];
    let submission = Box::new(model::fixtures::sample_submission(refs.clone()));
    let fx = Effect::Submit(submission, vec![(refs[0].clone(), Zeroizing::new(SCAN.to_vec()))]);
    let shown = format!("{fx:?}");
    assert_hidden(&shown, "SCAN-OF-HUKOU", "Submit");
    // The submission's own Debug masks the applicant.
    assert!(!shown.contains(&model::fixtures::sample_applicant().name), "{shown}");
    let fx = Effect::Speak { lang: Lang::ZhCn, text: "张桂兰，电话13912345678".into(), ids: vec![] };
    assert_hidden(&format!("{fx:?}"), "13912345678", "Speak");
}

#[test]
fn assisted_mode_leaves_out_pins_and_scans() {
    let ev = AssistEvent::SubmitLogin { staff: "GS0001".into(), pin: Zeroizing::new("837261940573".into()) };
    assert_hidden(&format!("{ev:?}"), "837261940573", "GS0001");
    let fx = AssistEffect::CheckLogin { staff: "GS0001".into(), pin: Zeroizing::new("837261940573".into()) };
    assert_hidden(&format!("{fx:?}"), "837261940573", "GS0001");
    let ev = AssistEvent::MaterialScanned { material_code: "HUKOU".into(), media_type: "image/jpeg".into(), bytes: SCAN.to_vec() };
    assert_hidden(&format!("{ev:?}"), "SCAN-OF-HUKOU", "HUKOU");
    let refs = vec![AttachmentRef::for_bytes("HUKOU", "image/jpeg", SCAN)];
    let submission = Box::new(model::fixtures::sample_submission(refs.clone()));
    let fx = AssistEffect::Submit { submission, attachments: vec![(refs[0].clone(), SCAN.to_vec())] };
    assert_hidden(&format!("{fx:?}"), "SCAN-OF-HUKOU", "Submit");
}
