//! The e-license library connector (issue 16) against a library peer on
//! loopback that speaks the contract (hub/README.md, "E-license library")
//! and records what it is asked: found, not found, down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use hub::e_license::{ELicenseLibrary, LibraryConnector};
use hub::HubOptions;
use model::document::{DocumentKind, SignedDocument};
use model::protocol::{ELicenseAnswer, ELicenseQuery, TerminalConfig};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{start_with, submission};

#[derive(Default)]
struct Library {
    /// (material code, ID number) of every lookup with the right token.
    asked: Vec<(String, String)>,
    bad_token: usize,
}

type Shared = Arc<Mutex<Library>>;

async fn lookup(State(lib): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let mut lib = lib.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer l1brary") {
        lib.bad_token += 1;
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let (material, id) = (body["material_code"].as_str().unwrap_or_default().to_owned(), body["id_number"].as_str().unwrap_or_default().to_owned());
    lib.asked.push((material.clone(), id));
    if material == "hukou" {
        (StatusCode::OK, Json(json!({ "found": true, "license": { "type": "居民户口簿", "number": "HK-6201-0042", "issuer": "兰州市公安局城关分局", "issued_on": "2019-06-03" } })))
    } else {
        (StatusCode::OK, Json(json!({ "found": false })))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_is_asked_over_its_contract_and_its_outage_means_scan() {
    let library: Shared = Arc::new(Mutex::new(Library::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().route("/v1/licenses/lookup", post(lookup)).with_state(library.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let connector = LibraryConnector { library: ELicenseLibrary::new(&format!("http://127.0.0.1:{port}"), "l1brary", Duration::from_secs(5)).unwrap() };
    let (hub, api) = start_with(dir.path(), HubOptions { connector: Some(Arc::new(connector)), ..HubOptions::default() }).await;

    // With a library, the signed config lets kiosks offer "no scan needed".
    let doc: SignedDocument = api.get("/v1/terminal/config").await.json().await.unwrap();
    let config: TerminalConfig = doc.open(&hub.signing_public_key(), DocumentKind::TerminalConfig, "GS-0001", None).unwrap();
    assert!(config.paths.e_license);

    let id_number = submission(vec![]).applicant.id_number.clone();
    let ask = |code: &str| serde_json::to_vec(&ELicenseQuery { material_code: code.into(), id_number: id_number.clone() }).unwrap();
    let found: ELicenseAnswer = api.send(Method::POST, "/v1/e-license/lookup", ask("hukou")).await.json().await.unwrap();
    let doc = found.document.expect("found");
    assert!(found.available);
    assert_eq!(
        (doc.name.as_str(), doc.license_id.as_str(), doc.issuer.as_str(), doc.issued_on.as_deref()),
        ("居民户口簿", "HK-6201-0042", "兰州市公安局城关分局", Some("2019-06-03"))
    );
    let none: ELicenseAnswer = api.send(Method::POST, "/v1/e-license/lookup", ask("marriage")).await.json().await.unwrap();
    assert_eq!(none, ELicenseAnswer { available: false, document: None });
    {
        let lib = library.lock().unwrap();
        assert_eq!(lib.bad_token, 0);
        assert_eq!(lib.asked, [("hukou".to_owned(), id_number.expose().to_owned()), ("marriage".to_owned(), id_number.expose().to_owned())]);
    }

    // The library goes down: 503, and the kiosk asks for a scan.
    server.abort();
    let _ = server.await;
    let resp = api.send(Method::POST, "/v1/e-license/lookup", ask("hukou")).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    hub.shutdown().await.unwrap();
}
