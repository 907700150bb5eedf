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

//!
//! Here: the client and its requests. `outcome` classifies answers (a
//! leaf), `send` sends the queue, `round` does the rest of a full round.

mod diagnostics;
pub(crate) mod outcome;
mod round;
mod send;
mod source;
mod update;
mod update_files;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use model::auth::{
    PublicKey, RequestToSign, HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
    MAX_CLOCK_SKEW_SECS,
};
use model::protocol::{DeviceHealth, ErrorCode, Health, SERVICE_NAME};
use model::submission::sha256_hex;
use bytes::Bytes;
use model::CaseNumber;
use reqwest::header::{HeaderMap, CONTENT_RANGE, CONTENT_TYPE, DATE};
use reqwest::{Method, StatusCode};
use serde_json::de::from_slice;
use time::OffsetDateTime;

use crate::error::{StoreError, SyncError};
use crate::identity::DeviceIdentity;

pub use source::DiagnosticsSource;
pub use update_files::{update_report, MAX_UPDATE_BYTES, REPORT_FILE, TARGET_FILE};
pub use outcome::{StopReason, SyncReport};
use outcome::*;

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
    /// Where update bundles the hub offers are downloaded (issue 19,
    /// `sync/update.rs`); None: none are fetched.
    pub updates_dir: Option<std::path::PathBuf>,
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
            updates_dir: None,
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
    /// Remote diagnostics: the kiosk's source, and the bundle being uploaded.
    diagnostics: Arc<Mutex<DiagnosticsState>>,
}

#[derive(Default)]
struct DiagnosticsState {
    source: Option<Arc<dyn DiagnosticsSource>>,
    built: Option<(uuid::Uuid, Bytes, String)>,
}

/// How long a hub answer vouches for the link (see `SyncClient::last_ok`).
const HEALTH_FRESH: Duration = Duration::from_secs(60);
const PROGRESS_PATH: &str = "/v1/progress";
const E_LICENSE_PATH: &str = "/v1/e-license/lookup";
const PROGRESS_RESULT_PATH: &str = "/v1/progress/result";

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
            diagnostics: Arc::new(Mutex::new(DiagnosticsState::default())),
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
    /// The key pulled catalogs must be signed with (None: no catalog is pulled).
    pub fn catalog_key(&self) -> Option<PublicKey> {
        self.config.catalog_key
    }

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

    /// Progress at any terminal (issue 16): the cases `query.receipt` names
    /// that were filed with the card's number, whichever terminal filed them.
    /// `Ok(None)` when the hub has none for this receipt and card (it says
    /// the same for a receipt that does not exist). Asked only while a
    /// villager waits; nothing is stored.
    pub async fn progress(&self, query: &model::protocol::ProgressQuery) -> Result<Option<model::protocol::ProgressAnswer>, StopReason> {
        let body = serde_json::to_vec(query).map_err(|_| StopReason::UnexpectedStatus { status: 0 })?;
        match self.signed_post(PROGRESS_PATH, body).await? {
            None => Ok(None),
            Some(resp) => self.hub_json(&resp.body, "progress answer").map(Some).map_err(|f| match f {
                Failure::Stop(stop) => stop,
                Failure::Reject(_) | Failure::Defer(_) => StopReason::UnexpectedStatus { status: resp.status.as_u16() },
            }),
        }
    }

    /// The result document of the case `query.receipt` names, for the card
    /// read here: (media type, bytes), `Ok(None)` when there is none. For
    /// printing at a terminal that did not file the case.
    pub async fn progress_result(&self, query: &model::protocol::ProgressQuery) -> Result<Option<(String, Vec<u8>)>, StopReason> {
        let body = serde_json::to_vec(query).map_err(|_| StopReason::UnexpectedStatus { status: 0 })?;
        Ok(self.signed_post(PROGRESS_RESULT_PATH, body).await?.map(|resp| {
            let media_type = resp.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
            (media_type, resp.body)
        }))
    }

    /// Asks the hub's e-license library (电子证照库) whether it holds
    /// `query.material_code` for the card holder (issue 16). Asked only
    /// while a villager waits on the materials screen; nothing is stored.
    /// `Err(ServerBusy)` is the hub saying the library does not answer;
    /// `LinkDown`/`Timeout`: the hub itself was not reached.
    pub async fn e_license(&self, query: &model::protocol::ELicenseQuery) -> Result<model::protocol::ELicenseAnswer, StopReason> {
        let body = serde_json::to_vec(query).map_err(|_| StopReason::UnexpectedStatus { status: 0 })?;
        match self.signed_post(E_LICENSE_PATH, body).await? {
            // A hub without the route: nothing to find there.
            None => Ok(model::protocol::ELicenseAnswer { available: false, document: None }),
            Some(resp) => self.hub_json(&resp.body, "e-license answer").map_err(|f| match f {
                Failure::Stop(stop) => stop,
                Failure::Reject(_) | Failure::Defer(_) => StopReason::UnexpectedStatus { status: resp.status.as_u16() },
            }),
        }
    }

    /// A signed JSON POST whose 404 means "none".
    async fn signed_post(&self, path: &str, body: Vec<u8>) -> Result<Option<Resp>, StopReason> {
        let resp = match self.request(Method::POST, path, None, Some((body, "application/json"))).await {
            Ok(resp) => resp,
            Err(Failure::Stop(stop)) => return Err(stop),
            Err(Failure::Reject(_) | Failure::Defer(_)) => return Err(StopReason::UnexpectedStatus { status: 0 }),
        };
        match resp.status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(resp)),
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
}

/// Runs outbox work on the blocking pool: it waits on fsync and on the lock.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::TaskFailed(e.to_string()))?
}
