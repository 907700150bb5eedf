//! A small blocking pool of tokio-postgres clients whose connections run
//! on the store's own runtime (exclusive checkout: transactions), and a
//! few connections shared by concurrent callers (single statements,
//! pipelined: the heartbeat).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::runtime::{Handle, Runtime, RuntimeFlavor};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::store::StoreError;

/// Connections per hub instance: PostgreSQL's default max_connections is
/// 100, and a province runs several instances.
pub(super) const MAX_CONNECTIONS: usize = 16;

/// Connections shared by every caller of [`PgPool::shared`]. A statement
/// that is its own implicit transaction needs no connection to itself:
/// tokio-postgres pipelines concurrent queries on one `Client`, and the
/// server runs them one after another. Few backends then run at once (on
/// a 2-core machine more only take turns), no caller waits for a
/// checkout, and round trips overlap.
pub(super) const SHARED_CONNECTIONS: usize = 4;

pub(super) struct PgPool {
    config: Config,
    /// Taken only by `drop`.
    rt: Option<Runtime>,
    state: Mutex<(Vec<(Client, Statements)>, usize)>,
    returned: Condvar,
    shared: Vec<SharedSlot>,
    /// Round-robin over `shared`.
    next_shared: AtomicUsize,
}

/// One shared connection, opened when first needed and again after the
/// server closed it.
#[derive(Default)]
struct SharedSlot {
    live: Mutex<Option<Arc<SharedClient>>>,
    /// Held while connecting: callers meanwhile wait, not open more.
    connecting: tokio::sync::Mutex<()>,
}

/// A connection shared by concurrent callers: use it only for statements
/// that are a whole transaction by themselves.
pub(super) struct SharedClient {
    pub(super) client: Client,
    statements: Mutex<Statements>,
}

/// Statements prepared on one connection, by their text.
type Statements = HashMap<&'static str, Statement>;

pub(super) struct PooledClient<'a> {
    pool: &'a PgPool,
    client: Option<Client>,
    statements: Statements,
}

impl PgPool {
    pub(super) fn new(config: Config) -> Result<PgPool, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hub-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Blob(format!("cannot start the PostgreSQL runtime: {e}")))?;
        let shared = (0..SHARED_CONNECTIONS).map(|_| SharedSlot::default()).collect();
        Ok(PgPool { config, rt: Some(rt), state: Mutex::new((Vec::new(), 0)), returned: Condvar::new(), shared, next_shared: AtomicUsize::new(0) })
    }

    /// A shared connection (round-robin), for a statement awaited on the
    /// caller's task. Its connection task runs on the caller's runtime
    /// when that is a multi-thread one (the hub's: no wake-up crosses to
    /// another runtime's threads), else on the store's own.
    pub(super) async fn shared(&self) -> Result<Arc<SharedClient>, StoreError> {
        let slot = &self.shared[self.next_shared.fetch_add(1, Ordering::Relaxed) % self.shared.len()];
        if let Some(c) = slot.live() {
            return Ok(c);
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(c) = slot.live() {
            return Ok(c);
        }
        let handle = match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => h,
            _ => self.rt.as_ref().ok_or(StoreError::Busy)?.handle().clone(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        spawn_connect(&handle, self.config.clone(), "shared", move |r| {
            let _ = tx.send(r);
        });
        let client = rx.await.map_err(|_| StoreError::Busy)??;
        let c = Arc::new(SharedClient { client, statements: Mutex::new(Statements::new()) });
        *slot.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        Ok(c)
    }

    fn lock(&self) -> MutexGuard<'_, (Vec<(Client, Statements)>, usize)> {
        // A Vec and a counter: consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `fut` to completion from any thread (also inside an async
    /// context: it never starts a runtime there).
    pub(super) fn wait<T>(&self, fut: impl std::future::Future<Output = T>) -> T {
        futures_executor::block_on(fut)
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let Some(rt) = &self.rt else { return Err(StoreError::Busy) };
        spawn_connect(rt.handle(), self.config.clone(), "pooled", move |r| {
            let _ = tx.send(r);
        });
        match rx.recv() {
            Ok(r) => Ok(r?),
            Err(_) => Err(StoreError::Busy),
        }
    }

    pub(super) fn get(&self) -> Result<PooledClient<'_>, StoreError> {
        let mut st = self.lock();
        loop {
            while let Some((client, statements)) = st.0.pop() {
                // A connection the server closed (restart, idle timeout) is dropped.
                if !client.is_closed() {
                    return Ok(PooledClient { pool: self, client: Some(client), statements });
                }
                st.1 -= 1;
            }
            if st.1 < MAX_CONNECTIONS {
                st.1 += 1;
                drop(st);
                return match self.connect() {
                    Ok(client) => Ok(PooledClient { pool: self, client: Some(client), statements: Statements::new() }),
                    Err(e) => {
                        self.lock().1 -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            st = self.returned.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context
        // (a test's or the CLI's): let its threads wind down by themselves.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Connects on `handle`'s runtime, which then drives the connection (its
/// socket belongs to that runtime's reactor); `reply` gets the client.
fn spawn_connect(handle: &Handle, config: Config, kind: &'static str, reply: impl FnOnce(Result<Client, tokio_postgres::Error>) + Send + 'static) {
    handle.spawn(async move {
        match config.connect(NoTls).await {
            Ok((client, connection)) => {
                reply(Ok(client));
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, kind, "PostgreSQL connection ended");
                }
            }
            Err(e) => reply(Err(e)),
        }
    });
}

impl SharedSlot {
    fn live(&self) -> Option<Arc<SharedClient>> {
        // An Option of an Arc: whole even if a holder panicked.
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.as_ref().filter(|c| !c.client.is_closed()).cloned()
    }
}

impl SharedClient {
    /// `sql` prepared once on this connection (see [`PooledClient::prepared`]);
    /// two callers may both prepare it at first, harmlessly.
    pub(super) async fn prepared(&self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.lock().unwrap_or_else(|e| e.into_inner()).get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.statements.lock().unwrap_or_else(|e| e.into_inner()).insert(sql, s.clone());
        Ok(s)
    }
}

impl PooledClient<'_> {
    /// `sql` prepared once on this connection and reused: a statement run
    /// by its text is prepared again each time, one more round trip to the
    /// server (the upload path runs a dozen per filing). Prepare before
    /// opening a transaction; the statement runs inside it.
    pub(super) async fn prepared(&mut self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = std::ops::Deref::deref(self).prepare(sql).await?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// [`Self::prepared`] for each of `sqls`, in order.
    pub(super) async fn prepared_all<const N: usize>(&mut self, sqls: [&'static str; N]) -> Result<[Statement; N], tokio_postgres::Error> {
        let mut out = Vec::with_capacity(N);
        for sql in sqls {
            out.push(self.prepared(sql).await?);
        }
        match out.try_into() {
            Ok(all) => Ok(all),
            Err(_) => unreachable!("one statement per text"),
        }
    }
}

impl std::ops::Deref for PooledClient<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Only `drop` takes the client out.
        self.client.as_ref().expect("pooled client present until drop")
    }
}

impl std::ops::DerefMut for PooledClient<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("pooled client present until drop")
    }
}

impl Drop for PooledClient<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let mut st = self.pool.lock();
            if client.is_closed() {
                st.1 -= 1;
            } else {
                st.0.push((client, std::mem::take(&mut self.statements)));
            }
            drop(st);
            self.pool.returned.notify_one();
        }
    }
}
