//! The always-visible sync state in the top bar.

use leptos::prelude::*;

use crate::client::net::sync::SyncStatus;
use crate::client::{hh_mm, use_app};
use crate::domain::format_count_vi;

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
            text.push_str(&format!(" · {} ảnh chờ gửi", photos.get()));
        }
        // Refused models do not fail the round; the badge still says they wait (reasons on
        // their pages).
        let refused = rejected.with(|r| r.len());
        if refused > 0 {
            text.push_str(&format!(" · {refused} mô hình máy chủ chưa nhận"));
        }
        text
    };
    let sync = app.sync;
    view! {
        <button id="sync-status" class="sync-status" data-state=state title="Bấm để đồng bộ ngay"
            aria-live="polite" on:click=move |_| sync.sync_now()>
            <span class="dot" aria-hidden="true"></span>
            <span class="label">{text}</span>
        </button>
    }
}

pub fn describe(status: &SyncStatus, pending: usize) -> String {
    let waiting = |n: usize| format!("{n} thay đổi đang chờ");
    match status {
        SyncStatus::Offline if pending > 0 => format!("Ngoại tuyến · {}", waiting(pending)),
        SyncStatus::Offline => "Ngoại tuyến".into(),
        SyncStatus::Syncing { done, total } if *total > 1 => {
            format!("Đang đồng bộ {}/{}…", format_count_vi(*done), format_count_vi(*total))
        }
        SyncStatus::Syncing { .. } => "Đang đồng bộ…".into(),
        SyncStatus::Error { reason } => format!("Lỗi đồng bộ: {reason}"),
        SyncStatus::SignedOut { .. } if pending > 0 => format!("Chưa đăng nhập · {}", waiting(pending)),
        SyncStatus::SignedOut { .. } => "Chưa đăng nhập — chưa đồng bộ".into(),
        _ if pending > 0 => waiting(pending),
        SyncStatus::Synced { at_ms } => format!("Đã đồng bộ lúc {}", hh_mm(*at_ms)),
        SyncStatus::Starting => "Đang khởi động…".into(),
    }
}
