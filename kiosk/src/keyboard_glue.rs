//! The on-screen keyboard and the date picker (issue 14): binds the
//! `Keyboard` global to the engines of the textinput crate. Runs on the UI
//! thread; the state lives in a thread-local because the window's view
//! callbacks (which close the keyboard when the visit leaves the form) are
//! sent across threads and cannot carry it.
//!
//! Privacy: what is typed lives in the [`Typist`] (zeroised on drop) and the
//! pinyin engine, both dropped when the keyboard closes; nothing here logs
//! text or key presses. The pinyin engine is opened per keyboard use, so
//! librime's scratch directory is gone as soon as the field is done.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use textinput::layout::{layout, Action, Key, Kind, Typist};
use textinput::{Handwriting, Pinyin, Point, RimePinyin, RimeShared, Stroke, Zinnia};
use tracing::warn;
use ui::{KeyCap, Keyboard, KeyboardMode, KioskWindow};

use crate::voice::Speaker;

/// Handwriting candidates kept per stroke set; shown a page at a time.
const HANDWRITING_CANDIDATES: usize = 24;
const PAGE: usize = 8;

/// The engines, loaded once at start. Either may be missing (logged, and
/// `kioskctl selftest` says so); the other keyboards still work.
#[derive(Clone, Default)]
pub struct Engines {
    /// The handwriting recogniser (zinnia); None: it could not be loaded.
    pub handwriting: Option<Arc<Zinnia>>,
    /// The pinyin engine (librime); None: it could not be loaded.
    pub pinyin: Option<RimeShared>,
}

impl Engines {
    /// Debian's data; librime's prepared schema goes to `data_dir/rime`.
    pub fn load(data_dir: &Path) -> Engines {
        let handwriting = match Zinnia::open(Path::new(textinput::DEBIAN_MODEL)) {
            Ok(z) => Some(Arc::new(z)),
            Err(e) => {
                warn!(error = %e, "handwriting keyboard unavailable");
                None
            }
        };
        let pinyin = match RimeShared::prepare(Path::new(textinput::DEBIAN_RIME_DATA), &data_dir.join("rime")) {
            Ok(p) => Some(p),
            Err(e) => {
                warn!(error = %e, "pinyin keyboard unavailable");
                None
            }
        };
        Engines { handwriting, pinyin }
    }
}

/// The field key of the search screen's query: what is typed there goes to
/// `Visit.search-typed` at every key, not to a form field on 完成.
pub const SEARCH_KEY: &str = "\u{0}search";

#[derive(Default)]
struct State {
    engines: Engines,
    speaker: Option<Arc<dyn Speaker>>,
    field: String,
    /// The search query last handed to the session (typed text).
    searched: zeroize::Zeroizing<String>,
    kind: Option<Kind>,
    keys: Vec<Key>,
    typist: Typist,
    pinyin: Option<RimePinyin>,
    strokes: Vec<Stroke>,
    pen_down: bool,
    written: Vec<String>,
    written_page: usize,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

/// The keys of `kind` as the UI's key caps, rows centred; and the widest row.
pub fn key_caps(kind: Kind) -> (Vec<KeyCap>, usize, Vec<Key>) {
    let rows = layout(kind).rows;
    let named: Vec<Vec<(&str, &str)>> = rows.iter().map(|row| row.iter().map(|k| (k.label, k.spoken.unwrap_or(k.label))).collect()).collect();
    let (caps, columns) = ui::key_caps(&named);
    (caps, columns, rows.iter().flatten().copied().collect())
}

/// Connects the `Keyboard` global. `speaker` reads key names when the
/// villager has reading aloud on.
pub fn wire(w: &KioskWindow, engines: Engines, speaker: Option<Arc<dyn Speaker>>) {
    STATE.with(|s| *s.borrow_mut() = Some(State { engines, speaker, ..State::default() }));
    let kb = w.global::<Keyboard>();
    let weak = w.as_weak();
    let ui = move || weak.upgrade();

    let u = ui.clone();
    kb.on_open(move |key, label, value, is_date| {
        let Some(w) = u() else { return };
        open(&w, &key, &label, &value, is_date);
    });
    let u = ui.clone();
    kb.on_switch_mode(move |mode| {
        if let Some(w) = u() {
            switch(&w, mode);
        }
    });
    let u = ui.clone();
    kb.on_key(move |id| {
        if let Some(w) = u() {
            press(&w, id as usize);
        }
    });
    let u = ui.clone();
    kb.on_backspace(move || {
        if let Some(w) = u() {
            backspace(&w);
        }
    });
    let u = ui.clone();
    kb.on_space(move || {
        if let Some(w) = u() {
            with(|s| match s.pinyin.as_mut().filter(|p| !p.composition().preedit.is_empty()) {
                Some(_) => pick_pinyin(s, 0),
                None => {
                    s.typist.press(Action::Space);
                }
            });
            show(&w);
        }
    });
    let u = ui.clone();
    kb.on_pick(move |i| {
        if let Some(w) = u() {
            pick(&w, i.max(0) as usize);
        }
    });
    let u = ui.clone();
    kb.on_page(move |forward| {
        if let Some(w) = u() {
            with(|s| {
                if let Some(p) = s.pinyin.as_mut() {
                    let _ = p.page(forward);
                } else if forward {
                    s.written_page += 1;
                } else {
                    s.written_page = s.written_page.saturating_sub(1);
                }
            });
            show(&w);
        }
    });
    let u = ui.clone();
    kb.on_pen_point(move |x, y| {
        if let Some(w) = u() {
            with(|s| {
                if !s.pen_down {
                    s.strokes.push(Vec::new());
                    s.pen_down = true;
                }
                if let Some(stroke) = s.strokes.last_mut() {
                    stroke.push(Point { x, y });
                }
            });
            w.global::<Keyboard>().set_pad_strokes(with(|s| svg(&s.strokes)).unwrap_or_default().into());
        }
    });
    let u = ui.clone();
    kb.on_pen_up(move || {
        if let Some(w) = u() {
            with(|s| {
                s.pen_down = false;
                recognise(s);
            });
            show(&w);
        }
    });
    let u = ui.clone();
    kb.on_clear_pad(move || {
        if let Some(w) = u() {
            with(|s| {
                s.strokes.clear();
                s.written.clear();
            });
            show(&w);
        }
    });
    let u = ui;
    kb.on_done(move || {
        if let Some(w) = u() {
            done(&w);
        }
    });
}

/// Follows the visit after each view: the keyboard stays up on the form
/// while a field is typed, opens on the search screen while the villager
/// types there (with what was typed so far), and closes everywhere else,
/// keeping nothing (the visit was cancelled or timed out, or moved on).
pub fn follow(w: &KioskWindow, v: &crate::session::View) {
    use crate::session::Screen;
    let searching = with(|s| s.field == SEARCH_KEY).unwrap_or(false);
    let open = w.global::<Keyboard>().get_mode() != KeyboardMode::Closed;
    match v.screen {
        Screen::Form if !searching => {}
        Screen::Search if v.search_typing => {
            if !open {
                with(|s| s.searched = zeroize::Zeroizing::new(v.search_query.clone()));
                self::open(w, SEARCH_KEY, "", &v.search_query, false);
            }
        }
        _ => close(w),
    }
}

/// Closes the keyboard without keeping anything: the visit left the form
/// (cancelled, timed out).
pub fn close(w: &KioskWindow) {
    if w.global::<Keyboard>().get_mode() == KeyboardMode::Closed {
        return;
    }
    with(|s| {
        s.pinyin = None;
        s.typist = Typist::default();
        s.strokes.clear();
        s.written.clear();
        s.kind = None;
        s.field.clear();
        s.searched = Default::default();
    });
    let kb = w.global::<Keyboard>();
    kb.set_mode(KeyboardMode::Closed);
    kb.set_text(SharedString::new());
    kb.set_preedit(SharedString::new());
    kb.set_candidates(ModelRc::default());
    kb.set_pad_strokes(SharedString::new());
}

fn open(w: &KioskWindow, key: &str, label: &str, value: &str, is_date: bool) {
    let kb = w.global::<Keyboard>();
    kb.set_field_label(label.into());
    with(|s| {
        s.field = key.to_owned();
        s.typist = Typist::new(value);
    });
    if is_date {
        let today = time::OffsetDateTime::now_utc().date();
        let (y, m, d) = parse_date(value).unwrap_or((today.year(), u8::from(today.month()), today.day()));
        kb.set_max_year(today.year());
        kb.set_year(y);
        kb.set_month(i32::from(m));
        kb.set_day(i32::from(d));
        kb.set_mode(KeyboardMode::Date);
        return;
    }
    // The keyboard of the screen's language; Chinese starts with handwriting
    // (many elderly villagers write characters but know no pinyin).
    let lang = w.global::<ui::Theme>().get_lang();
    let mode = match lang.as_str() {
        "bo" => KeyboardMode::Tibetan,
        "kk" => KeyboardMode::Kazakh,
        "en" => KeyboardMode::English,
        _ => KeyboardMode::Handwriting,
    };
    switch(w, mode);
}

fn switch(w: &KioskWindow, mode: KeyboardMode) {
    let kind = match mode {
        KeyboardMode::Pinyin => Some(Kind::Pinyin),
        KeyboardMode::Tibetan => Some(Kind::Tibetan),
        KeyboardMode::Kazakh => Some(Kind::Kazakh),
        KeyboardMode::English => Some(Kind::English),
        KeyboardMode::Digits => Some(Kind::Digits),
        _ => None,
    };
    let kb = w.global::<Keyboard>();
    let (caps, columns, keys) = kind.map(key_caps).unwrap_or_default();
    with(|s| {
        s.kind = kind;
        s.keys = keys;
        s.strokes.clear();
        s.written.clear();
        s.written_page = 0;
        // The pinyin engine lives while its keyboard is up.
        s.pinyin = None;
        if kind == Some(Kind::Pinyin) {
            s.pinyin = s.engines.pinyin.as_ref().and_then(|shared| match shared.open_visit() {
                Ok(p) => Some(p),
                Err(e) => {
                    warn!(error = %e, "pinyin keyboard unavailable");
                    None
                }
            });
        }
    });
    let rows = caps.iter().map(|c| c.row + 1).max().unwrap_or(1);
    kb.set_keys(ModelRc::new(VecModel::from(caps)));
    kb.set_columns(columns.max(1) as i32);
    kb.set_rows(rows);
    kb.set_mode(mode);
    show(w);
}

fn speak(s: &State, w: &KioskWindow, text: &str) {
    if !w.global::<ui::Frame>().get_voice_on() {
        return;
    }
    if let (Some(speaker), Some(lang)) = (&s.speaker, model::Lang::from_code(&w.global::<ui::Theme>().get_lang())) {
        speaker.speak(lang, text);
    }
}

fn press(w: &KioskWindow, id: usize) {
    with(|s| {
        let Some(key) = s.keys.get(id).copied() else { return };
        speak(s, w, key.spoken.unwrap_or(key.label));
        match (s.pinyin.as_mut(), key.action) {
            (Some(p), Action::Insert(letter)) => {
                for ch in letter.chars() {
                    let _ = p.push(ch);
                }
            }
            _ => {
                s.typist.press(key.action);
            }
        }
    });
    show(w);
}

fn backspace(w: &KioskWindow) {
    with(|s| {
        if let Some(p) = s.pinyin.as_mut().filter(|p| !p.composition().preedit.is_empty()) {
            let _ = p.backspace();
        } else if !s.strokes.is_empty() {
            s.strokes.pop();
            recognise(s);
        } else {
            s.typist.press(Action::Backspace);
        }
    });
    show(w);
}

fn pick_pinyin(s: &mut State, i: usize) {
    if let Some(p) = s.pinyin.as_mut() {
        if let Ok(text) = p.pick(i) {
            s.typist.insert(&text);
        }
    }
}

fn pick(w: &KioskWindow, i: usize) {
    with(|s| {
        if s.pinyin.is_some() {
            let shown = s.pinyin.as_ref().map(|p| p.composition().candidates).unwrap_or_default();
            if let Some(c) = shown.get(i) {
                speak(s, w, c);
            }
            pick_pinyin(s, i);
        } else if let Some(c) = s.written.get(s.written_page * PAGE + i).cloned() {
            speak(s, w, &c);
            s.typist.insert(&c);
            s.strokes.clear();
            s.written.clear();
            s.written_page = 0;
        }
    });
    show(w);
}

fn recognise(s: &mut State) {
    s.written_page = 0;
    s.written = match &s.engines.handwriting {
        Some(z) if !s.strokes.is_empty() => z.recognise(&s.strokes, 300, 300, HANDWRITING_CANDIDATES),
        _ => Vec::new(),
    };
}

fn done(w: &KioskWindow) {
    let kb = w.global::<Keyboard>();
    let (field, text) = if kb.get_mode() == KeyboardMode::Date {
        let date = format!("{:04}-{:02}-{:02}", kb.get_year(), kb.get_month(), kb.get_day());
        (with(|s| std::mem::take(&mut s.field)).unwrap_or_default(), date)
    } else {
        // Letters not yet turned into characters are dropped, not guessed;
        // but a search takes them as they are (`ylbx` is a query).
        with(|s| {
            let mut text = s.typist.take();
            if s.field == SEARCH_KEY {
                if let Some(p) = &s.pinyin {
                    text.push_str(&p.composition().preedit);
                }
            }
            (std::mem::take(&mut s.field), text)
        })
        .unwrap_or_default()
    };
    close(w);
    if field == SEARCH_KEY {
        // 完成 on the search screen: the whole list of what was found.
        let visit = w.global::<ui::Visit>();
        // Closed first, so the view of the final text does not reopen it.
        visit.invoke_search_keyboard(false);
        visit.invoke_search_typed(text.as_str().into());
    } else if field == crate::place_glue::DETAIL_KEY {
        // The rest of an address, typed for the place picker under the keyboard.
        w.global::<ui::PlacePicker>().invoke_detail_typed(text.into());
    } else if !field.is_empty() {
        w.global::<ui::Visit>().invoke_field_edited(field.into(), text.into());
    }
}

/// Puts the typist's text, the composition and the candidates on screen.
fn show(w: &KioskWindow) {
    let kb = w.global::<Keyboard>();
    let Some((text, preedit, candidates, back, forward, stacking, shifted, strokes)) = with(|s| {
        let (preedit, candidates, back, forward) = match &s.pinyin {
            Some(p) => {
                let c = p.composition();
                let page = c.page;
                (c.preedit, c.candidates, page > 0, c.has_next_page)
            }
            None => {
                let start = (s.written_page * PAGE).min(s.written.len());
                let end = (start + PAGE).min(s.written.len());
                (String::new(), s.written[start..end].to_vec(), s.written_page > 0, end < s.written.len())
            }
        };
        (s.typist.text().to_owned(), preedit, candidates, back, forward, s.typist.stacking(), s.typist.shifted(), svg(&s.strokes))
    }) else {
        return;
    };
    // The search follows every key: the letters not yet turned into
    // characters count too (`ylbx` is a query, not a composition).
    let query = zeroize::Zeroizing::new(format!("{text}{preedit}"));
    let search_changed = with(|s| {
        let changed = s.field == SEARCH_KEY && *s.searched != *query;
        if changed {
            s.searched = query.clone();
        }
        changed
    })
    .unwrap_or(false);
    kb.set_text(text.into());
    kb.set_preedit(preedit.into());
    let candidates: Vec<SharedString> = candidates.into_iter().map(Into::into).collect();
    kb.set_candidates(ModelRc::new(VecModel::from(candidates)));
    kb.set_can_page_back(back);
    kb.set_can_page_forward(forward);
    kb.set_stacking(stacking);
    kb.set_shifted(shifted);
    kb.set_pad_strokes(strokes.into());
    // Mode keys show whether they are on.
    let caps: Vec<KeyCap> = kb
        .get_keys()
        .iter()
        .map(|mut k| {
            k.toggled = match with(|s| s.keys.get(k.id as usize).map(|key| key.action)).flatten() {
                Some(Action::Stack) => stacking,
                Some(Action::Shift) => shifted,
                _ => false,
            };
            k
        })
        .collect();
    kb.set_keys(ModelRc::new(VecModel::from(caps)));
    if search_changed {
        w.global::<ui::Visit>().invoke_search_typed(query.as_str().into());
    }
}

/// Strokes as SVG path commands for the pad's Path element.
fn svg(strokes: &[Stroke]) -> String {
    let mut out = String::new();
    for stroke in strokes {
        for (i, p) in stroke.iter().enumerate() {
            out.push_str(if i == 0 { "M " } else { " L " });
            out.push_str(&format!("{} {}", p.x, p.y));
        }
        if stroke.len() == 1 {
            // A dot: a tiny segment so it shows.
            if let Some(p) = stroke.first() {
                out.push_str(&format!(" L {} {}", p.x + 1, p.y));
            }
        }
        out.push(' ');
    }
    out
}

/// `YYYY-MM-DD` → (year, month, day), if it is a real date.
fn parse_date(value: &str) -> Option<(i32, u8, u8)> {
    let d = time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some((d.year(), u8::from(d.month()), d.day()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_become_path_commands_and_dates_parse() {
        let strokes = vec![vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }], vec![Point { x: 9, y: 9 }]];
        assert_eq!(svg(&strokes).trim(), "M 1 2 L 3 4 M 9 9 L 10 9");
        assert_eq!(parse_date("2026-02-28"), Some((2026, 2, 28)));
        assert_eq!(parse_date("2026-02-30"), None);
        let (caps, columns, keys) = key_caps(Kind::Tibetan);
        assert_eq!((caps.len(), keys.len(), columns), (37, 37, 10));
        assert!(caps.iter().any(|c| c.label == "ཀ" && c.spoken == "ka"));
    }
}
