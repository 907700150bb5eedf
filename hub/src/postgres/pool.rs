//! A small pool of tokio-postgres clients whose connections run on the
//! store's own runtime: taken from a blocking thread ([`PgPool::get`]) or
//! awaited from an async task ([`PgPool::get_async`], the heartbeat's
//! round: no hand-over to the blocking pool).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokio::runtime::Runtime;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::store::StoreError;

/// Connections per hub instance: PostgreSQL's default max_connections is
/// 100, and a province runs several instances.
pub(super) const MAX_CONNECTIONS: usize = 16;

pub(super) struct PgPool {
    config: Config,
    /// Taken only by `drop`.
    rt: Option<Runtime>,
    /// Connections not in use. One is opened only when none is idle and a
    /// permit is held, so at most [`MAX_CONNECTIONS`] are ever open.
    idle: Mutex<Vec<(Client, Statements)>>,
    /// One per connection in use.
    permits: Semaphore,
}

/// Statements prepared on one connection, by their text.
type Statements = HashMap<&'static str, Statement>;

pub(super) struct PooledClient<'a> {
    pool: &'a PgPool,
    client: Option<Client>,
    statements: Statements,
    /// Released after the client went back (see `drop`).
    _permit: SemaphorePermit<'a>,
}

impl PgPool {
    pub(super) fn new(config: Config) -> Result<PgPool, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hub-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Blob(format!("cannot start the PostgreSQL runtime: {e}")))?;
        Ok(PgPool { config, rt: Some(rt), idle: Mutex::new(Vec::new()), permits: Semaphore::new(MAX_CONNECTIONS) })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(Client, Statements)>> {
        // A Vec: consistent even if a holder panicked.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `fut` to completion from any thread (also inside an async
    /// context: it never starts a runtime there).
    pub(super) fn wait<T>(&self, fut: impl std::future::Future<Output = T>) -> T {
        // Out of tokio's cooperative budget: called from a tokio task (a
        // test, the CLI), the semaphore's acquire would otherwise answer
        // "yield" for ever once the task's budget is spent, and this nested
        // executor never gives the budget back.
        futures_executor::block_on(tokio::task::unconstrained(fut))
    }

    /// Opens a connection on the store's runtime; answers when it is up.
    fn connect(&self) -> Result<tokio::sync::oneshot::Receiver<Result<Client, tokio_postgres::Error>>, StoreError> {
        let config = self.config.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let Some(rt) = &self.rt else { return Err(StoreError::Busy) };
        rt.spawn(async move {
            match config.connect(NoTls).await {
                Ok((client, connection)) => {
                    let _ = tx.send(Ok(client));
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "PostgreSQL connection ended");
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        Ok(rx)
    }

    /// An idle connection still open, if any (one the server closed —
    /// restart, idle timeout — is dropped).
    fn take_idle(&self) -> Option<(Client, Statements)> {
        let mut idle = self.lock();
        while let Some((client, statements)) = idle.pop() {
            if !client.is_closed() {
                return Some((client, statements));
            }
        }
        None
    }

    /// A connection under `permit`: an idle one, else a new one.
    async fn with_permit<'a>(&'a self, permit: SemaphorePermit<'a>) -> Result<PooledClient<'a>, StoreError> {
        if let Some((client, statements)) = self.take_idle() {
            return Ok(PooledClient { pool: self, client: Some(client), statements, _permit: permit });
        }
        let client = self.connect()?.await.map_err(|_| StoreError::Busy)??;
        Ok(PooledClient { pool: self, client: Some(client), statements: Statements::new(), _permit: permit })
    }

    /// A connection, waiting (blocking this thread) while all are in use.
    pub(super) fn get(&self) -> Result<PooledClient<'_>, StoreError> {
        self.wait(async { self.get_async().await })
    }

    /// A connection, awaiting one while all are in use.
    pub(super) async fn get_async(&self) -> Result<PooledClient<'_>, StoreError> {
        // The semaphore is never closed.
        let permit = self.permits.acquire().await.map_err(|_| StoreError::Busy)?;
        self.with_permit(permit).await
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
        // Back to the idle list before the permit goes (fields drop after this).
        if let Some(client) = self.client.take().filter(|c| !c.is_closed()) {
            self.pool.lock().push((client, std::mem::take(&mut self.statements)));
        }
    }
}
