//! The sync loop: runs on start, shortly after a local change, when the browser comes back online
//! and periodically (with exponential backoff and jitter after failures). It never blocks the UI:
//! all work is async and every document write goes through one IndexedDB transaction.
//!
//! The session itself (rounds, what is sent, how replies and feed documents are stored) is the
//! shared `crate::sync::session`; this module plugs in IndexedDB, fetch and the status signals.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::client::local::account::Account;
use crate::client::local::replica::{Replica, now_ms};
use crate::client::local::settings;
use crate::client::local::storage::{DocRecord, StorageError};
use crate::sync::session::{self, Cursor, LocalDocs, Observer, Transport};
use crate::sync::{CONTENT_TYPE, FEED_BUDGET_DEFAULT, SyncRequest, SyncResponse};

const DEBOUNCE: Duration = Duration::from_millis(1500);
const PERIOD: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often the signed-in profile (grants, units, criteria sets) is read again while online.
const PROFILE_EVERY_MS: f64 = 60.0 * 60.0 * 1000.0;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A feed page should take about this long on the link as measured, so a request cut midway
/// loses little and progress moves.
const PAGE_SECONDS: f64 = 8.0;
const MIN_FEED_BUDGET: u32 = 64 * 1024;

thread_local! {
    /// Response bytes per second seen lately (moving average), to size feed pages.
    static LINK_RATE: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    Starting,
    Offline,
    Syncing { done: usize, total: usize },
    Synced { at_ms: i64 },
    Error { reason: String },
    /// The session ended (expired, revoked, account locked) or nobody signed in: sync waits for
    /// a sign-in; local work goes on.
    SignedOut { reason: String },
}

#[derive(Clone, Copy)]
pub struct SyncHandle {
    pub status: RwSignal<SyncStatus>,
    /// Documents the server refused, with its reason (shown on their detail pages).
    pub rejected: RwSignal<BTreeMap<String, String>>,
    /// Photos taken here that the server does not have yet (as of the last upload round).
    pub photos_waiting: RwSignal<usize>,
    kick: RwSignal<u64>,
}

impl SyncHandle {
    /// Asks for a sync now (the "Đồng bộ ngay" button).
    pub fn sync_now(&self) {
        self.kick.update(|n| *n += 1);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Không kết nối được máy chủ ({0}). Sẽ thử lại.")]
    Network(String),
    #[error("Máy chủ đang gặp sự cố (mã {0}). Sẽ thử lại.")]
    Server(u16),
    #[error("Máy chủ từ chối yêu cầu: {0}")]
    Rejected(String),
    #[error("{0}")]
    SignedOut(String),
}

fn is_online() -> bool {
    web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
}

fn server_url() -> String {
    // reqwest in wasm needs an absolute URL.
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}/api/sync")
}

const REJECTED: &str = "danvan.sync.rejected";

/// Starts the background loop; returns the handle the UI uses to show and trigger sync.
pub fn start(replica: Replica, account: RwSignal<Option<Account>>) -> SyncHandle {
    use gloo_storage::Storage;
    let handle = SyncHandle {
        status: RwSignal::new(SyncStatus::Starting),
        // Kept across reloads, so a refused edit stays flagged until the server takes it.
        rejected: RwSignal::new(gloo_storage::LocalStorage::get(REJECTED).unwrap_or_default()),
        photos_waiting: RwSignal::new(0),
        kick: RwSignal::new(0),
    };
    {
        // Photos of saved entries not yet sent (taken before a reload). The models are read
        // at start-up, so ask once they are there: after the first sync round at the latest.
        let (replica, waiting) = (replica.clone(), handle.photos_waiting);
        leptos::task::spawn_local(async move {
            waiting.set(crate::client::local::photos::waiting(&replica).await.len());
        });
    }
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<Duration>();

    // Local changes: sync shortly after, so a burst of edits goes in one request.
    {
        let tx = tx.clone();
        Effect::new(move |prev: Option<u64>| {
            let n = replica.local_change.get();
            if prev.is_some() {
                let _ = tx.unbounded_send(DEBOUNCE);
            }
            n
        });
    }
    {
        let tx = tx.clone();
        Effect::new(move |prev: Option<u64>| {
            let n = handle.kick.get();
            if prev.is_some() {
                let _ = tx.unbounded_send(Duration::ZERO);
            }
            n
        });
    }
    // Connectivity changes.
    if let Some(window) = web_sys::window() {
        let online_tx = tx.clone();
        let on_online = Closure::<dyn Fn()>::new(move || {
            let _ = online_tx.unbounded_send(Duration::ZERO);
        });
        let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        on_online.forget();
        let status = handle.status;
        let on_offline = Closure::<dyn Fn()>::new(move || status.set(SyncStatus::Offline));
        let _ = window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
        on_offline.forget();
    }

    leptos::task::spawn_local(async move {
        let mut failures: u32 = 0;
        // When the profile was last read (0: not since the app started).
        let mut profile_read_at = 0.0;
        let mut wait = Duration::ZERO;
        loop {
            // Wait for the timer or a trigger; a trigger can only shorten the wait.
            let mut timer = gloo_timers::future::sleep(wait).fuse();
            loop {
                futures::select! {
                    _ = timer => break,
                    next = rx.next() => match next {
                        Some(d) => {
                            timer = gloo_timers::future::sleep(d).fuse();
                            if d.is_zero() { break; }
                        }
                        None => return,
                    },
                }
            }
            if !is_online() {
                handle.status.set(SyncStatus::Offline);
                wait = PERIOD;
                continue;
            }
            // Storage is the truth: another tab may have signed in again (or out) meanwhile.
            let stored = Account::load();
            if stored != account.get_untracked() {
                account.set(stored.clone());
            }
            let current = match stored {
                Some(a) if a.ended.is_none() => a,
                other => {
                    let reason = other.and_then(|a| a.ended).unwrap_or_else(|| "Đăng nhập để đồng bộ.".into());
                    handle.status.set(SyncStatus::SignedOut { reason });
                    wait = PERIOD;
                    continue;
                }
            };
            match run_session(&replica, handle, &current.token).await {
                // Also when some documents were refused (see `run_session`).
                Ok(()) => {
                    failures = 0;
                    handle.status.set(SyncStatus::Synced { at_ms: now_ms() });
                    wait = PERIOD;
                    // Photos after the text, on their own: a slow upload never delays a sync.
                    crate::client::net::photos::upload_pending(replica.clone(), current.token.clone(), handle.photos_waiting);
                    if js_sys::Date::now() - profile_read_at > PROFILE_EVERY_MS {
                        profile_read_at = js_sys::Date::now();
                        refresh_profile(&current, account).await;
                    }
                }
                Err(Failed::SignedOut(reason)) => {
                    // Keep the account (the replica is this user's) and wait for a sign-in,
                    // unless a new session was stored meanwhile.
                    if Account::load().is_some_and(|a| a.token == current.token) {
                        let ended = Account { ended: Some(reason.clone()), ..current };
                        let _ = ended.save();
                        account.set(Some(ended));
                        handle.status.set(SyncStatus::SignedOut { reason });
                        wait = PERIOD;
                    } else {
                        wait = Duration::ZERO;
                    }
                }
                Err(Failed::Other(reason)) => {
                    failures += 1;
                    let status = if is_online() { SyncStatus::Error { reason } } else { SyncStatus::Offline };
                    handle.status.set(status);
                    wait = backoff(failures);
                }
            }
        }
    });
    let _ = tx.unbounded_send(Duration::ZERO);
    handle
}

/// Reads the profile again, so a new grant, a renamed unit or a changed criteria set reaches
/// a device that stays signed in for weeks. A failure changes nothing (the next hour retries).
async fn refresh_profile(current: &Account, account: RwSignal<Option<Account>>) {
    let fresh = crate::client::net::http::call::<crate::api::Profile>(reqwest::Method::GET, "/api/session", Some(&current.token), crate::client::net::http::Body::None).await;
    let Ok(profile) = fresh else { return };
    // Only if the same session is still the stored one (another tab may have signed in again).
    if let Some(stored) = Account::load().filter(|a| a.token == current.token && a.profile != profile) {
        let updated = Account { profile, ..stored };
        if updated.save().is_ok() {
            account.set(Some(updated));
        }
    }
}

/// 2 s, 4 s, 8 s … up to 5 minutes, each ±25 % so that many phones do not retry in lockstep.
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(2u64.saturating_pow(failures.min(10))).min(MAX_BACKOFF);
    let jitter = 0.75 + js_sys::Math::random() * 0.5;
    base.mul_f64(jitter)
}

async fn post(request: &SyncRequest, token: &str) -> Result<SyncResponse, SyncError> {
    let client = reqwest::Client::new();
    let started = js_sys::Date::now();
    let response = client
        .post(server_url())
        .bearer_auth(token)
        .header("content-type", CONTENT_TYPE)
        .body(crate::sync::encode(request))
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|e| SyncError::Network(short_reason(&e)))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(SyncError::Server(status.as_u16()));
    }
    if !status.is_success() {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let reason = body.get("error").and_then(|e| e.as_str()).unwrap_or("không rõ lý do").to_string();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SyncError::SignedOut(reason));
        }
        return Err(SyncError::Rejected(format!("{reason} (mã {})", status.as_u16())));
    }
    // A body cut midway fails here; nothing has been applied yet, so the retry is clean.
    let body = response.bytes().await.map_err(|e| SyncError::Network(short_reason(&e)))?;
    let seconds = ((js_sys::Date::now() - started) / 1000.0).max(0.05);
    if body.len() > 16 * 1024 {
        // Only bodies big enough to say something about the link's speed.
        let rate = body.len() as f64 / seconds;
        LINK_RATE.with(|r| r.set(Some(r.get().map_or(rate, |old| 0.7 * old + 0.3 * rate))));
    }
    crate::sync::decode(&body).map_err(|e| SyncError::Network(format!("phản hồi không đọc được: {e}")))
}

/// Feed bytes to ask for: what the link carries in about [`PAGE_SECONDS`].
fn feed_budget() -> Option<u32> {
    let rate = LINK_RATE.with(|r| r.get())?;
    Some(((rate * PAGE_SECONDS) as u32).clamp(MIN_FEED_BUDGET, FEED_BUDGET_DEFAULT))
}

fn short_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "hết thời gian chờ".into()
    } else if e.is_decode() || e.is_body() {
        "kết nối bị ngắt giữa chừng".into()
    } else {
        "mạng không ổn định hoặc máy chủ không chạy".into()
    }
}

/// The browser's replica, as the shared session code sees it.
struct BrowserDocs<'a>(&'a Replica);

impl LocalDocs for BrowserDocs<'_> {
    type Error = StorageError;
    async fn dirty_ids(&self) -> Result<Vec<String>, StorageError> {
        self.0.store.dirty_ids().await
    }
    async fn all_ids(&self) -> Result<Vec<String>, StorageError> {
        self.0.store.all_ids().await
    }
    async fn get(&self, id: &str) -> Result<Option<DocRecord>, StorageError> {
        self.0.store.get(id).await
    }
    async fn update_each<F>(&self, ids: &[String], f: F) -> Result<Vec<DocRecord>, StorageError>
    where
        F: FnMut(&str, Option<DocRecord>) -> Option<DocRecord>,
    {
        self.0.store.update_each(ids, f).await
    }
    fn cursor(&self) -> Cursor {
        settings::load_cursor()
    }
    fn set_cursor(&self, cursor: &Cursor) {
        settings::save_cursor(cursor)
    }
}

/// Requests made with the signed-in user's token.
struct Fetch<'a>(&'a str);

impl Transport for Fetch<'_> {
    type Error = SyncError;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, SyncError> {
        post(request, self.0).await
    }
    fn feed_budget(&self) -> Option<u32> {
        feed_budget()
    }
}

/// Shows progress and newly arrived documents while the session runs.
struct UiObserver<'a> {
    replica: &'a Replica,
    status: RwSignal<SyncStatus>,
}

impl Observer for UiObserver<'_> {
    fn written(&mut self, records: &[DocRecord]) {
        self.replica.written(records);
    }
    fn progress(&mut self, done: usize, total: usize) {
        self.status.set(SyncStatus::Syncing { done, total });
    }
}

enum Failed {
    SignedOut(String),
    Other(String),
}

async fn run_session(replica: &Replica, handle: SyncHandle, token: &str) -> Result<(), Failed> {
    use gloo_storage::Storage;
    let mut observer = UiObserver { replica, status: handle.status };
    let report = session::run_session(&BrowserDocs(replica), &Fetch(token), &mut observer).await.map_err(|e| match e {
        session::SessionError::Transport(SyncError::SignedOut(reason)) => Failed::SignedOut(reason),
        e => Failed::Other(e.to_string()),
    })?;
    // A document the server refused is its own problem, not the round's: the round went on for
    // every other document, so it counts as a success (photos and the profile follow, no backoff)
    // while the refused one stays dirty with its edits and flagged (badge, card, detail page).
    let _ = gloo_storage::LocalStorage::set(REJECTED, &report.rejected);
    handle.rejected.set(report.rejected);
    Ok(())
}
