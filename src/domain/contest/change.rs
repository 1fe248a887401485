//! What a contest page asks to change ([`ContestChange`]), applied by one function,
//! [`Contest::apply`], in two places: on the page first, to the contest it shows, so a judge sees
//! a bad cell at once, offline; then by the document engine, to the contest as stored at that
//! moment (a sheet synced in meanwhile is kept: the change is re-applied, not the page's copy
//! written). The engine then checks the result with [`check_contest`](super::check_contest) —
//! the server's own rule — so a change the server would refuse is refused on the device, with
//! the server's sentence, before anything is stored.
//!
//! Problems are `(control, message)` pairs: the control is the form field the message belongs to
//! (a score cell's [`score_control`](super::score_control), a setup field's id), or "" for the
//! change as a whole.

use serde::{Deserialize, Serialize};

use super::{Contest, Excused, Judge, Part, Prize, PrizeQuotas, ScoreInput, Stage, parse_points, PUBLISHED};
use crate::domain::model::Level;
use crate::domain::unit::UnitTree;

/// One change a contest page asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ContestChange {
    /// The rules: name, level, year, parts (label and maximum as typed), how part scores are
    /// formed, teams per cluster to the final, prize quotas. A part keeps its id; a new part
    /// (empty id) gets the next free `pN`.
    Rules { name: String, level: Level, year: u32, parts: Vec<PartInput>, drop_extremes: bool, qualifiers_per_cluster: u32, quotas: PrizeQuotas },
    /// A preliminary for every cluster of the organiser's subtree that has none yet.
    AddPreliminaries,
    /// A round's date (YYYY-MM-DD or empty), venue and judges.
    Round { round: String, date: String, venue: String, judges: Vec<Judge> },
    /// A judge does not score a team (or, `team` empty, any team) of a round: their missing
    /// scores stop holding the round open. `excused: false` takes it back.
    Excuse { round: String, judge: String, team: String, reason: String, excused: bool },
    /// The organiser's order for teams with equal totals (best first).
    TieBreak { round: String, order: Vec<String> },
    /// A unit's team (members one per line).
    RegisterTeam { unit: String, name: String, members: String },
    /// The signed-in judge's scores on their sheet of a round.
    Score { round: String, inputs: Vec<ScoreInput> },
    Close { round: String },
    Award { prizes: Vec<Prize> },
    Publish,
}

/// A part as typed on the rules form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartInput {
    /// Empty for a new part.
    pub id: String,
    pub label: String,
    /// The maximum as typed ("30", "12,5").
    pub max: String,
}

/// `(control, message)`; control "" is the change as a whole.
pub type Problems = Vec<(String, String)>;

fn whole(message: impl Into<String>) -> Problems {
    vec![(String::new(), message.into())]
}

/// A team's id follows from its unit, so the organiser and the unit's cadre registering it on two
/// devices offline register one team (the document keys teams by unit, `doc::contest`).
pub fn team_id(unit: &str) -> String {
    format!("doi-{unit}")
}

impl ContestChange {
    /// The history's words for this change.
    pub fn message(&self) -> &'static str {
        match self {
            ContestChange::Rules { .. } => "sửa thể lệ hội thi",
            ContestChange::AddPreliminaries => "lập các vòng sơ khảo",
            ContestChange::Round { .. } => "sửa vòng thi",
            ContestChange::Excuse { .. } => "ghi nhận giám khảo không chấm",
            ContestChange::TieBreak { .. } => "xếp thứ tự các đội bằng điểm",
            ContestChange::RegisterTeam { .. } => "đăng ký đội thi",
            ContestChange::Score { .. } => "chấm điểm",
            ContestChange::Close { .. } => "khóa vòng thi",
            ContestChange::Award { .. } => "trao giải",
            ContestChange::Publish => "công bố kết quả",
        }
    }
}

impl Contest {
    /// Applies `change` as `user` (their username; `user_name` for what is printed) at `now_ms`;
    /// `tree` is the unit tree the user's profile holds (for the clusters). `Ok(false)`: nothing
    /// changed. On any problem the contest is left as it was.
    pub fn apply(&mut self, change: ContestChange, user: &str, tree: &UnitTree, now_ms: i64, new_id: impl FnMut() -> String) -> Result<bool, Problems> {
        if self.is_published() {
            return Err(whole(PUBLISHED));
        }
        let before = self.clone();
        let result = self.apply_inner(change, user, tree, now_ms, new_id);
        match result {
            Ok(_) => {
                if let Err(problem) = self.validate() {
                    *self = before;
                    return Err(whole(problem));
                }
                Ok(*self != before)
            }
            Err(problems) => {
                *self = before;
                Err(problems)
            }
        }
    }

    fn apply_inner(&mut self, change: ContestChange, user: &str, tree: &UnitTree, now_ms: i64, new_id: impl FnMut() -> String) -> Result<(), Problems> {
        match change {
            ContestChange::Rules { name, level, year, parts, drop_extremes, qualifiers_per_cluster, quotas } => {
                let mut problems = Problems::new();
                if name.trim().is_empty() {
                    problems.push(("contest-name".into(), "Hãy nhập tên hội thi.".into()));
                }
                if !(2000..=2100).contains(&year) {
                    problems.push(("contest-year".into(), "Năm tổ chức phải từ 2000 đến 2100.".into()));
                }
                let mut next = self.parts.len() + parts.len();
                let mut kept = Vec::with_capacity(parts.len());
                for (i, p) in parts.iter().enumerate() {
                    let control = format!("part-{i}");
                    if p.label.trim().is_empty() {
                        problems.push((control, format!("Phần thi {} cần tên.", i + 1)));
                        continue;
                    }
                    let max = match parse_points(&p.max, super::MAX_PART_POINTS * super::SCALE) {
                        Ok(0) => {
                            problems.push((format!("part-max-{i}"), format!("Điểm tối đa của phần “{}” phải lớn hơn 0.", p.label.trim())));
                            continue;
                        }
                        Ok(m) => m,
                        Err(problem) => {
                            problems.push((format!("part-max-{i}"), format!("Điểm tối đa của phần “{}” {problem}", p.label.trim())));
                            continue;
                        }
                    };
                    let id = if p.id.is_empty() {
                        // The next id no part has had: a removed part's id is not reused.
                        loop {
                            next += 1;
                            let id = format!("p{next}");
                            if !self.parts.iter().chain(&kept).any(|q: &Part| q.id == id) && !parts.iter().any(|q| q.id == id) {
                                break id;
                            }
                        }
                    } else {
                        p.id.clone()
                    };
                    kept.push(Part { id, label: p.label.trim().to_string(), max });
                }
                if parts.is_empty() {
                    problems.push(("part-0".into(), "Hội thi cần ít nhất một phần thi.".into()));
                }
                if !(1..=100).contains(&qualifiers_per_cluster) {
                    problems.push(("contest-qualifiers".into(), "Số đội mỗi cụm vào chung khảo phải từ 1 đến 100.".into()));
                }
                if !problems.is_empty() {
                    return Err(problems);
                }
                self.name = name.trim().to_string();
                self.level = level;
                self.year = year;
                self.parts = kept;
                self.drop_extremes = drop_extremes;
                self.qualifiers_per_cluster = qualifiers_per_cluster;
                self.quotas = quotas;
            }
            ContestChange::AddPreliminaries => {
                if self.add_preliminaries(tree) == 0 {
                    return Err(whole(
                        "Không có cụm thi đua nào mới trong phạm vi đơn vị tổ chức (quản trị viên chia cụm ở trang Quản trị); mọi cụm đã có vòng sơ khảo.",
                    ));
                }
            }
            ContestChange::Round { round, date, venue, judges } => {
                let Some(r) = self.rounds.iter_mut().find(|r| r.id == round) else { return Err(whole("Không có vòng thi này.")) };
                if r.is_closed() {
                    return Err(whole(format!("Vòng “{}” đã khóa; không sửa được nữa.", r.name)));
                }
                let mut problems = Problems::new();
                let date = date.trim().to_string();
                if !date.is_empty() && crate::domain::Date::parse(&date).is_none() {
                    problems.push(("round-date".into(), "Ngày thi không hợp lệ.".into()));
                }
                let mut seen = std::collections::BTreeSet::new();
                let mut cleaned = Vec::with_capacity(judges.len());
                for (i, j) in judges.into_iter().enumerate() {
                    let username = j.username.trim().to_lowercase();
                    if username.is_empty() {
                        problems.push((format!("judge-{i}"), format!("Giám khảo {} cần tên đăng nhập.", i + 1)));
                    } else if !seen.insert(username.clone()) {
                        problems.push((format!("judge-{i}"), format!("Giám khảo “{username}” có hai lần.")));
                    }
                    let name = if j.name.trim().is_empty() { username.clone() } else { j.name.trim().to_string() };
                    cleaned.push(Judge { username, name });
                }
                if cleaned.len() > super::MAX_JUDGES {
                    problems.push(("judge-0".into(), format!("Mỗi vòng tối đa {} giám khảo.", super::MAX_JUDGES)));
                }
                if !problems.is_empty() {
                    return Err(problems);
                }
                r.date = date;
                r.venue = venue.trim().to_string();
                r.judges = cleaned;
            }
            ContestChange::Excuse { round, judge, team, reason, excused } => {
                let Some(r) = self.rounds.iter_mut().find(|r| r.id == round) else { return Err(whole("Không có vòng thi này.")) };
                if r.is_closed() {
                    return Err(whole(format!("Vòng “{}” đã khóa; không sửa được nữa.", r.name)));
                }
                r.excused.retain(|e| !(e.judge == judge && e.team == team));
                if excused {
                    if reason.trim().is_empty() {
                        return Err(vec![("excuse-reason".into(), "Hãy ghi lý do giám khảo không chấm.".into())]);
                    }
                    r.excused.push(Excused { judge, team, reason: reason.trim().to_string() });
                }
            }
            ContestChange::TieBreak { round, order } => {
                let Some(r) = self.rounds.iter_mut().find(|r| r.id == round) else { return Err(whole("Không có vòng thi này.")) };
                if r.is_closed() {
                    return Err(whole(format!("Vòng “{}” đã khóa; không sửa được nữa.", r.name)));
                }
                r.tie_break = order;
            }
            ContestChange::RegisterTeam { unit, name, members } => {
                let mut problems = Problems::new();
                if unit.is_empty() {
                    problems.push(("team-unit".into(), "Hãy chọn đơn vị của đội.".into()));
                }
                if name.trim().is_empty() {
                    problems.push(("team-name".into(), "Hãy nhập tên đội.".into()));
                }
                if !problems.is_empty() {
                    return Err(problems);
                }
                self.register_team(team_id(&unit), &unit, &name, &members, user, now_ms).map_err(|e| vec![("team-unit".into(), e)])?;
            }
            ContestChange::Score { round, inputs } => {
                self.score(&round, user, &inputs, now_ms, new_id)?;
            }
            ContestChange::Close { round } => {
                self.close_round(&round, user, now_ms).map_err(|ps| ps.into_iter().map(|p| (String::new(), p)).collect::<Problems>())?;
            }
            ContestChange::Award { prizes } => {
                self.award(prizes).map_err(whole)?;
            }
            ContestChange::Publish => {
                self.publish(user, now_ms).map_err(whole)?;
            }
        }
        Ok(())
    }

    /// Whether `user` judges in any round still open.
    pub fn judges_open_round(&self, user: &str) -> bool {
        self.rounds.iter().any(|r| !r.is_closed() && r.is_assigned(user))
    }

    /// The stage's words.
    pub fn stage_label(stage: Stage) -> &'static str {
        match stage {
            Stage::Preliminary => "Sơ khảo",
            Stage::Final => "Chung khảo",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Role;
    use crate::domain::contest::{check_contest, score_control};
    use crate::domain::{Access, Grant};

    const TREE: &str = "code,name,kind,level,parent,cluster
BAVI,Huyện ủy Ba Vì,huyen,huyen,,
X1,Xã Tản Lĩnh,xa,co_so,BAVI,CUM-1
X2,Xã Ba Trại,xa,co_so,BAVI,CUM-1
X3,Xã Minh Quang,xa,co_so,BAVI,CUM-2
";

    fn tree() -> UnitTree {
        UnitTree::from_csv(TREE).unwrap()
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id{n}")
        }
    }

    fn organiser() -> Access {
        Access::new(&[Grant { unit: "BAVI".into(), role: Role::Reviewer }], &tree())
    }

    fn set_up() -> Contest {
        let mut c = Contest::new("c1".into(), "Hội thi Dân vận khéo", Level::District, 2026, "BAVI", "bt", 1);
        c.apply(ContestChange::AddPreliminaries, "bt", &tree(), 2, ids()).unwrap();
        for r in ["so-khao-CUM-1", "so-khao-CUM-2", "chung-khao"] {
            let judges = vec![Judge { username: " GK1 ".into(), name: "Bà Hà".into() }, Judge { username: "gk2".into(), name: String::new() }];
            c.apply(ContestChange::Round { round: r.into(), date: "2026-10-02".into(), venue: "Hội trường xã".into(), judges }, "bt", &tree(), 3, ids())
                .unwrap();
        }
        for u in ["X1", "X2", "X3"] {
            c.apply(ContestChange::RegisterTeam { unit: u.into(), name: format!("Đội {u}"), members: "A\nB".into() }, "bt", &tree(), 4, ids()).unwrap();
        }
        c
    }

    fn score(c: &mut Contest, round: &str, judge: &str, team: &str, points: [&str; 3]) -> Result<bool, Problems> {
        let inputs = points
            .iter()
            .enumerate()
            .map(|(i, p)| ScoreInput { team: team.into(), part: format!("p{}", i + 1), points: p.to_string(), comment: String::new() })
            .collect();
        let mut n = c.sheets.iter().map(|s| s.changes.len()).sum::<usize>();
        c.apply(ContestChange::Score { round: round.into(), inputs }, judge, &tree(), 5, move || {
            n += 1;
            format!("{judge}-{n}")
        })
    }

    #[test]
    fn a_contest_set_up_through_changes_passes_the_servers_rule_at_every_step() {
        let access = organiser();
        let mut c = Contest::new("c1".into(), "Hội thi", Level::District, 2026, "BAVI", "bt", 1);
        check_contest(None, &c, "bt", &access, &tree()).unwrap();
        let before = c.clone();
        assert_eq!(c.apply(ContestChange::AddPreliminaries, "bt", &tree(), 2, ids()), Ok(true));
        check_contest(Some(&before), &c, "bt", &access, &tree()).unwrap();
        let c = set_up();
        assert_eq!(c.rounds.len(), 3);
        let judges = &c.round("so-khao-CUM-1").unwrap().judges;
        assert_eq!(judges[0].username, "gk1", "usernames are trimmed and lower-cased as sign-in does");
        assert_eq!(judges[1].name, "gk2", "a judge without a name is printed by username");
        assert_eq!(c.team("doi-X1").unwrap().members, vec!["A", "B"]);
        assert_eq!(c.team("doi-X1").unwrap().registered_by, "bt");
    }

    #[test]
    fn a_bad_score_cell_is_named_and_changes_nothing() {
        let mut c = set_up();
        let before = c.clone();
        let problems = score(&mut c, "so-khao-CUM-1", "gk1", "doi-X1", ["8", "abc", "9999"]).unwrap_err();
        let controls: Vec<&str> = problems.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(controls, vec![score_control("doi-X1", "p2"), score_control("doi-X1", "p3")]);
        assert_eq!(c, before, "the good cell of a refused sheet is not kept either");
        assert_eq!(score(&mut c, "so-khao-CUM-1", "gk1", "doi-X1", ["8", "20,5", "25"]), Ok(true));
        assert_eq!(score(&mut c, "so-khao-CUM-1", "gk1", "doi-X1", ["8", "20,5", "25"]), Ok(false), "the same scores again change nothing");
    }

    #[test]
    fn only_an_assigned_judge_scores_and_only_on_their_own_sheet() {
        let mut c = set_up();
        let problems = score(&mut c, "so-khao-CUM-1", "gk9", "doi-X1", ["8", "8", "8"]).unwrap_err();
        assert!(problems[0].1.contains("không phải giám khảo"), "{problems:?}");
        score(&mut c, "so-khao-CUM-1", "gk1", "doi-X1", ["8", "8", "8"]).unwrap();
        assert!(c.sheets.iter().all(|s| s.judge == "gk1"));
    }

    #[test]
    fn rules_keep_part_ids_give_new_parts_fresh_ones_and_name_bad_fields() {
        let mut c = set_up();
        let mut parts: Vec<PartInput> = c.parts.iter().map(|p| PartInput { id: p.id.clone(), label: p.label.clone(), max: "20".into() }).collect();
        parts.remove(1);
        parts.push(PartInput { id: String::new(), label: "Phần thi năng khiếu".into(), max: "12,5".into() });
        let rules = |parts: Vec<PartInput>, year| ContestChange::Rules {
            name: "Hội thi 2026".into(),
            level: Level::District,
            year,
            parts,
            drop_extremes: true,
            qualifiers_per_cluster: 1,
            quotas: PrizeQuotas { first: 1, second: 1, third: 0, consolation: 1 },
        };
        assert_eq!(c.apply(rules(parts.clone(), 2026), "bt", &tree(), 6, ids()), Ok(true));
        let ids_now: Vec<&str> = c.parts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids_now[..2], ["p1", "p3"]);
        assert!(!["p1", "p2", "p3"].contains(&ids_now[2]), "a new part never takes a removed part's id: {ids_now:?}");
        assert_eq!(c.parts[2].max, 1250);
        let mut bad = parts.clone();
        bad[0].label = " ".into();
        bad[1].max = "0".into();
        let problems = c.clone().apply(rules(bad, 1999), "bt", &tree(), 7, ids()).unwrap_err();
        let controls: Vec<&str> = problems.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(controls, vec!["contest-year", "part-0", "part-max-1"]);
    }

    #[test]
    fn closing_excusing_tie_breaking_awarding_and_publishing() {
        let mut c = set_up();
        c.qualifiers_per_cluster = 1;
        let close = |c: &mut Contest, round: &str| c.apply(ContestChange::Close { round: round.into() }, "bt", &tree(), 9, ids());
        for judge in ["gk1", "gk2"] {
            score(&mut c, "so-khao-CUM-1", judge, "doi-X1", ["8", "20", "30"]).unwrap();
        }
        score(&mut c, "so-khao-CUM-1", "gk1", "doi-X2", ["8", "20", "30"]).unwrap();
        let problems = close(&mut c, "so-khao-CUM-1").unwrap_err();
        assert!(problems[0].1.contains("Còn thiếu 3 điểm"), "{problems:?}");
        // gk2 left before team X2 played.
        let excuse = ContestChange::Excuse { round: "so-khao-CUM-1".into(), judge: "gk2".into(), team: "doi-X2".into(), reason: String::new(), excused: true };
        assert_eq!(c.apply(excuse.clone(), "bt", &tree(), 9, ids()).unwrap_err()[0].0, "excuse-reason");
        let ContestChange::Excuse { round, judge, team, .. } = excuse else { unreachable!() };
        c.apply(ContestChange::Excuse { round, judge, team, reason: "Ốm".into(), excused: true }, "bt", &tree(), 9, ids()).unwrap();
        // X1 and X2 tie with one place to the final.
        let problems = close(&mut c, "so-khao-CUM-1").unwrap_err();
        assert!(problems[0].1.contains("bằng điểm"), "{problems:?}");
        c.apply(ContestChange::TieBreak { round: "so-khao-CUM-1".into(), order: vec!["doi-X2".into(), "doi-X1".into()] }, "bt", &tree(), 9, ids())
            .unwrap();
        close(&mut c, "so-khao-CUM-1").unwrap();
        assert_eq!(c.round("so-khao-CUM-1").unwrap().qualifiers.len(), c.qualifiers_per_cluster as usize);
        for judge in ["gk1", "gk2"] {
            score(&mut c, "so-khao-CUM-2", judge, "doi-X3", ["9", "20", "30"]).unwrap();
        }
        close(&mut c, "so-khao-CUM-2").unwrap();
        for (team, p) in c.final_round().map(|f| c.teams_in(f).iter().map(|t| t.id.clone()).collect::<Vec<_>>()).unwrap().iter().zip(["9", "8", "7"]) {
            for judge in ["gk1", "gk2"] {
                score(&mut c, "chung-khao", judge, team, [p, "20", "30"]).unwrap();
            }
        }
        close(&mut c, "chung-khao").unwrap();
        let prizes = c.suggest_prizes().unwrap();
        assert_eq!(c.apply(ContestChange::Publish, "bt", &tree(), 10, ids()).map(|_| ()), Ok(()), "publishing without prizes is allowed");
        let problems = c.apply(ContestChange::Award { prizes }, "bt", &tree(), 11, ids()).unwrap_err();
        assert!(problems[0].1.contains("đã công bố"), "{problems:?}");
    }
}
