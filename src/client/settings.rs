//! Small per-device state in localStorage (gloo-storage): who is using the device, the configured
//! fields, and the sync cursor. Documents never go here (see `storage`).

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use crate::domain::{ModelDraft, field_choices};
use crate::sync::session::Cursor;

const SETTINGS: &str = "danvan.settings";
const CURSOR: &str = "danvan.sync.cursor";
const DRAFT_PREFIX: &str = "danvan.draft.";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Name recorded as created/updated by (accounts come later).
    pub user_name: String,
    /// The unit this device usually registers for; pre-fills new models.
    pub unit: String,
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
    pub fn author(&self) -> String {
        let n = self.user_name.trim();
        if n.is_empty() { "Cán bộ (chưa đặt tên)".to_string() } else { n.to_string() }
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
pub fn load_draft(key: &str) -> Option<ModelDraft> {
    LocalStorage::get(format!("{DRAFT_PREFIX}{key}")).ok()
}
pub fn save_draft(key: &str, draft: &ModelDraft) {
    let _ = LocalStorage::set(format!("{DRAFT_PREFIX}{key}"), draft);
}
pub fn clear_draft(key: &str) {
    LocalStorage::delete(format!("{DRAFT_PREFIX}{key}"));
}
