//! The report module's entry points (wasm, built by Trunk as a second module; see
//! `danvan::client::reporting`). The exports live here, not in the library: an export in the
//! library would be linked into the app's own module too.

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    pub fn mount(root: web_sys::HtmlElement, input: &[u8]) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        danvan::client::reporting::mount(root, input).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn update(input: &[u8]) -> Result<(), JsValue> {
        danvan::client::reporting::update(input).map_err(|e| JsValue::from_str(&e))
    }

    /// The model list with its filters, as the app's list page shows it (`kind`: "xlsx"/"csv").
    #[wasm_bindgen]
    pub fn export_models(models: &[u8], kind: &str) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        danvan::client::reporting::files::download_models(models, kind).map_err(|e| JsValue::from_str(&e))
    }

    /// The import page (`/nhap-tu-tep`) in `root`; `write(models bytes) -> Promise<created>` and
    /// `sync_now()` are the app's.
    #[wasm_bindgen]
    pub fn mount_import(root: web_sys::HtmlElement, input: &[u8], write: js_sys::Function, sync_now: js_sys::Function) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        danvan::client::reporting::mount_import(root, input, write, sync_now).map_err(|e| JsValue::from_str(&e))
    }

    /// The contest pages (`/hoi-thi`) in `root`; `write(id | null, json) -> Promise<json>` and
    /// `navigate(path)` are the app's.
    #[wasm_bindgen]
    pub fn mount_contests(root: web_sys::HtmlElement, input: &[u8], write: js_sys::Function, navigate: js_sys::Function) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        danvan::client::reporting::mount_contests(root, input, write, navigate).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn update_contests(input: &[u8]) -> Result<(), JsValue> {
        danvan::client::reporting::update_contests(input).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn unmount_contests(root: web_sys::HtmlElement) {
        danvan::client::reporting::unmount_contests(&root);
    }

    /// The administration page (`/quan-tri`) in `root`.
    #[wasm_bindgen]
    pub fn mount_admin(root: web_sys::HtmlElement, input: &[u8]) -> Result<(), JsValue> {
        console_error_panic_hook::set_once();
        danvan::client::reporting::mount_admin(root, input).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn unmount_admin() {
        danvan::client::reporting::unmount_admin();
    }

    #[wasm_bindgen]
    pub fn unmount_import() {
        danvan::client::reporting::unmount_import();
    }

    // The device backup (Cài đặt → Sao lưu), driven by the app: see `client::reporting::backup`.
    #[wasm_bindgen]
    pub fn backup_begin(username: &str, display_name: &str, now_ms: f64) {
        console_error_panic_hook::set_once();
        danvan::client::reporting::backup::begin(username, display_name, now_ms as i64);
    }

    #[wasm_bindgen]
    pub fn backup_add_doc(id: &str, bytes: &[u8]) -> Result<(), JsValue> {
        danvan::client::reporting::backup::add_doc(id, bytes).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn backup_add_photo(id: &str, doc: &str, content_type: &str, bytes: &[u8]) -> Result<(), JsValue> {
        danvan::client::reporting::backup::add_photo(id, doc, content_type, bytes).map_err(|e| JsValue::from_str(&e))
    }

    /// Returns the file's size in bytes.
    #[wasm_bindgen]
    pub fn backup_finish(models: &[u8], name: &str) -> Result<f64, JsValue> {
        danvan::client::reporting::backup::finish(models, name).map(|n| n as f64).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn backup_open(bytes: Vec<u8>) -> Result<Vec<u8>, JsValue> {
        console_error_panic_hook::set_once();
        danvan::client::reporting::backup::open(bytes).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn backup_photo(id: &str) -> Result<Vec<u8>, JsValue> {
        danvan::client::reporting::backup::photo(id).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn backup_close() {
        danvan::client::reporting::backup::close();
    }

    #[wasm_bindgen]
    pub fn unmount() {
        danvan::client::reporting::unmount();
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("danvan-reports is the browser's report module: `trunk build` builds it with the app (see README.md).");
    std::process::exit(2);
}
