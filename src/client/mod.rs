//! The browser client (Leptos CSR). Components stay thin: logic lives in the domain core and in
//! [`replica`] / [`sync`]; pages read the local replica only and never wait for the network.

pub mod components;
pub mod local;
pub mod net;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::JsCast;

use self::components::lifecycle;
use self::local::account::{self, Account};
use self::net::{pwa, sync};
use self::pages::{admin, sign_in};
use self::net::pwa::Pwa;
use crate::domain::format_count_vi;
use self::local::replica::Replica;
use self::local::settings::Settings;
use self::net::sync::{SyncHandle, SyncStatus};

/// The IndexedDB database holding this device's replica.
pub const DATABASE: &str = "danvan";

/// What every page can reach.
#[derive(Clone)]
pub struct AppContext {
    pub replica: Replica,
    pub sync: SyncHandle,
    pub pwa: Pwa,
    pub settings: RwSignal<Settings>,
    /// The signed-in user (None: nobody yet on this device).
    pub account: RwSignal<Option<Account>>,
}

pub fn use_app() -> AppContext {
    expect_context::<AppContext>()
}

pub fn start() {
    console_error_panic_hook::set_once();
    // Not leptos::task::spawn_local: Leptos sets up its executor when it mounts, later.
    wasm_bindgen_futures::spawn_local(async {
        let root = app_root();
        match Replica::open(DATABASE).await {
            Ok(replica) => {
                root.set_inner_html("");
                let handle = leptos::mount::mount_to(root, move || {
                    let pwa = pwa::start();
                    let account = RwSignal::new(Account::load());
                    let sync = sync::start(replica.clone(), account);
                    provide_context(AppContext { replica, sync, pwa, settings: RwSignal::new(Settings::load()), account });
                    view! { <App/> }
                });
                handle.forget();
                reload_when_the_account_changes_elsewhere();
                mark_ready();
            }
            Err(e) => {
                // Without storage nothing typed could be kept; say so instead of pretending.
                root.set_inner_html(&format!(
                    "<section class=\"fatal\" role=\"alert\"><h1>Không mở được dữ liệu trên thiết bị</h1><p>{}</p>\
                     <p>Hãy tắt chế độ ẩn danh hoặc cho phép trang web lưu dữ liệu, rồi tải lại trang.</p></section>",
                    html_escape(&e.to_string())
                ));
            }
        }
    });
}

/// Signing in or out in another tab changes whose replica this is, or its session: start again
/// from storage (rare, and simpler than reconciling every signal).
fn reload_when_the_account_changes_elsewhere() {
    let Some(window) = web_sys::window() else { return };
    let on_storage = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::StorageEvent)>::new(|ev: web_sys::StorageEvent| {
        if ev.key().as_deref() == Some(account::ACCOUNT_KEY) {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        }
    });
    let _ = window.add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
    on_storage.forget();
}

fn app_root() -> web_sys::HtmlElement {
    let document = web_sys::window().and_then(|w| w.document()).expect("document");
    document
        .get_element_by_id("app")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .or_else(|| document.body())
        .expect("an #app element or a body")
}

fn mark_ready() {
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.dataset().set("ready", "1");
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[component]
fn App() -> impl IntoView {
    let account = use_app().account;
    let signed_in = move || account.with(Option::is_some);
    let manages = move || account.with(|a| a.as_ref().is_some_and(|a| a.profile.manages));
    let reviews = move || account.with(|a| a.as_ref().is_some_and(|a| !a.profile.reviews.is_empty()));
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <img src="/icons/icon.svg" alt="" width="28" height="28"/>
                    <span>"Dân vận khéo"</span>
                </A>
                <Show when=signed_in>
                    <nav>
                        <A href="/">"Mô hình"</A>
                        <A href="/mo-hinh/moi">"Thêm"</A>
                        <A href="/thu-vien">"Thư viện"</A>
                        <Show when=reviews><A href="/binh-xet">"Bình xét"</A></Show>
                        <Show when=manages><A href="/quan-tri">"Quản trị"</A></Show>
                        <A href="/cai-dat">"Cài đặt"</A>
                    </nav>
                </Show>
                <SyncBadge/>
            </header>
            <pwa::OfflineUnavailableBanner/>
            <UpdateBanner/>
            <SessionEndedBanner/>
            <main>
                // Before the first sign-in on this device, every address leads to signing in
                // (or to accepting an invitation).
                <Show when=signed_in fallback=|| view! {
                    <Routes fallback=|| view! { <sign_in::SignInPage/> }>
                        <Route path=path!("/moi") view=sign_in::InvitationPage/>
                    </Routes>
                }>
                    <Routes fallback=|| view! { <pages::NotFound/> }>
                        <Route path=path!("/") view=pages::ListPage/>
                        <Route path=path!("/mo-hinh/moi") view=pages::NewModelPage/>
                        <Route path=path!("/mo-hinh/:id") view=pages::DetailPage/>
                        <Route path=path!("/mo-hinh/:id/sua") view=pages::EditModelPage/>
                        <Route path=path!("/cai-dat") view=pages::SettingsPage/>
                        <Route path=path!("/quan-tri") view=admin::AdminPage/>
                        <Route path=path!("/binh-xet") view=lifecycle::ReviewQueuePage/>
                        <Route path=path!("/thu-vien") view=pages::LibraryPage/>
                        <Route path=path!("/dang-nhap") view=sign_in::SignInPage/>
                        <Route path=path!("/moi") view=sign_in::InvitationPage/>
                    </Routes>
                </Show>
            </main>
        </Router>
    }
}

/// The session ended: say that nothing is lost and offer to sign in again.
#[component]
fn SessionEndedBanner() -> impl IntoView {
    let account = use_app().account;
    let ended = move || account.with(|a| a.as_ref().and_then(|a| a.ended.clone()));
    view! {
        <Show when=move || ended().is_some()>
            <div class="session-banner" role="alert">
                <span>{move || ended().unwrap_or_default()} " Mọi thay đổi vẫn được giữ trên máy này và sẽ đồng bộ sau khi đăng nhập lại. "</span>
                <A href="/dang-nhap" attr:class="button primary">"Đăng nhập lại"</A>
            </div>
        </Show>
    }
}

/// Always-visible sync state: offline / N waiting / syncing / synced at HH:MM / error with reason.
#[component]
fn SyncBadge() -> impl IntoView {
    let app = use_app();
    let status = app.sync.status;
    let pending = app.replica.pending;
    let state = move || match status.get() {
        SyncStatus::Offline => "offline",
        SyncStatus::Syncing { .. } => "syncing",
        SyncStatus::Error { .. } => "error",
        SyncStatus::SignedOut { .. } => "signed-out",
        SyncStatus::Synced { .. } if pending.get() == 0 => "synced",
        _ => "pending",
    };
    let (photos, rejected) = (app.sync.photos_waiting, app.sync.rejected);
    let text = move || {
        let mut text = describe(&status.get(), pending.get());
        // Photos travel after the text; the data-state stays about the text.
        if photos.get() > 0 {
            text.push_str(&format!(" · {} ảnh chờ gửi", photos.get()));
        }
        // Refused models do not fail the round; the badge still says they wait (reasons on
        // their pages).
        let refused = rejected.with(|r| r.len());
        if refused > 0 {
            text.push_str(&format!(" · {refused} mô hình máy chủ chưa nhận"));
        }
        text
    };
    let sync = app.sync;
    view! {
        <button id="sync-status" class="sync-status" data-state=state title="Bấm để đồng bộ ngay"
            aria-live="polite" on:click=move |_| sync.sync_now()>
            <span class="dot" aria-hidden="true"></span>
            <span class="label">{text}</span>
        </button>
    }
}

pub fn describe(status: &SyncStatus, pending: usize) -> String {
    let waiting = |n: usize| format!("{n} thay đổi đang chờ");
    match status {
        SyncStatus::Offline if pending > 0 => format!("Ngoại tuyến · {}", waiting(pending)),
        SyncStatus::Offline => "Ngoại tuyến".into(),
        SyncStatus::Syncing { done, total } if *total > 1 => {
            format!("Đang đồng bộ {}/{}…", format_count_vi(*done), format_count_vi(*total))
        }
        SyncStatus::Syncing { .. } => "Đang đồng bộ…".into(),
        SyncStatus::Error { reason } => format!("Lỗi đồng bộ: {reason}"),
        SyncStatus::SignedOut { .. } if pending > 0 => format!("Chưa đăng nhập · {}", waiting(pending)),
        SyncStatus::SignedOut { .. } => "Chưa đăng nhập — chưa đồng bộ".into(),
        _ if pending > 0 => waiting(pending),
        SyncStatus::Synced { at_ms } => format!("Đã đồng bộ lúc {}", hh_mm(*at_ms)),
        SyncStatus::Starting => "Đang khởi động…".into(),
    }
}

pub fn hh_mm(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

pub fn date_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02} {:02}/{:02}/{}", d.get_hours(), d.get_minutes(), d.get_date(), d.get_month() + 1, d.get_full_year())
}

#[component]
fn UpdateBanner() -> impl IntoView {
    let app = use_app();
    let pwa = app.pwa;
    view! {
        <Show when=move || pwa.update_ready.with(|u| u.is_some())>
            <div class="update-banner" role="status">
                <span>"Có phiên bản mới — "</span>
                <button on:click=move |_| pwa::apply_update(pwa)>"tải lại"</button>
            </div>
        </Show>
    }
}
