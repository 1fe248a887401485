//! The browser's copy of the documents: IndexedDB, one record per model document.
//!
//! Record layout (object store `docs`, key = document id):
//! `{ id: string, doc: Uint8Array (automerge save), sync: Uint8Array | null (encoded sync state
//! with the server), dirty: boolean (has changes the server has not acknowledged), digest: string
//! ([`digest`] of `doc`, written with it; absent in records written before stop 27) }`.
//!
//! Object store `models` caches each document's decoded model with a digest of the bytes it was
//! decoded from (a cache only: a digest that differs means "decode again"):
//! `{ id: string, digest: string, model: Uint8Array (`Model::to_cache`: a format byte, then
//! postcard) }`. Records written before stop 31 hold the model's JSON (as a string before stop
//! 27, as its UTF-8 after): they read as no cached model, and the engine decodes those documents
//! again and caches them anew, once.
//!
//! Object store `pending` holds the ids of dirty records (key = value = id), written in the same
//! transaction as the record, so a sync finds what to send without reading every document.
//!
//! Object store `photos` keeps the activity log's photos, apart from the documents (key = the
//! photo's SHA-256): `{ id, doc: string (the model's id), type: string, data: Uint8Array,
//! uploaded: boolean }`. Taken on this device: `uploaded` false until the server has all of it;
//! fetched from the server: `uploaded` true. Object store `photo_uploads` lists the photos not
//! uploaded yet (key = photo id, value = the model's id), written in the same transaction as the
//! photo, so an upload round finds its work without reading every photo's bytes (as `pending` does
//! for documents).
//!
//! Invariant: every read-modify-write of a record happens inside one readwrite transaction, so two
//! tabs (or the sync loop and an edit) never overwrite each other's changes; a write is reported
//! only after its transaction committed.

use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// 2: the `pending` index of dirty records; 3: photos and the list of those not uploaded.
const DB_VERSION: u32 = 3;
const PHOTOS: &str = "photos";
const PHOTO_UPLOADS: &str = "photo_uploads";
const DOCS: &str = "docs";
const PENDING: &str = "pending";
/// Decoded models `{id, digest, model}`, so start-up does not decode every document again.
const SUMMARIES: &str = "models";

pub use crate::sync::session::DocRecord;

/// What a start reads (`LocalStore::start_read`).
pub struct StartRead {
    /// Every document's id.
    pub ids: Vec<String>,
    pub cached: CachedModels,
    /// The ids of documents holding changes the server has not acknowledged.
    pub dirty: Vec<String>,
}

/// The cached models as read at start: their ids, and their bytes still in the records' own
/// JavaScript values, copied into wasm a slice at a time as the app reads them (`slice`).
#[derive(Default)]
pub struct CachedModels {
    ids: Vec<String>,
    models: js_sys::Array,
}

impl CachedModels {
    /// The cached models' record ids; a model's place in this list is its place for `slice`.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The cached models `from..to` (places in `ids`), one after another (written into `bytes`,
    /// cleared first), and where each ends (into `ends`).
    pub fn slice(&self, from: usize, to: usize, bytes: &mut Vec<u8>, ends: &mut Vec<u32>) {
        let answer = cached_slice(&self.models, from as u32, to as u32);
        let joined: Uint8Array = answer.get(0).unchecked_into();
        let at: js_sys::Uint32Array = answer.get(1).unchecked_into();
        bytes.clear();
        bytes.resize(joined.length() as usize, 0);
        joined.copy_to(bytes);
        ends.clear();
        ends.resize(at.length() as usize, 0);
        at.copy_to(ends);
    }

    /// Every cached model's bytes by record id (for tests and checks; the app reads them a slice
    /// at a time).
    pub fn by_id(&self) -> std::collections::HashMap<String, Vec<u8>> {
        let (mut bytes, mut ends) = (Vec::new(), Vec::new());
        self.slice(0, self.ids.len(), &mut bytes, &mut ends);
        let mut start = 0;
        let mut by_id = std::collections::HashMap::new();
        for (id, &end) in self.ids.iter().zip(&ends) {
            by_id.insert(id.clone(), bytes[start..end as usize].to_vec());
            start = end as usize;
        }
        by_id
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/client/local/storage.js")]
extern "C" {
    /// The cached models `from..to` of `cached_parts`' list: `[their bytes one after another, where
    /// each ends]`.
    fn cached_slice(models: &js_sys::Array, from: u32, to: u32) -> js_sys::Array;
    /// In the transaction `tx` (over `docs`, `models`, `pending`): `[JSON of the documents' ids,
    /// [JSON of the cached models' ids, their models], JSON of the dirty ids]`.
    fn read_start(tx: &JsValue) -> js_sys::Promise;
    /// `[ids and digests alternating, the records without a digest]` of the documents `values`.
    fn doc_digests(values: &js_sys::Array) -> js_sys::Array;
}

/// What a document's bytes are, in short: FNV-1a of the bytes and their length. Written with each
/// record (`to_js`) and with each cached model, so the engine's check at start compares two strings
/// per document instead of reading every document's bytes into wasm and hashing them.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}-{}", bytes.len())
}

/// Why the device's storage did not do what was asked; the sentence shown (Vietnamese; the page
/// shows it through `i18n::tr`).
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum StorageError {
    #[error(
        "Bộ nhớ của trình duyệt đã đầy nên chưa lưu được. Hãy xóa bớt dữ liệu trang web khác hoặc giải phóng dung lượng máy, rồi bấm lưu lại — nội dung đang nhập vẫn còn."
    )]
    Full,
    #[error("Trình duyệt không cho phép lưu dữ liệu (chế độ ẩn danh hoặc bị chặn): {0}")]
    Unavailable(String),
    #[error("Lỗi lưu trữ trên thiết bị: {0}")]
    Failed(String),
}

impl From<idb::Error> for StorageError {
    fn from(e: idb::Error) -> Self {
        let text = format!("{e:?}");
        if text.contains("QuotaExceeded") {
            StorageError::Full
        } else {
            StorageError::Failed(text)
        }
    }
}

/// Why an all-or-nothing write changed nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TryUpdateError {
    /// `f` refused a record (its reason, Vietnamese).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Storage(#[from] StorageError),
}

impl From<idb::Error> for TryUpdateError {
    fn from(e: idb::Error) -> Self {
        TryUpdateError::Storage(e.into())
    }
}

pub struct LocalStore {
    db: Database,
}

impl LocalStore {
    pub async fn open(name: &str) -> Result<LocalStore, StorageError> {
        let factory = Factory::new().map_err(|e| StorageError::Unavailable(format!("{e:?}")))?;
        let mut request = factory.open(name, Some(DB_VERSION)).map_err(|e| StorageError::Unavailable(format!("{e:?}")))?;
        let upgraded_from = std::rc::Rc::new(std::cell::Cell::new(None::<u32>));
        let seen = upgraded_from.clone();
        request.on_upgrade_needed(move |event| {
            seen.set(event.old_version().ok());
            if let Ok(db) = event.database() {
                let names = db.store_names();
                if !names.iter().any(|n| n == DOCS) {
                    let mut params = ObjectStoreParams::new();
                    params.key_path(Some(idb::KeyPath::new_single("id")));
                    let _ = db.create_object_store(DOCS, params);
                }
                for unkeyed in [PENDING, PHOTO_UPLOADS] {
                    if !names.iter().any(|n| n == unkeyed) {
                        let _ = db.create_object_store(unkeyed, ObjectStoreParams::new());
                    }
                }
                for keyed in [SUMMARIES, PHOTOS] {
                    if !names.iter().any(|n| n == keyed) {
                        let mut params = ObjectStoreParams::new();
                        params.key_path(Some(idb::KeyPath::new_single("id")));
                        let _ = db.create_object_store(keyed, params);
                    }
                }
            }
        });
        let db = request.await.map_err(|e| StorageError::Unavailable(format!("{e:?}")))?;
        let store = LocalStore { db };
        if upgraded_from.get().is_some_and(|v| v >= 1) {
            // Records written before the `pending` store existed: list the dirty ones once.
            let dirty: Vec<String> = store.all().await?.into_iter().filter(|r| r.dirty).map(|r| r.id).collect();
            store.update_each(&dirty, |_, rec| rec).await?;
        }
        Ok(store)
    }

    pub async fn all(&self) -> Result<Vec<DocRecord>, StorageError> {
        let tx = self.db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
        let values = tx.object_store(DOCS)?.get_all(None, None)?.await?;
        Ok(values.iter().filter_map(from_js).collect())
    }

    /// Every document's id and [`digest`], without crossing its bytes into wasm: the digest stored
    /// with the record, or, for a record written before stop 27, made from its bytes.
    pub async fn doc_digests(&self) -> Result<Vec<(String, String)>, StorageError> {
        let tx = self.db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
        let values = tx.object_store(DOCS)?.get_all(None, None)?.await?;
        let array: js_sys::Array = values.into_iter().collect();
        let split = doc_digests(&array);
        let pairs: js_sys::Array = split.get(0).unchecked_into();
        let without: js_sys::Array = split.get(1).unchecked_into();
        let mut out = Vec::with_capacity(pairs.length() as usize / 2 + without.length() as usize);
        let mut strings = pairs.iter().filter_map(|v| v.as_string());
        while let (Some(id), Some(digest)) = (strings.next(), strings.next()) {
            out.push((id, digest));
        }
        out.extend(without.iter().filter_map(|v| from_js(&v)).map(|rec| (rec.id, digest(&rec.doc))));
        Ok(out)
    }

    /// The records of `ids` that exist, read in one transaction.
    pub async fn records(&self, ids: &[String]) -> Result<Vec<DocRecord>, StorageError> {
        let tx = self.db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
        let store = tx.object_store(DOCS)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(rec) = store.get(JsValue::from_str(id))?.await?.as_ref().and_then(from_js) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Ids of records holding changes the server has not acknowledged.
    pub async fn dirty_ids(&self) -> Result<Vec<String>, StorageError> {
        let tx = self.db.transaction(&[PENDING], TransactionMode::ReadOnly)?;
        let keys = tx.object_store(PENDING)?.get_all_keys(None, None)?.await?;
        Ok(keys.iter().filter_map(|k| k.as_string()).collect())
    }

    /// The digests of the cached decoded models: id → digest of the bytes each was decoded from.
    /// The models themselves stay in JavaScript (the engine compares digests only: reading 1,500
    /// models' JSON into its memory cost ~80 ms at 4× CPU on every start).
    pub async fn summaries(&self) -> Result<std::collections::HashMap<String, String>, StorageError> {
        let tx = self.db.transaction(&[SUMMARIES], TransactionMode::ReadOnly)?;
        let values = tx.object_store(SUMMARIES)?.get_all(None, None)?.await?;
        let text = |v: &JsValue, k: &str| Reflect::get(v, &JsValue::from_str(k)).ok().and_then(|x| x.as_string());
        Ok(values.iter().filter_map(|v| Some((text(v, "id")?, text(v, "digest")?))).collect())
    }

    /// What a start shows, read in one transaction whose requests are made and answered in
    /// JavaScript: the ids of every document and of those waiting for the server, and every
    /// cached model. One transaction, so the three agree (another tab may write between
    /// separate ones); and no key or record crosses into wasm one at a time (through `idb`, each
    /// of 1,500 became a handle in wasm, the records then a JavaScript array again). Measured at
    /// 4× CPU (issue 15), the reading phase of a warm start stayed ~260–290 ms either way: most of
    /// it is the browser answering.
    ///
    /// The cached models cross a slice at a time, each slice one buffer joined in JavaScript and
    /// copied into wasm at once (bytes, not strings: a copy rather than a UTF-16 → UTF-8
    /// conversion of megabytes, ~100 ms more at 4×). A damaged record reads as no cached model:
    /// the engine decodes that document again.
    pub async fn start_read(&self) -> Result<StartRead, StorageError> {
        let tx: JsValue = self.db.transaction(&[DOCS, SUMMARIES, PENDING], TransactionMode::ReadOnly)?.into();
        let read: js_sys::Array = wasm_bindgen_futures::JsFuture::from(read_start(&tx))
            .await
            .map_err(|e| StorageError::Failed(format!("{e:?}")))?
            .unchecked_into();
        let ids = |i: u32| -> Result<Vec<String>, StorageError> {
            serde_json::from_str(&read.get(i).as_string().unwrap_or_default()).map_err(|e| StorageError::Failed(e.to_string()))
        };
        let cached: js_sys::Array = read.get(1).unchecked_into();
        let cached = CachedModels {
            ids: serde_json::from_str(&cached.get(0).as_string().unwrap_or_default()).map_err(|e| StorageError::Failed(e.to_string()))?,
            models: cached.get(1).unchecked_into(),
        };
        Ok(StartRead {
            ids: ids(0)?,
            cached,
            dirty: ids(2)?,
        })
    }

    /// Stores decoded models `(id, digest, Model::to_cache)`; losing them costs only a decode later.
    pub async fn put_summaries(&self, items: &[(String, String, Vec<u8>)]) -> Result<(), StorageError> {
        if items.is_empty() {
            return Ok(());
        }
        let tx = self.db.transaction(&[SUMMARIES], TransactionMode::ReadWrite)?;
        let store = tx.object_store(SUMMARIES)?;
        for (id, digest, model) in items {
            let o = Object::new();
            let _ = Reflect::set(&o, &JsValue::from_str("id"), &JsValue::from_str(id));
            let _ = Reflect::set(&o, &JsValue::from_str("digest"), &JsValue::from_str(digest));
            let _ = Reflect::set(&o, &JsValue::from_str("model"), &Uint8Array::from(model.as_slice()));
            store.put(&o.into(), None)?.await?;
        }
        tx.await?;
        Ok(())
    }

    pub async fn all_ids(&self) -> Result<Vec<String>, StorageError> {
        let tx = self.db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
        let keys = tx.object_store(DOCS)?.get_all_keys(None, None)?.await?;
        Ok(keys.iter().filter_map(|k| k.as_string()).collect())
    }

    pub async fn get(&self, id: &str) -> Result<Option<DocRecord>, StorageError> {
        let tx = self.db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
        let value = tx.object_store(DOCS)?.get(JsValue::from_str(id))?.await?;
        Ok(value.as_ref().and_then(from_js))
    }

    /// Atomically replaces each record by what `f` makes of it (`None`: record absent), all in one
    /// transaction. `f` returning `None` leaves the record as it is. Returns the records written.
    pub async fn update_each<F>(&self, ids: &[String], mut f: F) -> Result<Vec<DocRecord>, StorageError>
    where
        F: FnMut(&str, Option<DocRecord>) -> Option<DocRecord>,
    {
        // The same transaction as `try_update_each`, with an `f` that never refuses.
        self.try_update_each(ids, |id, rec| Ok(f(id, rec))).await.map_err(|e| match e {
            TryUpdateError::Storage(e) => e,
            TryUpdateError::Refused(reason) => StorageError::Failed(reason),
        })
    }

    /// Like [`update_each`](Self::update_each), all or nothing: the first `Err` of `f` aborts the
    /// transaction, so none of the records is changed (a restore that meets a bad document, or
    /// storage that fills midway, leaves the device as it was). Returns the records written.
    pub async fn try_update_each<F>(&self, ids: &[String], mut f: F) -> Result<Vec<DocRecord>, TryUpdateError>
    where
        F: FnMut(&str, Option<DocRecord>) -> Result<Option<DocRecord>, String>,
    {
        let tx = self.db.transaction(&[DOCS, PENDING], TransactionMode::ReadWrite)?;
        let store = tx.object_store(DOCS)?;
        let pending = tx.object_store(PENDING)?;
        let mut written = Vec::new();
        for id in ids {
            let current = store.get(JsValue::from_str(id))?.await?;
            match f(id, current.as_ref().and_then(from_js)) {
                Ok(Some(next)) => {
                    store.put(&to_js(&next), None)?.await?;
                    let key = JsValue::from_str(&next.id);
                    if next.dirty {
                        pending.put(&key, Some(&key))?.await?;
                    } else {
                        pending.delete(key)?.await?;
                    }
                    written.push(next);
                }
                Ok(None) => {}
                Err(reason) => {
                    let _ = tx.abort();
                    return Err(TryUpdateError::Refused(reason));
                }
            }
        }
        let result = tx.await?;
        if !result.is_committed() {
            return Err(StorageError::Failed("giao dịch lưu trữ bị hủy".into()).into());
        }
        Ok(written)
    }

    pub async fn update<F>(&self, id: &str, f: F) -> Result<Option<DocRecord>, StorageError>
    where
        F: FnOnce(Option<DocRecord>) -> Option<DocRecord>,
    {
        let mut f = Some(f);
        let written = self.update_each(&[id.to_string()], |_, rec| f.take().and_then(|f| f(rec))).await?;
        Ok(written.into_iter().next())
    }

    /// Removes every record (the storage tests use it; sign-out will, in the accounts issue).
    pub async fn clear(&self) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[DOCS, PENDING, SUMMARIES, PHOTOS, PHOTO_UPLOADS], TransactionMode::ReadWrite)?;
        for store in [DOCS, PENDING, SUMMARIES, PHOTOS, PHOTO_UPLOADS] {
            tx.object_store(store)?.clear()?.await?;
        }
        tx.await?;
        Ok(())
    }

    /// Stores a photo; returns after the commit. An existing record with the same id (the same
    /// bytes) is kept as it is, so its `uploaded` flag is not lost.
    pub async fn put_photo(&self, photo: &StoredPhoto) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[PHOTOS, PHOTO_UPLOADS], TransactionMode::ReadWrite)?;
        let store = tx.object_store(PHOTOS)?;
        let key = JsValue::from_str(&photo.id);
        if store.get(key.clone())?.await?.is_none() {
            store.put(&photo.to_js(), None)?.await?;
            if !photo.uploaded {
                tx.object_store(PHOTO_UPLOADS)?.put(&JsValue::from_str(&photo.doc), Some(&key))?.await?;
            }
        }
        if !tx.await?.is_committed() {
            return Err(StorageError::Failed("giao dịch lưu ảnh bị hủy".into()));
        }
        Ok(())
    }

    /// Every photo's id (keys only: the bytes stay in storage).
    pub async fn photo_ids(&self) -> Result<Vec<String>, StorageError> {
        let tx = self.db.transaction(&[PHOTOS], TransactionMode::ReadOnly)?;
        let keys = tx.object_store(PHOTOS)?.get_all_keys(None, None)?.await?;
        Ok(keys.iter().filter_map(|k| k.as_string()).collect())
    }

    /// Takes back "the server has it" from every photo `ours` says this user uploads, and lists
    /// them for upload again: after the server was replaced or restored from an older backup it
    /// may lack them. The uploader asks the server's `status` first, so a photo it still has
    /// costs one request and is not sent again. Reads one photo at a time. Returns how many.
    pub async fn reset_uploaded(&self, ours: impl Fn(&StoredPhoto) -> bool) -> Result<usize, StorageError> {
        let tx = self.db.transaction(&[PHOTOS, PHOTO_UPLOADS], TransactionMode::ReadWrite)?;
        let store = tx.object_store(PHOTOS)?;
        let uploads = tx.object_store(PHOTO_UPLOADS)?;
        let keys = store.get_all_keys(None, None)?.await?;
        let mut reset = 0;
        for key in keys {
            let Some(mut photo) = store.get(key.clone())?.await?.as_ref().and_then(StoredPhoto::from_js) else { continue };
            if !photo.uploaded || !ours(&photo) {
                continue;
            }
            photo.uploaded = false;
            store.put(&photo.to_js(), None)?.await?;
            uploads.put(&JsValue::from_str(&photo.doc), Some(&key))?.await?;
            reset += 1;
        }
        if !tx.await?.is_committed() {
            return Err(StorageError::Failed("giao dịch lưu ảnh bị hủy".into()));
        }
        Ok(reset)
    }

    pub async fn photo(&self, id: &str) -> Result<Option<StoredPhoto>, StorageError> {
        let tx = self.db.transaction(&[PHOTOS], TransactionMode::ReadOnly)?;
        let value = tx.object_store(PHOTOS)?.get(JsValue::from_str(id))?.await?;
        Ok(value.as_ref().and_then(StoredPhoto::from_js))
    }

    /// Photos taken here that the server does not have yet, as (photo id, model id); their
    /// bytes are read one photo at a time, by [`photo`](Self::photo).
    pub async fn photos_to_upload(&self) -> Result<Vec<(String, String)>, StorageError> {
        let tx = self.db.transaction(&[PHOTO_UPLOADS], TransactionMode::ReadOnly)?;
        let store = tx.object_store(PHOTO_UPLOADS)?;
        let keys = store.get_all_keys(None, None)?.await?;
        let docs = store.get_all(None, None)?.await?;
        Ok(keys.iter().zip(docs.iter()).filter_map(|(k, d)| Some((k.as_string()?, d.as_string()?))).collect())
    }

    pub async fn delete_photo(&self, id: &str) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[PHOTOS, PHOTO_UPLOADS], TransactionMode::ReadWrite)?;
        tx.object_store(PHOTOS)?.delete(JsValue::from_str(id))?.await?;
        tx.object_store(PHOTO_UPLOADS)?.delete(JsValue::from_str(id))?.await?;
        tx.await?;
        Ok(())
    }

    pub async fn mark_uploaded(&self, id: &str) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[PHOTOS, PHOTO_UPLOADS], TransactionMode::ReadWrite)?;
        let store = tx.object_store(PHOTOS)?;
        if let Some(mut photo) = store.get(JsValue::from_str(id))?.await?.as_ref().and_then(StoredPhoto::from_js) {
            photo.uploaded = true;
            store.put(&photo.to_js(), None)?.await?;
        }
        tx.object_store(PHOTO_UPLOADS)?.delete(JsValue::from_str(id))?.await?;
        tx.await?;
        Ok(())
    }
}

/// A photo as kept on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPhoto {
    pub id: String,
    pub doc: String,
    pub content_type: String,
    pub data: Vec<u8>,
    pub uploaded: bool,
}

impl StoredPhoto {
    fn to_js(&self) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&o, &JsValue::from_str(k), v);
        };
        set("id", &JsValue::from_str(&self.id));
        set("doc", &JsValue::from_str(&self.doc));
        set("type", &JsValue::from_str(&self.content_type));
        set("data", &Uint8Array::from(self.data.as_slice()).into());
        set("uploaded", &JsValue::from_bool(self.uploaded));
        o.into()
    }

    fn from_js(v: &JsValue) -> Option<StoredPhoto> {
        let get = |k: &str| Reflect::get(v, &JsValue::from_str(k)).ok();
        Some(StoredPhoto {
            id: get("id")?.as_string()?,
            doc: get("doc")?.as_string()?,
            content_type: get("type")?.as_string()?,
            data: get("data")?.dyn_into::<Uint8Array>().ok()?.to_vec(),
            uploaded: get("uploaded").and_then(|u| u.as_bool()).unwrap_or(false),
        })
    }
}

fn to_js(r: &DocRecord) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    };
    set("id", &JsValue::from_str(&r.id));
    set("doc", &Uint8Array::from(r.doc.as_slice()).into());
    set("sync", &r.sync.as_ref().map_or(JsValue::NULL, |s| Uint8Array::from(s.as_slice()).into()));
    set("dirty", &JsValue::from_bool(r.dirty));
    set("digest", &JsValue::from_str(&digest(&r.doc)));
    o.into()
}

fn from_js(v: &JsValue) -> Option<DocRecord> {
    let get = |k: &str| Reflect::get(v, &JsValue::from_str(k)).ok();
    let bytes = |v: JsValue| v.dyn_into::<Uint8Array>().ok().map(|a| a.to_vec());
    Some(DocRecord {
        id: get("id")?.as_string()?,
        doc: bytes(get("doc")?)?,
        sync: get("sync").and_then(bytes),
        dirty: get("dirty").and_then(|d| d.as_bool()).unwrap_or(true),
    })
}
