//! Operator accounts for assisted mode: pulled from the real hub, offline
//! login against the synced Argon2id hashes, lockout that survives a
//! restart, revoked and expired accounts, and every attempt audited.

use crate::common;

use std::time::Duration;

use crate::common::quick;
use hub::{Hub, NewOperator};
use model::operator::{hash_pin, PinParams, StaffNumber};
use model::VillageCode;
use offline_cache::{LoginError, LoginPolicy};
use time::OffsetDateTime;

const PIN: &str = "480217593062";

fn operator(staff: &str, terminals: &[&str], valid_until: Option<OffsetDateTime>) -> NewOperator {
    NewOperator {
        staff_number: StaffNumber::parse(staff).unwrap(),
        name: "马小兰".into(),
        pin_hash: hash_pin(PIN, &[3; 16], PinParams::FAST_FOR_TESTS).unwrap(),
        terminals: terminals.iter().map(|t| t.to_string()).collect(),
        villages: vec![VillageCode::parse("622926100202").unwrap(), VillageCode::parse("622926100203").unwrap()],
        valid_until,
    }
}

fn policy() -> LoginPolicy {
    LoginPolicy { max_failures: 3, lockout: Duration::from_secs(10 * 60) }
}

async fn setup(dir: &std::path::Path) -> (Hub, offline_cache::SyncClient, offline_cache::Outbox) {
    let (outbox, _) = common::open(dir);
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.join("hub.db")).await.unwrap();
    let client = common::client(&hub, quick()).await;
    (hub, client, outbox)
}

#[tokio::test]
async fn first_login_needs_the_network_then_works_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, client, outbox) = setup(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    assert!(matches!(outbox.operator_login("GS0042", PIN, now, &policy()), Err(LoginError::NeedsNetwork)));

    hub.store().add_operator(&operator("GS0042", &["T-0001"], None), now).unwrap();
    hub.store().add_operator(&operator("GS0099", &["T-OTHER"], None), now).unwrap();
    assert_eq!(client.pull_operators(&outbox).await.unwrap(), (1, 0), "only this terminal's operators");
    hub.shutdown().await.unwrap();

    // Hub gone: login is against the synced hash.
    let who = outbox.operator_login("gs0042", PIN, now, &policy()).unwrap();
    assert_eq!(who.staff_number.as_str(), "GS0042");
    assert_eq!(who.villages.len(), 2);
    // Another van's operator is not known here.
    assert!(matches!(outbox.operator_login("GS0099", PIN, now, &policy()), Err(LoginError::WrongCredentials { .. })));

    let tail = outbox.audit_tail(10).unwrap();
    let logins: Vec<_> = tail.iter().filter(|e| e.action == "operator login").collect();
    assert!(logins.iter().any(|e| e.operator.as_deref() == Some("GS0042") && e.outcome == "logged in"), "{logins:?}");
    assert!(logins.iter().any(|e| e.outcome.contains("needs the network")));
    assert!(tail.iter().all(|e| !e.outcome.contains(PIN)));
    assert!(outbox.verify_audit().unwrap().intact());
}

#[tokio::test]
async fn wrong_pins_lock_the_account_and_the_lockout_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, client, outbox) = setup(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    hub.store().add_operator(&operator("GS0042", &["T-0001"], None), now).unwrap();
    client.pull_operators(&outbox).await.unwrap();

    assert!(matches!(outbox.operator_login("GS0042", "111111", now, &policy()), Err(LoginError::WrongCredentials { remaining: 2 })));
    assert!(matches!(outbox.operator_login("GS0042", "222222", now, &policy()), Err(LoginError::WrongCredentials { remaining: 1 })));
    let until = match outbox.operator_login("GS0042", "333333", now, &policy()) {
        Err(LoginError::LockedOut { until }) => until,
        other => panic!("expected a lockout, got {other:?}"),
    };
    assert_eq!(until, now + time::Duration::minutes(10));
    // Even the right PIN is refused while locked.
    assert!(matches!(outbox.operator_login("GS0042", PIN, now + time::Duration::minutes(1), &policy()), Err(LoginError::LockedOut { .. })));

    // Pulling the plug does not reset it.
    drop(outbox);
    drop(client);
    let key = common::platform_key();
    let outbox = offline_cache::Outbox::open(&dir.path().join("outbox.db"), common::config(&key)).unwrap();
    assert!(matches!(outbox.operator_login("GS0042", PIN, now + time::Duration::minutes(9), &policy()), Err(LoginError::LockedOut { .. })));
    // After the lockout the right PIN works, and the count starts afresh.
    let later = now + time::Duration::minutes(11);
    outbox.operator_login("GS0042", PIN, later, &policy()).unwrap();
    assert!(matches!(outbox.operator_login("GS0042", "111111", later, &policy()), Err(LoginError::WrongCredentials { remaining: 2 })));
    assert!(outbox.audit_tail(20).unwrap().iter().any(|e| e.outcome.starts_with("refused: wrong PIN, locked out")));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn revocation_applies_at_the_next_sync_and_expired_accounts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, client, outbox) = setup(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let store = hub.store();
    store.add_operator(&operator("GS0042", &["T-0001"], None), now).unwrap();
    store.add_operator(&operator("GS0043", &["T-0001"], Some(now + time::Duration::days(1))), now).unwrap();
    client.pull_operators(&outbox).await.unwrap();
    let staff = StaffNumber::parse("GS0042").unwrap();
    outbox.operator_login("GS0042", PIN, now, &policy()).unwrap();

    store.revoke_operator("GS0042", now).unwrap();
    // Not yet: the terminal has not heard.
    assert!(outbox.operator_still_valid(&staff, now).unwrap());
    outbox.operator_login("GS0042", PIN, now, &policy()).unwrap();
    // The next round brings the revocation.
    client.heartbeat_soon();
    let r = client.sync_all(&outbox).await;
    assert_eq!(r.stopped, None);
    assert_eq!(r.operators_updated, Some((2, 1)));
    assert!(!outbox.operator_still_valid(&staff, now).unwrap());
    assert!(matches!(outbox.operator_login("GS0042", PIN, now, &policy()), Err(LoginError::Revoked)));
    // A revoked account is not brought back by adding it again.
    assert!(store.add_operator(&operator("GS0042", &["T-0001"], None), now).is_err());

    // Expiry is judged offline against the terminal's clock.
    outbox.operator_login("GS0043", PIN, now, &policy()).unwrap();
    assert!(matches!(outbox.operator_login("GS0043", PIN, now + time::Duration::days(2), &policy()), Err(LoginError::Expired(_))));
    assert!(!outbox.operator_still_valid(&StaffNumber::parse("GS0043").unwrap(), now + time::Duration::days(2)).unwrap());
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_operator_list_not_signed_by_the_pinned_hub_key_is_not_applied() {
    // A network attacker (or a rogue hub) answers /v1/operators with its own
    // accounts: the terminal pinned the genuine hub's key at enrollment.
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db")).await.unwrap();
    let genuine = model::auth::SigningKey::from_seed(&[42; 32]).public_key();
    let client = common::client(&hub, offline_cache::SyncConfig { hub_key: Some(genuine), ..quick() }).await;
    let now = OffsetDateTime::now_utc();
    hub.store().add_operator(&operator("GS0042", &["T-0001"], None), now).unwrap();

    assert!(client.pull_operators(&outbox).await.is_err(), "a list signed by another key is refused");
    assert!(matches!(outbox.operator_login("GS0042", PIN, now, &policy()), Err(LoginError::NeedsNetwork)), "nothing applied");
    let tail = outbox.audit_tail(10).unwrap();
    assert!(tail.iter().any(|e| e.action == "hub operators" && e.outcome.contains("not signed by the pinned hub key")), "{tail:?}");

    // With no key pinned at all, nothing is applied either.
    let unpinned = offline_cache::SyncClient::with_config(&hub.base_url(), common::identity(), quick()).unwrap();
    assert!(unpinned.pull_operators(&outbox).await.is_err());
    assert!(matches!(outbox.operator_login("GS0042", PIN, now, &policy()), Err(LoginError::NeedsNetwork)));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_operator_list_older_than_the_one_applied_is_refused() {
    // A replayed old list would bring back an account revoked since: the
    // terminal applies only lists issued at or after the last one.
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let offset = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let clock: hub::Clock = {
        let offset = offset.clone();
        std::sync::Arc::new(move || OffsetDateTime::now_utc() + time::Duration::seconds(offset.load(std::sync::atomic::Ordering::SeqCst)))
    };
    let options = hub::HubOptions { clock: Some(clock), ..hub::HubOptions::default() };
    let hub = Hub::spawn_with("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db"), options).await.unwrap();
    let client = common::client(&hub, quick()).await;
    let now = OffsetDateTime::now_utc();
    hub.store().add_operator(&operator("GS0042", &["T-0001"], None), now).unwrap();
    assert_eq!(client.pull_operators(&outbox).await.unwrap(), (1, 0));

    // The same hub key, but a list issued two minutes before the applied one.
    offset.store(-120, std::sync::atomic::Ordering::SeqCst);
    hub.store().add_operator(&operator("GS0077", &["T-0001"], None), now).unwrap();
    assert!(client.pull_operators(&outbox).await.is_err());
    assert!(matches!(outbox.operator_login("GS0077", PIN, now, &policy()), Err(LoginError::WrongCredentials { .. })), "the older list was not applied");
    assert!(outbox.audit_tail(10).unwrap().iter().any(|e| e.action == "hub operators" && e.outcome.contains("before the one already applied")));
    offset.store(0, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(client.pull_operators(&outbox).await.unwrap(), (2, 0), "a current list applies");
    hub.shutdown().await.unwrap();
}
