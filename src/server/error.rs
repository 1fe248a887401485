//! The one error type of the HTTP API: logs internals, tells the client only what it can act on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::store::StoreError;
use crate::api::PhotoStatus;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is wrong; retrying the same bytes will fail again.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    /// A body sent without its length where the route needs it up front.
    #[error("{0}")]
    LengthRequired(String),
    /// The body did not arrive in time; sending it again may work.
    #[error("{0}")]
    TimedOut(String),
    /// No valid session: the client stops syncing and asks the user to sign in again.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Too many attempts; try again after this many seconds.
    #[error("{0}")]
    TooManyRequests(String, u64),
    /// The server is saturated (too many sign-ins or syncs at once); try again after this many
    /// seconds. Nothing about the request is wrong.
    #[error("{0}")]
    Busy(String, u64),
    /// Depends on something that has not reached the server yet (a photo of a document not synced
    /// yet); the client retries later.
    #[error("{0}")]
    NotYet(String),
    /// A photo chunk that does not start where the upload stands: the client resumes from the
    /// status sent with the error.
    #[error("{0}")]
    OutOfStep(String, PhotoStatus),
    /// The bytes arrived damaged (a photo whose hash is not its id); the client sends them again.
    #[error("{0}")]
    Damaged(String),
    /// Input understood but refused, with one reason per problem (e.g. rows of an imported file).
    #[error("{0}")]
    Invalid(String, Vec<String>),
    /// Storage failed; the client should retry later.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A bug or a crashed worker; logged, the client retries.
    #[error("internal: {0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, retryable) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone(), false),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m.clone(), false),
            ApiError::LengthRequired(m) => (StatusCode::LENGTH_REQUIRED, m.clone(), false),
            ApiError::TimedOut(m) => (StatusCode::REQUEST_TIMEOUT, m.clone(), true),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone(), false),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone(), false),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone(), false),
            ApiError::Invalid(m, problems) => {
                tracing::warn!(%m, problems = problems.len(), "refused input");
                let body = json!({ "error": m, "problems": problems, "retryable": false });
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            ApiError::NotYet(m) => (StatusCode::CONFLICT, m.clone(), true),
            ApiError::Damaged(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone(), true),
            ApiError::OutOfStep(m, status) => {
                let body = json!({ "error": m, "retryable": true, "received": status.received, "complete": status.complete });
                return (StatusCode::CONFLICT, Json(body)).into_response();
            }
            ApiError::TooManyRequests(m, after) => {
                tracing::warn!(%m, "rate limited");
                let body = json!({ "error": m, "retryable": true });
                return (StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, after.to_string())], Json(body))
                    .into_response();
            }
            ApiError::Busy(m, after) => {
                tracing::warn!(%m, "busy");
                let body = json!({ "error": m, "retryable": true });
                return (StatusCode::SERVICE_UNAVAILABLE, [(axum::http::header::RETRY_AFTER, after.to_string())], Json(body))
                    .into_response();
            }
            ApiError::Store(e) => {
                tracing::error!(error = %e, "storage failure");
                (StatusCode::SERVICE_UNAVAILABLE, "Máy chủ tạm thời không lưu được dữ liệu; sẽ thử lại.".to_string(), true)
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal failure");
                (StatusCode::INTERNAL_SERVER_ERROR, "Máy chủ gặp lỗi nội bộ; sẽ thử lại.".to_string(), true)
            }
        };
        if !retryable {
            tracing::warn!(%status, %message, "rejected request");
        }
        (status, Json(json!({ "error": message, "retryable": retryable }))).into_response()
    }
}
