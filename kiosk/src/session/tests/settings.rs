//! Settings and idle time: language, voice, the idle warning.

use super::*;

#[test]
fn idle_warning_counts_down_then_the_visit_is_wiped() {
    let mut s = session(Capabilities::default());
    to_form(&mut s);
    s.handle(Event::SetLanguage(Lang::Bo));
    s.handle(Event::ToggleLargeText);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::IdleWarning { seconds_left: 20 });
    assert_eq!(s.view().idle_seconds, 20);
    assert_eq!(s.screen(), Screen::Form, "the form stays under the warning");
    // 继续: the warning goes, the visit and what was typed stay.
    s.handle(Event::StillHere);
    let v = s.view();
    assert_eq!(v.idle_seconds, 0);
    assert_eq!(v.form_rows.iter().find(|r| r.key == "phone").unwrap().value, "13912345678");
    // Any tap is activity too.
    s.handle(Event::IdleWarning { seconds_left: 20 });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    assert_eq!(s.view().idle_seconds, 0);

    s.handle(Event::IdleWarning { seconds_left: 3 });
    assert!(s.holds_personal_data());
    s.handle(Event::IdleTimeout);
    assert_eq!(s.screen(), Screen::Home);
    assert!(!s.holds_personal_data());
    let v = s.view();
    assert!(v.form_rows.is_empty() && v.review_rows.is_empty());
    assert_eq!(v.idle_seconds, 0);
    assert_eq!(v.lang, Lang::ZhCn, "the next villager starts from the defaults");
    assert!(!v.large_text);
    // Nothing to warn about on home.
    s.handle(Event::IdleWarning { seconds_left: 5 });
    assert_eq!(s.view().idle_seconds, 0);
}

#[test]
fn idle_timeout_while_reading_a_card_stops_the_reader() {
    let mut s = session(Capabilities::default());
    to_id_prompt(&mut s);
    let fx = s.handle(Event::IdleTimeout);
    assert!(matches!(fx.as_slice(), [Effect::StopCardReader]));
}

#[test]
fn switching_language_rewords_everything_and_keeps_what_was_entered() {
    let mut s = session(Capabilities::default());
    to_form(&mut s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "1391234".into() });
    s.handle(Event::SubmitForm);
    let zh = s.view();
    s.handle(Event::SetLanguage(Lang::En));
    let en = s.view();
    assert_eq!(en.screen, Screen::Form);
    assert_eq!(en.lang, Lang::En);
    assert_eq!(en.item_name, "Apply for a social security card");
    let phone = en.form_rows.iter().find(|r| r.key == "phone").unwrap();
    assert_eq!(phone.value, "1391234", "what was typed stays");
    assert_eq!(phone.label, "Phone");
    assert_ne!(phone.error, zh.form_rows.iter().find(|r| r.key == "phone").unwrap().error);
    assert!(phone.error.is_ascii(), "the problem is worded in English: {}", phone.error);
    // Catalog names without a translation fall back to Chinese.
    s.handle(Event::SetLanguage(Lang::Kk));
    let kk = s.view();
    assert!(!kk.item_name.is_empty());
    s.handle(Event::SetLanguage(Lang::ZhCn));
    assert_eq!(s.view(), zh);
}

#[test]
fn device_problems_are_translated_when_shown() {
    let mut s = session(Capabilities::default());
    to_id_prompt(&mut s);
    s.handle(Event::CardProblem("读卡器没有连接好，请联系村代办员。".into()));
    s.handle(Event::SetLanguage(Lang::En));
    let v = s.view();
    assert!(v.id_error);
    assert!(v.id_message.is_ascii() && !v.id_message.is_empty(), "{}", v.id_message);
    // An unknown sentence is shown as it came.
    s.handle(Event::CardProblem("新的问题".into()));
    assert_eq!(s.view().id_message, "新的问题");
}

#[test]
fn voice_reads_each_new_prompt_once_and_the_idle_warning_always() {
    let mut s = session(Capabilities::default());
    s.handle(Event::VoicesAvailable(vec![Lang::ZhCn, Lang::En]));
    // Off: silent.
    assert!(s.handle(Event::Start).is_empty());
    let fx = s.handle(Event::ToggleVoice);
    let [Effect::Speak { lang: Lang::ZhCn, text, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert!(text.contains("请选择要办的事"));
    // Same screen, nothing new to say.
    assert!(s.handle(Event::ChooseTheme(String::new())).is_empty());
    let fx = s.handle(Event::ChooseService(SOCIAL_CARD.into()));
    assert!(matches!(fx.as_slice(), [Effect::Speak { .. }]));
    // No Tibetan voice: the view says so and nothing is spoken.
    let fx = s.handle(Event::SetLanguage(Lang::Bo));
    assert!(fx.is_empty());
    assert!(!s.view().voice_available);
    let fx = s.handle(Event::SetLanguage(Lang::En));
    let [Effect::Speak { lang: Lang::En, text, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert!(text.is_ascii(), "{text}");
    // Reading off, the idle warning is still said, once.
    s.handle(Event::ToggleVoice);
    let fx = s.handle(Event::IdleWarning { seconds_left: 20 });
    assert!(matches!(fx.as_slice(), [Effect::Speak { .. }]));
    assert!(s.handle(Event::IdleWarning { seconds_left: 19 }).is_empty());
}

/// Voice packs: a recorded prompt is said with its message ids (so the
/// speaker plays the recording); a prompt without a recording in a language
/// without an engine voice shows the no-voice sign and says nothing; a
/// recording is never used for another language.
#[test]
fn recordings_say_what_they_have_and_never_another_language() {
    let mut s = session(Capabilities::default());
    s.handle(Event::VoicesAvailable(vec![Lang::ZhCn]));
    let home = s.prompt();
    let home_id = ui::i18n::msgid_of("zh-CN", &home).expect("the home prompt is one message").to_owned();
    let mut recorded = std::collections::BTreeMap::new();
    recorded.insert(Lang::Bo, [home_id.clone()].into_iter().collect::<std::collections::BTreeSet<_>>());
    s.handle(Event::RecordingsAvailable(recorded));

    s.handle(Event::SetLanguage(Lang::Bo));
    assert!(s.view().voice_available, "home has a Tibetan recording");
    let fx = s.handle(Event::ToggleVoice);
    let [Effect::Speak { lang: Lang::Bo, ids, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!(ids, &[home_id.clone()]);
    // Services: no Tibetan recording, no Tibetan engine: the sign, silence.
    assert!(s.handle(Event::Start).is_empty());
    assert!(!s.view().voice_available);
    // Kazakh has neither recording nor (here) engine: the Tibetan recording
    // of the same message is not used.
    s.handle(Event::Cancel);
    let fx = s.handle(Event::SetLanguage(Lang::Kk));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(!s.view().voice_available);
    // Chinese has the engine: said, with the ids so a Chinese pack could play it.
    let fx = s.handle(Event::SetLanguage(Lang::ZhCn));
    let [Effect::Speak { lang: Lang::ZhCn, ids, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!(ids, &[home_id]);
}
