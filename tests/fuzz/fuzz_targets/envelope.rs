//! The sync envelope as the server (requests) and the client (responses) decode it from any
//! bytes: postcard never panics or allocates out of proportion to the input, and whatever
//! decodes encodes back to bytes that decode to the same value (and encode identically again).
//! Each request document's message then goes through automerge's sync-message decoder, as the
//! server's step does first.
#![no_main]

use danvan::sync::{self, DocMessage, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = sync::encode(value);
    let again: T = sync::decode(&bytes).expect("what the envelope encodes, it decodes");
    assert_eq!(&again, value, "round trip changed the value");
    assert_eq!(sync::encode(&again), bytes, "encoding is not stable");
}

fn messages(docs: &[DocMessage]) {
    for d in docs {
        let _ = sync::valid_doc_id(&d.id);
        // Decoded only, as the server does: it never re-encodes a peer's message (automerge's
        // encoder debug-asserts sorted hashes, which a foreign message need not have).
        let _ = automerge::sync::Message::decode(&d.message);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = sync::decode::<SyncRequest>(data) {
        round_trip(&request);
        messages(&request.docs);
    }
    if let Ok(response) = sync::decode::<SyncResponse>(data) {
        round_trip(&response);
        messages(&response.docs);
        for f in &response.feed {
            let _ = sync::heads_from_wire(&f.heads);
        }
    }
});
