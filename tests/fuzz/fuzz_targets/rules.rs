//! Every `check_*` rule the server applies to a model's records (`check_log`,
//! `check_commendations`, `check_replications`, `check_journal`, `check_evaluations`), plus the
//! lifecycle's own step rule (`check_transition` against `available`) and `replay`, with
//! arbitrary before/after pairs: `after` is built from `before` by fuzzer-chosen keeps, inserts,
//! rewrites, removals, moves and copies, with ids from a small set so that collisions are common.
//!
//! The append-only rules are compared with their specification, written here independently of
//! `append_only::appended`: a change is accepted exactly when the ids of `after` are unique, the
//! entries of `after` whose ids were in `before` are `before` itself in order, and every new
//! entry satisfies the record's own conditions (the caller's name, role, reason, level, dates).
#![no_main]

use std::collections::{HashMap, HashSet};

use arbitrary::Arbitrary;
use danvan::domain::{
    Action, Commendation, Evaluation, JournalEntry, Level, Replication, Roles, Score, ScoreChange, Status, StepContext,
    Transition, available, check_commendations, check_evaluations, check_journal, check_log, check_replications,
    check_transition, replay,
};
use danvan_fuzz::{Id, Name, T0, When};
use libfuzzer_sys::fuzz_target;

/// How `after` is made from `before`.
#[derive(Arbitrary, Debug, Clone)]
enum ListEdit<E> {
    Insert { at: u8, entry: E },
    /// The entry at `index` replaced by `entry` under the old id (a rewrite).
    Rewrite { index: u8, entry: E },
    Remove { index: u8 },
    Move { from: u8, to: u8 },
    Copy { index: u8, to: u8 },
}

fn build<T: Clone>(before: &[T], edits: &[ListEdit<T>], set_id: impl Fn(&mut T, &T)) -> Vec<T> {
    let mut after = before.to_vec();
    for edit in edits.iter().take(16) {
        let n = after.len();
        match edit {
            ListEdit::Insert { at, entry } => after.insert(*at as usize % (n + 1), entry.clone()),
            ListEdit::Rewrite { index, entry } if n > 0 => {
                let i = *index as usize % n;
                let mut e = entry.clone();
                set_id(&mut e, &after[i]);
                after[i] = e;
            }
            ListEdit::Remove { index } if n > 0 => {
                after.remove(*index as usize % n);
            }
            ListEdit::Move { from, to } if n > 0 => {
                let e = after.remove(*from as usize % n);
                after.insert(*to as usize % n, e);
            }
            ListEdit::Copy { index, to } if n > 0 => {
                let e = after[*index as usize % n].clone();
                after.insert(*to as usize % (n + 1), e);
            }
            _ => {}
        }
    }
    after
}

/// The append-only specification: unique ids, old entries kept in order, new ones returned.
fn spec_new<'a, T: PartialEq>(before: &[T], after: &'a [T], id: impl Fn(&T) -> &str) -> Option<Vec<&'a T>> {
    let ids: HashSet<&str> = after.iter().map(&id).collect();
    if ids.len() != after.len() {
        return None;
    }
    let old: HashSet<&str> = before.iter().map(&id).collect();
    let kept: Vec<&T> = after.iter().filter(|e| old.contains(id(e))).collect();
    if kept.len() != before.len() || kept.iter().zip(before).any(|(a, b)| *a != b) {
        return None;
    }
    Some(after.iter().filter(|e| !old.contains(id(e))).collect())
}

#[derive(Arbitrary, Debug, Clone)]
struct ArbStep {
    id: Id,
    action: u8,
    by: Name,
    at: When,
    reason: Option<String>,
    level: u8,
}

impl ArbStep {
    fn get(&self) -> Transition {
        let codes: Vec<&str> = Action::ALL.iter().map(|a| a.code()).chain(["khong_co", ""]).collect();
        let levels: Vec<&str> = Level::ALL.iter().map(|l| l.code()).chain(["", "xa"]).collect();
        Transition {
            id: self.id.get(),
            action: codes[self.action as usize % codes.len()].into(),
            by: self.by.get(),
            by_name: "Tên".into(),
            at: self.at.get(),
            reason: self.reason.clone().unwrap_or_else(|| "lý do".into()),
            level: levels[self.level as usize % levels.len()].into(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
struct ArbEntry {
    id: Id,
    by: Name,
    unit: u8,
    text: u8,
    at: When,
}

#[derive(Arbitrary, Debug, Clone)]
struct ArbSheet {
    id: Id,
    by: Name,
    started_at: u8,
    scores: Vec<(u8, Option<u8>)>,
    changes: Vec<(u8, u8)>,
    submitted: bool,
    result: u8,
    reason: Option<String>,
}

impl ArbSheet {
    fn get(&self) -> Evaluation {
        let codes: Vec<&str> = Action::ALL.iter().map(|a| a.code()).chain([""]).collect();
        Evaluation {
            id: self.id.get(),
            by: self.by.get(),
            by_name: "Tên".into(),
            started_at: i64::from(self.started_at),
            scores: self
                .scores
                .iter()
                .take(6)
                .enumerate()
                .map(|(i, (max, score))| Score {
                    criterion: format!("tc{i}"),
                    label: format!("Tiêu chí {i}"),
                    max: u32::from(*max % 21),
                    score: score.map(|s| u32::from(s % 25)),
                    comment: String::new(),
                })
                .collect(),
            changes: self
                .changes
                .iter()
                .take(6)
                .map(|(c, to)| ScoreChange { criterion: format!("tc{}", c % 6), label: String::new(), from: None, to: u32::from(*to), comment: String::new(), at: T0 })
                .collect(),
            submitted_at: if self.submitted { T0 } else { 0 },
            result: if self.submitted { codes[self.result as usize % codes.len()].into() } else { String::new() },
            reason: self.reason.clone().unwrap_or_default(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Case<E> {
    before: Vec<E>,
    edits: Vec<ListEdit<E>>,
    user: Name,
    cadre: bool,
    reviewer: bool,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Log { case: Case<ArbStep>, seen: Vec<(Id, Vec<Id>)>, now: When },
    Commendations(Case<ArbEntry>),
    Replications { case: Case<ArbEntry>, writable: Vec<u8> },
    Journal(Case<ArbEntry>),
    Evaluations(Case<ArbSheet>),
    Lifecycle { steps: Vec<ArbStep>, rotate: u8, cadre: bool, reviewer: bool },
}

const UNITS: [&str; 4] = ["A", "B", "P", "X"];

fn commendation(e: &ArbEntry) -> Commendation {
    Commendation {
        id: e.id.get(),
        form: "bang_khen".into(),
        issuer: format!("Cơ quan {}", e.text % 3),
        level: "tinh".into(),
        decision_number: "1".into(),
        decision_date: "2026-11-20".into(),
        recipients: String::new(),
        by: e.by.get(),
        by_name: "Tên".into(),
        at: e.at.get(),
    }
}

fn replication(e: &ArbEntry) -> Replication {
    Replication { id: e.id.get(), unit: UNITS[e.unit as usize % 4].into(), unit_name: String::new(), by: e.by.get(), by_name: "Tên".into(), at: e.at.get() }
}

fn journal(e: &ArbEntry) -> JournalEntry {
    JournalEntry {
        id: e.id.get(),
        date: "2026-11-20".into(),
        text: format!("Họp dân {}", e.text % 3),
        updates: Vec::new(),
        photos: Vec::new(),
        location: None,
        place: String::new(),
        by: e.by.get(),
        by_name: "Tên".into(),
        at: e.at.get(),
    }
}

/// `before` as the server stored it: what the rules accepted before, so ids are unique.
fn stored<T: Clone>(list: Vec<T>, id: impl Fn(&T) -> String) -> Vec<T> {
    let mut seen = HashSet::new();
    list.into_iter().filter(|e| seen.insert(id(e))).take(8).collect()
}

fn same_id<T, F: Fn(&mut T, &T)>(f: F) -> F {
    f
}

fuzz_target!(|input: Input| {
    match input {
        Input::Log { case, seen, now } => {
            let before = stored(case.before.iter().map(ArbStep::get).collect(), |t| t.id.clone());
            let edits: Vec<ListEdit<Transition>> = case.edits.iter().map(|e| map_edit(e, ArbStep::get)).collect();
            let after = build(&before, &edits, same_id(|e: &mut Transition, old: &Transition| e.id = old.id.clone()));
            let user = case.user.get();
            let roles = Roles { cadre: case.cadre, reviewer: case.reviewer };
            let context = StepContext {
                now_ms: now.get(),
                seen: seen.iter().take(8).map(|(id, ids)| (id.get(), ids.iter().take(8).map(Id::get).collect())).collect::<HashMap<_, _>>(),
            };
            let got = check_log(&before, &after, &user, roles, &context);
            let want = spec_new(&before, &after, |t| &t.id).is_some_and(|new| {
                new.iter().all(|t| {
                    let Some(action) = Action::from_code(&t.action) else { return false };
                    let seen = context.seen.get(&t.id).cloned().unwrap_or_default();
                    t.by == user
                        && action.allowed_for(roles)
                        && (!action.needs_reason() || !t.reason.trim().is_empty())
                        && (!action.needs_level() || Level::from_code(&t.level).is_some())
                        && t.at <= context.now_ms.saturating_add(danvan::domain::append_only::MAX_CLOCK_AHEAD_MS)
                        && after.iter().filter(|o| seen.contains(&o.id)).all(|o| o.at < t.at)
                })
            });
            assert_eq!(got.is_ok(), want, "check_log said {got:?}\nbefore {before:?}\nafter {after:?}\nuser {user} {roles:?} {context:?}");
        }
        Input::Commendations(case) => {
            let before = stored(case.before.iter().map(commendation).collect(), |c| c.id.clone());
            let edits: Vec<ListEdit<Commendation>> = case.edits.iter().map(|e| map_edit(e, commendation)).collect();
            let after = build(&before, &edits, same_id(|e: &mut Commendation, old: &Commendation| e.id = old.id.clone()));
            let user = case.user.get();
            let roles = Roles { cadre: case.cadre, reviewer: case.reviewer };
            let got = check_commendations(&before, &after, &user, roles);
            let want = spec_new(&before, &after, |c| &c.id).is_some_and(|new| new.iter().all(|c| roles.reviewer && c.by == user));
            assert_eq!(got.is_ok(), want, "check_commendations said {got:?}\nbefore {before:?}\nafter {after:?}");
        }
        Input::Replications { case, writable } => {
            let before = stored(case.before.iter().map(replication).collect(), |r| r.id.clone());
            let edits: Vec<ListEdit<Replication>> = case.edits.iter().map(|e| map_edit(e, replication)).collect();
            let after = build(&before, &edits, same_id(|e: &mut Replication, old: &Replication| e.id = old.id.clone()));
            let user = case.user.get();
            let writes: HashSet<&str> = writable.iter().map(|u| UNITS[*u as usize % 4]).collect();
            let got = check_replications(&before, &after, &user, |u| writes.contains(u));
            let want = spec_new(&before, &after, |r| &r.id).is_some_and(|new| new.iter().all(|r| r.by == user && writes.contains(r.unit.as_str())));
            assert_eq!(got.is_ok(), want, "check_replications said {got:?}\nbefore {before:?}\nafter {after:?}");
        }
        Input::Journal(case) => {
            let before = stored(case.before.iter().map(journal).collect(), |j| j.id.clone());
            let edits: Vec<ListEdit<JournalEntry>> = case.edits.iter().map(|e| map_edit(e, journal)).collect();
            let after = build(&before, &edits, same_id(|e: &mut JournalEntry, old: &JournalEntry| e.id = old.id.clone()));
            let user = case.user.get();
            let roles = Roles { cadre: case.cadre, reviewer: case.reviewer };
            let got = check_journal(&before, &after, &user, roles);
            let want = spec_new(&before, &after, |j| &j.id).is_some_and(|new| new.iter().all(|j| roles.cadre && j.by == user));
            assert_eq!(got.is_ok(), want, "check_journal said {got:?}\nbefore {before:?}\nafter {after:?}");
        }
        Input::Evaluations(case) => {
            let before = stored(case.before.iter().map(ArbSheet::get).collect(), |e| e.id.clone());
            let edits: Vec<ListEdit<Evaluation>> = case.edits.iter().map(|e| map_edit(e, ArbSheet::get)).collect();
            let after = build(&before, &edits, same_id(|e: &mut Evaluation, old: &Evaluation| e.id = old.id.clone()));
            let user = case.user.get();
            let roles = Roles { cadre: case.cadre, reviewer: case.reviewer };
            if check_evaluations(&before, &after, &user, roles).is_ok() {
                // What an accepted change to the sheets may be (the rule's doc comment).
                let ids: HashSet<&str> = after.iter().map(|e| e.id.as_str()).collect();
                assert_eq!(ids.len(), after.len(), "sheet ids are unique");
                for old in &before {
                    let new = after.iter().find(|e| e.id == old.id).expect("no sheet is deleted");
                    if new != old {
                        assert!(!old.is_submitted(), "a submitted sheet never changes");
                        assert!(old.by == user && new.by == old.by && new.started_at == old.started_at, "only its reviewer changes a sheet");
                        assert!(new.changes.starts_with(&old.changes), "the score log only grows");
                    }
                }
                for new in after.iter().filter(|e| !before.contains(e)) {
                    assert!(roles.reviewer && new.by == user, "sheets are written by reviewers in their own name");
                    assert!(new.scores.iter().all(|s| s.score.is_none_or(|v| v <= s.max)), "scores within their maximum");
                    if new.is_submitted() {
                        let result = new.result_action().expect("a submitted sheet has a result");
                        assert!(new.check_result(result, &new.reason).is_ok(), "a submitted sheet is complete");
                        assert!(matches!(result, Action::Recognise | Action::Reject | Action::Return));
                    }
                }
            }
        }
        Input::Lifecycle { steps, rotate, cadre, reviewer } => {
            let log = stored(steps.iter().map(ArbStep::get).collect(), |t| t.id.clone());
            // Every device computes the same state from the same steps, whatever their list order.
            let (status, applied) = replay(&log);
            let mut turned = log.clone();
            if !turned.is_empty() {
                let n = turned.len();
                turned.rotate_left(rotate as usize % n);
                turned.reverse();
            }
            let (status2, applied2) = replay(&turned);
            assert_eq!(status, status2, "replay depends on list order");
            let ids = |steps: &[danvan::domain::Step]| steps.iter().map(|s| (s.transition.id.clone(), s.to)).collect::<Vec<_>>();
            assert_eq!(ids(&applied), ids(&applied2));
            // A new step dated by step_time sorts after every step held.
            let at = danvan::domain::step_time(&log, T0);
            assert!(log.iter().all(|t| t.at < at || t.at == i64::MAX));
            // The buttons offered are exactly the steps the rule allows.
            let roles = Roles { cadre, reviewer };
            for s in Status::ALL {
                let offered = available(s, roles);
                for a in Action::ALL {
                    let ok = check_transition(a, s, roles, "lý do", "tinh").is_ok();
                    assert_eq!(ok, offered.contains(&a), "{a:?} from {s:?} for {roles:?}");
                }
            }
        }
    }
});

fn map_edit<A, T>(edit: &ListEdit<A>, f: impl Fn(&A) -> T) -> ListEdit<T> {
    match edit {
        ListEdit::Insert { at, entry } => ListEdit::Insert { at: *at, entry: f(entry) },
        ListEdit::Rewrite { index, entry } => ListEdit::Rewrite { index: *index, entry: f(entry) },
        ListEdit::Remove { index } => ListEdit::Remove { index: *index },
        ListEdit::Move { from, to } => ListEdit::Move { from: *from, to: *to },
        ListEdit::Copy { index, to } => ListEdit::Copy { index: *index, to: *to },
    }
}
