//! Contests (issue 16) through the real server: the attacks of a modified client on a contest
//! document — forged sheets, scores after closing, published results changed, another unit's
//! team, a sibling unit's organiser, a contest turned into a model and back, contest keys in a
//! model, a contest read from outside — and the honest path: an organiser sets it up, two judges
//! score offline on their own devices and sync in either order, and everyone who may read it
//! holds the same contest with both sheets. And the judge picker's list of people: who may ask,
//! and whom it names.
//!
//! The test tree (`common`): CB → HA → BANBO, TRUONGSON (cluster CUM-1); CB → HOAAN → DUCLONG.
//! `r` reviews HA and organises the contest; `a` (BANBO) and `c` (TRUONGSON) are cadres of its
//! units; `d` (DUCLONG) is outside it. Added here: judges `gk1` (a cadre of HOAAN) and `gk2` (a
//! cadre of CB), who read nothing of HA but the contest, and `r2`, a reviewer of HOAAN, the
//! sibling district.

mod common;

use std::collections::{BTreeSet, HashMap};

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};
use common::*;
use danvan::doc::contest::{create, read_contest, write_contest};
use danvan::domain::contest::{Contest, Judge, ScoreInput, ScoreRow, ScoreSheet};
use danvan::domain::{Grant, Level, Role, UnitTree};
use danvan::server::session::new_token;
use danvan::server::store::postgres::PostgresStore;
use danvan::server::store::{Session, SqliteStore, Store, StoreError, User};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{SessionReport, run_session};
use danvan::sync::{DocMessage, PROTOCOL, SyncRequest, SyncResponse};

const C: &str = "hoi-thi-ha-2026";
const P1: &str = "so-khao-CUM-1";
const FINAL: &str = "chung-khao";

struct Venue {
    _dir: tempfile::TempDir,
    server: Server,
    /// Tokens of the accounts added here.
    extra: HashMap<String, String>,
}

impl Venue {
    async fn open() -> Venue {
        Venue::open_on(None).await
    }

    /// Over SQLite, or over the PostgreSQL database at `postgres`.
    async fn open_on(postgres: Option<String>) -> Venue {
        let (dir, db) = temp();
        let mut extra = HashMap::new();
        {
            let store: Box<dyn Store> = match &postgres {
                None => Box::new(SqliteStore::open(&db).unwrap()),
                Some(url) => Box::new(PostgresStore::connect(url).await.unwrap()),
            };
            seed(store.as_ref()).await;
            for (username, unit, role) in [("gk1", "HOAAN", Role::Member), ("gk2", "CB", Role::Member), ("r2", "HOAAN", Role::Reviewer)] {
                let user = User {
                    username: username.into(),
                    display_name: format!("Người dùng {username}"),
                    password_hash: String::new(),
                    disabled: false,
                    grants: vec![Grant { unit: unit.into(), role }],
                };
                match store.create_user(&user, 1).await {
                    Ok(()) | Err(StoreError::Conflict) => {}
                    Err(e) => panic!("{e}"),
                }
                let (token, stored) = new_token();
                let session = Session { username: username.into(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
                store.create_session(&stored.id, &session).await.unwrap();
                extra.insert(username.to_string(), token);
            }
        }
        let server = match &postgres {
            None => start(&db, &dir.path().join("no-dist")).await,
            Some(url) => start_with(postgres_config(dir.path(), url)).await,
        };
        Venue { _dir: dir, server, extra }
    }

    fn http(&self, user: &str) -> Http {
        match self.extra.get(user) {
            Some(token) => Http::at(&self.server.url, token),
            None => Http::as_user(&self.server, user),
        }
    }

    fn token(&self, user: &str) -> String {
        self.extra.get(user).cloned().unwrap_or_else(|| self.server.tokens.of(user))
    }

    async fn sync(&self, replica: &MemoryReplica, user: &str) -> SessionReport {
        run_session(replica, &self.http(user), &mut ()).await.expect("sync succeeds")
    }

    /// A fresh device of `user`, synced.
    async fn device(&self, user: &str) -> MemoryReplica {
        let replica = MemoryReplica::new();
        self.sync(&replica, user).await;
        replica
    }

    /// The contest as the server holds it (read through the organiser's fresh device).
    async fn stored(&self) -> Contest {
        contest(&self.device("r").await)
    }
}

fn tree() -> UnitTree {
    UnitTree::from_csv(UNITS_CSV).unwrap()
}

fn judge(username: &str) -> Judge {
    Judge { username: username.into(), name: format!("Giám khảo {username}") }
}

fn contest(replica: &MemoryReplica) -> Contest {
    read_contest(&replica.doc(C).expect("the device holds the contest")).unwrap()
}

fn edit_contest(replica: &MemoryReplica, f: impl FnOnce(&mut Contest)) {
    let mut d = replica.doc(C).expect("the device holds the contest");
    let mut c = read_contest(&d).unwrap();
    f(&mut c);
    write_contest(&mut d, &c, 2, "sửa").unwrap();
    replica.put_local(C, &mut d);
}

/// `judge` scores `team` in `round` with these points for the three parts.
fn score(c: &mut Contest, round: &str, judge: &str, team: &str, points: [&str; 3]) {
    let rows: Vec<ScoreInput> = points
        .iter()
        .enumerate()
        .map(|(i, p)| ScoreInput { team: team.into(), part: format!("p{}", i + 1), points: p.to_string(), comment: "Tốt.".into() })
        .collect();
    let prefix = format!("{round}-{judge}-{team}-{}", c.sheets.iter().map(|s| s.changes.len()).sum::<usize>());
    let mut n = 0;
    c.score(round, judge, &rows, 10, || {
        n += 1;
        format!("{prefix}-{n}")
    })
    .unwrap();
}

fn rejected<'a>(report: &'a SessionReport, id: &str) -> &'a str {
    report.rejected.get(id).map(String::as_str).unwrap_or_else(|| panic!("{id} was accepted: {report:?}"))
}

/// The organiser `r` creates Hà Quảng's contest: the cluster's preliminary (Bản Bo, Trường Sơn)
/// and the final, judges gk1 and gk2 in both, Trường Sơn's team registered by the organiser;
/// Bản Bo's cadre `a` registers their own team. Returns the organiser's and the cadre's devices.
async fn set_up(v: &Venue) -> (MemoryReplica, MemoryReplica) {
    let r = MemoryReplica::new();
    let mut c = Contest::new(C.into(), "Hội thi Dân vận khéo huyện Hà Quảng", Level::District, 2026, "HA", "r", 1_000);
    assert_eq!(c.add_preliminaries(&tree()), 1);
    for round in &mut c.rounds {
        round.judges = vec![judge("gk1"), judge("gk2")];
    }
    c.register_team("t-ts".into(), "TRUONGSON", "Đội xã Trường Sơn", "Hoàng Thị C", "r", 1_000).unwrap();
    r.put_local(C, &mut create(&c, 1_000).unwrap());
    let report = v.sync(&r, "r").await;
    assert!(report.rejected.is_empty(), "the organiser creates the contest: {report:?}");
    let a = v.device("a").await;
    edit_contest(&a, |c| c.register_team("t-bb".into(), "BANBO", "Đội xã Bản Bo", "Nông Văn A", "a", 2_000).unwrap());
    let report = v.sync(&a, "a").await;
    assert!(report.rejected.is_empty(), "a cadre registers their own unit's team: {report:?}");
    (r, a)
}

/// Both judges score both teams of `round` on their own devices and sync.
async fn score_round(v: &Venue, round: &str) -> (MemoryReplica, MemoryReplica) {
    let (gk1, gk2) = (v.device("gk1").await, v.device("gk2").await);
    for (device, name) in [(&gk1, "gk1"), (&gk2, "gk2")] {
        edit_contest(device, |c| {
            score(c, round, name, "t-ts", ["20", "20", "30"]);
            score(c, round, name, "t-bb", ["25", "25,5", "35"]);
        });
        let report = v.sync(device, name).await;
        assert!(report.rejected.is_empty(), "{name} scores: {report:?}");
    }
    (gk1, gk2)
}

/// Set up, the preliminary scored and closed by the organiser.
async fn preliminary_closed(v: &Venue) -> (MemoryReplica, MemoryReplica, MemoryReplica) {
    let (r, _a) = set_up(v).await;
    let (gk1, gk2) = score_round(v, P1).await;
    v.sync(&r, "r").await;
    edit_contest(&r, |c| c.close_round(P1, "r", 5_000).unwrap());
    let report = v.sync(&r, "r").await;
    assert!(report.rejected.is_empty(), "the organiser closes the preliminary: {report:?}");
    (r, gk1, gk2)
}

/// Everything up to published results.
async fn published(v: &Venue) -> MemoryReplica {
    let (r, _, _) = preliminary_closed(v).await;
    score_round(v, FINAL).await;
    v.sync(&r, "r").await;
    edit_contest(&r, |c| {
        c.close_round(FINAL, "r", 6_000).unwrap();
        let prizes = c.suggest_prizes().unwrap();
        c.award(prizes).unwrap();
        c.publish("r", 7_000).unwrap();
    });
    let report = v.sync(&r, "r").await;
    assert!(report.rejected.is_empty(), "closed, awarded, published: {report:?}");
    assert!(v.stored().await.is_published());
    r
}

/// One raw sync request (no session logic: what a hostile client can send).
async fn raw_sync(v: &Venue, user: &str, docs: Vec<DocMessage>) -> SyncResponse {
    let req = SyncRequest { protocol: PROTOCOL, server: None, cursor: 0, scope: 0, feed_budget: Some(0), docs };
    let res = reqwest::Client::new()
        .post(format!("{}/api/sync", v.server.url))
        .bearer_auth(v.token(user))
        .header("content-type", danvan::sync::CONTENT_TYPE)
        .body(danvan::sync::encode(&req))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    danvan::sync::decode(&res.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_judge_cannot_write_another_judges_sheet() {
    let v = Venue::open().await;
    set_up(&v).await;
    let (gk1, _gk2) = score_round(&v, P1).await;
    v.sync(&gk1, "gk1").await;
    // gk1 lowers a score on gk2's sheet…
    edit_contest(&gk1, |c| {
        let sheet = c.sheets.iter_mut().find(|s| s.judge == "gk2").unwrap();
        sheet.rows[0].points = 100;
    });
    assert!(rejected(&v.sync(&gk1, "gk1").await, C).contains("giám khảo khác"));
    // …or writes a sheet in gk2's name for the final.
    let forger = v.device("gk1").await;
    edit_contest(&forger, |c| {
        c.sheets.push(ScoreSheet {
            id: "forged".into(),
            round: FINAL.into(),
            judge: "gk2".into(),
            rows: vec![ScoreRow { team: "t-bb".into(), part: "p1".into(), points: 3000, comment: String::new() }],
            changes: Vec::new(),
        })
    });
    assert!(rejected(&v.sync(&forger, "gk1").await, C).contains("dưới tên chính giám khảo"));
    let stored = v.stored().await;
    assert!(stored.sheet(P1, "gk2").unwrap().rows.iter().all(|r| r.points != 100));
    assert!(stored.sheet(FINAL, "gk2").is_none());
}

#[tokio::test]
async fn only_assigned_judges_score() {
    let v = Venue::open().await;
    set_up(&v).await;
    // Bản Bo's cadre reads the contest (a unit in its round) but is no judge.
    for user in ["a", "c", "r"] {
        let device = v.device(user).await;
        edit_contest(&device, |c| {
            c.sheets.push(ScoreSheet {
                id: format!("sheet-{user}"),
                round: P1.into(),
                judge: user.into(),
                rows: vec![ScoreRow { team: "t-ts".into(), part: "p1".into(), points: 3000, comment: String::new() }],
                changes: Vec::new(),
            })
        });
        assert!(rejected(&v.sync(&device, user).await, C).contains("không phải giám khảo"), "{user}");
    }
    // A judge removed from the rounds while scoring offline: their sheet is refused. (No longer
    // a reader either, gk2 is answered as for a contest that does not exist: a creation they may
    // not make.)
    let gk2 = v.device("gk2").await;
    let r = v.device("r").await;
    edit_contest(&r, |c| c.rounds.iter_mut().for_each(|round| round.judges.retain(|j| j.username != "gk2")));
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    edit_contest(&gk2, |c| score(c, P1, "gk2", "t-ts", ["1", "1", "1"]));
    assert!(rejected(&v.sync(&gk2, "gk2").await, C).contains("Chỉ người bình xét"));
    // Bản Bo's cadre `a`, made a judge and removed again while scoring offline, still reads the
    // contest (a unit in its round) and is told why.
    edit_contest(&r, |c| c.rounds.iter_mut().for_each(|round| round.judges.push(judge("a"))));
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    let a = v.device("a").await;
    edit_contest(&r, |c| c.rounds.iter_mut().for_each(|round| round.judges.retain(|j| j.username != "a")));
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    edit_contest(&a, |c| score(c, P1, "a", "t-ts", ["1", "1", "1"]));
    assert!(rejected(&v.sync(&a, "a").await, C).contains("không phải giám khảo"));
    assert!(v.stored().await.sheets.is_empty());
}

#[tokio::test]
async fn no_score_changes_after_the_round_is_closed() {
    let v = Venue::open().await;
    let (_r, gk1, gk2) = preliminary_closed(&v).await;
    // gk1 was offline when the round closed: their late change merges into a closed round.
    edit_contest(&gk1, |c| {
        let sheet = c.sheets.iter_mut().find(|s| s.judge == "gk1").unwrap();
        sheet.rows[0].points = 2900;
    });
    assert!(rejected(&v.sync(&gk1, "gk1").await, C).contains("đã khóa"));
    // gk2 saw the close and writes anyway (the domain refuses, so the forger writes the rows).
    v.sync(&gk2, "gk2").await;
    assert!(contest(&gk2).round(P1).unwrap().is_closed());
    edit_contest(&gk2, |c| {
        let sheet = c.sheets.iter_mut().find(|s| s.judge == "gk2" && s.round == P1).unwrap();
        sheet.rows[0].points = 100;
    });
    assert!(rejected(&v.sync(&gk2, "gk2").await, C).contains("đã khóa"));
    // Nor does the organiser reopen it.
    let r = v.device("r").await;
    edit_contest(&r, |c| {
        let round = c.rounds.iter_mut().find(|x| x.id == P1).unwrap();
        round.closed_at = 0;
        round.closed_by.clear();
        round.qualifiers.clear();
    });
    assert!(rejected(&v.sync(&r, "r").await, C).contains("đã khóa"));
    let stored = v.stored().await;
    assert!(stored.sheets.iter().filter(|s| s.round == P1).all(|s| s.rows.iter().all(|r| r.points >= 2000)));
}

#[tokio::test]
async fn published_results_never_change() {
    let v = Venue::open().await;
    let r = published(&v).await;
    let before = v.stored().await;
    edit_contest(&r, |c| {
        c.prizes.reverse();
        c.prizes.iter_mut().for_each(|p| p.kind = danvan::domain::contest::PrizeKind::First);
    });
    assert!(rejected(&v.sync(&r, "r").await, C).contains("đã công bố"));
    let admin = v.device("admin").await;
    edit_contest(&admin, |c| {
        c.published_at = 0;
        c.published_by.clear();
    });
    assert!(rejected(&v.sync(&admin, "admin").await, C).contains("đã công bố"));
    let a = v.device("a").await;
    edit_contest(&a, |c| c.teams.iter_mut().for_each(|t| t.name = "Đội đổi tên".into()));
    assert!(rejected(&v.sync(&a, "a").await, C).contains("đã công bố"));
    assert_eq!(v.stored().await, before);
}

#[tokio::test]
async fn a_cadre_registers_only_their_own_units_team() {
    let v = Venue::open().await;
    let (r, _a) = set_up(&v).await;
    // The organiser withdraws Trường Sơn's team; Bản Bo's cadre tries to register it instead.
    edit_contest(&r, |c| c.teams.retain(|t| t.unit != "TRUONGSON"));
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    let a = v.device("a").await;
    edit_contest(&a, |c| {
        c.register_team("t-ts2".into(), "TRUONGSON", "Đội Trường Sơn", "", "a", 3_000).unwrap();
    });
    assert!(rejected(&v.sync(&a, "a").await, C).contains("chính đơn vị mình"));
    // Nor edits another unit's team, nor registers in someone else's name.
    let c_device = v.device("c").await;
    edit_contest(&c_device, |c| c.teams.iter_mut().filter(|t| t.unit == "BANBO").for_each(|t| t.members.push("Người lạ".into())));
    assert!(rejected(&v.sync(&c_device, "c").await, C).contains("chính đơn vị mình"));
    let c_device = v.device("c").await;
    edit_contest(&c_device, |c| c.register_team("t-ts3".into(), "TRUONGSON", "Đội Trường Sơn", "", "r", 3_000).unwrap());
    assert!(rejected(&v.sync(&c_device, "c").await, C).contains("dưới tên chính"));
    // Its own: accepted.
    let c_device = v.device("c").await;
    edit_contest(&c_device, |c| c.register_team("t-ts4".into(), "TRUONGSON", "Đội Trường Sơn", "", "c", 3_000).unwrap());
    assert!(v.sync(&c_device, "c").await.rejected.is_empty());
    let stored = v.stored().await;
    assert_eq!(stored.teams.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["t-bb", "t-ts4"]);
}

#[tokio::test]
async fn a_sibling_units_organiser_neither_reads_nor_edits() {
    let v = Venue::open().await;
    let (r, _a) = set_up(&v).await;
    let r2 = v.device("r2").await;
    assert!(r2.ids().is_empty(), "Hòa An's reviewer receives nothing of Hà Quảng's contest");
    // With a copy (a shared phone), an edit is refused as a creation they may not make, the
    // same answer as for an id that exists nowhere.
    let mut stolen = r.doc(C).unwrap();
    r2.put_local(C, &mut stolen);
    edit_contest(&r2, |c| c.name = "Hội thi bị sửa".into());
    assert!(rejected(&v.sync(&r2, "r2").await, C).contains("Chỉ người bình xét hoặc quản trị của đơn vị"));
    // Nor may they create one for Hà Quảng under a fresh id.
    let fresh = MemoryReplica::new();
    let mut c = contest(&r);
    c.id = "hoi-thi-khac".into();
    c.created_by = "r2".into();
    fresh.put_local("hoi-thi-khac", &mut create(&c, 1).unwrap());
    assert!(rejected(&v.sync(&fresh, "r2").await, "hoi-thi-khac").contains("Chỉ người bình xét hoặc quản trị của đơn vị"));
    assert_eq!(v.stored().await.name, "Hội thi Dân vận khéo huyện Hà Quảng");
    // A cadre of the organiser's unit's communes cannot create one either.
    let a = MemoryReplica::new();
    let mut c = Contest::new("hoi-thi-xa".into(), "Hội thi xã", Level::Grassroots, 2026, "BANBO", "a", 1);
    c.rounds[0].judges = vec![judge("gk1")];
    a.put_local("hoi-thi-xa", &mut create(&c, 1).unwrap());
    assert!(rejected(&v.sync(&a, "a").await, "hoi-thi-xa").contains("Chỉ người bình xét"));
}

#[tokio::test]
async fn a_contests_kind_and_organiser_never_change() {
    let v = Venue::open().await;
    let (r, _a) = set_up(&v).await;
    type Change = Box<dyn Fn(&mut AutoCommit)>;
    let mut attempts: Vec<(&str, Change)> = vec![
        ("unit", Box::new(|d: &mut AutoCommit| d.put(ROOT, "unit", "CB").unwrap())),
        ("same unit again", Box::new(|d: &mut AutoCommit| {
            d.delete(ROOT, "unit").unwrap();
            d.put(ROOT, "unit", "HA").unwrap();
        })),
        ("kind removed", Box::new(|d: &mut AutoCommit| d.delete(ROOT, "kind").unwrap())),
        ("kind changed", Box::new(|d: &mut AutoCommit| d.put(ROOT, "kind", "mo_hinh").unwrap())),
    ];
    for (what, change) in attempts.drain(..) {
        let device = v.device("admin").await;
        let mut d = device.doc(C).unwrap();
        change(&mut d);
        d.commit();
        device.put_local(C, &mut d);
        let report = v.sync(&device, "admin").await;
        let why = rejected(&report, C);
        assert!(why.contains("Không được đổi"), "{what}: {why}");
    }
    drop(r);
    assert_eq!(v.stored().await.unit, "HA");
    // A model never becomes a contest, whoever writes it.
    let a = MemoryReplica::new();
    a.put_local("m", &mut new_model("m", "Hũ gạo tình thương"));
    assert!(v.sync(&a, "a").await.rejected.is_empty());
    let mut d = a.doc("m").unwrap();
    d.put(ROOT, "kind", "hoi_thi").unwrap();
    d.commit();
    a.put_local("m", &mut d);
    assert!(rejected(&v.sync(&a, "a").await, "m").contains("loại tài liệu"));
}

#[tokio::test]
async fn a_model_never_carries_contest_keys() {
    let v = Venue::open().await;
    let a = MemoryReplica::new();
    a.put_local("m", &mut new_model("m", "Hũ gạo tình thương"));
    assert!(v.sync(&a, "a").await.rejected.is_empty());
    for key in ["sheets", "rounds", "teams", "prizes"] {
        let device = v.device("a").await;
        let mut d = device.doc("m").unwrap();
        let obj = d.put_object(ROOT, key, ObjType::Map).unwrap();
        d.put(&obj, "x", "y").unwrap();
        d.commit();
        device.put_local("m", &mut d);
        assert!(rejected(&v.sync(&device, "a").await, "m").contains("của hội thi"), "{key}");
    }
    // Nor does a new one.
    let mut m = new_model("m2", "Dân vận khéo");
    m.put(ROOT, "published_at", 5i64).unwrap();
    m.commit();
    a.put_local("m2", &mut m);
    assert!(rejected(&v.sync(&a, "a").await, "m2").contains("của hội thi"));
    // And a contest document never carries a model's keys.
    let (r, _) = set_up(&v).await;
    let mut d = r.doc(C).unwrap();
    d.put(ROOT, "situation", "x").unwrap();
    d.commit();
    r.put_local(C, &mut d);
    assert!(rejected(&v.sync(&r, "r").await, C).contains("Hội thi không có mục"));
}

#[tokio::test]
async fn a_contest_reaches_exactly_its_readers() {
    let v = Venue::open().await;
    set_up(&v).await;
    for (user, holds) in [
        ("r", true),
        ("admin", true),
        ("a", true),
        ("b", true),
        ("c", true),
        ("gk1", true),
        ("gk2", true),
        ("d", false),
        ("r2", false),
    ] {
        let device = v.device(user).await;
        assert_eq!(device.ids().contains(&C.to_string()), holds, "{user}");
    }
    // Asked by id, the contest is answered to an outsider as an id that exists nowhere.
    for user in ["d", "r2"] {
        let mut answers = Vec::new();
        for id in [C, "hoi-thi-khong-co"] {
            let mut empty = AutoCommit::new();
            let mut state = automerge::sync::State::new();
            let probe = empty.sync().generate_sync_message(&mut state).unwrap().encode();
            let res = raw_sync(&v, user, vec![DocMessage { id: id.into(), message: probe, document: None }]).await;
            assert!(res.errors.is_empty(), "{user} {id}: {:?}", res.errors);
            answers.push(res.docs.into_iter().map(|d| d.message).collect::<Vec<_>>());
        }
        assert_eq!(answers[0], answers[1], "{user}: the same answer for the contest and for nothing");
    }
    // A judge removed from every round stops receiving its changes (a cadre of HOAAN reads
    // nothing else of it); one added receives it whole at their next sync.
    let gk1 = v.device("gk1").await;
    let r = v.device("r").await;
    edit_contest(&r, |c| c.rounds.iter_mut().for_each(|round| round.judges = vec![judge("gk2"), judge("d")]));
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    assert!(!v.device("gk1").await.ids().contains(&C.to_string()));
    let d_device = MemoryReplica::new();
    v.sync(&d_device, "d").await;
    assert!(d_device.ids().contains(&C.to_string()), "d, now a judge, receives the contest");
    assert_eq!(contest(&d_device), v.stored().await);
    let _ = gk1;
}

/// What `/api/sync` answers to a probe for `C` sent with `token` (none: no session) → status.
async fn probe_status(v: &Venue, token: Option<&str>) -> u16 {
    let mut empty = AutoCommit::new();
    let probe = empty.sync().generate_sync_message(&mut automerge::sync::State::new()).unwrap().encode();
    let req = SyncRequest { protocol: PROTOCOL, server: None, cursor: 0, scope: 0, feed_budget: None, docs: vec![DocMessage { id: C.into(), message: probe, document: None }] };
    let mut post = reqwest::Client::new().post(format!("{}/api/sync", v.server.url)).header("content-type", danvan::sync::CONTENT_TYPE);
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    post.body(danvan::sync::encode(&req)).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_cadre_inside_the_organisers_subtree_sees_an_open_contest_to_register_and_nobody_outside_does() {
    let v = Venue::open().await;
    // Hà Quảng's contest as first created: the final only, no preliminary names a commune yet
    // and no team is registered (a district without clusters runs it this way throughout).
    let r = MemoryReplica::new();
    let c = Contest::new(C.into(), "Hội thi Dân vận khéo huyện Hà Quảng", Level::District, 2026, "HA", "r", 1_000);
    r.put_local(C, &mut create(&c, 1_000).unwrap());
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    // Trường Sơn's cadre receives it — or could never register — and registers her commune.
    let cadre = v.device("c").await;
    assert!(cadre.ids().contains(&C.to_string()), "a commune of the organiser's district sees its contest");
    edit_contest(&cadre, |c| c.register_team("t-ts".into(), "TRUONGSON", "Đội xã Trường Sơn", "Hoàng Thị C", "c", 2_000).unwrap());
    let report = v.sync(&cadre, "c").await;
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(v.stored().await.teams.len(), 1);
    // Reading is not organising: the same cadre renaming the contest is refused.
    edit_contest(&cadre, |c| c.name = "Hội thi của xã".into());
    assert!(rejected(&v.sync(&cadre, "c").await, C).contains("Chỉ ban tổ chức"));
    // Bản Bo's cadre, in the district with no team and no round, sees it too.
    assert!(v.device("a").await.ids().contains(&C.to_string()));
    // Beside the district (Đức Long's cadre, Hòa An's reviewer, a cadre of Hòa An) and above it
    // without reading it (a cadre of the province's committee): nothing, and asked by id the
    // same answer as for an id that exists nowhere.
    for user in ["d", "r2", "gk1", "gk2"] {
        assert!(!v.device(user).await.ids().contains(&C.to_string()), "{user} receives nothing of it");
        let mut answers = Vec::new();
        for id in [C, "hoi-thi-khong-co"] {
            let mut empty = AutoCommit::new();
            let probe = empty.sync().generate_sync_message(&mut automerge::sync::State::new()).unwrap().encode();
            let res = raw_sync(&v, user, vec![DocMessage { id: id.into(), message: probe, document: None }]).await;
            assert!(res.errors.is_empty(), "{user} {id}: {:?}", res.errors);
            answers.push(res.docs.into_iter().map(|d| d.message).collect::<Vec<_>>());
        }
        assert_eq!(answers[0], answers[1], "{user}: the same answer for the contest and for nothing");
    }
    // Without a session, or with a forged one, nothing at all.
    assert_eq!(probe_status(&v, None).await, 401);
    assert_eq!(probe_status(&v, Some("forged.token")).await, 401);
    assert_eq!(probe_status(&v, Some(&v.token("c"))).await, 200);
}

#[tokio::test]
async fn a_judge_assigned_later_receives_the_contest_whole_at_the_next_sync() {
    let v = Venue::open().await;
    let d = v.device("d").await;
    assert!(d.ids().is_empty());
    let (r, _a) = set_up(&v).await;
    v.sync(&d, "d").await;
    assert!(d.ids().is_empty(), "not a judge yet");
    edit_contest(&r, |c| c.rounds.iter_mut().for_each(|round| round.judges.push(judge("d"))));
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    // The same device, its cursor past the contest's creation: the feed brings it complete.
    let report = v.sync(&d, "d").await;
    assert!(report.rejected.is_empty());
    assert_eq!(contest(&d), v.stored().await);
}

async fn two_judges_offline(first: &str, second: &str, postgres: Option<String>) {
    let v = Venue::open_on(postgres).await;
    let (r, _a) = set_up(&v).await;
    let (gk1, gk2) = (v.device("gk1").await, v.device("gk2").await);
    // At the venue, offline: each scores every team on every part on their own device.
    for (device, name, p) in [(&gk1, "gk1", "20"), (&gk2, "gk2", "22,5")] {
        edit_contest(device, |c| {
            score(c, P1, name, "t-ts", [p, p, "30"]);
            score(c, P1, name, "t-bb", ["25", p, "35"]);
        });
    }
    // The network comes back, in this order.
    for name in [first, second] {
        let device = if name == "gk1" { &gk1 } else { &gk2 };
        let report = v.sync(device, name).await;
        assert!(report.rejected.is_empty(), "{name}: {report:?}");
    }
    for (device, name) in [(&gk1, "gk1"), (&gk2, "gk2"), (&r, "r")] {
        v.sync(device, name).await;
    }
    let stored = v.stored().await;
    assert_eq!(stored.sheets.len(), 2, "both sheets kept");
    for device in [&gk1, &gk2, &r] {
        assert_eq!(contest(device), stored, "every device holds the same contest");
    }
    let results = stored.results(P1).unwrap();
    assert!(results.missing.is_empty());
    let total = |team: &str| results.teams.iter().find(|t| t.team == team).unwrap().total;
    // Trường Sơn: (20 + 22,5) / 2 = 21,25 twice, + 30; Bản Bo: 25 + 21,25 + 35.
    assert_eq!((total("t-ts"), total("t-bb")), (2125 + 2125 + 3000, 2500 + 2125 + 3500));
    assert_eq!(results.ranking.places[0].team, "t-bb");
    // The organiser closes the round on their device: both qualify for the final.
    edit_contest(&r, |c| c.close_round(P1, "r", 9_000).unwrap());
    assert!(v.sync(&r, "r").await.rejected.is_empty());
    assert_eq!(v.stored().await.round(P1).unwrap().qualifiers, ["t-bb", "t-ts"]);
}

#[tokio::test]
async fn two_judges_score_offline_and_sync_gk1_first() {
    two_judges_offline("gk1", "gk2", None).await;
}

#[tokio::test]
async fn two_judges_score_offline_and_sync_gk2_first() {
    two_judges_offline("gk2", "gk1", None).await;
}

#[tokio::test]
async fn two_judges_score_offline_over_postgres_in_both_orders() {
    for (first, second) in [("gk1", "gk2"), ("gk2", "gk1")] {
        let Some(url) = fresh_postgres().await else { return };
        two_judges_offline(first, second, Some(url)).await;
    }
}

#[tokio::test]
async fn a_contest_reaches_exactly_its_readers_over_postgres() {
    let Some(url) = fresh_postgres().await else { return };
    let v = Venue::open_on(Some(url)).await;
    set_up(&v).await;
    for (user, holds) in [("r", true), ("a", true), ("c", true), ("gk1", true), ("gk2", true), ("d", false), ("r2", false)] {
        assert_eq!(v.device(user).await.ids().contains(&C.to_string()), holds, "{user}");
    }
}

#[tokio::test]
async fn one_judges_phone_and_laptop_both_starting_the_sheet_offline_are_both_taken() {
    let v = Venue::open().await;
    let (r, _a) = set_up(&v).await;
    let (phone, laptop) = (v.device("gk1").await, v.device("gk1").await);
    edit_contest(&phone, |c| score(c, P1, "gk1", "t-ts", ["20", "20", "30"]));
    edit_contest(&laptop, |c| score(c, P1, "gk1", "t-bb", ["25", "25", "35"]));
    for device in [&phone, &laptop, &phone] {
        let report = v.sync(device, "gk1").await;
        assert!(report.rejected.is_empty(), "{report:?}");
    }
    v.sync(&r, "r").await;
    let stored = v.stored().await;
    let sheet = stored.sheet(P1, "gk1").unwrap();
    assert_eq!((sheet.rows.len(), sheet.changes.len()), (6, 6), "both devices' scores");
    for device in [&phone, &laptop, &r] {
        assert_eq!(contest(device), stored);
    }
}

#[tokio::test]
async fn a_contest_change_is_bounded_like_a_models() {
    let v = Venue::open().await;
    set_up(&v).await;
    // A judge nests maps 50 deep under the sheets: refused before the contest is even read.
    let gk1 = v.device("gk1").await;
    let mut d = gk1.doc(C).unwrap();
    let sheets = match automerge::ReadDoc::get(&d, ROOT, "sheets").unwrap() {
        Some((_, id)) => id,
        None => panic!("no sheets"),
    };
    let mut obj = d.put_object(&sheets, "x", ObjType::Map).unwrap();
    for _ in 0..50 {
        obj = d.put_object(&obj, "x", ObjType::Map).unwrap();
    }
    d.commit();
    gk1.put_local(C, &mut d);
    assert!(rejected(&v.sync(&gk1, "gk1").await, C).contains("lồng nhau quá sâu"));
    assert!(v.stored().await.sheets.is_empty());
}

/// `GET /api/people/judges` as `token` (none: no session) → (status, body).
async fn judge_candidates(v: &Venue, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}/api/people/judges", v.server.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn usernames(body: &str) -> BTreeSet<String> {
    let people: Vec<serde_json::Value> = serde_json::from_str(body).unwrap();
    for person in &people {
        // Only what the results print and the unit: no role, no grant, nothing of the password.
        let keys: BTreeSet<&str> = person.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["display_name", "unit", "unit_name", "username"]), "{person}");
    }
    people.iter().map(|p| p["username"].as_str().unwrap().to_string()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn the_judge_picker_names_only_people_of_the_callers_own_subtrees() {
    let v = Venue::open().await;
    // No session, a made-up token, a cadre (who organises no contest): nothing.
    assert_eq!(judge_candidates(&v, None).await.0, 401);
    assert_eq!(judge_candidates(&v, Some("forged.token")).await.0, 401);
    let (status, body) = judge_candidates(&v, Some(&v.token("a"))).await;
    assert_eq!(status, 403, "{body}");
    // The district's reviewer: the district's people, not the sibling district's nor the
    // province's.
    let (status, body) = judge_candidates(&v, Some(&v.token("r"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(usernames(&body), set(&["a", "b", "c", "r"]));
    assert!(body.contains("Xã Bản Bo") || body.contains("BANBO"), "each named with their unit: {body}");
    // The sibling district's reviewer: its own.
    let (_, body) = judge_candidates(&v, Some(&v.token("r2"))).await;
    assert_eq!(usernames(&body), set(&["d", "gk1", "r2"]));
    // The province's administrator: everyone; a disabled account is offered to nobody.
    let (_, body) = judge_candidates(&v, Some(&v.token("admin"))).await;
    assert_eq!(usernames(&body), set(&["a", "admin", "b", "c", "d", "gk1", "gk2", "r", "r2"]));
    let disabled = reqwest::Client::new()
        .put(format!("{}/api/admin/users/b/disabled", v.server.url))
        .bearer_auth(v.token("admin"))
        .json(&serde_json::json!({ "disabled": true }))
        .send()
        .await
        .unwrap();
    assert!(disabled.status().is_success(), "{}", disabled.text().await.unwrap());
    let (_, body) = judge_candidates(&v, Some(&v.token("r"))).await;
    assert_eq!(usernames(&body), set(&["a", "c", "r"]));
}
