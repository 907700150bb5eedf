//! 好差评 forwarded to the provincial platform (issue 16), exactly once.
//!
//! The contract (hub/README.md, "Ratings to the platform") is HTTPS + JSON:
//! `POST {base}/v1/evaluations` with `Authorization: Bearer {token}` and
//! `Idempotency-Key: {evaluation id}`, body [`PlatformRating`]. `200`/`201`/
//! `202`: taken (the same key again is taken again and recorded once); other
//! `4xx`: refused, kept for a person, not retried; `429`, `5xx`, no answer:
//! tried again later under the same key.
//!
//! Every rating the hub stores leaves a row in `rating_forwards` in the same
//! transaction, so none is forgotten through an outage or a restart; the
//! evaluation id is the key, so the platform records it once however often
//! the hub has to try.
//!
//! The body carries the terms of GB/T 39734-2020 (政务服务"一次一评""一事一评"
//! 工作规范): 评价渠道 (§6), 评价等级 (§7.3, five grades), 差评评价内容
//! (附录 A, the reasons chosen), 评价时间 (§7.2), and what the rating is of
//! (办件编号, 事项编码, 行政区划). The numeric score's direction is fixed
//! here, at the edge (DESIGN §4): 5 = 非常满意 … 1 = 非常不满意.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::connector::{BoxFuture, ConnectorError};
use crate::outbox::{Nudge, OutboxJob, OutboxLoop, Pass, Schedule};
use crate::store::{RatingToForward, Store, StoreError};

/// One rating as the platform receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformRating {
    /// 评价编号: the evaluation's id (also the Idempotency-Key).
    pub evaluation_id: String,
    /// 办件编号.
    pub case_number: String,
    /// 事项编码 (实施编码).
    pub item_code: String,
    /// 行政区划代码 of the village where the terminal stands ("" unknown).
    pub division_code: String,
    /// The terminal rated at.
    pub terminal_id: String,
    /// 评价渠道 (§6.1 现场服务评价渠道): always `onsite_terminal` (政务服务终端).
    pub channel: String,
    /// 评价等级 by name: `very_satisfied` … `very_dissatisfied`.
    pub grade: String,
    /// 评价等级 as the villager saw it: 非常满意 … 非常不满意.
    pub grade_label: String,
    /// 5 = 非常满意 … 1 = 非常不满意.
    pub score: u8,
    /// 差评评价内容 / 好评 reasons the villager chose (Chinese labels).
    pub reasons: Vec<String>,
    /// Words the villager added, if any.
    pub text: String,
    /// 评价时间 (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub rated_at: OffsetDateTime,
}

impl PlatformRating {
    pub fn of(r: &RatingToForward) -> PlatformRating {
        use model::evaluation::Rating as R;
        let score = match r.rating {
            R::VerySatisfied => 5,
            R::Satisfied => 4,
            R::Neutral => 3,
            R::Dissatisfied => 2,
            R::VeryDissatisfied => 1,
        };
        PlatformRating {
            evaluation_id: r.evaluation_id.to_string(),
            case_number: r.case_number.clone(),
            item_code: r.item_code.clone(),
            division_code: r.village_code.clone(),
            terminal_id: r.terminal_id.clone(),
            channel: "onsite_terminal".into(),
            grade: serde_json::to_value(r.rating).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            grade_label: r.rating.label_zh().to_owned(),
            score,
            reasons: r.reasons.clone(),
            text: r.text.clone(),
            rated_at: r.rated_at,
        }
    }
}

/// Where ratings go. [`HttpRatingSink`] is the real one.
pub trait RatingSink: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn forward<'a>(&'a self, rating: &'a PlatformRating) -> BoxFuture<'a, Result<(), ConnectorError>>;
}

/// The platform's evaluation endpoint.
pub struct HttpRatingSink {
    base_url: String,
    token: zeroize::Zeroizing<String>,
    http: reqwest::Client,
}

impl HttpRatingSink {
    pub fn new(base_url: &str, token: &str, timeout: std::time::Duration) -> Result<HttpRatingSink, ConnectorError> {
        // reqwest's rustls has no provider of its own here; ring, as offline-cache.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ConnectorError::Unavailable(format!("platform client: {e}")))?;
        Ok(HttpRatingSink { base_url: base_url.trim_end_matches('/').to_owned(), token: zeroize::Zeroizing::new(token.to_owned()), http })
    }
}

impl RatingSink for HttpRatingSink {
    fn name(&self) -> &str {
        &self.base_url
    }

    fn forward<'a>(&'a self, rating: &'a PlatformRating) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let resp = self
                .http
                .post(format!("{}/v1/evaluations", self.base_url))
                .bearer_auth(self.token.as_str())
                .header("Idempotency-Key", &rating.evaluation_id)
                .json(rating)
                .send()
                .await
                .map_err(|e| ConnectorError::Unavailable(format!("platform: {}", e.without_url())))?;
            let status = resp.status();
            if status.is_success() {
                Ok(())
            } else if status.as_u16() == 429 || status.is_server_error() {
                Err(ConnectorError::Unavailable(format!("platform answered {status}")))
            } else {
                Err(ConnectorError::Refused { service: "platform".into(), reason: format!("{status}") })
            }
        })
    }
}

/// What one [`forward_ratings`] run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ForwardReport {
    /// Taken by the platform this run.
    pub sent: usize,
    /// Not taken (no answer, busy): tried again next run, same key.
    pub deferred: usize,
    /// Refused by the platform: kept, for a person to look at.
    pub refused: usize,
}

/// One pass over the ratings not yet forwarded. Stops at the first
/// platform that does not answer (the rest would not get through either).
pub async fn forward_ratings(store: &dyn Store, sink: &dyn RatingSink, now: OffsetDateTime) -> Result<ForwardReport, StoreError> {
    let mut report = ForwardReport::default();
    let due = store.ratings_to_forward(BATCH)?;
    for (i, r) in due.iter().enumerate() {
        let body = PlatformRating::of(r);
        match sink.forward(&body).await {
            Ok(()) => {
                store.rating_forwarded(r.evaluation_id, Ok(()), now)?;
                tracing::info!(evaluation = %r.evaluation_id, case = %r.case_number, platform = sink.name(), "rating forwarded");
                report.sent += 1;
            }
            Err(ConnectorError::Refused { reason, .. }) => {
                store.rating_forwarded(r.evaluation_id, Err(&reason), now)?;
                tracing::warn!(evaluation = %r.evaluation_id, %reason, "the platform refused a rating; kept for a person");
                report.refused += 1;
            }
            Err(ConnectorError::Unavailable(why)) => {
                store.rating_forward_failed(r.evaluation_id, &why, now)?;
                tracing::info!(evaluation = %r.evaluation_id, %why, "rating not forwarded now; tried again later");
                report.deferred += due.len() - i;
                break;
            }
        }
    }
    Ok(report)
}

/// How many ratings one pass reads.
const BATCH: usize = 200;

/// The ratings outbox as an [`OutboxJob`].
struct RatingsJob<S> {
    store: std::sync::Arc<dyn Store>,
    sink: S,
}

impl<S: RatingSink> OutboxJob for RatingsJob<S> {
    fn name(&self) -> &'static str {
        "ratings"
    }

    fn pass(&self, now: OffsetDateTime) -> BoxFuture<'_, Result<Pass, StoreError>> {
        Box::pin(async move {
            let r = forward_ratings(self.store.as_ref(), &self.sink, now).await?;
            if r != ForwardReport::default() {
                tracing::info!(sent = r.sent, refused = r.refused, waiting = r.deferred, "ratings to the platform");
            }
            Ok(Pass { handled: r.sent + r.refused, deferred: r.deferred, more: r.sent + r.refused >= BATCH })
        })
    }
}

/// Forwards when started, then every `every` (sooner, doubling back up to
/// `every`, after the platform did not answer) until stopped: what `hub`
/// does when the platform's URL is configured, so no timer is needed
/// beside it.
pub fn spawn_loop(store: std::sync::Arc<dyn Store>, sink: impl RatingSink, every: std::time::Duration) -> OutboxLoop {
    OutboxLoop::spawn(RatingsJob { store, sink }, Schedule::every(every, std::time::Duration::from_secs(5)), Nudge::default(), None)
}
