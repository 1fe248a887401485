//! The local replica: the models the UI shows, kept in step with IndexedDB.
//!
//! Tasks here use `wasm_bindgen_futures::spawn_local`, not Leptos's: the replica opens (and may
//! start decoding) before the app mounts, when Leptos's executor is not set up yet.
//!
//! Invariant: the UI reads only `models` and changes documents only through [`Replica::create`] and
//! [`Replica::edit`], which return after the change is committed to IndexedDB.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::client::local::storage::{DocRecord, LocalStore, StorageError};
use crate::doc;
use crate::domain::{FieldErrors, Model, ModelDraft};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SaveError {
    #[error("Có {} mục chưa hợp lệ, vui lòng kiểm tra các ô được đánh dấu.", .0.len())]
    Invalid(FieldErrors),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("Không tìm thấy mô hình này trên thiết bị.")]
    NotFound,
    #[error("{0}")]
    Document(String),
    /// The lifecycle rules do not allow this step (now, or for this user).
    #[error("{0}")]
    Refused(String),
}

#[derive(Clone)]
pub struct Replica {
    /// SendWrapper: signals and contexts want Send; the browser has one thread.
    pub store: SendWrapper<Rc<LocalStore>>,
    /// Every model on this device, by id.
    pub models: RwSignal<BTreeMap<String, Model>>,
    /// Documents with changes the server has not acknowledged (kept from the records this tab
    /// reads and writes, so counting them never needs a storage scan).
    /// Ids of documents holding changes the server has not acknowledged.
    pub dirty: RwSignal<BTreeSet<String>>,
    /// How many documents are in `dirty`.
    pub pending: Signal<usize>,
    /// Documents that could not be read (corrupt or from a newer app version), with the reason.
    pub unreadable: RwSignal<BTreeMap<String, String>>,
    /// Bumped on every local change; the sync loop listens to it.
    pub local_change: RwSignal<u64>,
    /// Tells the app's other tabs which documents this one wrote, so they show them at once.
    tabs: SendWrapper<Option<web_sys::BroadcastChannel>>,
    /// Documents waiting to be decoded in the background (a feed page, start-up without cache).
    decoder: SendWrapper<Rc<Decoder>>,
    /// How many documents are still being decoded (the list says so).
    pub decoding: RwSignal<usize>,
}

/// Up to this many records are decoded at once; more go to the background queue.
const DECODE_NOW: usize = 16;
/// Records decoded between two yields to the browser (each takes a few milliseconds).
const DECODE_SLICE: usize = 8;
/// How often background decoding shows what it has decoded so far.
const FLUSH_MS: f64 = 400.0;

#[derive(Default)]
struct Decoded {
    readable: Vec<(String, Model)>,
    failed: Vec<(String, String)>,
    summaries: Vec<(String, String, String)>,
}

/// Decodes records in slices, yielding to the browser between them, so a page of 800 new
/// documents never freezes the UI. Every record gets a generation when it arrives; an older one is
/// never shown over a newer one of the same document, whichever path decoded it.
#[derive(Default)]
struct Decoder {
    queue: RefCell<VecDeque<(u64, DocRecord)>>,
    running: Cell<bool>,
    next_generation: Cell<u64>,
    shown: RefCell<HashMap<String, u64>>,
}

impl Decoder {
    fn generation(&self) -> u64 {
        let g = self.next_generation.get() + 1;
        self.next_generation.set(g);
        g
    }
}

/// A cheap fingerprint of a document's bytes (FNV-1a), to know whether a cached decode is current.
fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}-{}", bytes.len())
}

fn document_error(e: doc::DocError) -> SaveError {
    SaveError::Document(e.to_string())
}

fn decode(rec: &DocRecord) -> Result<Model, String> {
    doc::load(&rec.doc).and_then(|d| doc::read_model(&d)).map_err(|e| e.to_string())
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

impl Replica {
    pub async fn open(name: &str) -> Result<Replica, StorageError> {
        let store = LocalStore::open(name).await?;
        let dirty = RwSignal::new(BTreeSet::new());
        let replica = Replica {
            store: SendWrapper::new(Rc::new(store)),
            models: RwSignal::new(BTreeMap::new()),
            dirty,
            pending: Signal::derive(move || dirty.with(|d| d.len())),
            unreadable: RwSignal::new(BTreeMap::new()),
            local_change: RwSignal::new(0),
            tabs: SendWrapper::new(web_sys::BroadcastChannel::new("danvan-replica").ok()),
            decoder: SendWrapper::new(Rc::new(Decoder::default())),
            decoding: RwSignal::new(0),
        };
        replica.reload().await?;
        replica.listen_to_other_tabs();
        Ok(replica)
    }

    /// Another tab wrote these documents: read them again (the storage is shared, signals are not).
    fn listen_to_other_tabs(&self) {
        let Some(channel) = self.tabs.as_ref() else { return };
        let replica = self.clone();
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let ids: Vec<String> = ev.data().as_string().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
            let replica = replica.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut records = Vec::new();
                for id in &ids {
                    if let Ok(Some(rec)) = replica.store.get(id).await {
                        records.push(rec);
                    }
                }
                replica.absorb(&records);
            });
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    }

    /// Records written here (by an edit or by sync): show them in this tab and announce them.
    pub fn written(&self, records: &[DocRecord]) {
        if records.is_empty() {
            return;
        }
        self.absorb(records);
        self.announce(records);
    }

    /// Tells the app's other tabs which records changed (they re-read those).
    fn announce(&self, records: &[DocRecord]) {
        if let Some(channel) = self.tabs.as_ref()
            && !records.is_empty()
        {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            let _ = channel.post_message(&serde_json::to_string(&ids).unwrap_or_default().into());
        }
    }

    /// Reads every record (start-up). Models decoded before come from the cache; the others are
    /// decoded in the background.
    pub async fn reload(&self) -> Result<(), StorageError> {
        let records = self.store.all().await?;
        let cached = self.store.summaries().await.unwrap_or_default();
        self.models.set(BTreeMap::new());
        self.unreadable.set(BTreeMap::new());
        self.dirty.set(records.iter().filter(|r| r.dirty).map(|r| r.id.clone()).collect());
        let mut known = BTreeMap::new();
        let mut unknown = Vec::new();
        for rec in records {
            let model = cached
                .get(&rec.id)
                .filter(|(d, _)| *d == digest(&rec.doc))
                .and_then(|(_, json)| serde_json::from_str::<Model>(json).ok());
            match model {
                Some(m) => {
                    self.decoder.shown.borrow_mut().insert(rec.id.clone(), self.decoder.generation());
                    known.insert(rec.id, m);
                }
                None => unknown.push(rec),
            }
        }
        self.models.set(known);
        self.enqueue(unknown);
        Ok(())
    }

    /// Takes note of records written (here, by sync, or by another tab) without re-reading the rest.
    pub fn absorb(&self, records: &[DocRecord]) {
        self.dirty.update(|d| {
            for rec in records {
                if rec.dirty {
                    d.insert(rec.id.clone());
                } else {
                    d.remove(&rec.id);
                }
            }
        });
        if records.len() > DECODE_NOW {
            self.enqueue(records.to_vec());
            return;
        }
        let batch: Vec<(u64, DocRecord)> = records.iter().map(|r| (self.decoder.generation(), r.clone())).collect();
        let mut decoded = Decoded::default();
        self.decode_into(batch, &mut decoded);
        let summaries = self.apply(decoded);
        let store = self.store.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = store.put_summaries(&summaries).await;
        });
    }

    fn enqueue(&self, records: Vec<DocRecord>) {
        if records.is_empty() {
            return;
        }
        {
            let mut queue = self.decoder.queue.borrow_mut();
            for rec in records {
                queue.push_back((self.decoder.generation(), rec));
            }
            self.decoding.set(queue.len());
        }
        if self.decoder.running.replace(true) {
            return;
        }
        let replica = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut decoded = Decoded::default();
            let mut flushed_at = js_sys::Date::now();
            loop {
                let slice: Vec<(u64, DocRecord)> = {
                    let mut queue = replica.decoder.queue.borrow_mut();
                    let n = queue.len().min(DECODE_SLICE);
                    queue.drain(..n).collect()
                };
                let done = slice.is_empty();
                replica.decode_into(slice, &mut decoded);
                // Showing re-filters the whole list, so it happens a few times a second, not per slice.
                if done || js_sys::Date::now() - flushed_at > FLUSH_MS {
                    let summaries = replica.apply(std::mem::take(&mut decoded));
                    replica.decoding.set(replica.decoder.queue.borrow().len());
                    let _ = replica.store.put_summaries(&summaries).await;
                    flushed_at = js_sys::Date::now();
                }
                if done {
                    break;
                }
                // Let the browser paint and handle input between slices.
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            replica.decoder.running.set(false);
            replica.decoding.set(0);
        });
    }

    /// Decodes records, skipping any older than a version of the same document already shown.
    fn decode_into(&self, batch: Vec<(u64, DocRecord)>, out: &mut Decoded) {
        let mut shown = self.decoder.shown.borrow_mut();
        for (generation, rec) in batch {
            if shown.get(&rec.id).is_some_and(|&g| g > generation) {
                continue;
            }
            shown.insert(rec.id.clone(), generation);
            match decode(&rec) {
                Ok(m) => {
                    if let Ok(json) = serde_json::to_string(&m) {
                        out.summaries.push((rec.id.clone(), digest(&rec.doc), json));
                    }
                    out.readable.push((rec.id, m));
                }
                Err(e) => out.failed.push((rec.id, e)),
            }
        }
    }

    /// Shows decoded models; returns the summaries to cache.
    fn apply(&self, decoded: Decoded) -> Vec<(String, String, String)> {
        let Decoded { readable, failed, summaries } = decoded;
        if readable.is_empty() && failed.is_empty() {
            return summaries;
        }
        self.unreadable.update(|u| {
            for (id, _) in &readable {
                u.remove(id);
            }
            u.extend(failed);
        });
        self.models.update(|ms| ms.extend(readable));
        summaries
    }

    /// Registers a new model from a validated draft; returns its id once stored.
    /// Registers a new model (`unit_name`: the owning unit's name, kept with it for readers far
    /// away; `replicated_from`: the library model it replicates, if any).
    pub async fn create(
        &self,
        draft: &ModelDraft,
        fields: &[String],
        author: &str,
        unit_name: &str,
        replicated_from: Option<crate::domain::ReplicatedFrom>,
    ) -> Result<String, SaveError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut model = Model::new(id.clone(), author, now);
        draft.apply(&mut model, fields).map_err(SaveError::Invalid)?;
        model.unit_name = unit_name.to_string();
        model.replicated_from = replicated_from;
        let mut document = doc::create(&model, now).map_err(|e| SaveError::Document(e.to_string()))?;
        let bytes = document.save();
        let written = self
            .store
            .update(&id, |_| Some(DocRecord { id: id.clone(), doc: bytes, sync: None, dirty: true }))
            .await?;
        self.after_local_write(written);
        Ok(id)
    }

    /// Creates the documents of imported models (`crate::import::plan`) in one IndexedDB
    /// transaction, leaving alone every id the device already holds (the same row imported
    /// before, here or by the server's import and synced): returns how many were created. The
    /// batch is all or nothing; the page imports a file in batches, so a failure midway leaves
    /// the earlier batches saved, and importing the file again goes on where it stopped.
    pub async fn import(&self, models: &[Model]) -> Result<usize, SaveError> {
        let now = now_ms();
        let mut records = HashMap::with_capacity(models.len());
        for model in models {
            let message = model.imported.as_ref().map(crate::import::history_message).unwrap_or_default();
            let mut document = doc::create_with_message(model, now, &message).map_err(|e| SaveError::Document(e.to_string()))?;
            records.insert(model.id.clone(), DocRecord { id: model.id.clone(), doc: document.save(), sync: None, dirty: true });
        }
        let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
        let written = self.store.update_each(&ids, |id, current| if current.is_some() { None } else { records.remove(id) }).await?;
        let created = written.len();
        // The models are known: shown as they are, not decoded again from the bytes just made
        // (decoding is milliseconds per document, most of an import's time on a phone).
        let by_id: HashMap<&str, &Model> = models.iter().map(|m| (m.id.as_str(), m)).collect();
        let mut decoded = Decoded::default();
        {
            let generation = self.decoder.generation();
            let mut shown = self.decoder.shown.borrow_mut();
            for rec in &written {
                let Some(model) = by_id.get(rec.id.as_str()) else { continue };
                shown.insert(rec.id.clone(), generation);
                if let Ok(json) = serde_json::to_string(model) {
                    decoded.summaries.push((rec.id.clone(), digest(&rec.doc), json));
                }
                decoded.readable.push((rec.id.clone(), (*model).clone()));
            }
        }
        self.dirty.update(|d| d.extend(written.iter().map(|r| r.id.clone())));
        let summaries = self.apply(decoded);
        let _ = self.store.put_summaries(&summaries).await;
        self.announce(&written);
        self.local_change.update(|n| *n += 1);
        Ok(created)
    }

    /// Applies a draft to an existing model as one automerge change, merged with whatever the
    /// stored document holds now (another tab or the sync may have changed it meanwhile).
    pub async fn edit(
        &self,
        id: &str,
        base: &ModelDraft,
        draft: &ModelDraft,
        fields: &[String],
        author: &str,
    ) -> Result<(), SaveError> {
        // Validate first so an invalid draft never reaches storage.
        let errors = draft.validate(fields);
        if !errors.is_empty() {
            return Err(SaveError::Invalid(errors));
        }
        self.change_document(id, |d| {
            let mut model = doc::read_model(d).map_err(document_error)?;
            draft.apply_changes(Some(base), &mut model, fields).map_err(SaveError::Invalid)?;
            model.updated_by = author.to_string();
            model.updated_at = now_ms();
            doc::write_model(d, &model, model.updated_at, "sửa mô hình").map_err(document_error)?;
            Ok(true)
        })
        .await
        .map(|_| ())
    }

    /// Records a lifecycle step (start, propose, recognise, return…) as one change, checked
    /// against the model's state as stored now and the user's roles for it.
    pub async fn record_step(
        &self,
        id: &str,
        action: crate::domain::Action,
        reason: &str,
        level: &str,
        by: &str,
        by_name: &str,
        roles: crate::domain::Roles,
    ) -> Result<(), SaveError> {
        self.record(id, by_name, &["transitions", "status"], &format!("bước: {}", action.label()), |model, now| {
            let next = crate::domain::check_transition(action, model.status, roles, reason, level).map_err(SaveError::Refused)?;
            model.transitions.push(crate::domain::Transition {
                id: uuid::Uuid::new_v4().to_string(),
                action: action.code().to_string(),
                by: by.to_string(),
                by_name: by_name.to_string(),
                at: crate::domain::step_time(&model.transitions, now),
                reason: reason.trim().to_string(),
                level: if action.needs_level() { level.to_string() } else { String::new() },
            });
            model.status = next;
            Ok(true)
        })
        .await
    }

    /// Records a commendation on a model (reviewers of its unit; checked again by the server).
    pub async fn record_commendation(
        &self,
        id: &str,
        draft: &crate::domain::CommendationDraft,
        by: &str,
        by_name: &str,
        roles: crate::domain::Roles,
    ) -> Result<(), SaveError> {
        if !roles.reviewer {
            return Err(SaveError::Refused("Chỉ người bình xét của cấp trên mới ghi nhận khen thưởng.".into()));
        }
        if let Some((_, first)) = draft.validate().into_iter().next() {
            return Err(SaveError::Refused(first));
        }
        self.record(id, by_name, &["commendations"], "ghi nhận khen thưởng", |model, now| {
            model.commendations.push(draft.record(uuid::Uuid::new_v4().to_string(), by, by_name, now));
            Ok(true)
        })
        .await
    }

    /// A reviewer's evaluation step (open, score a criterion, submit with the result), as one
    /// change; submitting records the lifecycle step in the same change.
    pub async fn evaluate(
        &self,
        id: &str,
        step: crate::domain::EvaluationStep,
        by: &str,
        by_name: &str,
        roles: crate::domain::Roles,
    ) -> Result<(), SaveError> {
        let (keys, message): (&[&str], String) = match &step {
            crate::domain::EvaluationStep::Start(_) => (&["evaluations"], "mở phiếu bình xét".into()),
            crate::domain::EvaluationStep::Score(_) => (&["evaluations"], "chấm điểm tiêu chí".into()),
            crate::domain::EvaluationStep::Submit { result, .. } => {
                (&["evaluations", "transitions", "status"], format!("gửi kết quả bình xét: {}", result.label()))
            }
        };
        self.record(id, by_name, keys, &message, |model, now| {
            crate::domain::evaluate(model, step, (by, by_name), roles, now, || uuid::Uuid::new_v4().to_string()).map_err(SaveError::Refused)
        })
        .await
    }

    /// Records what a reviewer adds to a model (steps, commendations, evaluations): `change`
    /// gets the model as stored now and says whether it changed it; only `keys` and who/when
    /// are written, as one change.
    async fn record(
        &self,
        id: &str,
        by_name: &str,
        keys: &[&str],
        message: &str,
        change: impl FnOnce(&mut Model, i64) -> Result<bool, SaveError>,
    ) -> Result<(), SaveError> {
        self.change_document(id, |d| {
            let mut model = doc::read_model(d).map_err(document_error)?;
            let now = now_ms();
            if !change(&mut model, now)? {
                return Ok(false);
            }
            model.updated_by = by_name.to_string();
            model.updated_at = now;
            let keys: Vec<&str> = keys.iter().copied().chain(["updated_by", "updated_at"]).collect();
            doc::write_keys(d, &model, &keys, now, message).map_err(document_error)?;
            Ok(true)
        })
        .await
        .map(|_| ())
    }

    /// Adds a place applying a library model to its replication points (only that list is
    /// written: the model belongs to another unit).
    pub async fn record_replication(&self, source: &str, point: crate::domain::Replication) -> Result<(), SaveError> {
        self.change_document(source, |d| {
            let mut model = doc::read_model(d).map_err(document_error)?;
            if model.replications.iter().any(|r| r.id == point.id) {
                return Ok(false);
            }
            let at = point.at;
            model.replications.push(point);
            doc::write_keys(d, &model, &["replications"], at, "ghi điểm nhân rộng").map_err(document_error)?;
            Ok(true)
        })
        .await
        .map(|_| ())
    }

    /// Adds an activity log entry (and the indicators' achieved values it updates).
    pub async fn add_journal_entry(&self, id: &str, entry: crate::domain::JournalEntry) -> Result<(), SaveError> {
        self.change_document(id, |d| {
            let mut model = doc::read_model(d).map_err(document_error)?;
            let now = entry.at;
            model.updated_by = entry.by_name.clone();
            model.updated_at = now;
            crate::domain::add_entry(&mut model, entry);
            doc::write_model(d, &model, now, "ghi nhật ký").map_err(document_error)?;
            Ok(true)
        })
        .await
        .map(|_| ())
    }

    /// Keeps one of the concurrent values of an item (see `doc::resolve`); nothing happens if
    /// the conflict is already gone.
    pub async fn resolve_conflict(&self, id: &str, place: &doc::Place, choice: usize, by: &str) -> Result<(), SaveError> {
        self.change_document(id, |d| doc::resolve(d, place, choice, now_ms(), by).map_err(document_error)).await.map(|_| ())
    }

    /// Changes one stored document inside one storage transaction, so a sync or another tab
    /// writing meanwhile is merged, never overwritten: `change` gets the document as stored now
    /// and says whether it changed it; an error leaves the record as it was. Marks the record
    /// dirty and announces it. Returns whether anything was written.
    async fn change_document(
        &self,
        id: &str,
        change: impl FnOnce(&mut automerge::AutoCommit) -> Result<bool, SaveError>,
    ) -> Result<bool, SaveError> {
        let mut outcome: Result<bool, SaveError> = Err(SaveError::NotFound);
        let written = self
            .store
            .update(id, |rec| {
                let mut rec = rec?;
                let changed = doc::load(&rec.doc).map_err(document_error).and_then(|mut d| Ok(change(&mut d)?.then(|| d.save())));
                match changed {
                    Ok(Some(bytes)) => {
                        outcome = Ok(true);
                        rec.doc = bytes;
                        rec.dirty = true;
                        Some(rec)
                    }
                    Ok(None) => {
                        outcome = Ok(false);
                        None
                    }
                    Err(e) => {
                        outcome = Err(e);
                        None
                    }
                }
            })
            .await?;
        let changed = outcome?;
        self.after_local_write(written);
        Ok(changed)
    }

    fn after_local_write(&self, written: Option<DocRecord>) {
        if let Some(rec) = written {
            self.written(std::slice::from_ref(&rec));
        }
        self.local_change.update(|n| *n += 1);
    }
}
