//! The OpenAPI description matches the routes: every documented operation
//! is served, and on documented paths no undocumented method is.
//! (scripts/schemathesis.sh checks responses against the schemas.)

use crate::common;

use std::collections::BTreeSet;

use crate::common::start;
use reqwest::{Method, StatusCode};

fn concrete(path: &str) -> String {
    path.replace("{id}", "0190a4b2-1111-7222-8333-944455556666")
        .replace("{sha256}", &"ab".repeat(32))
        .replace("{case_number}", "622026010100000001")
        .replace("{version}", "0.2.0")
        .replace("{action}", "pause")
}

#[tokio::test]
async fn the_document_and_the_router_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, api) = start(dir.path()).await;
    let doc: serde_json::Value = common::http().get(format!("{}/v1/openapi.json", hub.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let listed: BTreeSet<(String, String)> = hub::openapi::OPERATIONS.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, listed);

    for (method, path) in &documented {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = api.send(m, &concrete(path), Vec::new()).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("no such endpoint"), "{method} {path} is documented but not routed: {status} {body}");
        assert!(!status.is_server_error(), "{method} {path}: {status} {body}");
    }
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["get", "put", "post", "delete", "patch"] {
            if documented.contains(&(method.to_owned(), path.clone())) {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = api.send(m, &concrete(path), Vec::new()).await.status();
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served but not documented");
        }
    }
    hub.shutdown().await.unwrap();
}

#[test]
fn every_schema_reference_resolves() {
    let doc = hub::openapi::document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}
