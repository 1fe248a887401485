//! Writes the seed corpora of the byte-level targets from real data: `seeds DIR` fills
//! `DIR/envelope` (requests and responses as the session and the server encode them) and
//! `DIR/doc_bytes` (saved models, increments and sync messages, with the target's mode byte).
//! The structured targets start from real models by construction and need no seeds.

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use danvan::domain::Action;
use danvan::sync::{DocMessage, FeedDoc, PROTOCOL, SyncRequest, SyncResponse, encode, heads_to_wire};
use danvan_fuzz::{T0, actor, model_doc, step};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: seeds DIR"));
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).expect("corpus directory");
        std::fs::write(d.join(name), bytes).expect("seed written");
    };

    let plain = model_doc("A", false);
    let mut library = model_doc("A", true);
    // A cadre's edit on top of the library model: one more step and a renamed owner.
    let mut edited = library.fork().with_actor(actor(3));
    let before = edited.get_heads();
    let mut m = danvan::doc::read_model(&edited).expect("a real model reads");
    m.owner_name = "Hội Nông dân xã".into();
    m.transitions.push(step("s3", Action::MarkExemplary, "binhxet", T0 + 3));
    danvan::doc::write_model(&mut edited, &m, T0 + 3, "sửa").expect("writes");
    let increment = edited.save_after(&before);

    // A session's first round (heads only), and the round that carries the changes.
    let mut state = sync::State::new();
    let first = edited.sync().generate_sync_message(&mut state).expect("a first message").encode();
    let mut server = AutoCommit::new();
    let reply = danvan::sync::server_step(&mut server, &first).expect("the server answers").reply.expect("a reply");
    edited.sync().receive_sync_message(&mut state, sync::Message::decode(&reply).expect("decodes")).expect("received");
    let changes = edited.sync().generate_sync_message(&mut state).expect("the changes").encode();

    let request = |docs: Vec<DocMessage>| SyncRequest { protocol: PROTOCOL, server: Some("srv-1".into()), cursor: 42, feed_budget: Some(65_536), scope: 7, docs };
    write("envelope", "request-first-round", &encode(&request(vec![DocMessage { id: "mo-hinh-1".into(), message: first.clone(), document: None }])));
    write("envelope", "request-changes", &encode(&request(vec![DocMessage { id: "mo-hinh-1".into(), message: changes.clone(), document: None }])));
    write("envelope", "request-whole-document", &encode(&request(vec![DocMessage { id: "mo-hinh-2".into(), message: first.clone(), document: Some(plain.clone().save()) }])));
    write("envelope", "request-empty", &encode(&SyncRequest { protocol: PROTOCOL, server: None, cursor: 0, feed_budget: None, scope: 0, docs: Vec::new() }));
    let response = SyncResponse {
        protocol: PROTOCOL,
        server: "srv-1".into(),
        cursor: 43,
        scope: 7,
        more: true,
        remaining: 2,
        rewound: false,
        docs: vec![DocMessage { id: "mo-hinh-1".into(), message: reply.clone(), document: None }],
        feed: vec![FeedDoc { id: "mo-hinh-3".into(), data: library.save(), complete: true, heads: heads_to_wire(&library.get_heads()) }],
        errors: vec![danvan::sync::DocFailure { id: "x".into(), code: danvan::sync::FailureCode::Forbidden, message: "Bạn không có quyền.".into() }],
    };
    write("envelope", "response", &encode(&response));

    let with_mode = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
    write("doc_bytes", "load-model", &with_mode(0, &plain.clone().save()));
    write("doc_bytes", "load-library-model", &with_mode(0, &library.save()));
    write("doc_bytes", "load-edited", &with_mode(0, &edited.save()));
    write("doc_bytes", "incremental-edit", &with_mode(4, &increment));
    write("doc_bytes", "sync-first-round", &with_mode(2, &first));
    write("doc_bytes", "sync-changes", &with_mode(5, &changes));
    println!("seeds written to {}", dir.display());
}
