//! Bulk registration (`TerminalStore::add_terminals`, issue 17): many
//! terminals in one transaction, by add_terminal's rules, all or none.
//! Both backends.

use hub::{NewTerminal, StoreError};
use time::OffsetDateTime;

use super::common::{random_key, spawn_hub, Api};

fn new_terminal(id: &str, key: &model::auth::SigningKey) -> NewTerminal {
    NewTerminal { id: id.into(), public_key: key.public_key(), village_code: None, label: Some("bulk".into()) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_terminals_register_at_once_and_a_conflict_registers_none() {
    let dir = tempfile::tempdir().unwrap();
    let hub = spawn_hub(dir.path(), hub::HubOptions::default()).await;
    let store = hub.store();
    let keys: Vec<_> = (0..300).map(|_| random_key()).collect();
    let batch: Vec<NewTerminal> = keys.iter().enumerate().map(|(i, k)| new_terminal(&format!("GS-B{i:04}"), k)).collect();
    let (s, b) = (store.clone(), batch.clone());
    assert_eq!(tokio::task::spawn_blocking(move || s.add_terminals(&b, OffsetDateTime::now_utc())).await.unwrap().unwrap(), 300);
    // Registered terminals are let in.
    let api = Api { key: keys[299].clone(), ..Api::at(&hub.base_url(), "GS-B0299") };
    assert_eq!(api.get("/v1/terminal/config").await.status(), reqwest::StatusCode::OK);
    // The same batch again is fine (as add_terminal with the same key).
    let (s, b) = (store.clone(), batch.clone());
    assert_eq!(tokio::task::spawn_blocking(move || s.add_terminals(&b, OffsetDateTime::now_utc())).await.unwrap().unwrap(), 300);

    // A batch with a known id under another key: refused whole.
    let fresh = random_key();
    let bad = vec![new_terminal("GS-NEW1", &fresh), new_terminal("GS-B0007", &random_key())];
    let s = store.clone();
    let err = tokio::task::spawn_blocking(move || s.add_terminals(&bad, OffsetDateTime::now_utc())).await.unwrap().unwrap_err();
    assert!(matches!(&err, StoreError::TerminalConflict(id) if id == "GS-B0007"), "{err:?}");
    assert!(store.terminal_key("GS-NEW1").unwrap().is_none(), "nothing of a refused batch is kept");
    // A known key under another id: refused too.
    let bad = vec![new_terminal("GS-NEW2", &keys[3])];
    let s = store.clone();
    let err = tokio::task::spawn_blocking(move || s.add_terminals(&bad, OffsetDateTime::now_utc())).await.unwrap().unwrap_err();
    assert!(matches!(&err, StoreError::TerminalConflict(_)), "{err:?}");
    assert!(store.terminal_key("GS-NEW2").unwrap().is_none());
}
