//! The fleet page at province scale (issue 17): pages of 200, filtered by
//! county, township or village code, stale terminals first, counted over
//! the whole filter by the store (runs on PostgreSQL too, see postgres.rs).

use hub::{FleetQuery, NewTerminal};
use model::VillageCode;
use time::OffsetDateTime;

use super::common::{self, heartbeat, random_key, staff};

#[tokio::test]
async fn the_fleet_pages_filters_by_place_and_puts_stale_terminals_first() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, _api) = common::start(dir.path()).await; // GS-0001 in 622926100202, never heard from
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    let in_touch = |i: usize| i % 3 != 0;
    tokio::task::spawn_blocking(move || {
        // 300 terminals in 广河县 (622926: two townships), 150 in another county.
        for i in 0..450 {
            let village = match i {
                0..150 => "622926100201",
                150..300 => "622926101202",
                _ => "620102001001",
            };
            let id = format!("GS-P{i:04}");
            let t = NewTerminal { id: id.clone(), public_key: random_key().public_key(), village_code: Some(VillageCode::parse(village).unwrap()), label: None };
            store.add_terminal(&t, now).unwrap();
            if in_touch(i) {
                store.record_heartbeat(&id, &heartbeat(now), now).unwrap();
            }
        }
        // Heartbeats are written behind; the fleet page does not wait for them.
        store.terminals().unwrap();
        let stale_before = now - time::Duration::minutes(30);
        let q = FleetQuery { place: None, stale_before, offset: 0, limit: 200 };
        let page = store.fleet_page(&q).unwrap();
        assert_eq!((page.total, page.stale, page.broken), (451, 151, 0));
        assert_eq!(page.terminals.len(), 200);
        // Stale first (by id), then those in touch.
        let ids: Vec<&str> = page.terminals.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids[0], "GS-0001");
        assert_eq!(ids[1], "GS-P0000");
        assert_eq!(ids[150], "GS-P0447");
        assert_eq!(ids[151], "GS-P0001", "the first in touch follows the last stale one");
        let last = store.fleet_page(&FleetQuery { offset: 400, ..q.clone() }).unwrap();
        assert_eq!(last.terminals.len(), 51);
        // A township, a county, a village.
        let township = store.fleet_page(&FleetQuery { place: Some("622926101".into()), ..q.clone() }).unwrap();
        assert_eq!((township.total, township.stale), (150, 50));
        assert!(township.terminals.iter().all(|t| t.village_code.as_ref().is_some_and(|v| v.as_str() == "622926101202")));
        let county = store.fleet_page(&FleetQuery { place: Some("620102".into()), ..q.clone() }).unwrap();
        assert_eq!(county.total, 150);
        let village = store.fleet_page(&FleetQuery { place: Some("622926100202".into()), ..q }).unwrap();
        assert_eq!(village.terminals.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["GS-0001"]);
    })
    .await
    .unwrap();

    // The page itself: counts over the filter, links to the next page, a filter form.
    let (name, token) = staff(&hub);
    let get = |q: &str| common::http().get(format!("{}/fleet{q}", hub.base_url())).basic_auth(&name, Some(&token)).send();
    let html = get("").await.unwrap().text().await.unwrap();
    assert!(html.contains("共 451 台") && html.contains("失联 151 · stale 151"), "{}", &html[..html.len().min(3000)]);
    assert!(html.contains("page 1 of 3") && html.contains("href=\"/fleet?page=2\""));
    assert_eq!(html.matches(" id=\"GS-").count(), 200, "one row per terminal of the page");
    let html = get("?place=622926101&page=1").await.unwrap().text().await.unwrap();
    assert!(html.contains("共 150 台") && html.contains("page 1 of 1") && !html.contains("GS-P0300"));
    let refused = get("?place=62a").await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    hub.shutdown().await.unwrap();
}
