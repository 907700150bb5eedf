//! 好差评: a villager's rating of the service.

use serde::{Deserialize, Serialize};

use crate::case::CaseNumber;
use crate::text::n_;

/// Five levels, stored as labels. Platforms disagree on whether 1 or 5 is best,
/// so numeric codes are mapped only at the platform edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// 非常满意
    VerySatisfied,
    /// 满意
    Satisfied,
    /// 基本满意
    Neutral,
    /// 不满意
    Dissatisfied,
    /// 非常不满意
    VeryDissatisfied,
}

impl Rating {
    /// Every rating, best first.
    pub const ALL: [Rating; 5] = [
        Rating::VerySatisfied,
        Rating::Satisfied,
        Rating::Neutral,
        Rating::Dissatisfied,
        Rating::VeryDissatisfied,
    ];

    /// The label villagers see.
    pub fn label_zh(self) -> &'static str {
        match self {
            Rating::VerySatisfied => n_("非常满意"),
            Rating::Satisfied => n_("满意"),
            Rating::Neutral => n_("基本满意"),
            Rating::Dissatisfied => n_("不满意"),
            Rating::VeryDissatisfied => n_("非常不满意"),
        }
    }

    /// 差评: the last two levels, which the platform must follow up.
    pub fn is_bad_review(self) -> bool {
        matches!(self, Rating::Dissatisfied | Rating::VeryDissatisfied)
    }
}

/// A rating of one case, from a self-service terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The case rated.
    pub case_number: CaseNumber,
    /// The rating given.
    pub rating: Rating,
    /// Reasons ticked (labels), may be empty.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Free text, may be empty.
    #[serde(default)]
    pub text: String,
}
