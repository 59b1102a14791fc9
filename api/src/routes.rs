//! The HTTP surface: routes, body limits, the pool hand-off and access logs. Logins are a
//! layer (`login.rs`); every error answer is an `ApiError`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::auth::Authenticator;
use super::body::{self, BodyError, BodyLimits, refuse};
use super::error::ApiError;
use super::login::require_login;
use super::openapi;
use super::password_pool::PasswordPool;
use super::service::Pool;

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
    let check = liveness.layer(middleware::from_fn_with_state(
        Arc::clone(&state),
        require_login,
    ));
    Router::new()
        .route(
            "/api/v1/document/liveness",
            post(check).fallback(|| async { ApiError::MethodNotAllowed }),
        )
        .route("/healthz", get(health))
        .route(
            "/api/v1/openapi.json",
            get(|| async { axum::Json(openapi::document()) }),
        )
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn(access_log))
        .with_state(state)
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

/// A check, for a user the login layer let through: the body read within its limits,
/// then handed to the analysis pool.
async fn liveness(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let limits = &state.body_limits;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || ApiError::PayloadTooLarge(limits.max_bytes);
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return refuse(&headers, body, limits, too_large());
    }
    let read = match body::read_body(body, declared, limits, &state.body_memory).await {
        Ok(read) => read,
        Err(BodyError::TooLarge(rest)) => return refuse(&headers, rest, limits, too_large()),
        Err(BodyError::TimedOut) => {
            return closing(ApiError::RequestTimeout {
                within: limits.timeout.as_secs(),
                stall: limits.stall.as_secs(),
            });
        }
        Err(BodyError::NoMemory) => return closing(ApiError::Overloaded),
        Err(BodyError::Broken) => {
            return closing(ApiError::InvalidRequest(
                "the request body could not be read".into(),
            ));
        }
    };
    let Ok(admission) = Arc::clone(&state.request_permits).try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    // The body's memory and its slot stay taken for as long as the pool holds the body.
    let holds = read.memory.into_iter().chain([admission]).collect();
    let Some(receiver) = state.pool.submit(read.bytes, holds) else {
        return ApiError::Overloaded.into_response();
    };
    match tokio::time::timeout(state.request_timeout, receiver).await {
        Ok(Ok(Ok(response))) => axum::Json(response).into_response(),
        Ok(Ok(Err(rejection))) => rejection.into_response(),
        Ok(Err(_)) => {
            ApiError::Internal("the analysis stopped unexpectedly".into()).into_response()
        }
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// The answer to a request whose body was not read to its end; the connection closes
/// after it.
fn closing(error: ApiError) -> Response {
    let mut r = error.into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
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
