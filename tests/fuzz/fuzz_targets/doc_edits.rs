//! Structure-aware: a real model document, edited by two devices with fuzzer-chosen operations
//! (puts, inserts, deletes, text splices, counters, deep nesting, wrong types anywhere) and
//! domain edits (steps, commendations, replication points, journal entries, evaluations, forged
//! or not), then merged — and read as the server and the app read it, after each device's own
//! edits and after the merge (`read_everything`).
#![no_main]

use arbitrary::Arbitrary;
use automerge::AutoCommit;
use danvan_fuzz::{Edit, actor, apply_edits, model_bytes, read_everything};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    in_library: bool,
    first: Vec<Edit>,
    second: Vec<Edit>,
    /// Whether the second device starts from the first one's result (it had synced) or from
    /// the same original (both offline at once).
    second_saw_first: bool,
}

fuzz_target!(|input: Input| {
    let mut a = AutoCommit::load(model_bytes("A", input.in_library)).expect("a real model loads").with_actor(actor(3));
    let original = a.get_heads();
    apply_edits(&mut a, &input.first, 24);
    read_everything(&mut a, &original);
    let b = if input.second_saw_first { a.fork() } else { AutoCommit::load(model_bytes("A", input.in_library)).expect("loads") };
    let mut b = b.with_actor(actor(4));
    let b_before = b.get_heads();
    apply_edits(&mut b, &input.second, 24);
    read_everything(&mut b, &b_before);
    let a_before = a.get_heads();
    a.merge(&mut b).expect("two replicas of one document merge");
    read_everything(&mut a, &a_before);
    // Saved and loaded, the merge is the same document.
    let mut loaded = AutoCommit::load(&a.save()).expect("a saved document loads");
    assert_eq!(loaded.get_heads(), a.get_heads());
});
