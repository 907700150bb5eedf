//! Deltas: one changed item travels alone, and a delta applies only to its
//! base and only as published.

use super::*;
use crate::auth::{SignedCatalog, SignedCatalogDelta, SigningKey};
use crate::text::LocalizedText;

fn next_version(c: &Catalog) -> Catalog {
    let mut n = c.clone();
    n.version += 1;
    n
}

#[test]
fn a_delta_turns_the_old_catalog_into_the_new_one_exactly() {
    let old = Catalog::starter();
    let mut new = next_version(&old);
    let mut added = new.items[0].clone();
    added.implement_code = ImplementCode::parse("620000RS0099").unwrap();
    added.name = LocalizedText::new("社会保障卡密码重置").with(crate::text::Lang::En, "Reset a social security card PIN");
    new.items.push(added);
    new.items[3].promised_time_limit.amount = 2;
    new.items.retain(|i| i.implement_code.as_str() != "620000RS0027");
    let delta = old.diff(&new);
    assert_eq!(delta.items.len(), 2);
    assert_eq!(delta.removed.len(), 1);
    assert!(delta.themes.is_none() && delta.bundles.is_none() && delta.order.is_none());
    assert_eq!(delta.apply(&old).unwrap(), new);
    // Reordering is carried too.
    let mut reordered = next_version(&old);
    reordered.items.swap(0, 1);
    assert_eq!(old.diff(&reordered).apply(&old).unwrap(), reordered);
}

#[test]
fn a_delta_for_another_base_or_altered_is_refused() {
    let old = Catalog::starter();
    let mut new = next_version(&old);
    new.items[0].phone = "0931-0000000".into();
    let delta = old.diff(&new);
    assert_eq!(delta.apply(&new), Err(DeltaError::WrongBase { expected: old.version, actual: new.version }));
    let mut altered = delta.clone();
    altered.items[0].phone = "0931-1111111".into();
    assert_eq!(altered.apply(&old), Err(DeltaError::HashMismatch));

    let key = SigningKey::from_seed(&[7; 32]);
    let signed = SignedCatalogDelta::sign(&key, &delta).unwrap();
    assert_eq!(signed.apply(&key.public_key(), &old).unwrap(), new);
    assert!(signed.apply(&SigningKey::from_seed(&[8; 32]).public_key(), &old).is_err());
    let forged = SignedCatalogDelta { body: SignedCatalogDelta::sign(&key, &altered).unwrap().body, ..signed.clone() };
    assert!(forged.apply(&key.public_key(), &old).is_err());
    // A signed full catalog still verifies alongside.
    let full = SignedCatalog::sign(&key, serde_json::to_string(&new).unwrap().as_bytes()).unwrap();
    assert_eq!(full.verify(&key.public_key()).unwrap().0, new);
}
