//! Remote diagnostics (issue 19): staff ask for a bundle on the fleet page,
//! the terminal answers at its next heartbeat through the resumable upload,
//! staff download it from the hub, and both are in the hub's audit. The
//! bundle carries nothing of the villager who filed, even when a log line
//! (wrongly) did.

use crate::common;

use std::sync::Arc;

use hub::Hub;
use model::diagnostics::DiagnosticsBundle;
use model::fixtures::{id_number_string, sample_applicant, SAMPLE_ID_FIRST17};
use offline_cache::DiagnosticsSource;

/// A kiosk whose log has the villager in it: the second line of defence
/// (masking in the bundle) is what this test is about.
struct LeakyKiosk;

impl DiagnosticsSource for LeakyKiosk {
    fn selftest(&self) -> Vec<String> {
        vec!["id_card: ok".into(), "receipt_printer: 打印机没有回应，请检查纸张".into()]
    }
    fn recent_logs(&self) -> Vec<String> {
        let a = sample_applicant();
        vec![
            "2026-12-04T10:00:00+08:00 INFO kiosk::visit: visit started".into(),
            format!("2026-12-04T10:01:00+08:00 WARN kiosk::visit: form check name=\"{}\" id={} phone=13800000000", a.name, id_number_string(SAMPLE_ID_FIRST17)),
            "2026-12-04T10:02:00+08:00 WARN kiosk::devices: 打印机没有回应，请检查纸张".into(),
        ]
    }
}

#[tokio::test]
async fn a_bundle_fetched_through_the_hub_names_no_villager() {
    let dir = tempfile::tempdir().unwrap();
    let (outbox, _) = common::open(dir.path());
    let hub = Hub::spawn("127.0.0.1:0".parse().unwrap(), &dir.path().join("hub.db")).await.unwrap();
    let client = common::client(&hub, common::quick()).await;
    client.set_diagnostics_source(Arc::new(LeakyKiosk));
    // The sample villager files (name, ID number, phone on the form).
    outbox.enqueue(&common::submission(vec![]), &[]).unwrap();
    let token = hub::new_staff_token().unwrap();
    hub.store().set_staff("ops", &hub::staff_token_hash(&token), time::OffsetDateTime::now_utc()).unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let terminal = client.terminal_id().to_owned();

    // Staff press the button on the fleet page (a form POST).
    let fleet = http.get(format!("{}/fleet", hub.base_url())).basic_auth("ops", Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(fleet.contains(&format!("action=\"/fleet/terminals/{terminal}/diagnostics\"")), "{fleet}");
    let anonymous = http.post(format!("{}/fleet/terminals/{terminal}/diagnostics", hub.base_url())).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let cross_site = http
        .post(format!("{}/fleet/terminals/{terminal}/diagnostics", hub.base_url()))
        .basic_auth("ops", Some(&token))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let asked = http.post(format!("{}/fleet/terminals/{terminal}/diagnostics", hub.base_url())).basic_auth("ops", Some(&token)).send().await.unwrap();
    assert_eq!(asked.status(), 303);
    let requests = hub.store().diagnostics_requests().unwrap();
    assert_eq!(requests.len(), 1);
    let id = requests[0].id;
    assert!(!requests[0].complete);
    let page = http.get(format!("{}/fleet", hub.base_url())).basic_auth("ops", Some(&token)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("waits for the next heartbeat"), "the page does not promise the bundle before the terminal answers");
    let early = http.get(format!("{}/fleet/diagnostics/{id}", hub.base_url())).basic_auth("ops", Some(&token)).send().await.unwrap();
    assert_eq!(early.status(), 404);

    // The terminal's next round: filing sent, heartbeat, bundle up.
    client.heartbeat_soon();
    let report = client.sync_all(&outbox).await;
    assert_eq!(report.stopped, None);
    assert_eq!(report.diagnostics_uploaded, Some(id));
    assert!(hub.store().diagnostics_requests().unwrap()[0].complete);
    // Answered once: the next heartbeat carries no request.
    client.heartbeat_soon();
    assert_eq!(client.sync_all(&outbox).await.diagnostics_uploaded, None);

    let resp = http.get(format!("{}/fleet/diagnostics/{id}", hub.base_url())).basic_auth("ops", Some(&token)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let a = sample_applicant();
    for (what, secret) in [("name", a.name.to_string()), ("ID number", id_number_string(SAMPLE_ID_FIRST17)), ("phone", "13800000000".to_owned())] {
        assert!(!text.contains(&secret), "the villager's {what} is in the bundle:\n{text}");
    }
    let bundle: DiagnosticsBundle = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((bundle.request_id, bundle.terminal_id.as_str()), (id, terminal.as_str()));
    assert_eq!(bundle.queue.acknowledged, 1);
    assert!(bundle.audit_head.as_ref().is_some_and(|h| h.seq > 0 && h.seq <= outbox.audit_head().unwrap().seq));
    assert!(bundle.selftest.iter().any(|l| l.starts_with("audit chain: intact")), "{:?}", bundle.selftest);
    assert!(bundle.logs.len() == 3 && bundle.logs[2].contains("打印机没有回应，请检查纸张"), "log lines kept, masked: {:?}", bundle.logs);

    let audit = hub.store().hub_audit_tail(20).unwrap();
    let by_ops = |action: &str| audit.iter().any(|e| e.actor == "ops" && e.action == action && e.subject.as_deref() == Some(terminal.as_str()));
    assert!(by_ops("diagnostics requested") && by_ops("diagnostics downloaded"), "{audit:?}");
    hub.shutdown().await.unwrap();
}
