//! Copies a session [`View`] into the Slint window and turns the window's
//! callbacks into session events. The only place that knows both the
//! session's view and the UI's property names.

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use ui::{ChoiceItem, FormRow, Frame, KioskWindow, NetworkState, ProgressRow, ReasonItem, ReviewRow, ServiceTile, ThemeChip, Visit};

use std::sync::Arc;

use drivers::{SamSimulator, SimCard};
use model::evaluation::Rating;
use model::Lang;

use crate::app::{App, LinkStatus};
use crate::demo::CARD_ON_READER;
use crate::session::{Event, Screen, View};

/// Connects the window's callbacks to the app. With a simulator (demo), the
/// 模拟放置身份证 button puts the sample card on the simulated reader for a
/// moment, as a villager would.
pub fn wire(w: &KioskWindow, app: &App, simulator: Option<Arc<SamSimulator>>) {
    let visit = w.global::<Visit>();
    let frame = w.global::<Frame>();
    let on = |event: fn() -> Event| {
        let a = app.clone();
        move || a.dispatch(event())
    };
    visit.on_start(on(|| Event::Start));
    visit.on_start_bundles(on(|| Event::StartBundles));
    visit.on_search(on(|| Event::Search));
    visit.on_progress(on(|| Event::QueryProgress));
    visit.on_result(on(|| Event::QueryResult));
    visit.on_rate(on(|| Event::RateService));
    visit.on_start_filing(on(|| Event::StartFiling));
    visit.on_agree(on(|| Event::Agree));
    visit.on_back(on(|| Event::Back));
    visit.on_cancel(on(|| Event::Cancel));
    visit.on_submit_form(on(|| Event::SubmitForm));
    visit.on_confirm(on(|| Event::Confirm));
    visit.on_print_receipt(on(|| Event::PrintReceipt));
    visit.on_rate_now(on(|| Event::RateNow));
    visit.on_submit_rating(on(|| Event::SubmitRating));
    visit.on_retry(on(|| Event::Retry));
    visit.on_finish(on(|| Event::Finish));
    frame.on_toggle_large_text(on(|| Event::ToggleLargeText));
    frame.on_toggle_high_contrast(on(|| Event::ToggleHighContrast));
    frame.on_toggle_voice(on(|| Event::ToggleVoice));
    frame.on_read_screen(on(|| Event::ReadScreen));
    frame.on_still_here(on(|| Event::StillHere));
    let wedge = std::sync::Mutex::new(crate::codes::WedgeDetector::default());
    let a = app.clone();
    frame.on_key_typed(move |text| {
        let code = wedge.lock().unwrap_or_else(|e| e.into_inner()).key(&text, std::time::Instant::now());
        if let Some(code) = code {
            a.dispatch(Event::CodeEntered(code));
        }
    });
    visit.on_skip_material(on(|| Event::SkipMaterial));
    visit.on_print_result(on(|| Event::PrintResult));
    visit.on_next_material(on(|| Event::NextMaterial));
    let a = app.clone();
    visit.on_capture_material(move |how| {
        let kind = match how {
            ui::Capture::Scan => crate::materials::CaptureKind::Scan,
            ui::Capture::Photo => crate::materials::CaptureKind::Photo,
        };
        a.dispatch(Event::CaptureMaterial(kind));
    });

    let a = app.clone();
    visit.on_choose_theme(move |id| a.dispatch(Event::ChooseTheme(id.into())));
    let a = app.clone();
    visit.on_search_typed(move |text| a.dispatch(Event::SearchTyped(text.into())));
    let a = app.clone();
    visit.on_search_keyboard(move |open| a.dispatch(Event::SearchKeyboard(open)));
    let a = app.clone();
    visit.on_choose_service(move |code| a.dispatch(Event::ChooseService(code.into())));
    let a = app.clone();
    visit.on_field_edited(move |key, value| a.dispatch(Event::FieldEdited { key: key.into(), value: value.into() }));
    let a = app.clone();
    visit.on_lookup_code(move |code| a.dispatch(Event::CodeEntered(code.into())));
    let a = app.clone();
    visit.on_toggle_reason(move |value| a.dispatch(Event::ToggleReason(value.into())));
    let a = app.clone();
    visit.on_choose_rating(move |level| {
        if let Some(rating) = rating_from(level) {
            a.dispatch(Event::ChooseRating(rating));
        }
    });
    let a = app.clone();
    frame.on_set_language(move |code| {
        if let Some(lang) = Lang::from_code(&code) {
            a.dispatch(Event::SetLanguage(lang));
        }
    });

    visit.set_demo_mode(simulator.is_some());
    visit.on_demo_place_card(move || {
        if let Some(sim) = simulator.clone() {
            sim.present(SimCard::sample());
            std::thread::spawn(move || {
                std::thread::sleep(CARD_ON_READER);
                sim.remove();
            });
        }
    });
}

/// A 好差评 level as the rating screen shows it.
pub fn rating_face(rating: Rating) -> ui::Rating {
    match rating {
        Rating::VerySatisfied => ui::Rating::VerySatisfied,
        Rating::Satisfied => ui::Rating::Satisfied,
        Rating::Neutral => ui::Rating::Neutral,
        Rating::Dissatisfied => ui::Rating::Dissatisfied,
        Rating::VeryDissatisfied => ui::Rating::VeryDissatisfied,
    }
}

fn rating_from(face: ui::Rating) -> Option<Rating> {
    Rating::ALL.into_iter().find(|r| rating_face(*r) == face)
}

/// The session's screen as the window names it.
pub fn screen(s: Screen) -> ui::Screen {
    match s {
        Screen::Home => ui::Screen::Home,
        Screen::Services => ui::Screen::Services,
        Screen::Search => ui::Screen::Search,
        Screen::Guide => ui::Screen::Guide,
        Screen::Consent => ui::Screen::Consent,
        Screen::IdPrompt => ui::Screen::IdPrompt,
        Screen::Form => ui::Screen::Form,
        Screen::Materials => ui::Screen::Materials,
        Screen::Review => ui::Screen::Review,
        Screen::Submitting => ui::Screen::Submitting,
        Screen::Saved => ui::Screen::Saved,
        Screen::Receipt => ui::Screen::Receipt,
        Screen::Rate => ui::Screen::Rate,
        Screen::Progress => ui::Screen::Progress,
        Screen::Result => ui::Screen::Result,
        Screen::Goodbye => ui::Screen::Goodbye,
        Screen::Error => ui::Screen::Error,
    }
}

/// Shows the link state; the words are chosen by the UI in the villager's
/// language (so they follow a language switch).
pub fn set_link_status(w: &KioskWindow, status: LinkStatus) {
    let frame = w.global::<Frame>();
    frame.set_network_label(SharedString::new());
    frame.set_network_state(match status.online {
        None => NetworkState::Checking,
        Some(false) => NetworkState::Offline,
        Some(true) => NetworkState::Online,
    });
    frame.set_network_unsent(status.unsent.min(i32::MAX as u64) as i32);
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

/// Updates a list in place when only rows changed, so an element being edited
/// (a text field with the cursor in it) is not rebuilt under the finger.
fn sync<T: Clone + PartialEq + 'static>(current: ModelRc<T>, items: Vec<T>, set: impl FnOnce(ModelRc<T>)) {
    if let Some(vm) = current.as_any().downcast_ref::<VecModel<T>>() {
        if vm.row_count() == items.len() {
            for (i, item) in items.into_iter().enumerate() {
                if vm.row_data(i).as_ref() != Some(&item) {
                    vm.set_row_data(i, item);
                }
            }
            return;
        }
    }
    set(model(items));
}

fn pairs(rows: &[(String, String)]) -> Vec<ReviewRow> {
    rows.iter().map(|(l, v)| ReviewRow { label: l.as_str().into(), value: v.as_str().into() }).collect()
}

/// Copies a view into the window's properties (on the UI thread).
pub fn apply(w: &KioskWindow, v: &View) {
    // Settings first: the screen below is laid out in their font and direction.
    let theme = w.global::<ui::Theme>();
    if theme.get_lang() != v.lang.code() {
        ui::set_language(w, v.lang.code());
    }
    theme.set_large_text(v.large_text);
    theme.set_high_contrast(v.high_contrast);
    let frame = w.global::<Frame>();
    let visit = w.global::<Visit>();
    frame.set_voice_on(v.voice_on);
    frame.set_voice_available(v.voice_available);
    frame.set_can_read_screen(v.can_read_screen);
    frame.set_idle_seconds(v.idle_seconds.min(i32::MAX as u32) as i32);
    frame.set_banner(v.banner.as_str().into());

    frame.set_screen(screen(v.screen));
    sync(
        visit.get_services(),
        v.services
            .iter()
            .map(|t| ServiceTile {
                code: t.code.as_str().into(),
                name: t.name.as_str().into(),
                department: t.department.as_str().into(),
                time_limit: t.time_limit.as_str().into(),
                enabled: t.enabled,
                note: t.note.as_str().into(),
            })
            .collect(),
        |m| visit.set_services(m),
    );
    sync(
        visit.get_themes(),
        v.themes
            .iter()
            .map(|t| ThemeChip { id: t.id.as_str().into(), name: t.name.as_str().into(), selected: t.selected })
            .collect(),
        |m| visit.set_themes(m),
    );
    visit.set_services_heading(v.services_heading.as_str().into());
    visit.set_search_query(v.search_query.as_str().into());
    visit.set_search_typing(v.search_typing);
    visit.set_search_message(v.search_message.as_str().into());
    visit.set_search_nothing(v.search_nothing);
    visit.set_item_name(v.item_name.as_str().into());
    sync(visit.get_guide_rows(), pairs(&v.guide_rows), |m| visit.set_guide_rows(m));
    sync(visit.get_consent_rows(), pairs(&v.consent_rows), |m| visit.set_consent_rows(m));
    visit.set_id_message(v.id_message.as_str().into());
    visit.set_id_error(v.id_error);
    sync(
        visit.get_form_rows(),
        v.form_rows
            .iter()
            .map(|r| FormRow {
                key: r.key.as_str().into(),
                label: r.label.as_str().into(),
                value: r.value.as_str().into(),
                kind: r.kind,
                readonly: r.readonly,
                error: r.error.as_str().into(),
                options: model(
                    r.options
                        .iter()
                        .map(|o| ChoiceItem { value: o.value.as_str().into(), label: o.label.as_str().into() })
                        .collect(),
                ),
            })
            .collect(),
        |m| visit.set_form_rows(m),
    );
    sync(visit.get_review_rows(), pairs(&v.review_rows), |m| visit.set_review_rows(m));
    visit.set_busy_message(v.busy_message.as_str().into());
    visit.set_saved_sent(v.saved_sent);
    visit.set_saved_title(v.saved_title.as_str().into());
    visit.set_saved_detail(v.saved_detail.as_str().into());
    visit.set_case_number(v.case_number.as_str().into());
    visit.set_can_rate(v.can_rate);
    visit.set_receipt_message(v.receipt_message.as_str().into());
    visit.set_receipt_busy(v.receipt_busy);
    visit.set_receipt_failed(v.receipt_failed);
    visit.set_rating(v.rating.map_or(ui::Rating::Unrated, rating_face));
    sync(
        visit.get_reasons(),
        v.reasons
            .iter()
            .map(|r| ReasonItem { value: r.value.as_str().into(), label: r.label.as_str().into(), selected: r.selected })
            .collect(),
        |m| visit.set_reasons(m),
    );
    visit.set_lookup_phase(v.lookup_phase);
    visit.set_lookup_message(v.lookup_message.as_str().into());
    visit.set_lookup_error(v.lookup_error);
    visit.set_lookup_card_only(v.lookup_card_only);
    sync(
        visit.get_lookup_rows(),
        v.lookup_rows
            .iter()
            .map(|r| ProgressRow {
                item: r.item.as_str().into(),
                date: r.date.as_str().into(),
                status: r.status.as_str().into(),
                number: r.number.as_str().into(),
                tone: r.tone,
                history: r.history.as_str().into(),
                reply: r.reply.as_str().into(),
                parts: std::rc::Rc::new(ui::slint::VecModel::from(
                    r.parts
                        .iter()
                        .map(|p| ui::ProgressPart {
                            item: p.item.as_str().into(),
                            status: p.status.as_str().into(),
                            number: p.number.as_str().into(),
                            tone: p.tone,
                        })
                        .collect::<Vec<_>>(),
                ))
                .into(),
            })
            .collect(),
        |m| visit.set_lookup_rows(m),
    );
    visit.set_material(material_step(v));
    visit.set_result_printable(v.result_printable);
    visit.set_result_busy(v.result_busy);
    visit.set_goodbye_message(v.goodbye_message.as_str().into());
    visit.set_error_message(v.error_message.as_str().into());
}

fn material_step(v: &View) -> ui::MaterialStep {
    let Some(m) = &v.material else { return ui::MaterialStep::default() };
    let preview = m.preview.as_ref().map(|p| {
        let buffer = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::clone_from_slice(&p.rgba, p.width, p.height);
        slint::Image::from_rgba8(buffer)
    });
    ui::MaterialStep {
        name: m.name.as_str().into(),
        step: m.step.as_str().into(),
        hint: m.hint.as_str().into(),
        required: m.required,
        can_scan: m.can_scan,
        can_photo: m.can_photo,
        can_skip: m.can_skip,
        can_next: m.can_next,
        busy: m.busy,
        busy_message: v.busy_message.as_str().into(),
        problem: m.problem.as_str().into(),
        has_preview: preview.is_some(),
        preview: preview.unwrap_or_default(),
        captured: m.captured.as_str().into(),
        captured_by_scan: m.captured_by_scan,
        reason: m.reason.as_str().into(),
    }
}

/// The font families the screens need that fontconfig does not know, with
/// their Debian packages. Empty when all are there (or fontconfig is absent,
/// which the window itself will complain about).
pub fn missing_fonts() -> Vec<(&'static str, &'static str)> {
    let Ok(out) = std::process::Command::new("fc-list").args([":", "family"]).output() else { return Vec::new() };
    let listed = String::from_utf8_lossy(&out.stdout);
    ui::FONT_FAMILIES
        .iter()
        .filter(|(family, _)| !listed.lines().any(|l| l.split(',').any(|f| f.trim() == *family)))
        .copied()
        .collect()
}
