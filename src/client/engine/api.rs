//! What crosses between the app's module and the document engine's: the changes the app asks
//! for, the models the engine shows back, and the errors of both. Everything here is plain data
//! (serde, sent as JSON strings), so the app's module compiles it without automerge.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::client::local::storage::StorageError;
use crate::doc::{Conflict, History, Place};
use crate::domain::{
    Action, CommendationDraft, EvaluationStep, FieldErrors, JournalEntry, Model, ModelDraft, ReplicatedFrom, Replication, Roles,
};

/// Why a change was not saved; shown to the user as its sentence, in Vietnamese (the engine
/// speaks no other language; pages show it through `i18n::tr`).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum SaveError {
    #[error("Có {} mục chưa hợp lệ, vui lòng kiểm tra các ô được đánh dấu.", .0.0.len())]
    Invalid(FieldErrors),
    #[error("{0}")]
    Storage(StorageError),
    #[error("Không tìm thấy mô hình này trên thiết bị.")]
    NotFound,
    #[error("{0}")]
    Document(String),
    /// The lifecycle rules do not allow this step (now, or for this user).
    #[error("{0}")]
    Refused(String),
    /// The engine's module could not be loaded (offline before the first visit finished, or a
    /// broken update): nothing was written, what was typed is still on the screen.
    #[error("Phần lưu dữ liệu của ứng dụng chưa tải được ({0}). Nội dung đang nhập vẫn còn; hãy tải lại trang khi có mạng rồi lưu lại.")]
    Engine(String),
}

impl From<StorageError> for SaveError {
    fn from(e: StorageError) -> Self {
        SaveError::Storage(e)
    }
}

/// One change of one stored model, made by the engine inside one storage transaction against the
/// document as stored at that moment (a sync or another tab writing meanwhile is merged, never
/// overwritten). Each variant is what a page asks for; the rules are the domain's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// The model form: only the items changed since the form opened (`base`) are written.
    Edit { base: ModelDraft, draft: ModelDraft, fields: Vec<String>, author: String, now: i64 },
    /// A lifecycle step, checked against the state stored now and the user's roles.
    Step { action: Action, reason: String, level: String, by: String, by_name: String, roles: Roles, step_id: String, now: i64 },
    /// A commendation recorded by a reviewer.
    Commendation { draft: CommendationDraft, by: String, by_name: String, record_id: String, now: i64 },
    /// A reviewer's score sheet: open, score, submit.
    Evaluate { step: EvaluationStep, by: String, by_name: String, roles: Roles, now: i64 },
    /// A place applying this (library) model.
    Replication { point: Replication },
    /// An activity log entry.
    Journal { entry: JournalEntry },
    /// One of the values two people set at once is kept.
    Resolve { place: Place, choice: usize, by: String, now: i64 },
}

/// A model registered on this device: the form as typed, made into a model by the engine (the
/// narrative items are automerge texts, written by diffing — code the app's module leaves out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewModel {
    pub id: String,
    pub draft: ModelDraft,
    pub fields: Vec<String>,
    pub author: String,
    /// The owning unit's name, kept with the model for readers far away.
    pub unit_name: String,
    /// The library model it replicates, if any.
    pub replicated_from: Option<ReplicatedFrom>,
    pub now: i64,
}

/// A stored model as the engine last read it: the app shows it unless it already shows a newer
/// `generation` of the same document (two paths may decode one document; the newest wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    pub id: String,
    pub generation: u64,
    /// Holds changes the server has not acknowledged.
    pub dirty: bool,
    /// The model, or why its document cannot be read (corrupt, or from a newer app version).
    pub model: Result<Model, String>,
}

/// What the contest page's `apply(before)` answers the engine (the JSON of
/// `Result<Option<ContestApplied>, SaveError>`; `None`: the change changes nothing). The engine
/// calls it inside its storage transaction with the contest as stored at that moment, so the
/// change is made to what is stored (a sheet synced in meanwhile is kept), and the contest's
/// rules — `Contest::apply` and the server's `check_contest` — stay in the on-demand module
/// instead of the engine every device downloads before its first sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestApplied {
    /// The contest after the change (JSON of `domain::contest::Contest`).
    pub contest: String,
    /// The history's words for the change.
    pub message: String,
    pub now: i64,
}

/// A stored contest as the engine last read it. The contest crosses as its JSON, untouched by
/// the app's module, which only hands it to the contest page (`client::reporting`): the app
/// carries no contest code on its first load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownContest {
    pub id: String,
    pub generation: u64,
    pub dirty: bool,
    /// The JSON of `domain::contest::Contest`, or why its document cannot be read.
    pub contest: Result<String, String>,
}

/// What the engine says after a sync session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncOutcome {
    /// Documents the server refused this session, with its reason (Vietnamese).
    pub rejected: BTreeMap<String, String>,
}

/// Why a sync session stopped (the app's transport says which of its errors ended the session).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum SyncFailure {
    /// The server no longer accepts the session (expired, revoked, account locked).
    #[error("{0}")]
    SignedOut(String),
    /// Anything else: the network, the server, storage. Retried with backoff.
    #[error("{0}")]
    Other(String),
}

/// The history of a model's document and the values set at once, for its page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Revisions {
    pub conflicts: Vec<Conflict>,
    pub history: History,
}

/// What restoring a backup's documents did.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocsRestored {
    pub new: usize,
    pub merged: usize,
    pub unchanged: usize,
    /// Per document of the backup: the photos its activity log shows, and its owning unit.
    pub photos: BTreeMap<String, BTreeSet<String>>,
    pub units: BTreeMap<String, String>,
}

/// Why nothing of a backup's documents was restored; the sentence shown, in Vietnamese (as
/// [`SaveError`]'s).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum RestoreError {
    #[error("Bản sao có tài liệu không nhận được: {0}. Không có gì trên thiết bị bị thay đổi.")]
    Refused(String),
    #[error(
        "Bộ nhớ của trình duyệt đã đầy nên chưa khôi phục được; không có gì trên thiết bị bị thay đổi. Hãy giải phóng dung lượng (xóa bớt ảnh, ứng dụng hoặc dữ liệu trang web khác) rồi khôi phục lại."
    )]
    Full,
    #[error("Lưu trữ trên thiết bị gặp lỗi nên chưa khôi phục được; không có gì bị thay đổi ({0}).")]
    Storage(String),
}

/// What crosses between the app's module and the engine's, both ways: postcard bytes (a
/// `Uint8Array` in JavaScript), like the on-demand module's inputs (`reporting::input`). Models
/// are most of what crosses, and a second encoding of the model tree — JSON's per-type readers
/// and writers — was the largest part of the app's wasm after the framework (issue 15). Both
/// modules are built from one source and served, and cached by the service worker, together.
pub fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap_or_default()
}

pub fn from_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| unreadable(&e))
}

/// [`to_bytes`] as the `Uint8Array` it crosses as.
pub fn to_js<T: Serialize>(value: &T) -> wasm_bindgen::JsValue {
    js_sys::Uint8Array::from(to_bytes(value).as_slice()).into()
}

/// [`from_bytes`] of what crossed; a value that is not a `Uint8Array` reads as no bytes.
pub fn from_js<T: serde::de::DeserializeOwned>(value: &wasm_bindgen::JsValue) -> Result<T, String> {
    use wasm_bindgen::JsCast;
    from_bytes(&value.dyn_ref::<js_sys::Uint8Array>().map(|b| b.to_vec()).unwrap_or_default())
}

/// JSON both ways, between the engine and the contest pages (contests are JSON wherever they go).
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| unreadable(&e))
}

/// A value that does not read is the other module's bug, said as such.
fn unreadable(e: &dyn std::fmt::Display) -> String {
    format!("dữ liệu giữa hai phần của ứng dụng không đọc được ({e}); hãy tải lại trang")
}
