//! The document engine: every automerge document on the device is read and written here — the
//! changes pages ask for, the sync session, decoding documents into the models pages show, a
//! model's history and conflicts, a backup's merge and an import's documents.
//!
//! Compiled into its own wasm module, `danvan-engine` (src/bin/danvan-engine.rs), which the app
//! loads in the background as soon as it has shown what the device holds (`local::engine`).
//! automerge and its column store are the biggest part of the client; the list, the forms and
//! sign-in need none of it, so a phone on 2G sees and searches its models, and opens any form,
//! while this module is still arriving. Invariants:
//! - **nothing else in `client` uses this module except [`api`]** (the app's module holds no
//!   automerge: `tests/e2e/engine.test.mjs` checks its wasm has none of automerge's strings);
//! - every read-modify-write of a document is one IndexedDB transaction (`LocalStore::update`),
//!   so a sync or another tab writing meanwhile is merged, never overwritten; a change is
//!   reported to the app (`on_shown`) only after its transaction committed;
//! - the decoded model of every stored document is cached (`models` store) with the digest of
//!   the bytes it was read from; the app shows the cache at start and [`verify`] decodes again
//!   whatever the cache lacks or holds stale (a document written by an older version);
//! - the app is told about every stored document this module reads or writes, in the order of
//!   their `generation`, so an older read never replaces a newer one on screen.

pub mod api;

pub mod contests;
mod decoder;
mod sync;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::backup_file::{Merge, Opened, merge_document};
use crate::client::local::storage::{self, DocRecord, LocalStore, StorageError, TryUpdateError};
use crate::doc;
use crate::domain::Model;
use api::{Change, DocsRestored, NewModel, RestoreError, Revisions, SaveError, Shown};
use decoder::Decoder;

pub use sync::sync;

/// The open engine of this page (one per page: the app loads the module once).
pub(crate) struct Engine {
    store: Rc<LocalStore>,
    decoder: Decoder,
    /// Tells the app's other tabs which documents this one wrote, so they show them at once.
    tabs: Option<web_sys::BroadcastChannel>,
    /// The app's `on_shown(json of Vec<Shown>)`, `on_decoding(count)` and
    /// `on_contests(json of Vec<ShownContest>)`.
    on_shown: js_sys::Function,
    on_decoding: js_sys::Function,
    on_contests: js_sys::Function,
    /// The documents edited last, kept loaded (see [`Loaded`]).
    loaded: RefCell<Loaded>,
}

/// The few documents changed most recently, kept loaded with the digest of the bytes they were
/// saved as: a cadre edits one model several times in a row, and loading it again from its bytes
/// was a third of each save's document work at 4× CPU (issue 15). An entry is used only when the
/// stored bytes still have its digest — a sync, a restore or another tab that wrote meanwhile
/// changed them, and a write whose transaction failed never matched them — so it can never
/// stand in for a different document.
#[derive(Default)]
struct Loaded {
    /// Most recent first.
    docs: Vec<(String, String, automerge::AutoCommit)>,
}

impl Loaded {
    const KEPT: usize = 4;

    /// The document stored as `bytes`: the one kept, or loaded from them.
    fn take(&mut self, id: &str, bytes: &[u8]) -> Result<automerge::AutoCommit, doc::DocError> {
        match self.docs.iter().position(|(i, _, _)| i == id) {
            Some(at) => {
                let (_, digest, d) = self.docs.remove(at);
                if digest == storage::digest(bytes) { Ok(d) } else { doc::load(bytes) }
            }
            None => doc::load(bytes),
        }
    }

    /// Keeps `d`, just saved as `bytes`.
    fn keep(&mut self, id: &str, bytes: &[u8], d: automerge::AutoCommit) {
        self.docs.retain(|(i, _, _)| i != id);
        self.docs.insert(0, (id.to_string(), storage::digest(bytes), d));
        self.docs.truncate(Self::KEPT);
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

pub(crate) fn engine() -> Result<Rc<Engine>, String> {
    ENGINE.with(|e| e.borrow().clone()).ok_or_else(|| "phần lưu dữ liệu chưa được mở".to_string())
}

/// Opens the device's storage for the engine and remembers how to tell the app what it shows.
pub async fn init(database: &str, on_shown: js_sys::Function, on_decoding: js_sys::Function, on_contests: js_sys::Function) -> Result<(), String> {
    if ENGINE.with(|e| e.borrow().is_some()) {
        return Ok(());
    }
    let store = LocalStore::open(database).await.map_err(|e| e.to_string())?;
    let engine = Rc::new(Engine {
        store: Rc::new(store),
        decoder: Decoder::default(),
        tabs: web_sys::BroadcastChannel::new("danvan-replica").ok(),
        on_shown,
        on_decoding,
        on_contests,
        loaded: RefCell::default(),
    });
    engine.listen_to_other_tabs();
    ENGINE.with(|e| *e.borrow_mut() = Some(engine));
    Ok(())
}

impl Engine {
    /// Shows the app models read here (their bytes, in one call).
    fn show(&self, shown: &[Shown]) {
        if shown.is_empty() {
            return;
        }
        let _ = self.on_shown.call1(&JsValue::NULL, &api::to_js(&shown));
    }

    fn decoding(&self, remaining: usize) {
        let _ = self.on_decoding.call1(&JsValue::NULL, &JsValue::from_f64(remaining as f64));
    }

    /// Another tab wrote these documents: read them again (the storage is shared, memory is not).
    fn listen_to_other_tabs(self: &Rc<Self>) {
        let Some(channel) = self.tabs.as_ref() else { return };
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let ids: Vec<String> = ev.data().as_string().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
            let Some(engine) = weak.upgrade() else { return };
            wasm_bindgen_futures::spawn_local(async move {
                let mut records = Vec::new();
                for id in &ids {
                    if let Ok(Some(rec)) = engine.store.get(id).await {
                        records.push(rec);
                    }
                }
                engine.absorb(&records);
            });
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    }

    /// Tells the app's other tabs which records changed (they read those again).
    fn announce(&self, records: &[DocRecord]) {
        if let Some(channel) = self.tabs.as_ref()
            && !records.is_empty()
        {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            let _ = channel.post_message(&serde_json::to_string(&ids).unwrap_or_default().into());
        }
    }

    /// Records written for the app whose models are known (a change, an import): cached,
    /// announced, and returned for the caller to show — not decoded again from the bytes just
    /// made (decoding costs milliseconds per document, which is most of a save on a slow phone).
    /// Returned, not sent through `on_shown`: the page that asked (a form that closes once saved)
    /// sees the model and the answer at the same moment, before anything re-renders.
    fn written_known(self: &Rc<Self>, written: &[(DocRecord, Model)]) -> Vec<Shown> {
        let generation = self.decoder.generation();
        let mut shown = Vec::with_capacity(written.len());
        let mut summaries = Vec::with_capacity(written.len());
        for (rec, model) in written {
            self.decoder.mark_shown(&rec.id, generation);
            summaries.push((rec.id.clone(), storage::digest(&rec.doc), model.to_cache()));
            shown.push(Shown { id: rec.id.clone(), generation, dirty: rec.dirty, model: Ok(model.clone()) });
        }
        let records: Vec<DocRecord> = written.iter().map(|(r, _)| r.clone()).collect();
        self.announce(&records);
        let store = self.store.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = store.put_summaries(&summaries).await;
        });
        shown
    }
}

/// Decodes again every document whose cached model is missing, was read from other bytes (a
/// document stored by an older version, or a write cut between the document and its cache) or
/// could not be read by the app (`unread`: a cache written by an older version of the model).
/// The app has shown the cache meanwhile; what this finds arrives through `on_shown`.
pub async fn verify(unread: Vec<String>) -> Result<(), String> {
    let engine = engine()?;
    let unread: std::collections::HashSet<String> = unread.into_iter().collect();
    // Digests only: the documents' bytes are read for those to decode again, usually none.
    let digests = engine.store.doc_digests().await.map_err(|e| e.to_string())?;
    let cached = engine.store.summaries().await.unwrap_or_default();
    let stale: Vec<String> = digests
        .into_iter()
        .filter(|(id, digest)| unread.contains(id) || cached.get(id).is_none_or(|d| d != digest))
        .map(|(id, _)| id)
        .collect();
    let stale = engine.store.records(&stale).await.map_err(|e| e.to_string())?;
    engine.enqueue(stale);
    Ok(())
}

/// Registers a new model from the form as typed (validated here: an invalid one stores nothing);
/// returns it as stored, for the app to show.
pub async fn create(new: NewModel) -> Result<Vec<Shown>, SaveError> {
    let engine = engine().map_err(SaveError::Engine)?;
    let NewModel { id, draft, fields, author, unit_name, replicated_from, now } = new;
    let mut model = Model::new(id, &author, now);
    draft.apply(&mut model, &fields).map_err(SaveError::Invalid)?;
    model.unit_name = unit_name;
    model.replicated_from = replicated_from;
    let mut document = doc::create(&model, now).map_err(document_error)?;
    let rec = DocRecord { id: model.id.clone(), doc: document.save(), sync: None, dirty: true };
    let written = engine.store.update(&model.id, |_| Some(rec)).await?;
    Ok(written.map(|rec| engine.written_known(&[(rec, model)])).unwrap_or_default())
}

/// Creates the documents of imported models in one transaction, leaving alone every id the
/// device already holds; returns those created, for the app to show (see `Replica::import`).
pub async fn import(models: Vec<Model>, now: i64) -> Result<Vec<Shown>, SaveError> {
    let engine = engine().map_err(SaveError::Engine)?;
    let mut records = HashMap::with_capacity(models.len());
    for model in &models {
        let message = model.imported.as_ref().map(crate::import::history_message).unwrap_or_default();
        let mut document = doc::create_with_message(model, now, &message).map_err(document_error)?;
        records.insert(model.id.clone(), DocRecord { id: model.id.clone(), doc: document.save(), sync: None, dirty: true });
    }
    let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
    let written = engine.store.update_each(&ids, |id, current| if current.is_some() { None } else { records.remove(id) }).await?;
    let mut by_id: HashMap<String, Model> = models.into_iter().map(|m| (m.id.clone(), m)).collect();
    let known: Vec<(DocRecord, Model)> = written.into_iter().filter_map(|rec| by_id.remove(&rec.id).map(|m| (rec, m))).collect();
    Ok(engine.written_known(&known))
}

/// Applies one change to a stored model inside one storage transaction; returns the model as
/// stored, for the app to show, or nothing when the change changed nothing (nothing is written).
pub async fn change(id: &str, change: Change) -> Result<Vec<Shown>, SaveError> {
    let engine = engine().map_err(SaveError::Engine)?;
    let mut outcome: Result<Option<Model>, SaveError> = Err(SaveError::NotFound);
    let written = engine
        .store
        .update(id, |rec| {
            let mut rec = rec?;
            let mut loaded = engine.loaded.borrow_mut();
            let applied = loaded.take(id, &rec.doc).map_err(document_error).and_then(|mut d| Ok(apply(&mut d, change)?.map(|m| (m, d.save(), d))));
            match applied {
                Ok(Some((model, bytes, d))) => {
                    outcome = Ok(Some(model));
                    loaded.keep(id, &bytes, d);
                    rec.doc = bytes;
                    rec.dirty = true;
                    Some(rec)
                }
                Ok(None) => {
                    outcome = Ok(None);
                    None
                }
                Err(e) => {
                    outcome = Err(e);
                    None
                }
            }
        })
        .await?;
    let Some(model) = outcome? else { return Ok(Vec::new()) };
    Ok(written.map(|rec| engine.written_known(&[(rec, model)])).unwrap_or_default())
}

fn document_error(e: doc::DocError) -> SaveError {
    SaveError::Document(e.to_string())
}

/// The change itself, on the document as stored now: `Some(model as it now reads)` when
/// something was written, `None` when nothing changed.
fn apply(d: &mut automerge::AutoCommit, change: Change) -> Result<Option<Model>, SaveError> {
    let mut model = doc::read_model(d).map_err(document_error)?;
    // What reviewers and readers record is written key by key (writing the whole model would add
    // keys an older document lacks, which the server refuses from them).
    fn keys(model: &mut Model, d: &mut automerge::AutoCommit, keys: &[&str], by_name: &str, now: i64, message: &str) -> Result<(), SaveError> {
        model.updated_by = by_name.to_string();
        model.updated_at = now;
        let keys: Vec<&str> = keys.iter().copied().chain(["updated_by", "updated_at"]).collect();
        doc::write_keys(d, model, &keys, now, message).map_err(document_error)
    }
    match change {
        Change::Edit { base, draft, fields, author, now } => {
            let before = model.clone();
            draft.apply_changes(Some(&base), &mut model, &fields).map_err(SaveError::Invalid)?;
            model.updated_by = author;
            model.updated_at = now;
            doc::write_changed(d, &before, &model, now, "sửa mô hình").map_err(document_error)?;
        }
        Change::Step { action, reason, level, by, by_name, roles, step_id, now } => {
            let next = crate::domain::check_transition(action, model.status, roles, &reason, &level).map_err(SaveError::Refused)?;
            model.transitions.push(crate::domain::Transition {
                id: step_id,
                action: action.code().to_string(),
                by,
                by_name: by_name.clone(),
                at: crate::domain::step_time(&model.transitions, now),
                reason: reason.trim().to_string(),
                level: if action.needs_level() { level } else { String::new() },
            });
            model.status = next;
            keys(&mut model, d, &["transitions", "status"], &by_name, now, &format!("bước: {}", action.label()))?;
        }
        // Who may record it and the form's validity were checked by `Replica::record_commendation`
        // (neither depends on the document as stored).
        Change::Commendation { draft, by, by_name, record_id, now } => {
            model.commendations.push(draft.record(record_id, &by, &by_name, now));
            keys(&mut model, d, &["commendations"], &by_name, now, "ghi nhận khen thưởng")?;
        }
        Change::Evaluate { step, by, by_name, roles, now } => {
            let (written, message): (&[&str], String) = match &step {
                crate::domain::EvaluationStep::Start(_) => (&["evaluations"], "mở phiếu bình xét".into()),
                crate::domain::EvaluationStep::Score(_) => (&["evaluations"], "chấm điểm tiêu chí".into()),
                crate::domain::EvaluationStep::Submit { result, .. } => {
                    (&["evaluations", "transitions", "status"], format!("gửi kết quả bình xét: {}", result.label()))
                }
            };
            let changed = crate::domain::evaluate(&mut model, step, (&by, &by_name), roles, now, || uuid::Uuid::new_v4().to_string())
                .map_err(SaveError::Refused)?;
            if !changed {
                return Ok(None);
            }
            keys(&mut model, d, written, &by_name, now, &message)?;
        }
        Change::Replication { point } => {
            if model.replications.iter().any(|r| r.id == point.id) {
                return Ok(None);
            }
            let at = point.at;
            model.replications.push(point);
            doc::write_keys(d, &model, &["replications"], at, "ghi điểm nhân rộng").map_err(document_error)?;
        }
        Change::Journal { entry } => {
            let now = entry.at;
            let before = model.clone();
            model.updated_by = entry.by_name.clone();
            model.updated_at = now;
            crate::domain::add_entry(&mut model, entry);
            doc::write_changed(d, &before, &model, now, "ghi nhật ký").map_err(document_error)?;
        }
        Change::Resolve { place, choice, by, now } => {
            if !doc::resolve(d, &place, choice, now, &by).map_err(document_error)? {
                return Ok(None);
            }
            // The document decides which value now reads: read it back.
            model = doc::read_model(d).map_err(document_error)?;
        }
    }
    Ok(Some(model))
}

/// A model's conflicts and the history of its changes, read from its document.
pub async fn revisions(id: &str) -> Result<Revisions, String> {
    let engine = engine()?;
    match engine.store.get(id).await.map_err(|e| e.to_string())? {
        Some(rec) => {
            // The page asks right after a save: the document just written is still loaded.
            let mut d = engine.loaded.borrow_mut().take(id, &rec.doc).map_err(|e| e.to_string())?;
            let revisions = Revisions { conflicts: doc::conflicts(&d), history: doc::history(&mut d) };
            engine.loaded.borrow_mut().keep(id, &rec.doc, d);
            Ok(revisions)
        }
        None => Ok(Revisions::default()),
    }
}

/// Merges every document of an opened backup (postcard `Opened`, from the report module) in one
/// all-or-nothing transaction, as sync merges the feed: a restore can neither overwrite nor
/// duplicate. Shown, announced, and dirty so the sync sends what the server lacks.
pub async fn restore(opened: &[u8]) -> Result<DocsRestored, RestoreError> {
    let engine = engine().map_err(RestoreError::Storage)?;
    let opened = Opened::decode(opened).map_err(RestoreError::Refused)?;
    let bytes: BTreeMap<&str, &[u8]> = opened.docs.iter().map(|d| (d.id.as_str(), d.bytes.as_slice())).collect();
    let ids: Vec<String> = bytes.keys().map(|id| id.to_string()).collect();
    let mut done = DocsRestored::default();
    let written = engine
        .store
        .try_update_each(&ids, |id, rec| {
            let Some(backup) = bytes.get(id) else { return Ok(None) };
            let restored = merge_document(id, backup, rec)?;
            done.photos.insert(id.to_string(), restored.photos);
            if let Some(unit) = restored.unit {
                done.units.insert(id.to_string(), unit);
            }
            Ok(match restored.merge {
                Merge::New(rec) => {
                    done.new += 1;
                    Some(rec)
                }
                Merge::Merged(rec) => {
                    done.merged += 1;
                    Some(rec)
                }
                Merge::Unchanged => {
                    done.unchanged += 1;
                    None
                }
            })
        })
        .await
        .map_err(|e| match e {
            TryUpdateError::Refused(reason) => RestoreError::Refused(reason),
            TryUpdateError::Storage(StorageError::Full) => RestoreError::Full,
            TryUpdateError::Storage(e) => RestoreError::Storage(e.to_string()),
        })?;
    engine.absorb(&written);
    engine.announce(&written);
    Ok(done)
}
