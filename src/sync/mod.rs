//! The sync envelope (one HTTP request carries many documents), the server's per-document step
//! and how the server lays a document out in storage chunks.
//!
//! The envelope is postcard (compact binary, serde); every `message` is an unmodified automerge
//! sync message (`automerge::sync::Message::encode`) and every feed `data` a sequence of automerge
//! chunks that `AutoCommit::load`/`load_incremental` read, so any automerge implementation can
//! take part. See ARCHITECTURE.md, "Sync protocol". No IO here.

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};

pub mod pace;
pub mod session;
#[cfg(not(target_arch = "wasm32"))]
pub mod memory;

/// 3: binary envelope (postcard), the feed carries chunks (changes since the cursor) with their
/// heads. The byte layout a peer in another language writes is in ARCHITECTURE.md, "Sync protocol".
pub const PROTOCOL: u32 = 3;
/// Media type of request and response bodies.
pub const CONTENT_TYPE: &str = "application/x-danvan-sync";
/// Most documents a client puts into one request; the server refuses more.
pub const MAX_DOCS_PER_REQUEST: usize = 500;
/// Feed bytes per response unless the client asks for less (a slow link asks for less, so a cut
/// connection loses little).
pub const FEED_BUDGET_DEFAULT: u32 = 2 * 1024 * 1024;
/// The most a client may ask for.
pub const FEED_BUDGET_MAX: u32 = 8 * 1024 * 1024;
/// Most chunks in one feed page, whatever their size.
pub const FEED_MAX_CHUNKS: usize = 5_000;
/// Largest saved document the server accepts (a model with its text is a few KB).
pub const MAX_DOC_BYTES: usize = 4 * 1024 * 1024;
/// Largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// A document's increments are folded into a new snapshot once there are this many of them…
pub const COMPACT_AFTER_CHUNKS: u32 = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u32,
    /// Which server (database) the cursor belongs to; a different one means "start from 0".
    pub server: Option<String>,
    /// Position in the server's change feed up to which this replica has stored everything.
    pub cursor: u64,
    /// Most feed bytes wanted in the response (`None`: the server's default; 0: none this time).
    pub feed_budget: Option<u32>,
    /// The reading scope the cursor was reached under (from the last response; 0: none yet).
    /// When the user's readable units change, the server serves the feed from 0 again.
    pub scope: u32,
    /// One automerge sync message per document this replica has something to say about.
    pub docs: Vec<DocMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocMessage {
    pub id: String,
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    /// The whole document (`save()` bytes), sent instead of its changes when this replica has
    /// never synced it with this server; the server merges it before reading `message`. Always
    /// `None` in the server's replies.
    #[serde(with = "serde_bytes")]
    pub document: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u32,
    pub server: String,
    /// The cursor to send next time, once everything in `feed` is stored.
    pub cursor: u64,
    /// The reading scope `cursor` belongs to (send it back with the cursor).
    pub scope: u32,
    /// The feed has more pages after this one.
    pub more: bool,
    /// Documents changed after `cursor` that later pages will bring (for progress).
    pub remaining: u64,
    /// The request's cursor is ahead of everything this server has: it was restored from an older
    /// backup and may lack changes the client saw acknowledged. The client offers every document
    /// again, as to a new server; nothing else of this response is applied.
    pub rewound: bool,
    /// The server's reply to each request document it has something to say about.
    pub docs: Vec<DocMessage>,
    /// What changed since the request's cursor, per document (request documents whose reply
    /// already covers it are left out).
    pub feed: Vec<FeedDoc>,
    /// Documents of the request that could not be processed; the others were.
    pub errors: Vec<DocFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedDoc {
    pub id: String,
    /// Automerge chunks in order: a whole document (`complete`) or the changes stored after the
    /// cursor, which build on what the replica already holds.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// `data` starts with a snapshot of the whole document.
    pub complete: bool,
    /// The server's heads once `data` is applied (empty: not known, the client computes them).
    pub heads: Vec<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocFailure {
    pub id: String,
    pub code: FailureCode,
    /// Plain Vietnamese, shown to the user as is.
    pub message: String,
}

/// On the wire as its variant index (a postcard varint), not its name: new variants go at the end
/// only, and ARCHITECTURE.md lists the order (checked by `tests/protocol.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The message, document or id is not valid, or the app's reader (`doc::read_model`) refuses
    /// the result; resending the same bytes will fail again.
    Malformed,
    /// The document grew past the server's limit, or the changes past `doc::CHANGE_LIMITS`.
    TooLarge,
    /// The stored document could not be read; an operator must look.
    Corrupt,
    /// The server could not finish (storage busy, restart); retry later.
    Unavailable,
    /// The user may not read or change this document (another unit's, or its owner changed).
    /// The server's copy is untouched; the client keeps its own and shows the reason.
    Forbidden,
}

impl FailureCode {
    pub fn retryable(self) -> bool {
        matches!(self, FailureCode::Unavailable)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EnvelopeError(String);

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("serialising to memory cannot fail")
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, EnvelopeError> {
    postcard::from_bytes(bytes).map_err(|e| EnvelopeError(e.to_string()))
}

pub fn heads_to_wire(heads: &[ChangeHash]) -> Vec<[u8; 32]> {
    heads.iter().map(|h| h.0).collect()
}

pub fn heads_from_wire(heads: &[[u8; 32]]) -> Vec<ChangeHash> {
    heads.iter().map(|h| ChangeHash(*h)).collect()
}

/// Heads as stored by the server: 32 bytes each, concatenated.
pub fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub fn heads_from_bytes(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes.chunks_exact(32).map(|c| c.try_into().expect("32-byte chunk")).collect()
}

/// Document ids are UUIDs made by clients; accept only a safe, bounded alphabet.
pub fn valid_doc_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("sync message is not valid: {0}")]
    Malformed(String),
    #[error("stored document cannot be read: {0}")]
    Corrupt(String),
    #[error("document would be {0} bytes, over the limit")]
    TooLarge(usize),
}

/// What one incoming message did to the server's copy of a document.
#[derive(Debug)]
pub struct Step {
    /// Heads before the message; the document changed if they differ from its heads now.
    pub before: Vec<ChangeHash>,
    /// The reply to send back.
    pub reply: Option<Vec<u8>>,
}

/// The server side of one round for one document, applied to its loaded copy. The server keeps no
/// per-client sync state: it starts from a fresh `sync::State`, which the protocol allows because
/// the client's message carries its heads and a bloom filter of what it has since their last
/// shared heads.
pub fn server_step(doc: &mut AutoCommit, message: &[u8]) -> Result<Step, StepError> {
    let message = sync::Message::decode(message).map_err(|e| StepError::Malformed(e.to_string()))?;
    // Automerge sends one `have` (or none); each one more is probed once per change held.
    if message.have.len() > MAX_HAVES {
        return Err(StepError::Malformed(format!("tin đồng bộ có {} bản tóm tắt (tối đa {MAX_HAVES})", message.have.len())));
    }
    for have in &message.have {
        check_bloom(&have.bloom)?;
    }
    let before = doc.get_heads();
    let mut state = sync::State::new();
    doc.sync()
        .receive_sync_message(&mut state, message)
        .map_err(|e| StepError::Malformed(e.to_string()))?;
    let reply = doc.sync().generate_sync_message(&mut state).map(|m| m.encode());
    Ok(Step { before, reply })
}

/// Most probes per hash a peer's bloom filter may ask for (automerge writes 7).
pub const MAX_BLOOM_PROBES: u32 = 64;
/// Most `have` entries (summaries of what the peer holds) one sync message may carry: automerge
/// writes one, and the server probes every one of them for every change it holds, so a 32 MB
/// request of 4 million tiny ones would cost about a billion probes per document.
pub const MAX_HAVES: usize = 4;

/// Refuses a peer's bloom filter that automerge would trust to its cost: to answer, the server
/// probes the filter once per change it holds, and automerge takes the filter's parameters as
/// sent — a filter that counts entries but has no bits divides by zero (a panic), and one asking
/// for 4 billion probes allocates 16 GB per probe vector (an abort no `catch_unwind` stops, so
/// one small request would crash the server, again at every retry). Found by the fuzz target
/// `doc_bytes`. Filters automerge writes (10 bits per entry, 7 probes) always pass.
fn check_bloom(bloom: &sync::BloomFilter) -> Result<(), StepError> {
    // The encoding is empty for an empty filter, else LEB128 entries, bits per entry, probes, bits.
    let bytes = bloom.to_bytes();
    let mut rest = bytes.as_slice();
    let mut field = || -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let (&b, tail) = rest.split_first()?;
            rest = tail;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    };
    if bytes.is_empty() {
        return Ok(());
    }
    let (Some(_entries), Some(_bits_per_entry), Some(probes)) = (field(), field(), field()) else {
        return Err(StepError::Malformed("bộ lọc Bloom của tin đồng bộ không đọc được".into()));
    };
    if rest.is_empty() || probes > u64::from(MAX_BLOOM_PROBES) {
        return Err(StepError::Malformed(format!(
            "bộ lọc Bloom của tin đồng bộ có tham số không hợp lệ ({} byte, {probes} lần dò; tối đa {MAX_BLOOM_PROBES})",
            rest.len()
        )));
    }
    Ok(())
}

/// How a changed document is written: a new chunk appended after the stored ones, or a snapshot
/// that replaces them all (compaction).
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub bytes: Vec<u8>,
    pub snapshot: bool,
}

/// What the store holds for a document, as far as the write policy cares.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Layout {
    /// Chunks stored after the snapshot.
    pub increments: u32,
    pub snapshot_bytes: u64,
    pub increment_bytes: u64,
}

impl Layout {
    /// The layout once `chunk` is stored after this one (`None`: the document is new).
    pub fn after(stored: Option<Layout>, chunk: &Chunk) -> Layout {
        let len = chunk.bytes.len() as u64;
        match stored {
            Some(l) if !chunk.snapshot => {
                Layout { increments: l.increments + 1, increment_bytes: l.increment_bytes + len, ..l }
            }
            _ => Layout { increments: 0, snapshot_bytes: len, increment_bytes: 0 },
        }
    }
}

/// The chunk to store after `doc` changed from heads `before`. Appending only the new changes
/// keeps writes (and what the feed sends) close to the size of the edit; once the increments
/// are many or outweigh the snapshot, a fresh snapshot replaces them, so loading stays cheap and
/// storage does not grow with edit count.
pub fn plan_write(doc: &mut AutoCommit, before: &[ChangeHash], stored: Option<Layout>) -> Result<Chunk, StepError> {
    let snapshot = |doc: &mut AutoCommit| {
        let bytes = doc.save();
        if bytes.len() > MAX_DOC_BYTES { Err(StepError::TooLarge(bytes.len())) } else { Ok(Chunk { bytes, snapshot: true }) }
    };
    let Some(layout) = stored else { return snapshot(doc) };
    let increment = doc.save_after(before);
    if layout.increments + 1 >= COMPACT_AFTER_CHUNKS
        || layout.increment_bytes + increment.len() as u64 > layout.snapshot_bytes.max(1024)
    {
        return snapshot(doc);
    }
    Ok(Chunk { bytes: increment, snapshot: false })
}

/// One stored chunk as the feed reads it (in `seq` order).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedChunk {
    pub seq: u64,
    pub id: String,
    pub snapshot: bool,
    pub bytes: Vec<u8>,
    /// Heads of the document after this chunk (32 bytes each; empty if unknown).
    pub heads: Vec<u8>,
}

/// Groups a page of chunks by document, in order of each document's first chunk; chunks the
/// requester already has (`skip` returns true) are left out.
pub fn group_feed(chunks: Vec<FeedChunk>, mut skip: impl FnMut(&FeedChunk) -> bool) -> Vec<FeedDoc> {
    let mut docs: Vec<FeedDoc> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for chunk in chunks {
        if skip(&chunk) {
            continue;
        }
        let heads = heads_from_bytes(&chunk.heads);
        match at.get(&chunk.id) {
            Some(&i) => {
                let doc = &mut docs[i];
                if chunk.snapshot {
                    // Cannot happen within one page (a snapshot removes older chunks), but if it
                    // did, the snapshot alone is the whole truth.
                    doc.data.clear();
                    doc.complete = true;
                }
                doc.data.extend_from_slice(&chunk.bytes);
                doc.heads = heads;
            }
            None => {
                at.insert(chunk.id.clone(), docs.len());
                docs.push(FeedDoc { id: chunk.id, data: chunk.bytes, complete: chunk.snapshot, heads });
            }
        }
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc;
    use automerge::ReadDoc;

    /// Runs the client's side against `server_step` until neither side has anything to say,
    /// returning the number of round trips. The server's copy goes through save/load each round,
    /// as it does through storage.
    fn sync_with(server: &mut Option<Vec<u8>>, client: &mut AutoCommit, state: &mut sync::State) -> usize {
        let mut rounds = 0;
        loop {
            let Some(msg) = client.sync().generate_sync_message(state) else { break };
            rounds += 1;
            assert!(rounds < 10, "sync does not converge");
            let mut doc = server.as_deref().map(|b| AutoCommit::load(b).unwrap()).unwrap_or_default();
            let step = server_step(&mut doc, &msg.encode()).unwrap();
            if doc.get_heads() != step.before {
                *server = Some(doc.save());
            }
            if let Some(reply) = step.reply {
                client.sync().receive_sync_message(state, sync::Message::decode(&reply).unwrap()).unwrap();
            }
        }
        rounds
    }

    fn model_doc(name: &str) -> AutoCommit {
        let mut m = crate::domain::Model::new("m1".into(), "A", 1);
        m.name = name.into();
        doc::create(&m, 1).unwrap()
    }

    fn rename(d: &mut AutoCommit, name: &str) {
        let mut m = doc::read_model(d).unwrap();
        m.owner_name = name.into();
        doc::write_model(d, &m, 2, "sửa").unwrap();
    }

    #[test]
    fn a_new_document_reaches_the_server_and_a_second_replica() {
        let mut server = None;
        let mut a = model_doc("Hũ gạo tình thương");
        let mut sa = sync::State::new();
        sync_with(&mut server, &mut a, &mut sa);
        assert_eq!(doc::read_model(&AutoCommit::load(server.as_ref().unwrap()).unwrap()).unwrap().name, "Hũ gạo tình thương");

        // A replica that has nothing gets everything from the server.
        let mut b = AutoCommit::new();
        let mut sb = sync::State::new();
        sync_with(&mut server, &mut b, &mut sb);
        assert_eq!(b.get_heads(), a.get_heads());
    }

    #[test]
    fn concurrent_offline_edits_converge_in_either_order() {
        for order in [[0, 1], [1, 0]] {
            let mut server = None;
            let mut base = model_doc("Tên gốc");
            sync_with(&mut server, &mut base, &mut sync::State::new());
            let mut replicas = [base.fork(), base.fork()];
            let mut m0 = doc::read_model(&replicas[0]).unwrap();
            m0.owner_name = "Hội Nông dân".into();
            doc::write_model(&mut replicas[0], &m0, 2, "sửa").unwrap();
            let mut m1 = doc::read_model(&replicas[1]).unwrap();
            m1.unit = "Xã Bản Bo".into();
            doc::write_model(&mut replicas[1], &m1, 3, "sửa").unwrap();
            let mut states = [sync::State::new(), sync::State::new()];
            for i in order {
                sync_with(&mut server, &mut replicas[i], &mut states[i]);
            }
            for i in order {
                states[i] = sync::State::decode(&states[i].encode()).unwrap();
                sync_with(&mut server, &mut replicas[i], &mut states[i]);
            }
            let (r0, r1) = (doc::read_model(&replicas[0]).unwrap(), doc::read_model(&replicas[1]).unwrap());
            assert_eq!(r0, r1);
            assert_eq!(r0.owner_name, "Hội Nông dân");
            assert_eq!(r0.unit, "Xã Bản Bo");
        }
    }

    #[test]
    fn replaying_a_message_is_harmless() {
        let mut a = model_doc("Tổ xe ôm tự quản");
        let mut sa = sync::State::new();
        // First round: heads only; second: the changes.
        let m1 = a.sync().generate_sync_message(&mut sa).unwrap().encode();
        let mut server = AutoCommit::new();
        let r1 = server_step(&mut server, &m1).unwrap();
        a.sync().receive_sync_message(&mut sa, sync::Message::decode(&r1.reply.unwrap()).unwrap()).unwrap();
        let m2 = a.sync().generate_sync_message(&mut sa).unwrap().encode();
        let s2 = server_step(&mut server, &m2).unwrap();
        assert_ne!(server.get_heads(), s2.before);
        // The same request arrives again (a retry after a lost response).
        let again = server_step(&mut server, &m2).unwrap();
        assert_eq!(server.get_heads(), again.before, "nothing new to store");
        assert_eq!(server.get_heads(), a.get_heads());
        assert_eq!(server.get(automerge::ROOT, "name").unwrap().unwrap().0.into_string().unwrap(), "Tổ xe ôm tự quản");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(server_step(&mut AutoCommit::new(), b"\x42garbage"), Err(StepError::Malformed(_))));
        assert!(!valid_doc_id("../etc/passwd"));
        assert!(!valid_doc_id(""));
        assert!(valid_doc_id("3f0c2a9e-5b7d-4c1e-9a8f-1d2e3f4a5b6c"));
        assert!(decode::<SyncRequest>(b"\xff\xff\xff").is_err());
    }

    /// A sync message whose bloom filter automerge would divide by zero with (no bits for its
    /// entries) or allocate 16 GB for (4 billion probes): before `check_bloom`, the first
    /// panicked inside automerge and the second aborted the process, for any document with a
    /// change (found by the fuzz target `doc_bytes`); and one with a thousand summaries, each
    /// probed for every change held (accepted before `MAX_HAVES`).
    #[test]
    fn a_forged_bloom_filter_is_refused_not_probed() {
        let mut server = model_doc("Hũ gạo tình thương");
        // A peer with a change of its own (a peer with none is sent the whole document, unprobed).
        let mut peer = AutoCommit::new();
        automerge::transaction::Transactable::put(&mut peer, automerge::ROOT, "x", 1).unwrap();
        peer.commit();
        let first = |bloom: &[u8]| {
            let mut m = peer.clone().sync().generate_sync_message(&mut sync::State::new()).unwrap();
            m.have = vec![sync::Have { last_sync: Vec::new(), bloom: sync::BloomFilter::try_from(bloom).unwrap() }];
            m.encode()
        };
        // One entry, 0 bits per entry (so no bits), 7 probes.
        let no_bits = first(&[1, 0, 7]);
        // One entry, 10 bits per entry (2 bytes of bits), u32::MAX probes.
        let endless = first(&[1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]);
        for message in [no_bits, endless] {
            let before = server.get_heads();
            let refused = server_step(&mut server, &message);
            assert!(matches!(&refused, Err(StepError::Malformed(e)) if e.contains("Bloom")), "{refused:?}");
            assert_eq!(server.get_heads(), before);
        }
        // Many summaries, each probed for every change held.
        let bloom = sync::BloomFilter::from_hashes(std::iter::once(&peer.clone().get_heads()[0]));
        let mut m = peer.clone().sync().generate_sync_message(&mut sync::State::new()).unwrap();
        m.have = vec![sync::Have { last_sync: Vec::new(), bloom }; 1000];
        let refused = server_step(&mut server, &m.encode());
        assert!(matches!(&refused, Err(StepError::Malformed(e)) if e.contains("tóm tắt")), "{refused:?}");
        // A filter as automerge writes it still syncs (the other tests use them throughout).
        let mut client = AutoCommit::new();
        assert!(sync_with(&mut Some(server.save()), &mut client, &mut sync::State::new()) > 0);
        assert_eq!(client.get_heads(), server.get_heads());
    }

    #[test]
    fn envelope_carries_automerge_bytes_as_they_are() {
        let req = SyncRequest {
            protocol: PROTOCOL,
            server: None,
            cursor: 7,
            scope: 1,
            feed_budget: Some(1000),
            docs: vec![DocMessage { id: "a".into(), message: vec![0x42; 300], document: None }],
        };
        let bytes = encode(&req);
        // protocol, None, cursor, Some(varint 1000), scope, 1 doc, "a", varint 300, the bytes, no document.
        assert_eq!(bytes.len(), 1 + 1 + 1 + 3 + 1 + 1 + 2 + 2 + 300 + 1);
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), req);
    }

    #[test]
    fn increments_are_appended_until_compaction_pays() {
        let mut d = model_doc("Dân vận khéo");
        let first = plan_write(&mut d, &[], None).unwrap();
        assert!(first.snapshot, "a new document is stored whole");
        let mut layout = Layout { increments: 0, snapshot_bytes: first.bytes.len() as u64, increment_bytes: 0 };
        let mut stored = first.bytes.clone();
        for i in 0..COMPACT_AFTER_CHUNKS + 1 {
            let before = d.get_heads();
            rename(&mut d, &format!("Chi hội {i}"));
            let chunk = plan_write(&mut d, &before, Some(layout)).unwrap();
            if chunk.snapshot {
                assert!(layout.increments + 1 >= COMPACT_AFTER_CHUNKS || layout.increment_bytes > 0);
                stored = chunk.bytes.clone();
            } else {
                assert!(chunk.bytes.len() < 400, "an increment is the edit, not the document");
                stored.extend_from_slice(&chunk.bytes);
            }
            layout = Layout::after(Some(layout), &chunk);
            // Whatever was stored loads back to the same document.
            assert_eq!(AutoCommit::load(&stored).unwrap().get_heads(), d.get_heads());
        }
        assert!(layout.increments < COMPACT_AFTER_CHUNKS);
    }

    #[test]
    fn feed_groups_chunks_per_document_and_skips_what_the_requester_has() {
        let c = |seq, id: &str, snapshot, b: u8| FeedChunk { seq, id: id.into(), snapshot, bytes: vec![b], heads: vec![b; 32] };
        let page = vec![c(3, "x", false, 1), c(4, "y", true, 2), c(5, "x", false, 3), c(6, "z", false, 4)];
        let feed = group_feed(page, |ch| ch.id == "z");
        assert_eq!(feed.len(), 2);
        assert_eq!((feed[0].id.as_str(), feed[0].data.as_slice(), feed[0].complete), ("x", &[1u8, 3][..], false));
        assert_eq!(feed[0].heads, vec![[3u8; 32]], "heads after the last chunk");
        assert_eq!((feed[1].id.as_str(), feed[1].complete), ("y", true));
    }
}
