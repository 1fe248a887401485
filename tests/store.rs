//! The store contract, run against both implementations: SQLite (embedded) and PostgreSQL (set
//! DANVAN_TEST_POSTGRES_URL to a server where the user may create databases; `.ci/test` starts one
//! on loopback and sets DANVAN_REQUIRE_POSTGRES=1 so these tests cannot be skipped there).
//! Also: several servers over one PostgreSQL database serve the same clients correctly.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;

use std::collections::BTreeSet;
use std::sync::Arc;

use danvan::server::store::postgres::PostgresStore;
use danvan::api::PhotoStatus;
use danvan::domain::report::ModelFacts;
use danvan::server::store::{BackfilledFacts, StoredFacts};
use danvan::server::store::{DocStore, DocVersion, Invitation, PhotoAppend, PhotoChunk, PhotoLimits, Session, SqliteStore, Store, StoreError, User, Write};
use sha2::{Digest, Sha256};
use danvan::domain::{Grant, Role, UnitTree};
use danvan::sync::{Chunk, Layout};

fn put(id: &str, expected: Option<u64>, bytes: &[u8], snapshot: bool) -> Write {
    put_in("U", id, expected, bytes, snapshot)
}

fn put_in(unit: &str, id: &str, expected: Option<u64>, bytes: &[u8], snapshot: bool) -> Write {
    Write { id: id.into(), expected, chunk: Chunk { bytes: bytes.to_vec(), snapshot }, heads: vec![bytes[0]; 32], unit: unit.into(), public: false, facts: None, readers: None }
}

fn units(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

async fn write_one(store: &dyn Store, w: Write) -> Result<u64, StoreError> {
    store.write(vec![w], 1).await.unwrap().pop().unwrap()
}

async fn contract(store: &dyn Store) {
    let u = units(&["U"]);
    // A batch: each write is its own compare-and-swap.
    let r = store.write(vec![put("a", None, b"one", true), put("a", None, b"again", true), put("b", None, b"two", true)], 1).await.unwrap();
    let (s1, s2) = (*r[0].as_ref().unwrap(), *r[2].as_ref().unwrap());
    assert!(matches!(r[1], Err(StoreError::Conflict)), "the second write of one document in a batch conflicts");
    let s3 = write_one(store, put("a", Some(s1), b"+3", false)).await.unwrap();
    assert!(matches!(write_one(store, put("a", Some(s1), b"stale", false)).await, Err(StoreError::Conflict)));
    assert!(matches!(write_one(store, put("zz", Some(s3), b"x", true)).await, Err(StoreError::Conflict)));
    assert!(s1 < s2 && s2 < s3);

    // Documents load as their chunks in order; the layout counts the increments.
    let a = store.load("a").await.unwrap().unwrap();
    assert_eq!((a.bytes.as_slice(), a.seq), (&b"one+3"[..], s3));
    assert_eq!(a.layout, Layout { increments: 1, snapshot_bytes: 3, increment_bytes: 2 });
    assert!(store.load("nope").await.unwrap().is_none());
    let many = store.load_many(&["a".into(), "b".into(), "nope".into()]).await.unwrap();
    assert_eq!(many.len(), 2);
    assert_eq!(many["b"].bytes, b"two");
    let versions = store.versions(&["a".into(), "b".into(), "nope".into()]).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions["a"], DocVersion { seq: s3, unit: "U".into(), public: false });
    assert_eq!(many["a"].unit, "U");

    // The feed is chunks in seq order, within a byte budget (always at least one chunk).
    let feed = store.feed(0, &u, 1 << 20, 100).await.unwrap();
    assert_eq!(feed.chunks.iter().map(|c| (c.id.as_str(), c.seq)).collect::<Vec<_>>(), [("a", s1), ("b", s2), ("a", s3)]);
    assert_eq!(feed.chunks[2].heads, vec![b'+'; 32]);
    assert!(!feed.more);
    let first = store.feed(0, &u, 1, 100).await.unwrap();
    assert_eq!((first.chunks.len(), first.more), (1, true));
    let capped = store.feed(0, &u, 1 << 20, 2).await.unwrap();
    assert_eq!((capped.chunks.len(), capped.more), (2, true));
    assert_eq!(store.feed(s2, &u, 1 << 20, 100).await.unwrap().chunks.len(), 1);
    assert!(store.feed(0, &u, 0, 100).await.unwrap().chunks.is_empty());

    // A snapshot replaces the document's older chunks (compaction).
    let s4 = write_one(store, put("a", Some(s3), b"ALL", true)).await.unwrap();
    let a = store.load("a").await.unwrap().unwrap();
    assert_eq!((a.bytes.as_slice(), a.layout), (&b"ALL"[..], Layout { increments: 0, snapshot_bytes: 3, increment_bytes: 0 }));
    assert_eq!(store.feed(0, &u, 1 << 20, 100).await.unwrap().chunks.iter().map(|c| c.seq).collect::<Vec<_>>(), [s2, s4]);

    assert_eq!(store.count().await.unwrap(), 2);
    assert_eq!(store.count_since(0, &u).await.unwrap(), 2);
    assert_eq!(store.count_since(s2, &u).await.unwrap(), 1);
    assert_eq!(store.count_since(s4, &u).await.unwrap(), 0);
    assert_eq!(store.head().await.unwrap(), s4);

    // Owners: the first write fixes a document's unit; the feed and its count are per unit.
    let o1 = write_one(store, put_in("OTHER", "o", None, b"o1", true)).await.unwrap();
    let o2 = write_one(store, put_in("SOMEONE-ELSE", "o", Some(o1), b"o2", false)).await.unwrap();
    assert_eq!(store.load("o").await.unwrap().unwrap().unit, "OTHER", "a later write never moves a document");
    let ids = |page: danvan::server::store::FeedPage| page.chunks.into_iter().map(|c| (c.id, c.seq)).collect::<Vec<_>>();
    assert_eq!(ids(store.feed(s4, &u, 1 << 20, 100).await.unwrap()), []);
    assert_eq!(ids(store.feed(0, &units(&["OTHER"]), 1 << 20, 100).await.unwrap()), [("o".to_string(), o1), ("o".to_string(), o2)]);
    assert_eq!(ids(store.feed(0, &units(&["U", "OTHER"]), 1 << 20, 100).await.unwrap()).len(), 4);
    assert!(store.feed(0, &[], 1 << 20, 100).await.unwrap().chunks.is_empty(), "no units, no feed");
    assert_eq!(store.count_since(0, &units(&["OTHER"])).await.unwrap(), 1);
    assert_eq!(store.count_since(0, &units(&["U", "OTHER", "NONE"])).await.unwrap(), 3);

    // The library: a document written as public is in everyone's feed (also with no units), its
    // earlier chunks too, and in the counts; `versions` says so; written private again, it leaves.
    let l1 = write_one(store, put_in("FAR", "lib", None, b"l1", true)).await.unwrap();
    let l2 = write_one(store, Write { public: true, ..put_in("FAR", "lib", Some(l1), b"l2", true) }).await.unwrap();
    assert!(store.versions(&["lib".into()]).await.unwrap()["lib"].public);
    assert!(store.load("lib").await.unwrap().unwrap().public);
    assert_eq!(ids(store.feed(0, &[], 1 << 20, 100).await.unwrap()), [("lib".to_string(), l2)]);
    assert_eq!(ids(store.feed(0, &units(&["OTHER"]), 1 << 20, 100).await.unwrap()).len(), 3);
    assert_eq!(store.count_since(0, &units(&["OTHER"])).await.unwrap(), 2);
    assert_eq!(store.count_since(l2, &[]).await.unwrap(), 0);
    let l3 = write_one(store, put_in("FAR", "lib", Some(l2), b"l3", false)).await.unwrap();
    assert!(store.feed(0, &[], 1 << 20, 100).await.unwrap().chunks.is_empty(), "back out of the library");
    assert_eq!(ids(store.feed(l2, &units(&["FAR"]), 1 << 20, 100).await.unwrap()), [("lib".to_string(), l3)]);

    // Readers beyond the owner (a contest's judges and the units in its rounds, `doc_readers`):
    // a write that names them puts the document in their feed and counts, earlier chunks too; a
    // later write that names others replaces them; a write that names none (`None`) leaves them.
    let k = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let c1 = write_one(store, Write { readers: Some(k(&["u:X1", "@gk1"])), ..put_in("HQ", "contest", None, b"c1", true) }).await.unwrap();
    let c2 = write_one(store, put_in("HQ", "contest", Some(c1), b"c2", false)).await.unwrap();
    assert_eq!(ids(store.feed_for(0, &[], &k(&["@gk1"]), 1 << 20, 100).await.unwrap()), [("contest".to_string(), c1), ("contest".to_string(), c2)]);
    assert_eq!(ids(store.feed_for(c1, &[], &k(&["u:X1", "@x"]), 1 << 20, 100).await.unwrap()), [("contest".to_string(), c2)]);
    assert!(store.feed_for(0, &[], &k(&["@gk2", "u:X2"]), 1 << 20, 100).await.unwrap().chunks.is_empty());
    assert!(store.feed(0, &units(&["X1"]), 1 << 20, 100).await.unwrap().chunks.is_empty(), "reader keys, not units");
    assert_eq!(store.count_since_for(0, &[], &k(&["@gk1"])).await.unwrap(), 1);
    assert_eq!(store.count_since_for(0, &units(&["HQ"]), &k(&["@gk1"])).await.unwrap(), 1, "counted once");
    assert_eq!(store.count_since_for(0, &[], &k(&["@gk2"])).await.unwrap(), 0);
    let c3 = write_one(store, Write { readers: Some(k(&["@gk2"])), ..put_in("HQ", "contest", Some(c2), b"c3", true) }).await.unwrap();
    assert!(store.feed_for(0, &[], &k(&["@gk1", "u:X1"]), 1 << 20, 100).await.unwrap().chunks.is_empty(), "replaced");
    assert_eq!(ids(store.feed_for(0, &[], &k(&["@gk2"]), 1 << 20, 100).await.unwrap()), [("contest".to_string(), c3)]);
    assert_eq!(ids(store.feed_for(0, &units(&["HQ"]), &[], 1 << 20, 100).await.unwrap()), [("contest".to_string(), c3)], "the owner's readers");

    // The unit tree: saved whole, read back equal; a later import updates by code.
    assert!(store.unit_tree().await.unwrap().is_empty());
    let tree = UnitTree::from_csv(
        "code,name,kind,level,parent,cluster\nCB,Tỉnh ủy Cao Bằng,tinh,tinh,,\nCB-X,Xã Bản Bo,xa,co_so,CB,CUM-1\n",
    )
    .unwrap();
    store.save_units(&UnitTree::default(), &tree).await.unwrap();
    assert_eq!(store.unit_tree().await.unwrap(), tree);
    let (next, _) = tree.import_csv("code,name,kind,level,parent\nCB-X,Xã Bản Bo (mới),xa,co_so,CB\n").unwrap();
    // Two imports computed from the same tree: the second is told the tree moved on (and is
    // merged again by its caller), so two imports that are each valid can never be saved
    // together into a tree neither checked (such as a cycle).
    let (other, _) = tree.import_csv("code,name,kind,level,parent\nCB-Y,Xã Trường Sơn,xa,co_so,CB\n").unwrap();
    store.save_units(&tree, &next).await.unwrap();
    assert!(matches!(store.save_units(&tree, &other).await, Err(StoreError::Conflict)));
    let back = store.unit_tree().await.unwrap();
    assert_eq!(back.get("CB-X").unwrap().name, "Xã Bản Bo (mới)");
    assert!(back.is_within("CB-X", "CB"));
    assert_eq!(back.clusters().count(), 1);

    // Accounts: unique usernames, grants per unit, disable and password reset.
    let user = User {
        username: "canbo".into(),
        display_name: "Cán bộ A".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        disabled: false,
        grants: vec![Grant { unit: "CB".into(), role: Role::Reviewer }, Grant { unit: "CB-X".into(), role: Role::Member }],
    };
    store.create_user(&user, 1).await.unwrap();
    assert!(matches!(store.create_user(&user, 2).await, Err(StoreError::Conflict)));
    assert_eq!(store.user("canbo").await.unwrap().unwrap(), user);
    assert!(store.user("khac").await.unwrap().is_none());
    assert!(store.set_user_disabled("canbo", true).await.unwrap());
    assert!(store.set_password_hash("canbo", "new").await.unwrap());
    let changed = store.user("canbo").await.unwrap().unwrap();
    assert!(changed.disabled && changed.password_hash == "new");
    assert!(!store.set_user_disabled("khac", true).await.unwrap());
    let invited = User { username: "moi".into(), display_name: "Người mới".into(), password_hash: String::new(), disabled: false, grants: vec![] };
    store.create_user(&invited, 3).await.unwrap();
    assert_eq!(store.users().await.unwrap().iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["canbo", "moi"]);
    assert!(store.update_user("moi", "Người mới (xã)", &[Grant { unit: "CB-X".into(), role: Role::Member }]).await.unwrap());
    let moi = store.user("moi").await.unwrap().unwrap();
    assert_eq!((moi.display_name.as_str(), moi.grants.len()), ("Người mới (xã)", 1));
    assert!(!store.update_user("khac", "x", &[]).await.unwrap());

    // Sessions: found by id, ended one by one or all of a user's at once.
    let session = |exp| Session { username: "canbo".into(), verifier_hash: "h1".into(), created_at: 1, expires_at: exp };
    store.create_session("s1", &session(100)).await.unwrap();
    store.create_session("s2", &session(200)).await.unwrap();
    store.create_session("s3", &Session { username: "moi".into(), ..session(300) }).await.unwrap();
    let session_of = |id: &'static str| async move { store.session_user(id).await.unwrap().map(|(s, _)| s) };
    assert_eq!(session_of("s1").await, Some(session(100)));
    let (s, u) = store.session_user("s1").await.unwrap().unwrap();
    assert_eq!((s, u.username.as_str(), u.grants.len()), (session(100), "canbo", 2));
    assert!(store.session_user("nope").await.unwrap().is_none());
    assert!(session_of("nope").await.is_none());
    store.delete_session("s1").await.unwrap();
    assert!(session_of("s1").await.is_none());
    assert_eq!(store.delete_sessions("canbo").await.unwrap(), 1);
    assert!(session_of("s2").await.is_none());
    assert!(session_of("s3").await.is_some(), "other users stay signed in");

    // Invitations: one live per user, used once, not after expiry.
    let inv = |hash: &str, exp| Invitation { username: "moi".into(), verifier_hash: hash.into(), expires_at: exp };
    store.save_invitation("i1", &inv("v1", 1_000), 1).await.unwrap();
    store.save_invitation("i2", &inv("v2", 1_000), 2).await.unwrap();
    assert!(store.invitation("i1").await.unwrap().is_none(), "a new invitation replaces the old");
    assert_eq!(store.invitation("i2").await.unwrap(), Some(inv("v2", 1_000)));
    assert_eq!(store.accept_invitation("i2", "late", 1_000).await.unwrap(), None, "expired");
    assert_eq!(store.accept_invitation("i2", "hash", 999).await.unwrap(), Some("moi".into()));
    assert_eq!(store.user("moi").await.unwrap().unwrap().password_hash, "hash");
    assert_eq!(store.accept_invitation("i2", "again", 999).await.unwrap(), None, "used once");

    photos(store).await;
    photo_limits(store).await;
    sweeping(store).await;
}

/// `len` bytes of a PNG (its IHDR says 800×600) named by their SHA-256.
fn image(len: usize, seed: u32) -> (String, Vec<u8>) {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x03\x20\x00\x00\x02\x58\x08\x02\x00\x00\x00".to_vec();
    let header = bytes.len();
    bytes.extend((header..len).map(|i| ((i as u32 ^ seed).wrapping_mul(2_654_435_761) >> 13) as u8));
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

/// The whole of a photo in one chunk.
fn whole(doc_id: &str, (id, bytes): &(String, Vec<u8>), by: &str) -> PhotoChunk {
    PhotoChunk {
        doc_id: doc_id.into(),
        id: id.clone(),
        content_type: "image/png".into(),
        offset: 0,
        total: bytes.len() as u64,
        bytes: bytes.clone(),
        by: by.into(),
    }
}

const LIMITS: PhotoLimits = PhotoLimits { per_model: 1_000, per_user_day: 1_000 };
const DAY_MS: i64 = 86_400_000;

/// New uploads are limited per document and per user in 24 hours, counted in the transaction that
/// starts them; chunks of an upload already started, and complete photos, are not new.
async fn photo_limits(store: &dyn Store) {
    let limits = PhotoLimits { per_model: 2, per_user_day: 3 };
    let photos: Vec<(String, Vec<u8>)> = (0..6).map(|i| image(2_000, 100 + i)).collect();
    let stored = |n: usize| PhotoAppend::Stored(PhotoStatus { received: photos[n].1.len() as u64, complete: true });
    let t0 = 1_000_000;
    assert_eq!(store.append_photo(whole("q", &photos[0], "u1"), &limits, t0).await.unwrap(), stored(0));
    assert_eq!(store.append_photo(whole("q", &photos[1], "u1"), &limits, t0 + 10).await.unwrap(), stored(1));
    assert_eq!(store.append_photo(whole("q", &photos[2], "u1"), &limits, t0 + 20).await.unwrap(), PhotoAppend::ModelFull);
    assert_eq!(
        store.append_photo(whole("q", &photos[1], "u1"), &limits, t0 + 20).await.unwrap(),
        PhotoAppend::OutOfStep(PhotoStatus { received: photos[1].1.len() as u64, complete: true }),
        "a complete photo is not a new one"
    );
    assert_eq!(store.append_photo(whole("q2", &photos[2], "u1"), &limits, t0 + 30).await.unwrap(), stored(2));
    assert_eq!(
        store.append_photo(whole("q2", &photos[3], "u1"), &limits, t0 + 40).await.unwrap(),
        PhotoAppend::UserDayFull { retry_after_ms: DAY_MS - 40 },
        "the oldest of the day leaves the window then"
    );
    assert_eq!(store.append_photo(whole("q2", &photos[3], "u2"), &limits, t0 + 40).await.unwrap(), stored(3), "limits are per user");
    assert_eq!(store.append_photo(whole("q3", &photos[4], "u1"), &limits, t0 + DAY_MS + 1).await.unwrap(), stored(4), "a day later");
    // Concurrent new uploads cannot both take the last place of a model.
    let racing: Vec<(String, Vec<u8>)> = (0..8).map(|i| image(2_000, 200 + i)).collect();
    let answers = futures_join_all_answers(racing.iter().map(|p| store.append_photo(whole("q4", p, "u3"), &PhotoLimits { per_model: 3, per_user_day: 100 }, t0))).await;
    assert_eq!(answers.iter().filter(|a| matches!(a, PhotoAppend::Stored(_))).count(), 3, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| **a == PhotoAppend::ModelFull).count(), 5, "{answers:?}");
}

/// Runs the futures concurrently on this task; their answers in order.
async fn futures_join_all_answers<F: std::future::Future<Output = Result<PhotoAppend, StoreError>>>(tasks: impl Iterator<Item = F>) -> Vec<PhotoAppend> {
    let mut tasks: Vec<_> = tasks.map(Box::pin).collect();
    let mut answers: Vec<Option<PhotoAppend>> = vec![None; tasks.len()];
    std::future::poll_fn(|cx| {
        for (i, t) in tasks.iter_mut().enumerate() {
            if answers[i].is_none()
                && let std::task::Poll::Ready(a) = t.as_mut().poll(cx)
            {
                answers[i] = Some(a.unwrap());
            }
        }
        if answers.iter().all(Option::is_some) { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    answers.into_iter().map(Option::unwrap).collect()
}

/// What the sweeper deletes, by the times passed in: expired sessions and invitations, uploads
/// with no chunk since a time, and complete photos read against their document's version.
async fn sweeping(store: &dyn Store) {
    // Sessions and invitations at or past their expiry go; the others stay.
    let session = |exp| Session { username: "canbo".into(), verifier_hash: "h".into(), created_at: 1, expires_at: exp };
    store.create_session("x1", &session(50)).await.unwrap();
    store.create_session("x2", &session(5_000)).await.unwrap();
    assert_eq!(store.delete_expired_sessions(100).await.unwrap(), 1);
    assert!(store.session_user("x1").await.unwrap().is_none());
    assert!(store.session_user("x2").await.unwrap().is_some());
    store.save_invitation("i3", &Invitation { username: "moi".into(), verifier_hash: "v".into(), expires_at: 1_000 }, 1).await.unwrap();
    assert_eq!(store.delete_expired_invitations(999).await.unwrap(), 0);
    assert_eq!(store.delete_expired_invitations(1_000).await.unwrap(), 1);
    assert!(store.invitation("i3").await.unwrap().is_none());

    // Uploads with no chunk since the time given go, with their chunks; the others stay.
    let (id, bytes) = image(100_000, 7);
    let part = |doc: &str, end: usize| PhotoChunk { bytes: bytes[..end].to_vec(), ..whole(doc, &(id.clone(), bytes.clone()), "canbo") };
    assert!(matches!(store.append_photo(part("p1", 40_000), &LIMITS, 10).await.unwrap(), PhotoAppend::Stored(_)));
    assert!(matches!(store.append_photo(part("p2", 40_000), &LIMITS, 20).await.unwrap(), PhotoAppend::Stored(_)));
    assert_eq!(store.delete_abandoned_uploads(15).await.unwrap(), 1);
    assert_eq!(store.photo_status("p1", &id).await.unwrap(), None);
    assert_eq!(store.photo_status("p2", &id).await.unwrap(), Some(PhotoStatus { received: 40_000, complete: false }));
    assert!(matches!(store.append_photo(part("p1", 40_000), &LIMITS, 30).await.unwrap(), PhotoAppend::Stored(_)), "starts again from 0");
    assert_eq!(store.delete_abandoned_uploads(15).await.unwrap(), 0, "uploads with a chunk since then stay");

    // Complete photos uploaded before the time given, not confirmed at their document's version.
    let a_seq = store.versions(&["a".into()]).await.unwrap()["a"].seq;
    let ours = |page: Vec<(String, String)>| page.into_iter().filter(|(_, p)| *p == photo_id_of_contract()).collect::<Vec<_>>();
    let candidates = ours(store.photos_to_check(100, 100).await.unwrap());
    let at = |doc: &str| (doc.to_string(), photo_id_of_contract());
    assert_eq!(candidates, [at("a"), at("c"), at("d")]);
    assert!(store.photos_to_check(1, 100).await.unwrap().is_empty(), "none uploaded before 1");
    assert_eq!(store.photos_to_check(100, 1).await.unwrap().len(), 1, "at most the limit");
    store.confirm_photo_references(&[("a".into(), photo_id_of_contract(), a_seq)]).await.unwrap();
    assert_eq!(ours(store.photos_to_check(100, 100).await.unwrap()), [at("c"), at("d")]);
    // "c" has no document: deleted only as such.
    assert!(!store.delete_unreferenced_photo("c", &photo_id_of_contract(), Some(1)).await.unwrap());
    assert!(store.delete_unreferenced_photo("c", &photo_id_of_contract(), None).await.unwrap());
    assert_eq!(store.photo("c", &photo_id_of_contract()).await.unwrap(), None);
    // A document that changed is read again; a deletion read against an older version does nothing.
    let a_next = write_one(store, put("a", Some(a_seq), b"+new", false)).await.unwrap();
    assert_eq!(ours(store.photos_to_check(100, 100).await.unwrap()), [at("a"), at("d")]);
    assert!(!store.delete_unreferenced_photo("a", &photo_id_of_contract(), Some(a_seq)).await.unwrap());
    assert!(store.photo("a", &photo_id_of_contract()).await.unwrap().is_some());
    assert!(store.delete_unreferenced_photo("a", &photo_id_of_contract(), Some(a_next)).await.unwrap());
    assert_eq!(store.photo("a", &photo_id_of_contract()).await.unwrap(), None);
    assert_eq!(store.photo_status("a", &photo_id_of_contract()).await.unwrap(), None);
    assert!(!store.delete_unreferenced_photo("p2", &id, None).await.unwrap(), "an upload in progress is not a complete photo");
}

/// Photos: appended chunk by chunk at the offset the upload stands at, complete only when the
/// bytes hash to the id, deleted when they do not.
async fn photos(store: &dyn Store) {
    let (id, bytes) = image(10_000, 0);
    assert_eq!(id, photo_id_of_contract());
    let total = bytes.len() as u64;
    let chunk = |offset: usize, end: usize| PhotoChunk {
        doc_id: "a".into(),
        id: id.clone(),
        content_type: "image/png".into(),
        offset: offset as u64,
        total,
        bytes: bytes[offset..end].to_vec(),
        by: "canbo".into(),
    };
    let status = |received, complete| PhotoStatus { received, complete };
    assert_eq!(store.photo_status("a", &id).await.unwrap(), None);
    assert_eq!(store.append_photo(chunk(100, 200), &LIMITS, 1).await.unwrap(), PhotoAppend::OutOfStep(status(0, false)), "a new upload starts at 0");
    assert_eq!(store.append_photo(chunk(0, 4_000), &LIMITS, 1).await.unwrap(), PhotoAppend::Stored(status(4_000, false)));
    assert_eq!(store.append_photo(chunk(0, 4_000), &LIMITS, 2).await.unwrap(), PhotoAppend::OutOfStep(status(4_000, false)), "a re-sent chunk");
    assert_eq!(store.append_photo(chunk(5_000, 6_000), &LIMITS, 2).await.unwrap(), PhotoAppend::OutOfStep(status(4_000, false)));
    assert_eq!(
        store.append_photo(PhotoChunk { total: total + 1, ..chunk(4_000, 5_000) }, &LIMITS, 2).await.unwrap(),
        PhotoAppend::WrongTotal(total)
    );
    assert_eq!(store.photo_status("a", &id).await.unwrap(), Some(status(4_000, false)));
    assert_eq!(store.photo("a", &id).await.unwrap(), None, "incomplete photos are not served");
    assert_eq!(store.append_photo(chunk(4_000, 8_000), &LIMITS, 3).await.unwrap(), PhotoAppend::Stored(status(8_000, false)));
    assert_eq!(store.append_photo(chunk(8_000, 10_000), &LIMITS, 4).await.unwrap(), PhotoAppend::Stored(status(total, true)));
    assert_eq!(store.photo("a", &id).await.unwrap(), Some(("image/png".to_string(), bytes.clone())));
    assert_eq!(store.append_photo(chunk(8_000, 10_000), &LIMITS, 5).await.unwrap(), PhotoAppend::OutOfStep(status(total, true)), "complete stays");
    assert_eq!(store.photo("b", &id).await.unwrap(), None, "photos belong to one document");

    // Damaged on the way: the last chunk does not make the id's bytes; the upload is gone.
    let mut damaged = chunk(0, 10_000);
    damaged.doc_id = "b".into();
    damaged.bytes[5] ^= 1;
    assert_eq!(store.append_photo(damaged, &LIMITS, 6).await.unwrap(), PhotoAppend::Corrupt);
    assert_eq!(store.photo_status("b", &id).await.unwrap(), None);
    assert_eq!(store.photo("b", &id).await.unwrap(), None);

    // Not an image (named right): refused when complete, the upload gone.
    let text = b"plain text, not a photo; ".repeat(400);
    let text_id = hex::encode(Sha256::digest(&text));
    let not_image = PhotoChunk { doc_id: "b".into(), id: text_id.clone(), offset: 0, total: text.len() as u64, bytes: text.clone(), ..chunk(0, 0) };
    assert!(matches!(store.append_photo(not_image, &LIMITS, 6).await.unwrap(), PhotoAppend::NotAnImage(reason) if reason.contains("không phải ảnh")));
    assert_eq!(store.photo_status("b", &text_id).await.unwrap(), None);
    // Stored as the type the bytes are, whatever the chunks claimed.
    let claimed = PhotoChunk { doc_id: "d".into(), content_type: "image/jpeg".into(), ..chunk(0, 10_000) };
    assert!(matches!(store.append_photo(claimed, &LIMITS, 6).await.unwrap(), PhotoAppend::Stored(PhotoStatus { complete: true, .. })));
    assert_eq!(store.photo("d", &id).await.unwrap().unwrap().0, "image/png");

    // Concurrent uploads of one photo (two devices): whatever the interleaving, it ends complete
    // and whole.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        tasks.push(async {
            let mut offset = 0;
            while offset < bytes.len() {
                let end = (offset + 1_000).min(bytes.len());
                let c = PhotoChunk { doc_id: "c".into(), ..chunk(offset, end) };
                match store.append_photo(c, &LIMITS, 7).await.unwrap() {
                    PhotoAppend::Stored(s) | PhotoAppend::OutOfStep(s) => offset = s.received as usize,
                    other => panic!("{other:?}"),
                }
            }
        });
    }
    futures_join_all(tasks).await;
    assert_eq!(store.photo_status("c", &id).await.unwrap(), Some(status(total, true)));
    assert_eq!(store.photo("c", &id).await.unwrap().unwrap().1, bytes);
}

/// Runs the futures concurrently on this task.
async fn futures_join_all<F: std::future::Future<Output = ()>>(tasks: Vec<F>) {
    let mut tasks: Vec<_> = tasks.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        tasks.retain_mut(|t| t.as_mut().poll(cx).is_pending());
        if tasks.is_empty() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
}

/// Many writers increment one counter document with compare-and-swap: no increment is lost,
/// and the feed's seqs are unique and increasing.
async fn concurrent_writers(store: Arc<dyn Store>) {
    write_one(store.as_ref(), put("counter", None, b"0", true)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for _ in 0..25 {
                loop {
                    let cur = store.load("counter").await.unwrap().unwrap();
                    let n: u64 = String::from_utf8(cur.bytes).unwrap().parse().unwrap();
                    match write_one(store.as_ref(), put("counter", Some(cur.seq), (n + 1).to_string().as_bytes(), true)).await {
                        Ok(seq) => {
                            seqs.push(seq);
                            break;
                        }
                        Err(StoreError::Conflict) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            seqs
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for seq in t.await.unwrap() {
            assert!(all.insert(seq), "seq {seq} given twice");
        }
    }
    let last = store.load("counter").await.unwrap().unwrap();
    assert_eq!(String::from_utf8(last.bytes).unwrap(), "200");
    assert_eq!(last.seq, *all.iter().max().unwrap());
}

/// Several processes create the same new document at once (two phones pushing one model, each
/// to another server): exactly one creation wins, the others get a conflict (and are redone
/// against the stored copy), and nothing overwrites the winner.
async fn racing_creators(stores: Vec<Arc<dyn Store>>) {
    // Many rounds, each a new document created by several writers at the same moment: a race
    // that is lost only sometimes per round is lost in some round.
    for round in 0..40 {
        let id = format!("fresh-{round}");
        let start = Arc::new(tokio::sync::Barrier::new(4));
        let mut tasks = Vec::new();
        for i in 0..4 {
            let (store, start, id) = (stores[i % stores.len()].clone(), start.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let bytes = format!("creator {i}");
                start.wait().await;
                (bytes.clone(), write_one(store.as_ref(), put(&id, None, bytes.as_bytes(), true)).await)
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (bytes, Ok(seq)) => won.push((bytes, seq)),
                (_, Err(StoreError::Conflict)) => {}
                (_, Err(e)) => panic!("{e}"),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: one creation wins: {won:?}");
        let stored = stores[0].load(&id).await.unwrap().unwrap();
        assert_eq!((String::from_utf8(stored.bytes).unwrap(), stored.seq), won[0], "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
    contract(&store).await;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("other.sqlite3")).unwrap());
    concurrent_writers(store.clone()).await;
    racing_creators(vec![store]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_the_store_contract() {
    let Some(url) = fresh_postgres().await else { return };
    let store = PostgresStore::connect(&url).await.unwrap();
    contract(&store).await;
    // A second connection (another server process) sees the same identity and data.
    let other = PostgresStore::connect(&url).await.unwrap();
    assert_eq!(other.server_id(), store.server_id());
    assert_eq!(other.count().await.unwrap(), 5);
    let url = fresh_postgres().await.unwrap();
    concurrent_writers(Arc::new(PostgresStore::connect(&url).await.unwrap())).await;
    // Two processes over one database.
    let url = fresh_postgres().await.unwrap();
    let mut processes: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..4 {
        processes.push(Arc::new(PostgresStore::connect(&url).await.unwrap()));
    }
    racing_creators(processes).await;
}

#[test]
fn test_database_urls_keep_host_user_and_options() {
    assert_eq!(admin_url_with_db("postgres://u@127.0.0.1:5433/postgres", "x"), "postgres://u@127.0.0.1:5433/x");
    assert_eq!(admin_url_with_db("postgres://u@127.0.0.1:5433", "x"), "postgres://u@127.0.0.1:5433/x");
    assert_eq!(admin_url_with_db("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
}

/// Two server processes' worth of state (two stores, two routers) over one database: clients of
/// either see everything, and concurrent pushes of the same model through both merge.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_over_one_postgres_serve_the_same_clients() {
    use danvan::sync::memory::MemoryReplica;

    let Some(url) = fresh_postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (start_with(postgres_config(dir.path(), &url)).await, start_with(postgres_config(dir.path(), &url)).await);

    let seed = MemoryReplica::new();
    for i in 0..30 {
        let id = format!("m{i}");
        seed.put_local(&id, &mut new_model(&id, &format!("Mô hình {i}")));
    }
    sync(&seed, &one).await;

    // Clients of the other server get everything, then edit the same models concurrently.
    let (a, b) = (MemoryReplica::new(), MemoryReplica::new());
    sync(&a, &one).await;
    sync(&b, &two).await;
    assert_eq!(b.ids().len(), 30);
    for i in 0..30 {
        let id = format!("m{i}");
        edit(&a, &id, |m| m.owner_name = format!("Chủ thể A{i}"));
        edit(&b, &id, |m| m.name = format!("Mô hình B{i}"));
    }
    let (ra, rb) = tokio::join!(sync(&a, &one), sync(&b, &two));
    assert_eq!((ra.pending, rb.pending), (0, 0));
    sync(&a, &one).await;
    sync(&b, &two).await;
    let c = MemoryReplica::new();
    sync(&c, &two).await;
    for i in 0..30 {
        let id = format!("m{i}");
        let (ma, mb, mc) = (model(&a, &id), model(&b, &id), model(&c, &id));
        assert_eq!(ma, mb);
        assert_eq!(mb, mc);
        assert_eq!(mc.owner_name, format!("Chủ thể A{i}"));
        assert_eq!(mc.name, format!("Mô hình B{i}"));
    }
}

/// The photo id the contract's `photos` uploads under documents "a", "c" and "d".
fn photo_id_of_contract() -> String {
    image(10_000, 0).0
}

/// Where a contract test reaches the database behind the store, to change it as an older
/// version or an operator would have left it.
enum Database {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Database {
    async fn execute(&self, sql: &str) {
        match self {
            Database::Sqlite(path) => {
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
            }
            Database::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                client.batch_execute(sql).await.unwrap();
            }
        }
    }
}

/// A model document written as the server writes it: whole, with its facts.
async fn facts_of(store: &dyn Store, id: &str) -> StoredFacts {
    let mut rows = store.facts_of(&[id.to_string()]).await.unwrap();
    assert_eq!(rows.len(), 1, "{id}");
    rows.remove(0).facts
}

/// The facts table: written with every document write (an edit, a lifecycle step, a
/// commendation, a replication), read back by seq and by id, and filled again from the documents
/// by the backfill when it is wiped or of an older format.
async fn report_facts(store: &dyn Store, db: &Database) {
    use danvan::domain::{Action, Commendation, Model, Replication, Transition};
    let mut m = Model::new("rf1".into(), "a", 1_700_000_000_000);
    m.name = "Mô hình dân vận khéo".into();
    m.unit = "BANBO".into();
    m.year = 2023;
    m.field = "kinh_te".into();
    let mut seq = write_one(store, model_write(&m, None)).await.unwrap();
    assert_eq!(facts_of(store, "rf1").await, StoredFacts::Model(Box::new(ModelFacts::of(&m))), "facts of a new model");
    type Change = Box<dyn Fn(&mut Model)>;
    let mut changes: Vec<(&str, Change)> = vec![
        ("an edit", Box::new(|m: &mut Model| m.name = "Mô hình đổi tên".into())),
        ("a lifecycle step", Box::new(|m: &mut Model| {
            m.transitions.push(Transition { id: "t1".into(), action: Action::Start.code().into(), by: "a".into(), by_name: "A".into(), at: 1_700_100_000_000, reason: String::new(), level: String::new() })
        })),
        ("a commendation", Box::new(|m: &mut Model| {
            m.commendations.push(Commendation { id: "k1".into(), form: "giay_khen".into(), issuer: "UBND".into(), level: "huyen".into(), decision_number: "1/QĐ".into(), decision_date: "2024-03-01".into(), recipients: String::new(), by: "r".into(), by_name: "R".into(), at: 1_709_300_000_000 })
        })),
        ("a replication", Box::new(|m: &mut Model| {
            m.replications.push(Replication { id: "rf2".into(), unit: "TRUONGSON".into(), unit_name: "Xã Trường Sơn".into(), by: "c".into(), by_name: "C".into(), at: 1_710_000_000_000 })
        })),
    ];
    for (what, change) in changes.drain(..) {
        change(&mut m);
        seq = write_one(store, model_write(&m, Some(seq))).await.unwrap();
        let StoredFacts::Model(f) = facts_of(store, "rf1").await else { panic!("facts after {what}") };
        assert_eq!(*f, ModelFacts::of(&m), "facts right after {what}");
    }
    let f = ModelFacts::of(&m);
    assert_eq!((f.name.as_str(), f.steps.len(), f.commendations.len(), f.replications.len()), ("Mô hình đổi tên", 1, 1, 1));

    // A document that is not a model has a row saying so; the feed of facts is in seq order.
    let not_a_model = Write { facts: None, ..put_in("BANBO", "rf-other", None, &automerge::AutoCommit::new().save(), true) };
    let other_seq = write_one(store, not_a_model).await.unwrap();
    assert_eq!(facts_of(store, "rf-other").await, StoredFacts::NotAModel);
    let since = store.facts_since(seq - 1, 100).await.unwrap();
    assert_eq!(since.iter().map(|r| (r.id.as_str(), r.seq)).collect::<Vec<_>>(), [("rf1", seq), ("rf-other", other_seq)]);
    assert_eq!(since[0].unit, "BANBO");
    assert_eq!(store.facts_since(other_seq - 1, 1).await.unwrap().len(), 1);
    assert!(store.facts_since(other_seq, 100).await.unwrap().is_empty());
    assert!(store.stale_facts(100).await.unwrap().iter().all(|id| !id.starts_with("rf")), "nothing of these is stale");

    // Wiped (as a store from before migration 0009 is): missing until the backfill reads the
    // documents again; afterwards exactly what the writes had stored.
    let before = store.facts_of(&["rf1".into(), "rf-other".into()]).await.unwrap();
    db.execute("DELETE FROM report_facts").await;
    assert_eq!(facts_of(store, "rf1").await, StoredFacts::Missing);
    let stale = store.stale_facts(100_000).await.unwrap();
    assert!(stale.contains(&"rf1".to_string()) && stale.contains(&"rf-other".to_string()));
    // A report asked before the backfill reads the missing facts from the documents.
    let cache = danvan::server::routes::reports::FactsCache::default();
    let (_, seen) = cache.current(store, |unit| unit == "BANBO").await.unwrap();
    assert_eq!(seen.iter().map(|f| ModelFacts::clone(f)).collect::<Vec<_>>(), [ModelFacts::of(&m)], "right before the backfill");
    assert_eq!(store.stale_facts(100_000).await.unwrap(), stale, "reading them did not need the backfill");
    let filled = danvan::server::routes::reports::backfill(store).await.unwrap();
    assert_eq!(filled, stale.len());
    assert_eq!(store.facts_of(&["rf1".into(), "rf-other".into()]).await.unwrap(), before, "the backfill restores the table");
    assert!(store.stale_facts(100).await.unwrap().is_empty());

    // Facts of an older format are read again too.
    db.execute("UPDATE report_facts SET format = 0").await;
    assert_eq!(facts_of(store, "rf1").await, StoredFacts::Missing);
    danvan::server::routes::reports::backfill(store).await.unwrap();
    assert_eq!(facts_of(store, "rf1").await, StoredFacts::Model(Box::new(f.clone())));

    // The backfill never replaces the facts of a newer write than it read.
    m.name = "Tên mới nhất".into();
    let newest = write_one(store, model_write(&m, Some(seq))).await.unwrap();
    let late = BackfilledFacts { id: "rf1".into(), seq, unit: "BANBO".into(), facts: Some(f) };
    assert_eq!(store.put_facts(vec![late]).await.unwrap(), 0);
    assert_eq!(facts_of(store, "rf1").await, StoredFacts::Model(Box::new(ModelFacts::of(&m))));
    assert!(newest > seq);

    // When each unit's devices last synced: the latest time is kept.
    store.record_syncs(&units(&["BANBO"]), 5_000).await.unwrap();
    store.record_syncs(&units(&["BANBO", "HA"]), 3_000).await.unwrap();
    store.record_syncs(&units(&["HA"]), 9_000).await.unwrap();
    store.record_syncs(&[], 9_000).await.unwrap();
    let last = store.last_syncs(&units(&["BANBO", "HA", "DUCLONG"])).await.unwrap();
    assert_eq!(last, std::collections::HashMap::from([("BANBO".to_string(), 5_000), ("HA".to_string(), 9_000)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_the_report_facts_with_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    report_facts(&store, &Database::Sqlite(path)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_the_report_facts_with_the_documents() {
    let Some(url) = fresh_postgres().await else { return };
    let store = PostgresStore::connect(&url).await.unwrap();
    report_facts(&store, &Database::Postgres(url)).await;
}
