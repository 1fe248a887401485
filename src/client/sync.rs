//! The sync loop: runs on start, shortly after a local change, when the browser comes back online
//! and periodically (with exponential backoff and jitter after failures). It never blocks the UI:
//! all work is async and every document write goes through one IndexedDB transaction.
//!
//! Sync states with the server are kept in memory for one session and persisted (encoded, i.e.
//! only the shared heads) after each successful round; a failed session simply drops the in-memory
//! states, which is how automerge expects a lost connection to be handled.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use super::replica::{Replica, now_ms};
use super::settings::Cursor;
use super::storage::DocRecord;
use crate::doc;
use crate::sync::{DocMessage, MAX_DOCS_PER_REQUEST, PROTOCOL, SyncRequest, SyncResponse};

const DEBOUNCE: Duration = Duration::from_millis(1500);
const PERIOD: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A session stops after this many round trips and continues at the next trigger.
const MAX_ROUNDS: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    Starting,
    Offline,
    Syncing { done: usize, total: usize },
    Synced { at_ms: i64 },
    Error { reason: String },
}

#[derive(Clone, Copy)]
pub struct SyncHandle {
    pub status: RwSignal<SyncStatus>,
    /// Documents the server refused, with its reason (shown on their detail pages).
    pub rejected: RwSignal<BTreeMap<String, String>>,
    kick: RwSignal<u64>,
}

impl SyncHandle {
    /// Asks for a sync now (the "Đồng bộ ngay" button).
    pub fn sync_now(&self) {
        self.kick.update(|n| *n += 1);
    }
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error("Không kết nối được máy chủ ({0}). Sẽ thử lại.")]
    Network(String),
    #[error("Máy chủ đang gặp sự cố (mã {0}). Sẽ thử lại.")]
    Server(u16),
    #[error("Máy chủ từ chối yêu cầu: {0}")]
    Rejected(String),
    #[error("{0}")]
    Storage(#[from] super::storage::StorageError),
}

fn is_online() -> bool {
    web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
}

fn server_url() -> String {
    // reqwest in wasm needs an absolute URL.
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}/api/sync")
}

/// Starts the background loop; returns the handle the UI uses to show and trigger sync.
pub fn start(replica: Replica) -> SyncHandle {
    let handle = SyncHandle {
        status: RwSignal::new(SyncStatus::Starting),
        rejected: RwSignal::new(BTreeMap::new()),
        kick: RwSignal::new(0),
    };
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
            match run_session(&replica, handle).await {
                Ok(()) => {
                    failures = 0;
                    handle.status.set(SyncStatus::Synced { at_ms: now_ms() });
                    wait = PERIOD;
                }
                Err(e) => {
                    failures += 1;
                    let status = if is_online() { SyncStatus::Error { reason: e.to_string() } } else { SyncStatus::Offline };
                    handle.status.set(status);
                    wait = backoff(failures);
                }
            }
        }
    });
    let _ = tx.unbounded_send(Duration::ZERO);
    handle
}

/// 2 s, 4 s, 8 s … up to 5 minutes, each ±25 % so that many phones do not retry in lockstep.
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(2u64.saturating_pow(failures.min(10))).min(MAX_BACKOFF);
    let jitter = 0.75 + js_sys::Math::random() * 0.5;
    base.mul_f64(jitter)
}

async fn post(request: &SyncRequest) -> Result<SyncResponse, SyncError> {
    let client = reqwest::Client::new();
    let response = client
        .post(server_url())
        .json(request)
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
        return Err(SyncError::Rejected(format!("{reason} (mã {})", status.as_u16())));
    }
    // A body cut midway fails here; nothing has been applied yet, so the retry is clean.
    response.json().await.map_err(|e| SyncError::Network(short_reason(&e)))
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

/// One sync session: rounds of request/response until neither side has anything to say.
async fn run_session(replica: &Replica, handle: SyncHandle) -> Result<(), SyncError> {
    let mut cursor = Cursor::load();
    let mut states: HashMap<String, sync::State> = HashMap::new();
    let records = replica.store.all().await?;
    let mut active: Vec<String> = records.iter().filter(|r| r.dirty).map(|r| r.id.clone()).collect();
    let total = active.len();
    handle.status.set(SyncStatus::Syncing { done: 0, total });
    let mut rejected = BTreeMap::new();
    let mut more = true;

    for _ in 0..MAX_ROUNDS {
        // 1. Messages for the documents in play (read fresh from storage).
        let mut messages = Vec::new();
        for id in active.iter().take(MAX_DOCS_PER_REQUEST) {
            let Some(rec) = replica.store.get(id).await? else { continue };
            let Ok(mut d) = doc::load(&rec.doc) else { continue };
            let state = states.entry(id.clone()).or_insert_with(|| decode_state(&rec));
            if let Some(m) = d.sync().generate_sync_message(state) {
                messages.push(DocMessage { id: id.clone(), message: m.encode() });
            }
        }
        let deferred: Vec<String> = active.iter().skip(MAX_DOCS_PER_REQUEST).cloned().collect();
        if messages.is_empty() && deferred.is_empty() && !more {
            break;
        }

        // 2. One request for all of them, plus the next page of the server's feed.
        let request = SyncRequest { protocol: PROTOCOL, server: cursor.server.clone(), cursor: cursor.position, docs: messages };
        let response = post(&request).await?;

        if cursor.server.as_deref() != Some(response.server.as_str()) && cursor.server.is_some() {
            // A different server (database reset or new deployment): it may lack our documents,
            // so everything is offered to it again from scratch.
            leptos::logging::warn!("server identity changed; re-sending every document");
            let all: Vec<String> = replica.store.all().await?.into_iter().map(|r| r.id).collect();
            replica.store.update_each(&all, |_, rec| rec.map(|r| DocRecord { sync: None, dirty: true, ..r })).await?;
            cursor = Cursor { server: Some(response.server.clone()), position: 0 };
            cursor.save();
            states.clear();
            active = all;
            continue;
        }

        // 3. Apply replies and feed documents, each in the same transaction as its read.
        let mut replies: HashMap<String, sync::Message> = HashMap::new();
        for dm in response.docs {
            match sync::Message::decode(&dm.message) {
                Ok(m) => {
                    replies.insert(dm.id, m);
                }
                Err(e) => leptos::logging::warn!("bad reply for {}: {e}", dm.id),
            }
        }
        let mut ids: Vec<String> = replies.keys().cloned().collect();
        ids.extend(response.feed.iter().map(|f| f.id.clone()));
        let feed: HashMap<String, Vec<u8>> = response.feed.into_iter().map(|f| (f.id, f.document)).collect();
        let written = replica
            .store
            .update_each(&ids, |id, rec| {
                if let Some(message) = replies.remove(id) {
                    let rec = rec?;
                    let mut d = doc::load(&rec.doc).ok()?;
                    let state = states.entry(id.to_string()).or_insert_with(|| decode_state(&rec));
                    if let Err(e) = d.sync().receive_sync_message(state, message) {
                        leptos::logging::warn!("could not apply reply for {id}: {e}");
                        return None;
                    }
                    let heads = d.get_heads();
                    let dirty = state.their_heads.as_ref() != Some(&heads);
                    Some(DocRecord { doc: d.save(), sync: Some(state.encode()), dirty, ..rec })
                } else if let Some(bytes) = feed.get(id) {
                    let mut remote = doc::load(bytes).ok()?;
                    match rec {
                        None => Some(DocRecord { id: id.to_string(), doc: bytes.clone(), sync: None, dirty: false }),
                        Some(rec) => {
                            let mut local = doc::load(&rec.doc).ok()?;
                            let before = local.get_heads();
                            local.merge(&mut remote).ok()?;
                            // Still dirty if we hold changes the server's copy lacks.
                            let dirty = local.get_heads() != remote.get_heads();
                            if local.get_heads() == before && dirty == rec.dirty {
                                return None;
                            }
                            Some(DocRecord { doc: local.save(), dirty, ..rec })
                        }
                    }
                } else {
                    None
                }
            })
            .await?;
        replica.absorb(&written);
        // The cursor moves only after the feed documents are committed locally.
        cursor = Cursor { server: Some(response.server.clone()), position: response.cursor };
        cursor.save();

        for failure in &response.errors {
            rejected.insert(failure.id.clone(), failure.message.clone());
        }
        // Next round: documents that are not yet in agreement with the server, and feed documents
        // we hold changes for.
        let mut next: Vec<String> = written.iter().filter(|r| r.dirty).map(|r| r.id.clone()).collect();
        next.extend(deferred);
        next.retain(|id| !rejected.contains_key(id));
        next.sort();
        next.dedup();
        let settled = total.saturating_sub(next.len());
        handle.status.set(SyncStatus::Syncing { done: settled.min(total), total });
        active = next;
        more = response.more;
        if active.is_empty() && !more {
            break;
        }
    }
    replica.refresh_pending().await;
    let count = rejected.len();
    let first = rejected.values().next().cloned();
    handle.rejected.set(rejected);
    match (count, first) {
        (0, _) => Ok(()),
        (n, Some(reason)) => Err(SyncError::Rejected(format!("{n} mô hình chưa đồng bộ được — {reason}"))),
        _ => Ok(()),
    }
}

fn decode_state(rec: &DocRecord) -> sync::State {
    rec.sync.as_deref().and_then(|b| sync::State::decode(b).ok()).unwrap_or_default()
}
