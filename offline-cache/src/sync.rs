//! The sync client: sends the outbox to the hub over the `model::protocol`
//! contract (sealed envelope, sealed attachments, commit), one submission at
//! a time. It sends the stored sealed bytes as they are: it could not open
//! them if it wanted to.
//!
//! Failures are classified. Anything that says "the link or the hub is not
//! usable now" (link down, timeout, captive portal, 5xx, 429) stops the
//! batch; a rejection of one record (409, 413, 422), or a damaged local copy
//! of one record, quarantines that record and the batch goes on. Retrying
//! and backoff are the caller's business.

use std::fmt;
use std::sync::Once;
use std::time::Duration;

use model::protocol::{CommitResponse, ErrorBody, Health, PutResponse, SERVICE_NAME};
use model::{CaseNumber, SubmissionId};
use reqwest::header::CONTENT_TYPE;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::de::from_slice;

use crate::error::{StoreError, SyncError};
use crate::outbox::{Outbox, SendItem};

/// Timeouts and batch size. Defaults suit a flaky 4G link.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub connect_timeout: Duration,
    /// Longest silence while reading or writing one response.
    pub read_timeout: Duration,
    /// Cap on one whole request: a 16 MB scan on a slow link takes minutes.
    pub request_timeout: Duration,
    /// Submissions sent per `sync_once` at most.
    pub batch_size: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(300),
            batch_size: 50,
        }
    }
}

/// Why a batch stopped early. Each means: try again later, the records are fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// No connection (refused, unreachable, DNS, reset mid-request).
    LinkDown(String),
    /// The hub or the link did not answer in time.
    Timeout,
    /// Something answered that is not our hub (a captive portal, a proxy's page).
    CaptivePortal(String),
    /// The hub is overloaded or failing (5xx, 429).
    ServerBusy { status: u16 },
    /// A status that is neither success nor a record rejection (e.g. 401, 404).
    UnexpectedStatus { status: u16 },
    /// The local outbox failed.
    LocalStore(String),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::LinkDown(d) => write!(f, "link down: {d}"),
            StopReason::Timeout => f.write_str("timed out"),
            StopReason::CaptivePortal(d) => write!(f, "not the hub (captive portal?): {d}"),
            StopReason::ServerBusy { status } => write!(f, "hub busy (HTTP {status})"),
            StopReason::UnexpectedStatus { status } => write!(f, "unexpected HTTP {status}"),
            StopReason::LocalStore(d) => write!(f, "local store: {d}"),
        }
    }
}

/// What one `sync_once` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Committed by the hub, now `Acknowledged` locally.
    pub acknowledged: Vec<(SubmissionId, CaseNumber)>,
    /// Refused by the hub for reasons of their own (or damaged locally):
    /// now `Quarantined` with the reason, never sent again by themselves.
    pub quarantined: Vec<(SubmissionId, String)>,
    /// Set when the batch stopped before the end of the queue.
    pub stopped: Option<StopReason>,
}

/// How one request or one record ended, when not in success.
enum Failure {
    Stop(StopReason),
    Reject(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            // This record's bytes are bad; the store and the rest of the queue are fine.
            e @ StoreError::RecordDamaged { .. } => Failure::Reject(format!("local copy damaged: {e}")),
            e => Failure::Stop(StopReason::LocalStore(e.to_string())),
        }
    }
}

/// Talks to one hub.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    /// Base URL without a trailing slash.
    base: String,
    batch_size: usize,
}

static CRYPTO_PROVIDER: Once = Once::new();

/// Installs ring as rustls's process-wide crypto provider, once. reqwest is
/// built without a provider (aws-lc-rs is slow to build), so any code in the
/// process that makes a reqwest client must have called this first;
/// [`SyncClient::new`] does. An already installed provider is left alone.
pub fn install_crypto_provider() {
    CRYPTO_PROVIDER.call_once(|| {
        // Err means the host process installed one already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Longest `last_error` kept: enough to diagnose, not a place for bodies.
const MAX_ERROR_LEN: usize = 300;

fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR_LEN {
        let mut cut = MAX_ERROR_LEN;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The innermost cause of a transport error, e.g. "Connection refused (os error 111)".
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn classify_transport(e: &reqwest::Error) -> StopReason {
    if e.is_timeout() {
        StopReason::Timeout
    } else {
        StopReason::LinkDown(truncate(root_cause(e)))
    }
}

/// A record-specific rejection's text, from the hub's `ErrorBody` when there is one.
fn rejection_text(status: StatusCode, body: &[u8]) -> String {
    match from_slice::<ErrorBody>(body) {
        Ok(eb) => truncate(format!("HTTP {}: {:?}: {}", status.as_u16(), eb.code, eb.message)),
        Err(_) => format!("HTTP {}", status.as_u16()),
    }
}

impl SyncClient {
    pub fn new(base_url: &str) -> Result<SyncClient, SyncError> {
        SyncClient::with_config(base_url, SyncConfig::default())
    }

    pub fn with_config(base_url: &str, config: SyncConfig) -> Result<SyncClient, SyncError> {
        let url = reqwest::Url::parse(base_url).map_err(|_| SyncError::BadUrl(base_url.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(SyncError::BadUrl(base_url.to_owned()));
        }
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .timeout(config.request_timeout)
            // A redirect is how captive portals answer: report it, don't follow it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cunban-offline-cache/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))?;
        Ok(SyncClient { http, base: base_url.trim_end_matches('/').to_owned(), batch_size: config.batch_size.max(1) })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// True when our hub answers its health check.
    pub async fn hub_reachable(&self) -> bool {
        self.check_health().await.is_ok()
    }

    async fn check_health(&self) -> Result<(), StopReason> {
        let resp = self.http.get(self.url("/v1/health")).send().await.map_err(|e| classify_transport(&e))?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(StopReason::ServerBusy { status: status.as_u16() });
        }
        if status != StatusCode::OK {
            return Err(StopReason::CaptivePortal(format!("health check answered HTTP {}", status.as_u16())));
        }
        let body = resp.bytes().await.map_err(|e| classify_transport(&e))?;
        match from_slice::<Health>(&body) {
            Ok(h) if h.service == SERVICE_NAME => Ok(()),
            Ok(_) => Err(StopReason::CaptivePortal("health check answered by another service".into())),
            Err(_) => Err(StopReason::CaptivePortal("health check answered something that is not JSON health".into())),
        }
    }

    /// Sends one request; Ok with the body on 2xx, otherwise classified.
    async fn call(&self, req: RequestBuilder) -> Result<Vec<u8>, Failure> {
        let resp = req.send().await.map_err(|e| Failure::Stop(classify_transport(&e)))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| Failure::Stop(classify_transport(&e)))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(match status {
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PAYLOAD_TOO_LARGE => {
                Failure::Reject(rejection_text(status, &body))
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                Failure::Stop(StopReason::ServerBusy { status: s.as_u16() })
            }
            s => Failure::Stop(StopReason::UnexpectedStatus { status: s.as_u16() }),
        })
    }

    /// A 2xx whose body isn't ours: something between us and the hub answered.
    fn expect_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Failure> {
        from_slice(body).map_err(|_| Failure::Stop(StopReason::CaptivePortal(format!("{what} answered with an unexpected body"))))
    }

    /// Envelope, attachments, commit. Every step is idempotent on the hub, so
    /// a record interrupted anywhere is simply sent again.
    async fn send_one(&self, outbox: &Outbox, item: SendItem) -> Result<CaseNumber, Failure> {
        let id = item.id;
        let body = self
            .call(self.http.put(self.url(&format!("/v1/submissions/{id}"))).header(CONTENT_TYPE, "application/json").body(item.envelope))
            .await?;
        let put: PutResponse = Self::expect_json(&body, "manifest upload")?;
        tracing::debug!(%id, outcome = ?put.outcome, "sealed manifest sent");

        for (idx, sha256) in &item.attachments {
            let ob = outbox.clone();
            let idx = *idx;
            let bytes = blocking(move || ob.attachment_bytes(id, idx)).await.map_err(Failure::from)?;
            let body = self
                .call(
                    self.http
                        .put(self.url(&format!("/v1/submissions/{id}/attachments/{sha256}")))
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .body(bytes),
                )
                .await?;
            let put: PutResponse = Self::expect_json(&body, "attachment upload")?;
            tracing::debug!(%id, %sha256, outcome = ?put.outcome, "attachment sent");
        }

        let body = self.call(self.http.post(self.url(&format!("/v1/submissions/{id}/commit")))).await?;
        let commit: CommitResponse = Self::expect_json(&body, "commit")?;
        if commit.id != id {
            return Err(Failure::Stop(StopReason::CaptivePortal("commit answered for another submission".into())));
        }
        Ok(commit.case_number)
    }

    /// Sends what is pending, oldest first, up to the batch size. Contacts
    /// nothing when the queue is empty.
    pub async fn sync_once(&self, outbox: &Outbox) -> SyncReport {
        let mut report = SyncReport::default();
        let ob = outbox.clone();
        let limit = self.batch_size;
        let pending = match blocking(move || ob.pending(limit)).await {
            Ok(p) => p,
            Err(e) => {
                report.stopped = Some(StopReason::LocalStore(e.to_string()));
                return report;
            }
        };
        let Some(head) = pending.first() else {
            return report;
        };

        if let Err(stop) = self.check_health().await {
            tracing::info!(reason = %stop, queued = pending.len(), "hub not usable, sync stopped");
            let (ob, id, reason) = (outbox.clone(), head.id, stop.to_string());
            if let Err(e) = blocking(move || ob.record_unreachable(id, &reason)).await {
                tracing::warn!(error = %e, "cannot record the failed attempt");
            }
            report.stopped = Some(stop);
            return report;
        }

        for entry in pending {
            let id = entry.id;
            let ob = outbox.clone();
            let item = blocking(move || {
                ob.mark_sending(id)?;
                ob.load_for_send(id)
            })
            .await;
            let result = match item {
                Ok(item) => self.send_one(outbox, item).await,
                Err(e) => Err(Failure::from(e)),
            };
            let ob = outbox.clone();
            match result {
                Ok(case_number) => {
                    let cn = case_number.clone();
                    if let Err(e) = blocking(move || ob.mark_acknowledged(id, &cn)).await {
                        // The hub has it; the row stays 'sending' and the next
                        // sync's replay gets the same case number back.
                        report.stopped = Some(StopReason::LocalStore(e.to_string()));
                        break;
                    }
                    tracing::info!(%id, item = %entry.item_code, %case_number, "acknowledged");
                    report.acknowledged.push((id, case_number));
                }
                Err(Failure::Reject(reason)) => {
                    tracing::warn!(%id, item = %entry.item_code, %reason, "refused; quarantined");
                    let r = reason.clone();
                    if let Err(e) = blocking(move || ob.mark_quarantined(id, &r)).await {
                        report.stopped = Some(StopReason::LocalStore(e.to_string()));
                        break;
                    }
                    report.quarantined.push((id, reason));
                }
                Err(Failure::Stop(stop)) => {
                    tracing::info!(%id, reason = %stop, "sync stopped");
                    let r = stop.to_string();
                    if let Err(e) = blocking(move || ob.mark_failed(id, &r)).await {
                        tracing::warn!(error = %e, "cannot record the failed attempt");
                    }
                    report.stopped = Some(stop);
                    break;
                }
            }
        }
        report
    }
}

/// Runs outbox work on the blocking pool: it waits on fsync and on the lock.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::TaskFailed(e.to_string()))?
}
