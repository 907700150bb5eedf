//! Bytes a terminal downloads for a catalog update: the body of
//! `GET /v1/catalog?since=V&deltas=1` (the JSON of `CatalogUpdate` the hub
//! answers with) for a one-item change, against the full signed catalog a
//! terminal without a version gets. Also the time the store takes to answer.
//!
//!     cargo bench -p hub --bench catalog_delta
//!
//! Prints figures; asserts nothing about them (budgets are read, not tested).

use std::time::Instant;

use hub::store::CatalogStore;
use hub::SqliteStore;
use model::auth::SigningKey;
use model::protocol::CatalogUpdate;
use model::{Catalog, LocalizedText};
use time::OffsetDateTime;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("hub.db")).expect("store");
    let key = SigningKey::from_seed(&[7; 32]);
    let v1 = Catalog::starter();
    let json1 = serde_json::to_vec(&v1).expect("catalog serialises");
    let p1 = hub::catalog::prepare(&key, &json1, None).expect("v1 signs");
    store.publish_catalog(&p1.full, p1.delta.as_ref(), OffsetDateTime::now_utc()).expect("publish v1");

    // One item changes (its promised time limit and its name), nothing else.
    let mut v2 = v1.clone();
    v2.version += 1;
    v2.items[10].promised_time_limit.amount += 1;
    v2.items[10].name = LocalizedText::new(format!("{}（新）", v2.items[10].name.get(model::Lang::ZhCn)));
    let json2 = serde_json::to_vec(&v2).expect("catalog serialises");
    let p2 = hub::catalog::prepare(&key, &json2, Some(&p1.full)).expect("v2 signs");
    store.publish_catalog(&p2.full, p2.delta.as_ref(), OffsetDateTime::now_utc()).expect("publish v2");

    let body = |since: u64| {
        let update = store.catalog_update(since).expect("update").expect("a catalog is published");
        let kind = match &update {
            CatalogUpdate::Deltas { deltas } => format!("{} delta(s)", deltas.len()),
            CatalogUpdate::Full { .. } => "full copy".to_owned(),
        };
        (serde_json::to_vec(&update).expect("update serialises").len(), kind)
    };
    let (delta_bytes, delta_kind) = body(v1.version);
    let (full_bytes, full_kind) = body(0);
    println!("catalog: {} items, {} themes, {} bundles", v2.items.len(), v2.themes.len(), v2.bundles.len());
    println!("one-item change, terminal on v{}: {delta_bytes} bytes ({delta_kind})", v1.version);
    println!("new terminal (since=0):          {full_bytes} bytes ({full_kind})");
    println!("ratio: {:.1}% of the full copy", 100.0 * delta_bytes as f64 / full_bytes as f64);

    const N: u32 = 200;
    for (label, since) in [("delta", v1.version), ("full", 0)] {
        let start = Instant::now();
        for _ in 0..N {
            std::hint::black_box(store.catalog_update(since).expect("update"));
        }
        println!("store answer ({label}): {:.2} ms each over {N}", start.elapsed().as_secs_f64() * 1000.0 / f64::from(N));
    }
}
