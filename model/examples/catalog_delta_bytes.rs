//! Bytes on the wire for a one-item catalog change: the signed delta a
//! terminal downloads (`GET /v1/catalog?since=V&deltas=1`) against the
//! signed full catalog it downloaded before deltas (the baseline, measured
//! in the same run). Also one added item and a theme rename.
//!
//!     cargo run --release -p model --example catalog_delta_bytes

use model::auth::{SignedCatalog, SignedCatalogDelta, SigningKey};
use model::catalog::ImplementCode;
use model::protocol::CatalogUpdate;
use model::Catalog;

fn wire_full(key: &SigningKey, c: &Catalog) -> usize {
    let signed = SignedCatalog::sign(key, serde_json::to_string(c).expect("serialises").as_bytes()).expect("valid catalog");
    serde_json::to_vec(&CatalogUpdate::Full { catalog: signed }).expect("serialises").len()
}

fn wire_delta(key: &SigningKey, old: &Catalog, new: &Catalog) -> usize {
    let signed = SignedCatalogDelta::sign(key, &old.diff(new)).expect("signs");
    serde_json::to_vec(&CatalogUpdate::Deltas { deltas: vec![signed] }).expect("serialises").len()
}

fn main() {
    let key = SigningKey::from_seed(&[42; 32]);
    let old = Catalog::starter();
    let mut cases = Vec::new();

    let mut changed = old.clone();
    changed.version += 1;
    changed.items[5].promised_time_limit.amount = 3;
    cases.push(("one item changed (a promised time limit)", changed));

    let mut added = old.clone();
    added.version += 1;
    let mut item = added.items[0].clone();
    item.implement_code = ImplementCode::parse("620000RS0099").expect("valid code");
    added.items.push(item);
    cases.push(("one item added", added));

    let mut theme = old.clone();
    theme.version += 1;
    theme.themes[0].name = model::LocalizedText::new("社保");
    cases.push(("one theme renamed (all themes sent)", theme));

    println!("catalog: {} items, {} themes, {} bundles", old.items.len(), old.themes.len(), old.bundles.len());
    for (what, new) in &cases {
        let full = wire_full(&key, new);
        let delta = wire_delta(&key, &old, new);
        println!(
            "{what:<42} delta {delta:>7} bytes   full {full:>8} bytes   delta/full {:.4} ({:.0}x smaller)",
            delta as f64 / full as f64,
            full as f64 / delta as f64
        );
    }
}
