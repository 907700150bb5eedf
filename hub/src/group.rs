//! Group commit for the hub's per-request writes (nonces, last-seen times,
//! heartbeats): one thread with its own connection takes whatever requests
//! are waiting and writes them in one transaction, then answers each. Under
//! load, dozens of requests share a transaction; alone, a request waits for
//! no one. Nothing is acknowledged before its transaction commits.
//!
//! Every in-process writer also takes the `gate`, so the hub's own
//! connections never meet SQLite's busy handler (which sleeps in steps of
//! milliseconds: fatal to a p99 budget).

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, TransactionBehavior};

use crate::store::StoreError;

/// Most requests in one transaction.
const MAX_BATCH: usize = 512;

enum Job {
    Nonce { terminal: String, nonce: String, now: i64, seen_at: String, forget_before: i64, reply: SyncSender<Result<bool, StoreError>> },
    /// Written behind: the terminal's answer does not wait for it.
    Heartbeat { terminal: String, at: String, body: String },
    /// Answers once everything sent before it is committed (read-your-writes).
    Flush { reply: SyncSender<Result<bool, StoreError>> },
}

pub(crate) struct GroupWriter {
    tx: Sender<Job>,
}

/// A failed batch's error, for each of its requests.
fn share(e: &StoreError) -> StoreError {
    match e {
        StoreError::Busy => StoreError::Busy,
        other => StoreError::Batch(other.to_string()),
    }
}

impl GroupWriter {
    /// Starts the writer thread on its own connection to `path`. It ends
    /// when the writer is dropped.
    pub fn start(path: &Path, gate: Arc<Mutex<()>>, open: impl Fn(&Path) -> Result<Connection, StoreError>) -> Result<GroupWriter, StoreError> {
        let conn = open(path)?;
        // Nonces, last-seen times and heartbeats were promised to no one:
        // WAL keeps them consistent, a power cut may lose the last few.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("hub-group-commit".into())
            .spawn(move || run(conn, rx, gate))
            .map_err(|e| StoreError::Batch(format!("cannot start the group-commit thread: {e}")))?;
        Ok(GroupWriter { tx })
    }

    fn send<T>(&self, make: impl FnOnce(SyncSender<Result<T, StoreError>>) -> Job) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx.send(make(reply)).map_err(|_| StoreError::Batch("the group-commit thread has stopped".into()))?;
        answer.recv().map_err(|_| StoreError::Batch("the group-commit thread has stopped".into()))?
    }

    /// Records a nonce (false if `terminal` used it before) and the terminal's last-seen time.
    pub fn nonce(&self, terminal: &str, nonce: &str, now: i64, seen_at: String, forget_before: i64) -> Result<bool, StoreError> {
        self.send(|reply| Job::Nonce { terminal: terminal.to_owned(), nonce: nonce.to_owned(), now, seen_at, forget_before, reply })
    }

    /// Queues a heartbeat; it is committed with the next batch. A heartbeat
    /// is telemetry, so its answer need not wait for the disk; a failed
    /// batch is logged and the next heartbeat replaces it anyway.
    pub fn heartbeat(&self, terminal: &str, at: String, body: String) -> Result<(), StoreError> {
        self.tx
            .send(Job::Heartbeat { terminal: terminal.to_owned(), at, body })
            .map_err(|_| StoreError::Batch("the group-commit thread has stopped".into()))
    }

    /// Waits until everything queued so far is committed.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.send(|reply| Job::Flush { reply }).map(drop)
    }
}

fn run(mut conn: Connection, rx: Receiver<Job>, gate: Arc<Mutex<()>>) {
    let mut last_forget = i64::MIN;
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let outcome = {
            let _one = gate.lock().unwrap_or_else(|e| e.into_inner());
            write_batch(&mut conn, &jobs, &mut last_forget)
        };
        match outcome {
            Ok(fresh) => {
                for (job, fresh) in jobs.into_iter().zip(fresh) {
                    match job {
                        Job::Nonce { reply, .. } => {
                            let _ = reply.send(Ok(fresh));
                        }
                        Job::Flush { reply } => {
                            let _ = reply.send(Ok(true));
                        }
                        Job::Heartbeat { .. } => {}
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, requests = jobs.len(), "group commit failed");
                for job in jobs {
                    match job {
                        Job::Nonce { reply, .. } => {
                            let _ = reply.send(Err(share(&e)));
                        }
                        Job::Flush { reply } => {
                            let _ = reply.send(Err(share(&e)));
                        }
                        Job::Heartbeat { terminal, .. } => {
                            tracing::warn!(%terminal, "a heartbeat was not stored");
                        }
                    }
                }
            }
        }
    }
}

/// One transaction for the batch; per job, whether its nonce was new.
fn write_batch(conn: &mut Connection, jobs: &[Job], last_forget: &mut i64) -> Result<Vec<bool>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut fresh = Vec::with_capacity(jobs.len());
    {
        let mut insert = tx.prepare_cached("INSERT INTO seen_nonces (terminal_id, nonce, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")?;
        let mut seen = tx.prepare_cached("UPDATE terminals SET last_seen_at = ?2 WHERE id = ?1")?;
        let mut beat = tx.prepare_cached(
            "INSERT INTO heartbeats (terminal_id, received_at, body) VALUES (?1, ?2, ?3)
             ON CONFLICT(terminal_id) DO UPDATE SET received_at = excluded.received_at, body = excluded.body",
        )?;
        for job in jobs {
            match job {
                Job::Nonce { terminal, nonce, now, seen_at, forget_before, .. } => {
                    fresh.push(insert.execute(params![terminal, nonce, now])? == 1);
                    seen.execute(params![terminal, seen_at])?;
                    // Forget old nonces about once a minute, in the same transaction.
                    if *now >= last_forget.saturating_add(60) {
                        tx.prepare_cached("DELETE FROM seen_nonces WHERE at < ?1")?.execute([forget_before])?;
                        *last_forget = *now;
                    }
                }
                Job::Heartbeat { terminal, at, body } => {
                    beat.execute(params![terminal, at, body])?;
                    fresh.push(true);
                }
                Job::Flush { .. } => fresh.push(true),
            }
        }
    }
    tx.commit()?;
    Ok(fresh)
}
