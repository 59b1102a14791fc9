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

use super::auth::Authenticator;
use super::openapi;
use super::service::Pool;
use super::wire::LivenessResponse;

/// Shared state of the server.
pub struct AppState {
    /// Credentials.
    pub auth: Authenticator,
    /// The analysis pool.
    pub pool: Pool,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Liveness model version, for the health check.
    pub model_version: Option<String>,
    /// Backend label, for the health check.
    pub backend: Option<String>,
    /// Document detector model version (`classical` without one), for the health check.
    pub detector: String,
    /// Password checks running at once (Argon2 is costly by design); none free = 503.
    pub auth_permits: Arc<tokio::sync::Semaphore>,
    /// Requests admitted at once (workers + queue); bodies are only read with a permit,
    /// so memory stays bounded however many clients connect.
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
    if state.auth.is_throttled(ip) {
        let r = json(
            StatusCode::TOO_MANY_REQUESTS,
            LivenessResponse::error(
                String::new(),
                "TOO_MANY_FAILED_LOGINS",
                "too many failed logins from this address; try again in a minute",
            ),
        );
        return refuse(body, with_retry_after(r, 60)).await;
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // No credentials at all: the challenge, at once and without counting as a failure.
    if authorization.is_none() {
        return refuse(body, unauthorized()).await;
    }
    // Recently verified credentials need no Argon2; the rest wait for one of a few
    // permits, so password checks never take more threads than there are cores.
    let user = match state.auth.cached(authorization.as_deref()) {
        Some(user) => Some(user),
        None => {
            let Ok(Ok(permit)) =
                tokio::time::timeout(AUTH_WAIT, Arc::clone(&state.auth_permits).acquire_owned())
                    .await
            else {
                return refuse(body, overloaded()).await;
            };
            let app = Arc::clone(&state);
            // Argon2 is deliberately slow CPU work: keep it off the async threads.
            let user =
                tokio::task::spawn_blocking(move || app.auth.verify(ip, authorization.as_deref()))
                    .await
                    .ok()
                    .flatten();
            drop(permit);
            user
        }
    };
    let Some(user) = user else {
        // Each failure from the same address waits a little longer before the answer.
        let failures = state.auth.recent_failures(ip) as u64;
        tokio::time::sleep(Duration::from_millis(
            (failures.saturating_sub(1) * 250).min(2000),
        ))
        .await;
        return refuse(body, unauthorized()).await;
    };
    tracing::Span::current().record("user", user.as_str());
    let Ok(_request_permit) = Arc::clone(&state.request_permits).try_acquire_owned() else {
        return refuse(body, overloaded()).await;
    };
    let Some(bytes) = read_limited(body, state.max_body_bytes).await else {
        return too_large(state.max_body_bytes);
    };
    let Some(receiver) = state.pool.submit(bytes) else {
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

/// Beyond the limit, up to this much more is read and dropped so that the client, still
/// sending, gets to see the 413 instead of a reset connection; past it the connection
/// is simply closed.
const DRAIN_CAP: usize = 64 << 20;

/// The body if it fits in `limit` bytes; `None` (after draining a bounded amount) if not.
async fn read_limited(mut body: Body, limit: usize) -> Option<Vec<u8>> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return None };
        if let Some(data) = frame.data_ref() {
            seen += data.len();
            if seen <= limit {
                out.extend_from_slice(data);
            } else if seen > limit + DRAIN_CAP {
                return None;
            }
        }
    }
    (seen <= limit).then_some(out)
}

/// Longest a request waits for a password-check permit.
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// Answers without using the body, after reading and dropping a bounded amount of it, so
/// that a client still sending sees the answer instead of a reset connection.
async fn refuse(body: Body, response: Response) -> Response {
    let _ = read_limited(body, 0).await;
    response
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
