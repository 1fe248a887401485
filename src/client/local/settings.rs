//! Small per-device state in localStorage (gloo-storage): the configured fields, the sync cursor
//! and unsaved form drafts. Documents never go here (see `storage`); the signed-in user is in
//! `account`.

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

/// When this device last finished a sync with the server (ms), so a report computed offline can
/// say how current its figures are. Under "danvan.sync.", so signing out forgets it.
const LAST_SYNCED: &str = "danvan.sync.last_synced";

pub fn load_last_synced() -> Option<i64> {
    LocalStorage::get(LAST_SYNCED).ok()
}
pub fn save_last_synced(at_ms: i64) {
    // Only a report's "đồng bộ lúc …" line depends on it.
    let _ = LocalStorage::set(LAST_SYNCED, at_ms);
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

/// The model form's unsaved input together with the values the form opened with. The base is what
/// `ModelDraft::apply_changes` compares against to find the fields the user changed; kept with the
/// draft, a reload still writes only those, so a colleague's edit of another field (synced
/// meanwhile) survives instead of being written back with the value the form first showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFormDraft {
    pub base: ModelDraft,
    pub typed: ModelDraft,
}

impl ModelFormDraft {
    /// Whether anything was typed (a draft equal to its base holds nothing to keep).
    pub fn is_typed(&self) -> bool {
        self.typed != self.base
    }

    /// The draft moved onto the model as it is now: every item the user did not touch takes the
    /// current value, in the form and in the base, so the form shows a colleague's change and a
    /// save leaves it alone; items the user typed keep their typed value against their old base.
    /// Items are the form's top-level keys (the indicator rows as one: `apply_changes` merges
    /// them row by row against the base, so rows a colleague added or edited survive either way).
    pub fn rebase(self, current: &ModelDraft) -> ModelFormDraft {
        use serde_json::{Value, to_value};
        let (Ok(Value::Object(base)), Ok(Value::Object(typed)), Ok(Value::Object(now))) =
            (to_value(&self.base), to_value(&self.typed), to_value(current))
        else {
            return self;
        };
        let (mut new_base, mut new_typed) = (now.clone(), now);
        for (key, typed_value) in typed {
            if base.get(&key) != Some(&typed_value) {
                if let Some(b) = base.get(&key) {
                    new_base.insert(key.clone(), b.clone());
                }
                new_typed.insert(key, typed_value);
            }
        }
        // Through text, not `from_value`: the app's module then holds one `ModelDraft` reader (the
        // one drafts are loaded with), not two — each is ~20 KB of wasm.
        let read = |v: serde_json::Map<String, Value>| serde_json::to_string(&v).ok().and_then(|t| serde_json::from_str(&t).ok());
        match (read(new_base), read(new_typed)) {
            (Some(base), Some(typed)) => ModelFormDraft { base, typed },
            _ => self,
        }
    }
}

/// The model form's draft under `key`, moved onto `current` (what the form would open with now).
/// A draft from before the base was kept gets `current` as its base, the best still known.
pub fn load_model_draft(key: &str, current: &ModelDraft) -> Option<ModelFormDraft> {
    let draft = match load_draft::<ModelFormDraft>(key) {
        Some(d) => d.rebase(current),
        None => ModelFormDraft { base: current.clone(), typed: load_draft(key)? },
    };
    draft.is_typed().then_some(draft)
}

/// Everything of the signed-out user kept here besides documents: cursor, drafts, settings, the
/// list of refused documents, the list's first screen (`first_screen`).
pub fn forget_user_data() {
    super::first_screen::forget();
    let storage = LocalStorage::raw();
    let keys: Vec<String> = (0..storage.length().unwrap_or(0)).filter_map(|i| storage.key(i).ok().flatten()).collect();
    for key in keys {
        if key.starts_with(DRAFT_PREFIX) || key == CURSOR || key == SETTINGS || key.starts_with("danvan.sync.") {
            LocalStorage::delete(&key);
        }
    }
}

/// The interface's language, chosen in *Cài đặt*; kept apart from the other settings (plain text,
/// so the static shell's script reads it before the wasm) and kept when the user signs out.
pub const LANG: &str = "danvan.lang";

/// The chosen language; on the first start, the browser's.
pub fn load_lang() -> crate::i18n::Lang {
    use crate::i18n::Lang;
    let stored = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).and_then(|s| s.get_item(LANG).ok().flatten());
    match stored.as_deref().and_then(Lang::from_code) {
        Some(lang) => lang,
        None => Lang::from_browser(&web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_default()),
    }
}

pub fn save_lang(lang: crate::i18n::Lang) -> Result<(), String> {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).ok_or("localStorage")?;
    storage.set_item(LANG, lang.code()).map_err(|e| format!("{e:?}"))
}
