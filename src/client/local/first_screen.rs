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

use std::cell::Cell;

use gloo_storage::{LocalStorage, Storage};
use wasm_bindgen::JsCast;

pub const KEY: &str = "danvan.first-screen";

/// Cards kept: the list's first draw (`pages::list::FIRST_SCREEN`), more than a laptop's screen.
pub const CARDS: usize = 16;

thread_local! {
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

#[derive(serde::Serialize)]
struct FirstScreen<'a> {
    owner: &'a str,
    lang: &'a str,
    nav: String,
    main: String,
}

/// Keeps the list's first screen as drawn now, once the browser is idle (several changes of the
/// list in a row are kept once, as they are when that moment comes).
pub fn remember_soon(owner: String) {
    if SCHEDULED.with(|s| s.replace(true)) {
        return;
    }
    crate::client::when_idle(move || {
        SCHEDULED.with(|s| s.set(false));
        remember(&owner);
    });
}

/// Removes the copy (the user signs out).
pub fn forget() {
    LocalStorage::delete(KEY);
}

fn remember(owner: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    // Still on the list (not the library, not a page opened meanwhile).
    let Ok(Some(page)) = document.query_selector("#app main > section.list-page:not(.library-page)") else { return };
    let Some(copy) = page.clone_node_with_deep(true).ok().and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { return };
    if let Ok(cards) = copy.query_selector_all(".cards > .model-card") {
        for i in CARDS as u32..cards.length() {
            if let Some(card) = cards.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                card.remove();
            }
        }
    }
    // "Xem thêm" and what only this moment shows (a file being written) are not the next start's.
    if let Ok(passing) = copy.query_selector_all("button.more, .list-export [role=status]") {
        for i in 0..passing.length() {
            if let Some(e) = passing.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                e.remove();
            }
        }
    }
    let nav = document.query_selector("#app header nav").ok().flatten().map(|n| n.inner_html()).unwrap_or_default();
    let record = FirstScreen { owner, lang: crate::i18n::lang().code(), nav, main: copy.outer_html() };
    if LocalStorage::set(KEY, &record).is_err() {
        // Storage full: an older copy would show a list that is no longer the device's.
        forget();
    }
}
