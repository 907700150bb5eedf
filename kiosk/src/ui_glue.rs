//! Copies a session [`View`] into the Slint window. The only place that
//! knows both the session's view and the UI's property names.

use slint::{Model, ModelRc, SharedString, VecModel};
use ui::{ChoiceItem, FormRow, KioskWindow, ReviewRow, ServiceTile};

use std::sync::Arc;

use drivers::{SamSimulator, SimCard};

use crate::app::App;
use crate::demo::CARD_ON_READER;
use crate::session::{Event, View};

/// Connects the window's callbacks to the app. With a simulator (demo), the
/// 模拟放置身份证 button puts the sample card on the simulated reader for a
/// moment, as a villager would.
pub fn wire(w: &KioskWindow, app: &App, simulator: Option<Arc<SamSimulator>>) {
    let a = app.clone();
    w.on_start(move || a.dispatch(Event::Start));
    let a = app.clone();
    w.on_choose_service(move |code| a.dispatch(Event::ChooseService(code.into())));
    let a = app.clone();
    w.on_back(move || a.dispatch(Event::Back));
    let a = app.clone();
    w.on_cancel(move || a.dispatch(Event::Cancel));
    let a = app.clone();
    w.on_field_edited(move |key, value| a.dispatch(Event::FieldEdited { key: key.into(), value: value.into() }));
    let a = app.clone();
    w.on_submit_form(move || a.dispatch(Event::SubmitForm));
    let a = app.clone();
    w.on_confirm(move || a.dispatch(Event::Confirm));
    let a = app.clone();
    w.on_print_receipt(move || a.dispatch(Event::PrintReceipt));
    let a = app.clone();
    w.on_finish(move || a.dispatch(Event::Finish));
    w.set_demo_mode(simulator.is_some());
    w.on_demo_place_card(move || {
        if let Some(sim) = simulator.clone() {
            sim.present(SimCard::sample());
            std::thread::spawn(move || {
                std::thread::sleep(CARD_ON_READER);
                sim.remove();
            });
        }
    });
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

pub fn apply(w: &KioskWindow, v: &View) {
    w.set_screen(v.screen.name().into());
    sync(w.get_services(), 
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
        |m| w.set_services(m),
    );
    w.set_item_name(v.item_name.as_str().into());
    w.set_id_message(v.id_message.as_str().into());
    w.set_id_error(v.id_error);
    sync(
        w.get_form_rows(),
        v.form_rows
            .iter()
            .map(|r| FormRow {
                key: r.key.as_str().into(),
                label: r.label.as_str().into(),
                value: r.value.as_str().into(),
                kind: SharedString::from(r.kind),
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
        |m| w.set_form_rows(m),
    );
    sync(
        w.get_review_rows(),
        v.review_rows
            .iter()
            .map(|(l, val)| ReviewRow { label: l.as_str().into(), value: val.as_str().into() })
            .collect(),
        |m| w.set_review_rows(m),
    );
    w.set_busy_message(v.busy_message.as_str().into());
    w.set_saved_sent(v.saved_sent);
    w.set_saved_title(v.saved_title.as_str().into());
    w.set_saved_detail(v.saved_detail.as_str().into());
    w.set_case_number(v.case_number.as_str().into());
    w.set_receipt_message(v.receipt_message.as_str().into());
    w.set_error_message(v.error_message.as_str().into());
}
