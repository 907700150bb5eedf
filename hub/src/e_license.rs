//! The province's e-license library (电子证照库) over HTTPS (issue 16).
//!
//! The contract (hub/README.md, "E-license library"): `POST
//! {base}/v1/licenses/lookup` with `Authorization: Bearer {token}`, body
//! `{"material_code", "id_number"}` (TLS only; the hub audits and caps
//! lookups before asking, `api/terminal.rs`). `200` with `{"found": true,
//! "license": {"type", "number", "issuer", "issued_on"}}` or `{"found":
//! false}`; `429`, `5xx` or no answer: unavailable (the kiosk asks for a
//! scan and says why); other `4xx`: refused (likewise, and logged).

use model::protocol::{ELicenseAnswer, ELicenseDocument, ELicenseQuery};
use serde::{Deserialize, Serialize};

use crate::connector::{BackOffice, BoxFuture, CaseOpened, ConnectorError, PlatformConnector};

/// The library's answer, as the contract has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryAnswer {
    pub found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<LibraryLicense>,
}

/// One license in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryLicense {
    /// 证照类型, e.g. 居民户口簿.
    #[serde(rename = "type")]
    pub kind: String,
    /// 证照编号.
    pub number: String,
    /// 发证机关.
    pub issuer: String,
    /// 发证日期, YYYY-MM-DD.
    pub issued_on: String,
}

/// What the hub sends.
#[derive(Serialize)]
struct LookupBody<'a> {
    material_code: &'a str,
    id_number: &'a str,
}

/// The library client.
pub struct ELicenseLibrary {
    base_url: String,
    token: zeroize::Zeroizing<String>,
    http: reqwest::Client,
}

impl ELicenseLibrary {
    pub fn new(base_url: &str, token: &str, timeout: std::time::Duration) -> Result<ELicenseLibrary, ConnectorError> {
        // reqwest's rustls has no provider of its own here; ring, as offline-cache.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ConnectorError::Unavailable(format!("e-license library client: {e}")))?;
        Ok(ELicenseLibrary { base_url: base_url.trim_end_matches('/').to_owned(), token: zeroize::Zeroizing::new(token.to_owned()), http })
    }

    pub async fn lookup(&self, q: &ELicenseQuery) -> Result<ELicenseAnswer, ConnectorError> {
        let resp = self
            .http
            .post(format!("{}/v1/licenses/lookup", self.base_url))
            .bearer_auth(self.token.as_str())
            .json(&LookupBody { material_code: &q.material_code, id_number: q.id_number.expose() })
            .send()
            .await
            // reqwest's error names the URL, never the body: no ID number in it.
            .map_err(|e| ConnectorError::Unavailable(format!("e-license library: {}", e.without_url())))?;
        let status = resp.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(ConnectorError::Unavailable(format!("e-license library answered {status}")));
        }
        if !status.is_success() {
            return Err(ConnectorError::Refused { service: "e-license library".into(), reason: format!("{status}") });
        }
        let answer: LibraryAnswer =
            resp.json().await.map_err(|_| ConnectorError::Unavailable("e-license library: unreadable answer".into()))?;
        Ok(match (answer.found, answer.license) {
            (true, Some(l)) => ELicenseAnswer {
                available: true,
                document: Some(ELicenseDocument { name: l.kind, issuer: l.issuer, license_id: l.number, issued_on: Some(l.issued_on) }),
            },
            // "Found" without the license is no license to record.
            _ => ELicenseAnswer { available: false, document: None },
        })
    }
}

/// The hub's back office for cases, the province's library for e-licenses.
pub struct LibraryConnector {
    pub library: ELicenseLibrary,
}

impl PlatformConnector for LibraryConnector {
    fn name(&self) -> &'static str {
        "back-office+e-license-library"
    }

    fn has_e_license_library(&self) -> bool {
        true
    }

    fn case_opened<'a>(&'a self, case: &'a CaseOpened) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move { BackOffice.case_opened(case).await })
    }

    fn lookup_e_license<'a>(&'a self, query: &'a ELicenseQuery) -> BoxFuture<'a, Result<ELicenseAnswer, ConnectorError>> {
        Box::pin(self.library.lookup(query))
    }
}
