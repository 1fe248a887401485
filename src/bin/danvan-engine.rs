//! The document engine's entry points (wasm, built by Trunk as a module of its own and loaded by
//! the app in the background; see `danvan::client::engine`). The exports live here, not in the
//! library: an export in the library would be linked into the app's own module too, and with it
//! automerge. Values cross as postcard bytes (`Uint8Array`) of `client::engine::api` types; an
//! error rejects the promise with the bytes of its error type.

#[cfg(target_arch = "wasm32")]
mod exports {
    use danvan::client::engine::{self, api};
    use wasm_bindgen::prelude::*;

    fn rejected<E: serde::Serialize>(e: E) -> JsValue {
        api::to_js(&e)
    }

    fn save_error(e: String) -> JsValue {
        rejected(api::SaveError::Engine(e))
    }

    /// Opens the device's storage; `on_shown(bytes)` receives every model read or written here,
    /// `on_decoding(count)` how many documents are still being read in the background,
    /// `on_contests(bytes)` every contest read here.
    #[wasm_bindgen]
    pub async fn init(database: String, on_shown: js_sys::Function, on_decoding: js_sys::Function, on_contests: js_sys::Function) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        engine::init(&database, on_shown, on_decoding, on_contests).await.map_err(|e| JsValue::from_str(&e))
    }

    /// `unread`: the ids whose cached model the app could not read.
    #[wasm_bindgen]
    pub async fn verify(unread: Vec<u8>) -> Result<(), JsValue> {
        let unread = api::from_bytes(&unread).map_err(|e| JsValue::from_str(&e))?;
        engine::verify(unread).await.map_err(|e| JsValue::from_str(&e))
    }

    // create, import_models and change answer with the `Shown` models written
    // (none: nothing was written). (`import` is a JavaScript keyword.)
    #[wasm_bindgen]
    pub async fn create(new: Vec<u8>) -> Result<Vec<u8>, JsValue> {
        let new = api::from_bytes(&new).map_err(save_error)?;
        engine::create(new).await.map(|s| api::to_bytes(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn import_models(models: Vec<u8>, now_ms: f64) -> Result<Vec<u8>, JsValue> {
        let models = api::from_bytes(&models).map_err(save_error)?;
        engine::import(models, now_ms as i64).await.map(|s| api::to_bytes(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn change(id: String, change: Vec<u8>) -> Result<Vec<u8>, JsValue> {
        let change = api::from_bytes(&change).map_err(save_error)?;
        engine::change(&id, change).await.map(|s| api::to_bytes(&s)).map_err(rejected)
    }

    // create_contest and change_contest answer with the `ShownContest` stored;
    // `apply(contest_json) -> answer_json` is the contest page's (see `engine::contests`).
    #[wasm_bindgen]
    pub async fn create_contest(contest: String) -> Result<Vec<u8>, JsValue> {
        engine::contests::create(&contest).await.map(|s| api::to_bytes(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn change_contest(id: String, apply: js_sys::Function) -> Result<Vec<u8>, JsValue> {
        engine::contests::change(&id, apply).await.map(|s| api::to_bytes(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn revisions(id: String) -> Result<Vec<u8>, JsValue> {
        engine::revisions(&id).await.map(|r| api::to_bytes(&r)).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub async fn restore(opened: Vec<u8>) -> Result<Vec<u8>, JsValue> {
        engine::restore(&opened).await.map(|r| api::to_bytes(&r)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn sync(app: JsValue) -> Result<Vec<u8>, JsValue> {
        engine::sync(app).await.map(|r| api::to_bytes(&r)).map_err(rejected)
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("danvan-engine is the browser's document engine: `trunk build` builds it with the app (see README.md).");
    std::process::exit(2);
}
