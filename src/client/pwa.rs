//! Installability and offline shell: registers the service worker, tells the user when a new
//! version is waiting, and asks the browser to keep our storage (navigator.storage.persist()).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

#[derive(Clone, Copy)]
pub struct Pwa {
    /// A new version is installed and waiting for the user's go-ahead.
    pub update_ready: RwSignal<Option<ServiceWorkerHandle>>,
    pub storage: RwSignal<StorageInfo>,
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
    let pwa = Pwa { update_ready: RwSignal::new(None), storage: RwSignal::new(StorageInfo::default()) };
    register_worker(pwa);
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
    web_sys::window().is_some_and(|w| w.navigator().service_worker().controller().is_some())
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
