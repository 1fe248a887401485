//! Installability and offline shell: registers the service worker, tells the user when a new
//! version is waiting, and asks the browser to keep our storage (navigator.storage.persist()).
//!
//! Browsers give service workers and `navigator.storage` only to secure contexts (https, or
//! localhost): on `http://192.168.1.10:8080` both are `undefined`. The app then still runs online
//! (IndexedDB, localStorage, fetch and `crypto.getRandomValues` exist on any origin), and
//! [`OfflineSupport`] says what is missing so the page can tell the user before they type anything.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

use crate::i18n::{t, tf};

#[derive(Clone, Copy)]
pub struct Pwa {
    /// A new version is installed and waiting for the user's go-ahead.
    pub update_ready: RwSignal<Option<ServiceWorkerHandle>>,
    pub storage: RwSignal<StorageInfo>,
    /// What this origin allows for offline use (fixed for the page's life).
    pub support: OfflineSupport,
}

/// What the browser grants this origin for working offline. Each is looked up by name: web-sys's
/// getters assume the property exists and throw when it is `undefined` (the blank page seen on
/// plain-http LAN addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflineSupport {
    /// `window.isSecureContext`: https, or localhost.
    pub secure_context: bool,
    /// `navigator.serviceWorker`: the app shell cached, so the app opens without a network.
    pub service_worker: bool,
    /// `navigator.storage`: asking the browser not to evict the replica, and its usage.
    pub storage_manager: bool,
}

impl OfflineSupport {
    pub fn detect() -> OfflineSupport {
        let Some(window) = web_sys::window() else {
            return OfflineSupport { secure_context: false, service_worker: false, storage_manager: false };
        };
        let navigator = window.navigator();
        let defined = |target: &wasm_bindgen::JsValue, key: &str| {
            js_sys::Reflect::get(target, &key.into()).is_ok_and(|v| !v.is_undefined() && !v.is_null())
        };
        OfflineSupport {
            secure_context: js_sys::Reflect::get(&window, &"isSecureContext".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false),
            service_worker: defined(&navigator, "serviceWorker"),
            storage_manager: defined(&navigator, "storage"),
        }
    }

    /// Everything working offline needs is there.
    pub fn complete(&self) -> bool {
        self.secure_context && self.service_worker && self.storage_manager
    }
}

/// `ServiceWorker` is not `Send`; signals in CSR are single-threaded, so wrap it.
#[derive(Clone)]
pub struct ServiceWorkerHandle(pub send_wrapper::SendWrapper<ServiceWorker>);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageInfo {
    pub persisted: Option<bool>,
    pub usage: Option<f64>,
    pub quota: Option<f64>,
}

pub fn start() -> Pwa {
    let support = OfflineSupport::detect();
    let pwa = Pwa { update_ready: RwSignal::new(None), storage: RwSignal::new(StorageInfo::default()), support };
    if support.service_worker {
        register_worker(pwa);
    } else {
        leptos::logging::warn!("no service worker on this origin (not a secure context): the app works online only");
    }
    leptos::task::spawn_local(async move {
        request_persistence().await;
        refresh_storage(pwa).await;
    });
    pwa
}

thread_local! {
    /// Set when the user asked for the new version; the first install's takeover must not reload.
    static RELOAD_ON_TAKEOVER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Switches to the waiting version: the worker takes over, then the page reloads once.
pub fn apply_update(pwa: Pwa) {
    let Some(handle) = pwa.update_ready.get_untracked() else { return };
    RELOAD_ON_TAKEOVER.with(|r| r.set(true));
    let _ = handle.0.post_message(&"skip-waiting".into());
}

/// A worker waiting while another controls the page is an update (the very first worker has no
/// predecessor and takes over silently).
fn controlled() -> bool {
    OfflineSupport::detect().service_worker
        && web_sys::window().is_some_and(|w| w.navigator().service_worker().controller().is_some())
}

fn register_worker(pwa: Pwa) {
    let Some(window) = web_sys::window() else { return };
    let container = window.navigator().service_worker();
    // Reload when the new worker takes control after the user asked for it.
    let on_change = Closure::<dyn Fn()>::new(move || {
        if RELOAD_ON_TAKEOVER.with(|r| r.get()) {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        }
    });
    container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();

    leptos::task::spawn_local(async move {
        let promise = container.register("/sw.js");
        let registration: ServiceWorkerRegistration = match JsFuture::from(promise).await {
            // Some browsers' policies (and test tools) resolve without a registration.
            Ok(r) if r.is_undefined() || r.is_null() => {
                leptos::logging::warn!("service worker not registered (blocked)");
                return;
            }
            Ok(r) => r.unchecked_into(),
            Err(e) => {
                leptos::logging::warn!("service worker not registered: {e:?}");
                return;
            }
        };
        // A version may already be waiting (installed during an earlier visit).
        if let Some(waiting) = registration.waiting() {
            if controlled() {
                pwa.update_ready.set(Some(ServiceWorkerHandle(send_wrapper::SendWrapper::new(waiting))));
            }
        }
        let reg = registration.clone();
        let on_found = Closure::<dyn Fn()>::new(move || {
            let Some(installing) = reg.installing() else { return };
            let worker = installing.clone();
            let on_state = Closure::<dyn Fn()>::new(move || {
                if worker.state() == ServiceWorkerState::Installed && controlled() {
                    pwa.update_ready.set(Some(ServiceWorkerHandle(send_wrapper::SendWrapper::new(worker.clone()))));
                }
            });
            installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        });
        registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
        on_found.forget();
        // Look for a new version now and then while the app stays open for days.
        let reg = registration.clone();
        let check = Closure::<dyn Fn()>::new(move || {
            let _ = reg.update();
        });
        let _ = web_sys::window().map(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(check.as_ref().unchecked_ref(), 30 * 60 * 1000)
        });
        check.forget();
    });
}

async fn request_persistence() {
    let Some(window) = web_sys::window() else { return };
    let Ok(storage) = js_sys::Reflect::get(&window.navigator(), &"storage".into()) else { return };
    if storage.is_undefined() {
        return;
    }
    let storage: web_sys::StorageManager = storage.unchecked_into();
    if let Ok(p) = storage.persist() {
        let _ = JsFuture::from(p).await;
    }
}

pub async fn refresh_storage(pwa: Pwa) {
    let Some(window) = web_sys::window() else { return };
    let Ok(storage) = js_sys::Reflect::get(&window.navigator(), &"storage".into()) else { return };
    if storage.is_undefined() {
        return;
    }
    let storage: web_sys::StorageManager = storage.unchecked_into();
    let mut info = StorageInfo::default();
    if let Ok(p) = storage.persisted() {
        info.persisted = JsFuture::from(p).await.ok().and_then(|v| v.as_bool());
    }
    if let Ok(p) = storage.estimate() {
        if let Ok(est) = JsFuture::from(p).await {
            let est: web_sys::StorageEstimate = est.unchecked_into();
            info.usage = est.get_usage();
            info.quota = est.get_quota();
        }
    }
    pwa.storage.set(info);
}

/// Said on every page, the sign-in page first, when this origin cannot keep the app for offline
/// use: what does not work, what still does, and what to do about it.
#[component]
pub fn OfflineUnavailableBanner() -> impl IntoView {
    let support = crate::client::use_app().pwa.support;
    (!support.complete()).then(|| {
        let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        let (cause, remedy) = if support.secure_context {
            (
                t("Trình duyệt này đang chặn chức năng dùng khi không có mạng (thường do chế độ ẩn danh hoặc cài đặt bảo mật của trình duyệt).").to_string(),
                t("Cách khắc phục: mở ứng dụng trong cửa sổ thường của Chrome, Firefox hoặc Safari bản mới; nếu vẫn thấy thông báo này, hãy báo quản trị viên."),
            )
        } else {
            (
                tf("Trang đang mở qua {} — không phải địa chỉ bảo mật https — nên trình duyệt không cho ứng dụng mở khi không có mạng và có thể tự xóa dữ liệu trên máy khi thiếu chỗ.", &[&origin]),
                t("Cách khắc phục: mở ứng dụng bằng địa chỉ bắt đầu bằng https:// (hỏi quản trị viên địa chỉ đó); nếu máy chủ chưa có https, hãy báo quản trị viên cài https cho máy chủ."),
            )
        };
        view! {
            <div id="offline-unavailable" class="offline-banner" role="alert">
                <p><strong>{t("Địa chỉ này chỉ dùng được khi có mạng.")}</strong> " " {cause}</p>
                <p>{t("Khi có mạng vẫn đăng nhập, đăng ký mô hình và đồng bộ bình thường; hãy đồng bộ xong trước khi tắt mạng hoặc đóng trang.")}</p>
                <p class="remedy">{remedy}</p>
            </div>
        }
    })
}
