//! 办件申请: what a terminal sends to the platform. Immutable once queued.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::catalog::ImplementCode;
use crate::identity::{CardType, Gender, IdNumber, Identity};
use crate::mask::mask_name;

/// Client-generated submission id (UUIDv7: time-ordered, unique without a server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubmissionId(pub Uuid);

impl SubmissionId {
    /// A fresh UUIDv7 id, made on the terminal when the filing is queued.
    pub fn new() -> Self {
        SubmissionId(Uuid::now_v7())
    }

    /// Reads an id from its hyphenated UUID text; None if it is not a UUID.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(SubmissionId)
    }
}

impl Default for SubmissionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SubmissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A village code that is not 12 digits or whose province prefix is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a village code has 12 digits of a known division")]
pub struct VillageCodeError;

/// 12-digit 行政区划代码 of the village a terminal serves.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VillageCode(String);

impl VillageCode {
    /// Accepts 12 digits whose province is known.
    pub fn parse(s: &str) -> Result<Self, VillageCodeError> {
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) || crate::divisions::province_name(&s[..2]).is_none() {
            return Err(VillageCodeError);
        }
        Ok(VillageCode(s.to_owned()))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The village's name, where it is a Gansu village in the compiled-in list.
    pub fn name(&self) -> Option<&'static str> {
        crate::divisions::gansu_village_name(&self.0)
    }
}

impl TryFrom<String> for VillageCode {
    type Error = VillageCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        VillageCode::parse(&s)
    }
}

impl From<VillageCode> for String {
    fn from(c: VillageCode) -> String {
        c.0
    }
}

/// The person the filing is for, as sent to the platform.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Applicant {
    /// Name as printed on the ID card. Personal data: log only masked.
    pub name: String,
    /// ID card number. Personal data: its `Debug` is masked; never log it in full.
    pub id_number: IdNumber,
    /// Which document the number comes from (resident card, permit, …).
    #[zeroize(skip)]
    pub card_type: CardType,
    /// Gender as on the card.
    #[zeroize(skip)]
    pub gender: Gender,
    /// 民族, GB/T 3304 two-digit code as on the card ("01" = 汉). Personal data.
    pub nation_code: String,
    /// Birth date as on the card. Personal data.
    #[zeroize(skip)]
    pub birth_date: Date,
    /// 住址 as printed on the card. Personal data: never logged.
    pub address: String,
}

impl From<&Identity> for Applicant {
    fn from(i: &Identity) -> Self {
        Applicant {
            name: i.name.clone(),
            id_number: i.id_number.clone(),
            card_type: i.card_type,
            gender: i.gender,
            nation_code: i.nation_code.clone(),
            birth_date: i.birth_date,
            address: i.address.clone(),
        }
    }
}

impl fmt::Debug for Applicant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applicant")
            .field("name", &mask_name(&self.name))
            .field("id_number", &self.id_number)
            .finish_non_exhaustive()
    }
}

/// The assistant filing on the villager's behalf (代办人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// 工号 of the logged-in operator.
    pub staff_number: String,
    /// The operator's name, as recorded on the filing.
    pub name: String,
}

/// How the agent stands to the applicant (代办关系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRelation {
    /// 服务车工作人员帮办: the assistant files at the villager's request.
    ServiceStaff,
    /// 亲属代办: a relative brought the villager's card; the assistant keys it in.
    Relative,
    /// 村干部代办
    VillageCadre,
}

/// Why a signature was refused, on construction or when read from the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// No stroke has two points: only taps, or nothing drawn.
    #[error("a signature needs at least one stroke of two points")]
    Empty,
    /// More strokes or points than [`Signature::MAX_STROKES`] / [`Signature::MAX_POINTS`].
    #[error("a signature has at most {max} strokes and {max_points} points")]
    TooLarge {
        /// The stroke limit.
        max: usize,
        /// The point limit, over all strokes.
        max_points: usize,
    },
    /// A point lies outside the pad it claims to be drawn on.
    #[error("a signature point lies outside its {width}x{height} pad")]
    OutOfPad {
        /// The pad's width in pad units.
        width: u16,
        /// The pad's height in pad units.
        height: u16,
    },
}

/// One finger stroke: pad coordinates in order, top left is (0, 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct Stroke(pub Vec<[u16; 2]>);

/// The villager's signature as vector strokes (what the finger drew, not a
/// picture of it), sealed with the submission. Never empty: constructing or
/// reading one checks that.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[serde(try_from = "RawSignature")]
pub struct Signature {
    width: u16,
    height: u16,
    strokes: Vec<Stroke>,
}

#[derive(Deserialize)]
struct RawSignature {
    width: u16,
    height: u16,
    strokes: Vec<Stroke>,
}

impl TryFrom<RawSignature> for Signature {
    type Error = SignatureError;
    fn try_from(r: RawSignature) -> Result<Self, Self::Error> {
        Signature::new(r.width, r.height, r.strokes)
    }
}

impl Signature {
    /// Most strokes one signature may have.
    pub const MAX_STROKES: usize = 64;
    /// Most points, over all strokes, one signature may have.
    pub const MAX_POINTS: usize = 8192;

    /// Strokes of one point (a tap) are kept but at least one stroke must
    /// have two points: a signature is drawn, not tapped.
    pub fn new(width: u16, height: u16, strokes: Vec<Stroke>) -> Result<Signature, SignatureError> {
        let points: usize = strokes.iter().map(|s| s.0.len()).sum();
        if strokes.len() > Self::MAX_STROKES || points > Self::MAX_POINTS {
            return Err(SignatureError::TooLarge { max: Self::MAX_STROKES, max_points: Self::MAX_POINTS });
        }
        if !strokes.iter().any(|s| s.0.len() >= 2) {
            return Err(SignatureError::Empty);
        }
        if strokes.iter().flat_map(|s| &s.0).any(|[x, y]| *x >= width || *y >= height) {
            return Err(SignatureError::OutOfPad { width, height });
        }
        Ok(Signature { width, height, strokes })
    }

    /// Pad width in pad units; every x is below it.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Pad height in pad units; every y is below it.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The strokes in drawing order. Personal data: sealed, never logged.
    pub fn strokes(&self) -> &[Stroke] {
        &self.strokes
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({} strokes)", self.strokes.len())
    }
}

/// What an assisted filing adds: who filed, how they stand to the
/// applicant, on which trip, and the applicant's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnBehalf {
    /// 代办人
    pub agent: Agent,
    /// 代办关系
    pub relation: AgentRelation,
    /// The van's visit this filing was made on (its village is the
    /// submission's `village_code`).
    pub trip_id: Uuid,
    /// 申请人签名
    pub signature: Signature,
}

/// Who filed. An assisted filing cannot exist without its agent and
/// signature, and a self-service one cannot carry an agent: the type has no
/// room for either mistake. On the wire it is the `channel` field
/// (`self_service_terminal` | `service_van`) with the assisted fields beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum FiledBy {
    /// 自助终端: the villager alone.
    SelfServiceTerminal,
    /// 流动服务车: an assistant on the villager's behalf.
    ServiceVan(OnBehalf),
}

impl FiledBy {
    /// The 申请渠道 this filing was made through.
    pub fn channel(&self) -> Channel {
        match self {
            FiledBy::SelfServiceTerminal => Channel::SelfServiceTerminal,
            FiledBy::ServiceVan(_) => Channel::ServiceVan,
        }
    }

    /// The assisted-filing details; None for a self-service filing.
    pub fn on_behalf(&self) -> Option<&OnBehalf> {
        match self {
            FiledBy::SelfServiceTerminal => None,
            FiledBy::ServiceVan(o) => Some(o),
        }
    }
}

/// 申请渠道.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 自助终端
    SelfServiceTerminal,
    /// 流动服务车
    ServiceVan,
}

/// A material attached to a submission, by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Code of the catalog material (申请材料) this file satisfies.
    pub material_code: String,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// MIME type of the bytes, e.g. `image/jpeg`.
    pub media_type: String,
    /// Length of the bytes.
    pub size: u64,
}

impl AttachmentRef {
    /// Describes `bytes` (hash and length) as the attachment for `material_code`.
    pub fn for_bytes(material_code: &str, media_type: &str, bytes: &[u8]) -> Self {
        AttachmentRef {
            material_code: material_code.to_owned(),
            sha256: sha256_hex(bytes),
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
        }
    }
}

/// A license in the e-license library used for a material instead of a
/// scan (issue 16): the platform fetches it by this reference.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ELicenseRef {
    /// Code of the catalog material it stands for.
    pub material_code: String,
    /// 证照类型, e.g. 居民户口簿.
    #[serde(rename = "type")]
    pub kind: String,
    /// 证照编号 (personal data: masked in logs and on screen).
    pub number: String,
    /// 发证机关.
    pub issuer: String,
    /// 发证日期 (YYYY-MM-DD), when the library gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
}

impl ELicenseRef {
    /// The license number as screens and logs show it.
    pub fn number_masked(&self) -> String {
        crate::mask::mask_number(&self.number)
    }
}

impl fmt::Debug for ELicenseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ELicenseRef")
            .field("material_code", &self.material_code)
            .field("kind", &self.kind)
            .field("number", &self.number_masked())
            .field("issuer", &self.issuer)
            .field("issued_on", &self.issued_on)
            .finish()
    }
}

impl Drop for ELicenseRef {
    fn drop(&mut self) {
        self.number.zeroize();
    }
}

/// What the villager agreed to, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Version of the consent text shown.
    pub text_version: String,
    /// When consent was given (RFC 3339 on the wire).
    #[serde(with = "time::serde::rfc3339")]
    pub given_at: OffsetDateTime,
}

/// 办件申请.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Client-made id; the hub deduplicates replays by it.
    pub id: SubmissionId,
    /// 实施编码 of the item filed.
    pub item_code: ImplementCode,
    /// Bundle (一件事) this filing belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_code: Option<ImplementCode>,
    /// For a bundle filing (`item_code` is then the bundle's code): the
    /// items it is made of, in catalog order. The hub opens one case per
    /// part, linked to the bundle's case. Empty for a single item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ImplementCode>,
    /// Version of the catalog the visit started on (the item's form and
    /// materials as the villager saw them). None from terminals before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_version: Option<u64>,
    /// 申请人
    pub applicant: Applicant,
    /// The item's form answers by field key (the catalog's field ids). Personal data: zeroised on drop, never logged.
    pub form: BTreeMap<String, String>,
    /// Materials filed with it, by hash; the bytes travel separately.
    pub attachments: Vec<AttachmentRef>,
    /// Materials the province's e-license library (电子证照库) holds for the
    /// applicant, found online while filing: the license used instead of a
    /// scan. Sealed with the rest; absent from older filings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub e_licenses: Vec<ELicenseRef>,
    /// The consent the villager gave before filing.
    pub consent: Consent,
    /// 申请渠道, and the 代办人 when an assistant filed.
    #[serde(flatten)]
    pub filed_by: FiledBy,
    /// Village the terminal (or the van's trip) serves.
    pub village_code: VillageCode,
    /// When the filing was made, by the terminal's clock (RFC 3339 on the wire).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Id of the terminal that made the filing (e.g. `T-0001`).
    pub terminal_id: String,
}

impl Submission {
    /// Canonical bytes: the JSON serialisation (struct order, sorted form keys).
    /// The same submission always gives the same bytes, which idempotent
    /// replay relies on.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Serialising plain data to a Vec cannot fail.
        serde_json::to_vec(self).expect("submission serialises")
    }

    /// The 申请渠道: self-service terminal or service van.
    pub fn channel(&self) -> Channel {
        self.filed_by.channel()
    }

    /// The assistant who filed, for an assisted filing.
    pub fn agent(&self) -> Option<&Agent> {
        self.filed_by.on_behalf().map(|o| &o.agent)
    }

    /// Lowercase hex SHA-256 of [`Submission::canonical_bytes`].
    pub fn digest(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }

    /// [`Submission::canonical_bytes`] for sealing: every buffer the JSON
    /// passes through, including ones outgrown on the way, is zeroised.
    pub fn canonical_bytes_zeroizing(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut w = ZeroizingWriter(zeroize::Zeroizing::new(Vec::with_capacity(4096)));
        // Writing plain data to memory cannot fail.
        serde_json::to_writer(&mut w, self).expect("submission serialises");
        w.0
    }
}

/// A growable buffer that zeroises what it leaves behind when it grows.
struct ZeroizingWriter(zeroize::Zeroizing<Vec<u8>>);

impl std::io::Write for ZeroizingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let need = self.0.len() + buf.len();
        if need > self.0.capacity() {
            let mut bigger = zeroize::Zeroizing::new(Vec::with_capacity(need.max(2 * self.0.capacity())));
            bigger.extend_from_slice(&self.0);
            // The old buffer is zeroised (whole capacity) as it drops here.
            self.0 = bigger;
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Submission {
    fn drop(&mut self) {
        for v in self.form.values_mut() {
            v.zeroize();
        }
        if let FiledBy::ServiceVan(o) = &mut self.filed_by {
            o.signature.zeroize();
        }
    }
}

impl fmt::Debug for Submission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submission")
            .field("id", &self.id)
            .field("item_code", &self.item_code)
            .field("applicant", &self.applicant)
            .field("attachments", &self.attachments.len())
            .field("e_licenses", &self.e_licenses)
            .field("channel", &self.channel())
            .finish_non_exhaustive()
    }
}

/// Lowercase hex SHA-256 of `bytes`, as in [`AttachmentRef::sha256`].
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_license_references_travel_with_the_filing_and_older_filings_still_parse() {
        let mut sub = crate::fixtures::sample_submission(vec![]);
        // A filing from before e-licenses: no such key at all.
        let old = sub.canonical_bytes();
        assert!(!String::from_utf8_lossy(&old).contains("e_licenses"));
        let parsed: Submission = serde_json::from_slice(&old).unwrap();
        assert!(parsed.e_licenses.is_empty());

        sub.e_licenses.push(ELicenseRef {
            material_code: "birth_cert".into(),
            kind: "出生医学证明".into(),
            number: "Q620102512345".into(),
            issuer: "兰州市妇幼保健院".into(),
            issued_on: Some("2026-11-02".into()),
        });
        let back: Submission = serde_json::from_slice(&sub.canonical_bytes()).unwrap();
        assert_eq!(back.e_licenses, sub.e_licenses);
        let json: serde_json::Value = serde_json::from_slice(&sub.canonical_bytes()).unwrap();
        assert_eq!(json["e_licenses"][0]["type"], "出生医学证明");
        // Debug output (what could reach a log) masks the license number.
        let shown = format!("{sub:?}");
        assert!(shown.contains("Q620*****2345") && !shown.contains("Q620102512345"), "{shown}");
    }
}
