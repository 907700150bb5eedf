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

/// The simulated terminals of hub-load, sync-bench and the fleet example
/// (`hub::simulated`): real keys the hub lets in, the same keys again for
/// the same seed, villages in turn, all registered in one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_terminals_register_in_bulk_with_real_repeatable_keys() {
    use hub::simulated::{register_simulated, simulated_terminals};
    let dir = tempfile::tempdir().unwrap();
    let hub = spawn_hub(dir.path(), hub::HubOptions::default()).await;
    let store = hub.store();
    let villages = [model::VillageCode::parse("622926100202").unwrap(), model::VillageCode::parse("620102001001").unwrap()];
    let fleet = simulated_terminals(120, 9, "GS-S", &villages);
    let again = simulated_terminals(120, 9, "GS-S", &villages);
    let other = simulated_terminals(120, 10, "GS-S", &villages);
    assert_eq!((fleet[0].id.as_str(), fleet[119].id.as_str()), ("GS-S000000", "GS-S000119"));
    assert!(fleet.iter().zip(&again).all(|(a, b)| a.key.public_key() == b.key.public_key()), "the same seed gives the same keys");
    assert!(fleet.iter().zip(&other).all(|(a, b)| a.key.public_key() != b.key.public_key()), "another seed, other keys");
    let keys: std::collections::HashSet<String> = fleet.iter().map(|t| t.key.public_key().to_string()).collect();
    assert_eq!(keys.len(), 120, "every terminal its own key");

    let s = store.clone();
    let n = tokio::task::spawn_blocking(move || register_simulated(s.as_ref(), &again, Some("load"), OffsetDateTime::now_utc())).await.unwrap().unwrap();
    assert_eq!(n, 120);
    let registered = store.terminals().unwrap();
    let sim: Vec<_> = registered.iter().filter(|t| t.id.starts_with("GS-S")).collect();
    assert_eq!(sim.len(), 120);
    for t in &sim {
        let i: usize = t.id["GS-S".len()..].parse().unwrap();
        assert_eq!(t.public_key, fleet[i].key.public_key(), "{}", t.id);
        assert_eq!(t.village_code.as_ref(), Some(&villages[i % 2]), "{}", t.id);
        assert_eq!(t.label.as_deref(), Some("load"));
    }
    // A simulated terminal signs as a kiosk does and is let in.
    let api = Api { key: fleet[77].key.clone(), ..Api::at(&hub.base_url(), "GS-S000077") };
    assert_eq!(api.get("/v1/terminal/config").await.status(), reqwest::StatusCode::OK);
}
