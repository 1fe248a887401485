//! Attacks on the records, as a modified client would make them, through the real server: each
//! one was accepted before the server's rules compared lists by position and id, ordered steps
//! by what their writer had seen, bounded what a change may contain and read every document it
//! takes as the app would.

mod common;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};
use common::*;
use danvan::domain::{Action, Status, Transition};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{SessionReport, run_session};

async fn sync_as(replica: &MemoryReplica, server: &Server, user: &str) -> SessionReport {
    run_session(replica, &Http::as_user(server, user), &mut ()).await.expect("sync succeeds")
}

fn step(id: &str, action: Action, by: &str, at: i64, reason: &str) -> Transition {
    let level = if action == Action::MarkExemplary { "trung_uong" } else { "" };
    Transition { id: id.into(), action: action.code().into(), by: by.into(), by_name: format!("Người dùng {by}"), at, reason: reason.into(), level: level.into() }
}

fn record(replica: &MemoryReplica, id: &str, t: Transition) {
    edit(replica, id, |m| m.transitions.push(t));
}

fn rejected<'a>(report: &'a SessionReport, id: &str) -> &'a str {
    report.rejected.get(id).map(String::as_str).unwrap_or_else(|| panic!("{id} was accepted: {report:?}"))
}

/// Bản Bo's cadre `a` registers, starts (step "start") and proposes (step "propose") model "m";
/// the reviewer's replica holds it.
async fn proposed() -> (tempfile::TempDir, Server, MemoryReplica, MemoryReplica) {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let (a, r) = (MemoryReplica::new(), MemoryReplica::new());
    a.put_local("m", &mut new_model("m", "Hũ gạo tình thương"));
    record(&a, "m", step("start", Action::Start, "a", 1_000, ""));
    record(&a, "m", step("propose", Action::Propose, "a", 2_000, ""));
    assert!(sync_as(&a, &server, "a").await.rejected.is_empty());
    sync_as(&r, &server, "r").await;
    (dir, server, a, r)
}

async fn status_on_server(server: &Server, user: &str) -> Status {
    let fresh = MemoryReplica::new();
    sync_as(&fresh, server, user).await;
    model(&fresh, "m").status
}

#[tokio::test]
async fn a_step_under_the_id_of_an_earlier_step_is_refused_whoever_it_names() {
    let (_dir, server, a, _r) = proposed().await;
    // The cadre's own "bắt đầu" id reused for a recognition in the reviewer's name, then for
    // "điển hình cấp Trung ương" and "khen thưởng" in the administrator's.
    for (action, by) in [(Action::Recognise, "r"), (Action::MarkExemplary, "admin"), (Action::Commend, "admin"), (Action::Recognise, "a")] {
        let forger = MemoryReplica::new();
        sync_as(&forger, &server, "a").await;
        record(&forger, "m", step("start", action, by, 3_000, ""));
        let report = sync_as(&forger, &server, "a").await;
        assert!(rejected(&report, "m").contains("cùng mã"), "{report:?}");
    }
    // A forged commendation under the id of… nothing yet, and under a real one's: the first is
    // refused for its role, the second for its id.
    edit(&a, "m", |m| {
        m.commendations.push(danvan::domain::CommendationDraft {
            form: "bang_khen".into(),
            issuer: "Ban Thường vụ Tỉnh ủy".into(),
            level: "tinh".into(),
            decision_number: "1-QĐ/TU".into(),
            decision_date: "2026-01-02".into(),
            recipients: String::new(),
        }.record("c1".into(), "admin", "Quản trị", 3_000))
    });
    assert!(rejected(&sync_as(&a, &server, "a").await, "m").contains("bình xét"));
    assert_eq!(status_on_server(&server, "b").await, Status::Proposed, "nothing forged reached the server");
}

#[tokio::test]
async fn a_step_dated_before_what_its_writer_had_seen_is_refused() {
    let (_dir, server, a, r) = proposed().await;
    record(&r, "m", step("rec", Action::Recognise, "r", 50_000, ""));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    // The cadre receives the recognition, then back-dates a stop between two earlier steps, and
    // to 1970: replayed by date either would put the model out of the library.
    sync_as(&a, &server, "a").await;
    assert_eq!(model(&a, "m").status, Status::Recognised);
    for (id, at) in [("stop-1", 1_500), ("stop-2", 0), ("stop-3", -86_400_000)] {
        let attacker = MemoryReplica::new();
        sync_as(&attacker, &server, "a").await;
        record(&attacker, "m", step(id, Action::Stop, "a", at, "Dừng."));
        let report = sync_as(&attacker, &server, "a").await;
        assert!(rejected(&report, "m").contains("ghi lùi ngày"), "{at}: {report:?}");
    }
    // Dated a day ahead of the server's clock (it would sort after every later step): refused.
    let ahead = danvan::server::now_ms() + 24 * 3600 * 1000;
    let attacker = MemoryReplica::new();
    sync_as(&attacker, &server, "a").await;
    record(&attacker, "m", step("later", Action::Stop, "a", ahead, "Dừng."));
    assert!(rejected(&sync_as(&attacker, &server, "a").await, "m").contains("giờ máy chủ"));
    assert_eq!(status_on_server(&server, "b").await, Status::Recognised);
}

#[tokio::test]
async fn two_people_offline_at_once_keep_both_steps_and_their_clocks_decide() {
    let (_dir, server, a, r) = proposed().await;
    // Neither has seen the other's step: the cadre stops at 45 s, the reviewer recognises at 50 s.
    record(&a, "m", step("stop", Action::Stop, "a", 45_000, "Hết kinh phí."));
    record(&r, "m", step("rec", Action::Recognise, "r", 50_000, ""));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    let report = sync_as(&a, &server, "a").await;
    assert!(report.rejected.is_empty(), "a concurrent step dated before another is legitimate: {report:?}");
    sync_as(&r, &server, "r").await;
    for m in [model(&a, "m"), model(&r, "m")] {
        assert_eq!(m.transitions.len(), 4);
        assert_eq!(m.status, Status::Stopped, "the earlier stop applies, the recognition after it does not");
    }
}

/// A chain of maps `depth` deep, written under `key` of a new entry of the root list `list`.
fn nest(doc: &mut AutoCommit, list: &str, depth: usize) {
    let list = match doc.get(ROOT, list).unwrap() {
        Some((_, id)) => id,
        None => doc.put_object(ROOT, list, ObjType::List).unwrap(),
    };
    let len = doc.length(&list);
    let mut obj = doc.insert_object(&list, len, ObjType::Map).unwrap();
    for _ in 0..depth {
        obj = doc.put_object(&obj, "x", ObjType::Map).unwrap();
    }
    doc.put(&obj, "x", "y").unwrap();
    doc.commit();
}

#[tokio::test]
async fn a_deeply_nested_change_is_refused_before_any_costly_work() {
    let (_dir, server, a, r) = proposed().await;
    record(&r, "m", step("rec", Action::Recognise, "r", 50_000, ""));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    // Recognised: in the library, so Đức Long's cadre reads it and may add replication points.
    let d = MemoryReplica::new();
    sync_as(&d, &server, "d").await;
    let mut doc = d.doc("m").expect("the library model reached Đức Long");
    nest(&mut doc, "replications", 5_000);
    d.put_local("m", &mut doc);
    let started = std::time::Instant::now();
    let report = sync_as(&d, &server, "d").await;
    assert!(rejected(&report, "m").contains("lồng nhau quá sâu"), "{report:?}");
    eprintln!("refused a 5,000-deep replication point in {:?}", started.elapsed());
    // The same from the unit's own cadre, in the journal: refused too.
    let mut doc = a.doc("m").unwrap();
    nest(&mut doc, "journal", 100);
    a.put_local("m", &mut doc);
    assert!(rejected(&sync_as(&a, &server, "a").await, "m").contains("lồng nhau quá sâu"));
    // And the server still serves everyone.
    assert_eq!(status_on_server(&server, "b").await, Status::Recognised);
}

#[tokio::test]
async fn a_document_the_app_cannot_read_is_refused() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let a = MemoryReplica::new();
    // A foreign peer writes the name as Text (a JS string) where the schema has a scalar string.
    let mut doc = new_model("m", "Dân vận khéo");
    doc.put_object(ROOT, "name", ObjType::Text).unwrap();
    doc.commit();
    assert!(danvan::doc::read_model(&doc).is_err(), "the app's reader refuses it");
    a.put_local("m", &mut doc);
    let report = sync_as(&a, &server, "a").await;
    assert!(rejected(&report, "m").contains("không đúng cấu trúc"), "{report:?}");
    // The same damage as a change to a stored model.
    let b = MemoryReplica::new();
    b.put_local("n", &mut new_model("n", "Mô hình tốt"));
    assert!(sync_as(&b, &server, "b").await.rejected.is_empty());
    let mut doc = b.doc("n").unwrap();
    doc.put(ROOT, "year", "hai nghìn").unwrap();
    doc.commit();
    b.put_local("n", &mut doc);
    assert!(rejected(&sync_as(&b, &server, "b").await, "n").contains("không đúng cấu trúc"));
    let c = MemoryReplica::new();
    sync_as(&c, &server, "a").await;
    assert_eq!(c.ids(), ["n"], "only the readable model is on the server");
}

#[tokio::test]
async fn another_units_document_is_answered_like_one_that_does_not_exist() {
    let (_dir, server, a, _r) = proposed().await;
    // Đức Long's cadre knows the id of Bản Bo's proposed model (not in the library) and of
    // nothing; it asks for both the way a device asks for a document it lacks.
    let known = a.doc("m").unwrap();
    let d = MemoryReplica::new();
    for id in ["m", "00000000-0000-4000-8000-000000000000"] {
        let mut empty = AutoCommit::new();
        let mut state = automerge::sync::State::new();
        let message = automerge::sync::SyncDoc::generate_sync_message(&mut empty.sync(), &mut state).unwrap().encode();
        let request = danvan::sync::SyncRequest {
            protocol: danvan::sync::PROTOCOL,
            server: None,
            cursor: 0,
            feed_budget: None,
            scope: 0,
            docs: vec![danvan::sync::DocMessage { id: id.into(), message, document: None }],
        };
        let response = danvan::sync::session::Transport::post(&Http::as_user(&server, "d"), &request).await.unwrap();
        assert!(response.errors.is_empty(), "{id}: {:?}", response.errors);
        assert_eq!(response.docs.len(), 1, "{id}: a reply, as for any id");
        assert_eq!(response.docs[0].message.len(), response_for_nothing(), "{id}: the same reply");
    }
    drop((known, d));
}

/// The size of the server's reply to an empty replica's first message about a document the
/// server does not have.
fn response_for_nothing() -> usize {
    let mut empty = AutoCommit::new();
    let mut client = automerge::sync::State::new();
    let message = automerge::sync::SyncDoc::generate_sync_message(&mut empty.sync(), &mut client).unwrap().encode();
    let mut server_doc = AutoCommit::new();
    danvan::sync::server_step(&mut server_doc, &message).unwrap().reply.unwrap().len()
}

#[tokio::test]
async fn the_activity_log_keeps_every_entry_as_its_cadre_wrote_it() {
    let (_dir, server, a, _r) = proposed().await;
    let entry = danvan::domain::JournalEntry {
        id: "j1".into(),
        date: "2026-11-30".into(),
        text: "Họp dân bàn cách làm.".into(),
        updates: Vec::new(),
        photos: Vec::new(),
        location: None,
        place: "Bản Bó".into(),
        by: "a".into(),
        by_name: "Người dùng a".into(),
        at: 3_000,
    };
    edit(&a, "m", |m| m.journal.push(entry.clone()));
    assert!(sync_as(&a, &server, "a").await.rejected.is_empty());
    // Another cadre of the unit rewrites it, or writes one in a's name.
    let b = MemoryReplica::new();
    sync_as(&b, &server, "b").await;
    edit(&b, "m", |m| m.journal[0].text = "Không có cuộc họp nào.".into());
    assert!(rejected(&sync_as(&b, &server, "b").await, "m").contains("sửa hay xóa"));
    let b2 = MemoryReplica::new();
    sync_as(&b2, &server, "b").await;
    edit(&b2, "m", |m| m.journal.push(danvan::domain::JournalEntry { id: "j2".into(), ..entry.clone() }));
    assert!(rejected(&sync_as(&b2, &server, "b").await, "m").contains("chính người"));
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &server, "a").await;
    assert_eq!(model(&fresh, "m").journal, [entry]);
}
