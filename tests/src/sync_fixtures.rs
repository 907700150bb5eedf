//! Deterministic filings and a fault-injecting HTTP proxy, for the
//! `sync-faults` and `sync-bench` binaries.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use model::catalog::ImplementCode;
use model::identity::check_char;
use model::submission::{Applicant, AttachmentRef, FiledBy, Consent};
use model::{CardType, Gender, IdNumber, Submission, SubmissionId, VillageCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// xorshift64*: reproducible, fast, not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence depends on `seed` only.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Attachment sizes of a village's filings: mostly phone-photo scans, some
/// multi-page documents, a few big ones, up to `max_bytes`.
pub fn attachment_sizes(rng: &mut Rng, max_bytes: u64) -> Vec<u64> {
    let n = if rng.chance(0.25) { 2 } else { 1 };
    (0..n)
        .map(|_| {
            let roll = rng.range(0, 100);
            let size = if roll < 60 {
                rng.range(10_000, 200_000)
            } else if roll < 90 {
                rng.range(500_000, 2_000_000)
            } else {
                rng.range(3_000_000, 5_000_001)
            };
            size.min(max_bytes)
        })
        .collect()
}

/// Filing number `i` of run `seed`: always the same id, content and bytes,
/// so a restarted terminal re-files it as a replay and the checker can
/// rebuild what must have arrived.
pub fn filing(seed: u64, i: u64, max_bytes: u64) -> (Submission, Vec<(AttachmentRef, Vec<u8>)>) {
    let mut rng = Rng::new(seed ^ (i.wrapping_add(1)).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    let mut id_bytes = [0u8; 16];
    rng.fill(&mut id_bytes);
    let id = SubmissionId(uuid::Builder::from_random_bytes(id_bytes).into_uuid());
    let mut atts = Vec::new();
    for (k, size) in attachment_sizes(&mut rng, max_bytes).into_iter().enumerate() {
        let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(0)];
        rng.fill(&mut bytes);
        // Distinct per filing and part even if the generator repeated.
        let stamp = (i * 16 + k as u64).to_le_bytes();
        let n = bytes.len().min(8);
        bytes[..n].copy_from_slice(&stamp[..n]);
        atts.push((AttachmentRef::for_bytes(&format!("scan{k}"), "application/pdf", &bytes), bytes));
    }
    let first17 = *b"62292619800101123";
    let id_number = IdNumber::parse(&format!("62292619800101123{}", check_char(&first17))).expect("valid test ID number");
    let at = time::macros::datetime!(2026-01-01 00:00 UTC) + time::Duration::seconds(i as i64);
    let sub = Submission {
        id,
        item_code: ImplementCode::parse("620000RS0001").expect("valid code"),
        bundle_code: None,
        parts: Vec::new(),
        catalog_version: None,
        applicant: Applicant {
            name: format!("测试{i}"),
            id_number,
            card_type: CardType::ResidentId,
            gender: Gender::Male,
            nation_code: "01".into(),
            birth_date: time::macros::date!(1980 - 01 - 01),
            address: "甘肃省临夏回族自治州东乡族自治县".into(),
        },
        form: BTreeMap::from([("phone".to_owned(), format!("139{:08}", i))]),
        attachments: atts.iter().map(|(r, _)| r.clone()).collect(),
        e_licenses: vec![],
        consent: Consent { text_version: "v1".into(), given_at: at },
        filed_by: FiledBy::SelfServiceTerminal,
        village_code: VillageCode::parse("622926100202").expect("valid village"),
        created_at: at,
        terminal_id: "GS-FAULT-0001".into(),
    };
    (sub, atts)
}

/// What the proxy did, for the report.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Requests the proxy saw.
    pub requests: AtomicU64,
    /// Connections it cut, inside the request or after it.
    pub cuts: AtomicU64,
    /// Error answers (500, 503, 429) it made itself.
    pub errors: AtomicU64,
    /// Requests it stalled before passing on.
    pub delays: AtomicU64,
}

/// How often the proxy injects faults, and from which seed.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    /// Share of requests that meet a fault.
    pub rate: f64,
    /// Seeds the proxy's choices, so a run can be repeated.
    pub seed: u64,
}

/// A loopback proxy that speaks enough HTTP/1.1 (Content-Length framing, no
/// pipelining: what reqwest sends) to fault single requests: cut the
/// connection at a random byte of the request (or just after it, so the hub
/// acts and the answer is lost), stall it, or answer 500/503/429 itself.
pub async fn fault_proxy(upstream: SocketAddr, plan: FaultPlan) -> std::io::Result<(SocketAddr, Arc<FaultCounts>, tokio::task::JoinHandle<()>)> {
    fault_proxy_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?, upstream, plan).await
}

/// [`fault_proxy`] listening on `listen` (the host end of a veth pair, say).
pub async fn fault_proxy_on(listen: SocketAddr, upstream: SocketAddr, plan: FaultPlan) -> std::io::Result<(SocketAddr, Arc<FaultCounts>, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let counts = Arc::new(FaultCounts::default());
    let c = counts.clone();
    let task = tokio::spawn(async move {
        let mut conn_no: u64 = 0;
        while let Ok((client, _)) = listener.accept().await {
            conn_no += 1;
            let rng = Rng::new(plan.seed ^ conn_no.wrapping_mul(0xA24B_AED4_963E_E407));
            tokio::spawn(proxy_connection(client, upstream, plan, rng, c.clone()));
        }
    });
    Ok((addr, counts, task))
}

async fn proxy_connection(client: TcpStream, upstream: SocketAddr, plan: FaultPlan, mut rng: Rng, counts: Arc<FaultCounts>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (mut cr, cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let cw = Arc::new(Mutex::new(cw));
    let down_w = cw.clone();
    let down = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if down_w.lock().await.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = down_w.lock().await.shutdown().await;
    });
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    'requests: loop {
        let end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match cr.read(&mut chunk).await {
                Ok(0) | Err(_) => break 'requests,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        counts.requests.fetch_add(1, Ordering::Relaxed);
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))).unwrap_or(0);
        let faulted = rng.chance(plan.rate);
        let kind = rng.range(0, 100);
        if faulted && kind < 35 {
            // The hub (or something) answers an error; the request never reaches it.
            counts.errors.fetch_add(1, Ordering::Relaxed);
            let (status, extra) = match rng.range(0, 3) {
                0 => ("500 Internal Server Error", ""),
                1 => ("503 Service Unavailable", "retry-after: 1\r\n"),
                _ => ("429 Too Many Requests", "retry-after: 1\r\n"),
            };
            let resp = format!("HTTP/1.1 {status}\r\n{extra}content-length: 0\r\nconnection: close\r\n\r\n");
            let _ = cw.lock().await.write_all(resp.as_bytes()).await;
            break 'requests;
        }
        // Where to cut: inside the body, or after the whole request (the hub acts, the answer is lost).
        let cut = (faulted && kind < 80).then(|| if rng.chance(0.5) || len == 0 { len } else { rng.range(0, len as u64) as usize });
        if faulted && kind >= 80 {
            counts.delays.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(rng.range(200, 2500))).await;
        }
        if sw.write_all(&buf[..end]).await.is_err() {
            break;
        }
        buf.drain(..end);
        let mut sent = 0usize;
        loop {
            if let Some(cut) = cut {
                if sent >= cut {
                    counts.cuts.fetch_add(1, Ordering::Relaxed);
                    if cut == len {
                        // Let the hub act on it, then lose the answer.
                        tokio::time::sleep(Duration::from_millis(rng.range(0, 300))).await;
                    }
                    break 'requests;
                }
            }
            if sent >= len {
                break;
            }
            if buf.is_empty() {
                match cr.read(&mut chunk).await {
                    Ok(0) | Err(_) => break 'requests,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let mut take = buf.len().min(len - sent);
            if let Some(cut) = cut {
                take = take.min(cut - sent);
            }
            if sw.write_all(&buf[..take]).await.is_err() {
                break 'requests;
            }
            buf.drain(..take);
            sent += take;
        }
    }
    // Both ends see the connection go.
    let _ = sw.shutdown().await;
    down.abort();
    let _ = cw.lock().await.shutdown().await;
}
