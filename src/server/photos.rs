//! `/api/photos/{doc_id}/{photo_id}`: photos attached to a model (evidence in its activity log),
//! uploaded in chunks that resume after a cut, and downloaded whole.
//!
//! A photo is named by the lowercase hex SHA-256 of its bytes; the document refers to it by that
//! id, and the bytes travel only here, after the document itself has reached the server (its owner
//! decides who may upload and read). The upload is a sequence of `PUT …?offset=N&total=T`, each
//! accepted only at the offset the server stands at, so a chunk re-sent after a lost reply, or a
//! chunk of a second device uploading the same photo, never corrupts it; the last chunk is checked
//! against the id before the photo counts as complete.
//!
//! Permissions: reading follows `may_read` (one place); uploading needs to be one of the owning
//! unit's cadres (reviewers read, they do not add evidence). A caller who may not read the
//! document gets 404, as if it did not exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::store::{DocVersion, PhotoAppend, PhotoChunk};
use crate::api::PhotoStatus;
use crate::domain::Access;
use crate::sync::valid_doc_id;

/// Largest photo accepted (the browser resizes photos to about 100–600 KB).
pub const MAX_PHOTO_BYTES: u64 = 5 * 1024 * 1024;
/// Largest chunk of one `PUT`.
pub const MAX_CHUNK_BYTES: usize = 256 * 1024;
/// The image types a photo may be stored as.
pub const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/photos/{doc_id}/{photo_id}", get(download).put(upload))
        .route("/api/photos/{doc_id}/{photo_id}/status", get(status))
        // Below the API's general limit: this router's requests stop reading at one chunk.
        .layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES))
}

/// Who may see a document's photos. The one place of this rule.
fn may_read(access: &Access, version: &DocVersion) -> bool {
    // A library model's evidence is read with it, by everyone.
    version.public || access.can_read(&version.unit)
}

fn valid_photo_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_ids(doc_id: &str, photo_id: &str) -> Result<(), ApiError> {
    if !valid_doc_id(doc_id) {
        return Err(ApiError::BadRequest("Mã mô hình không hợp lệ.".into()));
    }
    if !valid_photo_id(photo_id) {
        return Err(ApiError::BadRequest("Mã ảnh không hợp lệ (cần 64 ký tự thập lục phân viết thường).".into()));
    }
    Ok(())
}

fn not_found() -> ApiError {
    ApiError::NotFound("Không tìm thấy ảnh.".into())
}

/// The stored document `doc_id`, if it exists and the caller may read it (else 404).
async fn readable(app: &AppState, caller: &Caller, doc_id: &str) -> Result<DocVersion, ApiError> {
    let version = app.store.versions(&[doc_id.to_string()]).await?.remove(doc_id).ok_or_else(not_found)?;
    if !may_read(&caller.access, &version) {
        return Err(not_found());
    }
    Ok(version)
}

#[derive(Deserialize)]
struct Upload {
    offset: u64,
    total: u64,
}

async fn upload(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((doc_id, photo_id)): Path<(String, String)>,
    query: Result<Query<Upload>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PhotoStatus>, ApiError> {
    check_ids(&doc_id, &photo_id)?;
    let Query(Upload { offset, total }) =
        query.map_err(|_| ApiError::BadRequest("Thiếu vị trí (offset) hoặc kích thước ảnh (total).".into()))?;
    if total > MAX_PHOTO_BYTES {
        return Err(ApiError::TooLarge(format!(
            "Ảnh quá lớn ({:.1} MB); tối đa {} MB.",
            total as f64 / 1_048_576.0,
            MAX_PHOTO_BYTES / 1_048_576
        )));
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge(format!("Mỗi lần gửi ảnh tối đa {} KiB.", MAX_CHUNK_BYTES / 1024))
        }
        _ => ApiError::BadRequest(format!("Không đọc được dữ liệu ảnh: {e}")),
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|t| PHOTO_TYPES.contains(&t.as_str()))
        .ok_or_else(|| ApiError::BadRequest("Ảnh phải là JPEG, PNG hoặc WebP.".into()))?;
    if total == 0 || body.is_empty() {
        return Err(ApiError::BadRequest("Ảnh rỗng.".into()));
    }
    if offset.checked_add(body.len() as u64).is_none_or(|end| end > total) {
        return Err(ApiError::BadRequest("Dữ liệu ảnh vượt quá kích thước đã khai báo.".into()));
    }

    let Some(version) = app.store.versions(std::slice::from_ref(&doc_id)).await?.remove(&doc_id) else {
        return Err(ApiError::NotYet("Mô hình chưa được đồng bộ lên máy chủ; ảnh sẽ được gửi sau.".into()));
    };
    if !may_read(&caller.access, &version) {
        return Err(not_found());
    }
    if !caller.access.roles_for(&version.unit).cadre {
        return Err(ApiError::Forbidden("Chỉ cán bộ của đơn vị sở hữu mô hình mới thêm được ảnh minh chứng.".into()));
    }

    let chunk = PhotoChunk {
        doc_id: doc_id.clone(),
        id: photo_id.clone(),
        content_type,
        offset,
        total,
        bytes: body.to_vec(),
        by: caller.user.username.clone(),
    };
    match app.store.append_photo(chunk, super::now_ms()).await? {
        PhotoAppend::Stored(status) => Ok(Json(status)),
        // Complete already: a chunk re-sent after its reply was lost succeeds.
        PhotoAppend::OutOfStep(status) if status.complete => Ok(Json(status)),
        PhotoAppend::OutOfStep(status) => Err(ApiError::OutOfStep(
            format!("Máy chủ đã nhận {} byte của ảnh; hãy gửi tiếp từ đó.", status.received),
            status,
        )),
        PhotoAppend::WrongTotal(stored) => Err(ApiError::BadRequest(format!(
            "Kích thước ảnh ({total} byte) khác với lúc bắt đầu gửi ({stored} byte)."
        ))),
        PhotoAppend::Corrupt => {
            tracing::warn!(%doc_id, %photo_id, user = %caller.user.username, "photo upload does not match its hash; discarded");
            Err(ApiError::Damaged("Ảnh bị hỏng trên đường truyền; sẽ gửi lại từ đầu.".into()))
        }
    }
}

async fn status(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((doc_id, photo_id)): Path<(String, String)>,
) -> Result<Json<PhotoStatus>, ApiError> {
    check_ids(&doc_id, &photo_id)?;
    readable(&app, &caller, &doc_id).await?;
    Ok(Json(app.store.photo_status(&doc_id, &photo_id).await?.unwrap_or_default()))
}

async fn download(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((doc_id, photo_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_ids(&doc_id, &photo_id)?;
    readable(&app, &caller, &doc_id).await?;
    let (content_type, bytes) = app.store.photo(&doc_id, &photo_id).await?.ok_or_else(not_found)?;
    // Stored types are only those of PHOTO_TYPES; anything else would be a damaged row.
    let content_type = HeaderValue::from_str(&content_type)
        .map_err(|_| ApiError::Internal(format!("photo {doc_id}/{photo_id}: stored content type {content_type:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // Named by its hash: the bytes under this URL never change.
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable")),
        ],
        bytes,
    )
        .into_response())
}
