//! The login layer in front of the check endpoint: throttling of addresses that fail too
//! often, HTTP Basic credentials checked (Argon2 on a few dedicated threads, a short
//! cache of recent successes), and the user handed to the handler. A refused request is
//! answered at once, its body left unread.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::Login;
use super::body::refuse;
use super::error::ApiError;
use super::routes::AppState;

/// The user a request was made by, for the handler (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User(pub String);

/// Longest a request waits for a free password thread.
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// The layer: lets a request through with its `User`, or answers it.
pub async fn require_login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let ip = client.ip();
    let (parts, body) = request.into_parts();
    let refused = |error: ApiError| error.into_response();
    // A changed users file is in force from the next request on (a stat, once a second).
    state.auth.refresh();
    if state.auth.is_throttled(ip) {
        return refuse(
            &parts.headers,
            body,
            &state.body_limits,
            refused(ApiError::TooManyFailedLogins),
        );
    }
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // No credentials at all: the challenge, at once and without counting as a failure.
    if authorization.is_none() {
        return refuse(
            &parts.headers,
            body,
            &state.body_limits,
            refused(ApiError::Unauthorized),
        );
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
                None => {
                    return refuse(
                        &parts.headers,
                        body,
                        &state.body_limits,
                        refused(ApiError::Overloaded),
                    );
                }
            }
        }
    };
    match login {
        Login::Accepted(user) => {
            tracing::Span::current().record("user", user.as_str());
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(User(user));
            next.run(request).await
        }
        Login::Throttled => refuse(
            &parts.headers,
            body,
            &state.body_limits,
            refused(ApiError::TooManyFailedLogins),
        ),
        Login::Refused => {
            // Each failure from the same address waits a little longer before the answer.
            let failures = state.auth.recent_failures(ip) as u64;
            tokio::time::sleep(Duration::from_millis(
                (failures.saturating_sub(1) * 250).min(2000),
            ))
            .await;
            refuse(
                &parts.headers,
                body,
                &state.body_limits,
                refused(ApiError::Unauthorized),
            )
        }
    }
}
