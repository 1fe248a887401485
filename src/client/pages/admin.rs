//! `/quan-tri`: the administration page's place in the app. The page itself — units and their CSV
//! import, clusters, users and their roles, invitations, the evaluation criteria — is in the
//! on-demand module (`client::reporting::admin_page`), fetched like the report page and precached:
//! an administrator opens it a few times a month, a cadre never, so it does not weigh on anyone's
//! first load (issue 15). It talks to the server only; this side hands it the session.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

use crate::client::pages::reports::{ModuleFrame, call_module, report_module};
use crate::client::reporting::input::{self, AdminInput};
use crate::client::use_app;
use crate::i18n::{t, tf, tr};

#[component]
pub fn AdminPage() -> impl IntoView {
    let app = use_app();
    let root = NodeRef::<leptos::html::Div>::new();
    let failed = RwSignal::new(None::<String>);
    let mounted = RwSignal::new(None::<SendWrapper<JsValue>>);
    let account = app.account;
    let input = move || -> AdminInput {
        let (lang, catalogue) = input::language(true);
        let mut input = AdminInput { lang, catalogue, ..Default::default() };
        account.with_untracked(|a| {
            if let Some(a) = a {
                input.username = a.profile.username.clone();
                input.token = a.ended.is_none().then(|| a.token.clone());
            }
        });
        input
    };

    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        let el: web_sys::Element = el.into();
        leptos::task::spawn_local(async move {
            let module = match report_module("Phần quản trị").await {
                Ok(m) => m,
                Err(e) => return failed.set(Some(e)),
            };
            let bytes = js_sys::Uint8Array::from(input().encode().as_slice());
            match call_module(&module, "mount_admin", &[el.into(), bytes.into()]) {
                Ok(_) => mounted.set(Some(SendWrapper::new(module))),
                Err(e) => failed.set(Some(tf("Trang quản trị gặp lỗi khi mở: {}", &[&tr(&e)]))),
            }
        });
    });
    on_cleanup(move || {
        if let Some(m) = mounted.get_untracked() {
            let _ = call_module(&m, "unmount_admin", &[]);
        }
    });

    let ready = Signal::derive(move || mounted.with(Option::is_some));
    view! { <ModuleFrame title=t("Quản trị") loading=t("Đang mở phần quản trị…") failed ready root class="admin-root"/> }
}
