//! What every handler shares: the hub's state and options, body limits.

use std::sync::Arc;
use std::time::Duration;

use model::seal::PlatformSecretKey;
use time::OffsetDateTime;

use crate::connector::PlatformConnector;
use crate::store::{OpenQuota, Store};

/// Largest request body accepted: room for a multi-page scan at kiosk resolution.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A sealed manifest: the filing's fields and the list of its attachments
/// (the scans themselves are uploaded separately).
pub const MANIFEST_LIMIT: usize = 2 * 1024 * 1024;

/// A heartbeat: counters, a few device lines and alerts. It is kept and
/// shown on the fleet page, so it is kept small.
pub const HEARTBEAT_LIMIT: usize = 16 * 1024;

/// Every other buffered body (case-status queries, evaluations, lookups,
/// enrollment): small JSON.
pub const SMALL_BODY_LIMIT: usize = 64 * 1024;

/// What a terminal's request body may weigh on this route (attachment
/// uploads are streamed and bounded by the envelope's sizes instead).
pub(crate) fn body_limit(method: &axum::http::Method, path: &str) -> usize {
    if method == axum::http::Method::PUT && path.starts_with("/v1/submissions/") && path.matches('/').count() == 3 {
        MANIFEST_LIMIT
    } else if path == "/v1/heartbeat" {
        HEARTBEAT_LIMIT
    } else {
        SMALL_BODY_LIMIT
    }
}

/// Fleet page: a terminal not heard from for this long stands out.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30 * 60);

pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<dyn Store>,
    pub platform_key: Option<Arc<PlatformSecretKey>>,
    pub connector: Arc<dyn PlatformConnector>,
    pub stale_after: Duration,
    pub clock: Clock,
    /// Enrollment (issue 8): per-address limit and the catalog key handed out.
    pub enroll_limit: Arc<crate::rate_limit::RateLimiter>,
    /// Proxies whose `X-Forwarded-For` names the client (see `enroll.rs`).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    pub catalog_public_key: Option<model::auth::PublicKey>,
    /// Signs operator lists and terminal configs; terminals pin its public half.
    pub signing_key: Arc<model::auth::SigningKey>,
    /// What one terminal may hold uncommitted.
    pub quota: OpenQuota,
    /// Distinct people one terminal may look up in the e-license library a day.
    pub e_license_people_per_day: u64,
    /// An SMS gateway sends progress texts (terminals may promise them).
    pub sms_gateway: bool,
    /// The platform mails results (terminals may offer it); with the platform key only.
    pub result_mail: Option<Arc<crate::result_mail::ResultMailPlatform>>,
    /// Progress lookups that found nothing one terminal may make a day.
    pub progress_misses_per_day: u64,
    /// Terminal keys this instance verified signatures under (see `key_cache.rs`).
    pub keys: Arc<crate::key_cache::KeyCache>,
    /// How fast one terminal may call this instance (`terminal_rate.rs`).
    pub terminal_rate: Arc<crate::terminal_rate::TerminalRate>,
}

impl AppState {
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}

/// How a hub runs beyond its store.
#[derive(Clone, Default)]
pub struct HubOptions {
    /// With the platform's private key, the hub checks that each sealed
    /// manifest opens before storing it, so a terminal sealing to the wrong
    /// key learns it at once (422, quarantined there) instead of after a
    /// case number was given out. Without it the hub stores envelopes it
    /// cannot read, as a relay would.
    pub platform_key: Option<Arc<PlatformSecretKey>>,
    /// Where cases go and e-licenses come from; [`BackOffice`] when None.
    pub connector: Option<Arc<dyn PlatformConnector>>,
    /// Fleet page staleness; [`DEFAULT_STALE_AFTER`] when None.
    pub stale_after: Option<Duration>,
    /// The hub's clock (tests move it); the system clock when None.
    pub clock: Option<Clock>,
    /// Handed to terminals at enrollment, so they check pulled catalogs.
    pub catalog_public_key: Option<model::auth::PublicKey>,
    /// `POST /v1/enroll` per client address: (burst, per minute); (10, 30) when None.
    /// Kept in the store: every instance on it spends from the same bucket.
    pub enroll_rate: Option<(u32, u32)>,
    /// Load balancers in front of this hub (e.g. nginx with
    /// `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`): from
    /// these peers, the last `X-Forwarded-For` address is the client's.
    /// Empty: the peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The hub's signing key (see `signing.rs`). [`crate::Hub::spawn_with`]
    /// and `hub` keep one beside the database; a bare [`router_with`]
    /// without one signs with a key drawn for this process only.
    pub signing_key: Option<Arc<model::auth::SigningKey>>,
    /// Per-terminal limits on uncommitted submissions and their bytes;
    /// [`OpenQuota::default`] when None.
    pub quota: Option<OpenQuota>,
    /// Distinct ID numbers one terminal may look up a day;
    /// [`DEFAULT_E_LICENSE_PEOPLE_PER_DAY`] when None.
    pub e_license_people_per_day: Option<u64>,
    /// A real SMS gateway is configured for this hub's province (`hub
    /// --sms-gateway-url`), so the configs it signs say terminals may
    /// promise a text. False: no terminal promises one.
    pub sms_gateway: bool,
    /// The platform's endpoint for mailing results (`hub --result-mail-url`):
    /// with it and the platform key, the configs this hub signs say
    /// terminals may offer mailing, and each case whose filing chose it is
    /// ordered from the platform (`result_mail.rs`). None: no terminal offers it.
    pub result_mail: Option<Arc<crate::result_mail::ResultMailPlatform>>,
    /// Clean-up of abandoned uploads; [`SweepPolicy::default`] when None.
    pub sweep: Option<SweepPolicy>,
    /// Progress lookups that found nothing one terminal may make a day;
    /// [`crate::progress::DEFAULT_PROGRESS_MISSES_PER_DAY`] when None.
    pub progress_misses_per_day: Option<u64>,
    /// Requests per second and burst one terminal may make to this
    /// instance; [`crate::terminal_rate::DEFAULT_RATE`] when None.
    pub terminal_rate: Option<(f64, f64)>,
}

/// A village kiosk serves a few dozen people a day; a terminal asking about
/// more is being used to query the library, not to file.
pub const DEFAULT_E_LICENSE_PEOPLE_PER_DAY: u64 = 60;

/// When the hub drops what terminals started and never finished.
#[derive(Debug, Clone, Copy)]
pub struct SweepPolicy {
    /// How often the clean-up runs (first at start).
    pub every: Duration,
    /// Uncommitted submissions older than this are dropped (the terminal,
    /// if it still has the filing, sends it again from the start).
    pub uncommitted_after: Duration,
    /// Partial uploads not written to for this long are dropped.
    pub partial_after: Duration,
}

impl Default for SweepPolicy {
    fn default() -> Self {
        SweepPolicy {
            every: Duration::from_secs(3600),
            uncommitted_after: Duration::from_secs(14 * 86_400),
            partial_after: Duration::from_secs(3 * 86_400),
        }
    }
}

impl std::fmt::Debug for HubOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubOptions")
            .field("platform_key", &self.platform_key)
            .field("connector", &self.connector.as_ref().map(|c| c.name()))
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}
