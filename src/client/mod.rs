//! The browser client (Leptos CSR). Components stay thin: logic lives in the domain core and in
//! `local` (the replica) and `net` (sync); pages read the local replica only and never wait for
//! the network. ARCHITECTURE.md, "Code map", says what each folder may import.

pub mod app;
pub mod components;
/// The document engine (automerge), compiled into its own wasm module: only `engine::api` may be
/// used from the rest of the client.
pub mod engine;
pub mod format;
pub mod local;
pub mod net;
pub mod pages;
/// The report page, compiled into its own wasm module: only `reporting::input` may be used from
/// the rest of the client.
pub mod reporting;

pub use app::{AppContext, DATABASE, start, use_app};
pub use format::{date_time, hh_mm};

/// Runs `f` when the browser next has nothing else to do (`requestIdleCallback`, at most 300 ms
/// later), or 50 ms later where there is no such call (Safari).
pub fn when_idle(f: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else { return };
    let idle = js_sys::Reflect::get(&window, &"requestIdleCallback".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match idle {
        Some(idle) => {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"timeout".into(), &300.into());
            let _ = idle.call2(&window, &wasm_bindgen::closure::Closure::once_into_js(f), &options);
        }
        None => leptos::prelude::set_timeout(f, std::time::Duration::from_millis(50)),
    }
}

/// Lets the browser run what waits (input, rendering) before the caller goes on: long work — parsing
/// the device's models at start — is cut into tasks short enough not to hold up a tap (Lighthouse
/// counts every task over 50 ms at 4× against the page). `scheduler.yield()` where the browser has
/// it (the caller then goes ahead of other queued work), else a new task by timer.
pub async fn next_task() {
    use wasm_bindgen::JsCast;
    let scheduler = web_sys::window().and_then(|w| js_sys::Reflect::get(&w, &"scheduler".into()).ok()).filter(|s| s.is_object());
    if let Some(scheduler) = scheduler {
        if let Ok(yield_now) = js_sys::Reflect::get(&scheduler, &"yield".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            if let Ok(promise) = yield_now.call0(&scheduler).and_then(|p| p.dyn_into::<js_sys::Promise>()) {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                return;
            }
        }
    }
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// A named moment of the app's start in the browser's performance timeline (`performance.mark`):
/// what `.ci/bench-client` reads to say where a warm start's time goes, and what a profile shows.
pub fn mark(name: &str) {
    use wasm_bindgen::JsCast;
    if let Some(performance) = web_sys::window().and_then(|w| js_sys::Reflect::get(&w, &"performance".into()).ok()) {
        if let Ok(mark) = js_sys::Reflect::get(&performance, &"mark".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            let _ = mark.call1(&performance, &name.into());
        }
    }
}

/// A page's first screen is built and painted before the rest of it: `false` until the frame after
/// this call is painted and the browser is idle, then `true` for good. At 4× CPU building,
/// styling and laying out a whole model's form (or page) kept anything from showing for ~90 ms;
/// what is below the first screen now follows as soon as that frame is on screen (issue 15).
pub fn first_screen_then_rest() -> leptos::prelude::RwSignal<bool> {
    use leptos::prelude::*;
    let rest = RwSignal::new(false);
    request_animation_frame(move || when_idle(move || _ = rest.try_set(true)));
    rest
}

/// Resolves once the browser has painted the next frame: work a page does not need for its first
/// look (a model's history, read from its document by the engine) waits for this, so a save or a
/// page change is on screen before it runs (issue 15).
pub async fn after_paint() {
    let painted = js_sys::Promise::new(&mut |resolve, _| {
        leptos::prelude::request_animation_frame(move || {
            leptos::prelude::set_timeout(move || _ = resolve.call0(&wasm_bindgen::JsValue::NULL), std::time::Duration::ZERO);
        });
    });
    let _ = wasm_bindgen_futures::JsFuture::from(painted).await;
}
