//! `/bao-cao`: the report page's place in the app. The page itself — figures, charts, pivot,
//! print layouts, XLSX — is a second wasm module (`danvan-reports`, see `client::reporting`),
//! fetched the first time the page opens (then from the service worker's cache, offline too), so
//! a cadre who never opens a report never downloads it. This side only loads the module, hands it
//! the facts of the models on the device, and hands them again when the replica changes.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::client::local::settings;
use crate::client::reporting::input::{self, ReportInput};
use crate::client::use_app;
use crate::domain::report::ModelFacts;
use crate::i18n::{t, tf, tr};

#[wasm_bindgen(module = "/src/client/pages/reports.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn load_report_module() -> Result<JsValue, JsValue>;
}

fn call(module: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(module, &JsValue::from_str(name))?.dyn_into()?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(&JsValue::NULL, &args)
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let app = use_app();
    let (models, account, pending, contests) = (app.replica.models, app.account, app.replica.pending, app.replica.contests);
    let root = NodeRef::<leptos::html::Div>::new();
    let failed = RwSignal::new(None::<String>);
    let module = RwSignal::new(None::<SendWrapper<JsValue>>);

    // What the module is given, read from the replica and the account (tracked: an effect that
    // calls this runs again when they change). Facts are small; the documents stay here.
    let input = move |mounting: bool| -> Vec<u8> {
        let (lang, catalogue) = input::language(mounting);
        let mut input = ReportInput { pending: pending.get(), synced_at_ms: settings::load_last_synced(), lang, catalogue, ..Default::default() };
        input.online = web_sys::window().is_some_and(|w| w.navigator().on_line());
        input.contests = contests.with(|c| c.values().filter_map(|json| json.as_ref().ok().cloned()).collect());
        account.with(|a| {
            if let Some(a) = a {
                let p = &a.profile;
                input.units = p.units.clone();
                input.clusters = p.clusters.clone();
                input.readable = p.readable.clone();
                input.token = a.ended.is_none().then(|| a.token.clone());
                input.username = p.username.clone();
                input.display_name = p.display_name.clone();
                let dealt_with = p.dealt_with();
                models.with(|ms| input.facts = ms.values().filter(|m| dealt_with(&m.unit)).map(ModelFacts::of).collect());
            }
        });
        input.encode()
    };

    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        let el: web_sys::Element = el.into();
        leptos::task::spawn_local(async move {
            match load_report_module().await {
                Ok(m) => {
                    let bytes = js_sys::Uint8Array::from(untrack(|| input(true)).as_slice());
                    match call(&m, "mount", &[el.into(), bytes.into()]) {
                        Ok(_) => module.set(Some(SendWrapper::new(m))),
                        Err(e) => failed.set(Some(tf("Trang báo cáo gặp lỗi khi mở: {}", &[&tr(&describe(&e))]))),
                    }
                }
                Err(e) => failed.set(Some(if web_sys::window().is_some_and(|w| w.navigator().on_line()) {
                    tf("Không tải được phần báo cáo ({}). Hãy tải lại trang.", &[&describe(&e)])
                } else {
                    t("Phần báo cáo chưa có trên thiết bị này: nó được tải về ở lần mở đầu tiên khi có mạng. Hãy mở lại trang này khi có sóng.").into()
                })),
            }
        });
    });
    // Later changes of the replica go to the mounted page (not on the first run: mount had them).
    Effect::new(move |prev: Option<()>| {
        let bytes = input(false);
        if prev.is_some()
            && let Some(m) = module.get_untracked()
        {
            let _ = call(&m, "update", &[js_sys::Uint8Array::from(bytes.as_slice()).into()]);
        }
    });
    on_cleanup(move || {
        if let Some(m) = module.get_untracked() {
            let _ = call(&m, "unmount", &[]);
        }
    });

    let ready = Signal::derive(move || module.with(Option::is_some));
    view! { <ModuleFrame title=t("Báo cáo") loading=t("Đang mở phần báo cáo…") failed ready root class="report-root"/> }
}

/// A page of the on-demand module in the app: while the module loads, the page's title and a
/// "loading" line; if it cannot load, why; then the module's own DOM in `root`, where nothing of
/// this app's renders.
#[component]
pub fn ModuleFrame(
    title: &'static str,
    loading: &'static str,
    failed: RwSignal<Option<String>>,
    ready: Signal<bool>,
    root: NodeRef<leptos::html::Div>,
    class: &'static str,
) -> impl IntoView {
    view! {
        <Show when=move || failed.with(Option::is_some)>
            <section class="page"><h1>{title}</h1><p class="warning" role="alert">{move || failed.get()}</p></section>
        </Show>
        <Show when=move || !ready.get() && failed.with(Option::is_none)>
            <section class="page" aria-busy="true"><h1>{title}</h1><p class="loading">{loading}</p></section>
        </Show>
        <div node_ref=root class=class></div>
    }
}

/// Writes the model list (`models`: `engine::api::to_js` of the models the list shows, filtered)
/// to an XLSX or CSV download, with the report module's writer.
pub async fn export_models(models: JsValue, kind: &str) -> Result<(), String> {
    let module = report_module("Phần xuất tệp").await?;
    call(&module, "export_models", &[models, JsValue::from_str(kind)])
        .map(|_| ())
        .map_err(|e| tf("Không tạo được tệp: {}", &[&tr(&describe(&e))]))
}

/// The report module, for the other pages that use its file writers (the list's export, the
/// device backup); `part` names what the user asked for in the message when it cannot load (in
/// Vietnamese, "Phần …": the catalogue translates it).
pub async fn report_module(part: &str) -> Result<JsValue, String> {
    load_report_module().await.map_err(|e| {
        let part = tr(part);
        if web_sys::window().is_some_and(|w| w.navigator().on_line()) {
            tf("Không tải được {} ({}). Hãy tải lại trang.", &[&part.to_lowercase(), &describe(&e)])
        } else {
            tf("{} chưa có trên thiết bị này: nó được tải về ở lần mở đầu tiên khi có mạng. Hãy mở lại khi có sóng.", &[&part])
        }
    })
}

/// Calls one of the module's exports; its error as one sentence.
pub fn call_module(module: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    call(module, name, args).map_err(|e| describe(&e))
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}
