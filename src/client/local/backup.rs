//! A device backup merged into the replica (the zip itself is read by the report module, see
//! `backup_file` and `pages::backup`). The documents are merged by the document engine as sync
//! merges the feed — one storage transaction, then shown, other tabs told, the sync loop woken —
//! so a restore can neither overwrite nor duplicate.
//!
//! Invariants: the documents of a backup are merged all or nothing (one transaction; a refused
//! document or a full storage aborts it, and the device is as it was); a photo is stored only if
//! its bytes hash to its id and an entry of its model's activity log shows it, each photo in its
//! own transaction (storage filling up midway keeps the photos stored so far, none half-written;
//! the same file restored again adds the rest).

use leptos::prelude::*;

use crate::backup_file::{PhotoEntry, check_photo};
use crate::client::local::engine;
use crate::client::local::replica::Replica;
use crate::client::local::storage::{StorageError, StoredPhoto};

pub use crate::client::engine::api::{DocsRestored, RestoreError};

/// Merges every document of a backup (`opened`: the report module's postcard `Opened`) into the
/// replica, in one transaction, by the document engine (`engine::restore`): shown at once (and in
/// other tabs), then the sync loop wakes up.
pub async fn restore_docs(replica: &Replica, opened: Vec<u8>) -> Result<DocsRestored, RestoreError> {
    let answer = engine::request("restore", &[js_sys::Uint8Array::from(opened.as_slice()).into()], RestoreError::Storage).await?;
    let done: DocsRestored = engine::answer(answer).map_err(RestoreError::Storage)?;
    if done.new + done.merged > 0 {
        replica.local_change.update(|n| *n += 1);
    }
    Ok(done)
}

/// Keeps one photo of a backup (checked again here, where it enters storage). `ours`: this user
/// uploads photos of its model's unit, so it waits for upload (the uploader asks the server
/// first and sends nothing the server has); otherwise it came from the server to begin with.
/// A photo already on the device is kept as it is (`put_photo`), with its upload state.
pub async fn keep_photo(replica: &Replica, entry: &PhotoEntry, bytes: Vec<u8>, ours: bool) -> Result<(), StorageError> {
    check_photo(&entry.id, &entry.content_type, &bytes).map_err(|reason| StorageError::Failed(format!("ảnh {}: {reason}", entry.id)))?;
    let photo = StoredPhoto { id: entry.id.clone(), doc: entry.doc.clone(), content_type: entry.content_type.clone(), data: bytes, uploaded: !ours };
    replica.store.put_photo(&photo).await
}
