//! The app's handle on the document engine (`client::engine`, its own wasm module): loads it once
//! per page — in the background right after start, or when a save needs it first — and calls its
//! exports with the postcard bytes of `engine::api` types (`api::to_js`). The service worker
//! precaches the module with every other file, so after the first visit it loads offline, from
//! the device.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::client::engine::api::{self, SaveError};

#[wasm_bindgen(module = "/src/client/local/engine.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn load_engine_module(database: &str, on_shown: &JsValue, on_decoding: &JsValue, on_contests: &JsValue) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// What the engine is given when it opens: kept for the page's life (the engine calls them).
    static CALLBACKS: RefCell<Option<Callbacks>> = const { RefCell::new(None) };
}

/// The engine's `on_shown`, `on_decoding` and `on_contests`.
type Callbacks = (Closure<dyn Fn(JsValue)>, Closure<dyn Fn(f64)>, Closure<dyn Fn(JsValue)>);

/// How the engine tells the app what it shows (`api::to_js` of `Vec<Shown>`, of
/// `Vec<ShownContest>`); set once, by `Replica::open`, before any call.
pub fn set_callbacks(on_shown: impl Fn(JsValue) + 'static, on_decoding: impl Fn(f64) + 'static, on_contests: impl Fn(JsValue) + 'static) {
    let callbacks = (Closure::<dyn Fn(JsValue)>::new(on_shown), Closure::<dyn Fn(f64)>::new(on_decoding), Closure::<dyn Fn(JsValue)>::new(on_contests));
    CALLBACKS.with(|c| *c.borrow_mut() = Some(callbacks));
}

/// The loaded and opened engine (loaded and opened the first time).
pub async fn module() -> Result<JsValue, String> {
    let (on_shown, on_decoding, on_contests) = CALLBACKS
        .with(|c| c.borrow().as_ref().map(|(s, d, k)| (s.as_ref().clone(), d.as_ref().clone(), k.as_ref().clone())))
        .ok_or_else(|| "phần lưu dữ liệu được gọi trước khi ứng dụng mở".to_string())?;
    load_engine_module(crate::client::DATABASE, &on_shown, &on_decoding, &on_contests).await.map_err(|e| describe(&e))
}

fn call(module: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(module, &JsValue::from_str(name))?.dyn_into()?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(&JsValue::NULL, &args)
}

/// Calls an async export and waits for its promise.
async fn await_call(module: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let promise: js_sys::Promise = call(module, name, args)?.dyn_into()?;
    wasm_bindgen_futures::JsFuture::from(promise).await
}

/// Loads the module, then calls `name`; a rejection is the bytes of `E` (or, from the engine's
/// JavaScript or a call that failed before it ran, an error or a sentence, said as such).
pub async fn request<E: serde::de::DeserializeOwned>(name: &str, args: &[JsValue], unloaded: impl FnOnce(String) -> E) -> Result<JsValue, E> {
    let m = match module().await {
        Ok(m) => m,
        Err(e) => return Err(unloaded(e)),
    };
    await_call(&m, name, args).await.map_err(|e| {
        if e.is_instance_of::<js_sys::Uint8Array>() { api::from_js(&e).unwrap_or_else(unloaded) } else { unloaded(describe(&e)) }
    })
}

/// A call that saves something; its error as `SaveError`.
pub async fn save(name: &str, args: &[JsValue]) -> Result<JsValue, SaveError> {
    request(name, args, SaveError::Engine).await
}

/// Reads again, in the background, every document whose cached model is missing or stale, and
/// those the app could not read from the cache (`unread`).
pub async fn verify(unread: &[String]) -> Result<(), String> {
    let m = module().await?;
    await_call(&m, "verify", &[api::to_js(&unread)]).await.map(|_| ()).map_err(|e| describe(&e))
}

/// The answer of a call, read from its bytes.
pub fn answer<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, String> {
    api::from_js(&value)
}

pub fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}
