//! Browser storage tests (wasm-bindgen-test in headless Chromium): the IndexedDB replica keeps
//! documents across connections and never loses a concurrent read-modify-write.
//!
//! Run: CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test storage

#![cfg(target_arch = "wasm32")]

use danvan::client::local::storage::{DocRecord, LocalStore};
use danvan::doc;
use danvan::domain::Model;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn db_name() -> String {
    format!("danvan-test-{}", uuid::Uuid::new_v4())
}

fn record(id: &str, doc: Vec<u8>) -> DocRecord {
    DocRecord { id: id.into(), doc, sync: None, dirty: true }
}

#[wasm_bindgen_test]
async fn a_stored_model_reads_back_after_reopening() {
    let name = db_name();
    let mut m = Model::new("m1".into(), "Cán bộ A", 1);
    m.name = "Dân vận khéo trong xây dựng nông thôn mới".into();
    let bytes = doc::create(&m, 1).unwrap().save();
    {
        let store = LocalStore::open(&name).await.unwrap();
        let written = store.update("m1", |old| {
            assert!(old.is_none());
            Some(record("m1", bytes.clone()))
        }).await.unwrap();
        assert!(written.is_some());
    }
    // A second connection (as after a reload) sees the committed record.
    let store = LocalStore::open(&name).await.unwrap();
    let rec = store.get("m1").await.unwrap().expect("record persisted");
    assert!(rec.dirty);
    assert_eq!(rec.sync, None);
    let back = doc::read_model(&doc::load(&rec.doc).unwrap()).unwrap();
    assert_eq!(back.name, m.name);
    assert_eq!(store.all().await.unwrap().len(), 1);
    assert!(store.get("nope").await.unwrap().is_none());
}

#[wasm_bindgen_test]
async fn concurrent_read_modify_writes_are_never_lost() {
    let store = LocalStore::open(&db_name()).await.unwrap();
    store.update("counter", |_| Some(record("counter", vec![]))).await.unwrap();
    // Ten writers interleave at every await; each appends one byte to what it read.
    let writers = (0..10u8).map(|i| {
        let store = &store;
        async move {
            store
                .update("counter", move |rec| {
                    let mut rec = rec.expect("exists");
                    rec.doc.push(i);
                    Some(rec)
                })
                .await
                .unwrap();
        }
    });
    futures::future::join_all(writers).await;
    let rec = store.get("counter").await.unwrap().unwrap();
    let mut seen = rec.doc.clone();
    seen.sort();
    assert_eq!(seen, (0..10).collect::<Vec<u8>>());
}

#[wasm_bindgen_test]
async fn update_each_writes_only_what_it_returns_and_keeps_sync_state() {
    let store = LocalStore::open(&db_name()).await.unwrap();
    let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    store.update_each(&ids, |id, _| Some(DocRecord { id: id.into(), doc: vec![1], sync: Some(vec![9, 9]), dirty: false })).await.unwrap();
    let written = store
        .update_each(&ids, |id, rec| (id == "b").then(|| DocRecord { doc: vec![2], dirty: true, ..rec.unwrap() }))
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
    let all = store.all().await.unwrap();
    assert_eq!(all.iter().map(|r| (r.id.as_str(), r.doc[0], r.dirty)).collect::<Vec<_>>(), [("a", 1, false), ("b", 2, true), ("c", 1, false)]);
    assert!(all.iter().all(|r| r.sync.as_deref() == Some(&[9, 9][..])));
    store.clear().await.unwrap();
    assert!(store.all().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn the_pending_set_follows_the_dirty_flag_in_the_same_transaction() {
    let store = LocalStore::open(&db_name()).await.unwrap();
    let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    store.update_each(&ids, |id, _| Some(DocRecord { id: id.into(), doc: vec![1], sync: None, dirty: id != "b" })).await.unwrap();
    let mut dirty = store.dirty_ids().await.unwrap();
    dirty.sort();
    assert_eq!(dirty, ["a", "c"]);
    // Acknowledged by the server: no longer pending.
    store.update("a", |rec| Some(DocRecord { dirty: false, ..rec.unwrap() })).await.unwrap();
    assert_eq!(store.dirty_ids().await.unwrap(), ["c"]);
    let mut all = store.all_ids().await.unwrap();
    all.sort();
    assert_eq!(all, ["a", "b", "c"]);
    // What a start reads, in one transaction: the same ids.
    let mut start = store.start_read().await.unwrap();
    start.ids.sort();
    assert_eq!((start.ids, start.dirty), (all, vec!["c".to_string()]));
}

#[wasm_bindgen_test]
async fn decoded_models_are_cached_by_digest() {
    let store = LocalStore::open(&db_name()).await.unwrap();
    store.put_summaries(&[("m1".into(), "d1".into(), vec![1])]).await.unwrap();
    store.put_summaries(&[("m1".into(), "d2".into(), vec![2])]).await.unwrap();
    let cached = store.summaries().await.unwrap();
    assert_eq!(cached.len(), 1);
    assert_eq!(cached["m1"], "d2");
    assert_eq!(store.start_read().await.unwrap().cached.by_id()["m1"], [2]);
    store.clear().await.unwrap();
    assert!(store.summaries().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn the_cached_models_cross_into_wasm_in_slices_each_under_its_id() {
    let store = LocalStore::open(&db_name()).await.unwrap();
    assert!(store.start_read().await.unwrap().cached.by_id().is_empty());
    let mut model = Model::new("m1".into(), "Cán bộ A", 1);
    model.name = "Hũ gạo — “Dân vận khéo”\nDòng hai".into();
    let first = model.to_cache();
    let second = Model::new("m2".into(), "Cán bộ B", 2).to_cache();
    store
        .put_summaries(&[("m1".into(), "d1".into(), first.clone()), ("m2".into(), "d2".into(), second.clone())])
        .await
        .unwrap();
    let cached = store.start_read().await.unwrap().cached;
    let by_id = cached.by_id();
    assert_eq!(by_id.len(), 2);
    assert_eq!(by_id["m1"], first);
    assert_eq!(Model::from_cache(&by_id["m1"]), Some(model), "accents and a newline cross unchanged");
    assert_eq!(by_id["m2"], second);
    // A slice holds its models one after another, each ending where `ends` says.
    assert_eq!(cached.ids(), ["m1", "m2"]);
    let (mut bytes, mut ends) = (vec![1, 2, 3], vec![9]);
    cached.slice(1, 2, &mut bytes, &mut ends);
    assert_eq!((bytes.as_slice(), ends.as_slice()), (second.as_slice(), [second.len() as u32].as_slice()));
    cached.slice(0, 5, &mut bytes, &mut ends);
    assert_eq!(ends, [first.len() as u32, (first.len() + second.len()) as u32], "a slice past the end stops at the last model");
    assert_eq!(bytes, [first.as_slice(), second.as_slice()].concat());
    store.clear().await.unwrap();
}

/// A cache written by an older version holds each model's JSON: as a string before stop 27 (left
/// out at once), as its UTF-8 after (crosses, and reads as no model: `Model::from_cache`). Either
/// way the app finds no cached model for those documents and the engine decodes them again.
#[wasm_bindgen_test]
async fn a_cache_written_by_an_older_version_reads_as_no_cached_model() {
    let name = db_name();
    let store = LocalStore::open(&name).await.unwrap();
    let json = serde_json::to_vec(&Model::new("m1".into(), "Cán bộ A", 1)).unwrap();
    store.put_summaries(&[("m1".into(), "d1".into(), json.clone())]).await.unwrap();
    // The oldest version's record, written as it wrote it: the model as a JavaScript string.
    {
        let db = idb::Factory::new().unwrap().open(&name, None).unwrap().await.unwrap();
        let tx = db.transaction(&["models"], idb::TransactionMode::ReadWrite).unwrap();
        let record = js_sys::Object::new();
        for (k, v) in [("id", "m2"), ("digest", "d2"), ("model", "{\"tên\":\"Mô hình cũ\"}")] {
            js_sys::Reflect::set(&record, &k.into(), &v.into()).unwrap();
        }
        tx.object_store("models").unwrap().put(&record.into(), None).unwrap().await.unwrap();
        tx.await.unwrap();
        db.close();
    }
    let cached = store.start_read().await.unwrap().cached;
    assert_eq!(cached.ids(), ["m1"], "a model held as a string is left out");
    assert_eq!(Model::from_cache(&cached.by_id()["m1"]), None, "JSON bytes read as no cached model");
    assert_eq!(store.summaries().await.unwrap().len(), 2, "their digests are still there for the engine's check");
    store.clear().await.unwrap();
}

/// The engine's check at start reads each document's digest, not its bytes: stored with every
/// record since stop 27, made from the bytes for a record an older version wrote without one.
#[wasm_bindgen_test]
async fn every_document_has_its_digest_without_its_bytes_being_read() {
    use danvan::client::local::storage::digest;
    let name = db_name();
    let store = LocalStore::open(&name).await.unwrap();
    store.update_each(&["a".into()], |_, _| Some(record("a", vec![1, 2, 3]))).await.unwrap();
    // A record as an older version wrote it: no digest.
    {
        let db = idb::Factory::new().unwrap().open(&name, None).unwrap().await.unwrap();
        let tx = db.transaction(&["docs"], idb::TransactionMode::ReadWrite).unwrap();
        let record = js_sys::Object::new();
        js_sys::Reflect::set(&record, &"id".into(), &"b".into()).unwrap();
        js_sys::Reflect::set(&record, &"doc".into(), &js_sys::Uint8Array::from(&[9u8, 8][..]).into()).unwrap();
        js_sys::Reflect::set(&record, &"sync".into(), &wasm_bindgen::JsValue::NULL).unwrap();
        js_sys::Reflect::set(&record, &"dirty".into(), &false.into()).unwrap();
        tx.object_store("docs").unwrap().put(&record.into(), None).unwrap().await.unwrap();
        tx.await.unwrap();
        db.close();
    }
    let mut digests = store.doc_digests().await.unwrap();
    digests.sort();
    assert_eq!(digests, [("a".to_string(), digest(&[1, 2, 3])), ("b".to_string(), digest(&[9, 8]))]);
    // Written again, the new bytes' digest is stored with them.
    store.update_each(&["a".into()], |_, _| Some(record("a", vec![4]))).await.unwrap();
    assert!(store.doc_digests().await.unwrap().contains(&("a".to_string(), digest(&[4]))));
    let read = store.records(&["b".into(), "missing".into(), "a".into()]).await.unwrap();
    assert_eq!(read.iter().map(|r| (r.id.as_str(), r.doc.clone())).collect::<Vec<_>>(), [("b", vec![9, 8]), ("a", vec![4])]);
    store.clear().await.unwrap();
}
