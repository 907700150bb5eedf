//! The font families the kiosk's screens are drawn with, and the Debian
//! package that ships each. Shared here because three crates need the same
//! list: `ui` names them, the kiosk checks them at start-up, and `kioskctl
//! selftest` (which may not depend on `ui`, DESIGN §2) reports a missing one.
//! A missing CJK font makes text invisible; a missing Tibetan one makes it tiny.

/// (family, Debian package), in the order the screens fall back through them.
pub const FONT_FAMILIES: [(&str, &str); 3] = [
    ("Noto Sans CJK SC", "fonts-noto-cjk"),
    ("DDC Uchen", "fonts-ddc-uchen"),
    ("Noto Naskh Arabic", "fonts-noto-core"),
];
