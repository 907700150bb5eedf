//! Enrollment end to end (issue 8): a fresh terminal data directory enrolls
//! against a hub on loopback with a one-time code, receives its village
//! config, and syncs a filing; the same code fails a second time; an expired
//! code fails; a revoked terminal is refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hub::{EnrollBinding, Hub, HubOptions, StoreError};
use model::enroll::{code_hash, Profile, ENROLL_CODE_TTL_SECS};
use model::protocol::{ErrorCode, TerminalConfig};
use model::seal::PlatformPublicKey;
use model::VillageCode;
use offline_cache::{EnrolledTerminal, Enroller, Outbox, OutboxConfig, StopReason, SyncClient};
use tests::sync_fixtures::filing;

const VILLAGE: &str = "622926100202";

fn binding(fingerprint: Option<String>) -> EnrollBinding {
    EnrollBinding {
        terminal_id: None,
        village_code: VillageCode::parse(VILLAGE).unwrap(),
        profile: Profile::Kiosk,
        expected_fingerprint: fingerprint,
        actor: "test technician".into(),
    }
}

/// Waits until the hub lists `serial` as presented (the technician's `hub enroll --list`).
async fn until_presented(hub: &Hub, serial: &str) {
    for _ in 0..200 {
        if hub.store().pending_enrollments(time::OffsetDateTime::now_utc()).unwrap().iter().any(|e| e.serial == serial) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("terminal {serial} never presented its code");
}

fn refusal<T: std::fmt::Debug>(r: Result<T, offline_cache::EnrollError>) -> ErrorCode {
    r.expect_err("must be refused").refusal().expect("a refusal by the hub")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_terminal_enrolls_syncs_and_its_code_is_spent() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(offline_cache::generate_platform_key());
    let catalog_key = model::auth::SigningKey::from_seed(&[9; 32]).public_key();
    let hub = Hub::spawn_with(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &dir.path().join("hub.db"),
        HubOptions { platform_key: Some(platform.clone()), catalog_public_key: Some(catalog_key), ..HubOptions::default() },
    )
    .await
    .unwrap();
    let config = TerminalConfig { version: 3, sync_interval_secs: 20, heartbeat_interval_secs: 120, notice: Some("周六停机维护".into()), ..TerminalConfig::default() };
    hub.store().set_terminal_config(None, &config).unwrap();

    // A fresh data directory: the key is made now, the code is new.
    let data = dir.path().join("terminal-a");
    let enroller = Enroller::new(&hub.base_url(), &data, "SN-A-0001").unwrap();
    let code = enroller.code().to_owned();
    let qr = enroller.qr_payload();
    assert!(qr.contains("SN-A-0001") && qr.contains(&enroller.fingerprint()), "{qr}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("device.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the device key is private");
    }
    let fingerprint = enroller.fingerprint();
    let (data2, url) = (data.clone(), hub.base_url());
    let waiting = tokio::spawn(async move {
        let mut pending = 0;
        let r = enroller.wait(&data2, Duration::from_millis(100), Duration::from_secs(30), |p| pending += p.is_ok() as u32).await;
        (r, pending)
    });
    until_presented(&hub, "SN-A-0001").await;
    // A technician typing a wrong fingerprint is stopped, and the code stays usable.
    let wrong = hub.bind_enrollment(&code, binding(Some("0000000000000000".into()))).await;
    assert!(matches!(wrong, Err(hub::HubError::Store(StoreError::EnrollFingerprintMismatch { .. }))), "{wrong:?}");
    // Typed as a technician would: lower case, with the dash.
    let typed = model::enroll::display_code(&code).to_lowercase();
    let bound = hub.bind_enrollment(&typed, binding(Some(fingerprint.clone()))).await.unwrap();
    assert_eq!(bound.terminal_id.as_deref(), Some("T-SN-A-0001"));

    let (enrolled, pending) = waiting.await.unwrap();
    let enrolled = enrolled.expect("enrolled");
    assert!(pending >= 1, "the terminal saw a pending answer first");
    let e = &enrolled.enrollment;
    assert_eq!((e.terminal_id.as_str(), e.village_code.as_str(), e.profile), ("T-SN-A-0001", VILLAGE, Profile::Kiosk));
    assert_eq!(e.config, config);
    assert_eq!(e.platform_public_key.as_deref(), Some(platform.public_key().to_string().as_str()));
    assert_eq!(e.catalog_public_key.as_deref(), Some(catalog_key.to_string().as_str()));
    assert_eq!(EnrolledTerminal::load(&data).unwrap().as_ref(), Some(&enrolled), "kept in enrollment.json");

    // It syncs a filing with what it received: its id, its key, the platform key.
    let identity = enrolled.identity(&data).unwrap();
    assert_eq!(identity.public_key().fingerprint(), fingerprint);
    let platform_public = PlatformPublicKey::parse(e.platform_public_key.as_deref().unwrap()).unwrap();
    let outbox = Outbox::open(&data.join("outbox.db"), OutboxConfig::new(platform_public, &e.terminal_id)).unwrap();
    let (mut sub, atts) = filing(8, 0, 2048);
    sub.terminal_id = e.terminal_id.clone();
    outbox.enqueue(&sub, &atts).unwrap();
    let sync = SyncClient::new(&url, identity.clone()).unwrap();
    let report = sync.sync_all(&outbox).await;
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
    assert_eq!(report.acknowledged.len(), 1, "the filing reached the hub");
    let case = hub.store().case(report.acknowledged[0].1.as_str()).unwrap().expect("case on the hub");
    assert_eq!(case.submission_id, sub.id);

    // The same code a second time: by another terminal, by the same one, by a technician.
    let other = Enroller::with_code(&url, &dir.path().join("terminal-b"), "SN-B-0002", &code).unwrap();
    assert_eq!(refusal(other.present().await), ErrorCode::EnrollCodeUsed);
    let again = Enroller::with_code(&url, &data, "SN-A-0001", &code).unwrap();
    assert_eq!(refusal(again.present().await), ErrorCode::EnrollCodeUsed);
    let rebind = hub.bind_enrollment(&code, binding(None)).await;
    assert!(matches!(rebind, Err(hub::HubError::Store(StoreError::EnrollCodeUsed))), "{rebind:?}");

    // An expired code: presented, then bound (or polled) past its life.
    let late = Enroller::new(&url, &dir.path().join("terminal-c"), "SN-C-0003").unwrap();
    assert!(matches!(late.present().await.unwrap(), Ok(model::enroll::EnrollAnswer::Pending { .. })));
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(ENROLL_CODE_TTL_SECS + 60);
    let hash = code_hash(late.code());
    assert!(matches!(hub.store().bind_enrollment(&hash, &binding(None), later), Err(StoreError::EnrollCodeExpired)));
    let key = late_key(&dir.path().join("terminal-c"));
    let poll = hub.store().present_enrollment(&hub::EnrollPresentation { code_hash: &hash, serial: "SN-C-0003", public_key: &key }, later);
    assert!(matches!(poll, Err(StoreError::EnrollCodeExpired)), "{poll:?}");
    assert!(hub.store().terminals().unwrap().iter().all(|t| t.id != "T-SN-C-0003"), "nothing registered");

    // Revoked: its sync is refused, and it cannot come back by enrolling again.
    hub.revoke_terminal(&e.terminal_id).await.unwrap();
    let (mut next, atts) = filing(8, 1, 2048);
    next.terminal_id = e.terminal_id.clone();
    outbox.enqueue(&next, &atts).unwrap();
    let report = sync.sync_all(&outbox).await;
    assert!(report.acknowledged.is_empty());
    assert!(matches!(report.stopped, Some(StopReason::AuthRejected { status: 403, .. })), "{:?}", report.stopped);
    let comeback = Enroller::new(&url, &data, "SN-A-0001").unwrap();
    assert_eq!(refusal(comeback.present().await), ErrorCode::Revoked);

    hub.shutdown().await.unwrap();
}

/// The public key a data directory's device key file holds.
fn late_key(data: &std::path::Path) -> model::auth::PublicKey {
    offline_cache::DeviceIdentity::load_or_create(&data.join("device.key"), "UNENROLLED").unwrap().0.public_key()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_is_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::spawn_with(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &dir.path().join("hub.db"),
        HubOptions { enroll_rate: Some((3, 1)), ..HubOptions::default() },
    )
    .await
    .unwrap();
    let enroller = Enroller::new(&hub.base_url(), &dir.path().join("t"), "SN-RATE").unwrap();
    for _ in 0..3 {
        assert!(enroller.present().await.unwrap().is_ok(), "within the burst");
    }
    let wait = enroller.present().await.unwrap().expect_err("the fourth is limited");
    assert!(wait >= Duration::from_secs(1), "{wait:?}");
    hub.shutdown().await.unwrap();
}
