//! Operator accounts for assisted mode: pulled from the real hub, offline
//! login against the synced Argon2id hashes, lockout that survives a
//! restart, revoked and expired accounts, and every attempt audited.

mod common;

use std::time::Duration;

use common::quick;
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
