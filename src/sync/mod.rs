//! The sync envelope (one HTTP request carries many documents) and the server's per-document step.
//!
//! The envelope is JSON; every `message` is an unmodified automerge sync message
//! (`automerge::sync::Message::encode`), base64-encoded, so any automerge implementation can take
//! part. See ARCHITECTURE.md, "Sync protocol". No IO here.

use automerge::sync::{self, SyncDoc};
use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

pub mod session;
#[cfg(not(target_arch = "wasm32"))]
pub mod memory;

pub const PROTOCOL: u32 = 1;
/// Most documents a client puts into one request; the server refuses more.
pub const MAX_DOCS_PER_REQUEST: usize = 500;
/// Most feed documents the server returns in one response.
pub const FEED_PAGE: usize = 200;
/// Largest saved document the server accepts (a model with its text is a few KB).
pub const MAX_DOC_BYTES: usize = 4 * 1024 * 1024;
/// Largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <&str>::deserialize(d).or_else(|_| Err(serde::de::Error::custom("expected base64 string")))?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u32,
    /// Which server (database) the cursor belongs to; a different one means "start from 0".
    #[serde(default)]
    pub server: Option<String>,
    /// Position in the server's change feed up to which this replica has stored everything.
    pub cursor: u64,
    /// One automerge sync message per document this replica has something to say about.
    pub docs: Vec<DocMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocMessage {
    pub id: String,
    #[serde(with = "b64")]
    pub message: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u32,
    pub server: String,
    /// The cursor to send next time, once everything in `feed` is stored.
    pub cursor: u64,
    /// The feed has more pages after this one.
    pub more: bool,
    /// Documents changed after `cursor` that later pages will bring (for progress).
    #[serde(default)]
    pub remaining: u64,
    /// The server's reply to each request document it has something to say about.
    pub docs: Vec<DocMessage>,
    /// Documents changed since the request's cursor (other than those in the request), whole.
    pub feed: Vec<FeedDoc>,
    /// Documents of the request that could not be processed; the others were.
    pub errors: Vec<DocFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedDoc {
    pub id: String,
    /// `automerge::AutoCommit::save()` output.
    #[serde(with = "b64")]
    pub document: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocFailure {
    pub id: String,
    pub code: FailureCode,
    /// Plain Vietnamese, shown to the user as is.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The message or id is not valid; resending the same bytes will fail again.
    Malformed,
    /// The document grew past the server's limit.
    TooLarge,
    /// The stored document could not be read; an operator must look.
    Corrupt,
    /// The server could not finish (storage busy, restart); retry later.
    Unavailable,
}

impl FailureCode {
    pub fn retryable(self) -> bool {
        matches!(self, FailureCode::Unavailable)
    }
}

/// Document ids are UUIDs made by clients; accept only a safe, bounded alphabet.
pub fn valid_doc_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the server does with one incoming message, given what it has stored.
#[derive(Debug)]
pub struct ServerStep {
    /// New bytes to store, if the message changed the document.
    pub store: Option<Vec<u8>>,
    /// The reply to send back.
    pub reply: Option<Vec<u8>>,
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

/// The server side of one round for one document. The server keeps no per-client sync state: it
/// starts from a fresh `sync::State`, which the protocol allows because the client's message
/// carries its heads and a bloom filter of what it has since their last shared heads.
pub fn server_step(stored: Option<&[u8]>, message: &[u8]) -> Result<ServerStep, StepError> {
    let message = sync::Message::decode(message).map_err(|e| StepError::Malformed(e.to_string()))?;
    let mut doc = match stored {
        Some(bytes) => AutoCommit::load(bytes).map_err(|e| StepError::Corrupt(e.to_string()))?,
        None => AutoCommit::new(),
    };
    let before = doc.get_heads();
    let mut state = sync::State::new();
    doc.sync()
        .receive_sync_message(&mut state, message)
        .map_err(|e| StepError::Malformed(e.to_string()))?;
    let store = if doc.get_heads() != before {
        let bytes = doc.save();
        if bytes.len() > MAX_DOC_BYTES {
            return Err(StepError::TooLarge(bytes.len()));
        }
        Some(bytes)
    } else {
        None
    };
    let reply = doc.sync().generate_sync_message(&mut state).map(|m| m.encode());
    Ok(ServerStep { store, reply })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc;
    use automerge::ReadDoc;

    /// Runs the client's side against `server_step` until neither side has anything to say,
    /// returning the number of round trips.
    fn sync_with(server: &mut Option<Vec<u8>>, client: &mut AutoCommit, state: &mut sync::State) -> usize {
        let mut rounds = 0;
        loop {
            let Some(msg) = client.sync().generate_sync_message(state) else { break };
            rounds += 1;
            assert!(rounds < 10, "sync does not converge");
            let step = server_step(server.as_deref(), &msg.encode()).unwrap();
            if let Some(bytes) = step.store {
                *server = Some(bytes);
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
        let mut server = None;
        let mut a = model_doc("Tổ xe ôm tự quản");
        let mut sa = sync::State::new();
        // First round: heads only; second: the changes.
        let m1 = a.sync().generate_sync_message(&mut sa).unwrap().encode();
        let r1 = server_step(None, &m1).unwrap();
        a.sync().receive_sync_message(&mut sa, sync::Message::decode(&r1.reply.unwrap()).unwrap()).unwrap();
        let m2 = a.sync().generate_sync_message(&mut sa).unwrap().encode();
        let s2 = server_step(server.as_deref(), &m2).unwrap();
        server = s2.store;
        // The same request arrives again (a retry after a lost response).
        let again = server_step(server.as_deref(), &m2).unwrap();
        assert!(again.store.is_none(), "nothing new to store");
        let mut loaded = AutoCommit::load(server.as_ref().unwrap()).unwrap();
        assert_eq!(loaded.get_heads(), a.get_heads());
        assert_eq!(loaded.get(automerge::ROOT, "name").unwrap().unwrap().0.into_string().unwrap(), "Tổ xe ôm tự quản");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(server_step(None, b"\x42garbage"), Err(StepError::Malformed(_))));
        assert!(matches!(server_step(Some(b"junk"), &model_doc("x").sync().generate_sync_message(&mut sync::State::new()).unwrap().encode()), Err(StepError::Corrupt(_))));
        assert!(!valid_doc_id("../etc/passwd"));
        assert!(!valid_doc_id(""));
        assert!(valid_doc_id("3f0c2a9e-5b7d-4c1e-9a8f-1d2e3f4a5b6c"));
    }

    #[test]
    fn envelope_is_plain_json_with_base64_messages() {
        let req = SyncRequest { protocol: PROTOCOL, server: None, cursor: 7, docs: vec![DocMessage { id: "a".into(), message: vec![0x42, 1, 2] }] };
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(json, r#"{"protocol":1,"server":null,"cursor":7,"docs":[{"id":"a","message":"QgEC"}]}"#);
        assert_eq!(serde_json::from_str::<SyncRequest>(&json).unwrap(), req);
        assert!(serde_json::from_str::<SyncRequest>(r#"{"protocol":1,"cursor":0,"docs":[{"id":"a","message":"!!"}]}"#).is_err());
    }
}
