//! Mailing results (结果物流快递) through the provincial platform (issue 16).
//!
//! A terminal offers "mail it to me" only when the config the hub signs says
//! `paths.mail`, and the hub says so only when it was started with the
//! platform's mail endpoint (`hub --result-mail-url`) and the platform key
//! (to read the choice from the sealed filing). Then, when a case opens
//! whose filing asks for mail, the hub tells the platform, which arranges
//! the post. The contract (hub/README.md, "Result mailing"): `POST
//! {base}/v1/cases/{case number}/delivery`, `Authorization: Bearer {token}`,
//! `Idempotency-Key: {case number}` (a repeat is the same order), body
//! [`MailOrder`]; `2xx` taken; `429`/`5xx`/no answer: tried again (three
//! times in all), then left to the back office (`hub case open` shows the
//! choice); other `4xx`: refused, logged. Nothing personal is logged.

use std::sync::Arc;
use std::time::Duration;

use model::seal::{open_envelope, PlatformSecretKey, SealedEnvelope};
use model::{Submission, SubmissionId};
use serde::{Deserialize, Serialize};

use crate::connector::ConnectorError;
use crate::store::Store;

/// The form key the kiosk records the delivery choice under (kiosk
/// session/place.rs): `mail` or `collect`.
pub const DELIVERY_KEY: &str = "result_delivery";
/// The mail address's form key: `{village code}|{house, group...}`.
pub const MAIL_ADDRESS_KEY: &str = "mail_address";

/// What the platform is told to mail.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailOrder {
    pub case_number: String,
    /// 实施编码 of the item whose result is mailed.
    pub item_code: String,
    /// Always `mail` (collecting at the village point needs no order).
    pub method: String,
    /// The applicant, to whom the post is addressed.
    pub recipient: String,
    /// The form's phone number, for the courier, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The village (12-digit division code) picked with the place picker.
    pub village_code: String,
    /// The rest of the address as typed (组, 号).
    pub detail: String,
}

impl std::fmt::Debug for MailOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names, phones and addresses never reach a log.
        f.debug_struct("MailOrder").field("case_number", &self.case_number).field("item_code", &self.item_code).finish_non_exhaustive()
    }
}

impl MailOrder {
    /// The order a filing asks for, if it chose mail with an address.
    pub fn of(case_number: &str, sub: &Submission) -> Option<MailOrder> {
        if sub.form.get(DELIVERY_KEY).map(String::as_str) != Some("mail") {
            return None;
        }
        let (village, detail) = sub.form.get(MAIL_ADDRESS_KEY)?.split_once('|')?;
        let village = model::VillageCode::parse(village).ok()?;
        Some(MailOrder {
            case_number: case_number.to_owned(),
            item_code: sub.item_code.as_str().to_owned(),
            method: "mail".into(),
            recipient: sub.applicant.name.clone(),
            phone: crate::backoffice::notification_phone(sub),
            village_code: village.as_str().to_owned(),
            detail: detail.trim().to_owned(),
        })
    }
}

/// The platform's mail endpoint.
pub struct ResultMailPlatform {
    base_url: String,
    token: zeroize::Zeroizing<String>,
    http: reqwest::Client,
    /// Waits between the three attempts (tests shorten them).
    pub retry_after: Duration,
}

impl ResultMailPlatform {
    pub fn new(base_url: &str, token: &str, timeout: Duration) -> Result<ResultMailPlatform, ConnectorError> {
        // reqwest's rustls has no provider of its own here; ring, as offline-cache.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().timeout(timeout).build().map_err(|e| ConnectorError::Unavailable(format!("mail platform client: {e}")))?;
        Ok(ResultMailPlatform {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: zeroize::Zeroizing::new(token.to_owned()),
            http,
            retry_after: Duration::from_secs(5),
        })
    }

    /// Sends one order, once.
    pub async fn send(&self, order: &MailOrder) -> Result<(), ConnectorError> {
        let resp = self
            .http
            .post(format!("{}/v1/cases/{}/delivery", self.base_url, order.case_number))
            .bearer_auth(self.token.as_str())
            .header("Idempotency-Key", &order.case_number)
            .json(order)
            .send()
            .await
            .map_err(|e| ConnectorError::Unavailable(format!("mail platform: {}", e.without_url())))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(ConnectorError::Unavailable(format!("mail platform answered {status}")))
        } else {
            Err(ConnectorError::Refused { service: "mail platform".into(), reason: format!("{status}") })
        }
    }
}

/// After a case opened: reads the filing's delivery choice (opening the
/// sealed manifest with the platform key) and, for mail, tells the
/// platform. Returns whether an order was taken.
pub async fn case_opened(
    store: Arc<dyn Store>,
    key: Arc<PlatformSecretKey>,
    platform: Arc<ResultMailPlatform>,
    terminal: String,
    id: SubmissionId,
    case_number: String,
) -> bool {
    let cn = case_number.clone();
    let order = tokio::task::spawn_blocking(move || {
        let body = store.submission_body(&terminal, id).ok()??;
        let envelope = SealedEnvelope::from_bytes(&body).ok()?;
        let opened = open_envelope(&key, &envelope).ok()?;
        MailOrder::of(&cn, &opened.submission)
    })
    .await
    .ok()
    .flatten();
    let Some(order) = order else { return false };
    for attempt in 1..=3 {
        match platform.send(&order).await {
            Ok(()) => {
                tracing::info!(case = %case_number, "result mailing ordered from the platform");
                return true;
            }
            Err(e @ ConnectorError::Refused { .. }) => {
                tracing::warn!(case = %case_number, error = %e, "the platform refused the mail order; see `hub case open`");
                return false;
            }
            Err(e) => {
                tracing::warn!(case = %case_number, attempt, error = %e, "mail order not taken yet");
                if attempt < 3 {
                    tokio::time::sleep(platform.retry_after * attempt).await;
                }
            }
        }
    }
    tracing::warn!(case = %case_number, "the platform did not take the mail order; the back office must arrange it (`hub case open`)");
    false
}
