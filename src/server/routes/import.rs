//! `POST /api/import/models`: a model list sent from the app when it is online, imported straight
//! into the store by the same code as `danvan-server import-models` (`crate::server::import`),
//! as the signed-in caller. It is the path for lists too large for a browser to write quickly; the
//! app's offline import (documents written on the device, synced later) stays the default.
//!
//! The body is the file's bytes as chosen; the options are query parameters (`api::ImportRequest`):
//! the file's name, "good rows only", "dry run", and what each column holds as chosen in the
//! app's mapping step. The answer is `api::ImportResult`.
//!
//! What one request may cost, in the order it is checked:
//! - no session, no grant or a query the server cannot use: refused before a byte of the body is
//!   read (401, 403, 400); a declared length over [`IMPORT_BODY_BYTES`] is refused unread (413,
//!   `limits::limit_body`), and a length must be declared (411);
//! - one import at a time per server process ([`AppState::imports`]), taken before the body is
//!   read, so a burst of uploads holds one body in memory, not many: the others get a retryable
//!   503 with Retry-After;
//! - the body must arrive within [`body_deadline`] (a client stalling halfway frees the turn);
//! - reading: `read_upload` (CSV and XLSX only; inflated bytes bounded, cells kept sparse), then
//!   every row planned and checked by `check_import` against the caller's grants, as on a device
//!   and at `/api/sync`; nothing is written while any row is wrong unless good rows only are asked.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};

use crate::api::{ImportRequest, ImportResult};
use crate::import::Target;
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::server::import::{ImportFailure, ImportOptions, import_models_as};
use crate::server::session::Caller;

/// The most a file sent to the server may weigh (a province's 78,494 models in 14 columns is
/// 3.5 MB as XLSX, 24 MB as CSV: `cargo bench --bench import`).
pub const IMPORT_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Errors listed in the answer (all are counted; the app lists the device's own plan anyway).
const ERRORS_SHOWN: usize = 500;
/// Fields a device may add to the standard ones, and their length.
const MAX_CUSTOM_FIELDS: usize = 100;
const MAX_FIELD_CHARS: usize = 200;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/import/models", post(import_models))
}

/// How long a body of `bytes` may take to arrive: a minute, plus its size at 2 KB/s (a 2G link
/// sharing its sky).
pub fn body_deadline(bytes: u64) -> Duration {
    Duration::from_secs(60 + bytes / 2048)
}

fn parse_columns(json: &str) -> Result<Vec<Target>, ApiError> {
    let codes: Vec<String> =
        serde_json::from_str(json).map_err(|_| ApiError::BadRequest("Tham số columns phải là một danh sách mã cột (JSON).".into()))?;
    if codes.len() > crate::import::read::MAX_COLUMNS as usize {
        return Err(ApiError::BadRequest(format!("Tham số columns có {} cột, nhiều hơn {} cột một tệp có thể có.", codes.len(), crate::import::read::MAX_COLUMNS)));
    }
    codes
        .iter()
        .map(|code| Target::from_code(code).ok_or_else(|| ApiError::BadRequest(format!("“{}” không phải mã cột.", code.chars().take(40).collect::<String>()))))
        .collect()
}

fn parse_custom_fields(json: &str) -> Result<Vec<String>, ApiError> {
    let fields: Vec<String> =
        serde_json::from_str(json).map_err(|_| ApiError::BadRequest("Tham số custom_fields phải là một danh sách tên lĩnh vực (JSON).".into()))?;
    if fields.len() > MAX_CUSTOM_FIELDS || fields.iter().any(|f| f.chars().count() > MAX_FIELD_CHARS) {
        return Err(ApiError::BadRequest(format!("Tối đa {MAX_CUSTOM_FIELDS} lĩnh vực thêm, mỗi tên tối đa {MAX_FIELD_CHARS} ký tự.")));
    }
    Ok(fields)
}

fn valid_file_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= 255 && !name.chars().any(char::is_control)
}

async fn import_models(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<ImportRequest>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportResult>, ApiError> {
    let Query(request) = query.map_err(|_| ApiError::BadRequest("Thiếu tên tệp (file) hoặc tham số không hợp lệ.".into()))?;
    if !valid_file_name(&request.file) {
        return Err(ApiError::BadRequest("Tên tệp không hợp lệ (trống, quá 255 ký tự hoặc có ký tự điều khiển).".into()));
    }
    if caller.user.grants.is_empty() {
        return Err(ApiError::Forbidden("Tài khoản của bạn không có quyền nhập mô hình cho đơn vị nào.".into()));
    }
    let mapping = request.columns.as_deref().map(parse_columns).transpose()?;
    let custom_fields = request.custom_fields.as_deref().map(parse_custom_fields).transpose()?.unwrap_or_default();
    let Some(length) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) else {
        return Err(ApiError::LengthRequired("Hãy gửi tệp kèm độ dài (Content-Length).".into()));
    };
    // The turn is taken before the body is read: waiting uploads hold no memory.
    let Ok(_turn) = app.imports.try_acquire() else {
        return Err(ApiError::Busy("Máy chủ đang nhập một tệp khác. Hãy thử lại sau ít phút.".into(), 30));
    };
    let bytes = match tokio::time::timeout(body_deadline(length), axum::body::to_bytes(body, IMPORT_BODY_BYTES)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(ApiError::BadRequest("Tệp gửi lên bị ngắt giữa chừng. Hãy gửi lại.".into())),
        Err(_) => return Err(ApiError::TimedOut("Tệp gửi lên quá chậm nên máy chủ đã dừng nhận. Hãy gửi lại khi sóng ổn định hơn.".into())),
    };
    let options = ImportOptions {
        good_rows_only: request.good_rows_only,
        dry_run: request.dry_run,
        columns: Vec::new(),
        mapping,
        uploaded: true,
        custom_fields,
    };
    let outcome = import_models_as(app.store.as_ref(), &caller.user, caller.tree.clone(), &request.file, bytes.to_vec(), &options, crate::server::now_ms())
        .await
        .map_err(|e| match e {
            ImportFailure::Read(e) => ApiError::Invalid(e.to_string(), Vec::new()),
            ImportFailure::Columns(problems) => ApiError::Invalid("Các cột của tệp chưa rõ.".into(), problems),
            // The command line's sentence, capitalised, as its own text (the app translates it).
            ImportFailure::MappingMismatch { sent, headers } => {
                ApiError::BadRequest(format!("Cách ghép cột gửi kèm có {sent} cột, tệp có {headers} cột: hãy chọn lại tệp"))
            }
            ImportFailure::NoUser(_) | ImportFailure::Disabled(_) => ApiError::Unauthorized("Tài khoản không còn dùng được. Hãy đăng nhập lại.".into()),
            ImportFailure::Store(e) => ApiError::Store(e),
            ImportFailure::Crashed(e) => ApiError::Internal(e),
        })?;
    tracing::info!(
        user = %caller.user.username,
        file = %request.file,
        rows = outcome.rows,
        created = outcome.created,
        already = outcome.already,
        errors = outcome.errors.len(),
        written = outcome.written,
        "models imported through the server"
    );
    Ok(Json(ImportResult {
        rows: outcome.rows,
        created: outcome.created,
        already: outcome.already,
        bad_rows: crate::import::bad_rows(&outcome.errors),
        errors: outcome.errors.iter().take(ERRORS_SHOWN).map(ToString::to_string).collect(),
        unknown_units: outcome.unknown_units,
        written: outcome.written,
    }))
}
