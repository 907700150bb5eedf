//! The fleet page's platform backlog (`BacklogStore::platform_backlog`):
//! what waits in each outbox, the oldest of it, and what was given up in
//! the last 30 days, counted right on both backends (the indexes of SQLite
//! v17 / PostgreSQL v7 serve these counts; their plans are checked by the
//! unit tests `sqlite::backlog` and `postgres::backlog`).

use hub::backoffice::{self, Decision};
use hub::{SmsUpdate, SmsState};
use model::evaluation::Rating;
use time::{Duration, OffsetDateTime};

use crate::common::{file_case, rate, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_counts_what_waits_and_what_was_given_up_within_30_days() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let store = hub.store();
    let now = OffsetDateTime::now_utc();
    let mut cases = Vec::new();
    let mut ratings = Vec::new();
    for _ in 0..4 {
        let (_, case) = file_case(&api).await;
        backoffice::decide(store.clone(), case.as_str(), Decision::Accept, "clerk").await.unwrap();
        ratings.push(rate(&api, &case, Rating::Satisfied, &[]).await);
        cases.push(case);
    }
    let text = |i: usize| store.sms_of_case(cases[i].as_str()).unwrap().remove(0);
    // Texts: one failed 40 days ago (old news), one expired now, one waiting, one delivered.
    store.sms_record(&text(0).key, &SmsUpdate::Closed { state: SmsState::Failed, error: Some("refused") }, now - Duration::days(40)).unwrap();
    store.sms_record(&text(1).key, &SmsUpdate::Closed { state: SmsState::Expired, error: None }, now).unwrap();
    store.sms_record(&text(3).key, &SmsUpdate::Sent { gateway_id: "gw-1" }, now).unwrap();
    store.sms_record(&text(3).key, &SmsUpdate::Closed { state: SmsState::Delivered, error: None }, now).unwrap();
    // Ratings: refused now, refused 31 days ago, taken, waiting.
    store.rating_forwarded(ratings[0], Err("422"), now).unwrap();
    store.rating_forwarded(ratings[1], Err("422"), now - Duration::days(31)).unwrap();
    store.rating_forwarded(ratings[2], Ok(()), now).unwrap();

    let backlog = store.platform_backlog(now).unwrap();
    assert_eq!(backlog.iter().map(|b| b.outbox).collect::<Vec<_>>(), ["sms", "ratings", "mail"]);
    let counts: Vec<(u64, u64)> = backlog.iter().map(|b| (b.pending, b.given_up)).collect();
    assert_eq!(counts, [(1, 1), (1, 1), (0, 0)], "{backlog:?}");
    let oldest = |i: usize| backlog[i].oldest_pending.expect("a waiting row has a time");
    assert!((oldest(0) - text(2).created_at).abs() < Duration::seconds(1), "{backlog:?}");
    assert!((oldest(1) - now).abs() < Duration::minutes(1), "{backlog:?}");
    assert_eq!(backlog[2].oldest_pending, None);

    // A month on, the recent refusals are old too; what waits still waits.
    let later = store.platform_backlog(now + Duration::days(31)).unwrap();
    assert_eq!(later.iter().map(|b| (b.pending, b.given_up)).collect::<Vec<_>>(), [(1, 0), (1, 0), (0, 0)], "{later:?}");
    hub.shutdown().await.unwrap();
}
