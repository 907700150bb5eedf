//! A counting proxy between a hub and its S3 server (`sync-bench
//! throughput --count-s3`): forwards every request as it came (the Host
//! header too, which the request's SigV4 signature covers) and records its
//! kind (PUT, GET, HEAD, LIST, DELETE, COPY, multipart steps), the kind of
//! object (complete, partial chunk, other) and how long the server took to
//! answer it. For profiling only: one more hop on loopback.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;

/// One request the proxy forwarded.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `PUT`, `GET`, `HEAD`, `LIST`, `DELETE`, `COPY`, `MPU-CREATE`,
    /// `MPU-PART`, `MPU-COMPLETE`, `MPU-ABORT`.
    pub kind: &'static str,
    /// `object` (a complete name), `partial` (a chunk of an upload), `other`.
    pub of: &'static str,
    /// Milliseconds from sending it on to the end of the answer.
    pub ms: f64,
    /// Body bytes sent up.
    pub up: u64,
    /// Requests already under way when it was sent on.
    pub beside: usize,
}

#[derive(Clone)]
struct Inner {
    upstream: String,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
    under_way: Arc<std::sync::atomic::AtomicUsize>,
}

/// The proxy, on a thread and runtime of its own (so that what it times
/// is the S3 server, not a wait for the bench's busy runtime), until dropped.
pub struct S3Counter {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for S3Counter {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn kind(method: &axum::http::Method, query: &str, headers: &axum::http::HeaderMap) -> &'static str {
    let has = |k: &str| query.split('&').any(|p| p == k || p.starts_with(&format!("{k}=")));
    match method.as_str() {
        "GET" if has("list-type") || has("delimiter") || has("prefix") => "LIST",
        "GET" => "GET",
        "HEAD" => "HEAD",
        "PUT" if has("partNumber") => "MPU-PART",
        "PUT" if headers.contains_key("x-amz-copy-source") => "COPY",
        "PUT" => "PUT",
        "POST" if has("uploads") => "MPU-CREATE",
        "POST" if has("uploadId") => "MPU-COMPLETE",
        "POST" if has("delete") => "DELETE-MANY",
        "DELETE" if has("uploadId") => "MPU-ABORT",
        "DELETE" => "DELETE",
        _ => "OTHER",
    }
}

fn of(path: &str, query: &str) -> &'static str {
    if path.contains("/partial/") || query.contains("partial") {
        "partial"
    } else if path.contains("/updates/") {
        "other"
    } else {
        "object"
    }
}

async fn forward(State(inner): State<Inner>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let path = parts.uri.path().to_owned();
    let k = kind(&parts.method, &query, &parts.headers);
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return bad_gateway();
    };
    let up = body.len() as u64;
    let url = format!("{}{}", inner.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut out = inner.http.request(parts.method.clone(), url);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    use std::sync::atomic::Ordering::SeqCst;
    let beside = inner.under_way.fetch_add(1, SeqCst);
    let t = Instant::now();
    let answered = async {
        let resp = out.body(body).send().await.ok()?;
        let (status, headers) = (resp.status(), resp.headers().clone());
        Some((status, headers, resp.bytes().await.ok()?))
    }
    .await;
    inner.under_way.fetch_sub(1, SeqCst);
    let Some((status, headers, bytes)) = answered else {
        return bad_gateway();
    };
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    inner.seen.lock().unwrap_or_else(|e| e.into_inner()).push(Seen { kind: k, of: of(&path, &query), ms, up, beside });
    let mut answer = Response::new(Body::from(bytes));
    *answer.status_mut() = status;
    for (name, value) in &headers {
        // A HEAD answer's Content-Length is the object's size: kept.
        if !hop_by_hop(name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(name.as_str(), "connection" | "keep-alive" | "transfer-encoding" | "te" | "upgrade" | "proxy-connection")
}

fn bad_gateway() -> Response {
    let mut r = Response::new(Body::from(Bytes::new()));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

impl S3Counter {
    /// A proxy on loopback in front of `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Result<S3Counter> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream = upstream.trim_end_matches('/').to_owned();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let shared = seen.clone();
        std::thread::Builder::new().name("s3-count".into()).spawn(move || {
            rt.block_on(async move {
                let inner = Inner { upstream, http: reqwest::Client::new(), seen: shared, under_way: Default::default() };
                let app = axum::Router::new().fallback(forward).with_state(inner);
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let _ = axum::serve(listener, app).with_graceful_shutdown(async { let _ = stopped.await; }).await;
            })
        })?;
        Ok(S3Counter { addr, seen, stop: Some(stop) })
    }

    /// The endpoint to give the hub instead of the server's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What was forwarded since the last call (and forgets it).
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Per kind and object: how many per `per` (filings), and the mean and
    /// total milliseconds, one line each.
    pub fn summary(seen: &[Seen], per: u64) -> Vec<String> {
        let mut by: BTreeMap<(&str, &str), (u64, f64, u64, usize)> = BTreeMap::new();
        for s in seen {
            let e = by.entry((s.kind, s.of)).or_default();
            e.0 += 1;
            e.1 += s.ms;
            e.2 += s.up;
            e.3 += s.beside;
        }
        by.into_iter()
            .map(|((k, o), (n, ms, up, beside))| {
                format!(
                    "{k:>12} {o:<7} {:>6.2} per filing, mean {:>6.2} ms, total {:>7.1} ms, {:>6.2} MB up, {:.2} others under way",
                    n as f64 / per.max(1) as f64,
                    ms / n as f64,
                    ms,
                    up as f64 / 1e6,
                    beside as f64 / n as f64
                )
            })
            .collect()
    }
}
