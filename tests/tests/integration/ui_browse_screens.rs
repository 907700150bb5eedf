//! Theme browsing, department browsing, a bundle journey and search as the
//! kiosk's screenshots draw them (`kiosk::screenshots::journeys`, shown
//! with `screenshots::stage`, the real session's views), in every language
//! at normal and large text (issue 15). Each screen is written to
//! `<target>/journey/browse-<lang>-<size>/<screen>.png` and checked: every
//! button, tab and key at least 60×60 and wholly on screen (theme chips:
//! reachable with the big arrows), Kazakh mirrored (first tile, result and
//! chip at the right), a list of tiles showing as many rows as fit when
//! there are more (not one row of half-empty tiles), and on the progress
//! screen every part of a bundle brought into view with the big arrows (at
//! the left in Kazakh).

use std::time::Duration;

use i_slint_backend_testing::{self as testing, AccessibleRole, ElementHandle, ElementQuery};
use kiosk::screenshots::{journeys, stage, TERMINAL_ID, TERMINAL_PLACE};
use kiosk::session::View;
use model::Lang;
use ui::slint::ComponentHandle;
use ui::KioskWindow;

use super::harness::{click, shots};

/// The journey screens of issue 15's browsing, bundles and search.
const SCREENS: [&str; 16] = [
    "services",
    "services-theme",
    "departments",
    "department",
    "bundles",
    "bundle-guide",
    "bundle-form",
    "bundle-review",
    "bundle-saved",
    "search",
    "search-typing",
    "search-results",
    "search-code",
    "search-nothing",
    "progress-found",
    "bundle-progress",
];

const WIDTH: f32 = 1280.0;
const HEIGHT: f32 = 800.0;

fn settle(window: &KioskWindow) {
    testing::mock_elapsed_time(Duration::from_millis(50));
    window.window().take_snapshot().expect("snapshot");
}

/// Every tappable element drawn now: buttons, tabs, radio buttons, check boxes.
fn tappable(window: &KioskWindow) -> Vec<ElementHandle> {
    ElementQuery::from_root(window)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter(|e| {
            matches!(e.accessible_role(), Some(AccessibleRole::Button | AccessibleRole::Tab | AccessibleRole::RadioButton | AccessibleRole::Checkbox))
                && e.computed_opacity() > 0.0
        })
        .collect()
}

fn label(e: &ElementHandle) -> String {
    e.accessible_label().unwrap_or_default().to_string()
}

/// The controls of the screen shown (not the settings bar or header) with this label.
fn one(window: &KioskWindow, role: AccessibleRole, text: &str) -> Option<ElementHandle> {
    tappable(window).into_iter().find(|e| e.accessible_role() == Some(role) && label(e) == text)
}

/// x of the first and second of these elements, by label.
fn xs(window: &KioskWindow, role: AccessibleRole, first: &str, second: &str) -> Option<(f32, f32)> {
    Some((one(window, role, first)?.absolute_position().x, one(window, role, second)?.absolute_position().x))
}

/// Every chip of the row can be brought wholly between the arrows by
/// tapping the forward arrow, in order; returns how many taps the last needed.
fn every_chip_reachable(window: &KioskWindow, lang: Lang, view: &View, problems: &mut Vec<String>, what: &str) -> usize {
    let more = ui::i18n::tr(lang.code(), "更多类别");
    let back = ui::i18n::tr(lang.code(), "前面的类别");
    let mut taps = 0;
    for chip in &view.themes {
        let mut ok = false;
        let mut seen = String::new();
        for _ in 0..12 {
            // The row's visible part: between the arrows, or the screen.
            let arrows: Vec<ElementHandle> = tappable(window).into_iter().filter(|a| label(a) == more || label(a) == back).collect();
            let left = arrows.iter().map(|a| a.absolute_position().x + a.size().width).filter(|x| *x < WIDTH / 2.0).fold(0.0f32, f32::max);
            let right = arrows.iter().map(|a| a.absolute_position().x).filter(|x| *x > WIDTH / 2.0).fold(WIDTH, f32::min);
            if let Some(e) = one(window, AccessibleRole::RadioButton, &chip.name) {
                let (p, s) = (e.absolute_position(), e.size());
                seen = format!("at {} w {} between {left} and {right} after {taps} taps", p.x, s.width);
                if p.x >= left - 0.5 && p.x + s.width <= right + 0.5 {
                    ok = s.height >= 59.5 && s.width >= 59.5;
                    break;
                }
            } else {
                seen = format!("not drawn after {taps} taps");
            }
            if controls_enabled(window, &more) {
                click(window, &more);
                settle(window);
                taps += 1;
            } else {
                break;
            }
        }
        if !ok {
            problems.push(format!("{what}: the chip {:?} cannot be brought wholly on screen ({seen})", chip.name));
        }
    }
    // Back to the start for the next screen.
    while controls_enabled(window, &back) {
        click(window, &back);
        settle(window);
    }
    taps
}

/// Every part of every filing on the progress screen can be brought wholly
/// into the list's view by tapping 往下翻, in order; returns how many taps
/// the last needed (the list is left there). Also: the arrows at the
/// reading end (left in Kazakh).
fn every_part_reachable(window: &KioskWindow, lang: Lang, view: &View, problems: &mut Vec<String>, what: &str) -> usize {
    let down = ui::i18n::tr(lang.code(), "往下翻");
    let up = ui::i18n::tr(lang.code(), "往上翻");
    let list_label = ui::i18n::tr(lang.code(), "办理进度");
    let list = || {
        ElementQuery::from_root(window)
            .match_descendants()
            .find_all()
            .into_iter()
            .find(|e| e.accessible_role() == Some(AccessibleRole::List) && label(e) == list_label)
    };
    let Some(first) = list() else {
        problems.push(format!("{what}: no list of filings"));
        return 0;
    };
    if let Some(arrow) = tappable(window).into_iter().find(|a| label(a) == down) {
        let (l, a) = (first.absolute_position().x + first.size().width / 2.0, arrow.absolute_position().x);
        if (a < l) != (lang == Lang::Kk) {
            problems.push(format!("{what}: the arrows are at x {a}, the list's middle at {l}: not at the reading end"));
        }
    }
    let mut taps = 0;
    for part in view.lookup_rows.iter().flat_map(|r| &r.parts) {
        let mut ok = false;
        let mut seen = String::new();
        for _ in 0..12 {
            let Some(l) = list() else { break };
            let (top, bottom) = (l.absolute_position().y, l.absolute_position().y + l.size().height);
            let line = ElementQuery::from_root(window)
                .match_descendants()
                .find_all()
                .into_iter()
                .find(|e| e.accessible_role() == Some(AccessibleRole::Text) && label(e) == part.item && e.accessible_value().is_some_and(|v| v.as_str() == part.status));
            match line {
                Some(e) => {
                    let (y, h) = (e.absolute_position().y, e.size().height);
                    seen = format!("at y {y} h {h}, the list from {top} to {bottom}, after {taps} taps");
                    if y >= top - 0.5 && y + h <= bottom + 0.5 && h > 1.0 {
                        ok = true;
                        break;
                    }
                }
                None => seen = format!("not drawn after {taps} taps"),
            }
            if controls_enabled(window, &down) {
                click(window, &down);
                settle(window);
                taps += 1;
            } else {
                break;
            }
        }
        if !ok {
            problems.push(format!("{what}: the part {:?} cannot be brought wholly into view ({seen})", part.item));
        }
    }
    // Having slid down, the villager can slide back up.
    if taps > 0 && !controls_enabled(window, &up) {
        problems.push(format!("{what}: after {taps} taps down, {up} cannot be tapped"));
    }
    taps
}

/// Back to the top of the progress list.
fn slide_back(window: &KioskWindow, lang: Lang) {
    let up = ui::i18n::tr(lang.code(), "往上翻");
    while controls_enabled(window, &up) {
        click(window, &up);
        settle(window);
    }
}

/// A list of tiles with more items than it shows must show as many rows as
/// fit: one more row of tiles at their least height (two lines of name, or
/// one and the office line, as the screen counts them) must not fit in the
/// space its rows take. Caught Kazakh and Tibetan showing one row of two
/// tiles, each half empty, on 59 pages. Line heights are measured: the
/// office line (one line of small text) drawn in a tile, the name's line
/// from it (names are 0.95 × 30 px against 20 px).
fn tiles_fill_their_space(window: &KioskWindow, view: &View, problems: &mut Vec<String>, what: &str) {
    let shown: Vec<ElementHandle> = tappable(window)
        .into_iter()
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Button) && view.services.iter().any(|t| t.name == label(e)))
        .collect();
    // Tiles of other pages are in the tree too, hidden at the same places:
    // a page holds as many tiles as there are places.
    let mut places: Vec<(i32, i32)> = shown.iter().map(|e| (e.absolute_position().x.round() as i32, e.absolute_position().y.round() as i32)).collect();
    places.sort_unstable();
    places.dedup();
    if places.is_empty() || places.len() >= view.services.len() {
        return;
    }
    let top = shown.iter().map(|e| e.absolute_position().y).fold(f32::MAX, f32::min);
    let bottom = shown.iter().map(|e| e.absolute_position().y + e.size().height).fold(0.0, f32::max);
    let mut row_tops: Vec<f32> = shown.iter().map(|e| e.absolute_position().y.round()).collect();
    row_tops.sort_by(f32::total_cmp);
    row_tops.dedup();
    let rows = row_tops.len() as f32;
    let texts: Vec<ElementHandle> = ElementQuery::from_root(window)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Text))
        .collect();
    let office = view.services.iter().filter(|t| !t.department.is_empty()).find_map(|t| {
        let tile = shown.iter().find(|e| label(e) == t.name)?;
        let (tp, ts) = (tile.absolute_position(), tile.size());
        texts
            .iter()
            .find(|x| {
                let p = x.absolute_position();
                label(x).starts_with(&t.department) && p.y >= tp.y && p.y <= tp.y + ts.height && p.x >= tp.x - 0.5 && p.x <= tp.x + ts.width
            })
            .map(|x| x.size().height)
    });
    let Some(office) = office else {
        // Every tile shown gave up its office line: they are at their least already.
        return;
    };
    let name = office * 0.95 * 30.0 / 20.0;
    let need = (2.0 * name).max(name + 2.0 + office) + 16.0;
    let gap = 16.0;
    if rows < 3.0 && (rows + 1.0) * need + rows * gap <= bottom - top + 0.5 {
        problems.push(format!(
            "{what}: {} of {} tiles a page in {rows} row(s) over {} px, where {} rows of {need} px fit",
            places.len(),
            view.services.len(),
            bottom - top,
            rows + 1.0
        ));
    }
}

/// A tile's office line stays in its column and ends in "…" when it is too
/// long, in every language: the strip between the column and the chevron
/// (left of the column in Kazakh, right of it otherwise) is bare tile
/// along the office line, in the pixels drawn. Slint 1.18 does not elide
/// right-to-left text; Kazakh office lines used to spill over that strip
/// and be cut at the tile's edge with no "…" (`OneLine` in ui/widgets.slint).
/// Answers how many office lines were elided with a "…" drawn for it.
fn office_lines_stay_in_their_column(window: &KioskWindow, view: &View, rtl: bool, problems: &mut Vec<String>, what: &str) -> usize {
    let shot = window.window().take_snapshot().expect("snapshot");
    let (w, px) = (shot.width() as usize, shot.as_slice());
    let at = |x: f32, y: f32| px[y as usize * w + x as usize];
    let elements = ElementQuery::from_root(window).match_descendants().find_all();
    let texts: Vec<&ElementHandle> = elements.iter().filter(|e| e.accessible_role() == Some(AccessibleRole::Text) && e.computed_opacity() > 0.0).collect();
    let inside = |e: &ElementHandle, tile: &ElementHandle| {
        let (p, tp, ts) = (e.absolute_position(), tile.absolute_position(), tile.size());
        p.x >= tp.x - 0.5 && p.x <= tp.x + ts.width && p.y >= tp.y - 0.5 && p.y <= tp.y + ts.height
    };
    let mut elided = 0;
    for t in view.services.iter().filter(|t| t.enabled && !t.department.is_empty()) {
        let Some(tile) = tappable(window).into_iter().find(|e| e.accessible_role() == Some(AccessibleRole::Button) && label(e) == t.name) else { continue };
        let (tp, ts) = (tile.absolute_position(), tile.size());
        if tp.x < 0.0 || tp.y < 0.0 || tp.x + ts.width > WIDTH || tp.y + ts.height > HEIGHT {
            continue;
        }
        let Some(name) = texts.iter().find(|e| label(e) == t.name && inside(e, &tile)) else { continue };
        let Some(office) = texts.iter().find(|e| label(e).starts_with(&t.department) && inside(e, &tile)) else { continue };
        let (np, ns, op, os) = (name.absolute_position(), name.size(), office.absolute_position(), office.size());
        // The 14 px between the column and the chevron, less a pixel each side.
        let strip = if rtl { (np.x - 13.0, np.x - 1.0) } else { (np.x + ns.width + 1.0, np.x + ns.width + 13.0) };
        let bare = at(strip.0 + 6.0, tp.y + 6.0);
        let mut x = strip.0;
        'strip: while x < strip.1 {
            let mut y = op.y + 1.0;
            while y < op.y + os.height - 1.0 {
                let p = at(x, y);
                let off = (i16::from(p.r) - i16::from(bare.r)).abs() + (i16::from(p.g) - i16::from(bare.g)).abs() + (i16::from(p.b) - i16::from(bare.b)).abs();
                if off > 24 {
                    problems.push(format!("{what}: the office line of {:?} is drawn outside its column at {x},{y}", t.name));
                    break 'strip;
                }
                y += 1.0;
            }
            x += 1.0;
        }
        let dots = texts.iter().any(|e| label(e) == "…" && inside(e, &tile));
        if if rtl { dots } else { office.accessible_description().is_some_and(|d| d == "text-elided") } {
            elided += 1;
        }
    }
    elided
}

fn controls_enabled(window: &KioskWindow, text: &str) -> bool {
    tappable(window).iter().any(|e| label(e) == text && e.accessible_enabled() != Some(false))
}

#[test]
fn browsing_bundles_and_search_in_every_language_and_size() {
    super::harness::testing_backend();
    let window = KioskWindow::new().unwrap();
    window.window().set_size(ui::slint::PhysicalSize::new(WIDTH as u32, HEIGHT as u32));
    window.global::<ui::Frame>().set_terminal_label(TERMINAL_PLACE.into());
    window.global::<ui::Frame>().set_terminal_id(TERMINAL_ID.into());
    kiosk::ui_glue::set_link_status(&window, kiosk::app::LinkStatus { online: Some(true), unsent: 0 });
    window.show().unwrap();

    let mut problems = Vec::new();
    let mut written = 0;
    let mut scrolled = Vec::new();
    let mut slid = Vec::new();
    let mut kazakh_elided = 0;
    for lang in Lang::ALL {
        for large in [false, true] {
            let size = if large { "large" } else { "normal" };
            let shots = shots(&format!("browse-{}-{size}", lang.code()));
            let rtl = lang == Lang::Kk;
            for (name, view) in journeys(lang, large, false).into_iter().filter(|(n, _)| SCREENS.contains(n)) {
                let what = format!("{lang} {size} {name}");
                stage(&window, &view);
                settle(&window);
                shots.named(&window, &format!("{name}.png"));
                written += 1;
                for e in tappable(&window) {
                    // Chips slide along their row: checked below, by reaching each.
                    if e.accessible_role() == Some(AccessibleRole::RadioButton) && view.themes.iter().any(|t| t.name == label(&e)) {
                        continue;
                    }
                    let (p, s) = (e.absolute_position(), e.size());
                    if s.width < 59.5 || s.height < 59.5 {
                        problems.push(format!("{what}: {:?} is {}×{}", label(&e), s.width, s.height));
                    }
                    if p.x < -0.5 || p.y < -0.5 || p.x + s.width > WIDTH + 0.5 || p.y + s.height > HEIGHT + 0.5 {
                        problems.push(format!("{what}: {:?} at {},{} {}×{} is cut off", label(&e), p.x, p.y, s.width, s.height));
                    }
                }
                // Right to left in Kazakh: the first tile, result or chip at the right.
                let pairs: Vec<(AccessibleRole, &str, &str)> = match name {
                    "search-typing" | "search-results" | "services" | "departments" | "department" if view.services.len() >= 2 => {
                        vec![(AccessibleRole::Button, view.services[0].name.as_str(), view.services[1].name.as_str())]
                    }
                    _ => Vec::new(),
                }
                .into_iter()
                .chain((view.themes.len() >= 2).then(|| (AccessibleRole::RadioButton, view.themes[0].name.as_str(), view.themes[1].name.as_str())))
                .collect();
                for (role, first, second) in pairs {
                    match xs(&window, role, first, second) {
                        Some((a, b)) if (a > b) == rtl => {}
                        found => problems.push(format!("{what}: {first:?} then {second:?} at {found:?}, mirrored: {rtl}")),
                    }
                }
                tiles_fill_their_space(&window, &view, &mut problems, &what);
                let cut = office_lines_stay_in_their_column(&window, &view, rtl, &mut problems, &what);
                if rtl && cut > 0 {
                    kazakh_elided += cut;
                }
                if !view.themes.is_empty() {
                    let taps = every_chip_reachable(&window, lang, &view, &mut problems, &what);
                    if taps > 0 {
                        scrolled.push(format!("{what}: {taps}"));
                    }
                }
                if view.lookup_rows.iter().any(|r| !r.parts.is_empty()) {
                    let taps = every_part_reachable(&window, lang, &view, &mut problems, &what);
                    if taps > 0 {
                        // Where the arrows end: to look at.
                        shots.named(&window, &format!("{name}-end.png"));
                        slid.push(format!("{what}: {taps}"));
                    }
                    slide_back(&window, lang);
                }
            }
        }
    }
    assert_eq!(written, Lang::ALL.len() * 2 * SCREENS.len(), "every screen in every language and size");
    // The row does not fit everywhere: the arrows were needed and worked.
    assert!(!scrolled.is_empty(), "no chip row needed its arrows");
    eprintln!("chip rows slid with the arrows: {scrolled:?}");
    // A bundle's part list is longer than the screen somewhere (large text).
    assert!(!slid.is_empty(), "no progress list needed its arrows");
    eprintln!("progress lists slid with the arrows: {slid:?}");
    // Kazakh office lines are long: some end in "…" (drawn, at the left).
    assert!(kazakh_elided > 0, "no Kazakh office line was elided");
    eprintln!("Kazakh office lines ending in \"…\": {kazakh_elided}");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
