//! Who may see and change what, enforced by the real server over HTTP, with several users on
//! several units (the test tree and accounts are in `common`: `a`, `b` cadres of Bản Bo, `c` of
//! Trường Sơn, `d` of Đức Long, `r` reviewer of the Hà Quảng district, `admin` of the province).

mod common;

use automerge::AutoCommit;
use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use common::*;
use danvan::server::password::hash_password;
use danvan::server::store::{AccountStore, Session, SqliteStore};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;
use danvan::sync::{DocMessage, FailureCode, PROTOCOL, SyncRequest, SyncResponse};
use serde_json::{Value, json};

async fn sync_as(replica: &MemoryReplica, server: &Server, user: &str) -> danvan::sync::session::SessionReport {
    run_session(replica, &Http::as_user(server, user), &mut ()).await.expect("sync succeeds")
}

/// One raw sync request as `token` (no session logic: what a hostile client can send).
async fn raw_sync(server: &Server, token: &str, docs: Vec<DocMessage>) -> (u16, Option<SyncResponse>) {
    let req = SyncRequest { protocol: PROTOCOL, server: None, cursor: 0, scope: 0, feed_budget: Some(0), docs };
    let res = reqwest::Client::new()
        .post(format!("{}/api/sync", server.url))
        .bearer_auth(token)
        .header("content-type", danvan::sync::CONTENT_TYPE)
        .body(danvan::sync::encode(&req))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    (status, danvan::sync::decode(&body).ok())
}

/// The whole document pushed as a never-synced replica would push it.
fn whole(id: &str, doc: &mut AutoCommit) -> DocMessage {
    let mut state = automerge::sync::State::new();
    danvan::sync::session::assume_server_holds(&mut state, doc.get_heads());
    let message = doc.sync().generate_sync_message(&mut state).unwrap().encode();
    DocMessage { id: id.into(), message, document: Some(doc.save()) }
}

async fn api(method: reqwest::Method, server: &Server, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Three units' cadres each register a model; returns the server and the three replicas.
async fn three_units() -> (tempfile::TempDir, Server, [MemoryReplica; 3]) {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let replicas = [MemoryReplica::new(), MemoryReplica::new(), MemoryReplica::new()];
    for ((replica, user), unit) in replicas.iter().zip(["a", "c", "d"]).zip(["BANBO", "TRUONGSON", "DUCLONG"]) {
        let id = format!("m-{unit}");
        replica.put_local(&id, &mut new_model_in(&id, &format!("Mô hình của {unit}"), unit));
        let report = sync_as(replica, &server, user).await;
        assert_eq!((report.pending, report.rejected.len()), (0, 0), "{user} registers in their own unit");
    }
    (dir, server, replicas)
}

#[tokio::test]
async fn everyone_receives_exactly_what_they_may_read() {
    let (_dir, server, _) = three_units().await;
    for (user, expected) in [
        ("a", vec!["m-BANBO"]),
        ("b", vec!["m-BANBO"]),
        ("c", vec!["m-TRUONGSON"]),
        ("d", vec!["m-DUCLONG"]),
        // The district reviewer: both communes below, not the other district.
        ("r", vec!["m-BANBO", "m-TRUONGSON"]),
        ("admin", vec!["m-BANBO", "m-DUCLONG", "m-TRUONGSON"]),
    ] {
        let fresh = MemoryReplica::new();
        sync_as(&fresh, &server, user).await;
        assert_eq!(fresh.ids(), expected, "{user}");
    }
}

#[tokio::test]
async fn another_units_document_is_neither_answered_nor_changed() {
    let (_dir, server, [a, c, _]) = three_units().await;
    let c_token = server.tokens.of("c");

    // C asks about Bản Bo's model by id without sending changes: answered exactly as an id that
    // exists nowhere, so nothing leaks, not even that it exists.
    let mut answers = Vec::new();
    for id in ["m-BANBO", "m-NOWHERE"] {
        let mut empty = AutoCommit::new();
        let mut state = automerge::sync::State::new();
        let probe = empty.sync().generate_sync_message(&mut state).unwrap().encode();
        let (status, res) = raw_sync(&server, &c_token, vec![DocMessage { id: id.into(), message: probe, document: None }]).await;
        let res = res.unwrap();
        assert_eq!(status, 200);
        assert!(res.errors.is_empty(), "{id}: {:?}", res.errors);
        answers.push(res.docs.into_iter().map(|d| d.message).collect::<Vec<_>>());
    }
    assert_eq!(answers[0], answers[1], "the same answer for another unit's model and for nothing");

    // C got hold of a copy (e.g. a shared phone) and pushes an edit of it: refused, untouched.
    let mut stolen = a.doc("m-BANBO").unwrap();
    stolen.put(automerge::ROOT, "name", "Bị sửa trái phép").unwrap();
    stolen.commit();
    let (_, res) = raw_sync(&server, &c_token, vec![whole("m-BANBO", &mut stolen)]).await;
    let res = res.unwrap();
    assert_eq!(res.errors.len(), 1);
    assert_eq!(res.errors[0].code, FailureCode::Forbidden);
    assert!(res.errors[0].message.contains("không có quyền"), "{}", res.errors[0].message);

    // Through the session: C's replica keeps its edit, flagged, and stays dirty.
    c.put_local("m-BANBO", &mut stolen);
    let report = sync_as(&c, &server, "c").await;
    assert!(report.rejected["m-BANBO"].contains("không có quyền"), "{:?}", report.rejected);
    assert!(c.record("m-BANBO").unwrap().dirty, "the refused edit is kept, not discarded");
    assert_eq!(model(&c, "m-BANBO").name, "Bị sửa trái phép");

    let b = MemoryReplica::new();
    sync_as(&b, &server, "b").await;
    assert_eq!(model(&b, "m-BANBO").name, "Mô hình của BANBO", "the server's copy is intact");
}

#[tokio::test]
async fn a_forged_document_claiming_another_unit_is_refused() {
    let (_dir, server, [_, c, _]) = three_units().await;
    // C registers a model in Bản Bo's name.
    c.put_local("forged", &mut new_model_in("forged", "Mô hình mạo danh", "BANBO"));
    // And one that names no unit at all.
    let mut nameless = new_model_in("nameless", "Không đơn vị", "TRUONGSON");
    nameless.delete(automerge::ROOT, "unit").unwrap();
    nameless.commit();
    c.put_local("nameless", &mut nameless);
    let report = sync_as(&c, &server, "c").await;
    assert!(report.rejected["forged"].contains("BANBO"), "{:?}", report.rejected);
    assert!(report.rejected["nameless"].contains("đơn vị"), "{:?}", report.rejected);
    for user in ["a", "admin"] {
        let fresh = MemoryReplica::new();
        sync_as(&fresh, &server, user).await;
        assert!(!fresh.ids().contains(&"forged".to_string()) && !fresh.ids().contains(&"nameless".to_string()), "{user}");
    }
}

#[tokio::test]
async fn ownership_cannot_be_changed_by_an_edit() {
    let (_dir, server, [a, _, _]) = three_units().await;
    // A moves the model to Trường Sơn (which A cannot even write), and, separately, re-sets it to
    // its own unit through a new operation: both touch ownership.
    edit(&a, "m-BANBO", |m| m.unit = "TRUONGSON".into());
    let report = sync_as(&a, &server, "a").await;
    assert!(report.rejected["m-BANBO"].contains("đơn vị sở hữu"), "{:?}", report.rejected);
    assert!(a.record("m-BANBO").unwrap().dirty);

    let b = MemoryReplica::new();
    sync_as(&b, &server, "b").await;
    assert_eq!(model(&b, "m-BANBO").unit, "BANBO");
    let c = MemoryReplica::new();
    sync_as(&c, &server, "c").await;
    assert!(c.ids() == ["m-TRUONGSON"], "nothing moved into Trường Sơn");

    // The same value written again by a new operation is still a change of ownership.
    let mut doc = b.doc("m-BANBO").unwrap();
    let before = doc.get_heads();
    doc.put(automerge::ROOT, "unit", "X").unwrap();
    doc.put(automerge::ROOT, "unit", "BANBO").unwrap();
    doc.commit();
    assert_ne!(doc.get_heads(), before);
    b.put_local("m-BANBO", &mut doc);
    assert!(sync_as(&b, &server, "b").await.rejected.contains_key("m-BANBO"));
    // Other edits by the owner's cadres still go through.
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &server, "a").await;
    edit(&fresh, "m-BANBO", |m| m.owner_name = "Hội Phụ nữ xã".into());
    let report = sync_as(&fresh, &server, "a").await;
    assert!(report.rejected.is_empty() && report.pending == 0, "{report:?}");
}

#[tokio::test]
async fn a_reviewer_reads_the_subtree_but_does_not_edit_it() {
    let (_dir, server, _) = three_units().await;
    let r = MemoryReplica::new();
    sync_as(&r, &server, "r").await;
    edit(&r, "m-TRUONGSON", |m| m.name = "Sửa bởi người bình xét".into());
    r.put_local("r-new", &mut new_model_in("r-new", "Mô hình của huyện", "HA"));
    let report = sync_as(&r, &server, "r").await;
    assert!(report.rejected["m-TRUONGSON"].contains("chỉ ghi các bước bình xét"), "{:?}", report.rejected);
    assert!(report.rejected["r-new"].contains("HA"), "{:?}", report.rejected);
    let c = MemoryReplica::new();
    sync_as(&c, &server, "c").await;
    assert_eq!(model(&c, "m-TRUONGSON").name, "Mô hình của TRUONGSON");
}

#[tokio::test]
async fn revoked_expired_and_disabled_sessions_are_refused_and_offline_edits_wait_for_sign_in() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let store = SqliteStore::open(&db).unwrap();
    store.set_password_hash("a", &hash_password("mật khẩu của a 2025").unwrap()).await.unwrap();

    // No token, a made-up token, a token whose secret is wrong.
    assert_eq!(raw_sync(&server, "", vec![]).await.0, 401);
    assert_eq!(raw_sync(&server, "not-a-token", vec![]).await.0, 401);
    let real = server.tokens.of("a");
    let (id, _) = real.split_once('.').unwrap();
    assert_eq!(raw_sync(&server, &format!("{id}.{}", "A".repeat(43)), vec![]).await.0, 401);
    assert_eq!(raw_sync(&server, &real, vec![]).await.0, 200);

    // An expired session.
    let (expired, stored) = danvan::server::session::new_token();
    let session = Session { username: "a".into(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: 2 };
    store.create_session(&stored.id, &session).await.unwrap();
    let (status, _) = raw_sync(&server, &expired, vec![]).await;
    assert_eq!(status, 401);

    // A works offline; meanwhile the session is revoked (signed out everywhere).
    let a = MemoryReplica::new();
    a.put_local("offline", &mut new_model("offline", "Làm khi mất sóng"));
    let (status, _) = api(reqwest::Method::DELETE, &server, "/api/session", Some(&real), None).await;
    assert_eq!(status, 200);
    let err = run_session(&a, &Http::at(&server.url, &real), &mut ()).await.unwrap_err();
    assert!(err.to_string().contains("401") && err.to_string().contains("đăng nhập"), "{err}");
    assert!(a.record("offline").unwrap().dirty, "nothing lost, nothing marked synced");

    // Signing in again: the edit syncs.
    let (status, body) =
        api(reqwest::Method::POST, &server, "/api/session", None, Some(json!({"username": "a", "password": "mật khẩu của a 2025"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"]["writable"], json!(["BANBO"]));
    let token = body["token"].as_str().unwrap().to_string();
    let report = run_session(&a, &Http::at(&server.url, &token), &mut ()).await.unwrap();
    assert_eq!(report.pending, 0);

    // Ended from outside this server process (the command line, another server over the same
    // database): honoured within the session cache's lifetime.
    let (outside, stored) = danvan::server::session::new_token();
    let session = Session { username: "b".into(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
    store.create_session(&stored.id, &session).await.unwrap();
    assert_eq!(raw_sync(&server, &outside, vec![]).await.0, 200);
    assert_eq!(store.delete_sessions("b").await.unwrap(), 2);
    tokio::time::sleep(danvan::server::session::SESSION_TTL + std::time::Duration::from_millis(200)).await;
    assert_eq!(raw_sync(&server, &outside, vec![]).await.0, 401);

    // A disabled user's sessions end at once.
    let admin = server.tokens.of("admin");
    let (status, _) = api(reqwest::Method::PUT, &server, "/api/admin/users/a/disabled", Some(&admin), Some(json!({"disabled": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(raw_sync(&server, &token, vec![]).await.0, 401);
    let (status, body) =
        api(reqwest::Method::POST, &server, "/api/session", None, Some(json!({"username": "a", "password": "mật khẩu của a 2025"}))).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("khóa"));
}

#[tokio::test]
async fn sign_in_attempts_are_limited_and_unknown_users_look_like_wrong_passwords() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    SqliteStore::open(&db).unwrap().set_password_hash("b", &hash_password("mật khẩu của b 2025").unwrap()).await.unwrap();
    let attempt = |username: &'static str, password: &'static str| {
        let server = &server;
        async move { api(reqwest::Method::POST, server, "/api/session", None, Some(json!({"username": username, "password": password}))).await }
    };
    let (s1, unknown) = attempt("khong-co", "sai mật khẩu rồi").await;
    let (s2, wrong) = attempt("b", "sai mật khẩu rồi").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(unknown["error"], wrong["error"], "the same answer for both");
    for _ in 0..4 {
        assert_eq!(attempt("b", "sai mật khẩu rồi").await.0, 401);
    }
    // Fifth failure done: now even the right password waits, for seconds (backoff, not a lock).
    let (status, body) = attempt("b", "mật khẩu của b 2025").await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].as_str().unwrap().contains("giây"), "{body}");
    // Another user is not locked out by B's attacker.
    SqliteStore::open(&db).unwrap().set_password_hash("c", &hash_password("mật khẩu của c 2025").unwrap()).await.unwrap();
    assert_eq!(attempt("c", "mật khẩu của c 2025").await.0, 200);
}

#[tokio::test]
async fn administrators_invite_and_manage_only_inside_their_subtree() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let admin = server.tokens.of("admin");
    let origin = "http://danvan.example";

    // Members cannot reach any administration route.
    for path in ["/api/admin/users", "/api/admin/units"] {
        assert_eq!(api(reqwest::Method::GET, &server, path, Some(&server.tokens.of("a")), None).await.0, 403, "{path}");
    }

    // The province administrator makes a district administrator, by invitation.
    let (status, link) = api(
        reqwest::Method::POST,
        &server,
        "/api/admin/users",
        Some(&admin),
        Some(json!({"username": "qt-ha", "display_name": "Quản trị Hà Quảng", "unit": "HA", "role": "admin", "origin": origin})),
    )
    .await;
    assert_eq!(status, 200, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("http://danvan.example/moi#"), "{url}");
    assert!(link["qr"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"));
    let token = url.split_once('#').unwrap().1;
    let (status, seen) = api(reqwest::Method::POST, &server, "/api/invitations/open", None, Some(json!({"token": token}))).await;
    assert_eq!((status, seen["username"].as_str()), (200, Some("qt-ha")));
    let (status, body) =
        api(reqwest::Method::POST, &server, "/api/invitations/accept", None, Some(json!({"token": token, "password": "ngắn"}))).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("10"));
    let (status, signed_in) = api(
        reqwest::Method::POST,
        &server,
        "/api/invitations/accept",
        None,
        Some(json!({"token": token, "password": "quản trị hà quảng"})),
    )
    .await;
    assert_eq!(status, 200, "{signed_in}");
    assert_eq!(api(reqwest::Method::POST, &server, "/api/invitations/accept", None, Some(json!({"token": token, "password": "lần thứ hai dùng"}))).await.0, 404, "used once");
    let qt = signed_in["token"].as_str().unwrap().to_string();
    assert_eq!(signed_in["profile"]["manages"], true);

    // Inside Hà Quảng: a new village under Bản Bo imports; a unit under Hòa An does not.
    let import = |csv: &'static str| {
        let (server, qt) = (&server, qt.clone());
        async move {
            let res = reqwest::Client::new().post(format!("{}/api/admin/units", server.url)).bearer_auth(qt).body(csv).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = import("code,name,kind,level,parent\nNAPONG,Thôn Nà Pồng,thon,co_so,BANBO\n").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = import("code,name,kind,level,parent\nX1,Thôn X,thon,co_so,DUCLONG\nHA,Hà Quảng,huyen,huyen,HOAAN\n").await;
    assert_eq!(status, 422, "{body}");
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{body}");
    assert!(problems.iter().all(|p| p.as_str().unwrap().contains("ngoài phạm vi")));
    let (_, units) = api(reqwest::Method::GET, &server, "/api/admin/units", Some(&qt), None).await;
    let codes: Vec<&str> = units["units"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["BANBO", "HA", "NAPONG", "TRUONGSON"]);

    // Users: sees and manages Hà Quảng's, not Hòa An's nor the province's.
    let (_, users) = api(reqwest::Method::GET, &server, "/api/admin/users", Some(&qt), None).await;
    let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c", "qt-ha", "r"]);
    for (method, path, body) in [
        (reqwest::Method::PUT, "/api/admin/users/d/disabled", json!({"disabled": true})),
        (reqwest::Method::PUT, "/api/admin/users/admin/disabled", json!({"disabled": true})),
        (reqwest::Method::POST, "/api/admin/users/d/invitation", json!({"origin": origin})),
        (reqwest::Method::POST, "/api/admin/users", json!({"username": "x-dl", "display_name": "X", "unit": "DUCLONG", "role": "member", "origin": origin})),
    ] {
        let (status, body) = api(method, &server, path, Some(&qt), Some(body)).await;
        assert_eq!(status, 403, "{path}: {body}");
    }

    // Giving C a reviewer role over Hà Quảng widens what C's device receives at its next sync,
    // though its cursor is already past Bản Bo's model.
    let c = MemoryReplica::new();
    c.put_local("m-c", &mut new_model_in("m-c", "Mô hình Trường Sơn", "TRUONGSON"));
    let a = MemoryReplica::new();
    a.put_local("m-a", &mut new_model("m-a", "Mô hình Bản Bo"));
    sync_as(&a, &server, "a").await;
    sync_as(&c, &server, "c").await;
    assert_eq!(c.ids(), ["m-c"]);
    let (status, body) = api(
        reqwest::Method::PUT,
        &server,
        "/api/admin/users/c",
        Some(&qt),
        Some(json!({"display_name": "Cán bộ C", "grants": [{"unit": "TRUONGSON", "role": "member"}, {"unit": "HA", "role": "reviewer"}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    sync_as(&c, &server, "c").await;
    assert_eq!(c.ids(), ["m-a", "m-c"]);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let (dir, db) = temp();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<html><script type=module>import init from '/x.js';</script></html>").unwrap();
    let server = start(&db, &dist).await;
    for path in ["/", "/api/health", "/mo-hinh/moi"] {
        let res = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
}
