//! Banners above every page: a session that ended, an update ready to load.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::net::pwa;
use crate::client::use_app;

/// The session ended: say that nothing is lost and offer to sign in again.
#[component]
pub fn SessionEndedBanner() -> impl IntoView {
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

#[component]
pub fn UpdateBanner() -> impl IntoView {
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
