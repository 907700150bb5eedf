//! No text is cut off, at large-text scale, in any language, on any screen of
//! the villager journeys. Tibetan stacks tall and Kazakh runs right to left
//! in another font, so each language lays out differently.
//!
//! Every text on screen is a `Label` (ui/widgets.slint), which measures its
//! words against its own box and says "text-overflow" in its accessible
//! description when they do not fit (or "text-elided" when they end in "…").
//! The screens are the real session's views (`kiosk::screenshots::journeys`).

use std::time::Duration;

use i_slint_backend_testing::{self as testing, ElementHandle, ElementQuery};
use kiosk::screenshots::{journeys, TERMINAL_ID, TERMINAL_PLACE};
use kiosk::session::View;
use kiosk::ui_glue;
use model::Lang;
use ui::slint::ComponentHandle;
use ui::KioskWindow;

/// Texts allowed to end in "…": names and lines that may be any length
/// (catalog data, the place name) and one hint.
fn may_elide(lang: Lang, view: &View, text: &str) -> bool {
    let tr = |id: &str| ui::i18n::tr(lang.code(), id);
    text.starts_with(TERMINAL_PLACE)
        || view.services.iter().any(|t| {
            text == t.name || text.contains(&t.department) || text.ends_with(&t.note) && !t.note.is_empty()
        })
        || text == tr("也可以把事项二维码对准扫码口")
        || text == tr("网络正常")
}

#[test]
fn no_text_overflows_at_large_text_in_any_language() {
    super::harness::testing_backend();
    let window = KioskWindow::new().unwrap();
    window.window().set_size(ui::slint::PhysicalSize::new(1280, 800));
    window.global::<ui::Frame>().set_terminal_label(TERMINAL_PLACE.into());
    window.global::<ui::Frame>().set_terminal_id(TERMINAL_ID.into());
    ui_glue::set_link_status(&window, kiosk::app::LinkStatus { online: Some(true), unsent: 0 });
    window.show().unwrap();

    let mut problems = Vec::new();
    let mut checked = 0;
    for lang in Lang::ALL {
        for large in [true, false] {
            for (screen, view) in journeys(lang, large, false) {
                kiosk::screenshots::stage(&window, &view);
                // Lay out and draw, so conditional parts exist and have their size.
                testing::mock_elapsed_time(Duration::from_millis(50));
                window.window().take_snapshot().unwrap();
                for e in ElementQuery::from_root(&window).match_descendants().find_all() {
                    let Some(state) = e.accessible_description() else { continue };
                    if !state.starts_with("text-") {
                        continue;
                    }
                    let text = e.accessible_label().unwrap_or_default().to_string();
                    let elided_ok = state == "text-elided" && may_elide(lang, &view, &text);
                    // SHOW_TEXT_STATES=1 lists every elided text too, for a look.
                    if std::env::var_os("SHOW_TEXT_STATES").is_some() {
                        eprintln!("{lang} {large} {screen} {state} {text:?}");
                    }
                    if !elided_ok && e.computed_opacity() > 0.0 {
                        let size = e.size();
                        problems.push(format!(
                            "{lang}{} {screen}: {state} {text:?} in {}×{}",
                            if large { " large" } else { "" },
                            size.width,
                            size.height
                        ));
                    }
                }
                checked += texts_on(&window);
            }
        }
    }
    assert!(checked > 2000, "the walk saw the texts: {checked}");
    assert!(problems.is_empty(), "{} texts do not fit:\n{}", problems.len(), problems.join("\n"));
}

fn texts_on(window: &KioskWindow) -> usize {
    ElementHandle::find_by_element_type_name(window, "Label").count()
}
