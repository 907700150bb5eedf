//! The sync client: sends the outbox to the hub over the `model::protocol`
//! contract (sealed envelope, sealed attachments with byte-range resume,
//! commit), one submission at a time, every request signed with the
//! terminal's device key. It sends the stored sealed bytes as they are: it
//! could not open them if it wanted to.
//!
//! Failures are classified. Anything that says "the link or the hub is not
//! usable now" (link down, timeout, captive portal, clock skew, 5xx, 429 —
//! including `quota_exceeded`, this terminal holding too much unfinished on
//! the hub — our key refused) stops the batch; a rejection of one record
//! (413, 422, or a 409 `different_body`: this terminal itself stored another
//! body under the id), or a damaged local copy of one record, quarantines
//! that record and the batch goes on. A 409 that does not say it is our own
//! doing (a hub from before ids were per terminal answers so when *another*
//! terminal claimed the id first) proves nothing against the filing: it
//! stays queued, is flagged with the reason, and is tried again later.
//! [`crate::Backoff`] says when to try again.
//!
//! [`SyncClient::sync_all`] is one full round: submissions, then
//! evaluations, case status (→ processed), heartbeat, and the catalog and
//! config when the hub has newer ones.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use model::auth::{
    PublicKey, RequestToSign, SignedCatalog, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
    MAX_CLOCK_SKEW_SECS,
};
use model::protocol::{
    CaseStatusList, CaseStatusQuery, CommitResponse, DeviceHealth, ErrorBody, ErrorCode, EvaluationAck, Health, Heartbeat, HeartbeatAck,
    PutResponse, QueueSnapshot, TerminalConfig, UploadStatus, SERVICE_NAME,
};
use model::document::{DocumentKind, SignedDocument};
use model::operator::OperatorList;
use model::submission::sha256_hex;
use bytes::Bytes;
use model::{CaseNumber, CaseStatus, SubmissionId};
use reqwest::header::{HeaderMap, CONTENT_RANGE, CONTENT_TYPE, DATE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::de::from_slice;
use time::OffsetDateTime;

use crate::error::{StoreError, SyncError};
use crate::identity::DeviceIdentity;
use crate::outbox::{Outbox, SendItem};

/// Timeouts, batch size and what the terminal pulls. Defaults suit a flaky 4G link.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub connect_timeout: Duration,
    /// Longest silence while reading or writing one response.
    pub read_timeout: Duration,
    /// Cap on one whole request: a 16 MB scan on a slow link takes minutes.
    pub request_timeout: Duration,
    /// Submissions sent per `sync_once` at most.
    pub batch_size: usize,
    /// The key the hub's catalog must be signed with. Without it, no catalog is pulled.
    pub catalog_key: Option<PublicKey>,
    /// The hub's own key (pinned at enrollment): operator lists and terminal
    /// configs must be signed with it. Without it, neither is applied.
    pub hub_key: Option<PublicKey>,
    /// Plain http to a hub not on this machine. Only test rigs that put the
    /// terminal in its own network namespace set it; the kiosk never does.
    pub allow_plain_http: bool,
    /// Heartbeats go out at most this often (the hub's config may change it).
    pub heartbeat_interval: Duration,
    /// Reported in heartbeats.
    pub app_version: String,
    /// A difference between the hub's clock and ours beyond this stops the
    /// batch once (and is reported); then requests are signed with the
    /// hub's time so a terminal with a wrong clock still delivers.
    pub max_clock_skew: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(300),
            batch_size: 50,
            catalog_key: None,
            hub_key: None,
            allow_plain_http: false,
            heartbeat_interval: Duration::from_secs(300),
            app_version: concat!("offline-cache/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_clock_skew: Duration::from_secs((MAX_CLOCK_SKEW_SECS / 2) as u64),
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
    /// The hub is overloaded or failing (5xx, 429), with its Retry-After if it gave one.
    ServerBusy { status: u16, retry_after: Option<Duration> },
    /// Our clock and the hub's differ by `offset_secs` (hub minus ours).
    /// Requests are signed with the hub's time from now on.
    ClockSkew { offset_secs: i64 },
    /// The hub refused this terminal: not registered, revoked, or a bad
    /// signature. Nothing goes through until a technician looks.
    AuthRejected { status: u16, code: String },
    /// A status that is neither success nor a record rejection (e.g. 404).
    UnexpectedStatus { status: u16 },
    /// The local outbox failed.
    LocalStore(String),
}

impl StopReason {
    /// The wait the hub asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StopReason::ServerBusy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::LinkDown(d) => write!(f, "link down: {d}"),
            StopReason::Timeout => f.write_str("timed out"),
            StopReason::CaptivePortal(d) => write!(f, "not the hub (captive portal?): {d}"),
            StopReason::ServerBusy { status, retry_after: Some(r) } => write!(f, "hub busy (HTTP {status}, retry after {} s)", r.as_secs()),
            StopReason::ServerBusy { status, retry_after: None } => write!(f, "hub busy (HTTP {status})"),
            StopReason::ClockSkew { offset_secs } => write!(f, "clock differs from the hub's by {offset_secs} s"),
            StopReason::AuthRejected { status, code } => write!(f, "the hub refused this terminal (HTTP {status}: {code})"),
            StopReason::UnexpectedStatus { status } => write!(f, "unexpected HTTP {status}"),
            StopReason::LocalStore(d) => write!(f, "local store: {d}"),
        }
    }
}

/// What one `sync_once` / `sync_all` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Committed by the hub, now `Acknowledged` locally.
    pub acknowledged: Vec<(SubmissionId, CaseNumber)>,
    /// Refused by the hub for reasons of their own (or damaged locally):
    /// now `Quarantined` with the reason, never sent again by themselves.
    pub quarantined: Vec<(SubmissionId, String)>,
    /// Set when the round stopped before its end.
    pub stopped: Option<StopReason>,
    /// Attachment bytes sent in this round.
    pub bytes_sent: u64,
    /// Attachment bytes not sent again because the hub held them from an
    /// earlier, broken upload (resume).
    pub bytes_resumed: u64,
    /// Case statuses that changed (sync_all).
    pub case_updates: Vec<(SubmissionId, CaseStatus)>,
    pub evaluations_sent: usize,
    pub heartbeat_sent: bool,
    /// A newer catalog verified and stored (its version).
    pub catalog_updated: Option<u64>,
    /// A catalog the hub offered was refused (bad signature, malformed); the old one is kept.
    pub catalog_refused: Option<String>,
    /// A newer terminal config stored (its version).
    pub config_updated: Option<u64>,
    /// Of `acknowledged`: records the hub already held from an imported
    /// export (`hub import`), acknowledged without being sent again.
    pub acknowledged_from_import: usize,
    /// Operator accounts pulled: (accounts, revoked).
    pub operators_updated: Option<(usize, usize)>,
    /// Refused for a reason that may not be the record's (a 409 that does
    /// not say this terminal caused it): kept queued with the reason, tried
    /// again in a later round; the batch went on.
    pub deferred: Vec<(SubmissionId, String)>,
}

/// How one request or one record ended, when not in success.
enum Failure {
    Stop(StopReason),
    Reject(String),
    /// Not this record's fault as far as we can tell: keep it, go on.
    Defer(String),
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

type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Talks to one hub as one terminal. Cheap to clone; clones share the
/// clock offset, device health and heartbeat schedule.
#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    /// Base URL without a trailing slash.
    base: String,
    config: SyncConfig,
    identity: Arc<DeviceIdentity>,
    clock: Clock,
    /// Hub clock minus ours (seconds) that requests are signed with.
    offset: Arc<AtomicI64>,
    /// The last difference measured from a Date header.
    measured: Arc<AtomicI64>,
    devices: Arc<Mutex<BTreeMap<String, DeviceHealth>>>,
    last_heartbeat: Arc<Mutex<Option<Instant>>>,
    /// The last catalog problem, for heartbeats.
    catalog_problem: Arc<Mutex<Option<String>>>,
    /// When the hub last answered as itself: a round within
    /// [`HEALTH_FRESH`] of it skips the health check (one request less on
    /// a metered link; any answer that isn't the hub's is still caught).
    last_ok: Arc<Mutex<Option<Instant>>>,
}

/// How long a hub answer vouches for the link (see `SyncClient::last_ok`).
const HEALTH_FRESH: Duration = Duration::from_secs(60);

impl fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncClient").field("base", &self.base).field("identity", &self.identity).finish_non_exhaustive()
    }
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

fn error_code(body: &[u8]) -> Option<ErrorCode> {
    from_slice::<ErrorBody>(body).ok().map(|b| b.code)
}

/// Retry-After as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// A response, read whole.
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn random_nonce() -> Result<String, StopReason> {
    let mut b = [0u8; 16];
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut b).map_err(|e| StopReason::LocalStore(format!("no entropy: {e}")))?;
    Ok(hex::encode(b))
}

impl SyncClient {
    pub fn new(base_url: &str, identity: DeviceIdentity) -> Result<SyncClient, SyncError> {
        SyncClient::with_config(base_url, identity, SyncConfig::default())
    }

    pub fn with_config(base_url: &str, identity: DeviceIdentity, config: SyncConfig) -> Result<SyncClient, SyncError> {
        crate::hub_url::check_hub_url(base_url, config.allow_plain_http)?;
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
        let config = SyncConfig { batch_size: config.batch_size.max(1), ..config };
        Ok(SyncClient {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            config,
            identity: Arc::new(identity),
            clock: Arc::new(OffsetDateTime::now_utc),
            offset: Arc::new(AtomicI64::new(0)),
            measured: Arc::new(AtomicI64::new(0)),
            devices: Arc::new(Mutex::new(BTreeMap::new())),
            last_heartbeat: Arc::new(Mutex::new(None)),
            catalog_problem: Arc::new(Mutex::new(None)),
            last_ok: Arc::new(Mutex::new(None)),
        })
    }

    /// Replaces the local clock (tests simulate a terminal whose clock is wrong).
    pub fn with_clock(mut self, clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> SyncClient {
        self.clock = Arc::new(clock);
        self
    }

    pub fn terminal_id(&self) -> &str {
        self.identity.terminal_id()
    }

    pub fn public_key(&self) -> PublicKey {
        self.identity.public_key()
    }

    /// Hub clock minus ours (seconds), as last measured from a Date header.
    pub fn clock_offset(&self) -> i64 {
        self.measured.load(Ordering::Relaxed)
    }

    /// Sends a heartbeat (and pulls case status) in the next `sync_all`, due
    /// or not: after a technician's change, when a villager asks for
    /// progress, in tests.
    pub fn heartbeat_soon(&self) {
        *self.last_heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The device health reported so far (the technician's diagnostics).
    pub fn devices(&self) -> Vec<DeviceHealth> {
        self.devices.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Records a device's health for the next heartbeat.
    pub fn report_device(&self, health: DeviceHealth) {
        let mut d = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        d.insert(health.device.clone(), health);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// Learns the hub's clock from a response's Date header; returns the difference.
    fn observe_date(&self, headers: &HeaderMap) -> Option<i64> {
        let v = headers.get(DATE)?.to_str().ok()?;
        let hub = httpdate::parse_http_date(v).ok()?;
        let hub = OffsetDateTime::from(hub).unix_timestamp();
        let diff = hub - self.now().unix_timestamp();
        self.measured.store(diff, Ordering::Relaxed);
        Some(diff)
    }

    /// The result document of a case this terminal sent (打印结果): its
    /// media type and bytes, `Ok(None)` when the hub has none for it. Fetched
    /// when a villager asks to print it, never stored on the terminal.
    pub async fn fetch_result(&self, case_number: &CaseNumber) -> Result<Option<(String, Vec<u8>)>, StopReason> {
        let path = format!("/v1/cases/{}/result", case_number.as_str());
        let resp = match self.request(Method::GET, &path, None, None).await {
            Ok(resp) => resp,
            Err(Failure::Stop(stop)) => return Err(stop),
            Err(Failure::Reject(_) | Failure::Defer(_)) => return Err(StopReason::UnexpectedStatus { status: 0 }),
        };
        match resp.status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => {
                let media_type = resp
                    .headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                Ok(Some((media_type, resp.body)))
            }
            _ => match self.failure(&resp) {
                Failure::Stop(stop) => Err(stop),
                Failure::Reject(_) | Failure::Defer(_) => Err(StopReason::UnexpectedStatus { status: resp.status.as_u16() }),
            },
        }
    }

    /// True when our hub answers its health check.
    pub async fn hub_reachable(&self) -> bool {
        self.check_health().await.is_ok()
    }

    async fn check_health(&self) -> Result<(), StopReason> {
        let resp = self.http.get(self.url("/v1/health")).send().await.map_err(|e| classify_transport(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(StopReason::ServerBusy { status: status.as_u16(), retry_after: retry_after(&headers, std::time::SystemTime::now()) });
        }
        if status != StatusCode::OK {
            return Err(StopReason::CaptivePortal(format!("health check answered HTTP {}", status.as_u16())));
        }
        let body = resp.bytes().await.map_err(|e| classify_transport(&e))?;
        match from_slice::<Health>(&body) {
            Ok(h) if h.service == SERVICE_NAME => {}
            Ok(_) => return Err(StopReason::CaptivePortal("health check answered by another service".into())),
            Err(_) => return Err(StopReason::CaptivePortal("health check answered something that is not JSON health".into())),
        }
        self.check_skew(&headers)?;
        self.mark_ok();
        Ok(())
    }

    fn mark_ok(&self) {
        *self.last_ok.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// The health check, unless the hub answered as itself very recently.
    async fn check_health_if_stale(&self) -> Result<(), StopReason> {
        let fresh = self.last_ok.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t.elapsed() < HEALTH_FRESH);
        if fresh {
            Ok(())
        } else {
            self.check_health().await
        }
    }

    /// Compares the hub's Date with our clock. When the difference moved by
    /// more than `max_clock_skew` from what we sign with: stop once and say
    /// so; from then on requests are signed with the hub's time.
    fn check_skew(&self, headers: &HeaderMap) -> Result<(), StopReason> {
        if let Some(diff) = self.observe_date(headers) {
            let signing_with = self.offset.load(Ordering::Relaxed);
            if (diff - signing_with).unsigned_abs() > self.config.max_clock_skew.as_secs() {
                self.offset.store(diff, Ordering::Relaxed);
                tracing::warn!(offset_secs = diff, "our clock differs from the hub's; the batch stops, later requests use the hub's time");
                return Err(StopReason::ClockSkew { offset_secs: diff });
            }
        }
        Ok(())
    }

    /// Sends one signed request and reads the answer whole. Transport
    /// failures are classified; statuses are the caller's to judge.
    async fn request(&self, method: Method, path: &str, content_range: Option<&str>, body: Option<(Vec<u8>, &'static str)>) -> Result<Resp, Failure> {
        let body = body.map(|(b, t)| (Bytes::from(b), t));
        self.request_bytes(method, path, content_range, body, None).await
    }

    /// [`Self::request`] with a shared body and, when the caller knows it,
    /// the body's SHA-256 (an attachment sent whole is named by it).
    async fn request_bytes(
        &self,
        method: Method,
        path: &str,
        content_range: Option<&str>,
        body: Option<(Bytes, &'static str)>,
        known_sha256: Option<&str>,
    ) -> Result<Resp, Failure> {
        let (bytes, content_type) = body.unwrap_or((Bytes::new(), ""));
        let body_sha256 = match known_sha256 {
            Some(h) => h.to_owned(),
            None => sha256_hex(&bytes),
        };
        let timestamp = self.now().unix_timestamp() + self.offset.load(Ordering::Relaxed);
        let nonce = random_nonce().map_err(Failure::Stop)?;
        let to_sign = RequestToSign {
            method: method.as_str(),
            path_and_query: path,
            content_range: content_range.unwrap_or(""),
            body_sha256: &body_sha256,
            timestamp,
            nonce: &nonce,
            terminal_id: self.identity.terminal_id(),
        };
        let signature = to_sign.sign(self.identity.key()).map_err(|e| Failure::Stop(StopReason::LocalStore(format!("cannot sign: {e}"))))?;
        let mut req = self
            .http
            .request(method, self.url(path))
            .header(HEADER_TERMINAL, self.identity.terminal_id())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_NONCE, nonce)
            .header(HEADER_CONTENT_SHA256, &body_sha256)
            .header(HEADER_SIGNATURE, signature);
        if let Some(range) = content_range {
            req = req.header(CONTENT_RANGE, range);
        }
        if !content_type.is_empty() {
            req = req.header(CONTENT_TYPE, content_type).body(bytes);
        }
        let resp = req.send().await.map_err(|e| Failure::Stop(classify_transport(&e)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| Failure::Stop(classify_transport(&e)))?;
        // The hub acted on the request (idempotently) if it answered; a
        // clock that jumped stops the round after it, not before.
        self.check_skew(&headers).map_err(Failure::Stop)?;
        Ok(Resp { status, headers, body: body.to_vec() })
    }

    /// Judges a non-success answer.
    fn failure(&self, resp: &Resp) -> Failure {
        let status = resp.status;
        match status {
            // Ids are per terminal on the hub: only `different_body` says the
            // conflict is of this terminal's own making. Any other 409 (an
            // older hub's "another terminal took this id") is no proof
            // against the filing.
            StatusCode::CONFLICT => match error_code(&resp.body) {
                Some(ErrorCode::DifferentBody) => Failure::Reject(rejection_text(status, &resp.body)),
                _ => Failure::Defer(rejection_text(status, &resp.body)),
            },
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PAYLOAD_TOO_LARGE => Failure::Reject(rejection_text(status, &resp.body)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => match error_code(&resp.body) {
                Some(ErrorCode::ClockSkew) => {
                    let diff = self.measured.load(Ordering::Relaxed);
                    self.offset.store(diff, Ordering::Relaxed);
                    Failure::Stop(StopReason::ClockSkew { offset_secs: diff })
                }
                Some(code) => Failure::Stop(StopReason::AuthRejected {
                    status: status.as_u16(),
                    code: serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                }),
                // Not the hub's error shape: something in between answered.
                None => Failure::Stop(StopReason::CaptivePortal(format!("HTTP {} without the hub's error body", status.as_u16()))),
            },
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => Failure::Stop(StopReason::ServerBusy {
                status: s.as_u16(),
                retry_after: retry_after(&resp.headers, std::time::SystemTime::now()),
            }),
            s => Failure::Stop(StopReason::UnexpectedStatus { status: s.as_u16() }),
        }
    }

    /// A 2xx whose body isn't ours: something between us and the hub answered.
    fn expect_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Failure> {
        from_slice(body).map_err(|_| Failure::Stop(StopReason::CaptivePortal(format!("{what} answered with an unexpected body"))))
    }

    /// [`Self::expect_json`], and the hub has shown itself.
    fn hub_json<T: serde::de::DeserializeOwned>(&self, body: &[u8], what: &str) -> Result<T, Failure> {
        let v = Self::expect_json(body, what)?;
        self.mark_ok();
        Ok(v)
    }

    /// A signed JSON call that must succeed.
    async fn call_json<T: serde::de::DeserializeOwned>(&self, method: Method, path: &str, body: Option<Vec<u8>>, what: &str) -> Result<T, Failure> {
        let resp = self.request(method, path, None, body.map(|b| (b, "application/json"))).await?;
        if !resp.status.is_success() {
            return Err(self.failure(&resp));
        }
        self.hub_json(&resp.body, what)
    }

    /// One sealed attachment, resumably: ask how much the hub holds, send
    /// the rest with a Content-Range. A broken upload leaves what arrived on
    /// the hub, and the next attempt starts there.
    async fn upload_attachment(&self, id: SubmissionId, sha256: &str, bytes: Bytes, first_try: bool, report: &mut SyncReport) -> Result<(), Failure> {
        let path = format!("/v1/submissions/{id}/attachments/{sha256}");
        let size = bytes.len() as u64;
        let mut restarted = false;
        // On a record's first attempt the hub cannot hold any of it: send
        // without asking first (one round trip less per attachment).
        let mut known = first_try.then(|| UploadStatus { sha256: sha256.to_owned(), size, received: 0, complete: false });
        for _ in 0..6 {
            let status = match known.take() {
                Some(s) => s,
                None => self.call_json(Method::GET, &path, None, "upload status").await?,
            };
            if status.size != size {
                return Err(Failure::Reject(format!("the hub expects {} bytes for attachment {sha256}, the local copy has {size}", status.size)));
            }
            if status.complete {
                report.bytes_resumed += size;
                return Ok(());
            }
            let from = status.received.min(size);
            if from > 0 {
                tracing::info!(%id, %sha256, from, size, "resuming an upload");
                report.bytes_resumed += from;
            }
            // All held but not yet checked (the last request broke off after
            // its last byte): an empty PUT without a range asks the hub to finish.
            let range = (from < size).then(|| format!("bytes {from}-{}/{size}", size - 1));
            let chunk = bytes.slice(usize::try_from(from).unwrap_or(bytes.len()).min(bytes.len())..);
            let sent = chunk.len() as u64;
            // Sent whole, the body is the attachment itself: its name is its hash.
            let known_sha = (from == 0).then_some(sha256);
            let resp = self.request_bytes(Method::PUT, &path, range.as_deref(), Some((chunk, "application/octet-stream")), known_sha).await?;
            report.bytes_sent += sent;
            match resp.status {
                StatusCode::OK | StatusCode::CREATED => {
                    self.mark_ok();
                    return Ok(());
                }
                // Partial (should not happen: we send to the end) or the hub
                // holds other bytes than we thought: ask again.
                StatusCode::ACCEPTED | StatusCode::RANGE_NOT_SATISFIABLE => continue,
                StatusCode::UNPROCESSABLE_ENTITY if error_code(&resp.body) == Some(ErrorCode::HashMismatch) && !restarted => {
                    // The hub dropped bytes that did not add up (damaged in
                    // transit); our copy checked out, so send it once more from 0.
                    tracing::warn!(%id, %sha256, "the hub's copy did not hash right; sending it again");
                    restarted = true;
                    report.bytes_resumed = report.bytes_resumed.saturating_sub(from);
                }
                _ => return Err(self.failure(&resp)),
            }
        }
        Err(Failure::Stop(StopReason::UnexpectedStatus { status: StatusCode::RANGE_NOT_SATISFIABLE.as_u16() }))
    }

    /// Envelope, attachments, commit. Every step is idempotent on the hub, so
    /// a record interrupted anywhere is simply sent again.
    async fn send_one(&self, outbox: &Outbox, item: SendItem, first_try: bool, report: &mut SyncReport) -> Result<CaseNumber, Failure> {
        let id = item.id;
        let put: PutResponse = self.call_json(Method::PUT, &format!("/v1/submissions/{id}"), Some(item.envelope), "manifest upload").await?;
        tracing::debug!(%id, outcome = ?put.outcome, "sealed manifest sent");

        for (idx, sha256) in &item.attachments {
            let ob = outbox.clone();
            let idx = *idx;
            let bytes = blocking(move || ob.attachment_bytes(id, idx)).await.map_err(Failure::from)?;
            self.upload_attachment(id, sha256, Bytes::from(bytes), first_try, report).await?;
            tracing::debug!(%id, %sha256, "attachment sent");
        }

        let commit: CommitResponse = self.call_json(Method::POST, &format!("/v1/submissions/{id}/commit"), None, "commit").await?;
        if commit.id != id {
            return Err(Failure::Stop(StopReason::CaptivePortal("commit answered for another submission".into())));
        }
        Ok(commit.case_number)
    }

    /// After a stop that may mean another link (or a portal in front of
    /// it), the next round checks the hub's health again.
    fn after_stop(&self, report: &SyncReport) {
        if matches!(report.stopped, Some(StopReason::LinkDown(_) | StopReason::Timeout | StopReason::CaptivePortal(_))) {
            *self.last_ok.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Sends what is pending, oldest first, up to the batch size. Contacts
    /// nothing when the queue is empty.
    pub async fn sync_once(&self, outbox: &Outbox) -> SyncReport {
        let report = self.sync_once_inner(outbox).await;
        self.after_stop(&report);
        report
    }

    /// The next batch to send, oldest first; a local store failure stops the round.
    async fn pending_batch(&self, outbox: &Outbox, report: &mut SyncReport) -> Option<Vec<crate::OutboxEntry>> {
        let ob = outbox.clone();
        let limit = self.config.batch_size;
        match blocking(move || ob.pending(limit)).await {
            Ok(p) => Some(p),
            Err(e) => {
                report.stopped = Some(StopReason::LocalStore(e.to_string()));
                None
            }
        }
    }

    async fn sync_once_inner(&self, outbox: &Outbox) -> SyncReport {
        let mut report = SyncReport::default();
        let Some(pending) = self.pending_batch(outbox, &mut report).await else { return report };
        let Some(head) = pending.first() else {
            return report;
        };
        if let Err(stop) = self.check_health_if_stale().await {
            self.unreachable(outbox, head.id, &stop, pending.len()).await;
            report.stopped = Some(stop);
            return report;
        }
        let Some(pending) = self.reconcile_then_pending(outbox, pending, &mut report).await else { return report };
        self.send_batch(outbox, pending, &mut report).await;
        report
    }

    /// Asks the hub about exported records first (they may have arrived by
    /// `hub import`); those it holds are acknowledged without resending.
    /// Returns what is still pending, or None when the round must stop.
    async fn reconcile_then_pending(
        &self,
        outbox: &Outbox,
        pending: Vec<crate::OutboxEntry>,
        report: &mut SyncReport,
    ) -> Option<Vec<crate::OutboxEntry>> {
        match self.reconcile_exported(outbox, report).await {
            Ok(0) => Some(pending),
            Ok(_) => {
                let (ob, limit) = (outbox.clone(), self.config.batch_size);
                match blocking(move || ob.pending(limit)).await {
                    Ok(p) => Some(p),
                    Err(e) => {
                        report.stopped = Some(StopReason::LocalStore(e.to_string()));
                        None
                    }
                }
            }
            Err(Failure::Stop(s)) => {
                report.stopped = Some(s);
                None
            }
            // A hub without the endpoint, or one refusing the query: send as usual.
            Err(Failure::Reject(reason) | Failure::Defer(reason)) => {
                tracing::info!(%reason, "case status of exported records not available; sending them");
                Some(pending)
            }
        }
    }

    async fn reconcile_exported(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<usize, Failure> {
        let ob = outbox.clone();
        let ids = blocking(move || ob.exported_unacknowledged(CaseStatusQuery::MAX)).await.map_err(Failure::from)?;
        if ids.is_empty() {
            return Ok(0);
        }
        let body = serde_json::to_vec(&CaseStatusQuery { submission_ids: ids }).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let list: CaseStatusList = self.call_json(Method::POST, "/v1/case-status", Some(body), "case status of exported records").await?;
        let mut n = 0;
        for c in list.cases {
            let ob = outbox.clone();
            let (id, cn, status, reason, result, at) = (c.submission_id, c.case_number.clone(), c.status, c.reason, c.result_available, c.updated_at);
            blocking(move || {
                ob.mark_acknowledged(id, &cn)?;
                ob.record_case_status(id, status, reason.as_deref(), result, at)
            })
            .await
            .map_err(Failure::from)?;
            tracing::info!(%id, case = %c.case_number, "acknowledged: the hub holds it from an imported export");
            report.acknowledged.push((id, c.case_number));
            n += 1;
        }
        report.acknowledged_from_import += n;
        Ok(n)
    }

    /// Pulls the operator accounts assigned to this terminal and replaces
    /// the local list (revocations apply from here on). The kiosk calls it
    /// when a first login finds no accounts; rounds call it with the heartbeat.
    pub async fn pull_operators(&self, outbox: &Outbox) -> Result<(usize, usize), StopReason> {
        let doc = match self.pull_signed::<OperatorList>(outbox, DocumentKind::Operators, "/v1/operators", "operator accounts").await {
            Ok(Some(d)) => d,
            Ok(None) => return Err(StopReason::UnexpectedStatus { status: 422 }),
            Err(Failure::Stop(s)) => return Err(s),
            Err(Failure::Reject(r) | Failure::Defer(r)) => return Err(StopReason::UnexpectedStatus { status: if r.contains("404") { 404 } else { 422 } }),
        };
        let ob = outbox.clone();
        let counts = blocking(move || ob.apply_operators(&doc.0, doc.1)).await.map_err(|e| StopReason::LocalStore(e.to_string()))?;
        tracing::info!(accounts = counts.0, revoked = counts.1, "operator accounts pulled");
        Ok(counts)
    }

    /// Fetches a document the hub signs for this terminal and opens it with
    /// the pinned hub key. Ok(None): refused (no key pinned, not signed by
    /// it, for another terminal, older than what was applied): logged and
    /// audited, and what the terminal has stays in force.
    async fn pull_signed<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        outbox: &Outbox,
        kind: DocumentKind,
        path: &str,
        what: &'static str,
    ) -> Result<Option<(T, i64)>, Failure> {
        let Some(key) = self.config.hub_key else {
            tracing::warn!("no hub key pinned (hub_public_key): {what} from the hub are not applied");
            return Ok(None);
        };
        let doc: SignedDocument = self.call_json(Method::GET, path, None, what).await?;
        let ob = outbox.clone();
        let applied = blocking(move || ob.document_applied_at(kind)).await.map_err(Failure::from)?;
        match doc.open::<T>(&key, kind, self.terminal_id(), applied) {
            Ok(v) => Ok(Some((v, doc.issued_at))),
            Err(e) => {
                tracing::error!(error = %e, "refused {what} from the hub");
                let (ob, outcome) = (outbox.clone(), format!("refused: {e}"));
                blocking(move || ob.audit_hub_document(kind, &outcome)).await.map_err(Failure::from)?;
                Ok(None)
            }
        }
    }

    async fn unreachable(&self, outbox: &Outbox, head: SubmissionId, stop: &StopReason, queued: usize) {
        tracing::info!(reason = %stop, queued, "hub not usable, sync stopped");
        let (ob, reason) = (outbox.clone(), stop.to_string());
        if let Err(e) = blocking(move || ob.record_unreachable(head, &reason)).await {
            tracing::warn!(error = %e, "cannot record the failed attempt");
        }
    }

    async fn send_batch(&self, outbox: &Outbox, pending: Vec<crate::OutboxEntry>, report: &mut SyncReport) {
        for entry in pending {
            let id = entry.id;
            let ob = outbox.clone();
            let item = blocking(move || {
                ob.mark_sending(id)?;
                ob.load_for_send(id)
            })
            .await;
            let result = match item {
                Ok(item) => self.send_one(outbox, item, entry.attempts == 0, report).await,
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
                Err(Failure::Defer(reason)) => {
                    // Kept: a later round tries again; the queue's age alert flags it meanwhile.
                    tracing::warn!(%id, item = %entry.item_code, %reason, "refused for a reason that may not be ours; kept queued");
                    let r = reason.clone();
                    if let Err(e) = blocking(move || ob.mark_failed(id, &r)).await {
                        report.stopped = Some(StopReason::LocalStore(e.to_string()));
                        break;
                    }
                    report.deferred.push((id, reason));
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
    }

    /// One full round with the hub: submissions (a batch), evaluations, and
    /// when the heartbeat is due the case status of acknowledged filings,
    /// the heartbeat, and the catalog and config when the hub has newer ones. Stops at the first
    /// failure that says the link or hub is not usable.
    pub async fn sync_all(&self, outbox: &Outbox) -> SyncReport {
        let report = self.sync_all_inner(outbox).await;
        self.after_stop(&report);
        report
    }

    async fn sync_all_inner(&self, outbox: &Outbox) -> SyncReport {
        let mut report = SyncReport::default();
        let Some(pending) = self.pending_batch(outbox, &mut report).await else { return report };
        if let Err(stop) = self.check_health_if_stale().await {
            if let Some(head) = pending.first() {
                self.unreachable(outbox, head.id, &stop, pending.len()).await;
            }
            report.stopped = Some(stop);
            return report;
        }
        let Some(pending) = self.reconcile_then_pending(outbox, pending, &mut report).await else { return report };
        self.send_batch(outbox, pending, &mut report).await;
        if report.stopped.is_some() {
            return report;
        }
        let steps = async {
            self.push_evaluations(outbox, &mut report).await?;
            self.heartbeat_if_due(outbox, &mut report).await
        };
        if let Err(f) = steps.await {
            report.stopped = Some(match f {
                Failure::Stop(s) => s,
                Failure::Reject(r) | Failure::Defer(r) => StopReason::UnexpectedStatus { status: if r.contains("409") { 409 } else { 422 } },
            });
        }
        report
    }

    async fn push_evaluations(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<(), Failure> {
        let ob = outbox.clone();
        let pending = blocking(move || ob.pending_evaluations(50)).await.map_err(Failure::from)?;
        for ev in pending {
            let id = ev.upload.id;
            let body = serde_json::to_vec(&ev.upload).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
            let ob = outbox.clone();
            let _ = blocking(move || ob.evaluation_attempted(id)).await;
            let resp = self.request(Method::PUT, &format!("/v1/evaluations/{id}"), None, Some((body, "application/json"))).await?;
            let ob = outbox.clone();
            if resp.status.is_success() {
                let _: EvaluationAck = Self::expect_json(&resp.body, "evaluation upload")?;
                blocking(move || ob.evaluation_sent(id)).await.map_err(Failure::from)?;
                report.evaluations_sent += 1;
                continue;
            }
            match self.failure(&resp) {
                Failure::Reject(reason) | Failure::Defer(reason) => {
                    tracing::warn!(evaluation = %id, %reason, "evaluation refused; kept aside");
                    blocking(move || ob.evaluation_rejected(id, &reason)).await.map_err(Failure::from)?;
                }
                stop => return Err(stop),
            }
        }
        Ok(())
    }

    async fn pull_case_status(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<(), Failure> {
        let ob = outbox.clone();
        let ids = blocking(move || ob.awaiting_status(CaseStatusQuery::MAX)).await.map_err(Failure::from)?;
        if ids.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&CaseStatusQuery { submission_ids: ids }).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let list: CaseStatusList = self.call_json(Method::POST, "/v1/case-status", Some(body), "case status").await?;
        for c in list.cases {
            let ob = outbox.clone();
            let (id, status, reason, result, at) = (c.submission_id, c.status, c.reason, c.result_available, c.updated_at);
            let changed = blocking(move || ob.record_case_status(id, status, reason.as_deref(), result, at)).await.map_err(Failure::from)?;
            if changed {
                tracing::info!(%id, case = %c.case_number, ?status, "case status");
                report.case_updates.push((id, status));
            }
        }
        Ok(())
    }

    fn heartbeat_due(&self, interval: Duration) -> bool {
        let last = self.last_heartbeat.lock().unwrap_or_else(|e| e.into_inner());
        last.is_none_or(|t| t.elapsed() >= interval)
    }

    /// Sends a heartbeat now (the kiosk's round calls it when due).
    async fn heartbeat_if_due(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<(), Failure> {
        let ob = outbox.clone();
        let local_config = blocking(move || ob.terminal_config()).await.map_err(Failure::from)?;
        // Version 0 is the hub's built-in default: ours stands until the hub sets one.
        let interval = local_config
            .as_ref()
            .filter(|c| c.version > 0)
            .map_or(self.config.heartbeat_interval, |c| Duration::from_secs(c.heartbeat_interval_secs.max(10)));
        if !self.heartbeat_due(interval) {
            return Ok(());
        }
        // Case status rides on the heartbeat's cadence: processing takes
        // days, and 20,000 terminals asking every round would be most of the hub's load.
        self.pull_case_status(outbox, report).await?;
        // Accounts ride on the same cadence: a revocation reaches the van at its next round.
        match self.pull_operators(outbox).await {
            Ok(counts) => report.operators_updated = Some(counts),
            Err(StopReason::UnexpectedStatus { .. }) => tracing::info!("the hub has no operator accounts for this terminal"),
            Err(stop) => return Err(Failure::Stop(stop)),
        }
        let ack = self.send_heartbeat(outbox).await?;
        report.heartbeat_sent = true;
        let ob = outbox.clone();
        let local_catalog = blocking(move || ob.catalog_version()).await.map_err(Failure::from)?;
        if self.config.catalog_key.is_some() && ack.catalog_version.is_some_and(|v| Some(v) > local_catalog) {
            self.pull_catalog(outbox, local_catalog, report).await?;
        }
        if local_config.as_ref().is_none_or(|c| ack.config_version > c.version) {
            let pulled = self.pull_signed::<TerminalConfig>(outbox, DocumentKind::TerminalConfig, "/v1/terminal/config", "terminal config").await?;
            if let Some((config, issued_at)) = pulled.filter(|(config, _)| local_config.as_ref().is_none_or(|c| config.version > c.version)) {
                let (ob, v) = (outbox.clone(), config.version);
                blocking(move || ob.store_terminal_config(&config, issued_at)).await.map_err(Failure::from)?;
                tracing::info!(version = v, "terminal config updated");
                report.config_updated = Some(v);
            }
        }
        Ok(())
    }

    /// What the hub hears about this terminal.
    pub async fn heartbeat(&self, outbox: &Outbox) -> Result<Heartbeat, StoreError> {
        let ob = outbox.clone();
        let now = self.now();
        let (counts, oldest, evaluations_unsent, catalog_version, config, alerts, free) = blocking(move || {
            let alerts: Vec<String> = ob.alerts(now)?.iter().map(|a| a.code().to_owned()).collect();
            Ok((
                ob.counts()?,
                ob.oldest_unsent_at()?,
                ob.evaluations_unsent()?,
                ob.catalog_version()?,
                ob.terminal_config()?,
                alerts,
                crate::disk::free_bytes(ob.dir()).ok(),
            ))
        })
        .await?;
        let mut alerts = alerts;
        let offset = self.clock_offset();
        if offset.unsigned_abs() > self.config.max_clock_skew.as_secs() {
            alerts.push("clock_skew".into());
        }
        if self.catalog_problem.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            alerts.push("catalog_refused".into());
        }
        Ok(Heartbeat {
            sent_at: now,
            app_version: self.config.app_version.clone(),
            catalog_version,
            config_version: config.map(|c| c.version),
            queue: QueueSnapshot {
                unsent: counts.unsent(),
                quarantined: counts.quarantined,
                acknowledged: counts.acknowledged,
                oldest_unsent_secs: oldest.map(|t| u64::try_from((now - t).whole_seconds()).unwrap_or(0)),
                evaluations_unsent,
            },
            free_disk_bytes: free,
            devices: self.devices.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect(),
            alerts,
            clock_offset_secs: offset,
        })
    }

    async fn send_heartbeat(&self, outbox: &Outbox) -> Result<HeartbeatAck, Failure> {
        let hb = self.heartbeat(outbox).await.map_err(Failure::from)?;
        let body = serde_json::to_vec(&hb).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let ack: HeartbeatAck = self.call_json(Method::POST, "/v1/heartbeat", Some(body), "heartbeat").await?;
        *self.last_heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(ack)
    }

    /// Fetches a newer catalog; keeps it only if its signature verifies
    /// under our catalog key and it is newer than ours.
    async fn pull_catalog(&self, outbox: &Outbox, local: Option<u64>, report: &mut SyncReport) -> Result<(), Failure> {
        let Some(key) = self.config.catalog_key else { return Ok(()) };
        let resp = self.request(Method::GET, &format!("/v1/catalog?since={}", local.unwrap_or(0)), None, None).await?;
        match resp.status {
            StatusCode::NO_CONTENT | StatusCode::NOT_FOUND => return Ok(()),
            s if s.is_success() => {}
            _ => return Err(self.failure(&resp)),
        }
        let refuse = |why: String, report: &mut SyncReport| {
            tracing::warn!(reason = %why, "catalog refused; the one in use is kept");
            *self.catalog_problem.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
            report.catalog_refused = Some(why);
        };
        let signed: SignedCatalog = match from_slice(&resp.body) {
            Ok(s) => s,
            Err(_) => {
                refuse("the hub's catalog answer is not a signed catalog".into(), report);
                return Ok(());
            }
        };
        if local.is_some_and(|l| signed.version <= l) {
            return Ok(());
        }
        match signed.verify(&key) {
            Ok(_) => {
                let (ob, v) = (outbox.clone(), signed.version);
                blocking(move || ob.store_catalog(&signed)).await.map_err(Failure::from)?;
                *self.catalog_problem.lock().unwrap_or_else(|e| e.into_inner()) = None;
                tracing::info!(version = v, "catalog updated");
                report.catalog_updated = Some(v);
            }
            Err(e) => refuse(format!("catalog version {} (key {}): {e}", signed.version, signed.key_fingerprint), report),
        }
        Ok(())
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
