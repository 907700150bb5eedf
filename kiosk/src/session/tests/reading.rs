//! 读整页: the whole screen read aloud, top to bottom, masked as shown.

use super::*;

fn read(s: &mut Session) -> String {
    let fx = s.handle(Event::ReadScreen);
    let [Effect::Speak { text, ids, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    assert!(ids.is_empty(), "a whole screen is never a recording");
    text.clone()
}

/// The labels appear in `text` in this order.
fn in_order(text: &str, labels: &[&str]) {
    let mut at = 0;
    for l in labels {
        let i = text[at..].find(l).unwrap_or_else(|| panic!("{l:?} missing or out of order in {text:?}"));
        at += i + l.len();
    }
}

#[test]
fn the_review_screen_is_read_in_order_with_values_masked_as_shown() {
    let mut s = session(Capabilities::default());
    s.handle(Event::VoicesAvailable(vec![Lang::ZhCn, Lang::Kk, Lang::En]));
    // Reading off: no button, nothing said.
    assert!(!s.view().can_read_screen);
    assert!(s.handle(Event::ReadScreen).is_empty());
    to_form(&mut s);
    s.handle(Event::FieldEdited { key: "phone".into(), value: "13912345678".into() });
    s.handle(Event::FieldEdited { key: "bank".into(), value: "rcc".into() });
    s.handle(Event::SubmitForm);
    assert_eq!(s.screen(), Screen::Review);
    s.handle(Event::ToggleVoice);
    assert!(s.view().can_read_screen);
    let full_id = model::fixtures::sample_identity().id_number.expose().to_owned();

    for lang in [Lang::ZhCn, Lang::Kk, Lang::En] {
        s.handle(Event::SetLanguage(lang));
        let v = s.view();
        let text = read(&mut s);
        // Heading, every row label (then its value) in the screen's order,
        // the instruction last. Kazakh too: its screen mirrors, so the
        // label (on the right) is still read first.
        let mut order: Vec<&str> = vec![v.item_name.as_str()];
        order.extend(v.review_rows.iter().map(|(l, _)| l.as_str()));
        order.push(v.prompt.as_str());
        in_order(&text, &order);
        assert!(text.ends_with(v.prompt.as_str()), "{text}");
        let mut masked = 0;
        for (label, value) in &v.review_rows {
            if value.contains('*') {
                masked += 1;
                assert!(!text.contains(value.as_str()), "stars are not read out: {text}");
            } else {
                in_order(&text, &[label.as_str(), value.as_str()]);
            }
        }
        assert!(masked >= 1, "the ID number is masked on the review screen");
        assert!(text.contains(&ui::i18n::tr(lang.code(), "（部分隐去）")), "{text}");
        assert!(!text.contains(&full_id), "the whole ID number is never read");
        eprintln!("{}: {text}", lang.code());
    }

    // Tibetan: no engine voice; no button, nothing said.
    s.handle(Event::SetLanguage(Lang::Bo));
    assert!(!s.view().can_read_screen);
    assert!(s.handle(Event::ReadScreen).is_empty());
}

#[test]
fn the_services_screen_reads_every_tile_in_order() {
    let mut s = session(Capabilities::default());
    s.handle(Event::VoicesAvailable(vec![Lang::ZhCn]));
    s.handle(Event::ToggleVoice);
    s.handle(Event::Start);
    let v = s.view();
    assert!(v.services.len() >= 2);
    let text = read(&mut s);
    let mut order: Vec<&str> = v.services.iter().map(|t| t.name.as_str()).collect();
    order.push(v.prompt.as_str());
    in_order(&text, &order);
}
