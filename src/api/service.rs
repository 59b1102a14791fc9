//! The blocking half of the API: a bounded pool of analysis threads. Request parsing,
//! Base64, URL fetching, the engine and the review store all run here, never on the
//! async executor.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::url_fetch::{self, UrlError};
use super::wire::{ImageSource, LivenessRequest, LivenessResponse, SideResult, image_source};
use crate::config::{Thresholds, UrlInputConfig};
use crate::engine::{Analysis, Engine, ErrorCode, Outcome, Region, Route, Side};
use crate::review::{NewCase, NewSide, Origin, Store};

/// Everything a worker needs.
pub struct ServiceContext {
    /// The shared engine.
    pub engine: Arc<Engine>,
    /// The review database.
    pub db_path: PathBuf,
    /// Routing thresholds.
    pub thresholds: Thresholds,
    /// URL input policy.
    pub url_policy: UrlInputConfig,
}

/// HTTP status and body of an answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// JSON body.
    pub body: LivenessResponse,
}

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
                            Reply {
                                status: 500,
                                body: LivenessResponse::error(
                                    String::new(),
                                    "INTERNAL_ERROR",
                                    "the analysis failed unexpectedly",
                                ),
                            }
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

fn reply(status: u16, body: LivenessResponse) -> Reply {
    Reply { status, body }
}

/// Handles one request body from start to finish.
pub fn process(ctx: &ServiceContext, store: &mut Option<Store>, body: &[u8]) -> Reply {
    let request: LivenessRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            let session = uuid::Uuid::new_v4().to_string();
            return reply(
                400,
                LivenessResponse::error(
                    session,
                    "INVALID_REQUEST",
                    format!("the body is not valid JSON for this API: {e}"),
                ),
            );
        }
    };
    // The spec: the client's session id is echoed unchanged (an empty one too); only an
    // absent one is made up.
    let session_id = request
        .session_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // An empty field is a missing image (400), as for the back side, not a broken one.
    let Some(front_field) =
        present(&request.front_side_image_base).or_else(|| present(&request.document_image_base))
    else {
        return reply(
            400,
            LivenessResponse::error(
                session_id,
                "INVALID_REQUEST",
                "frontSideImageBase (or documentImageBase) is required",
            ),
        );
    };
    let mut sides = vec![(Side::Front, read_side(ctx, Side::Front, front_field))];
    if let Some(back) = present(&request.back_side_image_base) {
        sides.push((Side::Back, read_side(ctx, Side::Back, back)));
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
        model_version: ctx.engine.model_version(),
        front: results.first().cloned(),
        back: results.get(1).cloned(),
    };
    let outcome = Outcome::of(sides.iter().map(|(_, (a, _))| a), &ctx.thresholds);
    match &outcome {
        Outcome::Refused { code, message } => {
            response.has_error = true;
            response.error = Some(code.as_str().to_string());
            response.message = Some(message.clone());
            return reply(200, response);
        }
        Outcome::Unscored { failure } => {
            let (status, code, message) = match failure {
                Some(message) => (
                    500,
                    "INTERNAL_ERROR",
                    format!("the liveness model failed: {message}"),
                ),
                None => (
                    503,
                    "MODEL_NOT_INSTALLED",
                    "no liveness model is installed on this server, so no score can be given"
                        .to_string(),
                ),
            };
            let mut r = LivenessResponse::error(session_id, code, message);
            r.front = response.front;
            r.back = response.back;
            return reply(status, r);
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
                return reply(
                    500,
                    LivenessResponse::error(
                        session_id,
                        "INTERNAL_ERROR",
                        "the review queue is unavailable; the check was not recorded",
                    ),
                );
            }
        }
    }
    reply(200, response)
}

type SideInput = (Analysis, Option<Vec<u8>>);

fn read_side(ctx: &ServiceContext, side: Side, field: &str) -> SideInput {
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
    (
        ctx.engine.analyze(&bytes, side, Region::Document),
        Some(bytes),
    )
}

fn file_case(
    ctx: &ServiceContext,
    store: &mut Option<Store>,
    session_id: &str,
    sides: &[(Side, SideInput)],
    outcome: Outcome,
) -> Result<i64, crate::review::StoreError> {
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
    })
}

/// A request field that holds something; an empty or blank one counts as absent.
fn present(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|f| !f.trim().is_empty())
}
