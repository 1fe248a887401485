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
//!
//! What is taken (the rules an upload must pass, in this order; each refusal says why):
//! - only images: the first chunk must start with the magic bytes of the type declared (JPEG, PNG,
//!   WebP), and the complete photo's header must give its sides (JPEG SOF, PNG IHDR, WebP
//!   VP8/VP8L/VP8X) within 1..=[`MAX_SIDE_PX`]; it is stored, and served, as the type its bytes
//!   are, never as what the client claimed (422 otherwise);
//! - chunks of at least [`MIN_CHUNK_BYTES`] but the last (each append is a database write; 400);
//! - only photos an entry of the model's activity log shows, in the document as the server holds
//!   it: the app uploads a photo only after the entry that shows it has synced, so an upload ahead
//!   of its entry is told to come back later (409, retryable), and bytes nobody refers to are never
//!   taken;
//! - at most [`LIMITS`]`.per_model` photos per model (422) and `.per_user_day` new uploads per
//!   user in 24 hours (429 with Retry-After); a photo already complete on the server is not new.
//!
//! The sweeper ([`sweep`], hourly and at start) deletes complete photos no entry shows any more
//! once [`UNREFERENCED_AFTER_MS`] past their upload, uploads with no chunk for
//! [`ABANDONED_AFTER_MS`], and expired sessions and invitations.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::server::AppState;
use crate::server::photos::{LIMITS, MAX_CHUNK_BYTES, MAX_PHOTO_BYTES, MIN_CHUNK_BYTES, PHOTO_TYPES, image_type, journal_photos, type_name};
use crate::server::session::Caller;
use crate::server::error::ApiError;
use crate::server::store::{DocVersion, PhotoAppend, PhotoChunk};
use crate::api::PhotoStatus;
use crate::domain::Access;
use crate::sync::valid_doc_id;

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
    if body.len() < MIN_CHUNK_BYTES && offset + (body.len() as u64) < total {
        return Err(ApiError::BadRequest(format!(
            "Mỗi lần gửi ảnh (trừ lần cuối) phải từ {} KiB trở lên.",
            MIN_CHUNK_BYTES / 1024
        )));
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
    // A (re)started upload: the bytes must be the image declared, and an entry must show it.
    // Later chunks continue an upload that passed both.
    if offset == 0 {
        let found = image_type(&body);
        if found != Some(content_type.as_str()) {
            let declared = type_name(&content_type);
            let reason = match found {
                Some(other) => format!("Dữ liệu gửi lên là ảnh {}, không phải {declared} như đã khai báo.", type_name(other)),
                None => format!("Dữ liệu gửi lên không phải ảnh {declared} (phần đầu tệp không đúng)."),
            };
            return Err(refused_content(&doc_id, &photo_id, &caller, reason));
        }
        if !shown_in_journal(&app, &doc_id, &photo_id).await? {
            return Err(ApiError::NotYet(
                "Chưa có mục nào trong nhật ký hoạt động của mô hình trên máy chủ dùng ảnh này; ảnh sẽ được gửi sau khi mục đó được đồng bộ."
                    .into(),
            ));
        }
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
    match app.store.append_photo(chunk, &LIMITS, crate::server::now_ms()).await? {
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
        PhotoAppend::NotAnImage(reason) => Err(refused_content(&doc_id, &photo_id, &caller, reason)),
        PhotoAppend::ModelFull => Err(ApiError::Invalid(
            format!("Mô hình đã có {} ảnh minh chứng, mức tối đa; không thêm được ảnh mới.", LIMITS.per_model),
            Vec::new(),
        )),
        PhotoAppend::UserDayFull { retry_after_ms } => Err(ApiError::TooManyRequests(
            format!(
                "Trong 24 giờ qua bạn đã gửi {} ảnh mới, mức tối đa; ảnh còn lại sẽ được gửi sau.",
                LIMITS.per_user_day
            ),
            (retry_after_ms.max(1000) as u64).div_ceil(1000),
        )),
    }
}

/// 422 for bytes that are not the image they should be (logged: a client that sends them is not
/// the app).
fn refused_content(doc_id: &str, photo_id: &str, caller: &Caller, reason: String) -> ApiError {
    tracing::warn!(%doc_id, %photo_id, user = %caller.user.username, %reason, "photo upload is not an image; refused");
    ApiError::Invalid(reason, Vec::new())
}

/// Whether an entry of the model's activity log, as the server holds the document, shows the photo.
async fn shown_in_journal(app: &AppState, doc_id: &str, photo_id: &str) -> Result<bool, ApiError> {
    let Some(stored) = app.store.load(doc_id).await? else { return Ok(false) };
    let shown = tokio::task::spawn_blocking(move || journal_photos(&stored))
        .await
        .map_err(|e| ApiError::Internal(format!("reading the photos of {doc_id}: {e}")))?;
    Ok(shown.is_some_and(|ids| ids.contains(photo_id)))
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
