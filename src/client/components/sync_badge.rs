//! The always-visible sync state in the top bar.

use leptos::prelude::*;

use crate::client::net::sync::SyncStatus;
use crate::client::{hh_mm, use_app};
use crate::i18n::{self, t, tf, tr};

/// Always-visible sync state: offline / N waiting / syncing / synced at HH:MM / error with reason.
#[component]
pub fn SyncBadge() -> impl IntoView {
    let app = use_app();
    let status = app.sync.status;
    let pending = app.replica.pending;
    let state = move || match status.get() {
        SyncStatus::Offline => "offline",
        SyncStatus::Syncing { .. } => "syncing",
        SyncStatus::Error { .. } => "error",
        SyncStatus::SignedOut { .. } => "signed-out",
        SyncStatus::Synced { .. } if pending.get() == 0 => "synced",
        _ => "pending",
    };
    let (photos, rejected) = (app.sync.photos_waiting, app.sync.rejected);
    let text = move || {
        let mut text = describe(&status.get(), pending.get());
        // Photos travel after the text; the data-state stays about the text.
        if photos.get() > 0 {
            text.push_str(&tf(" · {} ảnh chờ gửi", &[&photos.get()]));
        }
        // Refused models do not fail the round; the badge still says they wait (reasons on
        // their pages).
        let refused = rejected.with(|r| r.len());
        if refused > 0 {
            text.push_str(&tf(" · {} mô hình máy chủ chưa nhận", &[&refused]));
        }
        text
    };
    let sync = app.sync;
    view! {
        <button id="sync-status" class="sync-status" data-state=state title=t("Bấm để đồng bộ ngay")
            aria-live="polite" on:click=move |_| sync.sync_now()>
            <span class="dot" aria-hidden="true"></span>
            <span class="label">{text}</span>
        </button>
    }
}

/// The sync state as the badge and Cài đặt say it, in the interface's language.
pub fn describe(status: &SyncStatus, pending: usize) -> String {
    let waiting = |n: usize| tf("{} thay đổi đang chờ", &[&n]);
    match status {
        SyncStatus::Offline if pending > 0 => tf("Ngoại tuyến · {}", &[&waiting(pending)]),
        SyncStatus::Offline => t("Ngoại tuyến").into(),
        SyncStatus::Syncing { done, total } if *total > 1 => {
            tf("Đang đồng bộ {}/{}…", &[&i18n::count(*done), &i18n::count(*total)])
        }
        SyncStatus::Syncing { .. } => t("Đang đồng bộ…").into(),
        // The reason comes from the sync loop or the server, in Vietnamese.
        SyncStatus::Error { reason } => tf("Lỗi đồng bộ: {}", &[&tr(reason)]),
        SyncStatus::SignedOut { .. } if pending > 0 => tf("Chưa đăng nhập · {}", &[&waiting(pending)]),
        SyncStatus::SignedOut { .. } => t("Chưa đăng nhập — chưa đồng bộ").into(),
        _ if pending > 0 => waiting(pending),
        SyncStatus::Synced { at_ms } => tf("Đã đồng bộ lúc {}", &[&hh_mm(*at_ms)]),
        SyncStatus::Starting => t("Đang khởi động…").into(),
    }
}
