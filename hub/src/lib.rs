//! The hub: the server Cunban terminals sync with.
//!
//! It implements the wire contract in `model::protocol` over a [`Store`]
//! (embedded SQLite by default). Idempotency is enforced by database
//! constraints, so a terminal may replay any request any number of times.

// The OpenAPI description is one large `json!` literal.
#![recursion_limit = "256"]

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod api;
mod auth;
mod blobs;
mod bundle_files;
pub mod objects;
pub mod catalog;
pub mod catalog_import;
pub mod catalog_xlsx;
mod enroll;
mod group;
mod key_cache;
mod rate_limit;
pub mod terminal_rate;
pub mod signing;
pub mod simulated;
pub mod backoffice;
pub mod connector;
pub mod e_license;
pub mod sms;
pub mod fleet;
pub mod fleet_outboxes;
pub mod fleet_rollouts;
pub mod import;
pub mod openapi;
pub mod outbox;
pub mod progress;
pub mod rating_forward;
pub mod result_mail;
pub mod rollout;
pub mod postgres;
pub mod sqlite;
pub mod store;
pub mod updates;

pub use api::{
    router, router_with, Clock, HubOptions, SweepPolicy, BODY_LIMIT, DEFAULT_E_LICENSE_PEOPLE_PER_DAY, HEARTBEAT_LIMIT, MANIFEST_LIMIT,
    SMALL_BODY_LIMIT,
};
pub use auth::{new_staff_token, staff_token_hash, Authed};
pub use connector::{BackOffice, PlatformConnector};
pub use sms::{HttpSmsConfig, HttpSmsGateway, SmsGateway};
pub use postgres::PgStore;
pub use sqlite::{HubDb, OpenedFiling, SqliteStore};
pub use store::{
    terminal_id_for_serial, Acknowledgement, AuditBreak, CaseSummary, DiagnosticsRecord, EnrollBinding, EnrollPresentation, EnrollRecord, EnrollState, FollowUp, HubAuditEntry, LookupAudit, NewOperator, NewSubmission,
    NewTerminal, OpenQuota, RatingTally, FOLLOW_UP_WITHIN, SmsRow, SmsState, SmsUpdate, StatusChange, Store, StoreError, FleetPage, FleetQuery,
    AuditStore, CaseStore, CatalogStore, DiagnosticsStore, EnrollmentStore, OperatorStore, ProgressStore, RatingForwardStore, RatingToForward, RatingStore, RolloutStore, SmsStore, SubmissionStore, TerminalStore, SweepReport, TerminalRecord, TerminalStatus,
};

#[derive(Debug, Error)]
pub enum HubError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("a background task failed: {0}")]
    Task(String),
    #[error(transparent)]
    SigningKey(#[from] signing::SigningKeyError),
    #[error("{0}")]
    Config(String),
}

async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> Result<T, HubError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| HubError::Task(e.to_string()))?.map_err(HubError::from)
}

/// Opens (creating and migrating) the SQLite store at `db_path`.
pub async fn open_store(db_path: &Path) -> Result<Arc<dyn Store>, HubError> {
    let path = db_path.to_owned();
    tokio::task::spawn_blocking(move || open_store_blocking(&path, None)).await.map_err(|e| HubError::Task(e.to_string()))?
}

/// Opens the store `db` names: a PostgreSQL URL (`postgres://…`; attachment
/// bytes then go in `blob_dir`, which every instance must share), else a
/// SQLite file (attachments beside it). Blocks: call it off the runtime.
pub fn open_store_blocking(db: &Path, blob_dir: Option<&Path>) -> Result<Arc<dyn Store>, HubError> {
    match db.to_str().filter(|d| postgres::is_postgres_url(d)) {
        Some(url) => {
            let dir = blob_dir.ok_or_else(|| HubError::Config("a PostgreSQL database needs --blob-dir (the attachment folder every instance shares)".into()))?;
            Ok(Arc::new(PgStore::open(url, dir)?))
        }
        None => Ok(Arc::new(SqliteStore::open(db)?)),
    }
}

/// `hub migrate`: brings the SQLite hub at `sqlite` to the current schema,
/// then moves it (rows and attachments) into the empty PostgreSQL store `to`.
pub fn migrate_to_postgres(sqlite: &Path, to: &PgStore) -> Result<postgres::from_sqlite::MigrateReport, StoreError> {
    drop(SqliteStore::open(sqlite)?);
    to.import_sqlite(sqlite)
}

/// Serves the hub on `listener` with the database at `db_path`, until the
/// future is dropped or aborted.
pub async fn serve(listener: TcpListener, db_path: &Path) -> Result<(), HubError> {
    let key = signing::load_or_create(&signing::default_path(db_path))?;
    let options = HubOptions { signing_key: Some(Arc::new(key)), ..HubOptions::default() };
    serve_until(listener, open_store(db_path).await?, options, std::future::pending()).await
}

/// Serves until `shutdown` completes, then finishes requests in flight.
pub async fn serve_until(
    listener: TcpListener,
    store: Arc<dyn Store>,
    options: HubOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let sweeper = tokio::spawn(sweep_now_and_then(store.clone(), options.sweep.unwrap_or_default(), options.clock.clone()));
    // Mail orders need the platform's endpoint and its key (to read the choice).
    let mailer = options
        .result_mail
        .clone()
        .zip(options.platform_key.clone())
        .map(|(platform, key)| result_mail::spawn_loop(store.clone(), key, platform, options.clock.clone()));
    // The peer address feeds the enrollment route's rate limit.
    let served = axum::serve(listener, router_with(store, options).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    sweeper.abort();
    if let Some(m) = mailer {
        m.stop().await;
    }
    served?;
    Ok(())
}

/// Drops what terminals started and never finished (see [`SweepPolicy`])
/// and moves rollouts on past offline terminals, at start and then every
/// `policy.every`.
async fn sweep_now_and_then(store: Arc<dyn Store>, policy: SweepPolicy, clock: Option<Clock>) {
    let mut tick = tokio::time::interval(policy.every.max(Duration::from_secs(1)));
    loop {
        tick.tick().await;
        let now = clock.as_ref().map_or_else(time::OffsetDateTime::now_utc, |c| c());
        let (uncommitted, partial) = (now - policy.uncommitted_after, now - policy.partial_after);
        let store = store.clone();
        match tokio::task::spawn_blocking(move || (store.sweep(uncommitted, partial), store.advance_rollouts(now))).await {
            Ok((swept, advanced)) => {
                if let Err(e) = swept {
                    tracing::warn!(error = %e, "clean-up of abandoned uploads failed");
                }
                // Stages held by terminals gone offline open here (the change is logged and audited by the store).
                if let Err(e) = advanced {
                    tracing::warn!(error = %e, "moving rollouts on failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "clean-up task failed"),
        }
    }
}

/// A hub running in this process, for tests and demos. Dropping it asks the
/// server to stop; [`Hub::shutdown`] also waits for it.
pub struct Hub {
    addr: SocketAddr,
    store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), HubError>>>,
    signing_key: model::auth::PublicKey,
}

impl Hub {
    /// Binds `addr` (port 0 picks a free one), opens the database and starts
    /// serving. When this returns the hub accepts connections.
    pub async fn spawn(addr: SocketAddr, db_path: &Path) -> Result<Hub, HubError> {
        Hub::spawn_with(addr, db_path, HubOptions::default()).await
    }

    /// [`Hub::spawn`] with options (e.g. the platform key).
    /// Without a signing key in `options`, the one beside the database is
    /// used (made on first start), as the `hub` binary does.
    pub async fn spawn_with(addr: SocketAddr, db_path: &Path, mut options: HubOptions) -> Result<Hub, HubError> {
        let signing_key = match &options.signing_key {
            Some(k) => k.clone(),
            None => Arc::new(signing::load_or_create(&signing::default_path(db_path))?),
        };
        options.signing_key = Some(signing_key.clone());
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let store = open_store(db_path).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_until(listener, store.clone(), options, async {
            // A dropped sender stops the server as well.
            let _ = stopped.await;
        }));
        Ok(Hub { addr, store, stop: Some(stop), task: Some(task), signing_key: signing_key.public_key() })
    }

    /// Serves `store` (any backend, e.g. a [`PgStore`]); `options` must carry
    /// the signing key, since there is no database file to keep it beside.
    pub async fn spawn_store(addr: SocketAddr, store: Arc<dyn Store>, options: HubOptions) -> Result<Hub, HubError> {
        let signing_key = options.signing_key.clone().ok_or_else(|| HubError::Config("Hub::spawn_store needs options.signing_key".into()))?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_until(listener, store.clone(), options, async {
            let _ = stopped.await;
        }));
        Ok(Hub { addr, store, stop: Some(stop), task: Some(task), signing_key: signing_key.public_key() })
    }

    /// The store this hub serves, for in-process administration (tests, demos).
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Trusts a terminal's device key (what `hub terminal add` does).
    pub async fn register_terminal(&self, terminal: NewTerminal) -> Result<(), HubError> {
        let store = self.store.clone();
        run_blocking(move || store.add_terminal(&terminal, time::OffsetDateTime::now_utc())).await
    }

    /// Revokes a terminal: its requests are refused from now on.
    pub async fn revoke_terminal(&self, id: &str) -> Result<(), HubError> {
        let (store, id) = (self.store.clone(), id.to_owned());
        run_blocking(move || store.revoke_terminal(&id, time::OffsetDateTime::now_utc())).await
    }

    /// Binds a presented enrollment code (what `hub enroll` does).
    pub async fn bind_enrollment(&self, code: &str, binding: EnrollBinding) -> Result<EnrollRecord, HubError> {
        let store = self.store.clone();
        let hash = model::enroll::code_hash(&model::enroll::normalize_code(code).unwrap_or_default());
        run_blocking(move || store.bind_enrollment(&hash, &binding, time::OffsetDateTime::now_utc())).await
    }

    /// Publishes a signed catalog; terminals pull it on their next sync.
    pub async fn publish_catalog(&self, signed: model::auth::SignedCatalog) -> Result<(), HubError> {
        let store = self.store.clone();
        run_blocking(move || store.publish_catalog(&signed, None, time::OffsetDateTime::now_utc())).await
    }

    /// Publishes a signed catalog with the signed delta from the version
    /// published before it ([`catalog::prepare`] makes both).
    pub async fn publish_catalog_with_delta(&self, publication: catalog::Publication) -> Result<(), HubError> {
        let store = self.store.clone();
        run_blocking(move || store.publish_catalog(&publication.full, publication.delta.as_ref(), time::OffsetDateTime::now_utc())).await
    }

    /// The newest published catalog (signed), for making the next delta.
    pub async fn latest_catalog(&self) -> Result<Option<model::auth::SignedCatalog>, HubError> {
        let store = self.store.clone();
        run_blocking(move || store.latest_catalog()).await
    }

    /// The public half of the hub's signing key: what terminals pin
    /// (`hub_public_key`) to check operator lists and configs.
    pub fn signing_public_key(&self) -> model::auth::PublicKey {
        self.signing_key
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the form `SyncClient::new` takes.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (5 s at most), and
    /// waits for the server task.
    pub async fn shutdown(mut self) -> Result<(), HubError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else { return Ok(()) };
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(HubError::Task(e.to_string())),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
