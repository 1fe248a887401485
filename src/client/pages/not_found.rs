//! The page for an address the app does not have.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::t;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>{t("Không có trang này")}</h1>
            <A href="/">{t("← Về danh sách mô hình")}</A>
        </section>
    }
}
