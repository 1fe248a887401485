//! The model list's first screen as this device last drew it, kept for the static shell.
//!
//! A returning cadre's phone shows nothing of hers until the app's wasm has started, read the
//! models cache from IndexedDB and drawn the list: ~0.8 s at 4× CPU with 1,500 models (issue 15).
//! The static shell's script (`assets/shell.js`) runs within the first frame; with this copy it
//! paints the list's first screen at once — the same markup, made inert (nothing in it can be
//! clicked or typed into, so nothing typed is lost when the app takes over) and marked busy — and
//! the app replaces it, identical, once it runs.
//!
//! Record (localStorage [`KEY`], JSON): `{ owner: username, lang: "vi" | "en", nav: HTML of the
//! menu, main: HTML of the list page }`.
//!
//! Invariants:
//! - it is the list as it opens — no search typed, no filter chosen, at most [`CARDS`] cards —
//!   so it is what the app draws first at its next start;
//! - it belongs to the account that drew it: the shell paints it only for the same username and
//!   language, and signing out removes it with the user's other data
//!   (`settings::forget_user_data`); another user of a shared phone never sees it;
//! - written only from the app's own DOM (text escaped by the browser's serialiser), never read
//!   by the app.

use gloo_storage::{LocalStorage, Storage};

pub const KEY: &str = "danvan.first-screen";

/// Cards kept: the list's first draw (`pages::list::FIRST_SCREEN`), more than a laptop's screen.
pub const CARDS: usize = 16;

#[derive(serde::Serialize)]
struct FirstScreen<'a> {
    owner: &'a str,
    lang: &'a str,
    nav: &'a str,
    main: &'a str,
}

/// Keeps the list page's HTML (`main`, at most [`CARDS`] cards) and the menu's (`nav`), as drawn
/// for `owner` in `lang` (the list copies them from its own page: `pages::list`).
pub fn keep(owner: &str, lang: &str, nav: &str, main: &str) {
    if LocalStorage::set(KEY, FirstScreen { owner, lang, nav, main }).is_err() {
        // Storage full: an older copy would show a list that is no longer the device's.
        forget();
    }
}

/// Removes the copy (the user signs out).
pub fn forget() {
    LocalStorage::delete(KEY);
}
