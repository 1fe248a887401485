//! The report page (*Báo cáo*): choose a scope and a period, see the figures, coverage and
//! completeness, charts, the pivot table and the annex lists, copy the draft text, print on A4 in
//! the Party's or the State's layout, export XLSX and CSV; and, for Settings, the device backup's
//! zip (`backup`: written and read here, merged into the replica by the app); the import page
//! (`import_page`: the file read, mapped and checked here, its models written by the app); the
//! contest pages (`contest_page`); and the administration page (`admin_page`: server calls only).
//!
//! Compiled into its own wasm module, `danvan-reports` (src/bin/danvan-reports.rs), which the app
//! imports the first time the page opens (`pages::reports`). Invariant: **nothing else in
//! `client` uses this module except [`input`]**, so the report's views, charts and file writers
//! never weigh on the app's first load (`.ci/bench dist` prints both modules' bytes). The module
//! holds no automerge and no replica: the app hands it the facts of the models on the device; it
//! asks the server only for a server report and for completeness, both optional.
//!
//! The module has its own memory, so its own interface language: each page's input carries the
//! app's language and, when it mounts, the English catalogue's text (`install_language`).

pub mod input;

mod admin_page;
pub mod backup;
mod charts;
mod contest_page;
pub mod files;
mod import_page;
mod page;
mod print;

use std::any::Any;
use std::cell::RefCell;

use leptos::prelude::*;

use crate::i18n;
use input::ReportInput;

struct Mounted {
    input: RwSignal<ReportInput>,
    // The view's unmount handle; dropping it removes the page.
    _handle: Box<dyn Any>,
}

thread_local! {
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
    static IMPORT_MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    static ADMIN_MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// The contest pages' input, the element they are mounted in, and their unmount handle.
    static CONTESTS_MOUNTED: RefCell<Option<(RwSignal<input::ContestInput>, web_sys::HtmlElement, Box<dyn Any>)>> = const { RefCell::new(None) };
}

/// Renders the contest pages into `root`; `write` and `navigate` are the app's (see
/// `contest_page::ContestCalls`).
pub fn mount_contests(root: web_sys::HtmlElement, bytes: &[u8], write: js_sys::Function, navigate: js_sys::Function) -> Result<(), String> {
    let mut input = input::ContestInput::decode(bytes)?;
    install_language(input.lang, input.catalogue.take());
    let previous = CONTESTS_MOUNTED.with(|m| m.borrow_mut().take());
    drop(previous);
    add_stylesheet();
    let signal = RwSignal::new(input);
    let calls = contest_page::ContestCalls { write, navigate };
    let handle = leptos::mount::mount_to(root.clone(), move || contest_page::view(signal, calls));
    CONTESTS_MOUNTED.with(|m| *m.borrow_mut() = Some((signal, root, Box::new(handle))));
    Ok(())
}

/// New contests or a new address from the app.
pub fn update_contests(bytes: &[u8]) -> Result<(), String> {
    let input = input::ContestInput::decode(bytes)?;
    CONTESTS_MOUNTED.with(|m| {
        if let Some((signal, _, _)) = m.borrow().as_ref()
            && signal.with_untracked(|i| *i != input)
        {
            signal.set(input);
        }
    });
    Ok(())
}

/// The app left the contest pages mounted in `root` (a page mounted since in another element
/// stays).
pub fn unmount_contests(root: &web_sys::HtmlElement) {
    let previous = CONTESTS_MOUNTED.with(|m| {
        let mut m = m.borrow_mut();
        if m.as_ref().is_some_and(|(_, r, _)| r == root) { m.take() } else { None }
    });
    drop(previous);
}

/// Renders the import page into `root`; `write` and `sync_now` are the app's (see
/// `import_page::AppCalls`).
pub fn mount_import(root: web_sys::HtmlElement, bytes: &[u8], write: js_sys::Function, sync_now: js_sys::Function) -> Result<(), String> {
    let mut input = input::ImportInput::decode(bytes)?;
    install_language(input.lang, input.catalogue.take());
    unmount_import();
    let calls = import_page::AppCalls { write, sync_now };
    let handle = leptos::mount::mount_to(root, move || view! { <import_page::ImportPage input=input calls=calls/> });
    IMPORT_MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new(handle)));
    Ok(())
}

/// The app left the import page.
pub fn unmount_import() {
    let previous = IMPORT_MOUNTED.with(|m| m.borrow_mut().take());
    drop(previous);
}

/// Renders the administration page into `root`.
pub fn mount_admin(root: web_sys::HtmlElement, bytes: &[u8]) -> Result<(), String> {
    let mut input = input::AdminInput::decode(bytes)?;
    install_language(input.lang, input.catalogue.take());
    unmount_admin();
    let handle = leptos::mount::mount_to(root, move || view! { <admin_page::AdminPage input=input/> });
    ADMIN_MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new(handle)));
    Ok(())
}

/// The app left the administration page.
pub fn unmount_admin() {
    let previous = ADMIN_MOUNTED.with(|m| m.borrow_mut().take());
    drop(previous);
}

/// Renders the page into `root` (the app's empty element), replacing a previous mount.
pub fn mount(root: web_sys::HtmlElement, bytes: &[u8]) -> Result<(), String> {
    let mut input = ReportInput::decode(bytes)?;
    install_language(input.lang, input.catalogue.take());
    unmount();
    add_stylesheet();
    let signal = RwSignal::new(input);
    let handle = leptos::mount::mount_to(root, move || view! { <page::ReportPage input=signal/> });
    MOUNTED.with(|m| *m.borrow_mut() = Some(Mounted { input: signal, _handle: Box::new(handle) }));
    Ok(())
}

/// New facts from the app (the replica changed while the page is open).
pub fn update(bytes: &[u8]) -> Result<(), String> {
    let input = ReportInput::decode(bytes)?;
    MOUNTED.with(|m| {
        if let Some(m) = m.borrow().as_ref() {
            m.input.set(input);
        }
    });
    Ok(())
}

/// The app left the page.
pub fn unmount() {
    let previous = MOUNTED.with(|m| m.borrow_mut().take());
    drop(previous);
}

/// The app's language in this module's memory, once per page load (a change of language reloads
/// the app). Without its catalogue the module stays Vietnamese.
fn install_language(lang: i18n::Lang, catalogue: Option<String>) {
    if i18n::lang() != lang
        && let Err(e) = i18n::install(lang, catalogue.as_deref())
    {
        leptos::logging::warn!("the report module's language: {e}");
    }
}

/// The page's styles (screen and print) come with the module, not with the app's first load.
fn add_stylesheet() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if document.get_element_by_id("report-css").is_some() {
        return;
    }
    if let (Ok(link), Some(head)) = (document.create_element("link"), document.head()) {
        let _ = link.set_attribute("id", "report-css");
        let _ = link.set_attribute("rel", "stylesheet");
        let _ = link.set_attribute("href", "/report.css");
        let _ = head.append_child(&link);
    }
}
