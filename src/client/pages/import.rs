//! `/nhap-tu-tep`: the import page's place in the app. The page itself — reading the file,
//! mapping its columns, the preview, the row errors, the server's import — is in the on-demand
//! module (`client::reporting::import_page`), fetched like the report page and precached, so it
//! works offline and weighs nothing on the first load. This side hands the module who imports and
//! what the device holds, and writes the models it hands back into the replica
//! (`Replica::import`, one IndexedDB transaction per batch; ids the device holds left alone).

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

use crate::client::engine::api;
use crate::client::pages::reports::{ModuleFrame, call_module, report_module};
use crate::client::reporting::input::{self, ImportInput, User};
use crate::client::use_app;
use crate::domain::Model;
use crate::i18n::{t, tf, tr};

#[component]
pub fn ImportPage() -> impl IntoView {
    let app = use_app();
    let root = NodeRef::<leptos::html::Div>::new();
    let failed = RwSignal::new(None::<String>);
    let mounted = RwSignal::new(None::<SendWrapper<JsValue>>);
    // The callbacks the module holds live as long as the page.
    let callbacks = StoredValue::new_local(None::<(Closure<dyn Fn(JsValue) -> js_sys::Promise>, Closure<dyn Fn()>)>);

    let (replica, sync, settings, account) = (app.replica.clone(), app.sync, app.settings, app.account);
    let models = replica.models;
    let input = move || -> ImportInput {
        let (lang, catalogue) = input::language(true);
        let mut input = ImportInput {
            lang,
            catalogue,
            online: web_sys::window().is_some_and(|w| w.navigator().on_line()),
            custom_fields: settings.with_untracked(|s| s.custom_fields.clone()),
            on_device: models.with_untracked(|ms| ms.keys().cloned().collect()),
            ..Default::default()
        };
        account.with_untracked(|a| {
            if let Some(a) = a {
                let p = &a.profile;
                input.user = User::of(p);
                input.may_import = !p.writable.is_empty() || !p.reviews.is_empty() || p.manages;
                input.token = a.ended.is_none().then(|| a.token.clone());
            }
        });
        input
    };

    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        let el: web_sys::Element = el.into();
        let replica = replica.clone();
        leptos::task::spawn_local(async move {
            let module = match report_module("Phần nhập tệp").await {
                Ok(m) => m,
                Err(e) => return failed.set(Some(e)),
            };
            let write = Closure::<dyn Fn(JsValue) -> js_sys::Promise>::new(move |bytes: JsValue| {
                let replica = replica.clone();
                wasm_bindgen_futures::future_to_promise(async move {
                    let models: Vec<Model> = api::from_js(&bytes).map_err(|e| JsValue::from_str(&e))?;
                    let created = replica.import(&models).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
                    Ok(JsValue::from_f64(created as f64))
                })
            });
            let sync_now = Closure::<dyn Fn()>::new(move || sync.sync_now());
            let bytes = js_sys::Uint8Array::from(input().encode().as_slice());
            let args = [el.into(), bytes.into(), write.as_ref().clone(), sync_now.as_ref().clone()];
            match call_module(&module, "mount_import", &args) {
                Ok(_) => {
                    callbacks.set_value(Some((write, sync_now)));
                    mounted.set(Some(SendWrapper::new(module)));
                }
                Err(e) => failed.set(Some(tf("Trang nhập tệp gặp lỗi khi mở: {}", &[&tr(&e)]))),
            }
        });
    });
    on_cleanup(move || {
        if let Some(m) = mounted.get_untracked() {
            let _ = call_module(&m, "unmount_import", &[]);
        }
    });

    let ready = Signal::derive(move || mounted.with(Option::is_some));
    view! { <ModuleFrame title=t("Nhập mô hình từ tệp") loading=t("Đang mở phần nhập tệp…") failed ready root class="import-root"/> }
}
