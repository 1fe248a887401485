//! Small per-device state in localStorage (gloo-storage): the configured fields, the sync cursor
//! and unsaved form drafts. Documents never go here (see `storage`); the signed-in user is in
//! `account`.

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use crate::domain::field_choices;
use crate::sync::session::Cursor;

const SETTINGS: &str = "danvan.settings";
const CURSOR: &str = "danvan.sync.cursor";
const DRAFT_PREFIX: &str = "danvan.draft.";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Extra fields (lĩnh vực) beyond the standard four, e.g. "Cải cách hành chính".
    pub custom_fields: Vec<String>,
}

impl Settings {
    pub fn load() -> Settings {
        LocalStorage::get(SETTINGS).unwrap_or_default()
    }
    pub fn save(&self) -> Result<(), String> {
        LocalStorage::set(SETTINGS, self).map_err(|e| e.to_string())
    }
    /// (code, label) of every field offered.
    pub fn fields(&self) -> Vec<(String, String)> {
        field_choices(&self.custom_fields)
    }
    pub fn field_codes(&self) -> Vec<String> {
        self.fields().into_iter().map(|(c, _)| c).collect()
    }
}

/// Where this replica is in the server's change feed.
pub fn load_cursor() -> Cursor {
    LocalStorage::get(CURSOR).unwrap_or_default()
}
pub fn save_cursor(cursor: &Cursor) {
    if let Err(e) = LocalStorage::set(CURSOR, cursor) {
        // Losing the cursor only costs a longer next sync, never data.
        leptos::logging::warn!("could not save sync cursor: {e}");
    }
}

/// Unsaved form input, kept across reloads so nothing typed is lost (key: "new" or a model id).
/// A form typed but not saved yet (a model, an activity log entry, a score sheet), kept so that
/// nothing typed is lost on a reload, a crash or the page being redrawn by a sync.
pub fn load_draft<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    LocalStorage::get(format!("{DRAFT_PREFIX}{key}")).ok()
}
pub fn save_draft<T: Serialize>(key: &str, draft: &T) {
    let _ = LocalStorage::set(format!("{DRAFT_PREFIX}{key}"), draft);
}
pub fn clear_draft(key: &str) {
    LocalStorage::delete(format!("{DRAFT_PREFIX}{key}"));
}

/// Everything of the signed-out user kept here besides documents: cursor, drafts, settings, the
/// list of refused documents.
pub fn forget_user_data() {
    let storage = LocalStorage::raw();
    let keys: Vec<String> = (0..storage.length().unwrap_or(0)).filter_map(|i| storage.key(i).ok().flatten()).collect();
    for key in keys {
        if key.starts_with(DRAFT_PREFIX) || key == CURSOR || key == SETTINGS || key.starts_with("danvan.sync.") {
            LocalStorage::delete(&key);
        }
    }
}
