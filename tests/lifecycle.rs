//! The lifecycle through the real server: reviewers record their steps on models of their subtree
//! and nothing else; cadres theirs; the log only grows, under each user's own name; offline steps
//! that race end in a state the rules allow, the same on every device.

mod common;

use common::*;
use danvan::domain::{Action, Status, Transition};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;

async fn sync_as(replica: &MemoryReplica, server: &Server, user: &str) -> danvan::sync::session::SessionReport {
    run_session(replica, &Http::as_user(server, user), &mut ()).await.expect("sync succeeds")
}

fn step(id: &str, action: Action, by: &str, at: i64, reason: &str) -> Transition {
    let level = if action == Action::MarkExemplary { "huyen" } else { "" };
    Transition { id: id.into(), action: action.code().into(), by: by.into(), by_name: format!("Người dùng {by}"), at, reason: reason.into(), level: level.into() }
}

fn record(replica: &MemoryReplica, id: &str, t: Transition) {
    edit(replica, id, |m| m.transitions.push(t));
}

/// Bản Bo's cadre registers a model, starts it and proposes it; the district reviewer has it.
async fn proposed() -> (tempfile::TempDir, Server, MemoryReplica, MemoryReplica) {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let (a, r) = (MemoryReplica::new(), MemoryReplica::new());
    a.put_local("m", &mut new_model("m", "Hũ gạo tình thương"));
    record(&a, "m", step("1", Action::Start, "a", 1_000, ""));
    record(&a, "m", step("2", Action::Propose, "a", 2_000, ""));
    let report = sync_as(&a, &server, "a").await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    sync_as(&r, &server, "r").await;
    assert_eq!(model(&r, "m").status, Status::Proposed);
    (dir, server, a, r)
}

#[tokio::test]
async fn a_reviewer_returns_and_recognises_and_the_cadre_sees_each_step() {
    let (_dir, server, a, r) = proposed().await;
    record(&r, "m", step("3", Action::Return, "r", 3_000, "Thiếu số liệu hộ tham gia."));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    sync_as(&a, &server, "a").await;
    assert_eq!(model(&a, "m").status, Status::Returned);
    edit(&a, "m", |m| m.name = "Hũ gạo tình thương (bổ sung số liệu)".into());
    record(&a, "m", step("4", Action::Propose, "a", 4_000, ""));
    assert!(sync_as(&a, &server, "a").await.rejected.is_empty());
    sync_as(&r, &server, "r").await;
    record(&r, "m", step("5", Action::Recognise, "r", 5_000, ""));
    record(&r, "m", step("6", Action::MarkExemplary, "r", 6_000, ""));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    sync_as(&a, &server, "a").await;
    let m = model(&a, "m");
    assert_eq!(m.status, Status::Exemplary);
    assert_eq!(m.transitions.len(), 6);
    assert_eq!(m.name, "Hũ gạo tình thương (bổ sung số liệu)");
}

#[tokio::test]
async fn each_side_may_record_only_its_own_steps_under_its_own_name() {
    let (_dir, server, a, r) = proposed().await;
    // The cadre recognises their own model.
    record(&a, "m", step("x1", Action::Recognise, "a", 3_000, ""));
    let report = sync_as(&a, &server, "a").await;
    assert!(report.rejected["m"].contains("không có quyền"), "{:?}", report.rejected);

    // The reviewer records a step in the cadre's name, then edits the content.
    let r2 = MemoryReplica::new();
    sync_as(&r2, &server, "r").await;
    record(&r2, "m", step("x2", Action::Recognise, "a", 3_000, ""));
    assert!(sync_as(&r2, &server, "r").await.rejected["m"].contains("chính người"));
    let r3 = MemoryReplica::new();
    sync_as(&r3, &server, "r").await;
    edit(&r3, "m", |m| m.owner_name = "Sửa bởi người bình xét".into());
    assert!(sync_as(&r3, &server, "r").await.rejected["m"].contains("chỉ ghi các bước bình xét"));

    // Nobody rewrites the past, not even the model's own cadres.
    let b = MemoryReplica::new();
    sync_as(&b, &server, "b").await;
    edit(&b, "m", |m| m.transitions[0].reason = "viết lại".into());
    assert!(sync_as(&b, &server, "b").await.rejected["m"].contains("sửa hay xóa"));

    // The reviewer's own step, under their own name, goes through.
    record(&r, "m", step("ok", Action::Return, "r", 3_500, "Cần ảnh minh chứng."));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &server, "b").await;
    let m = model(&fresh, "m");
    assert_eq!(m.status, Status::Returned);
    assert_eq!(m.owner_name, "Khối Dân vận xã", "the refused content edit never reached the server");
    assert_eq!(m.transitions.len(), 3);
}

#[tokio::test]
async fn racing_offline_steps_end_in_an_allowed_state_everywhere() {
    let (_dir, server, a, r) = proposed().await;
    // Both offline: the reviewer recognises at t=50 s, the cadre stops the model at t=55 s.
    record(&r, "m", step("rec", Action::Recognise, "r", 50_000, ""));
    record(&a, "m", step("stop", Action::Stop, "a", 55_000, "Hết kinh phí."));
    // Either order of arrival gives the same result.
    assert!(sync_as(&a, &server, "a").await.rejected.is_empty());
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    sync_as(&a, &server, "a").await;
    let (ma, mr) = (model(&a, "m"), model(&r, "m"));
    assert_eq!(ma.transitions.len(), 4, "both steps are kept");
    for m in [&ma, &mr] {
        assert_eq!(m.status, Status::Recognised, "a stop after recognition does not apply");
        let (_, steps) = danvan::domain::replay(&m.transitions);
        let skipped: Vec<&str> = steps.iter().filter(|s| s.to.is_none()).map(|s| s.transition.id.as_str()).collect();
        assert_eq!(skipped, ["stop"]);
    }
}

#[tokio::test]
async fn commendations_are_recorded_by_the_reviewers_above_and_never_rewritten() {
    let (_dir, server, a, r) = proposed().await;
    record(&r, "m", step("3", Action::Recognise, "r", 3_000, ""));
    let draft = danvan::domain::CommendationDraft {
        form: "bang_khen".into(),
        issuer: "Ban Thường vụ Tỉnh ủy".into(),
        level: "tinh".into(),
        decision_number: "125-QĐ/TU".into(),
        decision_date: "2025-11-20".into(),
        recipients: String::new(),
    };
    edit(&r, "m", |m| m.commendations.push(draft.record("c1".into(), "r", "Người bình xét", 4_000)));
    record(&r, "m", step("4", Action::Commend, "r", 5_000, ""));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    sync_as(&a, &server, "a").await;
    let m = model(&a, "m");
    assert_eq!((m.status, m.commendations.len()), (Status::Commended, 1));

    // The model's own cadre cannot award themselves, nor change a decision on record.
    edit(&a, "m", |m| m.commendations.push(draft.record("c2".into(), "a", "Cán bộ A", 6_000)));
    assert!(sync_as(&a, &server, "a").await.rejected["m"].contains("bình xét"));
    let b = MemoryReplica::new();
    sync_as(&b, &server, "b").await;
    edit(&b, "m", |m| m.commendations[0].decision_number = "999-QĐ/TU".into());
    assert!(sync_as(&b, &server, "b").await.rejected["m"].contains("sửa hay xóa"));
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &server, "r").await;
    assert_eq!(model(&fresh, "m").commendations[0].decision_number, "125-QĐ/TU");
}

fn add_point(replica: &MemoryReplica, p: danvan::domain::Replication) {
    let mut d = replica.doc("m").unwrap();
    let mut m = danvan::doc::read_model(&d).unwrap();
    m.replications.push(p);
    danvan::doc::write_keys(&mut d, &m, &["replications"], 5_000, "ghi điểm nhân rộng").unwrap();
    replica.put_local("m", &mut d);
}

fn point(id: &str, unit: &str, by: &str) -> danvan::domain::Replication {
    danvan::domain::Replication { id: id.into(), unit: unit.into(), unit_name: unit.into(), by: by.into(), by_name: by.into(), at: 5_000 }
}

#[tokio::test]
async fn a_recognised_model_is_read_everywhere_and_others_may_only_add_their_own_replication_points() {
    let (_dir, server, a, r) = proposed().await;
    // Đức Long is in another district: nothing of Bản Bo's reaches it while the model is proposed.
    let d = MemoryReplica::new();
    sync_as(&d, &server, "d").await;
    assert!(d.doc("m").is_none(), "a proposed model stays within its tree");
    record(&r, "m", step("3", Action::Recognise, "r", 3_000, ""));
    assert!(sync_as(&r, &server, "r").await.rejected.is_empty());
    sync_as(&d, &server, "d").await;
    assert_eq!(model(&d, "m").status, Status::Recognised, "recognised: in the library, read by everyone");

    // Read-only: content, evaluations and points for units one does not write are refused.
    let tries: [(&str, Box<dyn FnOnce(&mut danvan::domain::Model)>, &str); 2] = [
        ("content", Box::new(|m| m.name = "Đổi tên".into()), "chỉ được xem và ghi điểm nhân rộng"),
        ("lifecycle", Box::new(|m| m.transitions.push(step("x", Action::Commend, "d", 4_000, ""))), "chỉ được xem và ghi điểm nhân rộng"),
    ];
    for (what, change, expected) in tries {
        let copy = MemoryReplica::new();
        sync_as(&copy, &server, "d").await;
        edit(&copy, "m", change);
        let report = sync_as(&copy, &server, "d").await;
        assert!(report.rejected.get("m").is_some_and(|e| e.contains(expected)), "{what}: {:?}", report.rejected);
    }
    // A point for a unit one does not write is refused; one's own is taken and reaches the
    // model's unit. (Written as the app does: only the list, see `doc::write_keys`.)
    let copy = MemoryReplica::new();
    sync_as(&copy, &server, "d").await;
    add_point(&copy, point("n1", "BANBO", "d"));
    let report = sync_as(&copy, &server, "d").await;
    assert!(report.rejected.get("m").is_some_and(|e| e.contains("đơn vị BANBO")), "{:?}", report.rejected);
    add_point(&d, point("n2", "DUCLONG", "d"));
    let report = sync_as(&d, &server, "d").await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    sync_as(&a, &server, "a").await;
    assert_eq!(model(&a, "m").replications, vec![point("n2", "DUCLONG", "d")]);
    // A model not recognised (still registered) of Bản Bo stays unreadable to Đức Long.
    a.put_local("m2", &mut new_model("m2", "Chưa công nhận"));
    sync_as(&a, &server, "a").await;
    sync_as(&d, &server, "d").await;
    assert!(d.doc("m2").is_none());
}
