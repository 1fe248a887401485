//! Documents read into models for the app: a few at once, more in the background in slices,
//! yielding to the browser between slices, so a feed page of 800 new documents never freezes the
//! page. Every record gets a generation when it arrives; an older one is never shown over a
//! newer one of the same document, whichever path read it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

use super::Engine;
use super::api::{Shown, ShownContest};
use crate::client::local::storage::DocRecord;
use crate::doc;

/// Up to this many records are decoded at once; more go to the background queue.
const DECODE_NOW: usize = 16;
/// Records decoded between two yields to the browser (each takes a few milliseconds).
const DECODE_SLICE: usize = 8;
/// How often background decoding shows what it has decoded so far.
const FLUSH_MS: f64 = 400.0;

#[derive(Default)]
pub(super) struct Decoder {
    queue: RefCell<VecDeque<(u64, DocRecord)>>,
    running: Cell<bool>,
    next_generation: Cell<u64>,
    shown: RefCell<HashMap<String, u64>>,
}

impl Decoder {
    pub(super) fn generation(&self) -> u64 {
        let g = self.next_generation.get() + 1;
        self.next_generation.set(g);
        g
    }

    pub(super) fn mark_shown(&self, id: &str, generation: u64) {
        self.shown.borrow_mut().insert(id.to_string(), generation);
    }
}

use crate::client::local::storage::digest;

/// Decoded records: what to show, and the cache entries `(id, digest, cached model)` to store.
#[derive(Default)]
struct Decoded {
    shown: Vec<Shown>,
    summaries: Vec<(String, String, Vec<u8>)>,
    /// Contest documents (not cached: a device holds a few, read again at each start).
    contests: Vec<ShownContest>,
}

impl Engine {
    /// Records written by a sync, a restore or another tab: shown (decoded now if few, in the
    /// background otherwise) and cached.
    pub(super) fn absorb(self: &std::rc::Rc<Self>, records: &[DocRecord]) {
        if records.is_empty() {
            return;
        }
        if records.len() > DECODE_NOW {
            self.enqueue(records.to_vec());
            return;
        }
        let batch: Vec<(u64, DocRecord)> = records.iter().map(|r| (self.decoder.generation(), r.clone())).collect();
        let mut decoded = Decoded::default();
        self.decode_into(batch, &mut decoded);
        self.show(&decoded.shown);
        self.show_contests(&decoded.contests);
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = engine.store.put_summaries(&decoded.summaries).await;
        });
    }

    pub(super) fn enqueue(self: &std::rc::Rc<Self>, records: Vec<DocRecord>) {
        if records.is_empty() {
            return;
        }
        {
            let mut queue = self.decoder.queue.borrow_mut();
            for rec in records {
                queue.push_back((self.decoder.generation(), rec));
            }
            self.decoding(queue.len());
        }
        if self.decoder.running.replace(true) {
            return;
        }
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut decoded = Decoded::default();
            let mut flushed_at = js_sys::Date::now();
            loop {
                let slice: Vec<(u64, DocRecord)> = {
                    let mut queue = engine.decoder.queue.borrow_mut();
                    let n = queue.len().min(DECODE_SLICE);
                    queue.drain(..n).collect()
                };
                let done = slice.is_empty();
                engine.decode_into(slice, &mut decoded);
                // Showing re-filters the app's whole list, so it happens a few times a second.
                if done || js_sys::Date::now() - flushed_at > FLUSH_MS {
                    let Decoded { shown, summaries, contests } = std::mem::take(&mut decoded);
                    engine.show(&shown);
                    engine.show_contests(&contests);
                    engine.decoding(engine.decoder.queue.borrow().len());
                    let _ = engine.store.put_summaries(&summaries).await;
                    flushed_at = js_sys::Date::now();
                }
                if done {
                    break;
                }
                // Let the browser paint and handle input between slices.
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            engine.decoder.running.set(false);
            engine.decoding(0);
        });
    }

    /// Decodes records, skipping any older than a version of the same document already shown.
    fn decode_into(&self, batch: Vec<(u64, DocRecord)>, out: &mut Decoded) {
        let mut shown = self.decoder.shown.borrow_mut();
        for (generation, rec) in batch {
            if shown.get(&rec.id).is_some_and(|&g| g > generation) {
                continue;
            }
            shown.insert(rec.id.clone(), generation);
            let model = match doc::load(&rec.doc) {
                Err(e) => Err(e.to_string()),
                Ok(d) => match doc::read_model(&d) {
                    // Another kind of document: a contest (the server sends one to its
                    // organiser's readers, its judges and its teams' units) goes to the contest
                    // page, not the list; anything else is neither listed nor "unreadable".
                    Err(doc::DocError::NotAModel) => {
                        if doc::contest::kind(&d) == doc::contest::Kind::Contest {
                            out.contests.push(super::contests::shown(&rec.id, generation, rec.dirty, &d));
                        }
                        continue;
                    }
                    other => other.map_err(|e| e.to_string()),
                },
            };
            if let Ok(m) = &model {
                out.summaries.push((rec.id.clone(), digest(&rec.doc), m.to_cache()));
            }
            out.shown.push(Shown { id: rec.id, generation, dirty: rec.dirty, model });
        }
    }
}
