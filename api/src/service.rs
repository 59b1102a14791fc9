//! The blocking half of the API: a bounded pool of analysis threads. Request parsing,
//! Base64, URL fetching, the engine and the review store all run here, never on the
//! async executor.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::error::{ApiError, Rejection};
use super::url_fetch::{self, UrlError};
use super::wire::{ImageSource, LivenessRequest, LivenessResponse, SideResult, image_source};
use crate::config::UrlInputConfig;
use docliveness_engine::{Analysis, Engine, ErrorCode, Outcome, Quad, Region, Route, Side};
use docliveness_review::{NewCase, NewSide, Origin, Store, WarningSet};

/// The longest `sessionId` accepted, in bytes: room for opaque tokens and JWTs (a UUID
/// is 36), not for megabytes stored with every case and echoed with every answer.
pub const MAX_SESSION_ID: usize = 4096;

/// Everything a worker needs.
pub struct ServiceContext {
    /// The shared engine.
    pub engine: Arc<Engine>,
    /// The review database.
    pub db_path: PathBuf,
    /// URL input policy.
    pub url_policy: UrlInputConfig,
}

/// The answer to a request body: a check's result (also when a side was refused with an
/// error code, as the spec answers those with 200), or a rejection.
pub type Reply = Result<LivenessResponse, Rejection>;

struct Job {
    body: Vec<u8>,
    /// What the request holds while its body is in memory (its share of the memory for
    /// bodies, its admission slot): given back with the body when the job is done or
    /// dropped, not when the client stops waiting, or a client that gives up at once
    /// could fill the queue with bodies nobody counts.
    _holds: Vec<OwnedSemaphorePermit>,
    reply: oneshot::Sender<Reply>,
}

/// The analysis pool: `workers` threads behind a queue of `depth` waiting requests.
pub struct Pool {
    sender: SyncSender<Job>,
    queued: Arc<AtomicUsize>,
    workers: usize,
}

impl Pool {
    /// Starts the worker threads.
    pub fn start(workers: usize, depth: usize, context: Arc<ServiceContext>) -> Pool {
        let (sender, receiver) = sync_channel::<Job>(depth);
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        let queued = Arc::new(AtomicUsize::new(0));
        for i in 0..workers {
            let receiver = Arc::clone(&receiver);
            let context = Arc::clone(&context);
            let queued = Arc::clone(&queued);
            std::thread::Builder::new()
                .name(format!("analysis-{i}"))
                .spawn(move || {
                    // Each worker has its own connection; SQLite arbitrates between them.
                    let mut store: Option<Store> = None;
                    loop {
                        let job = match receiver.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                            Ok(job) => job,
                            Err(_) => break,
                        };
                        queued.fetch_sub(1, Ordering::Relaxed);
                        // The client gave up (time-out): do not analyse, and above all do
                        // not file a case nobody will hear about.
                        if job.reply.is_closed() {
                            continue;
                        }
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                process(&context, &mut store, &job.body)
                            }));
                        let reply = outcome.unwrap_or_else(|_| {
                            tracing::error!("analysis panicked; the worker goes on");
                            store = None;
                            Err(Rejection::new(
                                ApiError::Internal("the analysis failed unexpectedly".into()),
                                String::new(),
                            ))
                        });
                        let _ = job.reply.send(reply);
                    }
                })
                .expect("spawning an analysis thread");
        }
        Pool {
            sender,
            queued,
            workers,
        }
    }

    /// Queues a request body with the permits it holds, which are given back when the
    /// job is done or dropped; `None` when the queue is full (answer 503).
    pub fn submit(
        &self,
        body: Vec<u8>,
        holds: Vec<OwnedSemaphorePermit>,
    ) -> Option<oneshot::Receiver<Reply>> {
        let (reply, receiver) = oneshot::channel();
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.sender.try_send(Job {
            body,
            _holds: holds,
            reply,
        }) {
            Ok(()) => Some(receiver),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Requests waiting for a worker.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

/// Handles one request body from start to finish.
pub fn process(ctx: &ServiceContext, store: &mut Option<Store>, body: &[u8]) -> Reply {
    let request: LivenessRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            let session = uuid::Uuid::new_v4().to_string();
            return Err(Rejection::new(
                ApiError::InvalidRequest(format!("the body is not valid JSON for this API: {e}")),
                session,
            ));
        }
    };
    // The spec: the client's session id is echoed unchanged (an empty one too); only an
    // absent one is made up.
    let session_id = request
        .session_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // A session id is an identifier the response echoes and the queue stores: one of
    // megabytes is an abuse of both, not an id.
    if session_id.len() > MAX_SESSION_ID {
        return Err(Rejection::new(
            ApiError::InvalidRequest(format!(
                "sessionId is {} bytes long; at most {MAX_SESSION_ID} are accepted",
                session_id.len()
            )),
            // Not echoed: it is what is refused.
            String::new(),
        ));
    }
    // Two different images for the front would leave one unjudged without a word (the
    // same one under both names is a client being compatible, and fine).
    if let (Some(front), Some(alias)) = (
        present(&request.front_side_image_base),
        present(&request.document_image_base),
    ) && front != alias
    {
        return Err(Rejection::new(
            ApiError::InvalidRequest(
                "frontSideImageBase and its alias documentImageBase hold different images; send the front side once"
                    .into(),
            ),
            session_id,
        ));
    }
    // An empty field is a missing image (400), as for the back side, not a broken one.
    let Some(front_field) =
        present(&request.front_side_image_base).or_else(|| present(&request.document_image_base))
    else {
        return Err(Rejection::new(
            ApiError::InvalidRequest(
                "frontSideImageBase (or documentImageBase) is required".into(),
            ),
            session_id,
        ));
    };
    let outline = |field: &str, corners: Option<[[f64; 2]; 4]>| {
        corners
            .map(|c| Quad::from_corners(c.map(|[x, y]| (x, y))))
            .transpose()
            .map_err(|e| {
                Rejection::new(
                    ApiError::InvalidRequest(format!("{field}: {e}")),
                    session_id.clone(),
                )
            })
    };
    let front_quad = outline("frontSideQuad", request.front_side_quad)?;
    let back_quad = outline("backSideQuad", request.back_side_quad)?;
    let back_field = present(&request.back_side_image_base);
    if back_quad.is_some() && back_field.is_none() {
        return Err(Rejection::new(
            ApiError::InvalidRequest("backSideQuad was given without backSideImageBase".into()),
            session_id,
        ));
    }
    let mut sides = vec![(
        Side::Front,
        read_side(ctx, Side::Front, front_field, front_quad),
    )];
    if let Some(back) = back_field {
        sides.push((Side::Back, read_side(ctx, Side::Back, back, back_quad)));
    }
    let results: Vec<SideResult> = sides
        .iter()
        .map(|(_, (a, _))| SideResult::from_analysis(a))
        .collect();
    let mut response = LivenessResponse {
        session_id: session_id.clone(),
        score: None,
        has_error: false,
        error: None,
        message: None,
        decision: None,
        review_case_id: None,
        warnings: WarningSet::of(sides.iter().map(|(_, (a, _))| a)).0,
        model_version: ctx.engine.model_version(),
        front: results.first().cloned(),
        back: results.get(1).cloned(),
    };
    let outcome = ctx.engine.outcome(sides.iter().map(|(_, (a, _))| a));
    match &outcome {
        Outcome::Refused { code, message } => {
            response.has_error = true;
            response.error = Some(code.as_str().to_string());
            response.message = Some(message.clone());
            return Ok(response);
        }
        Outcome::Unscored { failure } => {
            let error = match failure {
                Some(message) => {
                    ApiError::Internal(format!("the liveness model failed: {message}"))
                }
                None => ApiError::ModelNotInstalled,
            };
            return Err(Rejection::new(error, session_id).with_sides(response.front, response.back));
        }
        Outcome::Scored { score, route } => {
            response.score = Some(*score);
            response.decision = Some(*route);
        }
    }
    if outcome.route() == Some(Route::Review) {
        match file_case(ctx, store, &session_id, &sides, outcome) {
            Ok(id) => response.review_case_id = Some(id),
            Err(e) => {
                tracing::error!(error = %e, "could not file a review case");
                return Err(Rejection::new(
                    ApiError::Internal(
                        "the review queue is unavailable; the check was not recorded".into(),
                    ),
                    session_id,
                ));
            }
        }
    }
    Ok(response)
}

type SideInput = (Analysis, Option<Vec<u8>>);

fn read_side(ctx: &ServiceContext, side: Side, field: &str, outline: Option<Quad>) -> SideInput {
    let failed = |code, reason: String| {
        (
            Analysis::input_failed(side, Region::Document, code, reason),
            None,
        )
    };
    let bytes = match image_source(field) {
        Err(e) => return failed(ErrorCode::ImageInvalid, e.to_string()),
        Ok(ImageSource::Bytes(b)) => b,
        Ok(ImageSource::Url(url)) => match url_fetch::fetch(&url, &ctx.url_policy) {
            Ok(b) => b,
            Err(UrlError::NotAllowed(m)) => return failed(ErrorCode::ImageUrlNotAllowed, m),
            Err(UrlError::FetchFailed(m)) => return failed(ErrorCode::ImageUrlFetchFailed, m),
        },
    };
    let analysis = match outline {
        Some(quad) => ctx.engine.analyze_with_outline(&bytes, side, quad),
        None => ctx.engine.analyze(&bytes, side, Region::Document),
    };
    (analysis, Some(bytes))
}

fn file_case(
    ctx: &ServiceContext,
    store: &mut Option<Store>,
    session_id: &str,
    sides: &[(Side, SideInput)],
    outcome: Outcome,
) -> Result<i64, docliveness_review::StoreError> {
    if store.is_none() {
        *store = Some(Store::open(&ctx.db_path)?);
    }
    let store = store.as_mut().expect("opened above");
    let new_sides: Vec<NewSide<'_>> = sides
        .iter()
        .filter_map(|(side, (analysis, bytes))| {
            bytes.as_ref().map(|b| NewSide {
                side: *side,
                image: b,
                analysis,
            })
        })
        .collect();
    store.file_case(&NewCase {
        origin: Origin::Api,
        session_id: session_id.to_string(),
        sides: new_sides,
        outcome,
        // The session id names an API case; no file was read.
        source: None,
    })
}

/// A request field that holds something; an empty or blank one counts as absent.
fn present(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|f| !f.trim().is_empty())
}
