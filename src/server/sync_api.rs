//! `POST /api/sync`: the batch sync endpoint (envelope in `crate::sync`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;

use super::AppState;
use super::error::ApiError;
use super::store::StoreError;
use crate::sync::{
    DocFailure, DocMessage, FEED_PAGE, FailureCode, FeedDoc, MAX_DOCS_PER_REQUEST, PROTOCOL, StepError,
    SyncRequest, SyncResponse, server_step, valid_doc_id,
};

/// How often a document write is retried when another writer got there first.
const CAS_ATTEMPTS: usize = 8;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/sync", post(sync))
}

async fn sync(State(app): State<Arc<AppState>>, body: Bytes) -> Result<Json<SyncResponse>, ApiError> {
    let req: SyncRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Yêu cầu đồng bộ không hợp lệ: {e}")))?;
    if req.protocol != PROTOCOL {
        return Err(ApiError::BadRequest(format!(
            "Phiên bản giao thức {} không được hỗ trợ (máy chủ dùng {PROTOCOL}); hãy tải lại ứng dụng.",
            req.protocol
        )));
    }
    if req.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(ApiError::TooLarge(format!(
            "Một lần đồng bộ tối đa {MAX_DOCS_PER_REQUEST} tài liệu (nhận {}).",
            req.docs.len()
        )));
    }
    let store = app.store.as_ref();
    let cursor = if req.server.as_deref() == Some(store.server_id()) { req.cursor } else { 0 };

    let mut replies = Vec::new();
    let mut errors = Vec::new();
    // The version of each request document our reply was computed from.
    let mut answered: HashMap<String, u64> = HashMap::new();
    for DocMessage { id, message } in &req.docs {
        match sync_one(&app, id, message).await {
            Ok((reply, seq)) => {
                if let Some(seq) = seq {
                    answered.insert(id.clone(), seq);
                }
                if let Some(reply) = reply {
                    replies.push(DocMessage { id: id.clone(), message: reply });
                }
            }
            Err(failure) => {
                tracing::warn!(doc = %id, code = ?failure.code, reason = %failure.message, "document not synced");
                errors.push(failure);
            }
        }
    }

    let mut page = store.changed_since(cursor, FEED_PAGE + 1).await?;
    let more = page.len() > FEED_PAGE;
    page.truncate(FEED_PAGE);
    let next_cursor = page.last().map_or(cursor, |e| e.seq);
    let remaining = if more { store.count_since(next_cursor).await? } else { 0 };
    // A request document is left out of the feed only if our reply already covers that version;
    // if another writer changed it since (another request, another server), the cursor moves past
    // that change, so the document must come whole.
    let feed = page
        .into_iter()
        .filter(|e| answered.get(&e.id) != Some(&e.seq))
        .map(|e| FeedDoc { id: e.id, document: e.bytes })
        .collect();
    tracing::debug!(docs = req.docs.len(), cursor, next_cursor, more, "sync");
    Ok(Json(SyncResponse {
        protocol: PROTOCOL,
        server: store.server_id().to_string(),
        cursor: next_cursor,
        more,
        remaining,
        docs: replies,
        feed,
        errors,
    }))
}

/// Applies one document's message, retrying when a concurrent writer stored first. Returns the
/// reply and the stored version it reflects (`None`: the document does not exist here).
async fn sync_one(app: &AppState, id: &str, message: &[u8]) -> Result<(Option<Vec<u8>>, Option<u64>), DocFailure> {
    let fail = |code, message: &str| DocFailure { id: id.to_string(), code, message: message.to_string() };
    if !valid_doc_id(id) {
        return Err(fail(FailureCode::Malformed, "Mã tài liệu không hợp lệ."));
    }
    for _ in 0..CAS_ATTEMPTS {
        let stored = app
            .store
            .load(id)
            .await
            .map_err(|_| fail(FailureCode::Unavailable, "Máy chủ tạm thời không đọc được tài liệu; sẽ thử lại."))?;
        let step = match server_step(stored.as_ref().map(|s| s.bytes.as_slice()), message) {
            Ok(step) => step,
            Err(StepError::Malformed(e)) => {
                return Err(fail(FailureCode::Malformed, &format!("Dữ liệu đồng bộ của tài liệu bị hỏng: {e}")));
            }
            Err(StepError::Corrupt(e)) => {
                tracing::error!(doc = %id, error = %e, "stored document is corrupt");
                return Err(fail(FailureCode::Corrupt, "Bản lưu trên máy chủ của tài liệu này bị hỏng; hãy báo quản trị viên."));
            }
            Err(StepError::TooLarge(n)) => {
                return Err(fail(FailureCode::TooLarge, &format!("Tài liệu quá lớn ({} KB) nên máy chủ không nhận.", n / 1024)));
            }
        };
        let Some(bytes) = step.store else { return Ok((step.reply, stored.map(|s| s.seq))) };
        match app.store.put(id, &bytes, stored.map(|s| s.seq), super::now_ms()).await {
            Ok(seq) => return Ok((step.reply, Some(seq))),
            Err(StoreError::Conflict) => continue,
            Err(e) => {
                tracing::error!(doc = %id, error = %e, "store failed");
                return Err(fail(FailureCode::Unavailable, "Máy chủ tạm thời không lưu được tài liệu; sẽ thử lại."));
            }
        }
    }
    Err(fail(FailureCode::Unavailable, "Tài liệu đang được sửa đồng thời ở nơi khác; sẽ thử lại."))
}
