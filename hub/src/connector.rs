//! The hub's edges to the outside: the provincial platform (forwarding cases,
//! e-license lookups). The default platform connector is the hub's own back
//! office. Progress texts go through the province's SMS gateway (`crate::sms`);
//! without one, no text is sent and no terminal promises one.

use std::future::Future;
use std::pin::Pin;

use model::protocol::{ELicenseAnswer, ELicenseQuery};
use model::{CaseNumber, SubmissionId};
use thiserror::Error;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Error)]
pub enum ConnectorError {
    /// The platform or gateway did not answer; worth retrying.
    #[error("{0} is not reachable now")]
    Unavailable(String),
    /// The platform refused; a person must look.
    #[error("{service} refused: {reason}")]
    Refused { service: String, reason: String },
}

/// A case the hub opened, as forwarded. Sealed content stays sealed: the
/// platform opens it with its own key.
#[derive(Debug, Clone)]
pub struct CaseOpened {
    pub case_number: CaseNumber,
    pub submission_id: SubmissionId,
    pub item_code: String,
    pub terminal_id: String,
}

/// Forwarding to the provincial platform (一网通办). Implementations map our
/// model to the platform's at this edge only (e.g. the direction of the
/// 好差评 codes, DESIGN §4).
pub trait PlatformConnector: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Whether this connector reaches an e-license library at all. The
    /// terminal config says so, and only then may a kiosk promise "no scan".
    fn has_e_license_library(&self) -> bool {
        false
    }

    /// A case was opened on the hub (after commit). An error is logged and
    /// the case stays in the back office; it is not lost.
    fn case_opened<'a>(&'a self, case: &'a CaseOpened) -> BoxFuture<'a, Result<(), ConnectorError>>;

    /// Is this material in the e-license library for this person?
    fn lookup_e_license<'a>(&'a self, query: &'a ELicenseQuery) -> BoxFuture<'a, Result<ELicenseAnswer, ConnectorError>>;
}

/// The default: the hub's own back office (`hub cases list`, `hub case ...`)
/// is the platform. Forwarding is keeping; there is no e-license library,
/// so every lookup says "not available" and the kiosk asks for a scan.
#[derive(Debug, Default, Clone, Copy)]
pub struct BackOffice;

impl PlatformConnector for BackOffice {
    fn name(&self) -> &'static str {
        "back-office"
    }

    fn case_opened<'a>(&'a self, case: &'a CaseOpened) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            tracing::info!(case = %case.case_number, item = %case.item_code, terminal = %case.terminal_id, "case waits in the back office");
            Ok(())
        })
    }

    fn lookup_e_license<'a>(&'a self, query: &'a ELicenseQuery) -> BoxFuture<'a, Result<ELicenseAnswer, ConnectorError>> {
        Box::pin(async move {
            // IdNumber's Debug is masked; the number itself never reaches the log.
            tracing::info!(material = %query.material_code, id_number = ?query.id_number, "e-license lookup: no library configured");
            Ok(ELicenseAnswer { available: false, document: None })
        })
    }
}
