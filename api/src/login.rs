//! The login layer in front of the check endpoint: throttling of addresses that fail too
//! often, HTTP Basic credentials checked (Argon2 on a few dedicated threads, a short
//! cache of recent successes), the user named in the access log. A refused request is
//! answered at once, its body left unread.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use super::auth::Login;
use super::body::refuse;
use super::error::ApiError;
use super::routes::AppState;

/// Longest a request waits for a free password thread.
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// The layer: lets a request through, or answers it without reading its body.
pub async fn require_login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    match login(&state, client.ip(), &parts.headers).await {
        Ok(user) => {
            tracing::Span::current().record("user", user.as_str());
            next.run(Request::from_parts(parts, body)).await
        }
        Err(error) => refuse(&parts.headers, body, &state.body_limits, error),
    }
}

/// The user whose credentials the request carries, or why it is refused.
async fn login(state: &AppState, ip: IpAddr, headers: &HeaderMap) -> Result<String, ApiError> {
    // A changed users file is in force from the next request on (a stat, once a second).
    state.auth.refresh();
    if state.auth.is_throttled(ip) {
        return Err(ApiError::TooManyFailedLogins);
    }
    // No credentials at all: the challenge, at once and without counting as a failure.
    let Some(authorization) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return Err(ApiError::Unauthorized);
    };
    // Recently verified credentials need no Argon2; the rest wait for one of the few
    // password threads.
    let login = match state.auth.cached(Some(&authorization)) {
        Some(user) => Login::Accepted(user),
        None => {
            let auth = Arc::clone(&state.auth);
            let check = move || auth.login(ip, Some(&authorization));
            state
                .passwords
                .run(AUTH_WAIT, check)
                .await
                .ok_or(ApiError::Overloaded)?
        }
    };
    match login {
        Login::Accepted(user) => Ok(user),
        Login::Throttled => Err(ApiError::TooManyFailedLogins),
        Login::Refused => {
            // Each failure from the same address waits a little longer before the answer.
            let failures = state.auth.recent_failures(ip) as u64;
            tokio::time::sleep(Duration::from_millis(
                (failures.saturating_sub(1) * 250).min(2000),
            ))
            .await;
            Err(ApiError::Unauthorized)
        }
    }
}
