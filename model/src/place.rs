//! A place picked down to the village (issue 14): the 12-digit division
//! code of a Gansu village or community, plus what the picker cannot know
//! (group, house number), typed.
//!
//! On a form a place travels as one string, `<code>|<detail>`; the code
//! is fixed-width, so a `|` typed into the detail needs no escaping. The
//! submission carries the code AND the names ([`Place::full_text`]), so the
//! platform need not hold the same edition of the division list.

use crate::divisions;

/// Where the code ends in a form value.
const CODE_LEN: usize = 12;

/// A Gansu village (or community) and the rest of the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// 12-digit 行政区划代码 of a village or community in the compiled list.
    pub code: String,
    /// Group, house number … as typed; may be empty.
    pub detail: String,
}

/// The names of one village's chain, from the province down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceNames {
    /// 甘肃省.
    pub province: &'static str,
    /// 市、州.
    pub city: &'static str,
    /// 县、区、县级市.
    pub county: &'static str,
    /// 乡、镇、街道.
    pub township: &'static str,
    /// 村委会、居委会 (the official name).
    pub village: &'static str,
}

impl PlaceNames {
    /// 甘肃省临夏回族自治州东乡族自治县锁南镇…村委会: how an address is written.
    pub fn joined(&self) -> String {
        // 嘉峪关市 is both city and county: written once.
        let county = if self.county == self.city { "" } else { self.county };
        [self.province, self.city, county, self.township, self.village].concat()
    }
}

/// The names of a village code's province, county, township and village,
/// or None when any link of the chain is unknown.
pub fn names_of(code: &str) -> Option<PlaceNames> {
    if code.len() != CODE_LEN || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(PlaceNames {
        province: divisions::province_name(&code[..2])?,
        city: divisions::city_name(&code[..4])?,
        county: divisions::county_name(&code[..6])?,
        township: divisions::gansu_township_name(&code[..9])?,
        village: divisions::gansu_village_name(code)?,
    })
}

impl Place {
    /// Reads a form value; None when it is not `<known village code>|<detail>`.
    pub fn parse(value: &str) -> Option<Place> {
        let (code, rest) = (value.get(..CODE_LEN)?, value.get(CODE_LEN..)?);
        let detail = rest.strip_prefix('|')?;
        names_of(code)?;
        Some(Place { code: code.to_owned(), detail: detail.trim().to_owned() })
    }

    /// The form value.
    pub fn encode(&self) -> String {
        format!("{}|{}", self.code, self.detail)
    }

    /// The names up the chain (None only for a code not in the list).
    pub fn names(&self) -> Option<PlaceNames> {
        names_of(&self.code)
    }

    /// The address as a person writes it: the names, then the detail.
    pub fn full_text(&self) -> String {
        let names = self.names().map(|n| n.joined()).unwrap_or_default();
        if self.detail.is_empty() {
            names
        } else {
            format!("{names} {}", self.detail)
        }
    }

    /// A card's printed address as a place, when it names a Gansu village
    /// (county, township and village names in that order; what follows is
    /// the detail). Old cards name places that have since merged or been
    /// renamed: then None, and the villager picks.
    pub fn from_address_text(text: &str) -> Option<Place> {
        let text = text.trim();
        let mut best: Option<Place> = None;
        for county in divisions::gansu_counties() {
            let Some(at) = text.find(county.name) else { continue };
            let after_county = &text[at + county.name.len()..];
            for township in divisions::gansu_townships(county.code) {
                let Some(at) = after_county.find(township.name) else { continue };
                let after_township = &after_county[at + township.name.len()..];
                for village in divisions::gansu_villages(township.code) {
                    // Cards write 某某村, the list 某某村委会 / 某某社区居民委员会.
                    let short = short_name(village.name);
                    for name in [village.name, short.as_str()] {
                        if let Some(rest) = after_township.strip_prefix(name) {
                            let better = best.as_ref().is_none_or(|b| rest.len() < b.detail.len());
                            if !name.is_empty() && better {
                                best = Some(Place { code: village.code.to_owned(), detail: rest.trim().to_owned() });
                            }
                        }
                    }
                }
            }
        }
        best
    }
}

/// A village's name as people say and cards print it: 巴牙村委会 → 巴牙村,
/// 城南社区居民委员会 → 城南社区. The picker's buttons show these.
pub fn short_name(official: &str) -> String {
    for (suffix, keep) in [("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""), ("居委会", ""), ("委员会", "")] {
        if let Some(stem) = official.strip_suffix(suffix) {
            if !stem.is_empty() {
                return format!("{stem}{keep}");
            }
        }
    }
    official.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_village_resolves_up_the_chain() {
        let csv = include_str!("../data/gansu-villages.csv");
        let mut n = 0;
        for line in csv.lines().skip(1) {
            let code = line.split(',').next().unwrap_or_default();
            let names = names_of(code).unwrap_or_else(|| panic!("{code} does not resolve to province, county, township"));
            assert_eq!(names.province, "甘肃省");
            assert!(!names.city.is_empty() && !names.county.is_empty() && !names.township.is_empty() && !names.village.is_empty(), "{code}");
            // And the picker reaches it through the same chain.
            assert!(divisions::gansu_villages(&code[..9]).iter().any(|v| v.code == code), "{code}");
            assert!(divisions::gansu_townships(&code[..6]).iter().any(|t| t.code == &code[..9]), "{code}");
            n += 1;
        }
        assert_eq!(n, 17_718);
        assert_eq!(names_of("620102001999"), None);
        let jyg = csv.lines().find(|l| l.starts_with("620201")).and_then(|l| l.split(',').next()).unwrap();
        assert!(names_of(jyg).unwrap().joined().starts_with("甘肃省嘉峪关市") && !names_of(jyg).unwrap().joined().contains("嘉峪关市嘉峪关市"));
        assert_eq!(names_of("62010200100x"), None);
    }

    #[test]
    fn a_place_round_trips_through_a_form_value() {
        let p = Place { code: "622926100202".into(), detail: "3组12号|后院".into() };
        let v = p.encode();
        assert_eq!(Place::parse(&v), Some(p.clone()));
        let names = p.names().unwrap();
        assert_eq!((names.county, names.township), ("东乡族自治县", "锁南镇"));
        assert!(p.full_text().starts_with("甘肃省临夏回族自治州东乡族自治县锁南镇") && p.full_text().ends_with(" 3组12号|后院"));
        assert_eq!(Place::parse("622926100202"), None, "the separator is required");
        assert_eq!(Place::parse("999999999999|x"), None);
        assert_eq!(Place::parse("甘肃省兰州市"), None);
    }

    #[test]
    fn a_card_address_naming_a_village_becomes_a_place() {
        let v = divisions::gansu_villages("622926100").into_iter().find(|v| v.code == "622926100202").unwrap();
        assert_eq!(short_name(v.name), "巴牙村");
        assert_eq!(short_name("城南社区居民委员会"), "城南社区");
        let card = format!("甘肃省临夏回族自治州东乡族自治县锁南镇{}5社8号", short_name(v.name));
        let p = Place::from_address_text(&card);
        assert_eq!(p, Some(Place { code: v.code.into(), detail: "5社8号".into() }), "{card}");
        // A township only: not a village, the villager picks.
        assert_eq!(Place::from_address_text("甘肃省临夏回族自治州东乡族自治县锁南镇"), None);
        assert_eq!(Place::from_address_text("北京市东城区"), None);
    }
}
