//! Settings: how this device syncs, what it holds, its backup (`pages::backup`), and signing out.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::{local::settings, use_app};
use crate::i18n::{self, Lang, t, tf, tr};

/// Said under "Đồng bộ ngay" while the round it asked for runs; cleared when the round ends.
const SYNCING_NOTE: &str = "Đang đồng bộ…";

#[component]
pub fn SettingsPage() -> impl IntoView {
    let app = use_app();
    let current = app.settings.get_untracked();
    let custom = RwSignal::new(current.custom_fields.join("\n"));
    let message = RwSignal::new(None::<String>);
    let settings = app.settings;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let s = settings::Settings {
            custom_fields: custom
                .get_untracked()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        };
        match s.save() {
            Ok(()) => {
                settings.set(s);
                message.set(Some(t("Đã lưu cài đặt.").into()));
            }
            Err(e) => message.set(Some(tf("Không lưu được cài đặt: {}", &[&e]))),
        }
    };
    let pwa = app.pwa;
    leptos::task::spawn_local(async move { crate::client::net::pwa::refresh_storage(pwa).await });
    let storage = move || {
        let info = pwa.storage.get();
        let usage = match (info.usage, info.quota) {
            (Some(u), Some(q)) => tf("Đang dùng {} trên {} trình duyệt cho phép.", &[&i18n::bytes(u), &i18n::bytes(q)]),
            _ if !pwa.support.storage_manager => {
                t("Trang không mở bằng địa chỉ https nên trình duyệt không cho biết dung lượng và không hứa giữ dữ liệu khi máy thiếu chỗ.").into()
            }
            _ => t("Trình duyệt không cho biết dung lượng.").into(),
        };
        let persisted = match info.persisted {
            Some(true) => t("Dữ liệu được lưu bền vững: trình duyệt sẽ không tự xóa khi thiếu chỗ."),
            Some(false) => t("Trình duyệt chưa cho lưu bền vững: khi máy thiếu chỗ, dữ liệu chưa đồng bộ có thể bị xóa. Hãy cài ứng dụng (Thêm vào màn hình chính) và đồng bộ thường xuyên."),
            None => "",
        };
        view! { <p id="storage-usage">{usage}</p><p>{persisted}</p> }
    };
    let sync = app.sync;
    let sync_note = RwSignal::new(None::<String>);
    // "Đang đồng bộ…" gives way to the result once the round ends (the status line above says it).
    Effect::new(move |_| {
        if !matches!(sync.status.get(), crate::client::net::sync::SyncStatus::Syncing { .. }) && sync_note.with_untracked(|n| n.as_deref() == Some(t(SYNCING_NOTE))) {
            sync_note.set(None);
        }
    });
    let status = move || crate::client::components::sync_badge::describe(&sync.status.get(), app.replica.pending.get());
    let unreadable = app.replica.unreadable;
    let all_models = app.replica.models;

    view! {
        <section class="page settings-page">
            <h1>{t("Cài đặt")}</h1>
            <crate::client::pages::sign_in::AccountSection/>
            <LanguageSection/>
            <form class="model-form" on:submit=save>
                <fieldset>
                    <legend>{t("Các lĩnh vực")}</legend>
                    <p class="hint">{t("Bốn lĩnh vực chuẩn luôn có: Kinh tế; Văn hóa – xã hội; Quốc phòng – an ninh; Xây dựng hệ thống chính trị. Thêm chủ đề riêng của địa phương, mỗi dòng một chủ đề.")}</p>
                    <div class="field">
                        <label for="custom_fields">{t("Lĩnh vực bổ sung")}</label>
                        <textarea id="custom_fields" rows="4" placeholder=t("Ví dụ: Cải cách hành chính")
                            prop:value=custom on:input=move |ev| custom.set(event_target_value(&ev))></textarea>
                    </div>
                </fieldset>
                <div class="actions">
                    <button type="submit" class="button primary">{t("Lưu cài đặt")}</button>
                    <span role="status">{move || message.get()}</span>
                </div>
            </form>
            <section class="item">
                <h2>{t("Đồng bộ")}</h2>
                <p>{status}</p>
                <button class="button" on:click=move |_| {
                    // Offline the click would change nothing visible: say what happens instead.
                    if let crate::client::net::sync::SyncStatus::SignedOut { reason } = sync.status.get_untracked() {
                        sync_note.set(Some(tf("Chưa đồng bộ được: {}", &[&tr(&reason)])));
                    } else if web_sys::window().is_some_and(|w| w.navigator().on_line()) {
                        sync_note.set(Some(t(SYNCING_NOTE).into()));
                        sync.sync_now();
                    } else {
                        sync_note.set(Some(t("Thiết bị đang không có mạng. Mọi thay đổi vẫn được lưu trên máy và sẽ tự đồng bộ khi có mạng.").into()));
                    }
                }>{t("Đồng bộ ngay")}</button>
                <p id="sync-now-note" role="status">{move || sync_note.get()}</p>
                // Every refused model with a link, also those of units the lists do not show
                // (a model of a commune the user has left).
                <Show when=move || sync.rejected.with(|r| !r.is_empty())>
                    <p class="warning">{t("Máy chủ chưa nhận các mô hình sau (vẫn được giữ trên thiết bị, sẽ gửi lại ở mỗi lần đồng bộ):")}</p>
                    <ul id="refused-models">{move || {
                        let models = all_models.get();
                        sync.rejected.get().into_iter().map(|(id, reason)| {
                            let name = models.get(&id).map_or_else(|| id.clone(), |m| m.name.clone());
                            view! { <li><A href=format!("/mo-hinh/{id}")>{name}</A> ": " {tr(&reason)}</li> }
                        }).collect_view()
                    }}</ul>
                </Show>
            </section>
            <crate::client::pages::backup::BackupSection/>
            <section class="item">
                <h2>{t("Lưu trữ trên thiết bị")}</h2>
                {storage}
                <Show when=move || unreadable.with(|u| !u.is_empty())>
                    <p class="warning">{t("Không đọc được các tài liệu sau (vẫn được giữ nguyên, không bị xóa):")}</p>
                    <ul>{move || unreadable.get().into_iter().map(|(id, reason)| view! { <li><code>{id}</code> ": " {tr(&reason)}</li> }).collect_view()}</ul>
                </Show>
            </section>
        </section>
    }
}

/// The interface's language. The heading says it in both, for whoever cannot read the current one;
/// a choice reloads the app (every text is read once, when a view is built).
#[component]
fn LanguageSection() -> impl IntoView {
    let current = i18n::lang();
    let failed = RwSignal::new(None::<String>);
    let choose = move |ev: leptos::ev::Event| {
        let Some(lang) = Lang::from_code(&event_target_value(&ev)) else { return };
        match settings::save_lang(lang) {
            Ok(()) => {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
            Err(e) => failed.set(Some(tf("Không lưu được cài đặt: {}", &[&e]))),
        }
    };
    view! {
        <section class="item">
            <h2><label for="language">{i18n::vi("Ngôn ngữ · Language")}</label></h2>
            <select id="language" on:change=choose>
                {Lang::ALL.into_iter().map(|lang| view! {
                    <option value=lang.code() selected=lang == current>{lang.name()}</option>
                }).collect_view()}
            </select>
            <p role="status">{move || failed.get()}</p>
        </section>
    }
}
