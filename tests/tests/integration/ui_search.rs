//! 搜索 through the real window (issue 15): from the home screen's 搜索 the
//! villager types on the on-screen keyboard, the results above the keys
//! follow every key, and a result opens its guide; 返回 comes back to the
//! results; a code typed with the digit and letter keys finds its item;
//! nothing found offers browsing by department.

use std::time::Duration;

use ui::slint::{ComponentHandle, Model};

use super::harness::Driven;
use super::ui_journey::Kiosk;

/// The names of the results the window holds now.
fn results(k: &Kiosk) -> Vec<String> {
    k.window.global::<ui::Visit>().get_services().iter().map(|t| t.name.to_string()).collect()
}

/// 搜索 on the home screen: the search screen with its keyboard up.
fn open_search(k: &Kiosk) {
    k.tap("搜索");
    k.wait_screen(ui::Screen::Search);
    k.wait_until("the keyboard", |w| w.global::<ui::Keyboard>().get_mode() != ui::KeyboardMode::Closed);
    assert!(k.window.global::<ui::Visit>().get_search_typing());
}

/// Taps each character's key, with the keyboard tab it is on.
fn type_keys(k: &Kiosk, text: &str) {
    for ch in text.chars() {
        let tab = if ch.is_ascii_digit() { "123" } else { "ABC" };
        let mode = if ch.is_ascii_digit() { ui::KeyboardMode::Digits } else { ui::KeyboardMode::English };
        if k.window.global::<ui::Keyboard>().get_mode() != mode {
            k.tap(tab);
        }
        k.tap(&ch.to_ascii_lowercase().to_string());
    }
    k.pump();
}

#[test]
fn typing_ylbx_finds_the_pension_and_opens_it() {
    let mut k = Kiosk::start("search", false, Duration::from_secs(600));
    k.shot("home");
    open_search(&k);
    // Chinese opens on the writing pad, as the form does; ABC for pinyin.
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Handwriting);
    k.shot("search-empty");
    k.tap("ABC");
    let mut counts = Vec::new();
    for (i, ch) in "ylbx".chars().enumerate() {
        k.tap(&ch.to_string());
        k.wait_until("the results", |w| w.global::<ui::Visit>().get_search_query().chars().count() == i + 1);
        counts.push(results(&k).len());
    }
    k.shot("search-ylbx");
    assert_eq!(k.window.global::<ui::Keyboard>().get_text().to_lowercase(), "ylbx");
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "each key narrows the results: {counts:?}");
    let found = results(&k);
    assert_eq!(found[0], "城乡居民基本养老保险参保登记", "{found:?}");
    assert!(found.iter().all(|n| n.contains("养老") || n.contains("医疗") || n.contains("保险")), "{found:?}");
    // The first result is a big button on screen, above the keys.
    let first = k.control(&found[0]);
    assert!(first.size().height >= 60.0 && first.size().width >= 60.0, "{:?}", first.size());
    k.tap(&found[0]);
    k.wait_screen(ui::Screen::Guide);
    assert_eq!(k.window.global::<ui::Visit>().get_item_name(), "城乡居民基本养老保险参保登记");
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Closed, "the keyboard went with the search screen");
    k.shot("guide");
    // 返回: every result as tiles, the keyboard down; 改一改 brings it back with the text.
    k.tap("返回");
    k.wait_screen(ui::Screen::Search);
    assert!(!k.window.global::<ui::Visit>().get_search_typing());
    assert_eq!(k.window.global::<ui::Keyboard>().get_mode(), ui::KeyboardMode::Closed);
    assert!(k.shows("搜索：ylbx"));
    k.shot("search-list");
    k.tap("改一改");
    k.wait_until("the keyboard again", |w| w.global::<ui::Keyboard>().get_mode() != ui::KeyboardMode::Closed);
    assert_eq!(k.window.global::<ui::Keyboard>().get_text(), "ylbx");
    // 完成 on the keyboard: the whole list.
    k.tap("完成");
    k.wait_until("the list", |w| !w.global::<ui::Visit>().get_search_typing());
    assert_eq!(results(&k)[0], "城乡居民基本养老保险参保登记");
    // 回首页 forgets what was typed.
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);
    open_search(&k);
    assert_eq!(k.window.global::<ui::Visit>().get_search_query(), "");
    assert_eq!(k.window.global::<ui::Keyboard>().get_text(), "");
    k.finish();
}

#[test]
fn an_item_code_typed_on_the_keys_finds_its_item_and_nonsense_offers_browsing() {
    let mut k = Kiosk::start("search-code", false, Duration::from_secs(600));
    open_search(&k);
    type_keys(&k, "620000RS0001");
    k.wait_until("the code", |w| w.global::<ui::Visit>().get_search_query().eq_ignore_ascii_case("620000RS0001"));
    k.shot("search-code");
    assert_eq!(results(&k)[0], "社会保障卡申领");
    k.tap("社会保障卡申领");
    k.wait_screen(ui::Screen::Guide);
    assert_eq!(k.window.global::<ui::Visit>().get_item_name(), "社会保障卡申领");
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // Nothing found: said plainly, with browsing by theme and by department.
    open_search(&k);
    type_keys(&k, "qqzz");
    k.wait_until("nothing", |w| w.global::<ui::Visit>().get_search_nothing());
    assert!(k.shows("没有找到「qqzz」"));
    k.shot("search-nothing");
    k.tap("按部门找");
    k.wait_screen(ui::Screen::Services);
    assert!(k.shows("请选择办事的部门"));
    k.shot("departments");
    k.tap_paged("县民政局");
    k.wait_until("the department's items", |w| w.global::<ui::Visit>().get_services_heading() == "县民政局");
    k.shot("department");
    let items = results(&k);
    assert!(items.len() >= 5, "{items:?}");
    k.tap_paged(&items[0]);
    k.wait_screen(ui::Screen::Guide);
    k.finish();
}
