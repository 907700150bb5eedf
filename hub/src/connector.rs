//! The hub's edges to the outside: the provincial platform (forwarding cases,
//! e-license lookups) and SMS notifications. Interfaces with defaults that
//! keep everything on the hub: the default platform connector is the hub's
//! own back office, the default SMS gateway writes to the log (numbers masked).

use std::future::Future;
use std::pin::Pin;

use model::mask::mask_phone;
use model::protocol::{ELicenseAnswer, ELicenseQuery};
use model::{CaseNumber, CaseStatus, SubmissionId};
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

/// Progress notifications by SMS, to a number the villager chose to leave.
pub trait SmsNotifier: Send + Sync + 'static {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> BoxFuture<'a, Result<(), ConnectorError>>;
}

/// The default: writes what would be sent to the log, the number masked.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoggingSms;

impl SmsNotifier for LoggingSms {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            tracing::info!(to = %mask_phone(phone), %text, "SMS (logging gateway, not sent)");
            Ok(())
        })
    }
}

/// The words of a progress SMS. Names no person: the case number and status only.
pub fn progress_text(case_number: &CaseNumber, status: CaseStatus, reason: Option<&str>) -> String {
    match (status, reason) {
        (CaseStatus::Rejected, Some(r)) => format!("【村办】您的办件 {case_number} {}：{r}", status.label_zh()),
        (CaseStatus::Done, _) => format!("【村办】您的办件 {case_number} {}，可到村服务点打印结果。", status.label_zh()),
        _ => format!("【村办】您的办件 {case_number} 状态：{}。", status.label_zh()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_texts_name_the_case_not_the_person() {
        let n = CaseNumber::parse("622026112100000001").unwrap();
        assert_eq!(progress_text(&n, CaseStatus::Accepted, None), "【村办】您的办件 622026112100000001 状态：已受理。");
        assert!(progress_text(&n, CaseStatus::Done, None).contains("打印结果"));
        assert!(progress_text(&n, CaseStatus::Rejected, Some("材料不清晰")).contains("材料不清晰"));
    }
}
