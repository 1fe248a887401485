//! The page for an address the app does not have.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Không có trang này"</h1>
            <A href="/">"← Về danh sách mô hình"</A>
        </section>
    }
}
