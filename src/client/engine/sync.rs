//! The sync session on this device: the shared `crate::sync::session` with the engine's storage,
//! and the app's transport and progress as JavaScript callbacks. The app keeps what is about the
//! network and the screen — when to sync, the request's deadlines (`sync::pace`), the status —
//! and this module what is about documents: the automerge messages, the feed stored page by page.

use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::api::{self, SyncFailure, SyncOutcome};
use super::{Engine, engine};
use crate::client::local::settings;
use crate::client::local::storage::{DocRecord, StorageError};
use crate::sync::session::{self, Cursor, LocalDocs, Observer, Transport};
use crate::sync::{SyncRequest, SyncResponse};

fn method(object: &JsValue, name: &str) -> Result<Function, String> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| format!("thiếu hàm {name} của phần đồng bộ"))
}

/// Runs one session. `app` is the app's side: `post(Uint8Array) -> Promise<Uint8Array>` (rejects
/// with the JSON of a `SyncFailure`), `feed_budget() -> number`, `request_bytes() -> number`,
/// `server_replaced() -> Promise`, `progress(done, total)`, `arriving(received, remaining)`.
pub async fn sync(app: JsValue) -> Result<SyncOutcome, SyncFailure> {
    let engine = engine().map_err(SyncFailure::Other)?;
    let calls = AppCalls::new(&app).map_err(SyncFailure::Other)?;
    let docs = EngineDocs { engine: &engine, calls: &calls };
    let transport = AppTransport { calls: &calls };
    let mut observer = AppObserver { engine: &engine, calls: &calls };
    match session::run_session(&docs, &transport, &mut observer).await {
        Ok(report) => Ok(SyncOutcome { rejected: report.rejected }),
        Err(session::SessionError::Transport(failure)) => Err(failure),
        Err(e) => Err(SyncFailure::Other(e.to_string())),
    }
}

struct AppCalls {
    post: Function,
    feed_budget: Function,
    request_bytes: Function,
    server_replaced: Function,
    progress: Function,
    arriving: Function,
}

impl AppCalls {
    fn new(app: &JsValue) -> Result<AppCalls, String> {
        Ok(AppCalls {
            post: method(app, "post")?,
            feed_budget: method(app, "feed_budget")?,
            request_bytes: method(app, "request_bytes")?,
            server_replaced: method(app, "server_replaced")?,
            progress: method(app, "progress")?,
            arriving: method(app, "arriving")?,
        })
    }

    fn number(&self, f: &Function) -> Option<f64> {
        f.call0(&JsValue::NULL).ok().and_then(|v| v.as_f64())
    }
}

async fn promise(value: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let promise: Promise = value?.dyn_into()?;
    JsFuture::from(promise).await
}

/// The app's transport rejects with the bytes of a `SyncFailure`; anything else is said as it is.
fn failure(e: JsValue) -> SyncFailure {
    api::from_js::<SyncFailure>(&e)
        .unwrap_or_else(|_| SyncFailure::Other(e.as_string().unwrap_or_else(|| "lỗi không rõ khi gửi yêu cầu đồng bộ".into())))
}

struct AppTransport<'a> {
    calls: &'a AppCalls,
}

impl Transport for AppTransport<'_> {
    type Error = SyncFailure;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, SyncFailure> {
        let body = Uint8Array::from(crate::sync::encode(request).as_slice());
        let answer = promise(self.calls.post.call1(&JsValue::NULL, &body)).await.map_err(failure)?;
        let bytes = answer.dyn_into::<Uint8Array>().map_err(|_| SyncFailure::Other("phản hồi đồng bộ không phải dữ liệu nhị phân".into()))?.to_vec();
        crate::sync::decode(&bytes).map_err(|e| SyncFailure::Other(format!("Không kết nối được máy chủ (phản hồi không đọc được: {e}). Sẽ thử lại.")))
    }
    fn feed_budget(&self) -> Option<u32> {
        self.calls.number(&self.calls.feed_budget).map(|n| n as u32)
    }
    fn request_bytes(&self) -> usize {
        self.calls.number(&self.calls.request_bytes).map_or(session::REQUEST_BYTES, |n| n as usize)
    }
}

/// The device's documents, as the session needs them.
struct EngineDocs<'a> {
    engine: &'a Rc<Engine>,
    calls: &'a AppCalls,
}

impl LocalDocs for EngineDocs<'_> {
    type Error = StorageError;
    async fn dirty_ids(&self) -> Result<Vec<String>, StorageError> {
        self.engine.store.dirty_ids().await
    }
    async fn all_ids(&self) -> Result<Vec<String>, StorageError> {
        self.engine.store.all_ids().await
    }
    async fn get(&self, id: &str) -> Result<Option<DocRecord>, StorageError> {
        self.engine.store.get(id).await
    }
    async fn update_each<F>(&self, ids: &[String], f: F) -> Result<Vec<DocRecord>, StorageError>
    where
        F: FnMut(&str, Option<DocRecord>) -> Option<DocRecord>,
    {
        self.engine.store.update_each(ids, f).await
    }
    fn cursor(&self) -> Cursor {
        settings::load_cursor()
    }
    fn set_cursor(&self, cursor: &Cursor) {
        settings::save_cursor(cursor)
    }
    /// The app lists photos for upload again (it knows whose they are).
    async fn server_replaced(&self) -> Result<(), StorageError> {
        promise(self.calls.server_replaced.call0(&JsValue::NULL))
            .await
            .map(|_| ())
            .map_err(|e| StorageError::Failed(e.as_string().unwrap_or_else(|| "không ghi lại được ảnh cần gửi".into())))
    }
}

/// Shows progress, and newly arrived documents, while the session runs.
struct AppObserver<'a> {
    engine: &'a Rc<Engine>,
    calls: &'a AppCalls,
}

impl Observer for AppObserver<'_> {
    fn written(&mut self, records: &[DocRecord]) {
        self.engine.absorb(records);
        self.engine.announce(records);
    }
    fn progress(&mut self, done: usize, total: usize) {
        let _ = self.calls.progress.call2(&JsValue::NULL, &JsValue::from_f64(done as f64), &JsValue::from_f64(total as f64));
    }
    fn arriving(&mut self, received: usize, remaining: u64) {
        let _ = self.calls.arriving.call2(&JsValue::NULL, &JsValue::from_f64(received as f64), &JsValue::from_f64(remaining as f64));
    }
}
