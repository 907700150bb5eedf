//! A small blocking pool of tokio-postgres clients whose connections run
//! on the store's own runtime.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use tokio::runtime::Runtime;
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::store::StoreError;

/// Connections per hub instance: PostgreSQL's default max_connections is
/// 100, and a province runs several instances.
pub(super) const MAX_CONNECTIONS: usize = 16;

pub(super) struct PgPool {
    config: Config,
    /// Taken only by `drop`.
    rt: Option<Runtime>,
    state: Mutex<(Vec<(Client, Statements)>, usize)>,
    returned: Condvar,
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
        Ok(PgPool { config, rt: Some(rt), state: Mutex::new((Vec::new(), 0)), returned: Condvar::new() })
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
        let config = self.config.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
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
