//! Assisted mode on the kiosk window: maps an [`AssistedSession`] onto the
//! window's assisted properties (login, trip, trip summary, signature, and
//! the on-behalf banner over the villager journey), and renders those
//! screens for `kiosk --screenshots`.

use model::submission::{AgentRelation, Stroke};
use model::{Lang, VillageCode};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{KioskWindow, TripTally, TripVillage};

use crate::assisted::{AssistScreen, AssistedSession};
use crate::ui_glue;

/// SVG path commands for the strokes (pad coordinates): what the signature
/// pad draws back.
pub fn strokes_svg(strokes: &[Stroke]) -> String {
    let mut out = String::new();
    for s in strokes {
        for (i, [x, y]) in s.0.iter().enumerate() {
            out.push_str(if i == 0 { "M " } else { " L " });
            out.push_str(&format!("{x} {y}"));
        }
        // A tap is drawn as a dot.
        if let [[x, y]] = s.0.as_slice() {
            out.push_str(&format!(" L {} {y}", x + 1));
        }
        out.push(' ');
    }
    out.trim_end().to_owned()
}

/// The relation's name in the signature screen's UI (`service_staff`, `relative`, `village_cadre`).
pub fn relation_name(r: AgentRelation) -> &'static str {
    match r {
        AgentRelation::ServiceStaff => "service_staff",
        AgentRelation::Relative => "relative",
        AgentRelation::VillageCadre => "village_cadre",
    }
}

/// The relation the UI names; None for a name it does not know.
pub fn relation_from(name: &str) -> Option<AgentRelation> {
    Some(match name {
        "service_staff" => AgentRelation::ServiceStaff,
        "relative" => AgentRelation::Relative,
        "village_cadre" => AgentRelation::VillageCadre,
        _ => return None,
    })
}

fn village_name(code: &VillageCode) -> String {
    code.name().map_or_else(|| code.as_str().to_owned(), str::to_owned)
}

fn village_name_of(code: &str) -> String {
    VillageCode::parse(code).map(|c| village_name(&c)).unwrap_or_else(|_| code.to_owned())
}

/// Shows the assisted session on the window. Returns false when assisted
/// mode is closed (the window then shows the villager journey as usual).
pub fn apply(w: &KioskWindow, a: &AssistedSession, online: bool) -> bool {
    let assisted = w.global::<ui::Assisted>();
    let screen = a.screen();
    assisted.set_assisted(matches!(screen, AssistScreen::Filing(_) | AssistScreen::Signature));
    if let Some(op) = a.operator() {
        assisted.set_operator_name(op.name.as_str().into());
        assisted.set_operator_staff(op.staff_number.as_str().into());
        let villages: Vec<TripVillage> =
            op.villages.iter().map(|v| TripVillage { code: v.as_str().into(), name: village_name(v).into() }).collect();
        assisted.set_trip_villages(ModelRc::new(VecModel::from(villages)));
    } else {
        // Nothing of the last operator stays on screen.
        assisted.set_operator_name(SharedString::new());
        assisted.set_operator_staff(SharedString::new());
        assisted.set_trip_villages(ModelRc::default());
    }
    if let Some(t) = a.trip() {
        assisted.set_trip_village(village_name(&t.village).into());
        let tallies: Vec<TripTally> = t
            .summary
            .iter()
            .map(|v| TripTally {
                village: village_name_of(&v.village_code).into(),
                filed: v.filed.min(i32::MAX as u64) as i32,
                waiting: v.waiting.min(i32::MAX as u64) as i32,
                failed: v.failed_validation.min(i32::MAX as u64) as i32,
            })
            .collect();
        assisted.set_trip_tallies(ModelRc::new(VecModel::from(tallies)));
        assisted.set_trip_sync_sent(t.sync_sent.min(i32::MAX as u64) as i32);
        assisted.set_trip_sync_waiting(t.sync_waiting.min(i32::MAX as u64) as i32);
    }
    let _ = online;
    match screen {
        AssistScreen::Closed => {
            assisted.set_login_pin(SharedString::new());
            return false;
        }
        AssistScreen::Login => {
            w.global::<ui::Frame>().set_screen(ui::Screen::OperatorLogin);
            // Worded in Chinese by assisted_app; shown in the screen's language.
            let lang = w.global::<ui::Theme>().get_lang();
            let problem = a.login_problem().map(|p| ui::i18n::tr_with_number(&lang, p)).unwrap_or_default();
            assisted.set_login_problem(problem.into());
        }
        AssistScreen::Trip => w.global::<ui::Frame>().set_screen(ui::Screen::Trip),
        AssistScreen::TripSummary => w.global::<ui::Frame>().set_screen(ui::Screen::TripSummary),
        AssistScreen::Signature => {
            w.global::<ui::Frame>().set_screen(ui::Screen::Signature);
            if let Some((strokes, relation, problem)) = a.signing() {
                assisted.set_signature_svg(strokes_svg(strokes).into());
                assisted.set_signature_relation(relation_name(relation).into());
                let lang = w.global::<ui::Theme>().get_lang();
                assisted.set_signature_problem(problem.map(|p| ui::i18n::tr(&lang, p)).unwrap_or_default().into());
            }
        }
        AssistScreen::Filing(_) => {
            if let Some(s) = a.filing_session() {
                ui_glue::apply(w, &s.view());
            }
        }
    }
    true
}

/// Sets the language for the assisted screens drawn without a villager view.
pub fn set_lang(w: &KioskWindow, lang: Lang) {
    let theme = w.global::<ui::Theme>();
    if theme.get_lang() != lang.code() {
        ui::set_language(w, lang.code());
    }
    theme.set_large_text(false);
    theme.set_high_contrast(false);
    w.global::<ui::Frame>().set_idle_seconds(0);
}

/// Walks a real [`AssistedSession`] through a van's morning with sample
/// data (login with a wrong PIN, trip, a filing under the banner with its
/// materials, the signature pad, the trip summary with sending in progress)
/// and calls `shot(name)` with each screen on the window.
#[cfg(feature = "samples")]
pub fn walk_for_screenshots(
    w: &KioskWindow,
    lang: Lang,
    shot: &mut dyn FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::sync::Arc;

    use model::operator::StaffNumber;
    use model::Catalog;
    use offline_cache::{LoggedIn, VillageTally};
    use time::macros::datetime;
    use zeroize::Zeroizing;

    use crate::assisted::{AssistEffect, AssistEvent};
    use crate::session::{Capabilities, Event, Terminal};

    let villages: Vec<VillageCode> =
        ["622926100202", "622926100203", "622926100204"].iter().filter_map(|c| VillageCode::parse(c).ok()).collect();
    let van = Terminal {
        terminal_id: "GS-VAN-01".into(),
        village_code: villages[0].clone(),
        channel: model::submission::Channel::ServiceVan,
    };
    let mut a = AssistedSession::new(Arc::new(Catalog::starter()), &van, Capabilities::default(), Arc::new(|| datetime!(2026-11-21 10:00 +8)))?;
    let op = LoggedIn { staff_number: StaffNumber::parse("620042")?, name: "马小兰".into(), villages: villages.clone() };
    let summary = |waiting: u64| {
        vec![
            VillageTally { village_code: villages[0].as_str().into(), filed: 17, waiting: 0, delivered: 17, failed_validation: 0 },
            VillageTally { village_code: villages[1].as_str().into(), filed: 12, waiting, delivered: 11 - waiting.min(11), failed_validation: 1 },
        ]
    };
    set_lang(w, lang);
    a.handle(AssistEvent::OpenLogin);
    w.global::<ui::Assisted>().set_login_staff("620042".into());
    w.global::<ui::Assisted>().set_login_pin("1357".into());
    a.handle(AssistEvent::SubmitLogin { staff: "620042".into(), pin: Zeroizing::new("135790".into()) });
    a.handle(AssistEvent::LoginRefused("工号或密码不对，还可以试 4 次".into()));
    apply(w, &a, false);
    shot("assist-login")?;
    w.global::<ui::Assisted>().set_login_pin(SharedString::new());
    a.handle(AssistEvent::SubmitLogin { staff: "620042".into(), pin: Zeroizing::new("246810".into()) });
    a.handle(AssistEvent::LoginAccepted(op));
    apply(w, &a, false);
    shot("assist-trip")?;

    a.handle(AssistEvent::StartTrip(villages[1].clone()));
    a.handle(AssistEvent::TripSummary(summary(9)));
    a.handle(AssistEvent::SyncProgress { sent: 3, waiting: 9 });
    crate::ui_glue::set_link_status(w, crate::app::LinkStatus { online: Some(true), unsent: 9 });
    apply(w, &a, true);
    shot("assist-trip-summary")?;

    let fx = a.handle(AssistEvent::NewFiling);
    drop(fx);
    for ev in [
        Event::VoicesAvailable(vec![Lang::ZhCn, Lang::Kk, Lang::En]),
        Event::SetLanguage(lang),
        Event::ChooseService("620000RS0001".into()),
        Event::StartFiling,
        Event::Agree,
        Event::CardRead(crate::samples::sample_identity()),
        Event::FieldEdited { key: "phone".into(), value: "13912345678".into() },
        Event::FieldEdited { key: "bank".into(), value: "rcc".into() },
    ] {
        a.handle(AssistEvent::Villager(ev));
    }
    a.handle(AssistEvent::MaterialScanned { material_code: "hukou".into(), media_type: "image/png".into(), bytes: vec![0x89, b'P', b'N', b'G'] });
    apply(w, &a, true);
    shot("assist-filing-form")?;
    a.handle(AssistEvent::Villager(Event::SubmitForm));
    apply(w, &a, true);
    shot("assist-filing-review")?;
    a.handle(AssistEvent::Villager(Event::Confirm));
    // A signature as a finger draws it: 马 then 桂兰, roughly.
    for stroke in [
        vec![[60, 60], [140, 55], [130, 110], [70, 112], [150, 118], [140, 170], [100, 178]],
        vec![[200, 70], [260, 64]],
        vec![[230, 40], [232, 180]],
        vec![[190, 120], [280, 110], [300, 175]],
        vec![[340, 60], [420, 58], [400, 170], [330, 172], [440, 176]],
        vec![[470, 80], [560, 90], [520, 130], [470, 170], [570, 165]],
    ] {
        a.handle(AssistEvent::Stroke(stroke));
    }
    apply(w, &a, true);
    shot("assist-signature")?;
    let effects = a.handle(AssistEvent::AcceptSignature);
    let id = effects.iter().find_map(|e| match e {
        AssistEffect::Submit { submission, .. } => Some(submission.id),
        _ => None,
    });
    if let Some(id) = id {
        a.handle(AssistEvent::Villager(Event::Saved { id }));
        a.handle(AssistEvent::Villager(Event::Deferred { id }));
    }
    crate::ui_glue::set_link_status(w, crate::app::LinkStatus { online: Some(false), unsent: 10 });
    apply(w, &a, false);
    shot("assist-filing-saved")?;
    a.handle(AssistEvent::Villager(Event::Finish));
    a.handle(AssistEvent::Villager(Event::Finish));
    a.handle(AssistEvent::TripSummary(summary(10)));
    a.handle(AssistEvent::SyncProgress { sent: 0, waiting: 10 });
    apply(w, &a, false);
    shot("assist-trip-summary-offline")?;
    a.handle(AssistEvent::Logout);
    w.global::<ui::Assisted>().set_assisted(false);
    apply(w, &a, false);
    crate::ui_glue::set_link_status(w, crate::app::LinkStatus { online: Some(true), unsent: 0 });
    Ok(())
}
