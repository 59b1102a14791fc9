//! Every way a request can be answered with something other than a check: the code the
//! spec gives it, its HTTP status, the headers it needs and what to tell the client. A
//! handler returns one and never picks a status or spells a code itself.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::wire::{LivenessResponse, SideResult};

/// Why a request got no check result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or wrong ones.
    #[error("missing or wrong credentials (HTTP Basic authentication)")]
    Unauthorized,
    /// Too many failed logins from the client's address.
    #[error("too many failed logins from this address; try again in a minute")]
    TooManyFailedLogins,
    /// The body is over the size limit (bytes).
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body did not arrive in time (whole-body and stall limits, seconds).
    #[error("the request body did not arrive within {within} s, or paused for over {stall} s")]
    RequestTimeout {
        /// Longest the whole body may take.
        within: u64,
        /// Longest the body may pause.
        stall: u64,
    },
    /// The request is not one this API understands (why).
    #[error("{0}")]
    InvalidRequest(String),
    /// The server is at capacity.
    #[error("the server is at capacity; retry shortly")]
    Overloaded,
    /// The analysis did not finish within the request time-out.
    #[error("the analysis took too long")]
    Timeout,
    /// No liveness model is installed, so no score can be given.
    #[error("no liveness model is installed on this server, so no score can be given")]
    ModelNotInstalled,
    /// Something failed on the server's side (what, for the client).
    #[error("{0}")]
    Internal(String),
    /// No such endpoint.
    #[error("no such endpoint")]
    NotFound,
    /// The endpoint takes another method.
    #[error("use POST with a JSON body")]
    MethodNotAllowed,
}

impl ApiError {
    /// Every code this enum answers with, for the API description.
    pub const CODES: [&'static str; 11] = [
        "UNAUTHORIZED",
        "TOO_MANY_FAILED_LOGINS",
        "PAYLOAD_TOO_LARGE",
        "REQUEST_TIMEOUT",
        "INVALID_REQUEST",
        "OVERLOADED",
        "TIMEOUT",
        "MODEL_NOT_INSTALLED",
        "INTERNAL_ERROR",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
    ];

    /// The spec's code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "UNAUTHORIZED",
            ApiError::TooManyFailedLogins => "TOO_MANY_FAILED_LOGINS",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::RequestTimeout { .. } => "REQUEST_TIMEOUT",
            ApiError::InvalidRequest(_) => "INVALID_REQUEST",
            ApiError::Overloaded => "OVERLOADED",
            ApiError::Timeout => "TIMEOUT",
            ApiError::ModelNotInstalled => "MODEL_NOT_INSTALLED",
            ApiError::Internal(_) => "INTERNAL_ERROR",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::TooManyFailedLogins => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Overloaded | ApiError::Timeout | ApiError::ModelNotInstalled => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// Seconds a client should wait before trying again, where waiting helps.
    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyFailedLogins => Some(60),
            ApiError::Overloaded => Some(1),
            ApiError::Timeout => Some(5),
            _ => None,
        }
    }

    /// The spec's error body for a request with `session_id`.
    pub fn body(&self, session_id: String) -> LivenessResponse {
        LivenessResponse::error(session_id, self.code(), self.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Rejection::new(self, String::new()).into_response()
    }
}

/// An error answer to a request whose body was read: it echoes the session id, and
/// carries the sides' results where they were analysed before the check failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// Why.
    pub error: ApiError,
    /// The body sent (boxed: an error is the rare path and need not widen every reply).
    pub response: Box<LivenessResponse>,
}

impl Rejection {
    /// The error for the request with `session_id`.
    pub fn new(error: ApiError, session_id: String) -> Rejection {
        let response = Box::new(error.body(session_id));
        Rejection { error, response }
    }

    /// With the sides' results as analysed.
    pub fn with_sides(mut self, front: Option<SideResult>, back: Option<SideResult>) -> Rejection {
        self.response.front = front;
        self.response.back = back;
        self
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut r = (self.error.status(), Json(*self.response)).into_response();
        if let Some(seconds) = self.error.retry_after() {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.error == ApiError::Unauthorized {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"docliveness\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every() -> Vec<ApiError> {
        vec![
            ApiError::Unauthorized,
            ApiError::TooManyFailedLogins,
            ApiError::PayloadTooLarge(10),
            ApiError::RequestTimeout {
                within: 30,
                stall: 10,
            },
            ApiError::InvalidRequest("x".into()),
            ApiError::Overloaded,
            ApiError::Timeout,
            ApiError::ModelNotInstalled,
            ApiError::Internal("x".into()),
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
        ]
    }

    #[test]
    fn every_error_has_a_listed_code_and_an_error_status() {
        let codes: Vec<&str> = every().iter().map(ApiError::code).collect();
        assert_eq!(codes, ApiError::CODES);
        for e in every() {
            assert!(
                e.status().is_client_error() || e.status().is_server_error(),
                "{e:?}"
            );
        }
    }

    #[test]
    fn the_response_carries_status_code_message_and_headers() {
        let r = Rejection::new(ApiError::Unauthorized, "s1".into());
        assert_eq!(r.response.error.as_deref(), Some("UNAUTHORIZED"));
        assert_eq!(r.response.session_id, "s1");
        assert!(r.response.has_error);
        let response = r.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        let response = ApiError::Overloaded.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = ApiError::PayloadTooLarge(1000).body(String::new());
        assert_eq!(
            body.message.as_deref(),
            Some("the request body is larger than 1000 bytes")
        );
    }
}
