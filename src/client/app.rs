//! The app: start-up (open the replica, mount), the context every page reaches (`AppContext`,
//! and who is signed in), the top bar and the routes.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::JsCast;

use crate::client::components::lifecycle;
use crate::client::local::account::{self, Account};
use crate::client::net::{pwa, sync};
use crate::client::pages::{self, admin, sign_in};
use crate::client::components::banners::{SessionEndedBanner, UpdateBanner};
use crate::client::components::sync_badge::SyncBadge;
use crate::client::net::pwa::Pwa;
use crate::domain::Model;
use crate::i18n::{self, Lang, t, tr};
use crate::client::local::replica::Replica;
use crate::client::local::settings::Settings;
use crate::client::net::sync::SyncHandle;

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
    /// The model a form has just saved: its page says so once, and a reload (or the next visit)
    /// does not say it again — a `?saved=1` in the address did, after every reload.
    pub just_saved: RwSignal<Option<String>>,
}

pub fn use_app() -> AppContext {
    expect_context::<AppContext>()
}

pub fn start() {
    console_error_panic_hook::set_once();
    // Not leptos::task::spawn_local: Leptos sets up its executor when it mounts, later.
    crate::client::mark("danvan:start");
    wasm_bindgen_futures::spawn_local(async {
        let root = app_root();
        let language = load_language();
        let replica = Replica::open(DATABASE).await;
        language.await;
        match replica {
            Ok(replica) => {
                // The static shell's sign-in form (assets/shell.js) may be in use: a sign-in it
                // sent finishes first (the account it stores is read below), and what was typed
                // into it carries over to the app's form.
                while shell_state().as_deref() == Some("signing-in") {
                    gloo_timers::future::TimeoutFuture::new(100).await;
                }
                // One turn of the event loop between reading the models and drawing the page:
                // two shorter tasks instead of one long one, so a tap or a keystroke during a
                // start is not held up (at 4× CPU the one task took ~350 ms, issue 15).
                gloo_timers::future::TimeoutFuture::new(0).await;
                let typed = sign_in::ShellTyped::take();
                root.set_inner_html("");
                let handle = leptos::mount::mount_to(root, move || {
                    let pwa = pwa::start();
                    let account = RwSignal::new(Account::load());
                    let sync = sync::start(replica.clone(), account);
                    provide_context(AppContext { replica, sync, pwa, settings: RwSignal::new(Settings::load()), account, just_saved: RwSignal::new(None) });
                    view! { <App/> }
                });
                handle.forget();
                crate::client::mark("danvan:mounted");
                typed.restore_focus();
                reload_when_the_account_changes_elsewhere();
                mark_ready();
            }
            Err(e) => {
                // Without storage nothing typed could be kept; say so instead of pretending.
                root.set_inner_html(&format!(
                    "<section class=\"fatal\" role=\"alert\"><h1>{}</h1><p>{}</p><p>{}</p></section>",
                    t("Không mở được dữ liệu trên thiết bị"),
                    html_escape(&tr(&e.to_string())),
                    t("Hãy tắt chế độ ẩn danh hoặc cho phép trang web lưu dữ liệu, rồi tải lại trang.")
                ));
            }
        }
    });
}

/// Installs the chosen language. English needs its catalogue: the static shell's script has
/// usually started fetching it already (`window.danvanCatalogue`, a promise of its text), while the
/// wasm downloaded; offline the service worker answers. Without it the interface stays Vietnamese.
async fn load_language() {
    let lang = crate::client::local::settings::load_lang();
    if let Some(html) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", lang.code());
    }
    if lang == Lang::Vi {
        return;
    }
    match catalogue_text().await {
        Ok(text) => {
            if let Err(e) = i18n::install(lang, Some(&text)) {
                leptos::logging::warn!("English catalogue refused: {e}");
            }
        }
        Err(e) => leptos::logging::warn!("English catalogue not loaded: {e}"),
    }
}

async fn catalogue_text() -> Result<String, String> {
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let started = js_sys::Reflect::get(&window, &"danvanCatalogue".into()).ok().and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
    let text = match started {
        Some(promise) => JsFuture::from(promise).await,
        None => {
            let response = JsFuture::from(window.fetch_with_str(CATALOGUE)).await.map_err(|e| format!("{e:?}"))?;
            let response: web_sys::Response = response.dyn_into().map_err(|e| format!("{e:?}"))?;
            if !response.ok() {
                return Err(format!("HTTP {}", response.status()));
            }
            JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?).await
        }
    };
    text.map_err(|e| format!("{e:?}"))?.as_string().ok_or_else(|| "not text".into())
}

/// Where the built client serves the English catalogue (index.html copies `src/i18n/en.tsv`).
const CATALOGUE: &str = "/en.tsv";

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

/// What the static shell says it is doing (`body[data-shell]`: sign-in, signing-in, signed-in).
fn shell_state() -> Option<String> {
    web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()).and_then(|b| b.dataset().get("shell"))
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
    // Contests: for those who may organise one, and for anyone the server sent one (a judge, a
    // unit with a team).
    let held = use_app().replica.contests;
    let contests = move || reviews() || manages() || held.with(|c| !c.is_empty());
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <img src="/icons/icon.svg" alt="" width="28" height="28"/>
                    <span>{t("Dân vận khéo")}</span>
                </A>
                <Show when=signed_in>
                    <nav>
                        <A href="/">{t("Mô hình")}</A>
                        <A href="/mo-hinh/moi">{t("Thêm")}</A>
                        <A href="/thu-vien">{t("Thư viện")}</A>
                        <Show when=reviews><A href="/binh-xet">{t("Bình xét")}</A></Show>
                        <Show when=contests><A href="/hoi-thi">{t("Hội thi")}</A></Show>
                        <A href="/bao-cao">{t("Báo cáo")}</A>
                        <Show when=manages><A href="/quan-tri">{t("Quản trị")}</A></Show>
                        <A href="/cai-dat">{t("Cài đặt")}</A>
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
                        <Route path=path!("/bao-cao") view=pages::ReportsPage/>
                        // One route: moving between the list and a contest keeps the pages mounted.
                        <Route path=path!("/hoi-thi/:id?") view=pages::ContestsPage/>
                        <Route path=path!("/nhap-tu-tep") view=pages::ImportPage/>
                        <Route path=path!("/dang-nhap") view=sign_in::SignInPage/>
                        <Route path=path!("/moi") view=sign_in::InvitationPage/>
                    </Routes>
                </Show>
            </main>
        </Router>
    }
}

// ───────────────────────────── who is signed in ─────────────────────────────

/// The owning unit's name: as recorded with the model, else as the profile knows it.
pub fn model_unit_name(model: &Model) -> String {
    if model.unit_name.is_empty() { unit_name(&model.unit) } else { model.unit_name.clone() }
}

/// A unit's name as the signed-in user's profile knows it (its code otherwise).
pub fn unit_name(code: &str) -> String {
    use_app().account.with_untracked(|a| a.as_ref().map_or(code, |a| a.profile.unit_name(code)).to_string())
}

/// The units the signed-in user registers models in, as (code, name).
pub fn writable_units() -> Vec<(String, String)> {
    use_app().account.with_untracked(|a| {
        a.as_ref()
            .map(|a| a.profile.writable.iter().map(|c| (c.clone(), a.profile.unit_name(c).to_string())).collect())
            .unwrap_or_default()
    })
}

/// The signed-in user's username and name.
pub fn signed_in() -> (String, String) {
    use_app()
        .account
        .with_untracked(|a| a.as_ref().map(|a| (a.profile.username.clone(), a.profile.display_name.clone())))
        .unwrap_or_default()
}

/// The name recorded as author of a change.
pub fn author() -> String {
    use_app().account.with_untracked(|a| a.as_ref().map(|a| a.profile.display_name.clone())).unwrap_or_else(|| i18n::vi("Cán bộ").into())
}
