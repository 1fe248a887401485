//! The one error type of the HTTP API: logs internals, tells the client only what it can act on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is wrong; retrying the same bytes will fail again.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
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
