//! The HTTP surface: routes, authentication, body limits, the pool hand-off and access logs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::auth::{Authenticator, Login};
use super::body::{self, BodyError, BodyLimits};
use super::openapi;
use super::password_pool::PasswordPool;
use super::service::Pool;
use super::wire::LivenessResponse;

/// Shared state of the server.
pub struct AppState {
    /// Credentials.
    pub auth: Arc<Authenticator>,
    /// The threads that check passwords (Argon2 is costly by design).
    pub passwords: PasswordPool,
    /// The analysis pool.
    pub pool: Pool,
    /// Size and time limits of a request body.
    pub body_limits: BodyLimits,
    /// Longest a request may wait for and take in the analysis pool.
    pub request_timeout: Duration,
    /// Liveness model version, for the health check.
    pub model_version: Option<String>,
    /// Backend label, for the health check.
    pub backend: Option<String>,
    /// Document detector model version (`classical` without one), for the health check.
    pub detector: String,
    /// Bytes of request bodies in memory at once (being read or waiting for analysis).
    pub body_memory: Arc<tokio::sync::Semaphore>,
    /// Requests admitted to the analysis pool at once (workers + queue); taken only once
    /// the body is read, so a slow client never holds one.
    pub request_permits: Arc<tokio::sync::Semaphore>,
}

/// The router with every route and layer.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/api/v1/document/liveness",
            post(liveness).fallback(|| async {
                json(
                    StatusCode::METHOD_NOT_ALLOWED,
                    LivenessResponse::error(
                        String::new(),
                        "METHOD_NOT_ALLOWED",
                        "use POST with a JSON body",
                    ),
                )
            }),
        )
        .route("/healthz", get(health))
        .route(
            "/api/v1/openapi.json",
            get(|| async { axum::Json(openapi::document()) }),
        )
        .fallback(|| async {
            json(
                StatusCode::NOT_FOUND,
                LivenessResponse::error(String::new(), "NOT_FOUND", "no such endpoint"),
            )
        })
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

fn json(status: StatusCode, body: LivenessResponse) -> Response {
    (status, axum::Json(body)).into_response()
}

fn unauthorized() -> Response {
    let mut r = json(
        StatusCode::UNAUTHORIZED,
        LivenessResponse::error(
            String::new(),
            "UNAUTHORIZED",
            "missing or wrong credentials (HTTP Basic authentication)",
        ),
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"docliveness\", charset=\"UTF-8\""),
    );
    r
}

fn with_retry_after(mut r: Response, seconds: u64) -> Response {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    r
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(serde_json::json!({
        "status": "ok",
        "modelVersion": state.model_version,
        "detector": state.detector,
        "backend": state.backend,
        "workers": state.pool.workers(),
        "queued": state.pool.queued(),
    }))
    .into_response()
}

async fn liveness(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ip = client.ip();
    let refuse = |body, response| refuse(&state, &headers, body, response);
    // A changed users file is in force from the next request on (a stat, once a second).
    state.auth.refresh();
    if state.auth.is_throttled(ip) {
        return refuse(body, throttled());
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // No credentials at all: the challenge, at once and without counting as a failure.
    if authorization.is_none() {
        return refuse(body, unauthorized());
    }
    // Recently verified credentials need no Argon2; the rest wait for one of the few
    // password threads.
    let login = match state.auth.cached(authorization.as_deref()) {
        Some(user) => Login::Accepted(user),
        None => {
            let auth = Arc::clone(&state.auth);
            let check = move || auth.login(ip, authorization.as_deref());
            match state.passwords.run(AUTH_WAIT, check).await {
                Some(login) => login,
                None => return refuse(body, overloaded()),
            }
        }
    };
    let user = match login {
        Login::Accepted(user) => user,
        Login::Throttled => return refuse(body, throttled()),
        Login::Refused => {
            // Each failure from the same address waits a little longer before the answer.
            let failures = state.auth.recent_failures(ip) as u64;
            tokio::time::sleep(Duration::from_millis(
                (failures.saturating_sub(1) * 250).min(2000),
            ))
            .await;
            return refuse(body, unauthorized());
        }
    };
    tracing::Span::current().record("user", user.as_str());
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.body_limits.max_bytes as u64) {
        return refuse(body, too_large(state.body_limits.max_bytes));
    }
    let read = match body::read_body(body, declared, &state.body_limits, &state.body_memory).await {
        Ok(read) => read,
        Err(BodyError::TooLarge(rest)) => {
            return refuse(rest, too_large(state.body_limits.max_bytes));
        }
        Err(BodyError::TimedOut) => return closing(request_timeout(&state.body_limits)),
        Err(BodyError::NoMemory) => return closing(overloaded()),
        Err(BodyError::Broken) => {
            return closing(json(
                StatusCode::BAD_REQUEST,
                LivenessResponse::error(
                    String::new(),
                    "INVALID_REQUEST",
                    "the request body could not be read",
                ),
            ));
        }
    };
    let Ok(admission) = Arc::clone(&state.request_permits).try_acquire_owned() else {
        return overloaded();
    };
    // The body's memory and its slot stay taken for as long as the pool holds the body.
    let holds = read.memory.into_iter().chain([admission]).collect();
    let Some(receiver) = state.pool.submit(read.bytes, holds) else {
        return overloaded();
    };
    match tokio::time::timeout(state.request_timeout, receiver).await {
        Ok(Ok(reply)) => json(
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            reply.body,
        ),
        Ok(Err(_)) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            LivenessResponse::error(
                String::new(),
                "INTERNAL_ERROR",
                "the analysis stopped unexpectedly",
            ),
        ),
        Err(_) => with_retry_after(
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                LivenessResponse::error(String::new(), "TIMEOUT", "the analysis took too long"),
            ),
            5,
        ),
    }
}

/// Longest a request waits for a free password thread.
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// Answers at once without using the body; what is left of it is drained in the
/// background (within the body limits) so that a client still sending sees the answer
/// instead of a reset connection.
fn refuse(state: &AppState, headers: &HeaderMap, body: Body, response: Response) -> Response {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    body::drain_in_background(body, expects_continue, &state.body_limits);
    response
}

/// The connection closes after this answer: the rest of the body was not read.
fn closing(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn throttled() -> Response {
    let r = json(
        StatusCode::TOO_MANY_REQUESTS,
        LivenessResponse::error(
            String::new(),
            "TOO_MANY_FAILED_LOGINS",
            "too many failed logins from this address; try again in a minute",
        ),
    );
    with_retry_after(r, 60)
}

fn request_timeout(limits: &BodyLimits) -> Response {
    json(
        StatusCode::REQUEST_TIMEOUT,
        LivenessResponse::error(
            String::new(),
            "REQUEST_TIMEOUT",
            format!(
                "the request body did not arrive within {} s, or paused for over {} s",
                limits.timeout.as_secs(),
                limits.stall.as_secs()
            ),
        ),
    )
}

fn overloaded() -> Response {
    let r = json(
        StatusCode::SERVICE_UNAVAILABLE,
        LivenessResponse::error(
            String::new(),
            "OVERLOADED",
            "the server is at capacity; retry shortly",
        ),
    );
    with_retry_after(r, 1)
}

fn too_large(limit: usize) -> Response {
    json(
        StatusCode::PAYLOAD_TOO_LARGE,
        LivenessResponse::error(
            String::new(),
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {limit} bytes"),
        ),
    )
}

/// One structured line per request: id, method, path, status, time, client. Never the
/// body or the credentials.
async fn access_log(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = uuid::Uuid::new_v4().to_string();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %id, user = tracing::field::Empty);
    let mut response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        parent: &span,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        ms = start.elapsed().as_secs_f64() * 1000.0,
        client = %client,
        "request"
    );
    response
}
