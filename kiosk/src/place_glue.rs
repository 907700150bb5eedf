//! The place picker (issue 14): binds the `PlacePicker` global to the
//! division list (`model::divisions`, all 17,718 Gansu villages). It opens
//! at the villages of the terminal's own township, so a villager of the
//! service point's township taps their village and 确定; anyone else goes
//! back along the breadcrumbs to another township or county. The rest of
//! the address (group, house number) is typed on the on-screen keyboard.
//!
//! Like the keyboard, the state lives in a thread-local on the UI thread;
//! what is typed is zeroised when the picker closes and never logged.

use std::cell::RefCell;

use model::divisions::{self, Division};
use model::place::{short_name, Place};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{Keyboard, KioskWindow, PlaceOption, PlacePicker, PlaceStep};
use zeroize::Zeroizing;

/// The key the keyboard is opened with for the detail: its `done` hands
/// the text back here (`PlacePicker.detail-typed`), not to the form. No
/// catalog field key has a space.
pub const DETAIL_KEY: &str = "place picker detail";

#[derive(Default)]
struct State {
    /// The terminal's own village: where the picker starts.
    home: Option<String>,
    field: String,
    label: String,
    step: Step,
    county: Option<Division>,
    township: Option<Division>,
    village: Option<Division>,
    page: usize,
    detail: Zeroizing<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Step {
    #[default]
    Closed,
    County,
    Township,
    Village,
    Detail,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

/// Connects the `PlacePicker` global. `home`: the terminal's village code
/// (from its configuration); a code outside Gansu starts at the counties.
pub fn wire(w: &KioskWindow, home: Option<&str>) {
    let home = home.filter(|c| model::place::names_of(c).is_some()).map(str::to_owned);
    STATE.with(|s| *s.borrow_mut() = Some(State { home, ..State::default() }));
    let pp = w.global::<PlacePicker>();
    let weak = w.as_weak();
    let on = move |f: fn(&KioskWindow)| {
        let weak = weak.clone();
        move || {
            if let Some(w) = weak.upgrade() {
                f(&w);
            }
        }
    };
    let weak = w.as_weak();
    pp.on_open(move |key, label| {
        if let Some(w) = weak.upgrade() {
            open(&w, &key, &label);
        }
    });
    let weak = w.as_weak();
    pp.on_choose(move |code| {
        if let Some(w) = weak.upgrade() {
            with(|s| choose(s, &code));
            show(&w);
        }
    });
    let weak = w.as_weak();
    pp.on_turn(move |by| {
        if let Some(w) = weak.upgrade() {
            with(|s| s.page = s.page.saturating_add_signed(by as isize));
            show(&w);
        }
    });
    let weak = w.as_weak();
    pp.on_crumb(move |i| {
        if let Some(w) = weak.upgrade() {
            with(|s| back_to(s, i.max(0) as usize));
            show(&w);
        }
    });
    pp.on_up(on(|w| {
        with(|s| {
            let depth = s.crumbs().len();
            back_to(s, depth.saturating_sub(2));
        });
        show(w);
    }));
    pp.on_type_detail(on(|w| {
        let Some((label, detail)) = with(|s| (s.label.clone(), s.detail.to_string())) else { return };
        let lang = w.global::<ui::Theme>().get_lang();
        let label = format!("{label} · {}", ui::i18n::tr(&lang, "组、门牌号"));
        w.global::<Keyboard>().invoke_open(DETAIL_KEY.into(), label.into(), detail.into(), false);
    }));
    let weak = w.as_weak();
    pp.on_detail_typed(move |text| {
        if let Some(w) = weak.upgrade() {
            with(|s| *s.detail = text.trim().to_owned());
            show(&w);
        }
    });
    pp.on_done(on(done));
    pp.on_close(on(close));
}

impl State {
    /// The names along the path, province first, as the breadcrumbs show them.
    fn crumbs(&self) -> Vec<String> {
        // The province is data (division names are official Chinese names, not translated).
        let mut out = vec![divisions::province_name("62").unwrap_or_default().to_owned()];
        out.extend(self.county.map(|d| d.name.to_owned()));
        out.extend(self.township.map(|d| d.name.to_owned()));
        out.extend(self.village.map(|d| short_name(d.name)));
        out
    }

    /// The choices of the current step, in code order.
    fn options(&self) -> Vec<Division> {
        match (self.step, self.county, self.township) {
            (Step::County, ..) => divisions::gansu_counties(),
            (Step::Township, Some(c), _) => divisions::gansu_townships(c.code),
            (Step::Village, _, Some(t)) => divisions::gansu_villages(t.code),
            _ => Vec::new(),
        }
    }
}

fn open(w: &KioskWindow, key: &str, label: &str) {
    with(|s| {
        s.field = key.to_owned();
        s.label = label.to_owned();
        s.detail = Zeroizing::default();
        s.page = 0;
        s.village = None;
        // The service point's own township: most villagers live there.
        let home = s.home.clone();
        match home.as_deref() {
            Some(code) => {
                s.county = divisions::gansu_counties().into_iter().find(|c| c.code == &code[..6]);
                s.township = divisions::gansu_townships(&code[..6]).into_iter().find(|t| t.code == &code[..9]);
                s.step = Step::Village;
            }
            None => {
                s.county = None;
                s.township = None;
                s.step = Step::County;
            }
        }
    });
    show(w);
}

fn choose(s: &mut State, code: &str) {
    let Some(picked) = s.options().into_iter().find(|d| d.code == code) else { return };
    s.page = 0;
    match s.step {
        Step::County => {
            s.county = Some(picked);
            s.step = Step::Township;
        }
        Step::Township => {
            s.township = Some(picked);
            s.step = Step::Village;
        }
        Step::Village => {
            s.village = Some(picked);
            s.step = Step::Detail;
        }
        Step::Detail | Step::Closed => {}
    }
}

/// Back to the choice made under breadcrumb `i` (0: the province, so the
/// counties); what was chosen below it is dropped.
fn back_to(s: &mut State, i: usize) {
    if s.step == Step::Closed {
        return;
    }
    s.page = 0;
    if i < 3 {
        s.village = None;
    }
    if i < 2 {
        s.township = None;
    }
    if i < 1 {
        s.county = None;
    }
    s.step = match i {
        0 => Step::County,
        1 => Step::Township,
        2 => Step::Village,
        _ => Step::Detail,
    };
}

fn done(w: &KioskWindow) {
    let picked = with(|s| {
        let place = s.village.map(|v| Place { code: v.code.to_owned(), detail: s.detail.to_string() });
        (std::mem::take(&mut s.field), place)
    });
    close(w);
    if let Some((field, Some(place))) = picked {
        let value = Zeroizing::new(place.encode());
        w.global::<ui::Visit>().invoke_field_edited(field.into(), value.as_str().into());
    }
}

/// Closes the picker keeping nothing: 关闭, or the visit left the form.
pub fn close(w: &KioskWindow) {
    let pp = w.global::<PlacePicker>();
    if pp.get_step() == PlaceStep::Closed {
        return;
    }
    with(|s| {
        s.step = Step::Closed;
        s.field.clear();
        s.detail = Zeroizing::default();
        s.county = None;
        s.township = None;
        s.village = None;
    });
    pp.set_step(PlaceStep::Closed);
    pp.set_detail(SharedString::new());
    pp.set_chosen(SharedString::new());
    pp.set_options(ModelRc::default());
    pp.set_crumbs(ModelRc::default());
}

/// Buttons per page: four columns of three rows; three of three in large text.
fn grid(large_text: bool) -> (usize, usize) {
    if large_text {
        (3, 3)
    } else {
        (4, 3)
    }
}

fn show(w: &KioskWindow) {
    let (columns, rows) = grid(w.global::<ui::Theme>().get_large_text());
    let per_page = columns * rows;
    let Some((step, crumbs, options, page, pages, detail, chosen)) = with(|s| {
        let all = s.options();
        let pages = all.len().div_ceil(per_page).max(1);
        s.page = s.page.min(pages - 1);
        let options: Vec<PlaceOption> = all
            .iter()
            .skip(s.page * per_page)
            .take(per_page)
            .map(|d| PlaceOption {
                code: d.code.into(),
                name: if s.step == Step::Village { short_name(d.name) } else { d.name.to_owned() }.into(),
            })
            .collect();
        let chosen = s.village.and_then(|v| model::place::names_of(v.code)).map(|n| n.joined()).unwrap_or_default();
        let step = match s.step {
            Step::Closed => PlaceStep::Closed,
            Step::County => PlaceStep::County,
            Step::Township => PlaceStep::Township,
            Step::Village => PlaceStep::Village,
            Step::Detail => PlaceStep::Detail,
        };
        (step, s.crumbs(), options, s.page, pages, s.detail.to_string(), chosen)
    }) else {
        return;
    };
    let pp = w.global::<PlacePicker>();
    pp.set_field_label(with(|s| s.label.clone()).unwrap_or_default().into());
    pp.set_crumbs(ModelRc::new(VecModel::from(crumbs.into_iter().map(SharedString::from).collect::<Vec<_>>())));
    pp.set_options(ModelRc::new(VecModel::from(options)));
    pp.set_columns(columns as i32);
    pp.set_page(page as i32);
    pp.set_pages(pages as i32);
    pp.set_detail(detail.into());
    pp.set_chosen(chosen.into());
    pp.set_step(step);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_goes_down_and_back_along_the_breadcrumbs() {
        let mut s = State { step: Step::County, ..State::default() };
        choose(&mut s, "622926");
        assert_eq!((s.step, s.crumbs()), (Step::Township, vec!["甘肃省".to_owned(), "东乡族自治县".to_owned()]));
        choose(&mut s, "622926100");
        choose(&mut s, "622926100202");
        assert_eq!(s.step, Step::Detail);
        assert_eq!(s.crumbs().last().map(String::as_str), Some("巴牙村"));
        // A code not among the choices changes nothing.
        choose(&mut s, "620102001001");
        assert_eq!(s.step, Step::Detail);
        back_to(&mut s, 1);
        assert_eq!((s.step, s.township, s.village), (Step::Township, None, None));
        assert!(s.options().iter().any(|t| t.name == "锁南镇"));
        back_to(&mut s, 0);
        assert_eq!((s.step, s.crumbs().len(), s.options().len()), (Step::County, 1, divisions::gansu_counties().len()));
    }
}
