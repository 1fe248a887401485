//! `/hoi-thi` and `/hoi-thi/<id>`: the contest pages' place in the app (issue 16). The pages
//! themselves — the organiser's set-up and results, the judge's sheet, teams, prizes, printing —
//! are in the on-demand module (`client::reporting::contest_page`), fetched like the report page
//! and precached by the service worker, so a judge opens them offline at the venue and a cadre
//! who never judges never downloads them. This side hands the module the contests on the device
//! (as the engine read them, JSON it never parses) and writes what the module asks through the
//! engine (`Replica::write_contest`).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

use crate::client::engine::api;
use crate::client::local::settings;
use crate::client::pages::reports::{ModuleFrame, call_module, report_module};
use crate::client::reporting::input::{self, ContestInput, User};
use crate::client::use_app;
use crate::i18n::{t, tf, tr};

#[component]
pub fn ContestsPage() -> impl IntoView {
    let app = use_app();
    let params = use_params_map();
    let root = NodeRef::<leptos::html::Div>::new();
    let failed = RwSignal::new(None::<String>);
    let mounted = RwSignal::new(None::<SendWrapper<JsValue>>);
    // The callbacks the module holds live as long as the page.
    let callbacks = StoredValue::new_local(None::<(Closure<dyn Fn(JsValue, JsValue) -> js_sys::Promise>, Closure<dyn Fn(String)>)>);
    let (replica, account) = (app.replica.clone(), app.account);
    let (contests, dirty) = (replica.contests, replica.dirty);
    // The module's navigation goes through the router (no reload: the pages stay mounted). The
    // router's navigate holds only its context, so the module's callback owns a copy of it.
    let navigate = use_navigate();

    // What the module is given (tracked: the effect below hands it again when it changes).
    let input = move |mounting: bool| -> Vec<u8> {
        let (lang, catalogue) = input::language(mounting);
        let mut input = ContestInput { open: params.with(|p| p.get("id")), synced_at_ms: settings::load_last_synced(), lang, catalogue, ..Default::default() };
        contests.with(|cs| {
            input.contests = cs.iter().map(|(id, c)| (id.clone(), c.clone())).collect();
            dirty.with(|d| input.dirty = cs.keys().filter(|id| d.contains(*id)).cloned().collect());
        });
        account.with(|a| {
            if let Some(a) = a {
                input.user = User::of(&a.profile);
                input.writable = a.profile.writable.clone();
                // The judge picker asks the server for the organiser's people when it can.
                input.token = a.ended.is_none().then(|| a.token.clone());
            }
        });
        input.encode()
    };

    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        let el: web_sys::Element = el.into();
        let (replica, navigate) = (replica.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            let module = match report_module("Phần hội thi").await {
                Ok(m) => m,
                Err(e) => return failed.set(Some(e)),
            };
            // write(null, contest json) creates; write(id, apply) changes (see Replica::write_contest).
            let write = Closure::<dyn Fn(JsValue, JsValue) -> js_sys::Promise>::new(move |id: JsValue, arg: JsValue| {
                let replica = replica.clone();
                wasm_bindgen_futures::future_to_promise(async move {
                    let id = id.as_string();
                    match replica.write_contest(id.as_deref(), arg).await {
                        Ok(contest) => Ok(JsValue::from_str(&contest)),
                        Err(e) => Err(JsValue::from_str(&api::to_json(&e))),
                    }
                })
            });
            let navigate = Closure::<dyn Fn(String)>::new(move |path: String| navigate(&path, Default::default()));
            let bytes = js_sys::Uint8Array::from(untrack(|| input(true)).as_slice());
            let args = [el.into(), bytes.into(), write.as_ref().clone(), navigate.as_ref().clone()];
            match call_module(&module, "mount_contests", &args) {
                Ok(_) => {
                    callbacks.set_value(Some((write, navigate)));
                    mounted.set(Some(SendWrapper::new(module)));
                }
                Err(e) => failed.set(Some(tf("Trang hội thi gặp lỗi khi mở: {}", &[&tr(&e)]))),
            }
        });
    });
    // Later changes (a sheet synced in, a save, another address) go to the mounted pages.
    Effect::new(move |prev: Option<()>| {
        let bytes = input(false);
        if prev.is_some()
            && let Some(m) = mounted.get_untracked()
        {
            let _ = call_module(&m, "update_contests", &[js_sys::Uint8Array::from(bytes.as_slice()).into()]);
        }
    });
    on_cleanup(move || {
        if let (Some(m), Some(el)) = (mounted.get_untracked(), root.get_untracked()) {
            let el: web_sys::Element = el.into();
            let _ = call_module(&m, "unmount_contests", &[el.into()]);
        }
    });

    let ready = Signal::derive(move || mounted.with(Option::is_some));
    view! { <ModuleFrame title=t("Hội thi") loading=t("Đang mở phần hội thi…") failed ready root class="contest-root"/> }
}
