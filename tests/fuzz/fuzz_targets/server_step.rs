//! The server's per-document step (`server::routes::sync::apply_document`: exactly what `/api/sync`
//! runs per request document, every rule included) with fuzzer-made clients: a stored model of
//! the caller's unit, of another unit, in the library or not, damaged, or none; a client that
//! edits it (any automerge operation, forged domain records) and sends its changes whole, over
//! two sync rounds, with bytes flipped, or sends arbitrary bytes; as any of five accounts.
//!
//! Beyond "no panic, no hang, bounded memory", every write the step accepts is checked against
//! the rules as ARCHITECTURE.md states them, independently of the code that enforces them: the
//! stored document plus the write loads and is readable by the app; the owner never changes;
//! only someone who may write (or review, or read a library model) writes, within their keys;
//! every append-only list keeps its old entries and unique ids; new entries carry the caller's name.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use danvan::domain::{READER_KEYS, REVIEWER_KEYS};
use danvan::server::routes::sync::{StoredDoc, apply_document};
use danvan::sync::Layout;
use danvan_fuzz::{Edit, USERS, access, actor, apply_edits, corrupt, model_bytes, model_doc};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Stored {
    None,
    /// A model of unit A or B, in the library or not.
    Model { unit_b: bool, in_library: bool },
    /// A real model's bytes with some flipped (a damaged copy in the store).
    Damaged { flips: Vec<(u16, u8)> },
}

#[derive(Arbitrary, Debug)]
enum Send {
    /// The client has never synced: the whole document, and a first message.
    Whole,
    /// Two rounds of the sync protocol (heads, then the changes).
    Rounds,
    /// Anything.
    Raw { message: Vec<u8>, document: Option<Vec<u8>> },
}

#[derive(Arbitrary, Debug)]
struct Input {
    stored: Stored,
    caller: u8,
    /// The client starts from the stored copy (it had synced), or from its own new model of A or B.
    client_from_stored: bool,
    client_unit_b: bool,
    edits: Vec<Edit>,
    send: Send,
    flips: Vec<(u16, u8)>,
}

const ID: &str = "mo-hinh-1";

struct Server {
    bytes: Option<Vec<u8>>,
    unit: String,
    public: bool,
}

impl Server {
    fn stored(&self) -> Option<StoredDoc> {
        let bytes = self.bytes.clone()?;
        let snapshot_bytes = bytes.len() as u64;
        Some(StoredDoc { bytes, seq: 7, layout: Layout { increments: 0, snapshot_bytes, increment_bytes: 0 }, unit: self.unit.clone(), public: self.public })
    }
}

/// The rules, restated, for a write the step accepted.
fn check_write(server: &Server, user: &str, write: &danvan::server::store::Write) {
    let access = access(user);
    let mut merged = match (&server.bytes, write.chunk.snapshot) {
        (Some(stored), false) => {
            let mut all = stored.clone();
            all.extend_from_slice(&write.chunk.bytes);
            AutoCommit::load(&all).expect("the stored chunks plus the write load")
        }
        _ => AutoCommit::load(&write.chunk.bytes).expect("a snapshot loads"),
    };
    assert_eq!(danvan::sync::heads_to_bytes(&merged.get_heads()), write.heads, "the write's heads are the document's");
    // Every document here starts as a model; none becomes a contest (rule 9 of "Records").
    assert_eq!(danvan::doc::contest::kind(&merged), danvan::doc::contest::Kind::Model, "a model stays a model");
    assert!(write.readers.is_none(), "a model has no readers beyond its unit");
    let model = danvan::doc::read_model(&merged).expect("an accepted document is readable by the app");
    let owner = danvan::doc::owner(&merged).map(|(unit, _)| unit);
    assert_eq!(owner.as_deref(), Some(write.unit.as_str()), "the owner is the recorded one");
    let (before_heads, was) = match &server.bytes {
        Some(bytes) => {
            let mut doc = AutoCommit::load(bytes).expect("the stored copy loaded before");
            assert_eq!(write.unit, server.unit, "the recorded owner never changes");
            assert_eq!(danvan::doc::owner(&doc), danvan::doc::owner(&merged), "the owner's value and operation never change");
            (doc.get_heads(), danvan::doc::records(&doc).expect("the stored records were read"))
        }
        None => {
            assert!(access.can_write(&write.unit), "a new document names a unit its creator writes");
            (Vec::new(), danvan::doc::Records::from(danvan::domain::Model::new(String::new(), "", 0)))
        }
    };
    let roles = access.roles_for(&write.unit);
    if server.bytes.is_some() && !roles.cadre {
        let mut allowed: Vec<&str> = Vec::new();
        if roles.reviewer {
            allowed.extend(REVIEWER_KEYS);
        }
        if server.public {
            allowed.extend(READER_KEYS);
        }
        assert!(!allowed.is_empty(), "{user} may not change a document of {} at all", write.unit);
        let touched = danvan::doc::new_changes(&mut merged, &before_heads, danvan::doc::CHANGE_LIMITS).expect("within bounds").touched;
        assert!(touched.iter().all(|k| allowed.contains(&k.as_str())), "{user} touched {touched:?}, allowed {allowed:?}");
    }
    let now = danvan::doc::Records::from(model);
    append_only(&was.transitions, &now.transitions, |t| (&t.id, &t.by), user);
    append_only(&was.commendations, &now.commendations, |c| (&c.id, &c.by), user);
    append_only(&was.replications, &now.replications, |r| (&r.id, &r.by), user);
    append_only(&was.journal, &now.journal, |j| (&j.id, &j.by), user);
    let ids: HashSet<&str> = now.evaluations.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), now.evaluations.len(), "evaluation ids are unique");
    for new in now.evaluations.iter().filter(|e| !was.evaluations.contains(e)) {
        assert_eq!(new.by, user, "a changed or new evaluation is the caller's own");
    }
}

/// `after` is `before` with entries inserted, ids unique, every inserted one by `user`.
fn append_only<T: PartialEq + std::fmt::Debug>(before: &[T], after: &[T], key: impl Fn(&T) -> (&String, &String), user: &str) {
    let ids: HashSet<&String> = after.iter().map(|e| key(e).0).collect();
    assert_eq!(ids.len(), after.len(), "ids are unique: {after:?}");
    let old_ids: HashSet<&String> = before.iter().map(|e| key(e).0).collect();
    let kept: Vec<&T> = after.iter().filter(|e| old_ids.contains(key(e).0)).collect();
    assert!(kept.len() == before.len() && kept.iter().zip(before).all(|(a, b)| *a == b), "old entries kept as they were");
    assert!(after.iter().filter(|e| !old_ids.contains(key(e).0)).all(|e| key(e).1 == user), "new entries are by {user}");
}

fuzz_target!(|input: Input| {
    let user = USERS[input.caller as usize % USERS.len()];
    let (bytes, unit, public) = match &input.stored {
        Stored::None => (None, String::new(), false),
        Stored::Model { unit_b, in_library } => {
            let unit = if *unit_b { "B" } else { "A" };
            (Some(model_bytes(unit, *in_library).to_vec()), unit.to_string(), *in_library)
        }
        Stored::Damaged { flips } => {
            let mut b = model_bytes("A", false).to_vec();
            corrupt(&mut b, flips);
            (Some(b), "A".to_string(), false)
        }
    };
    let server = Server { bytes, unit, public };
    let stored_doc = server.bytes.as_deref().and_then(|b| AutoCommit::load(b).ok());

    let mut client = match (&stored_doc, input.client_from_stored) {
        (Some(doc), true) => doc.clone(),
        _ => model_doc(if input.client_unit_b { "B" } else { "A" }, false),
    }
    .with_actor(actor(5));
    apply_edits(&mut client, &input.edits, 16);

    let step = |message: &[u8], document: Option<&[u8]>| {
        let result = apply_document(server.stored(), ID, message, document, user, access(user));
        if let Ok((reply, write)) = &result {
            if let Some(reply) = reply {
                sync::Message::decode(reply).expect("the server's reply is a sync message");
            }
            if let Some(write) = write {
                check_write(&server, user, write);
            }
        }
        result
    };

    match &input.send {
        Send::Whole => {
            let mut document = client.save();
            corrupt(&mut document, &input.flips);
            let message = client.sync().generate_sync_message(&mut sync::State::new()).map(|m| m.encode()).unwrap_or_default();
            let _ = step(&message, Some(&document));
        }
        Send::Rounds => {
            let mut state = sync::State::new();
            for _ in 0..3 {
                let Some(message) = client.sync().generate_sync_message(&mut state) else { break };
                let mut message = message.encode();
                corrupt(&mut message, &input.flips);
                let Ok((Some(reply), _)) = step(&message, None) else { break };
                let Ok(reply) = sync::Message::decode(&reply) else { break };
                if client.sync().receive_sync_message(&mut state, reply).is_err() {
                    break;
                }
            }
        }
        Send::Raw { message, document } => {
            let _ = step(message, document.as_deref());
        }
    }
});
