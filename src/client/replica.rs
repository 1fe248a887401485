//! The local replica: the models the UI shows, kept in step with IndexedDB.
//!
//! Invariant: the UI reads only `models` and changes documents only through [`Replica::create`] and
//! [`Replica::edit`], which return after the change is committed to IndexedDB.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use super::storage::{DocRecord, LocalStore, StorageError};
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
}

#[derive(Clone)]
pub struct Replica {
    /// SendWrapper: signals and contexts want Send; the browser has one thread.
    pub store: SendWrapper<Rc<LocalStore>>,
    /// Every model on this device, by id.
    pub models: RwSignal<BTreeMap<String, Model>>,
    /// Documents with changes the server has not acknowledged (kept from the records this tab
    /// reads and writes, so counting them never needs a storage scan).
    dirty: RwSignal<BTreeSet<String>>,
    /// How many documents are in `dirty`.
    pub pending: Signal<usize>,
    /// Documents that could not be read (corrupt or from a newer app version), with the reason.
    pub unreadable: RwSignal<BTreeMap<String, String>>,
    /// Bumped on every local change; the sync loop listens to it.
    pub local_change: RwSignal<u64>,
    /// Tells the app's other tabs which documents this one wrote, so they show them at once.
    tabs: SendWrapper<Option<web_sys::BroadcastChannel>>,
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
            leptos::task::spawn_local(async move {
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
        if let Some(channel) = self.tabs.as_ref() {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            let _ = channel.post_message(&serde_json::to_string(&ids).unwrap_or_default().into());
        }
    }

    /// Reads every record (start-up).
    pub async fn reload(&self) -> Result<(), StorageError> {
        let records = self.store.all().await?;
        self.models.set(BTreeMap::new());
        self.unreadable.set(BTreeMap::new());
        self.dirty.set(BTreeSet::new());
        self.absorb(&records);
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
        let mut readable = Vec::new();
        let mut failed = Vec::new();
        for rec in records {
            match doc::load(&rec.doc).and_then(|d| doc::read_model(&d)) {
                Ok(m) => readable.push((rec.id.clone(), m)),
                Err(e) => failed.push((rec.id.clone(), e.to_string())),
            }
        }
        self.unreadable.update(|u| {
            for (id, _) in &readable {
                u.remove(id);
            }
            u.extend(failed);
        });
        self.models.update(|ms| ms.extend(readable));
    }

    /// Registers a new model from a validated draft; returns its id once stored.
    pub async fn create(&self, draft: &ModelDraft, fields: &[String], author: &str) -> Result<String, SaveError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut model = Model::new(id.clone(), author, now);
        draft.apply(&mut model, fields).map_err(SaveError::Invalid)?;
        let mut document = doc::create(&model, now).map_err(|e| SaveError::Document(e.to_string()))?;
        let bytes = document.save();
        let written = self
            .store
            .update(&id, |_| Some(DocRecord { id: id.clone(), doc: bytes, sync: None, dirty: true }))
            .await?;
        self.after_local_write(written);
        Ok(id)
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
        let mut failure = None;
        let written = self
            .store
            .update(id, |rec| {
                let mut rec = rec?;
                let result = (|| {
                    let mut d = doc::load(&rec.doc)?;
                    let mut model = doc::read_model(&d)?;
                    if draft.apply_changes(Some(base), &mut model, fields).is_err() {
                        return Ok(None);
                    }
                    model.updated_by = author.to_string();
                    model.updated_at = now_ms();
                    doc::write_model(&mut d, &model, model.updated_at, "sửa mô hình")?;
                    Ok::<_, doc::DocError>(Some(d.save()))
                })();
                match result {
                    Ok(Some(bytes)) => {
                        rec.doc = bytes;
                        rec.dirty = true;
                        Some(rec)
                    }
                    Ok(None) => None,
                    Err(e) => {
                        failure = Some(e.to_string());
                        None
                    }
                }
            })
            .await?;
        if let Some(e) = failure {
            return Err(SaveError::Document(e));
        }
        if written.is_none() {
            return Err(SaveError::NotFound);
        }
        self.after_local_write(written);
        Ok(())
    }

    fn after_local_write(&self, written: Option<DocRecord>) {
        if let Some(rec) = written {
            self.written(std::slice::from_ref(&rec));
        }
        self.local_change.update(|n| *n += 1);
    }
}
