//! Contests (issue 16) from any bytes and any client, through what the server runs: a contest
//! document read by `doc::contest::read_contest` and a change judged by
//! `domain::contest::check_contest` between the contest as stored and as changed — alone, and
//! inside `server::routes::sync::apply_document`, the per-document step of `/api/sync`.
//!
//! The stored contest is a real one at one of four stages (set up, partly scored, preliminaries
//! closed, published), made through `Contest::apply` as the pages make it. Inputs: any bytes as a
//! whole document; any bytes loaded onto the stored one; a client's device that applies
//! fuzzer-chosen `ContestChange`s as any account (the page's path: `Contest::apply`, then
//! `write_contest`), then any automerge operations anywhere in the document, and sends it whole
//! (bytes flipped or not) or over sync rounds; or a raw message and document. As any of seven
//! accounts (the organiser, an administrator above, cadres of a unit with a team and of one
//! without, two judges, nobody).
//!
//! No panic, no hang, bounded memory; and what the server accepts holds up: the stored contest
//! plus the write loads, is still a contest of the same organiser that reads and validates, the
//! rule accepts it from the caller, and it survives a round trip through a new document.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use danvan::doc::contest::{self as contest_doc, Kind};
use danvan::domain::contest::{Contest, ContestChange, Judge, PartInput, Prize, PrizeKind, PrizeQuotas, ScoreInput, check_contest};
use danvan::domain::{Access, Cluster, Grant, Level, Role, Unit, UnitKind, UnitTree};
use danvan::server::routes::sync::{StoredDoc, apply_document};
use danvan::sync::Layout;
use danvan_fuzz::{Edit, T0, actor, apply_edits, corrupt};
use libfuzzer_sys::fuzz_target;

const ID: &str = "hoi-thi-1";

/// Province P; communes A and B in cluster CUM-1, C in CUM-2.
fn tree() -> &'static UnitTree {
    static TREE: OnceLock<UnitTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let unit = |code: &str, kind, parent: Option<&str>, cluster: Option<&str>| Unit {
            code: code.into(),
            name: format!("Đơn vị {code}"),
            kind,
            level: if parent.is_some() { Level::Grassroots } else { Level::Province },
            parent: parent.map(str::to_string),
            cluster: cluster.map(str::to_string),
        };
        let cluster = |code: &str| Cluster { code: code.into(), name: format!("Cụm {code}"), head: None, deputy: None };
        UnitTree::from_units(
            vec![
                unit("P", UnitKind::ProvinceCommittee, None, None),
                unit("A", UnitKind::Commune, Some("P"), Some("CUM-1")),
                unit("B", UnitKind::Commune, Some("P"), Some("CUM-1")),
                unit("C", UnitKind::Commune, Some("P"), Some("CUM-2")),
            ],
            vec![cluster("CUM-1"), cluster("CUM-2")],
        )
    })
}

/// The organiser (reviewer of P), an administrator of P, a cadre of A (a team), a cadre of C (a
/// team, the other cluster), judge gk1 (a cadre of B), judge gk2 (no grants), and nobody.
const USERS: [&str; 7] = ["binhxet", "quantri", "canbo.a", "canbo.c", "gk1", "gk2", "nobody"];

fn access(user: &str) -> Access {
    let grant = |unit: &str, role| vec![Grant { unit: unit.into(), role }];
    let grants = match user {
        "binhxet" => grant("P", Role::Reviewer),
        "quantri" => grant("P", Role::Admin),
        "canbo.a" => grant("A", Role::Member),
        "canbo.c" => grant("C", Role::Member),
        "gk1" => grant("B", Role::Member),
        _ => Vec::new(),
    };
    Access::new(&grants, tree())
}

/// Applies a fixture's change, which must be accepted exactly as the server would.
fn step(c: &mut Contest, user: &str, change: ContestChange, at: i64) {
    let before = c.clone();
    let what = format!("{change:?}");
    let mut n = 0;
    c.apply(change, user, tree(), at, || {
        n += 1;
        format!("{user}-{at}-{n}")
    })
    .unwrap_or_else(|e| panic!("the fixture's {what} by {user}: {e:?}"));
    check_contest(Some(&before), c, user, &access(user), tree()).unwrap_or_else(|e| panic!("the rule refuses the fixture's {what}: {e}"));
}

fn scores(c: &mut Contest, round: &str, judge: &str, team: &str, points: [&str; 3], at: i64) {
    let inputs = points
        .iter()
        .enumerate()
        .map(|(i, p)| ScoreInput { team: team.into(), part: format!("p{}", i + 1), points: p.to_string(), comment: String::new() })
        .collect();
    step(c, judge, ContestChange::Score { round: round.into(), inputs }, at);
}

/// The stored contest at `stage` (0 set up, 1 partly scored, 2 preliminaries closed, 3
/// published), as document bytes and as read back.
fn stored(stage: u8) -> &'static (Vec<u8>, Contest) {
    static STAGES: OnceLock<Vec<(Vec<u8>, Contest)>> = OnceLock::new();
    let stages = STAGES.get_or_init(|| {
        let judges = vec![Judge { username: "gk1".into(), name: "Giám khảo 1".into() }, Judge { username: "gk2".into(), name: "Giám khảo 2".into() }];
        let mut c = Contest::new(ID.into(), "Hội thi Dân vận khéo", Level::Province, 2026, "P", "binhxet", T0);
        let mut t = T0;
        let mut at = || {
            t += 1000;
            t
        };
        step(&mut c, "binhxet", ContestChange::AddPreliminaries, at());
        for round in ["so-khao-CUM-1", "so-khao-CUM-2", "chung-khao"] {
            step(&mut c, "binhxet", ContestChange::Round { round: round.into(), date: "2026-10-06".into(), venue: "Hội trường".into(), judges: judges.clone() }, at());
        }
        step(&mut c, "canbo.a", ContestChange::RegisterTeam { unit: "A".into(), name: "Đội A".into(), members: "Người 1\nNgười 2".into() }, at());
        step(&mut c, "binhxet", ContestChange::RegisterTeam { unit: "B".into(), name: "Đội B".into(), members: String::new() }, at());
        step(&mut c, "canbo.c", ContestChange::RegisterTeam { unit: "C".into(), name: "Đội C".into(), members: String::new() }, at());
        let mut stages = vec![c.clone()];
        scores(&mut c, "so-khao-CUM-1", "gk1", "doi-A", ["25", "24,5", "35"], at());
        scores(&mut c, "so-khao-CUM-1", "gk1", "doi-B", ["20", "22", "30"], at());
        scores(&mut c, "so-khao-CUM-1", "gk2", "doi-A", ["26", "", ""], at());
        stages.push(c.clone());
        scores(&mut c, "so-khao-CUM-1", "gk2", "doi-A", ["26", "25", "36"], at());
        scores(&mut c, "so-khao-CUM-1", "gk2", "doi-B", ["21", "22", "30"], at());
        step(&mut c, "binhxet", ContestChange::Excuse { round: "so-khao-CUM-2".into(), judge: "gk2".into(), team: String::new(), reason: "Vắng".into(), excused: true }, at());
        scores(&mut c, "so-khao-CUM-2", "gk1", "doi-C", ["27", "26", "37"], at());
        // Two qualifiers per cluster by default would take both of CUM-1: one only, so the tie
        // rules and the final's forming are exercised.
        let (name, level, year, drop_extremes, quotas) = (c.name.clone(), c.level, c.year, c.drop_extremes, c.quotas.clone());
        let parts = c.parts.iter().map(|p| PartInput { id: p.id.clone(), label: p.label.clone(), max: danvan::domain::contest::format_points(p.max) }).collect();
        step(&mut c, "binhxet", ContestChange::Rules { name, level, year, parts, drop_extremes, qualifiers_per_cluster: 1, quotas }, at());
        step(&mut c, "binhxet", ContestChange::Close { round: "so-khao-CUM-1".into() }, at());
        step(&mut c, "binhxet", ContestChange::Close { round: "so-khao-CUM-2".into() }, at());
        stages.push(c.clone());
        for judge in ["gk1", "gk2"] {
            scores(&mut c, "chung-khao", judge, "doi-A", ["28", "28", "38"], at());
            scores(&mut c, "chung-khao", judge, "doi-C", ["25", "25", "35"], at());
        }
        step(&mut c, "binhxet", ContestChange::Close { round: "chung-khao".into() }, at());
        let prizes = c.suggest_prizes().expect("prizes follow the final");
        step(&mut c, "binhxet", ContestChange::Award { prizes }, at());
        step(&mut c, "binhxet", ContestChange::Publish, at());
        stages.push(c);
        stages
            .into_iter()
            .map(|c| {
                let mut doc = contest_doc::create(&c, T0).expect("a contest writes");
                let read = contest_doc::read_contest(&doc).expect("and reads back");
                (doc.save(), read)
            })
            .collect()
    });
    &stages[stage as usize % stages.len()]
}

/// Strings the contest uses, so that fuzzer-chosen values hit real rounds, teams, judges, units.
const KNOWN: &[&str] = &[
    "so-khao-CUM-1", "so-khao-CUM-2", "chung-khao", "doi-A", "doi-B", "doi-C", "A", "B", "C", "P", "binhxet", "quantri",
    "canbo.a", "canbo.c", "gk1", "gk2", "nobody", "p1", "p2", "p3", "p4", "", "8", "8,5", "30", "-1", "2026-10-06",
];

#[derive(Arbitrary, Debug, Clone)]
enum Text {
    Known(u8),
    Other(String),
}

impl Text {
    fn get(&self) -> String {
        match self {
            Text::Known(i) => KNOWN[*i as usize % KNOWN.len()].to_string(),
            Text::Other(s) => s.clone(),
        }
    }
}

fn texts(items: &[Text]) -> Vec<String> {
    items.iter().take(8).map(Text::get).collect()
}

#[derive(Arbitrary, Debug, Clone)]
enum ArbChange {
    Rules { name: Text, level: u8, year: u32, parts: Vec<(Text, Text, Text)>, drop_extremes: bool, qualifiers: u32, quotas: [u32; 4] },
    AddPreliminaries,
    Round { round: Text, date: Text, venue: Text, judges: Vec<(Text, Text)> },
    Excuse { round: Text, judge: Text, team: Text, reason: Text, excused: bool },
    TieBreak { round: Text, order: Vec<Text> },
    RegisterTeam { unit: Text, name: Text, members: Text },
    Score { round: Text, inputs: Vec<(Text, Text, Text, Text)> },
    Close { round: Text },
    Award { prizes: Vec<(Text, u8)> },
    Publish,
}

impl ArbChange {
    fn change(&self) -> ContestChange {
        match self {
            ArbChange::Rules { name, level, year, parts, drop_extremes, qualifiers, quotas } => ContestChange::Rules {
                name: name.get(),
                level: [Level::Grassroots, Level::District, Level::Province][*level as usize % 3],
                year: *year,
                parts: parts.iter().take(8).map(|(id, label, max)| PartInput { id: id.get(), label: label.get(), max: max.get() }).collect(),
                drop_extremes: *drop_extremes,
                qualifiers_per_cluster: *qualifiers,
                quotas: PrizeQuotas { first: quotas[0], second: quotas[1], third: quotas[2], consolation: quotas[3] },
            },
            ArbChange::AddPreliminaries => ContestChange::AddPreliminaries,
            ArbChange::Round { round, date, venue, judges } => ContestChange::Round {
                round: round.get(),
                date: date.get(),
                venue: venue.get(),
                judges: judges.iter().take(8).map(|(u, n)| Judge { username: u.get(), name: n.get() }).collect(),
            },
            ArbChange::Excuse { round, judge, team, reason, excused } => {
                ContestChange::Excuse { round: round.get(), judge: judge.get(), team: team.get(), reason: reason.get(), excused: *excused }
            }
            ArbChange::TieBreak { round, order } => ContestChange::TieBreak { round: round.get(), order: texts(order) },
            ArbChange::RegisterTeam { unit, name, members } => ContestChange::RegisterTeam { unit: unit.get(), name: name.get(), members: members.get() },
            ArbChange::Score { round, inputs } => ContestChange::Score {
                round: round.get(),
                inputs: inputs
                    .iter()
                    .take(12)
                    .map(|(team, part, points, comment)| ScoreInput { team: team.get(), part: part.get(), points: points.get(), comment: comment.get() })
                    .collect(),
            },
            ArbChange::Close { round } => ContestChange::Close { round: round.get() },
            ArbChange::Award { prizes } => ContestChange::Award {
                prizes: prizes.iter().take(8).map(|(team, kind)| Prize { team: team.get(), kind: PrizeKind::ALL[*kind as usize % PrizeKind::ALL.len()] }).collect(),
            },
            ArbChange::Publish => ContestChange::Publish,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Send {
    /// The client's document whole (never synced), with some bytes flipped.
    Whole { flips: Vec<(u16, u8)> },
    /// Rounds of the sync protocol, each message with some bytes flipped.
    Rounds { flips: Vec<(u16, u8)> },
}

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any bytes as a contest document: read, then judged as a creation and as a change of the
    /// stored contest.
    Document(Vec<u8>),
    /// Any bytes loaded onto the stored contest (a document sent whole, merged), then judged.
    Incremental(Vec<u8>),
    /// A device holding the stored contest changes it — through the domain as `as_user`, then
    /// with any automerge operations — and sends it to the server as `caller`.
    Client { changes: Vec<(ArbChange, u8)>, edits: Vec<Edit>, send: Send },
    /// Anything, as a request document for the stored contest (or an id not stored).
    Raw { message: Vec<u8>, document: Option<Vec<u8>>, stored: bool },
}

#[derive(Arbitrary, Debug)]
struct Case {
    stage: u8,
    caller: u8,
    input: Input,
}

/// What the caller's contest must satisfy once the rule took it (the app and every device read
/// it the same way): its results, closing and prizes compute, and it comes back the same from a
/// new document.
fn holds_up(after: &Contest, user: &str) {
    for round in &after.rounds {
        let _ = after.results(&round.id);
        let _ = after.closing(&round.id);
    }
    let _ = after.final_ranking();
    let _ = after.suggest_prizes();
    let _ = after.check_prizes(&after.prizes);
    let _ = contest_doc::may_read(after, user, &access(user));
    let again = contest_doc::read_contest(&contest_doc::create(after, T0).expect("an accepted contest writes")).expect("and reads back");
    assert_eq!(&again, after, "a contest read from a document reads back the same from a new one");
}

/// The read and the rule as the server applies them to a document it holds: `before` is the
/// stored contest, or none when the document would be new.
fn judge(doc: &AutoCommit, before: Option<&Contest>, user: &str) {
    if contest_doc::kind(doc) != Kind::Contest {
        return;
    }
    let Ok(after) = contest_doc::read_contest(doc) else { return };
    let _ = contest_doc::readers(&after);
    if check_contest(before, &after, user, &access(user), tree()).is_ok() {
        holds_up(&after, user);
    }
}

/// A write the server's step accepted, checked against the rules as stated for contests: it
/// loads onto what was stored, stays a contest of the same organiser, reads, and the rule takes
/// it from the caller.
fn check_write(stored: Option<&(Vec<u8>, Contest)>, user: &str, write: &danvan::server::store::Write) {
    let mut merged = match (stored, write.chunk.snapshot) {
        (Some((bytes, _)), false) => {
            let mut all = bytes.clone();
            all.extend_from_slice(&write.chunk.bytes);
            AutoCommit::load(&all).expect("the stored chunks plus the write load")
        }
        _ => AutoCommit::load(&write.chunk.bytes).expect("a snapshot loads"),
    };
    assert_eq!(danvan::sync::heads_to_bytes(&merged.get_heads()), write.heads, "the write's heads are the document's");
    assert_eq!(contest_doc::kind(&merged), Kind::Contest, "a contest stays a contest");
    let after = contest_doc::read_contest(&merged).expect("an accepted contest reads");
    assert_eq!(after.id, ID);
    assert_eq!(write.readers.as_deref(), Some(&contest_doc::readers(&after)[..]), "the readers recorded are the contest's");
    let before = stored.map(|s| &s.1);
    if let Some(before) = before {
        assert_eq!(after.unit, before.unit, "the organiser never changes");
        assert_eq!(write.unit, before.unit, "the recorded owner never changes");
    }
    check_contest(before, &after, user, &access(user), tree()).expect("what the server stored, the rule accepts from the caller");
    holds_up(&after, user);
}

fn server_step(stored: Option<&(Vec<u8>, Contest)>, user: &str, message: &[u8], document: Option<&[u8]>) -> Option<Vec<u8>> {
    let stored_doc = stored.map(|(bytes, _)| StoredDoc {
        bytes: bytes.clone(),
        seq: 3,
        layout: Layout { increments: 0, snapshot_bytes: bytes.len() as u64, increment_bytes: 0 },
        unit: "P".into(),
        public: false,
    });
    let (reply, write) = apply_document(stored_doc, ID, message, document, user, access(user)).ok()?;
    if let Some(write) = &write {
        check_write(stored, user, write);
    }
    if let Some(reply) = &reply {
        sync::Message::decode(reply).expect("the server's reply is a sync message");
    }
    reply
}

fuzz_target!(|case: Case| {
    let user = USERS[case.caller as usize % USERS.len()];
    let stored = stored(case.stage);
    match case.input {
        Input::Document(bytes) => {
            if let Ok(doc) = danvan::doc::load(&bytes) {
                judge(&doc, None, user);
                judge(&doc, Some(&stored.1), user);
            }
        }
        Input::Incremental(bytes) => {
            let mut doc = AutoCommit::load(&stored.0).expect("a stored contest loads");
            if doc.load_incremental(&bytes).is_ok() {
                judge(&doc, Some(&stored.1), user);
            }
        }
        Input::Client { changes, edits, send } => {
            let mut doc = AutoCommit::load(&stored.0).expect("a stored contest loads").with_actor(actor(5));
            // The page's path: apply to the contest as read, write what changed (refusals
            // change nothing, as on the device).
            for (i, (change, as_user)) in changes.iter().take(8).enumerate() {
                let as_user = USERS[*as_user as usize % USERS.len()];
                let Ok(mut c) = contest_doc::read_contest(&doc) else { break };
                let now = T0 + 1_000_000 + i as i64;
                let mut n = 0;
                if let Ok(true) = c.apply(change.change(), as_user, tree(), now, || {
                    n += 1;
                    format!("f{i}-{n}")
                }) {
                    let _ = contest_doc::write_contest(&mut doc, &c, now, "sửa");
                }
            }
            apply_edits(&mut doc, &edits, 16);
            match send {
                Send::Whole { flips } => {
                    let mut document = doc.save();
                    corrupt(&mut document, &flips);
                    let message = doc.sync().generate_sync_message(&mut sync::State::new()).map(|m| m.encode()).unwrap_or_default();
                    server_step(Some(stored), user, &message, Some(&document));
                }
                Send::Rounds { flips } => {
                    let mut state = sync::State::new();
                    for _ in 0..3 {
                        let Some(message) = doc.sync().generate_sync_message(&mut state) else { break };
                        let mut message = message.encode();
                        corrupt(&mut message, &flips);
                        let Some(reply) = server_step(Some(stored), user, &message, None) else { break };
                        let Ok(reply) = sync::Message::decode(&reply) else { break };
                        if doc.sync().receive_sync_message(&mut state, reply).is_err() {
                            break;
                        }
                    }
                }
            }
        }
        Input::Raw { message, document, stored: held } => {
            server_step(held.then_some(stored), user, &message, document.as_deref());
        }
    }
});
