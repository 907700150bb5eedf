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
//! [`MailOrder`]; `2xx` taken; `429`/`5xx`/no answer: tried again, with
//! the wait doubling up to half an hour, for as long as it takes (the
//! villager was promised the post); other `4xx`: refused, logged, left to
//! the back office (`hub case open` shows the choice and the refusal).
//!
//! Durable: the hub keeps a row per case in the store's mail outbox
//! (`store::MailOrderStore`), so an order survives a restart, a platform
//! outage of days, or the instance that opened the case dying. A commit
//! only nudges [`spawn_loop`]'s task (the hub's one outbox loop,
//! `crate::outbox`), which also looks every minute; any instance may send
//! (the case number is the idempotency key). Nothing personal is logged or
//! kept outside the sealed filing.

use std::sync::Arc;
use std::time::Duration;

use model::seal::{open_envelope, PlatformSecretKey, SealedEnvelope};
use model::Submission;
use serde::{Deserialize, Serialize};

use crate::connector::{BoxFuture, ConnectorError};
use crate::outbox::{Backoff, Nudge, OutboxJob, OutboxLoop, Pass, Schedule};
use crate::store::{MailCase, MailOutcome, Store, MAIL_LOOK_BACK};

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
    /// The first wait after a failed try; it doubles up to half an hour
    /// (tests shorten it).
    pub retry_after: Duration,
    /// How often the outbox is looked at without a nudge (tests shorten it).
    pub every: Duration,
    nudged: Nudge,
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
            every: Duration::from_secs(60),
            nudged: Nudge::default(),
        })
    }

    /// A case was opened: look at the outbox now rather than at the next tick.
    pub fn nudge(&self) {
        self.nudged.nudge();
    }

    /// The wait after `attempts` failed tries.
    fn backoff(&self, attempts: u32) -> Duration {
        Backoff { first: self.retry_after, max: Duration::from_secs(1800) }.after(attempts)
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

/// Reads `case`'s delivery choice from its sealed filing (with the
/// platform key) and, for mail, orders it once from the platform.
async fn mail_one(store: &Arc<dyn Store>, key: &Arc<PlatformSecretKey>, platform: &ResultMailPlatform, case: &MailCase, now: time::OffsetDateTime) -> MailOutcome {
    let (st, k, terminal, id, cn) = (store.clone(), key.clone(), case.terminal_id.clone(), case.submission_id, case.case_number.clone());
    let read = tokio::task::spawn_blocking(move || -> Result<Option<MailOrder>, String> {
        let body = st.submission_body(&terminal, id).map_err(|e| format!("the filing cannot be read: {e}"))?;
        let Some(body) = body else { return Ok(None) };
        let envelope = SealedEnvelope::from_bytes(&body).map_err(|_| "the stored filing is not a sealed envelope".to_owned())?;
        let opened = open_envelope(&k, &envelope).map_err(|_| "the filing does not open with the platform key".to_owned())?;
        Ok(MailOrder::of(&cn, &opened.submission))
    })
    .await
    .unwrap_or_else(|e| Err(format!("task failed: {e}")));
    let retry = |why: String| MailOutcome::Retry { next_try_at: now + platform.backoff(case.attempts + 1), why };
    let order = match read {
        Ok(Some(order)) => order,
        Ok(None) => return MailOutcome::NotMail,
        Err(why) => {
            tracing::warn!(case = %case.case_number, %why, "the delivery choice of a case cannot be read; tried again later");
            return retry(why);
        }
    };
    match platform.send(&order).await {
        Ok(()) => {
            tracing::info!(case = %case.case_number, attempts = case.attempts + 1, "result mailing ordered from the platform");
            MailOutcome::Sent
        }
        Err(ConnectorError::Refused { reason, .. }) => {
            tracing::warn!(case = %case.case_number, %reason, "the platform refused the mail order; the back office must arrange it (`hub case open`)");
            MailOutcome::Refused(reason)
        }
        Err(e) => {
            let outcome = retry(e.to_string());
            tracing::warn!(case = %case.case_number, attempts = case.attempts + 1, error = %e, "mail order not taken yet; tried again later");
            outcome
        }
    }
}

/// Works through the mail outbox once: new cases and orders due.
pub async fn run_once(store: &Arc<dyn Store>, key: &Arc<PlatformSecretKey>, platform: &ResultMailPlatform, now: time::OffsetDateTime) -> Result<Pass, crate::store::StoreError> {
    const BATCH: usize = 100;
    let st = store.clone();
    let due = tokio::task::spawn_blocking(move || st.mail_cases_due(now - MAIL_LOOK_BACK, now, BATCH))
        .await
        .map_err(|e| crate::store::StoreError::Blob(format!("task failed: {e}")))??;
    let mut pass = Pass { handled: due.len(), deferred: 0, more: due.len() >= BATCH };
    for case in due {
        let outcome = mail_one(store, key, platform, &case, now).await;
        pass.deferred += usize::from(matches!(outcome, MailOutcome::Retry { .. }));
        let st = store.clone();
        tokio::task::spawn_blocking(move || st.mail_case_done(&case, &outcome, now))
            .await
            .map_err(|e| crate::store::StoreError::Blob(format!("task failed: {e}")))??;
    }
    Ok(pass)
}

/// The mail outbox as an [`OutboxJob`].
struct MailJob {
    store: Arc<dyn Store>,
    key: Arc<PlatformSecretKey>,
    platform: Arc<ResultMailPlatform>,
}

impl OutboxJob for MailJob {
    fn name(&self) -> &'static str {
        "mail"
    }

    fn pass(&self, now: time::OffsetDateTime) -> BoxFuture<'_, Result<Pass, crate::store::StoreError>> {
        Box::pin(run_once(&self.store, &self.key, &self.platform, now))
    }
}

/// The outbox's loop: at start (catching up after a restart), when nudged
/// by a commit, and every `platform.every`; each case's own retry time is
/// kept in the store.
pub fn spawn_loop(store: Arc<dyn Store>, key: Arc<PlatformSecretKey>, platform: Arc<ResultMailPlatform>, clock: crate::outbox::LoopClock) -> OutboxLoop {
    let schedule = Schedule::every(platform.every, platform.retry_after);
    let nudge = platform.nudged.clone();
    OutboxLoop::spawn(MailJob { store, key, platform }, schedule, nudge, clock)
}
