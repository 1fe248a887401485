//! Calls to the server's JSON API (sign-in, invitations, administration). Unlike sync these need
//! the network now; every failure comes back as one Vietnamese sentence the page can show
//! (through `i18n::tr`: the server's answers and these are in the English catalogue).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ErrorBody;

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// HTTP status, 0 when the server could not be reached.
    pub status: u16,
    pub message: String,
    /// One line per problem (a refused import's rows).
    pub problems: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub enum Body<'a> {
    None,
    /// JSON text: written once with `to_string`, the one serializer per type the app already
    /// has (a `serde_json::Value` in between compiled a second one per type).
    Json(String),
    Text(&'a str),
    /// A file as it was chosen (a model list sent to the server's import).
    File(Vec<u8>),
}

pub fn json<T: Serialize>(value: &T) -> Body<'static> {
    Body::Json(serde_json::to_string(value).unwrap_or_default())
}

pub fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// How long a call may take before it is given up: a dead link (the bars show signal, nothing
/// moves) must end in a message, not a spinner forever. Long enough for a small JSON answer over
/// 2G; a body adds the time it needs at 4 KB/s (a unit tree's CSV import).
const CALL_TIMEOUT_SECS: u64 = 30;
const SLOWEST_UPLOAD_BYTES_PER_SEC: u64 = 4 * 1024;
/// What the server may spend on a file once it has it: a province's whole list (78,494 models) is
/// about a minute on a small server (`cargo bench --bench import`), with room for a busy one.
const FILE_PROCESSING_SECS: u64 = 300;

fn timeout_for(body: &Body<'_>) -> std::time::Duration {
    let bytes = match body {
        Body::None => 0,
        Body::Json(v) => v.len() as u64,
        Body::Text(t) => t.len() as u64,
        Body::File(f) => f.len() as u64 + FILE_PROCESSING_SECS * SLOWEST_UPLOAD_BYTES_PER_SEC,
    };
    std::time::Duration::from_secs(CALL_TIMEOUT_SECS + bytes / SLOWEST_UPLOAD_BYTES_PER_SEC)
}

pub async fn call<T: DeserializeOwned>(method: reqwest::Method, path: &str, token: Option<&str>, body: Body<'_>) -> Result<T, Failure> {
    // reqwest's wasm client aborts the fetch (AbortController) when the timeout passes, body
    // included: the guard lives as long as the response.
    let timeout = timeout_for(&body);
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", origin())).timeout(timeout);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match body {
        Body::None => req,
        Body::Json(v) => req.header("content-type", "application/json").body(v),
        Body::Text(t) => req.header("content-type", "text/csv; charset=utf-8").body(t.to_string()),
        Body::File(f) => req.header("content-type", "application/octet-stream").body(f),
    };
    let unreachable = |e: reqwest::Error| Failure {
        status: 0,
        message: if e.is_timeout() {
            format!(
                "Máy chủ không trả lời sau {} giây: đường truyền có thể đã mất. Hãy thử lại khi sóng ổn định hơn.",
                timeout.as_secs()
            )
        } else {
            "Không kết nối được máy chủ. Việc này cần có mạng; hãy thử lại khi có sóng.".into()
        },
        problems: Vec::new(),
    };
    let res = req.send().await.map_err(unreachable)?;
    let status = res.status().as_u16();
    // Bodies are read as text and parsed with `from_str`, never `Response::json` (`from_slice`):
    // one serde_json reader per type in the wasm instead of two (issue 15: the types the app
    // also reads from storage as strings were compiled twice).
    let ok = res.status().is_success();
    let text = res.text().await;
    if ok {
        let unreadable = |e: &dyn std::fmt::Display| Failure { status, message: format!("Phản hồi của máy chủ không đọc được: {e}"), problems: Vec::new() };
        let text = text.map_err(|e| if e.is_timeout() { unreachable(e) } else { unreadable(&e) })?;
        return serde_json::from_str::<T>(&text).map_err(|e| unreadable(&e));
    }
    let body: ErrorBody = text.ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    let message = if body.error.is_empty() { format!("Máy chủ trả lời lỗi {status}.") } else { body.error };
    Err(Failure { status, message, problems: body.problems })
}
