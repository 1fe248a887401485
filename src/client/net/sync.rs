//! The sync loop: runs on start, shortly after a local change, when the browser comes back online
//! and periodically (with exponential backoff and jitter after failures). It never blocks the UI:
//! all work is async and every document write goes through one IndexedDB transaction.
//!
//! The session itself (rounds, what is sent, how replies and feed documents are stored) is the
//! shared `crate::sync::session`, run by the document engine (`client::engine`) on its storage;
//! this module decides when, carries its requests (fetch, paced) and shows the status.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::Closure;

use crate::client::local::account::Account;
use crate::client::local::replica::{Replica, now_ms};
use crate::client::local::settings;
use crate::client::engine::api::{self, SyncFailure, SyncOutcome};
use crate::client::local::engine;
use crate::client::local::storage::StorageError;
use crate::sync::CONTENT_TYPE;
use crate::sync::pace::{self, Body, BodyError, Either, Pace};

const DEBOUNCE: Duration = Duration::from_millis(1500);
const PERIOD: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often the signed-in profile (grants, units, criteria sets) is read again while online.
const PROFILE_EVERY_MS: f64 = 60.0 * 60.0 * 1000.0;

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
    /// While a session fills a replica from the start of the feed (a new phone, a new grant):
    /// what has arrived and what the server says is still coming, so the list can say that
    /// models are arriving instead of "none yet".
    pub arriving: RwSignal<Option<Arriving>>,
    kick: RwSignal<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arriving {
    /// Feed documents stored so far in this session.
    pub received: usize,
    /// `received` plus what the server's later pages bring; `None` until the first answer.
    pub expected: Option<usize>,
}

impl SyncHandle {
    /// Asks for a sync now (the "Đồng bộ ngay" button).
    pub fn sync_now(&self) {
        self.kick.update(|n| *n += 1);
    }
}

/// The reason the status keeps, in Vietnamese (the badge shows it through `i18n::tr`).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Không kết nối được máy chủ ({0}). Sẽ thử lại.")]
    Network(String),
    #[error("Máy chủ đang gặp sự cố (mã {0}). Sẽ thử lại.")]
    Server(u16),
    #[error("Máy chủ từ chối yêu cầu: {0}")]
    Rejected(String),
    /// The server's own sentence (session ended), shown as it came.
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
        arriving: RwSignal::new(None),
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
                    // The device may have gone offline while the round finished: the badge says
                    // offline (the `offline` event set it moments ago), not "synced" until the
                    // next round (a fresh-clone e2e caught the badge saying synced, offline).
                    handle.status.set(if is_online() { SyncStatus::Synced { at_ms: now_ms() } } else { SyncStatus::Offline });
                    crate::client::local::settings::save_last_synced(now_ms());
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

/// One sync request (the engine's encoded `SyncRequest`; the answer's bytes go back to it). Its
/// deadlines follow the link, not the clock (see `sync::pace`): until the answer starts, the
/// upload's size at the measured rate plus [`pace::STALL`] (a browser cannot watch an upload's
/// progress); then the body is read as a stream, and given up only when no bytes come for
/// [`pace::STALL`]. Dropping the request (a deadline) aborts the fetch.
async fn post(body: Vec<u8>, token: &str, pace: &std::cell::Cell<Pace>) -> Result<Vec<u8>, SyncError> {
    let sent = body.len();
    let deadline = pace.get().send_timeout(sent);
    let started = js_sys::Date::now();
    let send = reqwest::Client::new()
        .post(server_url())
        .bearer_auth(token)
        .header("content-type", CONTENT_TYPE)
        .body(body)
        .send();
    let response = match pace::first(send, gloo_timers::future::sleep(deadline)).await {
        Either::Left(r) => r.map_err(|e| SyncError::Network(short_reason(&e)))?,
        Either::Right(()) => {
            return Err(SyncError::Network(format!("máy chủ không trả lời sau {} giây", deadline.as_secs())));
        }
    };
    let status = response.status();
    if status.is_server_error() {
        return Err(SyncError::Server(status.as_u16()));
    }
    let mut stream = FetchBody(response.bytes_stream());
    // A body cut midway fails here; nothing has been applied yet, so the retry is clean (and
    // every earlier page is stored, with the cursor after it).
    let body = pace::read_body(&mut stream, gloo_timers::future::sleep, pace::STALL).await.map_err(|e| match e {
        BodyError::Stalled(d) => SyncError::Network(format!("không nhận được dữ liệu trong {} giây", d.as_secs())),
        BodyError::Failed(e) => SyncError::Network(short_reason(&e)),
    })?;
    if !status.is_success() {
        let body: serde_json::Value = std::str::from_utf8(&body).ok().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
        let reason = body.get("error").and_then(|e| e.as_str()).unwrap_or("không rõ lý do").to_string();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SyncError::SignedOut(reason));
        }
        return Err(SyncError::Rejected(format!("{reason} (mã {})", status.as_u16())));
    }
    let elapsed = Duration::from_secs_f64(((js_sys::Date::now() - started) / 1000.0).max(0.0));
    let mut measured = pace.get();
    measured.observe(sent, body.len(), elapsed);
    pace.set(measured);
    Ok(body)
}

/// A fetch response body (its `ReadableStream`) as `sync::pace` reads it.
struct FetchBody<S>(S);

impl<S: futures::Stream<Item = reqwest::Result<B>> + Unpin, B: AsRef<[u8]>> Body for FetchBody<S> {
    type Chunk = B;
    type Error = reqwest::Error;
    async fn chunk(&mut self) -> Result<Option<B>, reqwest::Error> {
        self.0.next().await.transpose()
    }
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

enum Failed {
    SignedOut(String),
    Other(String),
}

/// One session, run by the document engine with this side's transport and progress: the
/// requests go through `post` (the session's `Pace` measures the link afresh: the phone may
/// have left Wi-Fi since the last one), progress and arriving documents reach the status.
async fn run_session(replica: &Replica, handle: SyncHandle, token: &str) -> Result<(), Failed> {
    use gloo_storage::Storage;
    // From the feed's start, everything the unit has is on its way: the list says so, until a
    // session completes (a fill cut by the link goes on in the next session, from its cursor).
    let before = handle.arriving.get_untracked();
    let filling = before.is_some() || settings::load_cursor().position == 0;
    if before.is_none() && filling {
        handle.arriving.set(Some(Arriving { received: 0, expected: None }));
    }
    let already = before.map_or(0, |a| a.received);
    let pace = std::rc::Rc::new(std::cell::Cell::new(Pace::default()));
    let token = token.to_string();

    let post_closure = {
        let (pace, token) = (pace.clone(), token.clone());
        Closure::<dyn Fn(js_sys::Uint8Array) -> js_sys::Promise>::new(move |body: js_sys::Uint8Array| {
            let (pace, token) = (pace.clone(), token.clone());
            wasm_bindgen_futures::future_to_promise(async move {
                match post(body.to_vec(), &token, &pace).await {
                    Ok(bytes) => Ok(js_sys::Uint8Array::from(bytes.as_slice()).into()),
                    Err(e) => {
                        let failure = match e {
                            SyncError::SignedOut(reason) => SyncFailure::SignedOut(reason),
                            e => SyncFailure::Other(e.to_string()),
                        };
                        Err(api::to_js(&failure))
                    }
                }
            })
        })
    };
    let feed_budget = {
        let pace = pace.clone();
        Closure::<dyn Fn() -> f64>::new(move || f64::from(pace.get().feed_budget()))
    };
    let request_bytes = {
        let pace = pace.clone();
        Closure::<dyn Fn() -> f64>::new(move || pace.get().request_bytes() as f64)
    };
    let server_replaced = {
        let replica = replica.clone();
        Closure::<dyn Fn() -> js_sys::Promise>::new(move || {
            let replica = replica.clone();
            wasm_bindgen_futures::future_to_promise(async move {
                server_replaced(&replica).await.map(|_| JsValue::UNDEFINED).map_err(|e| JsValue::from_str(&e.to_string()))
            })
        })
    };
    let status = handle.status;
    let progress = Closure::<dyn Fn(f64, f64)>::new(move |done: f64, total: f64| {
        status.set(SyncStatus::Syncing { done: done as usize, total: total as usize });
    });
    let arriving_signal = handle.arriving;
    let arriving = Closure::<dyn Fn(f64, f64)>::new(move |received: f64, remaining: f64| {
        if filling {
            let received = already + received as usize;
            arriving_signal.set(Some(Arriving { received, expected: Some(received + remaining as usize) }));
        }
    });
    let app = js_sys::Object::new();
    for (name, f) in [
        ("post", post_closure.as_ref()),
        ("feed_budget", feed_budget.as_ref()),
        ("request_bytes", request_bytes.as_ref()),
        ("server_replaced", server_replaced.as_ref()),
        ("progress", progress.as_ref()),
        ("arriving", arriving.as_ref()),
    ] {
        let _ = js_sys::Reflect::set(&app, &JsValue::from_str(name), f);
    }
    let result = engine::request("sync", &[app.into()], |e| {
        SyncFailure::Other(format!("Phần đồng bộ của ứng dụng chưa tải được ({e}). Sẽ thử lại; mọi thay đổi vẫn được giữ trên thiết bị."))
    })
    .await;
    // The closures live until the session is over.
    drop((post_closure, feed_budget, request_bytes, server_replaced, progress, arriving));
    let outcome: SyncOutcome = match result {
        Ok(answer) => engine::answer(answer).map_err(Failed::Other)?,
        Err(SyncFailure::SignedOut(reason)) => return Err(Failed::SignedOut(reason)),
        Err(SyncFailure::Other(reason)) => return Err(Failed::Other(reason)),
    };
    handle.arriving.set(None);
    // A document the server refused is its own problem, not the round's: the round went on for
    // every other document, so it counts as a success (photos and the profile follow, no backoff)
    // while the refused one stays dirty with its edits and flagged (badge, card, detail page).
    let _ = gloo_storage::LocalStorage::set(REJECTED, &outcome.rejected);
    handle.rejected.set(outcome.rejected);
    Ok(())
}

/// The server turned out to be another one, or this one restored from an older backup (e.g.
/// `danvan-server restore`): it may lack photos it once had. Those of models this user uploads
/// for are listed for upload again (the uploader asks `status` first, so a photo the server still
/// has is not resent). Photos of other units came from the server and cannot be sent by this
/// user (403).
async fn server_replaced(replica: &Replica) -> Result<(), StorageError> {
    let writable: std::collections::BTreeSet<String> = Account::load().map(|a| a.profile.writable.into_iter().collect()).unwrap_or_default();
    let models = replica.models;
    // A model not decoded yet counts as ours: the uploader sends only photos a saved entry of a
    // decoded model shows, and the server refuses what is not this user's to send.
    let ours = |p: &crate::client::local::storage::StoredPhoto| models.with_untracked(|ms| ms.get(&p.doc).is_none_or(|m| writable.contains(&m.unit)));
    let reset = replica.store.reset_uploaded(ours).await?;
    if reset > 0 {
        leptos::logging::log!("server replaced: {reset} photos listed for upload again");
    }
    Ok(())
}
