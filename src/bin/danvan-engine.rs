//! The document engine's entry points (wasm, built by Trunk as a module of its own and loaded by
//! the app in the background; see `danvan::client::engine`). The exports live here, not in the
//! library: an export in the library would be linked into the app's own module too, and with it
//! automerge. Values cross as JSON strings of `client::engine::api` types; an error rejects the
//! promise with the JSON of its error type.

#[cfg(target_arch = "wasm32")]
mod exports {
    use danvan::client::engine::{self, api};
    use wasm_bindgen::prelude::*;

    fn rejected<E: serde::Serialize>(e: E) -> JsValue {
        JsValue::from_str(&api::to_json(&e))
    }

    fn save_error(e: String) -> JsValue {
        rejected(api::SaveError::Engine(e))
    }

    /// Opens the device's storage; `on_shown(json)` receives every model read or written here,
    /// `on_decoding(count)` how many documents are still being read in the background,
    /// `on_contests(json)` every contest read here.
    #[wasm_bindgen]
    pub async fn init(database: String, on_shown: js_sys::Function, on_decoding: js_sys::Function, on_contests: js_sys::Function) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        engine::init(&database, on_shown, on_decoding, on_contests).await.map_err(|e| JsValue::from_str(&e))
    }

    /// `unread`: JSON of the ids whose cached model the app could not read.
    #[wasm_bindgen]
    pub async fn verify(unread: String) -> Result<(), JsValue> {
        let unread = api::from_json(&unread).map_err(|e| JsValue::from_str(&e))?;
        engine::verify(unread).await.map_err(|e| JsValue::from_str(&e))
    }

    // create, import_models and change answer with the JSON of the `Shown` models written
    // (none: nothing was written). (`import` is a JavaScript keyword.)
    #[wasm_bindgen]
    pub async fn create(new: String) -> Result<String, JsValue> {
        let new = api::from_json(&new).map_err(save_error)?;
        engine::create(new).await.map(|s| api::to_json(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn import_models(models: String, now_ms: f64) -> Result<String, JsValue> {
        let models = api::from_json(&models).map_err(save_error)?;
        engine::import(models, now_ms as i64).await.map(|s| api::to_json(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn change(id: String, change: String) -> Result<String, JsValue> {
        let change = api::from_json(&change).map_err(save_error)?;
        engine::change(&id, change).await.map(|s| api::to_json(&s)).map_err(rejected)
    }

    // create_contest and change_contest answer with the JSON of the `ShownContest` stored;
    // `apply(contest_json) -> answer_json` is the contest page's (see `engine::contests`).
    #[wasm_bindgen]
    pub async fn create_contest(contest: String) -> Result<String, JsValue> {
        engine::contests::create(&contest).await.map(|s| api::to_json(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn change_contest(id: String, apply: js_sys::Function) -> Result<String, JsValue> {
        engine::contests::change(&id, apply).await.map(|s| api::to_json(&s)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn revisions(id: String) -> Result<String, JsValue> {
        engine::revisions(&id).await.map(|r| api::to_json(&r)).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub async fn restore(opened: Vec<u8>) -> Result<String, JsValue> {
        engine::restore(&opened).await.map(|r| api::to_json(&r)).map_err(rejected)
    }

    #[wasm_bindgen]
    pub async fn sync(app: JsValue) -> Result<String, JsValue> {
        engine::sync(app).await.map(|r| api::to_json(&r)).map_err(rejected)
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("danvan-engine is the browser's document engine: `trunk build` builds it with the app (see README.md).");
    std::process::exit(2);
}
