//! A device backup merged into the replica (the zip itself is read by the report module, see
//! `backup_file` and `pages::backup`). The documents go through the path sync uses — one
//! storage transaction, then `Replica::written` (shown, other tabs told, the sync loop woken) —
//! and are merged as sync merges the feed, so a restore can neither overwrite nor duplicate.
//!
//! Invariants: the documents of a backup are merged all or nothing (one transaction; a refused
//! document or a full storage aborts it, and the device is as it was); a photo is stored only if
//! its bytes hash to its id and an entry of its model's activity log shows it, each photo in its
//! own transaction (storage filling up midway keeps the photos stored so far, none half-written;
//! the same file restored again adds the rest).

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;

use crate::backup_file::{BackupDoc, Merge, PhotoEntry, check_photo, merge_document};
use crate::client::local::replica::Replica;
use crate::client::local::storage::{StorageError, StoredPhoto, TryUpdateError};

/// What restoring the documents did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DocsRestored {
    pub new: usize,
    pub merged: usize,
    pub unchanged: usize,
    /// Per document of the backup: the photos its activity log shows, and its owning unit.
    pub photos: BTreeMap<String, BTreeSet<String>>,
    pub units: BTreeMap<String, String>,
}

/// Why nothing of the documents was restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestoreError {
    #[error("Bản sao có tài liệu không nhận được: {0}. Không có gì trên thiết bị bị thay đổi.")]
    Refused(String),
    #[error("Bộ nhớ của trình duyệt đã đầy nên chưa khôi phục được; không có gì trên thiết bị bị thay đổi. Hãy giải phóng dung lượng (xóa bớt ảnh, ứng dụng hoặc dữ liệu trang web khác) rồi khôi phục lại.")]
    Full,
    #[error("Lưu trữ trên thiết bị gặp lỗi nên chưa khôi phục được; không có gì bị thay đổi ({0}).")]
    Storage(String),
}

/// Merges every document of a backup into the replica, in one transaction.
pub async fn restore_docs(replica: &Replica, docs: &[BackupDoc]) -> Result<DocsRestored, RestoreError> {
    let bytes: BTreeMap<&str, &[u8]> = docs.iter().map(|d| (d.id.as_str(), d.bytes.as_slice())).collect();
    let ids: Vec<String> = bytes.keys().map(|id| id.to_string()).collect();
    let mut done = DocsRestored::default();
    let written = replica
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
    if !written.is_empty() {
        // As after a local edit: shown at once (and in other tabs), and the sync loop wakes up.
        replica.written(&written);
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
