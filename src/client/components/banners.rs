//! Banners above every page: a session that ended, an update ready to load.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::net::pwa;
use crate::client::use_app;
use crate::i18n::{self, t, tf, tr};

/// The session ended: say that nothing is lost and offer to sign in again.
#[component]
pub fn SessionEndedBanner() -> impl IntoView {
    let account = use_app().account;
    let ended = move || account.with(|a| a.as_ref().and_then(|a| a.ended.clone()));
    view! {
        <Show when=move || ended().is_some()>
            <div class="session-banner" role="alert">
                // Why the session ended: the server's or the sync loop's sentence, in Vietnamese.
                <span>{move || ended().map(|e| tr(&e)).unwrap_or_default()} {t(" Mọi thay đổi vẫn được giữ trên máy này và sẽ đồng bộ sau khi đăng nhập lại. ")}</span>
                <A href="/dang-nhap" attr:class="button primary">{t("Đăng nhập lại")}</A>
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
                <span>{t("Có phiên bản mới — ")}</span>
                <button on:click=move |_| pwa::apply_update(pwa)>{t("tải lại")}</button>
            </div>
        </Show>
    }
}

/// Storage use from this share of the quota on is "nearly full".
pub const NEARLY_FULL: f64 = 0.8;

/// Why the device's data is at risk now, if it is: storage nearly full (the browser evicts or
/// refuses writes next), or the browser has not promised to keep the data while it holds work
/// the server lacks (`pending` documents, `photos` waiting for upload). `brief`: the list's one
/// line; otherwise the backup section's sentence with what to do. Nothing is said without
/// `navigator.storage` (plain-http LAN origins): the offline banner already says that address
/// cannot keep data, and there are no figures to show.
pub fn storage_warning(info: &pwa::StorageInfo, pending: usize, photos: usize, brief: bool) -> Option<String> {
    let count = i18n::count;
    if let (Some(usage), Some(quota)) = (info.usage, info.quota)
        && quota > 0.0
        && usage / quota >= NEARLY_FULL
    {
        let share = (usage / quota * 100.0).floor() as u32;
        return Some(if brief {
            tf("Bộ nhớ trình duyệt đã dùng {}%, sắp đầy.", &[&share])
        } else {
            tf("Bộ nhớ trình duyệt dành cho ứng dụng đã dùng {}%: sắp đầy, có thể không lưu thêm được. Hãy tải bản sao dữ liệu rồi giải phóng dung lượng máy.", &[&share])
        });
    }
    if info.persisted != Some(false) || pending + photos == 0 {
        return None;
    }
    // Whole sentences for each case: English words them around the counts differently.
    let (n, p) = (count(pending), count(photos));
    Some(match (pending, photos, brief) {
        (0, _, true) => tf("{} ảnh chưa gửi lên máy chủ; trình duyệt có thể xóa khi máy thiếu chỗ.", &[&p]),
        (_, 0, true) => tf("{} thay đổi chưa gửi lên máy chủ; trình duyệt có thể xóa khi máy thiếu chỗ.", &[&n]),
        (_, _, true) => tf("{} thay đổi và {} ảnh chưa gửi lên máy chủ; trình duyệt có thể xóa khi máy thiếu chỗ.", &[&n, &p]),
        (0, _, false) => tf("{} ảnh chưa gửi lên máy chủ, và trình duyệt chưa hứa giữ dữ liệu khi máy thiếu chỗ. Hãy đồng bộ khi có mạng, hoặc tải bản sao dữ liệu để phòng mất.", &[&p]),
        (_, 0, false) => tf("{} thay đổi chưa gửi lên máy chủ, và trình duyệt chưa hứa giữ dữ liệu khi máy thiếu chỗ. Hãy đồng bộ khi có mạng, hoặc tải bản sao dữ liệu để phòng mất.", &[&n]),
        (_, _, false) => tf("{} thay đổi và {} ảnh chưa gửi lên máy chủ, và trình duyệt chưa hứa giữ dữ liệu khi máy thiếu chỗ. Hãy đồng bộ khi có mạng, hoặc tải bản sao dữ liệu để phòng mất.", &[&n, &p]),
    })
}

/// The list page's warning when the device's data is at risk (see [`storage_warning`]): one
/// line and a link to the backup, small enough for a 360 px phone.
#[component]
pub fn StorageWarningBanner() -> impl IntoView {
    let app = use_app();
    let (info, pending, waiting) = (app.pwa.storage, app.replica.pending, app.sync.photos_waiting);
    let pwa_handle = app.pwa;
    // Usage grows with every sync and photo: read it again when the list opens.
    leptos::task::spawn_local(async move { pwa::refresh_storage(pwa_handle).await });
    let warning = move || storage_warning(&info.get(), pending.get(), waiting.get(), true);
    view! {
        {move || warning().map(|text| view! {
            <div id="storage-warning" class="storage-banner" role="status">
                <span>{text}</span>
                " "
                <A href="/cai-dat#sao-luu">{t("Tải bản sao")}</A>
            </div>
        })}
    }
}
