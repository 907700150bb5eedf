//! A catalog published while the kiosk runs (real window, hub on loopback,
//! the kiosk's own sync worker): the next visit offers the new item without
//! a restart, the visit in progress finishes on the version it started on
//! (its submission says so), and a delta signed with another key is
//! refused, the catalog in use kept.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use model::auth::SigningKey;
use model::{Catalog, ImplementCode, LocalizedText};
use ui::slint::ComponentHandle;

use super::harness::Driven;
use super::ui_journey::Kiosk;

const NEW_ITEM: &str = "新增测试事项：临时救助快速办";

/// Publishes `catalog` at the hub, signed with `key`, with the delta from `previous`.
fn publish(k: &Kiosk, key: &SigningKey, catalog: &Catalog, previous: Option<&model::auth::SignedCatalog>) -> model::auth::SignedCatalog {
    let json = serde_json::to_vec(catalog).unwrap();
    let p = hub::catalog::prepare(key, &json, previous).unwrap();
    k.hub.as_ref().unwrap().store().publish_catalog(&p.full, p.delta.as_ref(), time::OffsetDateTime::now_utc()).unwrap();
    p.full
}

/// Wakes the kiosk's sync worker and waits for the round to end.
fn sync_round(k: &Kiosk, rounds: &mpsc::Receiver<()>) {
    while rounds.try_recv().is_ok() {}
    k.app.sync_soon();
    rounds.recv_timeout(Duration::from_secs(30)).expect("a sync round");
    k.pump();
}

#[test]
fn a_catalog_published_while_the_kiosk_runs_reaches_the_next_visit() {
    let key = SigningKey::from_seed(&[9; 32]);
    let mut k = Kiosk::start_with("catalog-live", true, Duration::from_secs(600), Some(key.public_key()));
    let (tx, rounds) = mpsc::channel();
    k.app.set_on_synced(Some(Arc::new(move |_: &offline_cache::SyncReport, _| {
        let _ = tx.send(());
    })));
    let v1 = Catalog::starter();
    let full1 = publish(&k, &key, &v1, None);
    sync_round(&k, &rounds);
    assert_eq!(k.outbox.catalog_version().unwrap(), Some(v1.version), "the terminal holds the published catalog");

    // A villager starts a filing on v1.
    k.tap("我要办事");
    k.wait_screen(ui::Screen::Services);
    k.tap_paged("社会保障卡申领");
    k.wait_screen(ui::Screen::Guide);

    // Meanwhile the province publishes v2 with one new item: a delta.
    let mut v2 = v1.clone();
    v2.version += 1;
    let mut item = v2.item("620000MZ0003").unwrap().clone();
    item.implement_code = ImplementCode::parse("620000MZ0099").unwrap();
    item.name = LocalizedText::new(NEW_ITEM);
    v2.items.insert(0, item);
    let full2 = publish(&k, &key, &v2, Some(&full1));
    sync_round(&k, &rounds);
    assert_eq!(k.outbox.catalog_version().unwrap(), Some(v2.version));

    // The visit in progress goes on as it began and records v1.
    k.start_filing_with_demo_card();
    k.tap("联系电话");
    k.keypad("13912345678");
    k.tap("向下");
    k.tap("甘肃农村信用社");
    k.tap("下一步");
    k.wait_screen(ui::Screen::Review);
    k.tap("确认提交");
    k.wait_screen(ui::Screen::Saved);
    let case_number = k.window.global::<ui::Visit>().get_case_number().to_string();
    let db = hub::HubDb::open(&k._dir.path().join("hub.db")).unwrap();
    let (_, filing) = hub::backoffice::open_case(&db, k.hub.as_ref().unwrap().store().as_ref(), &case_number, &k.platform).unwrap();
    assert_eq!(filing.submission.catalog_version, Some(v1.version), "filed on the version the visit started on");
    k.tap("完成");
    k.wait_screen(ui::Screen::Goodbye);
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // The next visit offers the new item, with no restart.
    k.tap("我要办事");
    k.wait_screen(ui::Screen::Services);
    k.tap_paged(NEW_ITEM);
    k.shot("new-item");
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);

    // v3 signed with a key the terminal does not trust: refused, v2 kept.
    let mut v3 = v2.clone();
    v3.version += 1;
    v3.items.retain(|i| i.implement_code.as_str() != "620000MZ0099");
    publish(&k, &SigningKey::from_seed(&[66; 32]), &v3, Some(&full2));
    sync_round(&k, &rounds);
    assert_eq!(k.outbox.catalog_version().unwrap(), Some(v2.version), "the badly signed version is refused");
    k.tap("我要办事");
    k.wait_screen(ui::Screen::Services);
    k.tap_paged(NEW_ITEM);
    k.finish();
}
