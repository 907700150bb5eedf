//! The place picker (issue 14) in every language, normal and large text:
//! PNGs `place-<lang>-<step>-<size>.png` of the county step, the village
//! step of the terminal's township and the detail step; big buttons, the
//! path as breadcrumbs, nothing cut off, Kazakh mirrored.

use model::divisions;
use model::place::{names_of, short_name};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{KioskWindow, PlaceOption, PlacePicker, PlaceStep, Screen};

use ui::testing::{control as one, controls, settle};

use super::{go, sample_window, snapshot};

/// One step as kiosk's place_glue shows it: a page of the real divisions.
fn show(ui: &KioskWindow, step: PlaceStep) {
    let large = ui.global::<ui::Theme>().get_large_text();
    let (columns, rows) = if large { (3, 3) } else { (4, 3) };
    let pp = ui.global::<PlacePicker>();
    let (crumbs, options): (Vec<String>, Vec<PlaceOption>) = match step {
        PlaceStep::County => (
            vec!["甘肃省".into()],
            divisions::gansu_counties().iter().map(|d| PlaceOption { code: d.code.into(), name: d.name.into() }).collect(),
        ),
        PlaceStep::Township => (
            vec!["甘肃省".into(), "东乡族自治县".into()],
            divisions::gansu_townships("622926").iter().map(|d| PlaceOption { code: d.code.into(), name: d.name.into() }).collect(),
        ),
        _ => (
            vec!["甘肃省".into(), "东乡族自治县".into(), "锁南镇".into()],
            divisions::gansu_villages("622926100")
                .iter()
                .map(|d| PlaceOption { code: d.code.into(), name: short_name(d.name).into() })
                .collect(),
        ),
    };
    let mut crumbs = crumbs;
    if step == PlaceStep::Detail {
        crumbs.push("巴牙村".into());
    }
    let pages = options.len().div_ceil(columns * rows) as i32;
    let page: Vec<PlaceOption> = options.into_iter().take(columns * rows).collect();
    pp.set_field_label("住址".into());
    pp.set_crumbs(ModelRc::new(VecModel::from(crumbs.into_iter().map(SharedString::from).collect::<Vec<_>>())));
    pp.set_options(ModelRc::new(VecModel::from(page)));
    pp.set_columns(columns as i32);
    pp.set_page(0);
    pp.set_pages(pages);
    pp.set_detail(if step == PlaceStep::Detail { "5社8号".into() } else { SharedString::new() });
    pp.set_chosen(names_of("622926100202").map(|n| n.joined()).unwrap_or_default().into());
    pp.set_step(step);
    settle();
}

#[test]
fn the_place_picker_in_every_language_normal_and_large() {
    let (ui, _log) = sample_window();
    go(&ui, Screen::Form);
    let theme = ui.global::<ui::Theme>();
    let (width, height) = (ui.window().size().width as f32 / ui.window().scale_factor(), ui.window().size().height as f32 / ui.window().scale_factor());
    for lang in ["zh-CN", "bo", "kk", "en"] {
        ui::set_language(&ui, lang);
        for large in [false, true] {
            theme.set_large_text(large);
            let size = if large { "large" } else { "normal" };
            for (step, name) in [(PlaceStep::County, "county"), (PlaceStep::Township, "township"), (PlaceStep::Village, "village"), (PlaceStep::Detail, "detail")] {
                show(&ui, step);
                snapshot(&ui, &format!("place-{lang}-{name}-{size}"));
                // Every choice, crumb and button: big, and wholly on screen.
                let options = ui.global::<PlacePicker>().get_options();
                let shown = if step == PlaceStep::Detail { 0 } else { slint::Model::row_count(&options) };
                let mut labels: Vec<String> = (0..shown)
                    .filter_map(|i| slint::Model::row_data(&options, i))
                    .map(|o| o.name.to_string())
                    .collect();
                labels.extend(["上一级", "关闭"].map(|m| ui::i18n::tr(lang, m)));
                if step == PlaceStep::Detail {
                    labels.push(ui::i18n::tr(lang, "确定"));
                } else {
                    labels.push(ui::i18n::tr(lang, "下一页"));
                }
                for label in &labels {
                    let e = one(&ui, label);
                    let (s, p) = (e.size(), e.absolute_position());
                    assert!(s.width >= 60.0 && s.height >= 60.0, "{lang} {name} {size}: {label} is {s:?}");
                    assert!(p.x >= 0.0 && p.y >= 0.0 && p.x + s.width <= width + 0.5 && p.y + s.height <= height + 0.5, "{lang} {name} {size}: {label} at {p:?} {s:?} is cut off");
                }
                let crumbs = controls(&ui, &ui::i18n::tr(lang, "回到 {}").replace("{}", "甘肃省"));
                assert_eq!(crumbs.len(), 1, "{lang} {name}: the province is a breadcrumb");
                assert!(crumbs[0].size().height >= 60.0);
            }
            // Kazakh reads right to left: the first choice is at the right.
            show(&ui, PlaceStep::County);
            let counties = divisions::gansu_counties();
            let (first, second) = (one(&ui, counties[0].name).absolute_position().x, one(&ui, counties[1].name).absolute_position().x);
            assert_eq!(first > second, lang == "kk", "{lang}: {first} vs {second}");
        }
    }
    ui.global::<PlacePicker>().set_step(PlaceStep::Closed);
    theme.set_large_text(false);
    ui::set_language(&ui, "zh-CN");
}
