use automerge::transaction::Transactable;

use super::*;
use crate::domain::contest::{Judge, ScoreInput, check_contest};
use crate::domain::{Grant, Role, UnitTree};

const TREE: &str = "code,name,kind,level,parent,cluster
HN,Thành ủy Hà Nội,tinh,tinh,,
BAVI,Huyện ủy Ba Vì,huyen,huyen,HN,
X1,Xã Tản Lĩnh,xa,co_so,BAVI,CUM-1
X2,Xã Ba Trại,xa,co_so,BAVI,CUM-1
X3,Xã Cẩm Lĩnh,xa,co_so,BAVI,CUM-2
X4,Xã Vật Lại,xa,co_so,BAVI,
SONTAY,Thị ủy Sơn Tây,huyen,huyen,HN,
Y1,Phường Lê Lợi,xa,co_so,SONTAY,
";
const P1: &str = "so-khao-CUM-1";

fn tree() -> UnitTree {
    UnitTree::from_csv(TREE).unwrap()
}

fn access(grants: &[(&str, Role)]) -> Access {
    let grants: Vec<Grant> = grants.iter().map(|(u, r)| Grant { unit: u.to_string(), role: *r }).collect();
    Access::new(&grants, &tree())
}

/// Ba Vì's contest: two preliminaries, judges gk1 and gk2 in every round, a team per commune.
fn contest() -> Contest {
    let mut c = Contest::new("c1".into(), "Hội thi Dân vận khéo huyện Ba Vì", Level::District, 2026, "BAVI", "bt", 1);
    c.add_preliminaries(&tree());
    for r in &mut c.rounds {
        r.judges = ["gk1", "gk2"].iter().map(|j| Judge { username: j.to_string(), name: format!("Giám khảo {j}") }).collect();
    }
    for u in ["X1", "X2", "X3"] {
        c.register_team(format!("t{u}"), u, &format!("Đội {u}"), "Nguyễn Văn A", "bt", 2).unwrap();
    }
    c
}

fn score(c: &mut Contest, judge: &str, team: &str, points: &str, prefix: &str) {
    let rows: Vec<ScoreInput> =
        ["p1", "p2", "p3"].iter().map(|p| ScoreInput { team: team.into(), part: p.to_string(), points: points.into(), comment: String::new() }).collect();
    let mut n = 0;
    c.score(P1, judge, &rows, 10, || {
        n += 1;
        format!("{prefix}-{n}")
    })
    .unwrap();
}

#[test]
fn a_contest_comes_back_from_its_document_as_written() {
    let mut c = contest();
    score(&mut c, "gk1", "tX1", "20", "a");
    let mut doc = create(&c, 1).unwrap();
    assert_eq!(kind(&doc), Kind::Contest);
    let back = read_contest(&doc).unwrap();
    assert_eq!(back, canonical(&c).unwrap());
    assert_eq!(back, c, "the domain's own order is already canonical here");
    // Loaded from bytes, the same.
    assert_eq!(read_contest(&AutoCommit::load(&doc.save()).unwrap()).unwrap(), back);
}

#[test]
fn preliminaries_read_back_in_natural_order_of_their_clusters() {
    // Twelve clusters: by plain id CUM-10, CUM-11 and CUM-12 would come between CUM-1 and CUM-2.
    let mut csv = "code,name,kind,level,parent,cluster\nBAVI,Huyện ủy Ba Vì,huyen,huyen,,\n".to_string();
    for n in 1..=12 {
        csv.push_str(&format!("X{n},Xã {n},xa,co_so,BAVI,CUM-{n}\n"));
    }
    let tree = UnitTree::from_csv(&csv).unwrap();
    let mut c = Contest::new("c1".into(), "Hội thi", Level::District, 2026, "BAVI", "bt", 1);
    assert_eq!(c.add_preliminaries(&tree), 12);
    let expected: Vec<String> = (1..=12).map(|n| format!("so-khao-CUM-{n}")).chain(["chung-khao".to_string()]).collect();
    let ids = |c: &Contest| c.rounds.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&c), expected, "the domain adds them in that order");
    let back = read_contest(&create(&c, 1).unwrap()).unwrap();
    assert_eq!(ids(&back), expected, "and a document reads them back so");
    assert_eq!(back, c);
    // Whatever order a contest holds them in, the canonical order is the same.
    c.rounds.reverse();
    assert_eq!(ids(&canonical(&c).unwrap()), expected);
}

#[test]
fn models_and_contests_are_told_apart_by_the_root_kind() {
    let model = crate::domain::Model::new("m".into(), "A", 1);
    let mut m = crate::doc::create(&model, 1).unwrap();
    assert_eq!(kind(&m), Kind::Model);
    assert!(matches!(read_contest(&m), Err(ContestDocError::NotAContest)));
    let before = kind_stamp(&m);
    m.put(automerge::ROOT, "kind", KIND).unwrap();
    assert_ne!(kind_stamp(&m), before, "a model gaining a kind is seen");
    let mut c = create(&contest(), 1).unwrap();
    assert!(matches!(crate::doc::read_model(&c), Err(crate::doc::DocError::NotAModel)), "a contest is not read as a model");
    let stamp = kind_stamp(&c);
    let mut gone = c.fork();
    gone.delete(automerge::ROOT, "kind").unwrap();
    assert_ne!(kind_stamp(&gone), stamp, "a contest losing its kind is seen");
    assert_eq!(kind(&gone), Kind::Model);
    c.put(automerge::ROOT, "kind", "mo_hinh").unwrap();
    assert_eq!(kind(&c), Kind::Unknown);
    assert!(read_contest(&c).is_err());
}

#[test]
fn an_entry_under_a_key_its_content_does_not_give_is_refused() {
    let mut doc = create(&contest(), 1).unwrap();
    let sheets = match doc.get(automerge::ROOT, "teams").unwrap() {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("{other:?}"),
    };
    let team = match doc.get(&sheets, "X1").unwrap() {
        Some((_, id)) => id,
        None => panic!("no team of X1"),
    };
    doc.put(&team, "unit", "X2").unwrap();
    assert!(matches!(read_contest(&doc), Err(ContestDocError::Inconsistent(_))), "{:?}", read_contest(&doc));
}

#[test]
fn two_judges_scoring_offline_on_their_own_devices_merge_and_both_sheets_are_kept() {
    let mut base = create(&contest(), 1).unwrap();
    let none = access(&[]);
    let stored = read_contest(&base).unwrap();
    let (mut one, mut two) = (base.fork(), base.fork());
    for (doc, judge) in [(&mut one, "gk1"), (&mut two, "gk2")] {
        let mut c = read_contest(doc).unwrap();
        score(&mut c, judge, "tX1", if judge == "gk1" { "20" } else { "25" }, judge);
        score(&mut c, judge, "tX2", "10", &format!("{judge}b"));
        write_contest(doc, &c, 5, "chấm điểm").unwrap();
        let after = read_contest(doc).unwrap();
        assert_eq!(check_contest(Some(&stored), &after, judge, &none, &tree()), Ok(()));
    }
    // Either order of arrival gives the same contest with both sheets.
    let mut a = one.fork();
    a.merge(&mut two.fork()).unwrap();
    let mut b = two.fork();
    b.merge(&mut one.fork()).unwrap();
    let (ca, cb) = (read_contest(&a).unwrap(), read_contest(&b).unwrap());
    assert_eq!(ca, cb);
    assert_eq!(ca.sheets.len(), 2);
    assert_eq!(ca.results(P1).unwrap().teams.iter().find(|t| t.team == "tX1").unwrap().total, 3 * 2250);
    // The server's check of the second arrival, against the first as stored.
    let first = read_contest(&one).unwrap();
    assert_eq!(check_contest(Some(&first), &ca, "gk2", &none, &tree()), Ok(()));
}

#[test]
fn one_judges_two_devices_scoring_different_teams_both_count() {
    let mut c = contest();
    score(&mut c, "gk1", "tX1", "20", "first");
    let mut base = create(&c, 1).unwrap();
    let (mut phone, mut laptop) = (base.fork(), base.fork());
    for (doc, team, prefix) in [(&mut phone, "tX2", "phone"), (&mut laptop, "tX1", "laptop")] {
        let mut c = read_contest(doc).unwrap();
        score(&mut c, "gk1", team, "15", prefix);
        write_contest(doc, &c, 5, "chấm điểm").unwrap();
    }
    phone.merge(&mut laptop).unwrap();
    let merged = read_contest(&phone).unwrap();
    let sheet = merged.sheet(P1, "gk1").unwrap();
    assert_eq!(sheet.rows.len(), 6, "three parts of tX1 and of tX2");
    assert!(sheet.rows.iter().all(|r| r.points == 1500), "the laptop's rescore of tX1 and the phone's tX2");
    assert_eq!(sheet.changes.len(), 9, "every score given is in the log");
    assert_eq!(check_contest(Some(&read_contest(&base).unwrap()), &merged, "gk1", &access(&[]), &tree()), Ok(()));
}

#[test]
fn the_organiser_and_a_cadre_registering_the_same_units_team_at_once_give_one_team() {
    let mut c = contest();
    c.teams.retain(|t| t.unit != "X2");
    let mut base = create(&c, 1).unwrap();
    let (mut org, mut cadre) = (base.fork(), base.fork());
    for (doc, id, by) in [(&mut org, "t-org", "bt"), (&mut cadre, "t-cadre", "cb")] {
        let mut c = read_contest(doc).unwrap();
        c.register_team(id.into(), "X2", "Đội Ba Trại", "", by, 3).unwrap();
        write_contest(doc, &c, 3, "đăng ký đội").unwrap();
    }
    org.merge(&mut cadre).unwrap();
    let merged = read_contest(&org).unwrap();
    assert_eq!(merged.teams.iter().filter(|t| t.unit == "X2").count(), 1);
    assert_eq!(merged.validate(), Ok(()));
}

#[test]
fn readers_are_the_round_units_team_units_and_judges() {
    let c = contest();
    assert_eq!(readers(&c), ["@gk1", "@gk2", "in:BAVI", "u:X1", "u:X2", "u:X3"]);
    assert!(may_read(&c, "gk1", &access(&[])));
    assert!(may_read(&c, "x", &access(&[("X3", Role::Member)])));
    assert!(may_read(&c, "x", &access(&[("HN", Role::Reviewer)])));
    // A commune of the district in no cluster, so in no round and without a team yet: it sees
    // its district's contest (to register), through `in:BAVI`.
    let x4 = access(&[("X4", Role::Member)]);
    assert!(may_read(&c, "x", &x4));
    assert!(reader_keys("x", &x4).contains(&"in:BAVI".to_string()));
    // Beside or above the organiser without reading it: nothing.
    assert!(!may_read(&c, "x", &access(&[("SONTAY", Role::Admin)])));
    assert!(!may_read(&c, "x", &access(&[("Y1", Role::Member)])));
    assert!(!may_read(&c, "x", &access(&[("HN", Role::Member)])));
    assert!(!may_read(&c, "gk9", &access(&[])));
}

#[test]
fn one_judges_two_devices_starting_the_sheet_offline_keep_every_score_in_either_order() {
    let mut base = create(&contest(), 1).unwrap();
    let stored = read_contest(&base).unwrap();
    let (mut phone, mut laptop) = (base.fork(), base.fork());
    // Neither device has the sheet yet: each starts it. tX1 is scored on both (the laptop later).
    for (doc, team, points, at, prefix) in [(&mut phone, Some("tX2"), "15", 10, "phone"), (&mut laptop, None, "12", 20, "laptop")] {
        let mut c = read_contest(doc).unwrap();
        if let Some(team) = team {
            score(&mut c, "gk1", team, points, prefix);
        }
        let rows: Vec<ScoreInput> = ["p1", "p2", "p3"]
            .iter()
            .map(|p| ScoreInput { team: "tX1".into(), part: p.to_string(), points: points.into(), comment: String::new() })
            .collect();
        let mut n = 0;
        c.score(P1, "gk1", &rows, at, || {
            n += 1;
            format!("{prefix}-x-{n}")
        })
        .unwrap();
        write_contest(doc, &c, at, "chấm điểm").unwrap();
    }
    let first_phone = read_contest(&phone).unwrap();
    let first_laptop = read_contest(&laptop).unwrap();
    let (mut a, mut b) = (phone.fork(), laptop.fork());
    a.merge(&mut laptop).unwrap();
    b.merge(&mut phone).unwrap();
    let (ca, cb) = (read_contest(&a).unwrap(), read_contest(&b).unwrap());
    assert_eq!(ca, cb, "the same contest whichever device synced first");
    let sheet = ca.sheet(P1, "gk1").unwrap();
    assert_eq!(sheet.rows.len(), 6, "tX1 and tX2, three parts each");
    assert_eq!(sheet.changes.len(), 9, "every score given, from both devices");
    assert!(sheet.rows.iter().filter(|r| r.team == "tX1").all(|r| r.points == 1200), "the later score of tX1 (the laptop's)");
    // The server's check of the second arrival, whichever came first, passes.
    let none = access(&[]);
    assert_eq!(check_contest(Some(&stored), &first_phone, "gk1", &none, &tree()), Ok(()));
    assert_eq!(check_contest(Some(&first_phone), &ca, "gk1", &none, &tree()), Ok(()));
    assert_eq!(check_contest(Some(&first_laptop), &ca, "gk1", &none, &tree()), Ok(()));
    // Written back and edited again, the merge stays.
    let mut c = ca.clone();
    let rows: Vec<ScoreInput> =
        ["p1", "p2", "p3"].iter().map(|p| ScoreInput { team: "tX2".into(), part: p.to_string(), points: "16".into(), comment: String::new() }).collect();
    let mut n = 0;
    c.score(P1, "gk1", &rows, 30, || {
        n += 1;
        format!("again-{n}")
    })
    .unwrap();
    write_contest(&mut a, &c, 30, "chấm lại").unwrap();
    let again = read_contest(&a).unwrap();
    assert_eq!(again.sheet(P1, "gk1").unwrap().rows.iter().filter(|r| r.team == "tX2").map(|r| r.points).collect::<Vec<_>>(), [1600; 3]);
    assert_eq!(check_contest(Some(&ca), &again, "gk1", &none, &tree()), Ok(()));
}

#[test]
fn another_sheet_under_a_judges_key_is_inconsistent() {
    let mut base = create(&contest(), 1).unwrap();
    let (mut forged, mut honest) = (base.fork(), base.fork());
    let mut c = contest();
    score(&mut c, "gk1", "tX1", "20", "a");
    write_contest(&mut honest, &c, 2, "chấm").unwrap();
    // A device writes another sheet under the same key at the same time.
    c.sheets[0].id = "other-id".into();
    write_contest(&mut forged, &c, 2, "x").unwrap();
    forged.merge(&mut honest).unwrap();
    assert!(matches!(read_contest(&forged), Err(ContestDocError::Inconsistent(_))), "{:?}", read_contest(&forged).map(|_| ()));
}

#[test]
fn a_cell_rescored_on_two_devices_shows_the_later_score_whatever_the_merge() {
    let mut c = contest();
    score(&mut c, "gk1", "tX1", "20", "first");
    let mut base = create(&c, 1).unwrap();
    let stored = read_contest(&base).unwrap();
    let mut later_wins = Vec::new();
    // The phone rescored at 50, the laptop at 40: the phone's score is the later one, whichever
    // actor automerge happens to prefer.
    for (phone_first, phone_actor) in [(true, "aa"), (false, "aa"), (true, "ff"), (false, "ff")] {
        let mut phone = base.fork().with_actor(automerge::ActorId::from(phone_actor.as_bytes()));
        let mut laptop = base.fork().with_actor(automerge::ActorId::from(b"cc".as_slice()));
        for (doc, points, at, prefix) in [(&mut phone, "25", 50, "phone"), (&mut laptop, "22", 40, "laptop")] {
            let mut c = read_contest(doc).unwrap();
            let rows: Vec<ScoreInput> =
                ["p1"].iter().map(|p| ScoreInput { team: "tX1".into(), part: p.to_string(), points: points.into(), comment: String::new() }).collect();
            c.score(P1, "gk1", &rows, at, || format!("{prefix}-1")).unwrap();
            write_contest(doc, &c, at, "chấm lại").unwrap();
        }
        let merged = if phone_first {
            phone.merge(&mut laptop).unwrap();
            read_contest(&phone).unwrap()
        } else {
            laptop.merge(&mut phone).unwrap();
            read_contest(&laptop).unwrap()
        };
        let sheet = merged.sheet(P1, "gk1").unwrap();
        later_wins.push(sheet.row("tX1", "p1").unwrap().points);
        assert_eq!(check_contest(Some(&stored), &merged, "gk1", &access(&[]), &tree()), Ok(()));
    }
    assert_eq!(later_wins, [2500; 4]);
}
