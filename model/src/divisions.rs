//! Administrative division codes (行政区划代码), compiled in from `model/data/`
//! (National Bureau of Statistics codes, 2023 edition; see `data/README.md`).
//!
//! A deployment takes the current list from the hub; this copy serves
//! validation of ID numbers and of the village a terminal is bound to.

use std::collections::HashMap;
use std::sync::OnceLock;

const PROVINCES: &str = include_str!("../data/provinces.csv");
const AREAS: &str = include_str!("../data/areas.csv");
const GANSU_VILLAGES: &str = include_str!("../data/gansu-villages.csv");

fn table(csv: &'static str) -> HashMap<&'static str, &'static str> {
    csv.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let code = cols.next()?.trim();
            let name = cols.next()?.trim().trim_matches('"');
            Some((code, name))
        })
        .collect()
}

fn provinces() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = table(PROVINCES);
        // Not in the statistical list, but valid prefixes of residence permits
        // for Hong Kong, Macao and Taiwan residents (GB 11643 amendment, 2018).
        t.insert("81", "香港特别行政区");
        t.insert("82", "澳门特别行政区");
        t.insert("83", "台湾地区");
        t
    })
}

fn counties() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    T.get_or_init(|| table(AREAS))
}

fn villages() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    T.get_or_init(|| table(GANSU_VILLAGES))
}

/// Name of a province by its two-digit code, e.g. `62` → 甘肃省.
pub fn province_name(code: &str) -> Option<&'static str> {
    provinces().get(code).copied()
}

/// Name of a county-level division by its six-digit code, e.g. `620102` → 城关区.
pub fn county_name(code: &str) -> Option<&'static str> {
    counties().get(code).copied()
}

/// Name of a Gansu village or community by its twelve-digit code.
pub fn gansu_village_name(code: &str) -> Option<&'static str> {
    villages().get(code).copied()
}

/// Number of Gansu villages and communities known.
pub fn gansu_village_count() -> usize {
    villages().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_real_codes() {
        assert_eq!(province_name("62"), Some("甘肃省"));
        assert_eq!(county_name("620102"), Some("城关区"));
        assert_eq!(gansu_village_name("620102001001"), Some("畅家巷社区居委会"));
        assert_eq!(gansu_village_count(), 17_718);
        assert_eq!(province_name("99"), None);
    }
}
