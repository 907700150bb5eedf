//! What terminals push and pull besides submissions: evaluations,
//! heartbeats, config, e-license lookups; and forwarding through the connector.

use crate::common;

use std::sync::{Arc, Mutex};

use crate::common::{error_code, platform_key, seal, start, start_with, submission};
use hub::connector::{BoxFuture, CaseOpened, ConnectorError, PlatformConnector};
use hub::HubOptions;
use model::document::{DocumentKind, SignedDocument};
use model::evaluation::{Evaluation, Rating};
use model::protocol::{
    DeviceHealth, DeviceState, ELicenseAnswer, ELicenseDocument, ELicenseQuery, ErrorCode, EvaluationAck, EvaluationUpload, Heartbeat,
    HeartbeatAck, PutOutcome, QueueSnapshot, TerminalConfig,
};
use model::{CaseNumber, IdNumber};
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;

fn evaluation(id: uuid::Uuid, case_number: &CaseNumber, text: &str) -> EvaluationUpload {
    EvaluationUpload {
        id,
        evaluation: Evaluation {
            case_number: case_number.clone(),
            rating: Rating::VerySatisfied,
            reasons: vec![],
            text: text.into(),
        },
        rated_at: OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn evaluations_are_idempotent_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let (_, case) = common::file_case(&api).await;
    let id = uuid::Uuid::now_v7();
    let body = serde_json::to_vec(&evaluation(id, &case, "")).unwrap();
    let first = api.send(Method::PUT, &format!("/v1/evaluations/{id}"), body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = api.send(Method::PUT, &format!("/v1/evaluations/{id}"), body).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<EvaluationAck>().await.unwrap().outcome, PutOutcome::Replayed);
    let other = serde_json::to_vec(&evaluation(id, &case, "different")).unwrap();
    let resp = api.send(Method::PUT, &format!("/v1/evaluations/{id}"), other).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::CONFLICT, ErrorCode::Conflict));
    let resp = api.send(Method::PUT, &format!("/v1/evaluations/{}", uuid::Uuid::now_v7()), serde_json::to_vec(&evaluation(id, &case, "")).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "path and body ids must agree");
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_terminal_cannot_rate_another_terminals_case() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let stranger = common::Api::new(&hub, "GS-0002");
    stranger.register(&hub).await;
    let (_, case) = common::file_case(&api).await;
    async fn rate_as(who: &common::Api, case: &CaseNumber, id: uuid::Uuid) -> reqwest::Response {
        let body = serde_json::to_vec(&evaluation(id, case, "")).unwrap();
        who.send(Method::PUT, &format!("/v1/evaluations/{id}"), body).await
    }
    let rate = |who, id| rate_as(who, &case, id);
    // Another terminal, and a case that does not exist, are refused alike.
    let resp = rate(&stranger, uuid::Uuid::now_v7()).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid));
    let nowhere = EvaluationUpload { evaluation: Evaluation { case_number: CaseNumber::parse("622026010199999999").unwrap(), ..evaluation(uuid::Uuid::nil(), &case, "").evaluation }, ..evaluation(uuid::Uuid::now_v7(), &case, "") };
    let resp = api.send(Method::PUT, &format!("/v1/evaluations/{}", nowhere.id), serde_json::to_vec(&nowhere).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The terminal that filed it rates it, once.
    assert_eq!(rate(&api, uuid::Uuid::now_v7()).await.status(), StatusCode::CREATED);
    let resp = rate(&api, uuid::Uuid::now_v7()).await;
    assert_eq!((resp.status(), error_code(resp).await.code), (StatusCode::CONFLICT, ErrorCode::Conflict), "once per case");
    let held = super::common::db(dir.path()).evaluations().unwrap();
    assert_eq!(held.len(), 1);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_heartbeat_is_kept_and_answered_with_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let hb = Heartbeat {
        sent_at: OffsetDateTime::now_utc(),
        app_version: "kiosk/0.1.0".into(),
        catalog_version: Some(3),
        config_version: Some(0),
        queue: QueueSnapshot { unsent: 4, quarantined: 1, acknowledged: 2, oldest_unsent_secs: Some(7200), evaluations_unsent: 0 },
        free_disk_bytes: Some(1 << 30),
        devices: vec![DeviceHealth { device: "id_card".into(), state: DeviceState::Absent, detail: Some("读卡器没有连接好".into()) }],
        alerts: vec!["quarantined".into()],
        clock_offset_secs: 0,
        audit: None,
        update: None,
    };
    let ack: HeartbeatAck = api.send(Method::POST, "/v1/heartbeat", serde_json::to_vec(&hb).unwrap()).await.json().await.unwrap();
    assert_eq!((ack.config_version, ack.catalog_version), (0, None));
    let t = &hub.store().terminals().unwrap()[0];
    assert_eq!(t.last_heartbeat.as_ref().unwrap().1, hb);
    assert!(t.last_seen_at.is_some());

    hub.store().set_terminal_config(None, &TerminalConfig { version: 2, ..TerminalConfig::default() }).unwrap();
    let ack: HeartbeatAck = api.send(Method::POST, "/v1/heartbeat", serde_json::to_vec(&hb).unwrap()).await.json().await.unwrap();
    assert_eq!(ack.config_version, 2);
    let resp = api.send(Method::POST, "/v1/heartbeat", br#"{"sent_at": 1}"#.to_vec()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn each_terminal_gets_its_own_config_or_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let other = common::Api::new(&hub, "GS-0002");
    other.register(&hub).await;
    let store = hub.store();
    store.set_terminal_config(None, &TerminalConfig { version: 1, sync_interval_secs: 30, ..TerminalConfig::default() }).unwrap();
    let mine = TerminalConfig { version: 5, sync_interval_secs: 60, heartbeat_interval_secs: 120, notice: Some("周五停机".into()), ..TerminalConfig::default() };
    store.set_terminal_config(Some("GS-0001"), &mine).unwrap();
    // Signed with the hub's key, for the asking terminal only.
    let key = hub.signing_public_key();
    let doc: SignedDocument = api.get("/v1/terminal/config").await.json().await.unwrap();
    let got: TerminalConfig = doc.open(&key, DocumentKind::TerminalConfig, "GS-0001", None).unwrap();
    assert_eq!(got, mine);
    assert!(doc.open::<TerminalConfig>(&key, DocumentKind::TerminalConfig, "GS-0002", None).is_err(), "not for another terminal");
    let doc: SignedDocument = other.get("/v1/terminal/config").await.json().await.unwrap();
    let theirs: TerminalConfig = doc.open(&key, DocumentKind::TerminalConfig, "GS-0002", None).unwrap();
    assert_eq!((theirs.version, theirs.sync_interval_secs), (1, 30));
    hub.shutdown().await.unwrap();
}

/// A platform stand-in that records forwarded cases and knows one e-license.
#[derive(Default)]
struct Recording(Mutex<Vec<String>>);

impl PlatformConnector for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }
    fn case_opened<'a>(&'a self, case: &'a CaseOpened) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            self.0.lock().unwrap().push(format!("{} {} {}", case.case_number, case.item_code, case.terminal_id));
            Ok(())
        })
    }
    fn lookup_e_license<'a>(&'a self, q: &'a ELicenseQuery) -> BoxFuture<'a, Result<ELicenseAnswer, ConnectorError>> {
        Box::pin(async move {
            if q.material_code == "hukou" {
                Ok(ELicenseAnswer {
                    available: true,
                    document: Some(ELicenseDocument { name: "居民户口簿".into(), issuer: "公安局".into(), license_id: "HK-1".into() }),
                })
            } else if q.material_code == "down" {
                Err(ConnectorError::Unavailable("e-license library".into()))
            } else {
                Ok(ELicenseAnswer { available: false, document: None })
            }
        })
    }
}

#[tokio::test]
async fn cases_are_forwarded_once_and_e_licenses_looked_up_through_the_connector() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Arc::new(Recording::default());
    let (hub, api) = start_with(dir.path(), HubOptions { connector: Some(recording.clone()), ..HubOptions::default() }).await;
    let sub = submission(vec![]);
    api.put_manifest(sub.id, seal(&platform_key(), &sub, &[]).envelope.to_bytes()).await;
    assert_eq!(api.commit(sub.id).await.status(), StatusCode::OK);
    assert_eq!(api.commit(sub.id).await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let forwarded = recording.0.lock().unwrap().clone();
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    assert!(forwarded[0].ends_with("620000RS0001 GS-0001"));

    let id_number = sub.applicant.id_number.clone();
    let ask = |code: &str| serde_json::to_vec(&ELicenseQuery { material_code: code.into(), id_number: id_number.clone() }).unwrap();
    let a: ELicenseAnswer = api.send(Method::POST, "/v1/e-license/lookup", ask("hukou")).await.json().await.unwrap();
    assert!(a.available);
    let a: ELicenseAnswer = api.send(Method::POST, "/v1/e-license/lookup", ask("photo")).await.json().await.unwrap();
    assert!(!a.available);
    let resp = api.send(Method::POST, "/v1/e-license/lookup", ask("down")).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "the kiosk falls back to scanning");
    // A malformed ID number is refused without being echoed.
    let bad = br#"{"material_code":"hukou","id_number":"620102199013071234"}"#.to_vec();
    let resp = api.send(Method::POST, "/v1/e-license/lookup", bad).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!error_code(resp).await.message.contains("6201021990"));
    hub.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_default_back_office_has_no_e_license_library() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let first17 = *b"62010219900307123";
    let id = IdNumber::parse(&format!("62010219900307123{}", model::identity::check_char(&first17))).unwrap();
    let q = serde_json::to_vec(&ELicenseQuery { material_code: "hukou".into(), id_number: id }).unwrap();
    let a: ELicenseAnswer = api.send(Method::POST, "/v1/e-license/lookup", q).await.json().await.unwrap();
    assert_eq!(a, ELicenseAnswer { available: false, document: None });
    hub.shutdown().await.unwrap();
}

/// A valid 18-digit ID number ending in `n` (three digits) before the check character.
fn id_number(n: u16) -> IdNumber {
    let first17 = format!("62010219900307{n:03}");
    let bytes: [u8; 17] = first17.as_bytes().try_into().unwrap();
    IdNumber::parse(&format!("{first17}{}", model::identity::check_char(&bytes))).unwrap()
}

#[tokio::test]
async fn a_terminal_cannot_walk_the_e_license_library_through_id_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Arc::new(Recording::default());
    let options = HubOptions { connector: Some(recording), e_license_people_per_day: Some(2), ..HubOptions::default() };
    let (hub, api) = start_with(dir.path(), options).await;
    let other = common::Api::new(&hub, "GS-0002");
    other.register(&hub).await;
    async fn ask(who: &common::Api, n: u16, code: &str) -> reqwest::Response {
        let body = serde_json::to_vec(&ELicenseQuery { material_code: code.into(), id_number: id_number(n) }).unwrap();
        who.send(Method::POST, "/v1/e-license/lookup", body).await
    }
    // The people at the kiosk today: several materials each are fine.
    assert_eq!(ask(&api, 101, "hukou").await.status(), StatusCode::OK);
    assert_eq!(ask(&api, 101, "photo").await.status(), StatusCode::OK);
    assert_eq!(ask(&api, 102, "hukou").await.status(), StatusCode::OK);
    // A third person in a day is past this terminal's allowance.
    let resp = ask(&api, 103, "hukou").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(error_code(resp).await.code, ErrorCode::QuotaExceeded);
    assert_eq!(ask(&api, 102, "photo").await.status(), StatusCode::OK, "people already looked up today still are");
    assert_eq!(ask(&other, 103, "hukou").await.status(), StatusCode::OK, "other terminals are not held back");
    // Every lookup is audited, with the ID number masked.
    let audit = super::common::db(dir.path()).e_license_audit().unwrap();
    assert_eq!(audit.len(), 6);
    let full = id_number(103).expose().to_owned();
    assert!(audit.iter().all(|(_, _, masked, _)| masked.contains('*') && !masked.contains(&full[6..14])), "{audit:?}");
    assert_eq!(audit[3], ("GS-0001".to_owned(), "hukou".to_owned(), id_number(103).masked(), "refused".to_owned()));
    assert_eq!(audit[0].3, "found");
    hub.shutdown().await.unwrap();
}
