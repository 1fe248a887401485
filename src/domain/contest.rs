//! Hội thi "Dân vận khéo": a contest from the preliminaries per cluster (sơ khảo) to the final
//! (chung khảo), scored by judges at the venue, offline. No IO, no clock (callers pass times).
//!
//! A [`Contest`] is one automerge document whose root `unit` is the organiser's unit. It holds the
//! rules of the contest (parts with their maxima, how a part's score is formed, how many teams of
//! each cluster go on, prize quotas), its [`Round`]s (one preliminary per cluster, the cluster's
//! member units copied in when it was set up, and one final), the [`Team`]s, one [`ScoreSheet`]
//! per judge and round with a row per team × part and a log of every score given, the prizes and
//! the moment of publication. Everything shown — part scores, totals, ranking, ties, missing
//! scores, qualifiers — is computed from the sheets, never stored, except what closing a round
//! fixes (its qualifiers) and the prizes the organiser awards.
//!
//! **Numbers.** Points are stored as integers in hundredths of a point (8,5 → 850; contest rules
//! give scores to two decimals, "lấy đến 2 chữ số thập phân", and 0,25 steps are common). A part's
//! score is the mean of the counted judges' points rounded half up to a hundredth, a team's total
//! the sum of its part scores: integer arithmetic throughout. With floats, the sum of the same
//! scores depends on the order they are added in (sheets arrive in any order on each device), so
//! two devices could differ in the last bit and one would show a tie the other does not; with
//! integers the ranking is a function of the set of scores, the same on every device and on the
//! server, and the total printed is exactly the total ranked.
//!
//! **Who does what** ([`check_contest`], the server's rule): the organiser — a reviewer or an
//! administrator of the contest's unit (granted there or above) — sets up the contest, rounds,
//! judges, teams, closes rounds, awards prizes and publishes; a unit's cadre registers their own
//! unit's team; a judge writes only their own sheet, in rounds they are assigned to. Nobody
//! changes a closed round (its sheets, its judges, its teams) or anything once published.

mod change;

pub use change::{ContestChange, PartInput, Problems, team_id};

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::access::Access;
use super::append_only::{self, Entry};
use super::dates::Date;
use super::model::Level;
use super::unit::UnitTree;
use crate::i18n::vi;

/// Stored points are hundredths of a point.
pub const SCALE: u32 = 100;
/// Highest maximum of one part, in points.
pub const MAX_PART_POINTS: u32 = 1000;
pub const MAX_PARTS: usize = 10;
pub const MAX_JUDGES: usize = 30;
pub const MAX_TEAMS: usize = 500;
pub const MAX_MEMBERS: usize = 50;
pub const MAX_ROUNDS: usize = 100;
/// Units in all preliminaries together (a province's communes, with room).
pub const MAX_UNITS: usize = 5_000;
/// Scores given on one sheet, changes included.
pub const MAX_LOG: usize = 50_000;
const MAX_TEXT_CHARS: usize = 300;
const MAX_COMMENT_CHARS: usize = 2_000;

/// A part every team plays (phần thi), out of `max` hundredths of a point.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Part {
    #[key]
    pub id: String,
    pub label: String,
    /// Hundredths of a point.
    pub max: u32,
}

/// The three parts seen in practice (DOMAIN.md), out of 30, 30 and 40 points (100 in all).
pub fn default_parts() -> Vec<Part> {
    // Data written into the contest (the organiser edits them): Vietnamese in every language.
    [(vi("Chào hỏi, giới thiệu đơn vị"), 30), (vi("Kiến thức và xử lý tình huống"), 30), (vi("Tiểu phẩm"), 40)]
        .iter()
        .enumerate()
        .map(|(i, (label, points))| Part { id: format!("p{}", i + 1), label: label.to_string(), max: points * SCALE })
        .collect()
}

/// Which round: a cluster's preliminary or the final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum Stage {
    /// Sơ khảo, one per cluster.
    #[default]
    #[autosurgeon(rename = "so_khao")]
    Preliminary,
    /// Chung khảo.
    #[autosurgeon(rename = "chung_khao")]
    Final,
}

/// A judge (giám khảo) of a round: a user, and their name as printed on the results.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Judge {
    #[key]
    pub username: String,
    pub name: String,
}

/// The organiser's decision that `judge` does not score `team` (every team when empty), e.g. a
/// judge from the team's own unit, or one who left: their missing scores are not waited for and
/// any score they gave that team is not counted.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Excused {
    pub judge: String,
    pub team: String,
    pub reason: String,
}

/// A round of the contest (vòng thi).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Round {
    #[key]
    pub id: String,
    pub stage: Stage,
    pub name: String,
    /// The cluster's code for a preliminary; empty for the final.
    pub cluster: String,
    /// A preliminary's units: the cluster's members within the organiser's subtree, copied when
    /// the round was set up (the tree may change later; the contest does not).
    pub units: Vec<String>,
    /// ISO `YYYY-MM-DD`, or empty until fixed.
    pub date: String,
    pub venue: String,
    pub judges: Vec<Judge>,
    pub excused: Vec<Excused>,
    /// The organiser's order for teams with equal totals (team ids, best first): a group of tied
    /// teams is ordered by it when every one of them is listed, and stays tied otherwise.
    pub tie_break: Vec<String>,
    /// The teams that go on to the final, fixed when a preliminary closes (empty otherwise).
    pub qualifiers: Vec<String>,
    /// 0 while open.
    pub closed_at: i64,
    pub closed_by: String,
}

impl Round {
    /// An open round without units, judges or date yet.
    pub fn new(id: &str, stage: Stage, name: &str) -> Round {
        Round {
            id: id.to_string(),
            stage,
            name: name.to_string(),
            cluster: String::new(),
            units: Vec::new(),
            date: String::new(),
            venue: String::new(),
            judges: Vec::new(),
            excused: Vec::new(),
            tie_break: Vec::new(),
            qualifiers: Vec::new(),
            closed_at: 0,
            closed_by: String::new(),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed_at != 0
    }

    pub fn is_assigned(&self, username: &str) -> bool {
        self.judges.iter().any(|j| j.username == username)
    }

    /// Whether the organiser excused `judge` from scoring `team`.
    pub fn is_excused(&self, judge: &str, team: &str) -> bool {
        self.excused.iter().any(|e| e.judge == judge && (e.team.is_empty() || e.team == team))
    }
}

/// The canonical order of rounds: the preliminaries by id compared naturally ([`natural_cmp`]:
/// `so-khao-CUM-2` before `so-khao-CUM-10`), then the final. Every reader of a contest document
/// lists rounds so (`doc::contest`), and [`Contest::add_preliminaries`] leaves them so.
pub fn round_order(a: &Round, b: &Round) -> Ordering {
    (a.stage == Stage::Final).cmp(&(b.stage == Stage::Final)).then_with(|| natural_cmp(&a.id, &b.id))
}

/// Compares texts as people number things: runs of ASCII digits by their value ("2" before
/// "10", "02" with "2"), everything else character by character; texts equal that way (only
/// leading zeros differ) by their characters, so the order is total and the same everywhere.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
                let (i, j) = (run(x), run(y));
                let (m, n) = (x[..i].trim_start_matches('0'), y[..j].trim_start_matches('0'));
                // Without leading zeros, a longer run is a larger number; equal lengths compare
                // digit by digit.
                let by_value = m.len().cmp(&n.len()).then_with(|| m.cmp(n));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (x, y) = (&x[i..], &y[j..]);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                (x, y) = (&x[c.len_utf8()..], &y[d.len_utf8()..]);
            }
        }
    }
}

/// A team (đội thi): one per unit.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Team {
    #[key]
    pub id: String,
    pub unit: String,
    /// As printed (usually the unit's name).
    pub name: String,
    pub members: Vec<String>,
    pub registered_by: String,
    pub registered_at: i64,
}

/// One score on a sheet: a team's points for a part, in hundredths.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ScoreRow {
    pub team: String,
    pub part: String,
    pub points: u32,
    pub comment: String,
}

/// One score given (kept when changed later), in the sheet's log.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ScoreChange {
    #[key]
    pub id: String,
    pub team: String,
    pub part: String,
    pub from: Option<u32>,
    pub to: u32,
    pub comment: String,
    pub at: i64,
}

impl Entry for ScoreChange {
    fn entry_id(&self) -> &str {
        &self.id
    }
}

/// A judge's sheet for one round (phiếu chấm): one per (round, judge), written only by that
/// judge, so judges scoring at once on their own devices never touch the same object.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ScoreSheet {
    #[key]
    pub id: String,
    pub round: String,
    pub judge: String,
    pub rows: Vec<ScoreRow>,
    pub changes: Vec<ScoreChange>,
}

impl ScoreSheet {
    pub fn row(&self, team: &str, part: &str) -> Option<&ScoreRow> {
        self.rows.iter().find(|r| r.team == team && r.part == part)
    }
}

/// A prize (giải), best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum PrizeKind {
    #[autosurgeon(rename = "nhat")]
    First,
    #[autosurgeon(rename = "nhi")]
    Second,
    #[autosurgeon(rename = "ba")]
    Third,
    #[autosurgeon(rename = "khuyen_khich")]
    Consolation,
}

impl PrizeKind {
    pub const ALL: [PrizeKind; 4] = [PrizeKind::First, PrizeKind::Second, PrizeKind::Third, PrizeKind::Consolation];

    pub fn label(self) -> &'static str {
        match self {
            PrizeKind::First => "Giải Nhất",
            PrizeKind::Second => "Giải Nhì",
            PrizeKind::Third => "Giải Ba",
            PrizeKind::Consolation => "Giải Khuyến khích",
        }
    }
}

/// How many prizes of each kind the organiser gives (at most).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct PrizeQuotas {
    pub first: u32,
    pub second: u32,
    pub third: u32,
    pub consolation: u32,
}

impl Default for PrizeQuotas {
    fn default() -> Self {
        PrizeQuotas { first: 1, second: 2, third: 3, consolation: 0 }
    }
}

impl PrizeQuotas {
    pub fn of(&self, kind: PrizeKind) -> u32 {
        match kind {
            PrizeKind::First => self.first,
            PrizeKind::Second => self.second,
            PrizeKind::Third => self.third,
            PrizeKind::Consolation => self.consolation,
        }
    }
}

/// A prize awarded to a team of the final.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Prize {
    pub team: String,
    pub kind: PrizeKind,
}

/// A contest, stored as one document (root `unit`: the organiser's unit).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Contest {
    pub id: String,
    pub name: String,
    pub level: Level,
    pub year: u32,
    /// The organiser's unit.
    pub unit: String,
    pub created_by: String,
    pub created_at: i64,
    pub parts: Vec<Part>,
    /// Drop each part's highest and lowest score before the mean (only when at least three
    /// judges' scores count for it; with one or two, the plain mean).
    pub drop_extremes: bool,
    /// How many teams of each preliminary go on to the final.
    pub qualifiers_per_cluster: u32,
    pub quotas: PrizeQuotas,
    pub rounds: Vec<Round>,
    pub teams: Vec<Team>,
    pub sheets: Vec<ScoreSheet>,
    pub prizes: Vec<Prize>,
    /// 0 until published.
    pub published_at: i64,
    pub published_by: String,
}

/// A team's score for one part in one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartScore {
    pub part: String,
    /// Hundredths; `None` while no counted judge has scored it.
    pub points: Option<u32>,
    /// How many judges' scores were given (before dropping).
    pub scored: u32,
    /// Whether the highest and lowest were dropped.
    pub dropped: bool,
}

/// A team's result in one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamResult {
    pub team: String,
    pub parts: Vec<PartScore>,
    /// Sum of the part scores, hundredths.
    pub total: u32,
    /// Every counted judge has scored every part.
    pub complete: bool,
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// 1 for the best; tied teams share a rank and the next rank skips (1, 1, 3).
    pub rank: u32,
    pub team: String,
    pub total: u32,
    /// Equal total with another team, not ordered by the organiser.
    pub tied: bool,
}

/// Teams best first, and the groups of tied teams the organiser has not ordered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ranking {
    pub places: Vec<Place>,
    pub ties: Vec<Vec<String>>,
}

impl Ranking {
    pub fn rank_of(&self, team: &str) -> Option<u32> {
        self.places.iter().find(|p| p.team == team).map(|p| p.rank)
    }
}

/// A score not given yet: `judge` has not scored `team` on `part`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    pub judge: String,
    pub team: String,
    pub part: String,
}

/// What the organiser's screen shows for a round as sheets arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundResults {
    pub round: String,
    /// In the order teams were registered.
    pub teams: Vec<TeamResult>,
    pub ranking: Ranking,
    pub missing: Vec<Missing>,
}

/// A score as a judge typed it on their sheet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreInput {
    pub team: String,
    pub part: String,
    /// As typed: "8", "8,5", "8.25"; empty rows are skipped.
    pub points: String,
    pub comment: String,
}

/// The id of `judge`'s sheet of a round (`round/judge`), the same on every device.
pub fn sheet_id(round: &str, judge: &str) -> String {
    format!("{round}/{judge}")
}

/// The form control a score is typed in (keys of [`Contest::score`]'s problems).
pub fn score_control(team: &str, part: &str) -> String {
    format!("score-{team}-{part}")
}

/// Points as typed (decimal comma or point, at most two decimals) in hundredths; the problem, to
/// follow the cell's name, otherwise ("… phải là một số (ví dụ 8,5).").
pub fn parse_points(typed: &str, max: u32) -> Result<u32, String> {
    let t: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.as_str()),
    };
    let (whole, frac) = match t.find([',', '.']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (t.contains([',', '.']) && frac.is_empty()) {
        return Err("phải là một số (ví dụ 8,5).".into());
    }
    if negative {
        return Err("không được âm.".into());
    }
    if frac.len() > 2 {
        return Err("chỉ lấy đến hai chữ số thập phân.".into());
    }
    let over = || format!("vượt quá điểm tối đa {}.", format_points(max));
    let whole: u64 = if whole.len() > 9 { return Err(over()) } else { whole.parse().map_err(|_| over())? };
    let frac: u64 = format!("{frac:0<2}").parse().unwrap_or(0);
    let value = whole * u64::from(SCALE) + frac;
    if value > u64::from(max) {
        return Err(over());
    }
    Ok(value as u32)
}

/// Hundredths as Vietnamese write points: "8,5", "85,33", "30".
pub fn format_points(hundredths: u32) -> String {
    let (whole, frac) = (hundredths / SCALE, hundredths % SCALE);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole},{}", f / 10),
        f => format!("{whole},{f:02}"),
    }
}

/// The mean of `values` rounded half up, in the same unit.
fn mean_half_up(values: &[u32]) -> u32 {
    let n = values.len() as u64;
    let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
    ((2 * sum + n) / (2 * n)) as u32
}

/// Orders `totals` (team, total) best first; equal totals share a rank unless every team of the
/// group is in `tie_break`, which then orders them. Teams of an unresolved tie are listed by id,
/// so every device prints the same order.
fn rank(mut totals: Vec<(String, u32)>, tie_break: &[String]) -> Ranking {
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut ranking = Ranking::default();
    let mut start = 0;
    while start < totals.len() {
        let end = start + totals[start..].iter().take_while(|t| t.1 == totals[start].1).count();
        let mut group: Vec<(String, u32)> = totals[start..end].to_vec();
        let position = |team: &str| tie_break.iter().position(|t| t == team);
        let resolved = group.len() == 1 || group.iter().all(|(t, _)| position(t).is_some());
        if resolved {
            group.sort_by_key(|(t, _)| position(t));
            for (i, (team, total)) in group.into_iter().enumerate() {
                ranking.places.push(Place { rank: (start + i + 1) as u32, team, total, tied: false });
            }
        } else {
            ranking.ties.push(group.iter().map(|(t, _)| t.clone()).collect());
            for (team, total) in group {
                ranking.places.push(Place { rank: (start + 1) as u32, team, total, tied: true });
            }
        }
        start = end;
    }
    ranking
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A short list of names for a message: "A; B; C và 4 mục khác".
fn listing(items: &[String]) -> String {
    listing_of(items, items.len())
}

/// [`listing`] of the first of `count` items.
fn listing_of(first: &[String], count: usize) -> String {
    const SHOWN: usize = 3;
    let mut out = first.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if count > SHOWN {
        // One sentence with the list, so the catalogue matches it as a template.
        out = format!("{out} và {} mục khác", count - SHOWN);
    }
    out
}

/// A round's scores indexed once: a forged document may be large, and every lookup of the
/// results is then constant time (the server computes results when a round closes).
struct Cells<'a> {
    /// (judge, team, part) → points, from each assigned judge's sheet (the first row of a cell).
    points: HashMap<(&'a str, &'a str, &'a str), u32>,
    excused_all: HashSet<&'a str>,
    excused: HashSet<(&'a str, &'a str)>,
}

impl<'a> Cells<'a> {
    fn of(contest: &'a Contest, round: &'a Round) -> Cells<'a> {
        let mut sheets: HashMap<&str, &ScoreSheet> = HashMap::new();
        for s in contest.sheets.iter().filter(|s| s.round == round.id) {
            sheets.entry(s.judge.as_str()).or_insert(s);
        }
        let mut points = HashMap::new();
        for judge in &round.judges {
            for r in sheets.get(judge.username.as_str()).map_or(&[][..], |s| &s.rows[..]) {
                points.entry((judge.username.as_str(), r.team.as_str(), r.part.as_str())).or_insert(r.points);
            }
        }
        let excused_all = round.excused.iter().filter(|e| e.team.is_empty()).map(|e| e.judge.as_str()).collect();
        let excused = round.excused.iter().map(|e| (e.judge.as_str(), e.team.as_str())).collect();
        Cells { points, excused_all, excused }
    }

    fn excused(&self, judge: &str, team: &str) -> bool {
        self.excused_all.contains(judge) || self.excused.contains(&(judge, team))
    }
}

impl Contest {
    /// A new contest with the default parts, no preliminaries yet, and its final.
    pub fn new(id: String, name: &str, level: Level, year: u32, unit: &str, created_by: &str, now_ms: i64) -> Contest {
        Contest {
            id,
            name: name.trim().to_string(),
            level,
            year,
            unit: unit.to_string(),
            created_by: created_by.to_string(),
            created_at: now_ms,
            parts: default_parts(),
            drop_extremes: false,
            qualifiers_per_cluster: 2,
            quotas: PrizeQuotas::default(),
            rounds: vec![Round::new("chung-khao", Stage::Final, "Chung khảo")],
            teams: Vec::new(),
            sheets: Vec::new(),
            prizes: Vec::new(),
            published_at: 0,
            published_by: String::new(),
        }
    }

    /// Adds a preliminary for every cluster of `tree` with members in the organiser's subtree
    /// (those members only) that has no round yet, before the final; returns how many. The rounds
    /// are left in their canonical order ([`round_order`]), the order a document reads back in.
    pub fn add_preliminaries(&mut self, tree: &UnitTree) -> usize {
        let mut members: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for unit in tree.subtree(&self.unit) {
            if let Some(cluster) = &unit.cluster {
                members.entry(cluster.as_str()).or_default().push(unit.code.clone());
            }
        }
        let mut added = 0;
        for cluster in tree.clusters() {
            let Some(units) = members.remove(cluster.code.as_str()) else { continue };
            if self.rounds.iter().any(|r| r.cluster == cluster.code) {
                continue;
            }
            let at = self.rounds.iter().position(|r| r.stage == Stage::Final).unwrap_or(self.rounds.len());
            self.rounds.insert(
                at,
                Round {
                    cluster: cluster.code.clone(),
                    units,
                    ..Round::new(&format!("so-khao-{}", cluster.code), Stage::Preliminary, &format!("Sơ khảo {}", cluster.name))
                },
            );
            added += 1;
        }
        self.rounds.sort_by(round_order);
        added
    }

    pub fn round(&self, id: &str) -> Option<&Round> {
        self.rounds.iter().find(|r| r.id == id)
    }

    pub fn final_round(&self) -> Option<&Round> {
        self.rounds.iter().find(|r| r.stage == Stage::Final)
    }

    pub fn preliminaries(&self) -> impl Iterator<Item = &Round> {
        self.rounds.iter().filter(|r| r.stage == Stage::Preliminary)
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn is_published(&self) -> bool {
        self.published_at != 0
    }

    /// The round a team of `unit` plays first: its cluster's preliminary, or the final when the
    /// contest has no preliminaries.
    pub fn first_round_of(&self, unit: &str) -> Option<&Round> {
        if self.preliminaries().next().is_none() {
            return self.final_round();
        }
        self.preliminaries().find(|r| r.units.iter().any(|u| u == unit))
    }

    /// The teams playing in a round: a preliminary's are those of its units; the final's are the
    /// qualifiers of the closed preliminaries (every team when there are none).
    pub fn teams_in(&self, round: &Round) -> Vec<&Team> {
        match round.stage {
            Stage::Preliminary => self.teams.iter().filter(|t| round.units.contains(&t.unit)).collect(),
            Stage::Final if self.preliminaries().next().is_none() => self.teams.iter().collect(),
            Stage::Final => self.preliminaries().flat_map(|r| &r.qualifiers).filter_map(|id| self.team(id)).collect(),
        }
    }

    /// The rounds `team` plays in, in order.
    pub fn rounds_of(&self, team: &Team) -> Vec<&Round> {
        let mut out: Vec<&Round> = self.first_round_of(&team.unit).into_iter().collect();
        if let Some(f) = self.final_round()
            && out.first().is_some_and(|r| r.stage == Stage::Preliminary && r.qualifiers.contains(&team.id))
        {
            out.push(f);
        }
        out
    }

    /// The sheet of `judge` in `round`.
    pub fn sheet(&self, round: &str, judge: &str) -> Option<&ScoreSheet> {
        self.sheets.iter().find(|s| s.round == round && s.judge == judge)
    }

    fn part_score(&self, cells: &Cells, round: &Round, team: &str, part: &Part) -> PartScore {
        let mut values: Vec<u32> = round
            .judges
            .iter()
            .filter(|j| !cells.excused(&j.username, team))
            .filter_map(|j| cells.points.get(&(j.username.as_str(), team, part.id.as_str())).copied())
            .collect();
        values.sort_unstable();
        let dropped = self.drop_extremes && values.len() >= 3;
        let counted = if dropped { &values[1..values.len() - 1] } else { &values[..] };
        PartScore {
            part: part.id.clone(),
            points: (!counted.is_empty()).then(|| mean_half_up(counted)),
            scored: values.len() as u32,
            dropped,
        }
    }

    /// Totals, ranking, ties and missing scores of a round, from the sheets held now.
    pub fn results(&self, round_id: &str) -> Option<RoundResults> {
        let round = self.round(round_id)?;
        let cells = Cells::of(self, round);
        let teams_in = self.teams_in(round);
        // Scores not given yet (judge × team × part), excused ones left out.
        let mut missing = Vec::new();
        for judge in &round.judges {
            for team in teams_in.iter().filter(|t| !cells.excused(&judge.username, &t.id)) {
                for part in &self.parts {
                    if !cells.points.contains_key(&(judge.username.as_str(), team.id.as_str(), part.id.as_str())) {
                        missing.push(Missing { judge: judge.username.clone(), team: team.id.clone(), part: part.id.clone() });
                    }
                }
            }
        }
        let incomplete: HashSet<&str> = missing.iter().map(|m| m.team.as_str()).collect();
        let teams: Vec<TeamResult> = teams_in
            .iter()
            .map(|t| {
                let parts: Vec<PartScore> = self.parts.iter().map(|p| self.part_score(&cells, round, &t.id, p)).collect();
                TeamResult {
                    team: t.id.clone(),
                    total: parts.iter().filter_map(|p| p.points).sum(),
                    parts,
                    complete: !incomplete.contains(t.id.as_str()),
                }
            })
            .collect();
        let ranking = rank(teams.iter().map(|t| (t.team.clone(), t.total)).collect(), &round.tie_break);
        Some(RoundResults { round: round.id.clone(), teams, ranking, missing })
    }

    fn team_name(&self, id: &str) -> String {
        self.team(id).map_or_else(|| id.to_string(), |t| t.name.clone())
    }

    fn part_label(&self, id: &str) -> String {
        self.parts.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| p.label.clone())
    }

    /// What closing `round` would fix (a preliminary's qualifiers, best first; nothing for the
    /// final), or every reason it cannot close yet: scores missing, a tie across the cut the
    /// organiser has not ordered, for the final a preliminary still open. Whether the round is
    /// already closed is not looked at.
    pub fn closing(&self, round_id: &str) -> Result<Vec<String>, Vec<String>> {
        let Some(round) = self.round(round_id) else {
            return Err(vec!["Không có vòng thi này.".into()]);
        };
        let mut problems = Vec::new();
        if round.stage == Stage::Final {
            let open: Vec<String> = self.preliminaries().filter(|r| !r.is_closed()).map(|r| r.name.clone()).collect();
            if !open.is_empty() {
                problems.push(format!("Còn vòng sơ khảo chưa khóa: {}; hãy khóa các vòng sơ khảo trước.", listing(&open)));
            }
        }
        if self.teams_in(round).is_empty() {
            problems.push(format!("Vòng “{}” chưa có đội thi nào.", round.name));
        }
        if round.judges.is_empty() {
            problems.push(format!("Vòng “{}” chưa có giám khảo nào.", round.name));
        }
        let results = self.results(round_id).expect("the round exists");
        if !results.missing.is_empty() {
            let lines: Vec<String> = results
                .missing
                .iter()
                .take(4)
                .map(|m| {
                    let judge = round.judges.iter().find(|j| j.username == m.judge).map_or(m.judge.as_str(), |j| j.name.as_str());
                    format!("giám khảo {judge} chưa chấm đội “{}” phần “{}”", self.team_name(&m.team), self.part_label(&m.part))
                })
                .collect();
            problems.push(format!(
                "Còn thiếu {} điểm: {}. Chờ giám khảo gửi phiếu, hoặc ghi nhận giám khảo không chấm đội đó.",
                results.missing.len(),
                listing_of(&lines, results.missing.len())
            ));
        }
        let mut qualifiers = Vec::new();
        if round.stage == Stage::Preliminary {
            let n = self.qualifiers_per_cluster as usize;
            let places = &results.ranking.places;
            if places.len() > n && n > 0 && places[n - 1].rank == places[n].rank {
                let tied: Vec<String> = places.iter().filter(|p| p.rank == places[n].rank).map(|p| self.team_name(&p.team)).collect();
                problems.push(format!(
                    "Các đội {} bằng điểm ({}) ở ranh giới {n} đội vào chung khảo; hãy xếp thứ tự các đội bằng điểm.",
                    listing(&tied),
                    format_points(places[n].total)
                ));
            }
            qualifiers = places.iter().take(n).map(|p| p.team.clone()).collect();
        }
        if problems.is_empty() { Ok(qualifiers) } else { Err(problems) }
    }

    /// Closes a round: its sheets, judges and teams are fixed, and a preliminary's qualifiers
    /// join the final.
    pub fn close_round(&mut self, round_id: &str, by: &str, now_ms: i64) -> Result<(), Vec<String>> {
        if self.is_published() {
            return Err(vec![PUBLISHED.into()]);
        }
        if self.round(round_id).is_some_and(Round::is_closed) {
            return Err(vec!["Vòng thi này đã khóa.".into()]);
        }
        let qualifiers = self.closing(round_id)?;
        let round = self.rounds.iter_mut().find(|r| r.id == round_id).expect("closing found it");
        round.qualifiers = qualifiers;
        round.closed_at = now_ms;
        round.closed_by = by.to_string();
        Ok(())
    }

    /// The final's ranking (`None` without a final).
    pub fn final_ranking(&self) -> Option<Ranking> {
        Some(self.results(&self.final_round()?.id)?.ranking)
    }

    /// Scores typed by `judge` on their sheet of `round` (made on first use); rows left empty are
    /// skipped, every row is checked first so a bad row changes nothing, every score that changes
    /// is logged. Problems are keyed by the form control ([`score_control`]; "score-sheet" for
    /// the sheet as a whole). `Ok(false)` when nothing changed.
    pub fn score(
        &mut self,
        round_id: &str,
        judge: &str,
        rows: &[ScoreInput],
        now_ms: i64,
        mut new_id: impl FnMut() -> String,
    ) -> Result<bool, Vec<(String, String)>> {
        let sheet_problem = |m: String| Err(vec![("score-sheet".to_string(), m)]);
        if self.is_published() {
            return sheet_problem(PUBLISHED.into());
        }
        let Some(round) = self.round(round_id) else { return sheet_problem("Không có vòng thi này.".into()) };
        if round.is_closed() {
            return sheet_problem(format!("Vòng “{}” đã khóa; không chấm điểm được nữa.", round.name));
        }
        if !round.is_assigned(judge) {
            return sheet_problem(format!("Bạn không phải giám khảo của vòng “{}”.", round.name));
        }
        let teams: Vec<&Team> = self.teams_in(round);
        // A new sheet's id is its round and judge, not a fresh one: a judge's two devices that
        // each start the sheet offline start the same sheet, which the document merges
        // (`doc::contest`); with two ids the server would see one replacing the other.
        let mut sheet = self.sheet(round_id, judge).cloned().unwrap_or_else(|| ScoreSheet {
            id: sheet_id(round_id, judge),
            round: round_id.to_string(),
            judge: judge.to_string(),
            rows: Vec::new(),
            changes: Vec::new(),
        });
        let is_new = !self.sheets.iter().any(|s| s.id == sheet.id);
        let mut problems = Vec::new();
        let mut changed = false;
        for input in rows.iter().filter(|r| !r.points.trim().is_empty()) {
            let control = score_control(&input.team, &input.part);
            let Some(team) = teams.iter().find(|t| t.id == input.team) else {
                problems.push((control, "Đội này không thi ở vòng này.".into()));
                continue;
            };
            let Some(part) = self.parts.iter().find(|p| p.id == input.part) else {
                problems.push((control, "Phần thi này không có trong hội thi.".into()));
                continue;
            };
            let comment = input.comment.trim();
            if chars(comment) > MAX_COMMENT_CHARS {
                problems.push((control, format!("Nhận xét dài quá {MAX_COMMENT_CHARS} ký tự.")));
                continue;
            }
            let points = match parse_points(&input.points, part.max) {
                Ok(p) => p,
                Err(problem) => {
                    problems.push((control, format!("Điểm phần “{}” của đội “{}” {problem}", part.label, team.name)));
                    continue;
                }
            };
            let old = sheet.rows.iter().position(|r| r.team == team.id && r.part == part.id);
            let from = old.map(|i| sheet.rows[i].points);
            if old.is_some_and(|i| sheet.rows[i].points == points && sheet.rows[i].comment == comment) {
                continue;
            }
            let row = ScoreRow { team: team.id.clone(), part: part.id.clone(), points, comment: comment.to_string() };
            match old {
                Some(i) => sheet.rows[i] = row,
                None => sheet.rows.push(row),
            }
            sheet.changes.push(ScoreChange {
                id: new_id(),
                team: team.id.clone(),
                part: part.id.clone(),
                from,
                to: points,
                comment: comment.to_string(),
                at: now_ms,
            });
            changed = true;
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        if changed {
            if is_new {
                self.sheets.push(sheet);
            } else if let Some(s) = self.sheets.iter_mut().find(|s| s.id == sheet.id) {
                *s = sheet;
            }
        }
        Ok(changed)
    }

    /// Prizes that follow the final's ranking within the quotas (first the Nhất places, then
    /// Nhì…), or why not: the final is not closed, or tied teams straddle a quota's end.
    pub fn suggest_prizes(&self) -> Result<Vec<Prize>, String> {
        let ranking = self.closed_final_ranking()?;
        let mut prizes = Vec::new();
        let mut kinds = PrizeKind::ALL.into_iter().map(|k| (k, self.quotas.of(k)));
        let mut current = kinds.next();
        let mut at = 0;
        while at < ranking.places.len() {
            let rank = ranking.places[at].rank;
            let group: Vec<&Place> = ranking.places[at..].iter().take_while(|p| p.rank == rank).collect();
            while current.is_some_and(|(_, left)| left == 0) {
                current = kinds.next();
            }
            let Some((kind, left)) = current.as_mut() else { break };
            if group.len() as u32 > *left {
                let names: Vec<String> = group.iter().map(|p| self.team_name(&p.team)).collect();
                return Err(format!(
                    "Các đội {} đồng hạng {rank} nhưng {} chỉ còn {left} suất; hãy xếp thứ tự các đội bằng điểm.",
                    listing(&names),
                    kind.label()
                ));
            }
            *left -= group.len() as u32;
            prizes.extend(group.iter().map(|p| Prize { team: p.team.clone(), kind: *kind }));
            at += group.len();
        }
        Ok(prizes)
    }

    fn closed_final_ranking(&self) -> Result<Ranking, String> {
        match self.final_round() {
            Some(f) if f.is_closed() => Ok(self.results(&f.id).expect("the final exists").ranking),
            _ => Err("Chỉ trao giải sau khi khóa vòng chung khảo.".into()),
        }
    }

    /// Whether `prizes` may be awarded: the final is closed, each team of the final receives at
    /// most one, no kind beyond its quota, and a better prize never goes to a team ranked below
    /// (or tied with) a team with a lesser prize or none.
    pub fn check_prizes(&self, prizes: &[Prize]) -> Result<(), String> {
        if prizes.is_empty() {
            return Ok(());
        }
        let ranking = self.closed_final_ranking()?;
        let mut seen = BTreeSet::new();
        for p in prizes {
            if ranking.rank_of(&p.team).is_none() {
                return Err(format!("Đội “{}” không thi chung khảo, không nhận giải được.", self.team_name(&p.team)));
            }
            if !seen.insert(p.team.as_str()) {
                return Err(format!("Đội “{}” được trao hai giải; mỗi đội chỉ nhận một giải.", self.team_name(&p.team)));
            }
        }
        for kind in PrizeKind::ALL {
            let given = prizes.iter().filter(|p| p.kind == kind).count() as u32;
            if given > self.quotas.of(kind) {
                return Err(format!("{} chỉ có {} suất; đã trao {given}.", kind.label(), self.quotas.of(kind)));
            }
        }
        // None (no prize) sorts after every kind.
        let by_team: HashMap<&str, PrizeKind> = prizes.iter().map(|p| (p.team.as_str(), p.kind)).collect();
        let prize_of = |team: &str| by_team.get(team).copied();
        let worse = |a: Option<PrizeKind>, b: Option<PrizeKind>| match (a, b) {
            (None, _) => b.is_some(),
            (Some(_), None) => false,
            (Some(a), Some(b)) => a > b,
        };
        for a in &ranking.places {
            for b in &ranking.places {
                let (pa, pb) = (prize_of(&a.team), prize_of(&b.team));
                if a.rank >= b.rank && a.team != b.team && worse(pb, pa) {
                    let name = |k: Option<PrizeKind>| k.map_or("không có giải", PrizeKind::label);
                    return Err(if a.rank == b.rank {
                        format!(
                            "Đội “{}” và đội “{}” đồng hạng {} mà nhận {} và {}; hãy xếp thứ tự các đội bằng điểm trước.",
                            self.team_name(&a.team),
                            self.team_name(&b.team),
                            a.rank,
                            name(pa),
                            name(pb)
                        )
                    } else {
                        format!(
                            "Đội “{}” (hạng {}) không thể nhận {} khi đội “{}” (hạng {}) {}.",
                            self.team_name(&a.team),
                            a.rank,
                            name(pa),
                            self.team_name(&b.team),
                            b.rank,
                            pb.map_or("không có giải".to_string(), |k| format!("nhận {}", k.label()))
                        )
                    });
                }
            }
        }
        Ok(())
    }

    /// Awards the prizes (replacing any awarded before publication).
    pub fn award(&mut self, prizes: Vec<Prize>) -> Result<(), String> {
        if self.is_published() {
            return Err(PUBLISHED.into());
        }
        self.check_prizes(&prizes)?;
        self.prizes = prizes;
        Ok(())
    }

    /// Publishes the results: read-only for everyone from now on.
    pub fn publish(&mut self, by: &str, now_ms: i64) -> Result<(), String> {
        if self.is_published() {
            return Err(PUBLISHED.into());
        }
        self.closed_final_ranking().map_err(|_| "Chỉ công bố kết quả sau khi khóa vòng chung khảo.".to_string())?;
        self.check_prizes(&self.prizes)?;
        self.published_at = now_ms;
        self.published_by = by.to_string();
        Ok(())
    }

    /// Whether the contest is well formed as a whole (every device must be able to compute its
    /// results): sizes and texts within bounds, ids unique, one final, a unit in at most one
    /// preliminary and every team's unit in one, one team per unit, one sheet per judge and
    /// round, one row per team and part, scores within the part's maximum, closed rounds and
    /// publication recorded with who did it.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || chars(&self.name) > MAX_TEXT_CHARS {
            return Err(format!("Tên hội thi phải có, tối đa {MAX_TEXT_CHARS} ký tự."));
        }
        if !(2000..=2100).contains(&self.year) {
            return Err("Năm tổ chức hội thi không hợp lệ.".into());
        }
        if self.parts.is_empty() || self.parts.len() > MAX_PARTS {
            return Err(format!("Hội thi cần từ 1 đến {MAX_PARTS} phần thi."));
        }
        for p in &self.parts {
            if p.id.is_empty() || p.label.trim().is_empty() || chars(&p.label) > MAX_TEXT_CHARS {
                return Err("Mỗi phần thi cần mã và tên (tối đa 300 ký tự).".into());
            }
            if !(1..=MAX_PART_POINTS * SCALE).contains(&p.max) {
                return Err(format!("Điểm tối đa của phần “{}” phải từ 0,01 đến {MAX_PART_POINTS}.", p.label));
            }
        }
        unique(self.parts.iter().map(|p| p.id.as_str()), "phần thi")?;
        if !(1..=100).contains(&self.qualifiers_per_cluster) {
            return Err("Số đội mỗi cụm vào chung khảo phải từ 1 đến 100.".into());
        }
        if PrizeKind::ALL.iter().any(|&k| self.quotas.of(k) > 1000) {
            return Err("Số giải mỗi loại tối đa 1000.".into());
        }
        self.validate_rounds()?;
        self.validate_teams()?;
        self.validate_sheets()?;
        let mut prized = BTreeSet::new();
        if let Some(p) = self.prizes.iter().find(|p| !prized.insert(p.team.as_str())) {
            return Err(format!("Đội “{}” được trao hai giải; mỗi đội chỉ nhận một giải.", self.team_name(&p.team)));
        }
        if self.is_published() && (self.published_by.is_empty() || !self.final_round().is_some_and(Round::is_closed)) {
            return Err("Kết quả chỉ công bố khi vòng chung khảo đã khóa, dưới tên người công bố.".into());
        }
        if !self.is_published() && !self.published_by.is_empty() {
            return Err("Hội thi chưa công bố không ghi người công bố.".into());
        }
        Ok(())
    }

    fn validate_rounds(&self) -> Result<(), String> {
        if self.rounds.len() > MAX_ROUNDS || self.rounds.iter().map(|r| r.units.len()).sum::<usize>() > MAX_UNITS {
            return Err(format!("Hội thi tối đa {MAX_ROUNDS} vòng và {MAX_UNITS} đơn vị dự sơ khảo."));
        }
        unique(self.rounds.iter().map(|r| r.id.as_str()), "vòng thi")?;
        if self.rounds.iter().filter(|r| r.stage == Stage::Final).count() != 1 {
            return Err("Hội thi có đúng một vòng chung khảo.".into());
        }
        let mut units = BTreeSet::new();
        for r in &self.rounds {
            if r.id.is_empty() || r.name.trim().is_empty() || chars(&r.name) > MAX_TEXT_CHARS || chars(&r.venue) > MAX_TEXT_CHARS {
                return Err("Mỗi vòng thi cần mã và tên; tên và địa điểm tối đa 300 ký tự.".into());
            }
            if !r.date.is_empty() && Date::parse(&r.date).is_none() {
                return Err(format!("Ngày thi của vòng “{}” không hợp lệ.", r.name));
            }
            match r.stage {
                Stage::Preliminary if r.cluster.is_empty() || r.units.is_empty() => {
                    return Err(format!("Vòng sơ khảo “{}” cần một cụm và các đơn vị của cụm.", r.name));
                }
                Stage::Final if !r.cluster.is_empty() || !r.units.is_empty() || !r.qualifiers.is_empty() => {
                    return Err("Vòng chung khảo không thuộc cụm nào và không xét vào vòng sau.".into());
                }
                _ => {}
            }
            if let Some(u) = r.units.iter().find(|u| !units.insert(u.as_str())) {
                return Err(format!("Đơn vị “{u}” nằm trong hai vòng sơ khảo."));
            }
            if r.judges.len() > MAX_JUDGES {
                return Err(format!("Mỗi vòng tối đa {MAX_JUDGES} giám khảo."));
            }
            if r.judges.iter().any(|j| j.username.is_empty() || chars(&j.name) > MAX_TEXT_CHARS) {
                return Err("Mỗi giám khảo cần tên đăng nhập.".into());
            }
            unique(r.judges.iter().map(|j| j.username.as_str()), "giám khảo")?;
            if r.excused.len() > MAX_JUDGES * MAX_TEAMS || r.tie_break.len() > MAX_TEAMS || r.qualifiers.len() > MAX_TEAMS {
                return Err(format!("Vòng “{}” ghi quá nhiều mục.", r.name));
            }
            if r.is_closed() == r.closed_by.is_empty() {
                return Err(format!("Vòng “{}”: khóa vòng phải ghi người khóa.", r.name));
            }
            if !r.is_closed() && !r.qualifiers.is_empty() {
                return Err(format!("Vòng “{}” chưa khóa nên chưa có đội vào chung khảo.", r.name));
            }
            if r.qualifiers.iter().any(|q| self.team(q).is_none()) {
                return Err(format!("Đội đã vào chung khảo từ vòng “{}” không rút được.", r.name));
            }
            if r.qualifiers.iter().any(|q| self.team(q).is_some_and(|t| !r.units.contains(&t.unit))) {
                return Err(format!("Đội vào chung khảo của vòng “{}” phải là đội của vòng đó.", r.name));
            }
        }
        Ok(())
    }

    fn validate_teams(&self) -> Result<(), String> {
        if self.teams.len() > MAX_TEAMS {
            return Err(format!("Hội thi tối đa {MAX_TEAMS} đội."));
        }
        unique(self.teams.iter().map(|t| t.id.as_str()), "đội thi")?;
        let mut units = BTreeSet::new();
        for t in &self.teams {
            if t.id.is_empty() || t.name.trim().is_empty() || chars(&t.name) > MAX_TEXT_CHARS {
                return Err("Mỗi đội thi cần mã và tên (tối đa 300 ký tự).".into());
            }
            if t.members.len() > MAX_MEMBERS || t.members.iter().any(|m| m.trim().is_empty() || chars(m) > MAX_TEXT_CHARS) {
                return Err(format!("Đội “{}”: tối đa {MAX_MEMBERS} thành viên, mỗi người một tên.", t.name));
            }
            if !units.insert(t.unit.as_str()) {
                return Err(format!("Đơn vị “{}” đã có đội thi; mỗi đơn vị một đội.", t.unit));
            }
            if self.first_round_of(&t.unit).is_none() {
                return Err(format!("Đơn vị “{}” không thuộc cụm nào của hội thi.", t.unit));
            }
        }
        Ok(())
    }

    fn validate_sheets(&self) -> Result<(), String> {
        unique(self.sheets.iter().map(|s| s.id.as_str()), "phiếu chấm")?;
        let mut pairs = BTreeSet::new();
        for s in &self.sheets {
            if self.round(&s.round).is_none() || s.judge.is_empty() {
                return Err("Phiếu chấm phải thuộc một vòng thi và một giám khảo.".into());
            }
            if !pairs.insert((s.round.as_str(), s.judge.as_str())) {
                return Err(format!("Giám khảo “{}” có hai phiếu chấm trong một vòng.", s.judge));
            }
            if s.rows.len() > MAX_TEAMS * MAX_PARTS || s.changes.len() > MAX_LOG {
                return Err(format!("Phiếu chấm của “{}” quá lớn.", s.judge));
            }
            let mut cells = BTreeSet::new();
            for r in &s.rows {
                if !cells.insert((r.team.as_str(), r.part.as_str())) {
                    return Err(format!("Phiếu chấm của “{}” có hai dòng cho cùng một đội và phần thi.", s.judge));
                }
                if let Some(p) = self.parts.iter().find(|p| p.id == r.part).filter(|p| r.points > p.max) {
                    // "Điểm phần “…” vượt quá điểm tối đa …." as the part's name and `parse_points`'s
                    // problem: the catalogue then tells it from a score cell's message ("Điểm phần
                    // “…” của đội “…” …"), which a template with more fixed text would swallow.
                    let over = format!("vượt quá điểm tối đa {}.", format_points(p.max));
                    return Err(format!("Điểm phần “{}” {over}", p.label));
                }
                if chars(&r.comment) > MAX_COMMENT_CHARS {
                    return Err(format!("Nhận xét dài quá {MAX_COMMENT_CHARS} ký tự."));
                }
            }
            append_only::unique_ids(&s.changes).map_err(|e| e.message("lần chấm", ""))?;
        }
        Ok(())
    }
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>, what: &str) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!("Hai {what} mang cùng mã “{}”.", id.chars().take(40).collect::<String>()));
        }
    }
    Ok(())
}

const PUBLISHED: &str = "Kết quả hội thi đã công bố; không ai sửa được nữa.";

impl Contest {
    /// Registers the team of `unit` (members one per line), in the round its unit plays first.
    /// Who may do it is the caller's and the server's business ([`check_contest`]).
    pub fn register_team(&mut self, id: String, unit: &str, name: &str, members: &str, by: &str, now_ms: i64) -> Result<(), String> {
        if self.is_published() {
            return Err(PUBLISHED.into());
        }
        let Some(round) = self.first_round_of(unit) else {
            return Err(format!("Đơn vị “{unit}” không thuộc cụm nào của hội thi."));
        };
        if round.is_closed() {
            return Err(format!("Vòng “{}” đã khóa; không đăng ký đội được nữa.", round.name));
        }
        if self.teams.iter().any(|t| t.unit == unit) {
            return Err(format!("Đơn vị “{unit}” đã có đội thi; mỗi đơn vị một đội."));
        }
        let team = Team {
            id,
            unit: unit.to_string(),
            name: name.trim().to_string(),
            members: members.lines().map(str::trim).filter(|m| !m.is_empty()).map(String::from).collect(),
            registered_by: by.to_string(),
            registered_at: now_ms,
        };
        let mut trial = self.clone();
        trial.teams.push(team);
        trial.validate()?;
        *self = trial;
        Ok(())
    }
}

/// Checks what a change did to a contest (the server's rule), `before` being what the server
/// holds (`None`: the change creates it) and `user`'s grants resolved in `access` against the
/// current `tree`:
/// - the result must be a well-formed contest ([`Contest::validate`]);
/// - once published, nothing changes; id, organiser unit and creator never change;
/// - the organiser (reviewer or administrator of the contest's unit) alone creates it (in their
///   own name), edits its rules, rounds, judges, tie-break orders and excusals, closes rounds
///   (in their own name, with the qualifiers the sheets give, nothing missing, no unordered tie
///   at the cut), awards prizes (within quotas, following the final's ranking) and publishes;
///   once a round is closed, the parts and how scores are formed are fixed, and the round is;
/// - teams: the organiser or the cadre of the team's unit (only their own unit's), within the
///   organiser's subtree, while the team's round is open (adding, removing or moving one only
///   while its first round is open);
/// - sheets: only by their judge, assigned to that round, while the round is open; never
///   removed; scores never removed; every new score logged; the log only grows
///   ([`append_only::appended`]).
pub fn check_contest(before: Option<&Contest>, after: &Contest, user: &str, access: &Access, tree: &UnitTree) -> Result<(), String> {
    if before.is_some_and(|b| b.is_published() && b != after) {
        return Err(PUBLISHED.into());
    }
    after.validate()?;
    let is_organiser = |c: &Contest| access.can_review(&c.unit) || access.can_manage(&c.unit);
    let shell;
    let before = match before {
        Some(b) => b,
        None => {
            if !is_organiser(after) {
                return Err("Chỉ người bình xét hoặc quản trị của đơn vị mới tạo hội thi cho đơn vị đó.".into());
            }
            if after.created_by != user {
                return Err("Hội thi chỉ được tạo dưới tên chính người đang đăng nhập.".into());
            }
            // Creating is changing an empty contest with the same identity and rules.
            shell = Contest {
                rounds: Vec::new(),
                teams: Vec::new(),
                sheets: Vec::new(),
                prizes: Vec::new(),
                published_at: 0,
                published_by: String::new(),
                ..after.clone()
            };
            &shell
        }
    };
    if before == after {
        return Ok(());
    }
    if before.is_published() {
        return Err(PUBLISHED.into());
    }
    if (&before.id, &before.unit, &before.created_by, before.created_at) != (&after.id, &after.unit, &after.created_by, after.created_at) {
        return Err("Không được đổi mã hội thi, đơn vị tổ chức hay người lập hội thi.".into());
    }
    let organiser = is_organiser(before);
    let organiser_only = |what: &str| -> Result<(), String> {
        if organiser {
            Ok(())
        } else {
            Err(format!("Chỉ ban tổ chức hội thi (người bình xét hoặc quản trị của đơn vị tổ chức) mới {what}."))
        }
    };
    let scoring = |c: &Contest| (c.parts.clone(), c.drop_extremes, c.qualifiers_per_cluster);
    let rules = |c: &Contest| (c.name.clone(), c.level, c.year, scoring(c), c.quotas.clone());
    if rules(before) != rules(after) {
        organiser_only("sửa thể lệ hội thi")?;
        if before.rounds.iter().any(Round::is_closed) && scoring(before) != scoring(after) {
            return Err("Đã có vòng thi khóa; không đổi được phần thi, cách tính điểm hay số đội vào chung khảo nữa.".into());
        }
    }
    if before.rounds != after.rounds {
        organiser_only("sửa vòng thi, giám khảo hay khóa vòng thi")?;
        check_rounds(before, after, user, tree)?;
    }
    check_teams(before, after, user, organiser, access, tree)?;
    check_sheets(before, after, user)?;
    if before.prizes != after.prizes {
        organiser_only("trao giải")?;
    }
    if before.prizes != after.prizes || before.quotas != after.quotas {
        after.check_prizes(&after.prizes)?;
    }
    if (before.published_at, &before.published_by) != (after.published_at, &after.published_by) {
        organiser_only("công bố kết quả")?;
        if after.published_by != user {
            return Err("Kết quả chỉ được công bố dưới tên chính người đang đăng nhập.".into());
        }
        after.check_prizes(&after.prizes)?;
    }
    Ok(())
}

fn check_rounds(before: &Contest, after: &Contest, user: &str, tree: &UnitTree) -> Result<(), String> {
    for old in &before.rounds {
        match after.round(&old.id) {
            None if old.is_closed() || before.sheets.iter().any(|s| s.round == old.id) => {
                return Err(format!("Không xóa được vòng “{}”: vòng đã có phiếu chấm hoặc đã khóa.", old.name));
            }
            None => {}
            Some(new) if new == old => {}
            Some(_) if old.is_closed() => return Err(format!("Vòng “{}” đã khóa; không sửa được nữa.", old.name)),
            Some(new) if new.stage != old.stage => return Err("Không đổi được loại vòng thi (sơ khảo, chung khảo).".into()),
            Some(new) if new.is_closed() => {
                if new.closed_by != user {
                    return Err("Vòng thi chỉ được khóa dưới tên chính người đang đăng nhập.".into());
                }
                match after.closing(&new.id) {
                    Err(problems) => return Err(problems.join(" ")),
                    Ok(q) if q != new.qualifiers => {
                        return Err(format!(
                            "Các đội vào chung khảo ghi khi khóa vòng “{}” không khớp với kết quả các phiếu chấm; hãy đồng bộ rồi khóa lại.",
                            new.name
                        ));
                    }
                    Ok(_) => {}
                }
            }
            Some(_) => {}
        }
    }
    for new in &after.rounds {
        let old = before.round(&new.id);
        if old.is_none() && new.is_closed() {
            return Err(format!("Vòng “{}” mới lập, chưa khóa được.", new.name));
        }
        if old.is_none_or(|o| o.units != new.units)
            && let Some(u) = new.units.iter().find(|u| !tree.is_within(u, &after.unit))
        {
            return Err(format!("Đơn vị “{u}” không thuộc phạm vi của đơn vị tổ chức hội thi."));
        }
    }
    Ok(())
}

fn check_teams(before: &Contest, after: &Contest, user: &str, organiser: bool, access: &Access, tree: &UnitTree) -> Result<(), String> {
    let ids: BTreeSet<&str> = before.teams.iter().chain(&after.teams).map(|t| t.id.as_str()).collect();
    for id in ids {
        let (old, new) = (before.team(id), after.team(id));
        if old == new {
            continue;
        }
        let own = |t: Option<&Team>| t.is_none_or(|t| access.can_write(&t.unit));
        if !(organiser || own(old) && own(new)) {
            return Err("Cán bộ chỉ đăng ký, sửa hay rút đội thi của chính đơn vị mình; ban tổ chức quản lý mọi đội.".into());
        }
        if let Some(o) = old {
            let rounds = before.rounds_of(o);
            if new.is_none_or(|n| n.unit != o.unit) && rounds.iter().any(|r| r.is_closed()) {
                return Err(format!("Vòng thi của đội “{}” đã khóa; không rút hay đổi đơn vị của đội được nữa.", o.name));
            }
            if rounds.last().is_none_or(|r| r.is_closed()) {
                return Err(format!("Vòng thi của đội “{}” đã khóa; không sửa được đội nữa.", o.name));
            }
            if new.is_some_and(|n| (&n.registered_by, n.registered_at) != (&o.registered_by, o.registered_at)) {
                return Err("Không đổi được người đăng ký đội thi.".into());
            }
        }
        if let Some(n) = new {
            if old.is_none() && n.registered_by != user {
                return Err("Đội thi chỉ được đăng ký dưới tên chính người đang đăng nhập.".into());
            }
            if !tree.is_within(&n.unit, &after.unit) {
                return Err(format!("Đơn vị “{}” không thuộc phạm vi của đơn vị tổ chức hội thi.", n.unit));
            }
            if old.is_none_or(|o| o.unit != n.unit)
                && let Some(r) = after.first_round_of(&n.unit).filter(|r| r.is_closed())
            {
                return Err(format!("Vòng “{}” đã khóa; không đăng ký đội được nữa.", r.name));
            }
        }
    }
    Ok(())
}

fn check_sheets(before: &Contest, after: &Contest, user: &str) -> Result<(), String> {
    for old in &before.sheets {
        match after.sheets.iter().find(|s| s.id == old.id) {
            None => return Err("Không được xóa phiếu chấm.".into()),
            Some(new) if new == old => {}
            Some(new) if (&new.round, &new.judge) != (&old.round, &old.judge) => {
                return Err("Không đổi được vòng thi hay giám khảo của phiếu chấm.".into());
            }
            Some(_) if old.judge != user => {
                return Err("Phiếu chấm này của giám khảo khác; mỗi giám khảo chỉ ghi phiếu của chính mình.".into());
            }
            Some(new) => check_own_sheet(before, after, Some(old), new, user)?,
        }
    }
    for new in after.sheets.iter().filter(|s| !before.sheets.iter().any(|o| o.id == s.id)) {
        if new.judge != user {
            return Err("Phiếu chấm chỉ được ghi dưới tên chính giám khảo đang đăng nhập.".into());
        }
        check_own_sheet(before, after, None, new, user)?;
    }
    Ok(())
}

/// A judge's change to their own sheet.
fn check_own_sheet(before: &Contest, after: &Contest, old: Option<&ScoreSheet>, new: &ScoreSheet, user: &str) -> Result<(), String> {
    let round = after.round(&new.round).expect("validated: a sheet's round exists");
    if round.is_closed() || before.round(&new.round).is_some_and(Round::is_closed) {
        return Err(format!("Vòng “{}” đã khóa; phiếu chấm không sửa được nữa.", round.name));
    }
    if !round.is_assigned(user) {
        return Err(format!("Bạn không phải giám khảo của vòng “{}”.", round.name));
    }
    let logged = append_only::appended(old.map_or(&[][..], |o| &o.changes), &new.changes)
        .map_err(|e| e.message("lần chấm", "Không được sửa hay xóa lịch sử chấm điểm."))?;
    let teams: HashSet<&str> = after.teams_in(round).into_iter().map(|t| t.id.as_str()).collect();
    let in_round = |team: &str| teams.contains(team);
    for c in &logged {
        let part = after.parts.iter().find(|p| p.id == c.part);
        if !in_round(&c.team) || part.is_none_or(|p| c.to > p.max) {
            return Err(format!("Lần chấm ghi cho đội hay phần thi không có ở vòng “{}”, hoặc vượt điểm tối đa.", round.name));
        }
    }
    // Rows are unique per cell (validated): index them, a forged sheet may hold thousands.
    let cells = |s: &'_ ScoreSheet| -> HashMap<(String, String), ScoreRow> {
        s.rows.iter().map(|r| ((r.team.clone(), r.part.clone()), r.clone())).collect()
    };
    let (old_rows, new_rows) = (old.map(cells).unwrap_or_default(), cells(new));
    if old_rows.keys().any(|k| !new_rows.contains_key(k)) {
        return Err("Không xóa được điểm đã chấm; hãy sửa thành điểm khác.".into());
    }
    let given: HashSet<(&str, &str, u32)> = logged.iter().map(|c| (c.team.as_str(), c.part.as_str(), c.to)).collect();
    for row in new.rows.iter().filter(|r| old_rows.get(&(r.team.clone(), r.part.clone())) != Some(*r)) {
        if !in_round(&row.team) {
            return Err(format!("Đội “{}” không thi ở vòng “{}”.", after.team_name(&row.team), round.name));
        }
        if !after.parts.iter().any(|p| p.id == row.part) {
            return Err("Phần thi này không có trong hội thi.".into());
        }
        if !given.contains(&(row.team.as_str(), row.part.as_str(), row.points)) {
            return Err("Mỗi điểm chấm phải được ghi vào lịch sử chấm điểm.".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Role;
    use crate::domain::access::Grant;
    use proptest::prelude::*;

    const TREE: &str = "code,name,kind,level,parent,cluster
HN,Thành ủy Hà Nội,tinh,tinh,,
BAVI,Huyện ủy Ba Vì,huyen,huyen,HN,
X1,Xã Tản Lĩnh,xa,co_so,BAVI,CUM-1
X2,Xã Ba Trại,xa,co_so,BAVI,CUM-1
X3,Xã Cẩm Lĩnh,xa,co_so,BAVI,CUM-1
X4,Xã Minh Quang,xa,co_so,BAVI,CUM-2
X5,Xã Ba Vì,xa,co_so,BAVI,CUM-2
SONTAY,Thị ủy Sơn Tây,huyen,huyen,HN,
ST1,Phường Lê Lợi,xa,co_so,SONTAY,CUM-1
";
    const P1: &str = "so-khao-CUM-1";
    const P2: &str = "so-khao-CUM-2";
    const FINAL: &str = "chung-khao";
    const JUDGES: [&str; 3] = ["gk1", "gk2", "gk3"];

    fn tree() -> UnitTree {
        UnitTree::from_csv(TREE).unwrap()
    }

    fn access(grants: &[(&str, Role)]) -> Access {
        let grants: Vec<Grant> = grants.iter().map(|(u, r)| Grant { unit: u.to_string(), role: *r }).collect();
        Access::new(&grants, &tree())
    }

    fn organiser() -> Access {
        access(&[("BAVI", Role::Reviewer)])
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id{n}")
        }
    }

    /// Ba Vì's contest: two clusters (X1–X3, X4–X5), a team per commune, three judges per round.
    fn contest() -> Contest {
        let mut c = Contest::new("c1".into(), "Hội thi Dân vận khéo huyện Ba Vì", Level::District, 2026, "BAVI", "bt", 1);
        assert_eq!(c.add_preliminaries(&tree()), 2);
        for r in &mut c.rounds {
            r.judges = JUDGES.iter().map(|j| Judge { username: j.to_string(), name: format!("Giám khảo {j}") }).collect();
        }
        for u in ["X1", "X2", "X3", "X4", "X5"] {
            c.register_team(format!("t{u}"), u, &format!("Đội {u}"), "Nguyễn Văn A\nLò Thị B", "bt", 2).unwrap();
        }
        c
    }

    /// `judge` scores `team` in `round` with these points for the three parts (empty: skipped).
    fn give(c: &mut Contest, round: &str, judge: &str, team: &str, points: [&str; 3]) {
        let rows: Vec<ScoreInput> = points
            .iter()
            .enumerate()
            .map(|(i, p)| ScoreInput { team: team.into(), part: format!("p{}", i + 1), points: p.to_string(), comment: String::new() })
            .collect();
        let mut next = ids();
        let prefix = format!("{round}-{judge}-{team}-{}", c.sheets.iter().map(|s| s.changes.len()).sum::<usize>());
        c.score(round, judge, &rows, 10, move || format!("{prefix}-{}", next())).unwrap();
    }

    /// Every judge gives every team of `round` the same points, `totals[team]` split over parts.
    fn score_round(c: &mut Contest, round: &str, points: &[(&str, [&str; 3])]) {
        for judge in JUDGES {
            for (team, p) in points {
                give(c, round, judge, team, *p);
            }
        }
    }

    fn total(c: &Contest, round: &str, team: &str) -> u32 {
        c.results(round).unwrap().teams.iter().find(|t| t.team == team).unwrap().total
    }

    #[test]
    fn points_are_typed_with_a_decimal_comma_and_kept_in_hundredths() {
        assert_eq!(parse_points("8,5", 3000), Ok(850));
        assert_eq!(parse_points(" 8.25 ", 3000), Ok(825));
        assert_eq!(parse_points("30", 3000), Ok(3000));
        assert_eq!(parse_points("0", 3000), Ok(0));
        assert!(parse_points("tám", 3000).unwrap_err().contains("phải là một số"));
        assert!(parse_points("8,", 3000).unwrap_err().contains("phải là một số"));
        assert!(parse_points(",5", 3000).unwrap_err().contains("phải là một số"));
        assert!(parse_points("8,5,1", 3000).unwrap_err().contains("phải là một số"));
        assert!(parse_points("-1", 3000).unwrap_err().contains("không được âm"));
        assert!(parse_points("8,125", 3000).unwrap_err().contains("hai chữ số thập phân"));
        assert_eq!(parse_points("30,01", 3000).unwrap_err(), "vượt quá điểm tối đa 30.");
        assert!(parse_points("99999999999999", 3000).unwrap_err().contains("vượt quá"));
        assert_eq!([format_points(850), format_points(8533), format_points(3000), format_points(5)], ["8,5", "85,33", "30", "0,05"]);
    }

    #[test]
    fn rounds_sort_naturally_digit_runs_by_value() {
        let mut ids = vec!["so-khao-CUM-10", "so-khao-CUM-2", "so-khao-CUM-1", "so-khao-CUM-02", "so-khao-A", "so-khao-CUM-9b", "so-khao-CUM-9a"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["so-khao-A", "so-khao-CUM-1", "so-khao-CUM-02", "so-khao-CUM-2", "so-khao-CUM-9a", "so-khao-CUM-9b", "so-khao-CUM-10"]);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_eq!(natural_cmp("x2", "x2y"), Ordering::Less);
        assert_eq!(natural_cmp("Cụm 2", "Cụm 10"), Ordering::Less, "letters beyond ASCII step by whole characters");
        assert_eq!(natural_cmp("99999999999999999999999", "100000000000000000000000"), Ordering::Less, "no overflow");
        let mut rounds = [
            Round::new("chung-khao", Stage::Final, "Chung khảo"),
            Round::new("so-khao-CUM-10", Stage::Preliminary, "Sơ khảo Cụm 10"),
            Round::new("so-khao-CUM-2", Stage::Preliminary, "Sơ khảo Cụm 2"),
        ];
        rounds.sort_by(round_order);
        let order: Vec<&str> = rounds.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(order, ["so-khao-CUM-2", "so-khao-CUM-10", "chung-khao"], "the final last, whatever its id");
    }

    proptest! {
        #[test]
        fn natural_order_is_a_total_order(a in "[a0-2-]{0,6}", b in "[a0-2-]{0,6}", c in "[a0-2-]{0,6}") {
            prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
            if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
                prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
            }
        }
    }

    #[test]
    fn preliminaries_follow_the_clusters_within_the_organisers_subtree() {
        let c = contest();
        let names: Vec<(&str, Stage, &[String])> = c.rounds.iter().map(|r| (r.id.as_str(), r.stage, &r.units[..])).collect();
        assert_eq!(names[0], (P1, Stage::Preliminary, &["X1".to_string(), "X2".into(), "X3".into()][..]), "Sơn Tây's ward is not Ba Vì's");
        assert_eq!(names[1].0, P2);
        assert_eq!(names[2].0, FINAL);
        assert_eq!(c.first_round_of("X4").map(|r| r.id.as_str()), Some(P2));
        assert!(c.first_round_of("ST1").is_none());
        let mut again = c.clone();
        assert_eq!(again.add_preliminaries(&tree()), 0, "a cluster gets one round");
        assert!(again.register_team("t".into(), "BAVI", "Đội huyện", "", "bt", 3).unwrap_err().contains("không thuộc cụm"));
        assert!(again.register_team("t".into(), "X1", "Đội hai", "", "bt", 3).unwrap_err().contains("đã có đội"));
        assert!(c.teams_in(c.final_round().unwrap()).is_empty(), "nobody is in the final before a preliminary closes");
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_part_score_is_the_judges_mean_optionally_without_the_highest_and_lowest() {
        let mut c = contest();
        for (judge, p) in JUDGES.iter().zip(["25", "26", "28"]) {
            give(&mut c, P1, judge, "tX1", [p, "20", "30,5"]);
        }
        let r = c.results(P1).unwrap();
        let x1 = &r.teams[0];
        assert_eq!(x1.parts[0], PartScore { part: "p1".into(), points: Some(2633), scored: 3, dropped: false }, "79/3 rounds to 26,33");
        assert_eq!(x1.total, 2633 + 2000 + 3050);
        assert!(x1.complete);
        c.drop_extremes = true;
        let x1 = c.results(P1).unwrap().teams[0].clone();
        assert_eq!((x1.parts[0].points, x1.parts[0].dropped), (Some(2600), true), "the middle score of three");
        // With fewer than three scores nothing is dropped (dropping two of two leaves nothing):
        // the plain mean, and the screen says so through `dropped`.
        c.rounds[0].excused.push(Excused { judge: "gk2".into(), team: "tX1".into(), reason: "Người của xã Tản Lĩnh".into() });
        let x1 = c.results(P1).unwrap().teams[0].clone();
        assert_eq!(x1.parts[0], PartScore { part: "p1".into(), points: Some(2650), scored: 2, dropped: false }, "(25 + 28) / 2, the excused score not counted");
        assert!(x1.complete, "an excused judge is not waited for");
        assert_eq!(mean_half_up(&[1, 2]), 2, "half up");
        assert_eq!(mean_half_up(&[0, 0, 1]), 0);
        assert_eq!(mean_half_up(&[1, 2, 2]), 2);
    }

    #[test]
    fn equal_totals_are_reported_as_ties_until_the_organiser_orders_them() {
        let t = |v: &[(&str, u32)]| v.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>();
        let totals = t(&[("a", 10), ("c", 20), ("b", 20), ("d", 5)]);
        let r = rank(totals.clone(), &[]);
        let lines: Vec<(u32, &str, bool)> = r.places.iter().map(|p| (p.rank, p.team.as_str(), p.tied)).collect();
        assert_eq!(lines, [(1, "b", true), (1, "c", true), (3, "a", false), (4, "d", false)]);
        assert_eq!(r.ties, [["b", "c"]]);
        let r = rank(totals.clone(), &["x".into(), "c".into(), "b".into()]);
        let lines: Vec<(u32, &str, bool)> = r.places.iter().map(|p| (p.rank, p.team.as_str(), p.tied)).collect();
        assert_eq!(lines, [(1, "c", false), (2, "b", false), (3, "a", false), (4, "d", false)]);
        assert!(r.ties.is_empty());
        assert_eq!(rank(totals, &["c".into()]).ties.len(), 1, "an order naming only some of the tied teams resolves nothing");
    }

    #[test]
    fn missing_scores_and_a_tie_at_the_cut_keep_a_round_open_until_resolved() {
        let mut c = contest();
        score_round(&mut c, P1, &[("tX1", ["28", "28", "38"]), ("tX2", ["25", "25", "30"]), ("tX3", ["20", "20", "40"])]);
        // One judge has not scored one part yet.
        let rows = vec![ScoreInput { team: "tX3".into(), part: "p3".into(), points: String::new(), comment: String::new() }];
        assert_eq!(c.score(P1, "gk1", &rows, 11, ids()), Ok(false), "an empty cell changes nothing");
        let mut half = c.clone();
        half.sheets.iter_mut().find(|s| s.judge == "gk3" && s.round == P1).unwrap().rows.retain(|r| !(r.team == "tX3" && r.part == "p3"));
        let r = half.results(P1).unwrap();
        assert_eq!(r.missing, [Missing { judge: "gk3".into(), team: "tX3".into(), part: "p3".into() }]);
        assert!(!r.teams[2].complete && r.teams[0].complete);
        let err = half.close_round(P1, "bt", 20).unwrap_err();
        assert!(err[0].starts_with("Còn thiếu 1 điểm: giám khảo Giám khảo gk3 chưa chấm đội “Đội X3” phần “Tiểu phẩm”"), "{err:?}");
        // X2 and X3 both total 80: a tie across the cut of two.
        assert_eq!((total(&c, P1, "tX1"), total(&c, P1, "tX2"), total(&c, P1, "tX3")), (9400, 8000, 8000));
        let err = c.close_round(P1, "bt", 20).unwrap_err();
        assert_eq!(err, ["Các đội Đội X2; Đội X3 bằng điểm (80) ở ranh giới 2 đội vào chung khảo; hãy xếp thứ tự các đội bằng điểm."]);
        assert!(!c.rounds[0].is_closed());
        // The organiser records the order (e.g. the higher play wins), and the round closes.
        c.rounds[0].tie_break = vec!["tX3".into(), "tX2".into()];
        assert_eq!(c.closing(P1), Ok(vec!["tX1".to_string(), "tX3".into()]));
        c.close_round(P1, "bt", 20).unwrap();
        assert_eq!(c.rounds[0].qualifiers, ["tX1", "tX3"]);
        let finalists: Vec<&str> = c.teams_in(c.final_round().unwrap()).iter().map(|t| t.id.as_str()).collect();
        assert_eq!(finalists, ["tX1", "tX3"]);
        // A closed round takes no more scores, no new team, and does not close twice.
        assert!(c.score(P1, "gk1", &[ScoreInput { team: "tX1".into(), part: "p1".into(), points: "1".into(), comment: String::new() }], 21, ids()).is_err());
        c.teams.retain(|t| t.unit != "X2");
        assert!(c.register_team("n".into(), "X2", "Đội mới", "", "bt", 22).unwrap_err().contains("đã khóa"));
        assert_eq!(c.close_round(P1, "bt", 23), Err(vec!["Vòng thi này đã khóa.".to_string()]));
        // The final waits for every preliminary.
        assert!(c.closing(FINAL).unwrap_err()[0].contains("Còn vòng sơ khảo chưa khóa"));
    }

    /// Both preliminaries closed, the final scored: X1 95, X3 90, X4 85, X5 85 (tied).
    fn final_scored() -> Contest {
        let mut c = contest();
        score_round(&mut c, P1, &[("tX1", ["28", "28", "38"]), ("tX2", ["25", "25", "30"]), ("tX3", ["20", "25", "40"])]);
        c.close_round(P1, "bt", 20).unwrap();
        score_round(&mut c, P2, &[("tX4", ["20", "20", "30"]), ("tX5", ["20", "20", "31"])]);
        c.close_round(P2, "bt", 21).unwrap();
        score_round(&mut c, FINAL, &[("tX1", ["30", "25", "40"]), ("tX3", ["30", "20", "40"]), ("tX4", ["25", "20", "40"]), ("tX5", ["25", "25", "35"])]);
        c
    }

    fn prize(team: &str, kind: PrizeKind) -> Prize {
        Prize { team: team.into(), kind }
    }

    #[test]
    fn prizes_follow_the_final_ranking_within_the_quotas() {
        let mut c = final_scored();
        assert!(c.suggest_prizes().unwrap_err().contains("khóa vòng chung khảo"));
        assert!(c.award(vec![prize("tX1", PrizeKind::First)]).is_err(), "no prize before the final closes");
        c.close_round(FINAL, "bt", 30).unwrap();
        c.quotas = PrizeQuotas { first: 1, second: 1, third: 1, consolation: 1 };
        // X4 and X5 tie for third with one third prize.
        assert!(c.suggest_prizes().unwrap_err().contains("đồng hạng 3 nhưng Giải Ba chỉ còn 1 suất"));
        c.quotas.third = 2;
        let suggested = c.suggest_prizes().unwrap();
        assert_eq!(
            suggested,
            [prize("tX1", PrizeKind::First), prize("tX3", PrizeKind::Second), prize("tX4", PrizeKind::Third), prize("tX5", PrizeKind::Third)]
        );
        // More winners than the quota.
        let two_firsts = vec![prize("tX1", PrizeKind::First), prize("tX3", PrizeKind::First)];
        assert_eq!(c.award(two_firsts), Err("Giải Nhất chỉ có 1 suất; đã trao 2.".into()));
        // A better prize for a lower rank, different prizes for tied teams, a team twice, a team
        // not in the final.
        let inverted = vec![prize("tX1", PrizeKind::Second), prize("tX3", PrizeKind::First)];
        assert!(c.award(inverted).unwrap_err().contains("(hạng 2) không thể nhận Giải Nhất"));
        let skipped = vec![prize("tX1", PrizeKind::First), prize("tX4", PrizeKind::Third)];
        assert!(c.award(skipped).unwrap_err().contains("khi đội “Đội X3” (hạng 2) không có giải"));
        let split = vec![prize("tX1", PrizeKind::First), prize("tX3", PrizeKind::Second), prize("tX4", PrizeKind::Third), prize("tX5", PrizeKind::Consolation)];
        assert!(c.award(split).unwrap_err().contains("đồng hạng 3"));
        assert!(c.award(vec![prize("tX1", PrizeKind::First), prize("tX1", PrizeKind::Second)]).unwrap_err().contains("hai giải"));
        assert!(c.award(vec![prize("tX2", PrizeKind::Consolation)]).unwrap_err().contains("không thi chung khảo"));
        assert_eq!(c.award(vec![prize("tX1", PrizeKind::First)]), Ok(()), "fewer than the quota is fine");
        c.award(suggested).unwrap();
        c.publish("bt", 40).unwrap();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.award(vec![]), Err(PUBLISHED.into()));
        assert!(c.close_round(FINAL, "bt", 41).is_err());
    }

    #[test]
    fn a_contest_without_preliminaries_is_one_round_of_every_team() {
        // Hồng Lĩnh 2024: six teams, one round, one first, two second, three third prizes.
        let mut c = Contest::new("c2".into(), "Hội thi", Level::Grassroots, 2024, "BAVI", "bt", 1);
        c.rounds[0].judges = JUDGES.iter().map(|j| Judge { username: j.to_string(), name: j.to_string() }).collect();
        for u in ["X1", "X2", "X3", "X4", "X5"] {
            c.register_team(format!("t{u}"), u, u, "", "bt", 2).unwrap();
        }
        assert_eq!(c.first_round_of("X4").map(|r| r.stage), Some(Stage::Final));
        assert!(c.first_round_of("ST1").is_some(), "the subtree is the server's check, not the round's");
        assert!(check(&c, "bt", &organiser(), |c| c.register_team("tS".into(), "ST1", "S", "", "bt", 3).unwrap())
            .unwrap_err()
            .contains("không thuộc phạm vi"));
        let points = [("tX1", ["30", "30", "40"]), ("tX2", ["29", "30", "40"]), ("tX3", ["28", "30", "40"]), ("tX4", ["27", "30", "40"]), ("tX5", ["26", "30", "40"])];
        score_round(&mut c, FINAL, &points);
        c.close_round(FINAL, "bt", 5).unwrap();
        let prizes: Vec<(String, PrizeKind)> = c.suggest_prizes().unwrap().into_iter().map(|p| (p.team, p.kind)).collect();
        let kinds: Vec<PrizeKind> = prizes.iter().map(|p| p.1).collect();
        assert_eq!(kinds, [PrizeKind::First, PrizeKind::Second, PrizeKind::Second, PrizeKind::Third, PrizeKind::Third]);
    }

    #[test]
    fn the_largest_contest_validate_allows_closes_in_bounded_time() {
        // 500 teams in one round, 30 judges, 10 parts: 150,000 scores, checked when it closes.
        let mut c = Contest::new("big".into(), "Hội thi", Level::Province, 2026, "BAVI", "bt", 1);
        c.parts = (1..=MAX_PARTS).map(|i| Part { id: format!("p{i}"), label: format!("Phần {i}"), max: 1000 }).collect();
        c.rounds[0].judges = (0..MAX_JUDGES).map(|j| Judge { username: format!("gk{j}"), name: String::new() }).collect();
        c.teams = (0..MAX_TEAMS)
            .map(|t| Team { id: format!("t{t}"), unit: format!("u{t}"), name: format!("Đội {t}"), members: vec![], registered_by: "bt".into(), registered_at: 1 })
            .collect();
        for j in 0..MAX_JUDGES {
            let mut sheet = ScoreSheet { id: format!("s{j}"), round: FINAL.into(), judge: format!("gk{j}"), rows: vec![], changes: vec![] };
            for t in 0..MAX_TEAMS {
                for p in 1..=MAX_PARTS {
                    let points = ((t * 7 + j * 3 + p) % 1000) as u32;
                    sheet.rows.push(ScoreRow { team: format!("t{t}"), part: format!("p{p}"), points, comment: String::new() });
                    sheet.changes.push(ScoreChange { id: format!("{t}-{p}"), team: format!("t{t}"), part: format!("p{p}"), from: None, to: points, comment: String::new(), at: 2 });
                }
            }
            c.sheets.push(sheet);
        }
        let started = std::time::Instant::now();
        let mut closed = c.clone();
        closed.close_round(FINAL, "bt", 3).unwrap();
        let big_tree = UnitTree::from_units(vec![], vec![]);
        assert_eq!(check_contest(Some(&c), &closed, "bt", &Access::new(&[Grant { unit: "BAVI".into(), role: Role::Reviewer }], &big_tree), &big_tree), Ok(()));
        // Debug build, two slow cores: a few tenths of a second; quadratic work would take minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }

    // The server's rule, as attacks.

    /// `before` with `edit` applied, checked for `user` with `access`.
    fn check(before: &Contest, user: &str, access: &Access, edit: impl FnOnce(&mut Contest)) -> Result<(), String> {
        let mut after = before.clone();
        edit(&mut after);
        check_contest(Some(before), &after, user, access, &tree())
    }

    fn nobody() -> Access {
        access(&[])
    }

    fn row(team: &str, part: &str, points: &str) -> ScoreInput {
        ScoreInput { team: team.into(), part: part.into(), points: points.into(), comment: String::new() }
    }

    #[test]
    fn only_an_organiser_over_the_unit_creates_or_sets_up_a_contest() {
        let c = contest();
        let t = tree();
        let sibling = access(&[("SONTAY", Role::Reviewer)]);
        let cadre = access(&[("X1", Role::Member)]);
        assert_eq!(check_contest(None, &c, "bt", &organiser(), &t), Ok(()));
        assert_eq!(check_contest(None, &c, "bt", &access(&[("HN", Role::Admin)]), &t), Ok(()), "an administrator above");
        assert!(check_contest(None, &c, "bt", &sibling, &t).unwrap_err().contains("Chỉ người bình xét hoặc quản trị"));
        assert!(check_contest(None, &c, "bt", &cadre, &t).is_err());
        assert!(check_contest(None, &c, "khac", &organiser(), &t).unwrap_err().contains("chính người"));
        // The organiser of the sibling district edits the rules, a round, a judge, the tie-break.
        let rename = |c: &mut Contest| c.name = "Hội thi khác".into();
        assert_eq!(check(&c, "bt", &organiser(), rename), Ok(()));
        assert!(check(&c, "st", &sibling, rename).unwrap_err().contains("Chỉ ban tổ chức"));
        assert!(check(&c, "st", &sibling, |c| c.rounds[0].judges.push(Judge { username: "st".into(), name: "x".into() })).is_err());
        assert!(check(&c, "st", &sibling, |c| c.rounds[0].tie_break = vec!["tX2".into()]).is_err());
        assert!(check(&c, "gk1", &nobody(), |c| c.drop_extremes = true).is_err(), "a judge is not an organiser");
        assert!(check(&c, "bt", &organiser(), |c| c.unit = "SONTAY".into()).unwrap_err().contains("đơn vị tổ chức"));
        assert!(check(&c, "bt", &organiser(), |c| c.rounds[0].units.push("ST1".into())).unwrap_err().contains("không thuộc phạm vi"));
        assert!(check(&c, "bt", &organiser(), |c| c.parts[0].max = 0).is_err());
        assert_eq!(check(&c, "bt", &organiser(), |c| (c.rounds[0].date, c.rounds[0].venue) = ("2026-03-28".into(), "Hội trường xã Tản Lĩnh".into())), Ok(()));
        assert!(check(&c, "bt", &organiser(), |c| c.rounds[0].date = "2026-02-30".into()).unwrap_err().contains("Ngày thi"));
    }

    #[test]
    fn a_cadre_registers_only_their_own_units_team_and_only_while_its_round_is_open() {
        let mut c = contest();
        c.teams.retain(|t| t.unit != "X2" && t.unit != "X4");
        let cadre = access(&[("X2", Role::Member)]);
        let register = |unit: &str, by: &str| {
            let unit = unit.to_string();
            let by = by.to_string();
            move |c: &mut Contest| c.register_team(format!("t{unit}"), &unit, "Đội", "", &by, 5).unwrap()
        };
        assert_eq!(check(&c, "cb", &cadre, register("X2", "cb")), Ok(()));
        assert!(check(&c, "cb", &cadre, register("X4", "cb")).unwrap_err().contains("chính đơn vị mình"));
        assert!(check(&c, "cb", &cadre, register("X2", "bt")).unwrap_err().contains("chính người"));
        assert!(check(&c, "cb", &cadre, |c| c.teams[0].members.push("Người lạ".into())).is_err(), "another unit's team");
        assert!(check(&c, "cb", &cadre, |c| {
            c.teams.remove(0);
        })
        .is_err());
        assert_eq!(check(&c, "bt", &organiser(), register("X4", "bt")), Ok(()), "the organiser registers any unit's team");
        // Once the cluster's round is closed, not even the organiser adds, moves or removes.
        let mut closed = c.clone();
        closed.register_team("tX2".into(), "X2", "Đội X2", "", "cb", 5).unwrap();
        score_round(&mut closed, P1, &[("tX1", ["2", "2", "2"]), ("tX2", ["1", "1", "1"]), ("tX3", ["3", "3", "3"])]);
        closed.close_round(P1, "bt", 9).unwrap();
        assert!(check(&closed, "cb", &cadre, |c| c.teams.iter_mut().find(|t| t.unit == "X2").unwrap().name = "Đội mới".into())
            .unwrap_err()
            .contains("đã khóa"), "X2 did not go on");
        assert!(check(&closed, "bt", &organiser(), |c| c.teams.retain(|t| t.unit != "X1")).unwrap_err().contains("không rút"));
        // A finalist's members may still change before the final closes.
        assert_eq!(check(&closed, "bt", &organiser(), |c| c.teams[1].members = vec!["Người thay".into()]), Ok(()));
    }

    #[test]
    fn a_judge_writes_only_their_own_sheet_in_their_own_rounds_while_open() {
        let c = contest();
        let score = |judge: &'static str, round: &'static str| {
            move |c: &mut Contest| {
                c.score(round, judge, &[row("tX1", "p1", "25,5")], 10, ids()).unwrap();
            }
        };
        assert_eq!(check(&c, "gk1", &nobody(), score("gk1", P1)), Ok(()));
        // Someone writes a sheet in gk1's name.
        assert!(check(&c, "gk2", &nobody(), score("gk1", P1)).unwrap_err().contains("chính giám khảo"));
        assert!(check(&c, "bt", &organiser(), score("gk1", P1)).is_err(), "not even the organiser");
        // Someone not assigned scores (forging the sheet, since `score` refuses).
        let mut stranger = c.clone();
        stranger.rounds[0].judges.push(Judge { username: "x".into(), name: "x".into() });
        stranger.score(P1, "x", &[row("tX1", "p1", "30")], 10, ids()).unwrap();
        let forged = stranger.sheets[0].clone();
        assert!(check(&c, "x", &access(&[("X1", Role::Member)]), |c| c.sheets.push(forged)).unwrap_err().contains("không phải giám khảo"));
        // A team of another round, a part over its maximum.
        let mut other = c.clone();
        other.score(P2, "gk1", &[row("tX4", "p1", "20")], 10, ids()).unwrap();
        let mut wrong = other.sheets[0].clone();
        wrong.round = P1.into();
        assert!(check(&c, "gk1", &nobody(), |c| c.sheets.push(wrong)).unwrap_err().contains("không có ở vòng"));
        assert!(check(&c, "gk1", &nobody(), |c| {
            score("gk1", P1)(c);
            c.sheets[0].rows[0].points = 3001;
            c.sheets[0].changes[0].to = 3001;
        })
        .unwrap_err()
        .contains("vượt quá"));

        // Another judge rewrites gk1's sheet.
        let mut scored = c.clone();
        score("gk1", P1)(&mut scored);
        assert!(check(&scored, "gk2", &nobody(), |c| c.sheets[0].rows[0].comment = "x".into()).unwrap_err().contains("giám khảo khác"));
        assert!(check(&scored, "gk2", &nobody(), |c| c.sheets[0].judge = "gk2".into()).unwrap_err().contains("Không đổi được"));
        assert!(check(&scored, "gk1", &nobody(), |c| c.sheets.clear()).unwrap_err().contains("xóa phiếu"));
        // gk1 changes a score: fine when logged, refused when not, or when the log shrinks or is rewritten.
        let rescore = |c: &mut Contest| {
            c.score(P1, "gk1", &[row("tX1", "p1", "26")], 11, || "later".to_string()).unwrap();
        };
        assert_eq!(check(&scored, "gk1", &nobody(), rescore), Ok(()));
        assert!(check(&scored, "gk1", &nobody(), |c| c.sheets[0].rows[0].points = 2900).unwrap_err().contains("ghi vào lịch sử"));
        assert!(check(&scored, "gk1", &nobody(), |c| {
            rescore(c);
            c.sheets[0].changes.remove(0);
        })
        .unwrap_err()
        .contains("lịch sử chấm điểm"));
        assert!(check(&scored, "gk1", &nobody(), |c| c.sheets[0].changes[0].to = 2800).unwrap_err().contains("lịch sử chấm điểm"));
        assert!(check(&scored, "gk1", &nobody(), |c| {
            let mut copy = c.sheets[0].changes[0].clone();
            copy.to = 100;
            c.sheets[0].rows[0].points = 100;
            c.sheets[0].changes.push(copy);
        })
        .is_err(), "a new entry under an old id");
        assert!(check(&scored, "gk1", &nobody(), |c| c.sheets[0].rows.clear()).unwrap_err().contains("Không xóa được điểm"));
        // The same judge on a phone and a laptop, both offline: the two logs interleave, and
        // the cell keeps one of the two scores (automerge's pick), each one logged.
        let mut merged = scored.clone();
        let s = &mut merged.sheets[0];
        s.changes.insert(1, ScoreChange { id: "laptop".into(), team: "tX1".into(), part: "p2".into(), from: None, to: 2000, comment: String::new(), at: 12 });
        s.changes.push(ScoreChange { id: "phone".into(), team: "tX1".into(), part: "p2".into(), from: None, to: 2100, comment: String::new(), at: 12 });
        s.rows.push(ScoreRow { team: "tX1".into(), part: "p2".into(), points: 2100, comment: String::new() });
        assert_eq!(check_contest(Some(&scored), &merged, "gk1", &nobody(), &tree()), Ok(()));
        // A judge removed from the round by the organiser can no longer score.
        let mut removed = scored.clone();
        removed.rounds[0].judges.retain(|j| j.username != "gk1");
        assert!(check(&removed, "gk1", &nobody(), |c| {
            let s = c.sheets.iter_mut().find(|s| s.judge == "gk1").unwrap();
            s.rows[0].points = 2700;
            s.changes.push(ScoreChange { id: "z".into(), team: "tX1".into(), part: "p1".into(), from: Some(2550), to: 2700, comment: String::new(), at: 12 });
        })
        .unwrap_err()
        .contains("không phải giám khảo"));
    }

    #[test]
    fn nobody_changes_a_closed_round_or_published_results() {
        let mut c = contest();
        score_round(&mut c, P1, &[("tX1", ["28", "28", "38"]), ("tX2", ["25", "25", "30"]), ("tX3", ["20", "25", "40"])]);
        // Closing: only the organiser, in their own name, with the qualifiers the sheets give.
        let close = |c: &mut Contest| c.close_round(P1, "bt", 20).unwrap();
        assert_eq!(check(&c, "bt", &organiser(), close), Ok(()));
        assert!(check(&c, "gk1", &nobody(), |c| c.close_round(P1, "gk1", 20).unwrap()).unwrap_err().contains("Chỉ ban tổ chức"));
        assert!(check(&c, "bt", &organiser(), |c| c.close_round(P1, "khac", 20).unwrap()).unwrap_err().contains("chính người"));
        let forged = |c: &mut Contest| {
            close(c);
            c.rounds[0].qualifiers = vec!["tX1".into(), "tX2".into()];
        };
        assert!(check(&c, "bt", &organiser(), forged).unwrap_err().contains("không khớp"));
        let mut missing = c.clone();
        missing.sheets[0].rows.pop();
        let mut closed_anyway = missing.clone();
        closed_anyway.rounds[0].closed_at = 20;
        closed_anyway.rounds[0].closed_by = "bt".into();
        closed_anyway.rounds[0].qualifiers = vec!["tX1".into(), "tX3".into()];
        assert!(check_contest(Some(&missing), &closed_anyway, "bt", &organiser(), &tree()).unwrap_err().contains("Còn thiếu 1 điểm"));

        let mut closed = c.clone();
        close(&mut closed);
        // A judge's late score (made offline before the close) arrives after it.
        let late = |c: &mut Contest| {
            let s = c.sheets.iter_mut().find(|s| s.judge == "gk1").unwrap();
            s.rows[0].points = 3000;
            s.changes.push(ScoreChange { id: "late".into(), team: "tX1".into(), part: "p1".into(), from: Some(2800), to: 3000, comment: String::new(), at: 19 });
        };
        assert_eq!(check(&c, "gk1", &nobody(), late), Ok(()));
        assert!(check(&closed, "gk1", &nobody(), late).unwrap_err().contains("đã khóa"));
        assert!(check(&closed, "bt", &organiser(), |c| {
            c.rounds[0].closed_at = 0;
            c.rounds[0].closed_by.clear();
            c.rounds[0].qualifiers.clear();
        })
        .unwrap_err()
        .contains("đã khóa"), "no reopening");
        assert!(check(&closed, "bt", &organiser(), |c| c.rounds[0].excused.push(Excused { judge: "gk1".into(), team: String::new(), reason: "x".into() })).is_err());
        assert!(check(&closed, "bt", &organiser(), |c| c.parts[2].max = 5000).unwrap_err().contains("Đã có vòng thi khóa"));
        assert!(check(&closed, "bt", &organiser(), |c| c.drop_extremes = true).is_err());
        assert!(check(&closed, "bt", &organiser(), |c| {
            c.rounds.remove(0);
        })
        .is_err());

        // Published: nothing changes, for anyone.
        let mut done = final_scored();
        done.close_round(FINAL, "bt", 30).unwrap();
        let prizes = vec![prize("tX1", PrizeKind::First), prize("tX3", PrizeKind::Second)];
        assert_eq!(check(&done, "bt", &organiser(), |c| c.award(prizes.clone()).unwrap()), Ok(()));
        assert!(check(&done, "gk1", &nobody(), |c| c.award(prizes.clone()).unwrap()).unwrap_err().contains("Chỉ ban tổ chức"));
        assert!(check(&done, "bt", &organiser(), |c| c.prizes = vec![prize("tX1", PrizeKind::First), prize("tX3", PrizeKind::First)])
            .unwrap_err()
            .contains("chỉ có 1 suất"));
        done.award(prizes).unwrap();
        assert!(check(&done, "bt", &organiser(), |c| c.publish("khac", 40).unwrap()).unwrap_err().contains("chính người"));
        assert_eq!(check(&done, "bt", &organiser(), |c| c.publish("bt", 40).unwrap()), Ok(()));
        done.publish("bt", 40).unwrap();
        for edit in [
            (|c: &mut Contest| c.prizes.swap(0, 1)) as fn(&mut Contest),
            |c| c.prizes.clear(),
            |c| c.published_at = 0,
            |c| c.name.push('!'),
            |c| c.teams[0].members.clear(),
        ] {
            assert_eq!(check(&done, "bt", &access(&[("HN", Role::Admin), ("BAVI", Role::Reviewer)]), edit), Err(PUBLISHED.into()));
        }
    }

    #[test]
    fn the_whole_contest_passes_the_servers_rule_step_by_step() {
        // Every step the domain's own functions take is one the server accepts.
        let t = tree();
        let mut c = Contest::new("c1".into(), "Hội thi", Level::District, 2026, "BAVI", "bt", 1);
        check_contest(None, &c, "bt", &organiser(), &t).unwrap();
        let mut step = |user: &str, who: &Access, edit: &dyn Fn(&mut Contest)| {
            let before = c.clone();
            edit(&mut c);
            check_contest(Some(&before), &c, user, who, &t).unwrap();
        };
        step("bt", &organiser(), &|c| {
            c.add_preliminaries(&tree());
            for r in &mut c.rounds {
                r.judges = JUDGES.iter().map(|j| Judge { username: j.to_string(), name: j.to_string() }).collect();
            }
        });
        for u in ["X1", "X2", "X3", "X4", "X5"] {
            step("cb", &access(&[(u, Role::Member)]), &|c| c.register_team(format!("t{u}"), u, u, "A", "cb", 2).unwrap());
        }
        let full = final_scored();
        for judge in JUDGES {
            for round in [P1, P2] {
                let sheet = full.sheet(round, judge).unwrap().clone();
                step(judge, &nobody(), &|c| c.sheets.push(sheet.clone()));
            }
        }
        step("bt", &organiser(), &|c| c.close_round(P1, "bt", 20).unwrap());
        step("bt", &organiser(), &|c| c.close_round(P2, "bt", 21).unwrap());
        for judge in JUDGES {
            let sheet = full.sheet(FINAL, judge).unwrap().clone();
            step(judge, &nobody(), &|c| c.sheets.push(sheet.clone()));
        }
        step("bt", &organiser(), &|c| c.close_round(FINAL, "bt", 30).unwrap());
        step("bt", &organiser(), &|c| {
            c.quotas = PrizeQuotas { first: 1, second: 1, third: 2, consolation: 0 };
            let prizes = c.suggest_prizes().unwrap();
            c.award(prizes).unwrap();
        });
        step("bt", &organiser(), &|c| c.publish("bt", 40).unwrap());
        assert_eq!(c.prizes.len(), 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Sheets arrive in any order, and their rows in any order: every device ranks the same.
        #[test]
        fn the_ranking_does_not_depend_on_the_order_sheets_arrive_in(
            points in prop::collection::vec(0u32..=3000, 3 * 3 * 3),
            drop in any::<bool>(),
            order in Just((0..3usize).collect::<Vec<_>>()).prop_shuffle(),
            rows_order in Just((0..9usize).collect::<Vec<_>>()).prop_shuffle(),
            present in prop::collection::vec(any::<bool>(), 3),
        ) {
            let mut c = contest();
            c.drop_extremes = drop;
            for (j, judge) in JUDGES.iter().enumerate() {
                let rows: Vec<ScoreInput> = ["tX1", "tX2", "tX3"]
                    .iter()
                    .enumerate()
                    .flat_map(|(t, team)| (0..3).map(move |p| (t, p, *team)))
                    .map(|(t, p, team)| row(team, &format!("p{}", p + 1), &format_points(points[j * 9 + t * 3 + p])))
                    .collect();
                let mut n = 0;
                c.score(P1, judge, &rows, 10, || { n += 1; format!("{judge}-{n}") }).unwrap();
            }
            let in_order = c.results(P1).unwrap();
            let mut shuffled = c.clone();
            shuffled.sheets = order.iter().filter(|&&i| present[i]).map(|&i| c.sheets[i].clone()).collect();
            for s in &mut shuffled.sheets {
                s.rows = rows_order.iter().map(|&i| s.rows[i].clone()).collect();
            }
            let mut arrived = c.clone();
            arrived.sheets = (0..3).filter(|&i| present[i]).map(|i| c.sheets[i].clone()).collect();
            let (a, b) = (arrived.results(P1).unwrap(), shuffled.results(P1).unwrap());
            prop_assert_eq!(&a, &b);
            if present.iter().all(|&p| p) {
                prop_assert_eq!(&in_order, &b);
            }
        }
    }
}
