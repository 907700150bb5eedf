//! Which catalog the kiosk serves: the configured file, or the compiled-in
//! starter when there is none or it is unusable (said on screen and in the log,
//! never silently).

use std::path::Path;

use model::Catalog;
use tracing::{error, info};
use ui::i18n::n_;

/// The catalog to serve, and why it is not the configured one if it is not.
pub struct Loaded {
    /// The configured catalog, or the built-in starter when it was refused.
    pub catalog: Catalog,
    /// A sentence for the banner when the configured catalog was refused.
    pub problem: Option<String>,
}

/// Loads the catalog at `path`, or the built-in starter when there is none; a missing or corrupt file falls back to the starter with a banner (and an error in the log).
pub fn load(path: Option<&Path>) -> Loaded {
    let Some(path) = path else {
        return Loaded { catalog: Catalog::starter(), problem: None };
    };
    let result = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| Catalog::from_json(&text).map_err(|e| e.to_string()));
    match result {
        Ok(catalog) => {
            info!(path = %path.display(), version = catalog.version, "catalog loaded");
            Loaded { catalog, problem: None }
        }
        Err(reason) => {
            error!(path = %path.display(), %reason, "catalog refused; serving the built-in starter catalog");
            Loaded {
                catalog: Catalog::starter(),
                problem: Some(n_("服务目录文件损坏，暂用内置目录。请联系技术员。").to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_catalog_falls_back_with_a_banner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.json");
        std::fs::write(&path, "{\"version\": 3, \"items\": [").unwrap();
        let loaded = load(Some(&path));
        assert_eq!(loaded.catalog, Catalog::starter());
        assert!(loaded.problem.unwrap().contains("损坏"));
        let missing = load(Some(&dir.path().join("nope.json")));
        assert!(missing.problem.is_some());
        std::fs::write(&path, Catalog::starter_json()).unwrap();
        assert!(load(Some(&path)).problem.is_none());
    }
}
