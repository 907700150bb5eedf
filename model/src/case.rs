//! 办件: a submission as the platform holds it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::n_;
use thiserror::Error;

/// A string that is not a case number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a case number is 8..32 letters or digits")]
pub struct CaseNumberError;

/// 办件编号, assigned by the platform when a submission is committed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    /// Checks the platform's format: 8..32 ASCII letters or digits.
    pub fn parse(s: &str) -> Result<Self, CaseNumberError> {
        if !(8..=32).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CaseNumberError);
        }
        Ok(CaseNumber(s.to_owned()))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = CaseNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CaseNumber::parse(&s)
    }
}

impl From<CaseNumber> for String {
    fn from(c: CaseNumber) -> String {
        c.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 办件状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 已接收
    Received,
    /// 已受理
    Accepted,
    /// 办理中
    Processing,
    /// 已办结
    Done,
    /// 不予受理 / 退回
    Rejected,
}

impl CaseStatus {
    /// Every status, in the order a case goes through them.
    pub const ALL: [CaseStatus; 5] =
        [CaseStatus::Received, CaseStatus::Accepted, CaseStatus::Processing, CaseStatus::Done, CaseStatus::Rejected];

    /// The status's name on the wire, in databases and in the OpenAPI text
    /// (`received`, `accepted`, `processing`, `done`, `rejected`): the same
    /// names serde uses.
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Processing => "processing",
            CaseStatus::Done => "done",
            CaseStatus::Rejected => "rejected",
        }
    }

    /// The status [`CaseStatus::name`] names, or None.
    pub fn from_name(name: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The status as shown to villagers (screen, receipt).
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseStatus::Received => n_("已接收"),
            CaseStatus::Accepted => n_("已受理"),
            CaseStatus::Processing => n_("办理中"),
            CaseStatus::Done => n_("已办结"),
            CaseStatus::Rejected => n_("不予受理"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_serde_names_and_round_trip() {
        for status in CaseStatus::ALL {
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{}\"", status.name()));
            assert_eq!(CaseStatus::from_name(status.name()), Some(status));
        }
        assert_eq!(CaseStatus::from_name("Done"), None);
    }

    #[test]
    fn case_numbers_are_checked() {
        assert!(CaseNumber::parse("62202611210000001").is_ok());
        assert!(CaseNumber::parse("short").is_err());
        assert!(CaseNumber::parse("6220261121 000001").is_err());
    }
}
