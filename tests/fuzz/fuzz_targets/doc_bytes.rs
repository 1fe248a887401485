//! Documents from any bytes, the three ways bytes become a document: `doc::load` (a stored or
//! fed document), `load_incremental` onto a real model (the server merging a whole document a
//! client sent) and a sync message received by a real model (the server's step). Whatever loads
//! is read as the server and the app read it (`read_everything`): no panic, no hang, no
//! unbounded allocation.
#![no_main]

use automerge::AutoCommit;
use danvan_fuzz::{model_bytes, read_everything};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    match mode % 3 {
        0 => {
            if let Ok(mut doc) = danvan::doc::load(bytes) {
                read_everything(&mut doc, &[]);
            }
        }
        1 => {
            let mut doc = AutoCommit::load(model_bytes("A", mode & 4 != 0)).expect("a real model loads");
            let before = doc.get_heads();
            if doc.load_incremental(bytes).is_ok() {
                read_everything(&mut doc, &before);
            }
        }
        _ => {
            let mut doc = AutoCommit::load(model_bytes("A", mode & 4 != 0)).expect("a real model loads");
            let before = doc.get_heads();
            if danvan::sync::server_step(&mut doc, bytes).is_ok() {
                read_everything(&mut doc, &before);
            }
        }
    }
});
