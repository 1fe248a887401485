//! The client's side of a sync session, written once for every replica: the browser (IndexedDB +
//! fetch) and the native test/bench clients (memory + reqwest) plug in their storage and transport.
//!
//! A session is rounds of one request each: the replica sends an automerge sync message for each
//! document it has something to say about, and its feed cursor; the server answers with its sync
//! messages and the next page of documents changed elsewhere. Rounds continue until neither side
//! has anything left to say; a document changed on one or both sides usually settles in one round
//! (see [`opening_state`]). Invariants:
//! - a record is read and written in one storage transaction (`update_each`), so a local edit made
//!   during the session is merged, never overwritten;
//! - the cursor advances only after the documents of that feed page are stored;
//! - sync states live in memory for the session; only their encoded form (shared heads) is stored,
//!   so a session cut at any point restarts cleanly (automerge's rule for lost connections);
//! - a document the server refuses is reported by id and dropped from this session only; it stays
//!   dirty with the user's edits.

#![allow(async_fn_in_trait)]

use std::collections::{BTreeMap, HashMap};

use automerge::sync::{self, SyncDoc};
use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

use super::{DocMessage, FeedDoc, MAX_DOCS_PER_REQUEST, PROTOCOL, SyncRequest, SyncResponse, heads_from_wire};

/// A request stops taking documents once its body passes this size (the rest go next round);
/// a transport that measures its link asks for less ([`Transport::request_bytes`]).
pub const REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// A session stops after this many round trips that did not move the feed cursor (automerge
/// rounds that do not settle) and continues at the next trigger. Feed pages do not count: a new
/// replica of 100,000 documents takes as many pages as it needs.
pub const MAX_ROUNDS: usize = 50;

/// One stored document of a replica.
#[derive(Debug, Clone, PartialEq)]
pub struct DocRecord {
    pub id: String,
    /// `AutoCommit::save()` bytes.
    pub doc: Vec<u8>,
    /// Encoded `sync::State` with the server (its shared heads), if ever synced.
    pub sync: Option<Vec<u8>>,
    /// Holds changes the server has not acknowledged.
    pub dirty: bool,
}

/// Where a replica is in a server's change feed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub server: Option<String>,
    pub position: u64,
    /// The reading scope `position` was reached under (see `SyncRequest::scope`).
    #[serde(default)]
    pub scope: u32,
}

/// A replica's storage, as the session needs it.
pub trait LocalDocs {
    type Error: std::fmt::Display;
    /// Documents holding changes the server has not acknowledged (found without reading the rest).
    async fn dirty_ids(&self) -> Result<Vec<String>, Self::Error>;
    /// Every document id (only when the server turns out to be another one).
    async fn all_ids(&self) -> Result<Vec<String>, Self::Error>;
    async fn get(&self, id: &str) -> Result<Option<DocRecord>, Self::Error>;
    /// Replaces each record by what `f` makes of it (`None` leaves it), atomically per call.
    async fn update_each<F>(&self, ids: &[String], f: F) -> Result<Vec<DocRecord>, Self::Error>
    where
        F: FnMut(&str, Option<DocRecord>) -> Option<DocRecord>;
    fn cursor(&self) -> Cursor;
    fn set_cursor(&self, cursor: &Cursor);
    /// The server turned out to be another one, or this one restored from an older backup: it
    /// may lack what it had acknowledged. Documents are offered again by the session itself; a
    /// replica that keeps more (photos marked as on the server) takes that back here. Called
    /// before the new server's cursor is stored, so a session cut in between notices again.
    async fn server_replaced(&self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Sends one request to the server.
pub trait Transport {
    type Error: std::fmt::Display;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, Self::Error>;
    /// Feed bytes to ask for per response (`None`: the server's default); a transport that knows
    /// its link is slow asks for less, so a cut request loses little.
    fn feed_budget(&self) -> Option<u32> {
        None
    }
    /// Request body bytes after which further documents wait for the next round (at least one
    /// document goes in every request); a slow link sends smaller batches (`sync::pace`).
    fn request_bytes(&self) -> usize {
        REQUEST_BYTES
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError<S: std::fmt::Display, T: std::fmt::Display> {
    #[error("{0}")]
    Storage(S),
    #[error("{0}")]
    Transport(T),
}

/// What a session did.
#[derive(Debug, Default)]
pub struct SessionReport {
    pub requests: usize,
    /// Documents the server refused this session, with its reason (Vietnamese).
    pub rejected: BTreeMap<String, String>,
    /// Documents still holding changes the server lacks.
    pub pending: usize,
}

/// Progress for the UI: records just written, and documents settled out of those to send.
pub trait Observer {
    fn written(&mut self, _records: &[DocRecord]) {}
    fn progress(&mut self, _done: usize, _total: usize) {}
    /// After each response: feed documents stored so far this session, and how many the server
    /// says its later pages bring (a new replica's list says what is arriving).
    fn arriving(&mut self, _received: usize, _remaining: u64) {}
}

impl Observer for () {}

fn decode_state(rec: &DocRecord) -> sync::State {
    rec.sync.as_deref().and_then(|b| sync::State::decode(b).ok()).unwrap_or_default()
}

/// The state a session opens with for a document this replica changed. Besides the shared heads
/// stored last time, it assumes the server still has exactly those, so the first message already
/// carries every change made since: one round trip instead of automerge's usual two (learn what
/// the peer has, then send). The server answers from the same message with whatever it has that we
/// lack. If the assumption is wrong (a server restored from an old backup), the server's reply says
/// so and automerge's own recovery takes the extra rounds.
fn opening_state(rec: &DocRecord, doc: &mut AutoCommit) -> sync::State {
    let mut state = decode_state(rec);
    let shared = state.shared_heads.clone();
    // Never assume heads we do not hold ourselves (automerge would refuse to compute the changes).
    if shared.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
        assume_server_holds(&mut state, shared);
    }
    state
}

/// The state for a document sent whole: "the server holds everything we have", so the message
/// carries our heads and no changes; the server's reply says what it really has.
fn holding_everything(doc: &mut AutoCommit) -> sync::State {
    let mut state = sync::State::new();
    assume_server_holds(&mut state, doc.get_heads());
    state
}

/// Primes `state` as if the server had just told us it holds exactly `heads` and needs nothing,
/// so the next message carries the changes since `heads` at once (see [`opening_state`]).
pub fn assume_server_holds(state: &mut sync::State, heads: Vec<automerge::ChangeHash>) {
    state.their_heads = Some(heads.clone());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![sync::Have { last_sync: heads, bloom: sync::BloomFilter::default() }]);
}

pub async fn run_session<S: LocalDocs, T: Transport>(
    store: &S,
    transport: &T,
    observer: &mut impl Observer,
) -> Result<SessionReport, SessionError<S::Error, T::Error>> {
    let mut report = SessionReport::default();
    let mut cursor = store.cursor();
    let mut states: HashMap<String, sync::State> = HashMap::new();
    let mut active = store.dirty_ids().await.map_err(SessionError::Storage)?;
    let mut total = active.len();
    observer.progress(0, total);
    let mut more = true;
    // Progress counts both our documents to settle and the feed's documents to receive.
    let mut received = 0usize;

    let mut stalled = 0;
    while stalled < MAX_ROUNDS {
        // 1. A message for each document in play, generated from what is stored now, up to the
        //    request's bounds; the rest waits for the next round.
        let mut messages = Vec::new();
        let mut bytes = 0;
        let mut taken = 0;
        let request_bytes = transport.request_bytes();
        for id in &active {
            if messages.len() >= MAX_DOCS_PER_REQUEST || bytes >= request_bytes {
                break;
            }
            taken += 1;
            let Some(rec) = store.get(id).await.map_err(SessionError::Storage)? else { continue };
            let Ok(mut doc) = AutoCommit::load(&rec.doc) else { continue };
            let mut document = None;
            let state = match states.entry(id.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) if rec.sync.is_none() => {
                    // Never synced with this server: send the document whole (its compressed
                    // save, not change by change) with a message that carries only our heads.
                    document = Some(rec.doc.clone());
                    e.insert(holding_everything(&mut doc))
                }
                std::collections::hash_map::Entry::Vacant(e) => e.insert(opening_state(&rec, &mut doc)),
            };
            if let Some(m) = doc.sync().generate_sync_message(state) {
                let message = m.encode();
                bytes += message.len() + document.as_ref().map_or(0, Vec::len);
                messages.push(DocMessage { id: id.clone(), message, document });
            }
        }
        let deferred: Vec<String> = active[taken..].to_vec();
        if messages.is_empty() && deferred.is_empty() && !more {
            break;
        }

        // 2. One request for all of them and the next page of the feed.
        let request = SyncRequest {
            protocol: PROTOCOL,
            server: cursor.server.clone(),
            cursor: cursor.position,
            scope: cursor.scope,
            feed_budget: transport.feed_budget(),
            docs: messages,
        };
        let response = transport.post(&request).await.map_err(SessionError::Transport)?;
        report.requests += 1;

        if response.rewound || (cursor.server.is_some() && cursor.server.as_deref() != Some(response.server.as_str())) {
            // Another server (database reset, new deployment) or this one restored from an older
            // backup: it may lack our documents, so everything is offered again from scratch.
            // Nothing of the response is applied.
            store.server_replaced().await.map_err(SessionError::Storage)?;
            let all = store.all_ids().await.map_err(SessionError::Storage)?;
            let reset = store
                .update_each(&all, |_, rec| rec.map(|r| DocRecord { sync: None, dirty: true, ..r }))
                .await
                .map_err(SessionError::Storage)?;
            observer.written(&reset);
            cursor = Cursor { server: Some(response.server), position: 0, scope: response.scope };
            store.set_cursor(&cursor);
            states.clear();
            total = all.len();
            active = all;
            more = true;
            stalled += 1;
            continue;
        }

        // 3. Apply replies and feed documents, each read and written in one transaction.
        let mut replies: HashMap<String, sync::Message> = HashMap::new();
        for dm in response.docs {
            // A reply that does not decode is dropped; the document stays dirty and goes again.
            if let Ok(m) = sync::Message::decode(&dm.message) {
                replies.insert(dm.id, m);
            }
        }
        let feed: HashMap<String, FeedDoc> = response.feed.into_iter().map(|f| (f.id.clone(), f)).collect();
        let mut ids: Vec<String> = replies.keys().cloned().collect();
        ids.extend(feed.keys().cloned());
        let written = store
            .update_each(&ids, |id, rec| {
                if let Some(message) = replies.remove(id) {
                    let rec = rec?;
                    let mut doc = AutoCommit::load(&rec.doc).ok()?;
                    let state = states.entry(id.to_string()).or_insert_with(|| decode_state(&rec));
                    doc.sync().receive_sync_message(state, message).ok()?;
                    let dirty = state.their_heads.as_ref() != Some(&doc.get_heads());
                    Some(DocRecord { doc: doc.save(), sync: Some(state.encode()), dirty, ..rec })
                } else {
                    merge_feed_doc(id, feed.get(id)?, rec)
                }
            })
            .await
            .map_err(SessionError::Storage)?;
        observer.written(&written);
        if response.cursor == cursor.position {
            stalled += 1;
        }
        cursor = Cursor { server: Some(response.server), position: response.cursor, scope: response.scope };
        store.set_cursor(&cursor);

        for failure in response.errors {
            report.rejected.insert(failure.id, failure.message);
        }
        // 4. Next round: what is still not in agreement with the server.
        let mut next: Vec<String> = written.iter().filter(|r| r.dirty).map(|r| r.id.clone()).collect();
        next.extend(deferred);
        next.retain(|id| !report.rejected.contains_key(id));
        next.sort();
        next.dedup();
        received += feed.len();
        let settled = total.saturating_sub(next.len());
        observer.progress(settled + received, total + received + response.remaining as usize);
        observer.arriving(received, response.remaining);
        active = next;
        more = response.more;
        if active.is_empty() && !more {
            break;
        }
    }
    report.pending = store.dirty_ids().await.map_err(SessionError::Storage)?.len();
    Ok(report)
}

/// An encoded sync state saying "the server holds exactly these heads".
fn server_holds(heads: Vec<automerge::ChangeHash>) -> Vec<u8> {
    let mut state = sync::State::new();
    state.shared_heads = heads;
    state.encode()
}

/// What the feed brought for a document, merged into what the replica holds. The server holds at
/// least the feed's heads, so they become the shared heads: the next local edit is sent as just
/// the changes since, not the whole history.
fn merge_feed_doc(id: &str, feed: &FeedDoc, rec: Option<DocRecord>) -> Option<DocRecord> {
    let server_heads = heads_from_wire(&feed.heads);
    // A document new to this replica is stored as it came, without parsing it: a new replica of
    // thousands of models is written at the speed of storage.
    if rec.is_none() && feed.complete && !server_heads.is_empty() {
        return Some(DocRecord { id: id.to_string(), doc: feed.data.clone(), sync: Some(server_holds(server_heads)), dirty: false });
    }
    let mut local = match &rec {
        Some(r) => match AutoCommit::load(&r.doc) {
            Ok(doc) => doc,
            // A damaged local copy is replaced by a whole one when the feed brings it.
            Err(_) if feed.complete && !server_heads.is_empty() => {
                return Some(DocRecord { id: id.to_string(), doc: feed.data.clone(), sync: Some(server_holds(server_heads)), dirty: false });
            }
            Err(_) => return None,
        },
        None => AutoCommit::new(),
    };
    let before = local.get_heads();
    local.load_incremental(&feed.data).ok()?;
    let server_heads = if server_heads.is_empty() {
        // Heads not recorded (documents stored before protocol 2): the data tells.
        let mut remote = AutoCommit::new();
        remote.load_incremental(&feed.data).ok()?;
        remote.get_heads()
    } else {
        server_heads
    };
    let (sync, dirty) = if server_heads.iter().all(|h| local.get_change_by_hash(h).is_some()) {
        // Still dirty if the replica holds changes the server's copy lacks.
        (Some(server_holds(server_heads.clone())), local.get_heads() != server_heads)
    } else {
        // The increments built on changes this replica lacks (its storage and cursor disagree):
        // a full automerge sync, from no assumptions, fetches them in the next round.
        (None, true)
    };
    if let Some(rec) = &rec {
        if local.get_heads() == before && dirty == rec.dirty && sync == rec.sync {
            return None;
        }
    }
    Some(DocRecord { id: id.to_string(), doc: local.save(), sync, dirty })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::RefCell;

    use automerge::transaction::Transactable;

    use super::*;
    use crate::sync::memory::MemoryReplica;

    /// A server in memory (`server_step` per document), recording each request's document bytes.
    struct Batches {
        docs: RefCell<HashMap<String, AutoCommit>>,
        bodies: RefCell<Vec<usize>>,
        limit: usize,
    }

    impl Transport for Batches {
        type Error = String;
        async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
            self.bodies.borrow_mut().push(request.docs.iter().map(|d| d.message.len() + d.document.as_ref().map_or(0, Vec::len)).sum());
            let mut replies = Vec::new();
            let mut docs = self.docs.borrow_mut();
            for dm in &request.docs {
                let doc = docs.entry(dm.id.clone()).or_default();
                if let Some(whole) = &dm.document {
                    doc.load_incremental(whole).map_err(|e| e.to_string())?;
                }
                let step = super::super::server_step(doc, &dm.message).map_err(|e| e.to_string())?;
                if let Some(message) = step.reply {
                    replies.push(DocMessage { id: dm.id.clone(), message, document: None });
                }
            }
            Ok(SyncResponse {
                protocol: PROTOCOL,
                server: "s".into(),
                cursor: 0,
                scope: 0,
                more: false,
                remaining: 0,
                rewound: false,
                docs: replies,
                feed: Vec::new(),
                errors: Vec::new(),
            })
        }
        fn request_bytes(&self) -> usize {
            self.limit
        }
    }

    #[tokio::test]
    async fn another_server_is_told_to_the_replica_once_before_its_cursor_is_kept() {
        let phone = MemoryReplica::new();
        let mut d = AutoCommit::new();
        d.put(automerge::ROOT, "text", "x").unwrap();
        d.commit();
        phone.put_local("m1", &mut d);
        let server = Batches { docs: RefCell::new(HashMap::new()), bodies: RefCell::new(Vec::new()), limit: REQUEST_BYTES };
        run_session(&phone, &server, &mut ()).await.unwrap();
        assert_eq!(phone.replaced.get(), 0, "a first sync is no replacement");
        // The database was replaced (`danvan-server restore` gives it a new id).
        phone.set_cursor(&Cursor { server: Some("before-restore".into()), position: 7, scope: 0 });
        let report = run_session(&phone, &server, &mut ()).await.unwrap();
        assert_eq!(phone.replaced.get(), 1, "photos are reset once");
        assert_eq!(phone.cursor().server.as_deref(), Some("s"));
        assert_eq!(report.pending, 0, "documents offered again and settled");
    }

    #[tokio::test]
    async fn uploads_go_in_batches_of_the_size_the_transport_asks_for() {
        let phone = MemoryReplica::new();
        let mut largest = 0;
        for i in 0..30 {
            let mut d = AutoCommit::new();
            let text: String = (0..300).map(|k| format!("{} ", (i * 7919 + k * 104_729) % 9973)).collect();
            d.put(automerge::ROOT, "text", text).unwrap();
            d.commit();
            largest = largest.max(d.save().len());
            phone.put_local(&format!("m{i:02}"), &mut d);
        }
        let server = Batches { docs: RefCell::new(HashMap::new()), bodies: RefCell::new(Vec::new()), limit: 10_000 };
        let report = run_session(&phone, &server, &mut ()).await.unwrap();
        assert_eq!(report.pending, 0, "everything acknowledged");
        assert_eq!(server.docs.borrow().len(), 30);
        let bodies = server.bodies.borrow();
        let sending: Vec<usize> = bodies.iter().copied().filter(|&b| b > 0).collect();
        assert!(sending.len() >= 30 * largest / (10_000 + largest), "several batches: {sending:?}");
        // A batch closes once it passes the limit: at most one document beyond it.
        assert!(sending.iter().all(|&b| b < 10_000 + largest + 200), "batches bounded: {sending:?} (document {largest} B)");
    }
}
