//! Progress texts (短信) through the province's SMS gateway.
//!
//! The contract (hub/README.md, "SMS gateway") is plain HTTPS + JSON:
//!
//! - `POST {base}/v1/messages` with `Authorization: Bearer {token}` and
//!   `Idempotency-Key: {key}`, body `{"to", "text", "reference"}`. Answers
//!   `200`/`201`/`202` with `{"id", "status"}`. The same key again returns the
//!   first message's id and sends nothing new; the key with another body is
//!   `409`. Other `4xx`: refused, not retried. `429`, `5xx`, no answer: tried
//!   again with the same key.
//! - `GET {base}/v1/messages/{id}` answers `{"id", "status", "error"?}`;
//!   status is `accepted`, `delivered` or `failed`.
//!
//! Each status change worth a text is a row of the hub's SMS outbox, written
//! in the transaction that makes the change ([`crate::store::SmsRow`]); its
//! key goes with every try, so a change reaches the gateway once however
//! often the hub tries. The number is read from the sealed filing with the
//! platform key at send time and is never stored or logged unmasked.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use model::mask::mask_phone;
use model::seal::PlatformSecretKey;
use model::{CaseNumber, CaseStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::connector::{BoxFuture, ConnectorError};
use crate::outbox::{Backoff, Nudge, OutboxJob, OutboxLoop, Pass, Schedule};
use crate::store::{SmsRow, SmsState, SmsUpdate, Store, StoreError};

/// A change not texted within this long is not texted at all (the villager
/// would get old news, e.g. after a gateway was first configured).
pub const SEND_WITHIN: Duration = Duration::from_secs(3 * 86_400);

/// One text. `Debug` masks the number.
pub struct SmsMessage {
    pub key: String,
    pub to: Zeroizing<String>,
    pub text: String,
}

impl std::fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsMessage").field("key", &self.key).field("to", &mask_phone(&self.to)).field("text", &self.text).finish()
    }
}

/// What the gateway says about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Accepted,
    Delivered,
    Failed(String),
}

/// An SMS gateway. [`HttpSmsGateway`] is the real one.
pub trait SmsGateway: Send + Sync + 'static {
    fn name(&self) -> &str;
    /// Hands a text over; the gateway's id for it. Retries inside, with the same key.
    fn send<'a>(&'a self, msg: &'a SmsMessage) -> BoxFuture<'a, Result<String, ConnectorError>>;
    /// Where a text handed over stands.
    fn delivery<'a>(&'a self, gateway_id: &'a str) -> BoxFuture<'a, Result<Delivery, ConnectorError>>;
}

/// The province's gateway, as configured on its hub.
#[derive(Clone)]
pub struct HttpSmsConfig {
    /// e.g. `https://sms.example.gansu.gov.cn` (no trailing slash needed).
    pub base_url: String,
    pub token: Zeroizing<String>,
    /// Tries per send (the first included), with the same idempotency key.
    pub attempts: u32,
    /// Wait before the second try; doubled after each.
    pub backoff: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpSmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmsConfig").field("base_url", &self.base_url).field("attempts", &self.attempts).finish_non_exhaustive()
    }
}

impl HttpSmsConfig {
    pub fn new(base_url: &str, token: &str) -> HttpSmsConfig {
        HttpSmsConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: Zeroizing::new(token.to_owned()),
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
        }
    }
}

pub struct HttpSmsGateway {
    config: HttpSmsConfig,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct SendBody<'a> {
    to: &'a str,
    text: &'a str,
    reference: &'a str,
}

#[derive(Deserialize)]
struct MessageBody {
    id: String,
    status: String,
    #[serde(default)]
    error: Option<String>,
}

impl HttpSmsGateway {
    pub fn new(config: HttpSmsConfig) -> Result<HttpSmsGateway, ConnectorError> {
        // reqwest's rustls has no provider of its own here; ring, as offline-cache.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| ConnectorError::Unavailable(format!("SMS gateway client: {e}")))?;
        Ok(HttpSmsGateway { config, http })
    }

    async fn send_once(&self, msg: &SmsMessage) -> Result<String, ConnectorError> {
        let url = format!("{}/v1/messages", self.config.base_url);
        let resp = self
            .http
            .post(&url)
            .bearer_auth(self.config.token.as_str())
            .header("Idempotency-Key", &msg.key)
            .json(&SendBody { to: &msg.to, text: &msg.text, reference: &msg.key })
            .send()
            .await
            // reqwest's error names the URL, never the body: no number in it.
            .map_err(|e| ConnectorError::Unavailable(format!("SMS gateway: {}", e.without_url())))?;
        let status = resp.status();
        if status.is_success() {
            let body: MessageBody = resp.json().await.map_err(|_| ConnectorError::Unavailable("SMS gateway: unreadable answer".into()))?;
            if body.id.is_empty() {
                return Err(ConnectorError::Unavailable("SMS gateway: answer without an id".into()));
            }
            Ok(body.id)
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(ConnectorError::Unavailable(format!("SMS gateway answered {status}")))
        } else {
            Err(ConnectorError::Refused { service: "SMS gateway".into(), reason: format!("{status}") })
        }
    }
}

impl SmsGateway for HttpSmsGateway {
    fn name(&self) -> &str {
        &self.config.base_url
    }

    fn send<'a>(&'a self, msg: &'a SmsMessage) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(async move {
            let waits = Backoff { first: self.config.backoff, max: Duration::from_secs(60) };
            let mut tries = 0;
            loop {
                tries += 1;
                match self.send_once(msg).await {
                    Err(ConnectorError::Unavailable(why)) if tries < self.config.attempts.max(1) => {
                        tracing::info!(key = %msg.key, to = %mask_phone(&msg.to), tries, %why, "SMS gateway did not take it; trying again with the same key");
                        tokio::time::sleep(waits.after(tries)).await;
                    }
                    other => return other,
                }
            }
        })
    }

    fn delivery<'a>(&'a self, gateway_id: &'a str) -> BoxFuture<'a, Result<Delivery, ConnectorError>> {
        Box::pin(async move {
            let id: String = gateway_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
            let url = format!("{}/v1/messages/{id}", self.config.base_url);
            let resp = self
                .http
                .get(&url)
                .bearer_auth(self.config.token.as_str())
                .send()
                .await
                .map_err(|e| ConnectorError::Unavailable(format!("SMS gateway: {}", e.without_url())))?;
            if !resp.status().is_success() {
                return Err(ConnectorError::Unavailable(format!("SMS gateway answered {}", resp.status())));
            }
            let body: MessageBody = resp.json().await.map_err(|_| ConnectorError::Unavailable("SMS gateway: unreadable answer".into()))?;
            Ok(match body.status.as_str() {
                "delivered" => Delivery::Delivered,
                "failed" => Delivery::Failed(body.error.unwrap_or_else(|| "undeliverable".into())),
                _ => Delivery::Accepted,
            })
        })
    }
}

/// The words of a progress SMS. Names no person: the case number and status only.
pub fn progress_text(case_number: &str, status: CaseStatus, reason: Option<&str>) -> String {
    match (status, reason) {
        (CaseStatus::Rejected, Some(r)) => format!("【村办】您的办件 {case_number} {}：{r}", status.label_zh()),
        (CaseStatus::Done, _) => format!("【村办】您的办件 {case_number} {}，可到村服务点打印结果。", status.label_zh()),
        _ => format!("【村办】您的办件 {case_number} 状态：{}。", status.label_zh()),
    }
}

/// The words of the text that carries the back office's answer to a bad
/// rating (差评整改). Names no person: the case number and the answer.
pub fn reply_text(case_number: &str, reply: &str) -> String {
    format!("【村办】您对办件 {case_number} 的评价，答复如下：{reply}")
}

/// What one [`dispatch`] run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DispatchReport {
    /// Handed to the gateway this run.
    pub sent: usize,
    /// Tried and not taken (stays pending for the next run).
    pub deferred: usize,
    pub delivered: usize,
    pub failed: usize,
    pub no_number: usize,
    pub expired: usize,
}

/// The villager's number for a case, read from the sealed filing (None: no
/// mobile number on the form). An error leaves the text pending.
pub type PhoneOf<'a> = dyn FnMut(&CaseNumber) -> Result<Option<Zeroizing<String>>, String> + Send + 'a;

/// One pass over the SMS outbox: sends what waits, asks after what was sent.
/// Run after each decision and periodically (`hub sms send`), so a text held
/// up by a gateway outage goes out when it returns, under the same key.
pub async fn dispatch(store: &dyn Store, gateway: &dyn SmsGateway, phone_of: &mut PhoneOf<'_>, now: OffsetDateTime) -> Result<DispatchReport, StoreError> {
    let mut report = DispatchReport::default();
    for row in store.sms_due(500)? {
        match row.state {
            SmsState::Pending => send_one(store, gateway, phone_of, &row, now, &mut report).await?,
            SmsState::Sent => {
                let Some(id) = row.gateway_id.as_deref() else { continue };
                match gateway.delivery(id).await {
                    Ok(Delivery::Delivered) => {
                        store.sms_record(&row.key, &SmsUpdate::Closed { state: SmsState::Delivered, error: None }, now)?;
                        report.delivered += 1;
                    }
                    Ok(Delivery::Failed(why)) => {
                        tracing::warn!(key = %row.key, case = %row.case_number, %why, "progress SMS not delivered");
                        store.sms_record(&row.key, &SmsUpdate::Closed { state: SmsState::Failed, error: Some(&why) }, now)?;
                        report.failed += 1;
                    }
                    Ok(Delivery::Accepted) => {}
                    Err(e) => tracing::info!(key = %row.key, error = %e, "SMS delivery status not known yet"),
                }
            }
            _ => {}
        }
    }
    Ok(report)
}

async fn send_one(
    store: &dyn Store,
    gateway: &dyn SmsGateway,
    phone_of: &mut PhoneOf<'_>,
    row: &SmsRow,
    now: OffsetDateTime,
    report: &mut DispatchReport,
) -> Result<(), StoreError> {
    if now - row.created_at > SEND_WITHIN {
        store.sms_record(&row.key, &SmsUpdate::Closed { state: SmsState::Expired, error: None }, now)?;
        report.expired += 1;
        return Ok(());
    }
    let case = CaseNumber::parse(&row.case_number).map_err(|_| StoreError::Corrupt(format!("SMS outbox case {}", row.case_number)))?;
    let phone = match phone_of(&case) {
        Ok(Some(p)) => p,
        Ok(None) => {
            store.sms_record(&row.key, &SmsUpdate::Closed { state: SmsState::NoNumber, error: None }, now)?;
            report.no_number += 1;
            return Ok(());
        }
        Err(why) => {
            tracing::warn!(key = %row.key, case = %row.case_number, %why, "cannot read the number for a progress SMS");
            store.sms_record(&row.key, &SmsUpdate::Attempted { error: &why }, now)?;
            report.deferred += 1;
            return Ok(());
        }
    };
    let text = match &row.reply {
        Some(reply) => reply_text(&row.case_number, reply),
        None => progress_text(&row.case_number, row.status, row.reason.as_deref()),
    };
    let msg = SmsMessage { key: row.key.clone(), to: phone, text };
    match gateway.send(&msg).await {
        Ok(id) => {
            tracing::info!(key = %msg.key, case = %row.case_number, to = %mask_phone(&msg.to), gateway_id = %id, "progress SMS handed to the gateway");
            store.sms_record(&row.key, &SmsUpdate::Sent { gateway_id: &id }, now)?;
            report.sent += 1;
        }
        Err(ConnectorError::Unavailable(why)) => {
            tracing::warn!(key = %msg.key, to = %mask_phone(&msg.to), %why, "progress SMS waits for the gateway");
            store.sms_record(&row.key, &SmsUpdate::Attempted { error: &why }, now)?;
            report.deferred += 1;
        }
        Err(e) => {
            let why = e.to_string();
            tracing::warn!(key = %msg.key, to = %mask_phone(&msg.to), %why, "progress SMS refused by the gateway");
            store.sms_record(&row.key, &SmsUpdate::Closed { state: SmsState::Failed, error: Some(&why) }, now)?;
            report.failed += 1;
        }
    }
    Ok(())
}

/// The number of a case's villager, read from its sealed filing with the
/// platform key (the hub at `db`, its attachments in `blob_dir`).
pub fn phone_reader<'a>(db: &'a Path, blob_dir: Option<&'a Path>, store: &'a dyn Store, key: &'a PlatformSecretKey) -> Box<PhoneOf<'a>> {
    Box::new(move |case| {
        let hubdb = crate::sqlite::HubDb::open_any(db, blob_dir).map_err(|e| e.to_string())?;
        let (_, filing) = crate::backoffice::open_case(&hubdb, store, case.as_str(), key).map_err(|e| e.to_string())?;
        Ok(crate::backoffice::notification_phone(&filing.submission).map(Zeroizing::new))
    })
}

/// The SMS outbox as an [`OutboxJob`]: the serving hub's [`dispatch`].
struct SmsJob<G> {
    db: PathBuf,
    blob_dir: Option<PathBuf>,
    store: Arc<dyn Store>,
    gateway: G,
    key: Arc<PlatformSecretKey>,
}

impl<G: SmsGateway> OutboxJob for SmsJob<G> {
    fn name(&self) -> &'static str {
        "sms"
    }

    fn pass(&self, now: OffsetDateTime) -> BoxFuture<'_, Result<Pass, StoreError>> {
        Box::pin(async move {
            let mut phones = phone_reader(&self.db, self.blob_dir.as_deref(), self.store.as_ref(), &self.key);
            let r = dispatch(self.store.as_ref(), &self.gateway, &mut *phones, now).await?;
            if r != DispatchReport::default() {
                tracing::info!(?r, "SMS outbox pass");
            }
            Ok(Pass { handled: r.sent + r.delivered + r.failed + r.no_number + r.expired, deferred: r.deferred, more: false })
        })
    }
}

/// The serving hub's passes over the SMS outbox (it needs a gateway and the
/// platform key): at start, then every `every`, sooner after the gateway
/// did not take a text; until stopped.
pub fn spawn_loop(db: PathBuf, blob_dir: Option<PathBuf>, store: Arc<dyn Store>, gateway: impl SmsGateway, key: Arc<PlatformSecretKey>, every: Duration) -> OutboxLoop {
    OutboxLoop::spawn(SmsJob { db, blob_dir, store, gateway, key }, Schedule::every(every, Duration::from_secs(5)), Nudge::default(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_texts_name_the_case_not_the_person() {
        let n = "622026112100000001";
        assert_eq!(progress_text(n, CaseStatus::Accepted, None), "【村办】您的办件 622026112100000001 状态：已受理。");
        assert!(progress_text(n, CaseStatus::Done, None).contains("打印结果"));
        assert!(progress_text(n, CaseStatus::Rejected, Some("材料不清晰")).contains("材料不清晰"));
    }

    #[test]
    fn a_message_debug_masks_the_number() {
        let m = SmsMessage { key: "k".into(), to: Zeroizing::new("13912345678".into()), text: "t".into() };
        let shown = format!("{m:?}");
        assert!(!shown.contains("13912345678") && shown.contains("139"), "{shown}");
    }
}
