//! Contest prizes in a review: the prizes of published contests that went to teams of the
//! report's units within its period ("Quận Bắc Từ Liêm giành giải Nhất Hội thi cấp thành phố" is a
//! line of the district's yearly review, whoever organised the contest).

use serde::{Deserialize, Serialize};

use super::{Period, Scope};
use crate::domain::contest::{Contest, PrizeKind};
use crate::domain::{Date, Level, UnitTree};

/// One prize of a published contest, won by a team of a unit in the report's scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContestPrizeEntry {
    pub contest: String,
    pub contest_name: String,
    pub level: Level,
    /// The organiser's unit, by name when the tree knows it.
    pub organiser: String,
    /// The day the results were published (in Vietnam): the prize counts in the period holding it.
    pub published: Date,
    pub prize: PrizeKind,
    pub team: String,
    pub unit: String,
    pub unit_name: String,
}

/// The prizes of `contests` published within `period` and won by teams of units in `scope`
/// (the scope's unit and everything below it, or the cluster's members and everything below
/// them), in order of publication, then contest, then prize, best first.
pub fn contest_prizes(tree: &UnitTree, scope: &Scope, period: &Period, contests: &[Contest]) -> Vec<ContestPrizeEntry> {
    let roots: Vec<&str> = match scope {
        Scope::Unit(code) => vec![code.as_str()],
        Scope::Cluster(cluster) => tree.units().filter(|u| u.cluster.as_deref() == Some(cluster.as_str())).map(|u| u.code.as_str()).collect(),
    };
    let in_scope: std::collections::HashSet<&str> = roots.iter().flat_map(|r| tree.subtree(r)).map(|u| u.code.as_str()).collect();
    let name = |code: &str| tree.get(code).map_or_else(|| code.to_string(), |u| u.name.clone());
    let mut out = Vec::new();
    for contest in contests.iter().filter(|c| c.is_published()) {
        let published = Date::in_vietnam(contest.published_at);
        if !period.contains(published) {
            continue;
        }
        for prize in &contest.prizes {
            let Some(team) = contest.team(&prize.team) else { continue };
            if !in_scope.contains(team.unit.as_str()) {
                continue;
            }
            out.push(ContestPrizeEntry {
                contest: contest.id.clone(),
                contest_name: contest.name.clone(),
                level: contest.level,
                organiser: name(&contest.unit),
                published,
                prize: prize.kind,
                team: team.name.clone(),
                unit: team.unit.clone(),
                unit_name: name(&team.unit),
            });
        }
    }
    out.sort_by(|a, b| (a.published, &a.contest_name, &a.contest, a.prize, &a.team).cmp(&(b.published, &b.contest_name, &b.contest, b.prize, &b.team)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contest::{Prize, Team};

    fn contest(id: &str, organiser: &str, published: &str, prizes: &[(&str, &str, PrizeKind)]) -> Contest {
        let mut c = Contest::new(id.into(), &format!("Hội thi {id}"), Level::District, 2025, organiser, "bt", 0);
        for (team, unit, kind) in prizes {
            c.teams.push(Team { id: team.to_string(), unit: unit.to_string(), name: format!("Đội {unit}"), members: Vec::new(), registered_by: "bt".into(), registered_at: 0 });
            c.prizes.push(Prize { team: team.to_string(), kind: *kind });
        }
        if !published.is_empty() {
            c.published_at = Date::parse(published).unwrap().noon_in_vietnam_ms();
            c.published_by = "bt".into();
        }
        c
    }

    #[test]
    fn prizes_of_the_scopes_teams_published_within_the_period_best_first() {
        let tree = super::super::tests::tree();
        let contests = vec![
            contest("b", "D", "2025-11-20", &[("t1", "X1", PrizeKind::Second), ("t2", "X2", PrizeKind::First), ("t3", "OUT", PrizeKind::Third)]),
            contest("a", "D", "2025-05-02", &[("t4", "X3", PrizeKind::Consolation)]),
            // Not published yet, or published after the period: not in the review.
            contest("c", "D", "", &[("t5", "X1", PrizeKind::First)]),
            contest("d", "D", "2026-01-03", &[("t6", "X1", PrizeKind::First)]),
        ];
        let year = Period::year(2025);
        let all = contest_prizes(&tree, &Scope::Unit("D".into()), &year, &contests);
        let got: Vec<(&str, PrizeKind, &str)> = all.iter().map(|e| (e.contest.as_str(), e.prize, e.unit.as_str())).collect();
        assert_eq!(got, [("a", PrizeKind::Consolation, "X3"), ("b", PrizeKind::First, "X2"), ("b", PrizeKind::Second, "X1")]);
        assert_eq!(all[0].published, Date::parse("2025-05-02").unwrap());
        assert_eq!(all[1].organiser, "Đơn vị D");

        // A commune's review has its own team's prize only; the cluster's, its members'.
        let commune = contest_prizes(&tree, &Scope::Unit("X1".into()), &year, &contests);
        assert_eq!(commune.iter().map(|e| e.unit.as_str()).collect::<Vec<_>>(), ["X1"]);
        let cluster = contest_prizes(&tree, &Scope::Cluster("C".into()), &year, &contests);
        assert_eq!(cluster.iter().map(|e| e.unit.as_str()).collect::<Vec<_>>(), ["X2", "X1"]);
        // The first half holds only May's contest.
        let half = contest_prizes(&tree, &Scope::Unit("D".into()), &Period::first_half(2025), &contests);
        assert_eq!(half.iter().map(|e| e.contest.as_str()).collect::<Vec<_>>(), ["a"]);
    }
}
