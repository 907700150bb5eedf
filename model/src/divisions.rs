//! Administrative division codes (行政区划代码), compiled in from `model/data/`
//! (National Bureau of Statistics codes, 2023 edition; see `data/README.md`).
//!
//! A deployment takes the current list from the hub; this copy serves
//! validation of ID numbers and of the village a terminal is bound to.

use std::collections::HashMap;
use std::sync::OnceLock;

const PROVINCES: &str = include_str!("../data/provinces.csv");
const CITIES: &str = include_str!("../data/cities.csv");
const AREAS: &str = include_str!("../data/areas.csv");
const GANSU_VILLAGES: &str = include_str!("../data/gansu-villages.csv");
const GANSU_TOWNSHIPS: &str = include_str!("../data/gansu-streets.csv");

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

/// A division: its code and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Division {
    /// 6 digits (county), 9 (township or street) or 12 (village or community).
    pub code: &'static str,
    /// The official name, e.g. 锁南镇.
    pub name: &'static str,
}

/// The rows of `csv` whose code starts with `parent` and is `len` digits
/// long, in code order: the children of a division.
fn children(csv: &'static str, parent: &str, len: usize) -> Vec<Division> {
    let mut out: Vec<Division> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let code = cols.next()?.trim();
            let name = cols.next()?.trim().trim_matches('"');
            (code.len() == len && code.starts_with(parent)).then_some(Division { code, name })
        })
        .collect();
    out.sort_by_key(|d| d.code);
    out
}

/// Gansu's county-level divisions (县、区、县级市), in code order: the first
/// step of the place picker.
pub fn gansu_counties() -> Vec<Division> {
    children(AREAS, "62", 6)
}

/// The townships and streets (乡、镇、街道) of a Gansu county, in code order.
pub fn gansu_townships(county: &str) -> Vec<Division> {
    if county.len() != 6 {
        return Vec::new();
    }
    children(GANSU_TOWNSHIPS, county, 9)
}

/// The villages and communities of a Gansu township, in code order.
pub fn gansu_villages(township: &str) -> Vec<Division> {
    // Indexed once: the picker asks for one township at a time, and a scan
    // of 17,718 rows per tap adds up.
    static BY_TOWNSHIP: OnceLock<HashMap<&str, Vec<Division>>> = OnceLock::new();
    let index = BY_TOWNSHIP.get_or_init(|| {
        let mut index: HashMap<&str, Vec<Division>> = HashMap::new();
        for v in children(GANSU_VILLAGES, "62", 12) {
            index.entry(&v.code[..9]).or_default().push(v);
        }
        index
    });
    index.get(township).cloned().unwrap_or_default()
}

/// Name of a Gansu township or street by its nine-digit code.
pub fn gansu_township_name(code: &str) -> Option<&'static str> {
    static T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    T.get_or_init(|| table(GANSU_TOWNSHIPS)).get(code).copied()
}

/// Name of a province by its two-digit code, e.g. `62` → 甘肃省.
pub fn province_name(code: &str) -> Option<&'static str> {
    provinces().get(code).copied()
}

/// Name of a prefecture-level division by its four-digit code, e.g. `6229` → 临夏回族自治州.
pub fn city_name(code: &str) -> Option<&'static str> {
    static T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    T.get_or_init(|| table(CITIES)).get(code).copied()
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

    #[test]
    fn the_place_picker_walks_county_township_village() {
        let counties = gansu_counties();
        assert!(counties.iter().any(|c| c.code == "622926" && c.name == "东乡族自治县"));
        assert!(counties.iter().all(|c| c.code.starts_with("62") && c.code.len() == 6));
        let townships = gansu_townships("620102");
        assert_eq!(townships.first().map(|t| t.name), Some("酒泉路街道"));
        assert_eq!(gansu_township_name("620102001"), Some("酒泉路街道"));
        let villages = gansu_villages("620102001");
        assert_eq!(villages.first().map(|v| (v.code, v.name)), Some(("620102001001", "畅家巷社区居委会")));
        // Every village is reachable through its county and township.
        let reachable: usize = counties.iter().flat_map(|c| gansu_townships(c.code)).map(|t| gansu_villages(t.code).len()).sum();
        assert_eq!(reachable, gansu_village_count());
        assert!(gansu_townships("62").is_empty() && gansu_villages("620102").is_empty());
    }
}
