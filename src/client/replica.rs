//! The local replica: the models the UI shows, kept in step with IndexedDB.
//!
//! Invariant: the UI reads only `models` and changes documents only through [`Replica::create`] and
//! [`Replica::edit`], which return after the change is committed to IndexedDB.

use std::collections::BTreeMap;
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
    /// Documents with changes the server has not acknowledged.
    pub pending: RwSignal<usize>,
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
        let replica = Replica {
            store: SendWrapper::new(Rc::new(store)),
            models: RwSignal::new(BTreeMap::new()),
            pending: RwSignal::new(0),
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
                replica.refresh_pending().await;
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

    /// Re-reads every record (start-up, and after sync touched many documents).
    pub async fn reload(&self) -> Result<(), StorageError> {
        let records = self.store.all().await?;
        let mut models = BTreeMap::new();
        let mut unreadable = BTreeMap::new();
        let mut pending = 0;
        for rec in &records {
            pending += rec.dirty as usize;
            match doc::load(&rec.doc).and_then(|d| doc::read_model(&d)) {
                Ok(m) => {
                    models.insert(rec.id.clone(), m);
                }
                Err(e) => {
                    unreadable.insert(rec.id.clone(), e.to_string());
                }
            }
        }
        self.models.set(models);
        self.unreadable.set(unreadable);
        self.pending.set(pending);
        Ok(())
    }

    /// Takes note of records written elsewhere without re-reading everything.
    pub fn absorb(&self, written: &[DocRecord]) {
        for rec in written {
            match doc::load(&rec.doc).and_then(|d| doc::read_model(&d)) {
                Ok(m) => {
                    self.models.update(|ms| {
                        ms.insert(rec.id.clone(), m);
                    });
                    self.unreadable.update(|u| {
                        u.remove(&rec.id);
                    });
                }
                Err(e) => self.unreadable.update(|u| {
                    u.insert(rec.id.clone(), e.to_string());
                }),
            }
        }
    }

    pub async fn refresh_pending(&self) {
        if let Ok(records) = self.store.all().await {
            self.pending.set(records.iter().filter(|r| r.dirty).count());
        }
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
        let replica = self.clone();
        leptos::task::spawn_local(async move { replica.refresh_pending().await });
        self.local_change.update(|n| *n += 1);
    }
}
