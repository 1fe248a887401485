//! Reports (sơ kết 6 tháng, tổng kết năm, giai đoạn): what the movement's records add up to over a
//! scope of units and a period, each figure as of the period's end.
//!
//! The lifecycle is an append-only, dated log, so the state of every model on any past date is
//! replayed from it ([`ModelFacts::state_on`]): "how many were recognised as of 30/6" is answered
//! after the fact, not read from a status that has moved on since. A report is computed from
//! [`ModelFacts`] — the few things a report needs of one model, small enough for a device to hold
//! tens of thousands and for the server to keep as a table — by the same code on the device and
//! on the server, so the two cannot disagree.
//!
//! Dates are calendar dates in Vietnam (UTC+7), whatever clock or zone a device runs in
//! ([`Date::in_vietnam`]). No IO; callers pass what they read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

mod contests;
mod sheet;
mod text;

pub use sheet::{BREAKDOWNS, Breakdown, BreakdownRow, CommendationEntry, ExemplaryEntry, ModelEntry, ReplicatedEntry, ReportRequest, ReportSheet, CELL_MODELS_SHOWN};
pub use contests::{ContestPrizeEntry, contest_prizes};
pub use text::draft_text;

use super::{Action, CommendationForm, Date, Level, Model, OwnerKind, Status, UnitTree, field_label, replay};

/// A review's period: both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub kind: PeriodKind,
    pub from: Date,
    /// "Tính đến ngày": every "as of" figure is read on this day.
    pub to: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodKind {
    /// Sơ kết 6 tháng: 1/1 to 30/6.
    FirstHalf,
    /// Tổng kết năm.
    Year,
    /// Giai đoạn, e.g. 2009–2019.
    Years,
    /// Any dates.
    Range,
    /// "Tính đến ngày": everything registered up to a day.
    AsOf,
}

impl Period {
    pub fn first_half(year: u16) -> Period {
        Period { kind: PeriodKind::FirstHalf, from: Date::first_of_year(year), to: Date { year, month: 6, day: 30 } }
    }

    pub fn year(year: u16) -> Period {
        Period { kind: PeriodKind::Year, from: Date::first_of_year(year), to: Date::last_of_year(year) }
    }

    /// A phase of whole years; `Err` (Vietnamese, for the user) if it runs backwards.
    pub fn years(first: u16, last: u16) -> Result<Period, String> {
        if last < first {
            return Err(format!("Giai đoạn phải từ năm sớm hơn đến năm muộn hơn (đang là {first}–{last})."));
        }
        Ok(Period { kind: PeriodKind::Years, from: Date::first_of_year(first), to: Date::last_of_year(last) })
    }

    /// Any range of days; `Err` (Vietnamese) if it ends before it starts.
    pub fn range(from: Date, to: Date) -> Result<Period, String> {
        if to < from {
            return Err(format!("Ngày kết thúc ({to}) phải sau ngày bắt đầu ({from})."));
        }
        Ok(Period { kind: PeriodKind::Range, from, to })
    }

    /// Everything up to and including `day` ("tính đến ngày").
    pub fn as_of(day: Date) -> Period {
        Period { kind: PeriodKind::AsOf, from: Date { year: 1900, month: 1, day: 1 }, to: day }
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }

    /// As a review's title says it.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::FirstHalf => format!("6 tháng đầu năm {}", self.from.year),
            PeriodKind::Year => format!("năm {}", self.from.year),
            PeriodKind::Years => format!("giai đoạn {}–{}", self.from.year, self.to.year),
            PeriodKind::Range => format!("từ {} đến {}", self.from.vi(), self.to.vi()),
            PeriodKind::AsOf => format!("tính đến ngày {}", self.to.vi()),
        }
    }
}

/// One applied lifecycle step, dated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedStep {
    pub on: Date,
    pub action: Action,
    pub to: Status,
    /// The level of an exemplary marking.
    pub level: Option<Level>,
}

/// One commendation, dated by its decision (by when it was recorded if the decision's date is
/// missing or malformed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedCommendation {
    pub on: Date,
    /// [`CommendationForm::code`] (an unknown form, from a newer version, counts as "other").
    pub form: String,
    pub issuer: String,
    pub decision_number: String,
    pub decision_date: String,
}

/// One replication point, dated by when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedReplication {
    pub on: Date,
    pub unit: String,
    pub unit_name: String,
}

/// What a report needs of one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFacts {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub unit_name: String,
    pub owner_kind: OwnerKind,
    pub owner_name: String,
    pub field: String,
    pub level: Level,
    /// The registration year as recorded (năm đăng ký).
    pub year: u32,
    /// The day the model counts as registered: see [`ModelFacts::of`].
    pub registered_on: Date,
    /// Applied steps in the order `lifecycle::replay` applies them.
    pub steps: Vec<DatedStep>,
    pub commendations: Vec<DatedCommendation>,
    pub replications: Vec<DatedReplication>,
}

impl ModelFacts {
    /// Reads the facts of a model. It counts as registered on the day it was created, or on the
    /// day of its earliest recorded step if that is earlier (a model recorded from an older list
    /// carries steps dated years back), and never later than the last day of its registration
    /// year when that year is earlier still (a 2015 model entered today is a 2015 model).
    pub fn of(model: &Model) -> ModelFacts {
        let (_, replayed) = replay(&model.transitions);
        let steps: Vec<DatedStep> = replayed
            .iter()
            .filter_map(|s| {
                let (action, to) = (s.action?, s.to?);
                let level = (action == Action::MarkExemplary).then(|| Level::from_code(&s.transition.level)).flatten();
                Some(DatedStep { on: Date::in_vietnam(s.transition.at), action, to, level })
            })
            .collect();
        let mut registered_on = Date::in_vietnam(model.created_at);
        if let Some(first) = model.transitions.iter().map(|t| Date::in_vietnam(t.at)).min() {
            registered_on = registered_on.min(first);
        }
        if let Ok(year) = u16::try_from(model.year)
            && year > 0
            && year < registered_on.year
        {
            registered_on = Date::last_of_year(year);
        }
        ModelFacts {
            id: model.id.clone(),
            name: model.name.clone(),
            unit: model.unit.clone(),
            unit_name: model.unit_name.clone(),
            owner_kind: model.owner_kind,
            owner_name: model.owner_name.clone(),
            field: model.field.clone(),
            level: model.level,
            year: model.year,
            registered_on,
            steps,
            commendations: model
                .commendations
                .iter()
                .map(|c| DatedCommendation {
                    on: Date::parse(&c.decision_date).unwrap_or_else(|| Date::in_vietnam(c.at)),
                    form: c.form.clone(),
                    issuer: c.issuer.clone(),
                    decision_number: c.decision_number.clone(),
                    decision_date: c.decision_date.clone(),
                })
                .collect(),
            replications: model
                .replications
                .iter()
                .map(|r| DatedReplication { on: Date::in_vietnam(r.at), unit: r.unit.clone(), unit_name: r.unit_name.clone() })
                .collect(),
        }
    }

    /// The model's state at the end of `day` (`None`: not registered yet).
    pub fn state_on(&self, day: Date) -> Option<Status> {
        if self.registered_on > day {
            return None;
        }
        Some(self.steps.iter().take_while(|s| s.on <= day).last().map_or(Status::Registered, |s| s.to))
    }

    /// The highest level at which the model had been marked exemplary by the end of `day`.
    pub fn exemplary_level_on(&self, day: Date) -> Option<Level> {
        self.steps.iter().take_while(|s| s.on <= day).filter_map(|s| s.level).max_by_key(|l| level_rank(*l))
    }

    fn recognised_within(&self, period: &Period) -> bool {
        self.steps.iter().any(|s| s.action == Action::Recognise && period.contains(s.on))
    }
}

/// Levels from the commune up, for "the highest level reached".
fn level_rank(level: Level) -> usize {
    usize::from(level.rank())
}

/// Whose figures a report adds up: a unit and everything below it, or an emulation cluster's
/// member units (to compare them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Unit(String),
    Cluster(String),
}

/// What the rows (or columns) of a breakdown or pivot table are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dimension {
    /// The scope's parts: the children of the scope's unit (models of the unit itself form their
    /// own row), or a cluster's members.
    Unit,
    Field,
    OwnerKind,
    Level,
    Year,
    /// The state as of the period's end.
    Status,
}

impl Dimension {
    pub const ALL: [Dimension; 6] =
        [Dimension::Unit, Dimension::Field, Dimension::OwnerKind, Dimension::Level, Dimension::Year, Dimension::Status];

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Unit => "Đơn vị",
            Dimension::Field => "Lĩnh vực",
            Dimension::OwnerKind => "Loại chủ thể",
            Dimension::Level => "Cấp",
            Dimension::Year => "Năm",
            Dimension::Status => "Tình trạng",
        }
    }
}

/// The figures of a scope and period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Registered within the period.
    pub registered: usize,
    /// Registered on or before the period's end: the registry as it stood then.
    pub total: usize,
    /// `total` by state as of the period's end, in [`Status::ALL`] order (zeros kept).
    pub by_status: Vec<(Status, usize)>,
    /// Models recognised by a step within the period.
    pub recognised_in_period: usize,
    /// Models marked exemplary by the period's end, by the highest level reached, commune first.
    pub exemplary_by_level: Vec<(Level, usize)>,
    /// Commendations decided within the period, by form: giấy khen, bằng khen, kỷ niệm chương,
    /// other (unknown forms count as other).
    pub commendations_by_form: Vec<(CommendationForm, usize)>,
    /// Models with at least one commendation decided within the period.
    pub commended_models: usize,
    /// Models replicated within the period, and the replication points (distinct units applying
    /// a model) recorded within it.
    pub replicated_models: usize,
    pub replication_points: usize,
}

impl Figures {
    pub fn status(&self, status: Status) -> usize {
        self.by_status.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n)
    }

    /// Recognised by the period's end, whatever came after recognition (exemplary, commended).
    pub fn recognised(&self) -> usize {
        self.status(Status::Recognised) + self.status(Status::Exemplary) + self.status(Status::Commended)
    }

    pub fn exemplary(&self) -> usize {
        self.exemplary_by_level.iter().map(|(_, n)| n).sum()
    }

    pub fn commendations(&self) -> usize {
        self.commendations_by_form.iter().map(|(_, n)| n).sum()
    }
}

/// Units at a level that registered at least one model within the period, out of all of them
/// in the scope ("68/68 đơn vị cơ sở").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub level: Level,
    pub units: usize,
    pub registering: usize,
    /// Those that did not, as (code, name), by name.
    pub missing: Vec<(String, String)>,
}

/// A two-way table of model counts (the models of the registry as of the period's end), with
/// totals. Row and column keys are the values of their dimensions, labelled for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pivot {
    pub rows: Dimension,
    pub columns: Dimension,
    /// (key, label), in the dimension's natural order.
    pub row_keys: Vec<(String, String)>,
    pub column_keys: Vec<(String, String)>,
    /// `cells[r][c]`.
    pub cells: Vec<Vec<usize>>,
    pub row_totals: Vec<usize>,
    pub column_totals: Vec<usize>,
    pub total: usize,
}

/// The tree a user's report is computed over: of `units` (a profile's, which also names the
/// units above a grant), only those the user reads, a unit whose parent is not read becoming a
/// root. The server restricts its own tree the same way (`UnitTree::only`), so both list the
/// same units and neither shows a row for a unit whose models the user does not hold.
pub fn readable_tree(units: Vec<super::Unit>, clusters: Vec<super::Cluster>, readable: &[String]) -> UnitTree {
    let readable: BTreeSet<&str> = readable.iter().map(String::as_str).collect();
    UnitTree::from_units(units, clusters).only(|code| readable.contains(code))
}

/// A report over facts: the scope's models, the period, and how models group by unit.
pub struct Report<'a> {
    pub scope: Scope,
    pub period: Period,
    tree: &'a UnitTree,
    models: Vec<&'a ModelFacts>,
    /// What each of `models` adds to the period's figures, read once (`contribution`): every
    /// breakdown and the pivot then only add these up.
    contributions: Vec<Contribution>,
    /// Each of `models`' unit, as a position in `units`.
    model_units: Vec<usize>,
    /// The scope's units, each with the position in `parts` of the part it belongs to.
    units: Vec<(&'a super::Unit, usize)>,
    /// The scope's parts (the unit itself and its children, or the cluster's members) in display
    /// order: (code, name).
    parts: Vec<(String, String)>,
}

impl<'a> Report<'a> {
    /// The report of `scope` over `facts` (callers pass only what the user reads; the report
    /// keeps the models whose unit is in the scope).
    ///
    /// Each model's unit is looked up once here; every grouping afterwards works on positions
    /// (a city's report groups 78,494 models six ways, and hashing a unit code for each of them
    /// each time was most of the server's time).
    pub fn new(tree: &'a UnitTree, scope: Scope, period: Period, facts: impl IntoIterator<Item = &'a ModelFacts>) -> Report<'a> {
        let mut position: HashMap<&'a str, usize> = HashMap::new();
        let mut units: Vec<(&'a super::Unit, usize)> = Vec::new();
        let mut parts = Vec::new();
        let mut claim = |part: &'a super::Unit, below: bool| {
            let index = parts.len();
            parts.push((part.code.clone(), part.name.clone()));
            let members = if below { tree.subtree(&part.code) } else { vec![part] };
            for u in members {
                position.entry(u.code.as_str()).or_insert_with(|| {
                    units.push((u, index));
                    units.len() - 1
                });
            }
        };
        match &scope {
            Scope::Unit(code) => {
                if let Some(unit) = tree.get(code) {
                    // The unit's own models are a row of their own, named after it.
                    claim(unit, false);
                    let mut children: Vec<_> = tree.children(code).collect();
                    children.sort_by(|a, b| a.name.cmp(&b.name));
                    for child in children {
                        claim(child, true);
                    }
                }
            }
            Scope::Cluster(cluster) => {
                let mut members: Vec<_> = tree.units().filter(|u| u.cluster.as_deref() == Some(cluster.as_str())).collect();
                members.sort_by(|a, b| a.name.cmp(&b.name));
                for member in members {
                    claim(member, true);
                }
            }
        }
        let (models, model_units): (Vec<&ModelFacts>, Vec<usize>) =
            facts.into_iter().filter_map(|f| position.get(f.unit.as_str()).map(|u| (f, *u))).unzip();
        let contributions = models.iter().map(|f| contribution(f, &period)).collect();
        Report { scope, period, tree, models, contributions, model_units, units, parts }
    }

    /// The scope's models (all of them, whatever their date).
    pub fn models(&self) -> &[&'a ModelFacts] {
        &self.models
    }

    /// The figures of the whole scope.
    pub fn figures(&self) -> Figures {
        sum(self.contributions.iter())
    }

    /// The figures of each value of `dimension` (values with no model in the registry as of the
    /// period's end are left out, except the scope's units, which are all listed).
    pub fn breakdown(&self, dimension: Dimension) -> Vec<((String, String), Figures)> {
        // One pass to group, then one pass per group: a city's 78,494 models by 30 districts
        // must not be 30 scans of all of them.
        let keys = self.keys(dimension);
        let slots = self.slots(dimension, &keys);
        let mut groups: Vec<Vec<&Contribution>> = vec![Vec::new(); keys.len()];
        for (slot, c) in slots.into_iter().zip(&self.contributions) {
            if let Some(i) = slot {
                groups[i].push(c);
            }
        }
        keys.into_iter().zip(groups).map(|(key, group)| (key, sum(group.into_iter()))).collect()
    }

    /// Counts of the registry as of the period's end by `rows` × `columns`, with totals.
    pub fn pivot(&self, rows: Dimension, columns: Dimension) -> Pivot {
        let (row_keys, column_keys) = (self.keys(rows), self.keys(columns));
        let (row_slots, column_slots) = (self.slots(rows, &row_keys), self.slots(columns, &column_keys));
        let mut cells = vec![vec![0; column_keys.len()]; row_keys.len()];
        for ((r, col), c) in row_slots.into_iter().zip(column_slots).zip(&self.contributions) {
            if let (Some(r), Some(col), Some(_)) = (r, col, c.state) {
                cells[r][col] += 1;
            }
        }
        let row_totals: Vec<usize> = cells.iter().map(|r| r.iter().sum()).collect();
        let column_totals: Vec<usize> = (0..column_keys.len()).map(|c| cells.iter().map(|r| r[c]).sum()).collect();
        let total = row_totals.iter().sum();
        Pivot { rows, columns, row_keys, column_keys, cells, row_totals, column_totals, total }
    }

    /// The models of one pivot cell (what a click on it lists), by name.
    pub fn cell_models(&self, rows: Dimension, row_key: &str, columns: Dimension, column_key: &str) -> Vec<&'a ModelFacts> {
        let (row_keys, column_keys) = (self.keys(rows), self.keys(columns));
        let find = |keys: &[(String, String)], key: &str| keys.iter().position(|(k, _)| k == key);
        let (Some(row), Some(column)) = (find(&row_keys, row_key), find(&column_keys, column_key)) else { return Vec::new() };
        let (row_slots, column_slots) = (self.slots(rows, &row_keys), self.slots(columns, &column_keys));
        let mut out: Vec<&ModelFacts> = self
            .models
            .iter()
            .zip(&self.contributions)
            .zip(row_slots.into_iter().zip(column_slots))
            .filter(|((_, c), (r, col))| c.state.is_some() && *r == Some(row) && *col == Some(column))
            .map(|((f, _), _)| *f)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Units at `level` in the scope that registered a model within the period (a model counts
    /// for every unit above its own).
    pub fn coverage(&self, level: Level) -> Coverage {
        let mut at_level: Vec<&super::Unit> = self.units.iter().map(|(u, _)| *u).filter(|u| u.level == level).collect();
        at_level.sort_by(|a, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
        // The units with a model registered within the period, then (once each) every unit above.
        let mut registered_in = vec![false; self.units.len()];
        for (u, _) in self.model_units.iter().zip(&self.contributions).filter(|(_, c)| c.registered) {
            registered_in[*u] = true;
        }
        let registering: BTreeSet<&str> = self
            .units
            .iter()
            .zip(registered_in)
            .filter(|(_, r)| *r)
            .flat_map(|((u, _), _)| self.tree.up_from(&u.code).map(|u| u.code.as_str()))
            .collect();
        let missing: Vec<(String, String)> =
            at_level.iter().filter(|u| !registering.contains(u.code.as_str())).map(|u| (u.code.clone(), u.name.clone())).collect();
        Coverage { level, units: at_level.len(), registering: at_level.len() - missing.len(), missing }
    }

    /// The annex: models marked exemplary by the period's end, with the highest level reached,
    /// highest first, then by name.
    pub fn exemplary(&self) -> Vec<(&'a ModelFacts, Level)> {
        let mut out: Vec<(&ModelFacts, Level)> =
            self.models.iter().filter_map(|f| f.exemplary_level_on(self.period.to).map(|l| (*f, l))).collect();
        out.sort_by(|a, b| level_rank(b.1).cmp(&level_rank(a.1)).then(a.0.name.cmp(&b.0.name)));
        out
    }

    /// The annex: commendations decided within the period, by date.
    pub fn commendations(&self) -> Vec<(&'a ModelFacts, &'a DatedCommendation)> {
        let mut out: Vec<_> =
            self.models.iter().flat_map(|f| f.commendations.iter().filter(|c| self.period.contains(c.on)).map(move |c| (*f, c))).collect();
        out.sort_by(|a, b| a.1.on.cmp(&b.1.on).then(a.0.name.cmp(&b.0.name)));
        out
    }

    /// The annex: models replicated within the period, with the points recorded within it.
    pub fn replicated(&self) -> Vec<(&'a ModelFacts, Vec<&'a DatedReplication>)> {
        let mut out: Vec<_> = self
            .models
            .iter()
            .filter_map(|f| {
                let points: Vec<&DatedReplication> = f.replications.iter().filter(|r| self.period.contains(r.on)).collect();
                (!points.is_empty()).then_some((*f, points))
            })
            .collect();
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        out
    }

    /// Where each of `models` falls among `keys` (this report's `keys(dimension)`), by position;
    /// `None` where it has no value there (no state yet).
    fn slots(&self, dimension: Dimension, keys: &[(String, String)]) -> Vec<Option<usize>> {
        let each = |slot: &dyn Fn(&ModelFacts, &Contribution, usize) -> Option<usize>| -> Vec<Option<usize>> {
            self.models.iter().zip(&self.contributions).zip(&self.model_units).map(|((f, c), u)| slot(f, c, *u)).collect()
        };
        match dimension {
            Dimension::Unit => each(&|_, _, u| Some(self.units[u].1)),
            Dimension::OwnerKind => each(&|f, _, _| OwnerKind::ALL.iter().position(|k| *k == f.owner_kind)),
            Dimension::Level => each(&|f, _, _| Level::ALL.iter().position(|l| *l == f.level)),
            Dimension::Status => each(&|_, c, _| c.state.and_then(|s| Status::ALL.iter().position(|k| *k == s))),
            Dimension::Field => {
                // A handful of fields: a sorted list searched by code.
                let mut codes: Vec<(&str, usize)> = keys.iter().enumerate().map(|(i, (code, _))| (code.as_str(), i)).collect();
                codes.sort_unstable();
                each(&|f, _, _| codes.binary_search_by(|(code, _)| (*code).cmp(f.field.as_str())).ok().map(|i| codes[i].1))
            }
            Dimension::Year => {
                // `keys` lists years ascending.
                let years: Vec<u32> = keys.iter().filter_map(|(y, _)| y.parse().ok()).collect();
                each(&|f, _, _| years.binary_search(&f.year).ok())
            }
        }
    }

    /// The values of `dimension`, labelled, in natural order: units as the scope lists them,
    /// enumerations in their order, fields by label, years ascending.
    fn keys(&self, dimension: Dimension) -> Vec<(String, String)> {
        let standing = || self.models.iter().zip(&self.contributions).filter(|(_, c)| c.state.is_some()).map(|(f, _)| *f);
        match dimension {
            Dimension::Unit => self.parts.clone(),
            Dimension::OwnerKind => OwnerKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())).collect(),
            Dimension::Level => Level::ALL.iter().map(|l| (l.code().to_string(), l.label().to_string())).collect(),
            Dimension::Status => Status::ALL.iter().map(|s| (s.code().to_string(), s.label().to_string())).collect(),
            Dimension::Field => {
                let codes: BTreeSet<&str> = standing().map(|f| f.field.as_str()).collect();
                let fields: BTreeMap<&str, &str> = codes.into_iter().map(|code| (field_label(code), code)).collect();
                fields.into_iter().map(|(label, code)| (code.to_string(), label.to_string())).collect()
            }
            Dimension::Year => {
                let years: BTreeSet<u32> = standing().map(|f| f.year).collect();
                years.into_iter().map(|y| (y.to_string(), y.to_string())).collect()
            }
        }
    }
}

/// What one model adds to a period's figures.
#[derive(Debug, Clone, Copy, Default)]
struct Contribution {
    registered: bool,
    /// As of the period's end; `None`: not registered yet.
    state: Option<Status>,
    recognised: bool,
    /// The highest level reached by the period's end, as `level_rank`.
    exemplary: Option<usize>,
    /// Commendations decided within the period, by `CommendationForm::ALL` position.
    forms: [u32; CommendationForm::ALL.len()],
    /// Distinct units it was replicated in within the period.
    points: u32,
}

fn contribution(f: &ModelFacts, period: &Period) -> Contribution {
    let mut c = Contribution { registered: period.contains(f.registered_on), state: f.state_on(period.to), ..Default::default() };
    if c.state.is_none() {
        return c;
    }
    c.recognised = f.recognised_within(period);
    c.exemplary = f.exemplary_level_on(period.to).map(level_rank);
    for commendation in f.commendations.iter().filter(|k| period.contains(k.on)) {
        let form = CommendationForm::from_code(&commendation.form).unwrap_or(CommendationForm::Other);
        if let Some(i) = CommendationForm::ALL.iter().position(|k| *k == form) {
            c.forms[i] += 1;
        }
    }
    let within: Vec<&str> = f.replications.iter().filter(|r| period.contains(r.on)).map(|r| r.unit.as_str()).collect();
    if !within.is_empty() {
        let points: BTreeSet<&str> = within.into_iter().collect();
        c.points = points.len() as u32;
    }
    c
}

fn sum<'c>(contributions: impl Iterator<Item = &'c Contribution>) -> Figures {
    let mut by_status = [0usize; Status::ALL.len()];
    let mut exemplary = [0usize; Level::ALL.len()];
    let mut forms = [0usize; CommendationForm::ALL.len()];
    let mut figures = Figures::default();
    for c in contributions {
        figures.registered += usize::from(c.registered);
        let Some(state) = c.state else { continue };
        figures.total += 1;
        if let Some(i) = Status::ALL.iter().position(|s| *s == state) {
            by_status[i] += 1;
        }
        figures.recognised_in_period += usize::from(c.recognised);
        if let Some(rank) = c.exemplary {
            exemplary[rank] += 1;
        }
        for (slot, n) in forms.iter_mut().zip(c.forms) {
            *slot += n as usize;
        }
        figures.commended_models += usize::from(c.forms.iter().any(|n| *n > 0));
        if c.points > 0 {
            figures.replicated_models += 1;
            figures.replication_points += c.points as usize;
        }
    }
    figures.by_status = Status::ALL.iter().copied().zip(by_status).collect();
    figures.exemplary_by_level = Level::ALL.iter().copied().zip(exemplary).collect();
    figures.commendations_by_form = CommendationForm::ALL.iter().copied().zip(forms).collect();
    figures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Commendation, Replication, Transition, Unit, UnitKind};

    const DAY: i64 = 86_400_000;

    /// Noon in Vietnam on a date, in ms since the epoch.
    fn at(iso: &str) -> i64 {
        let d = Date::parse(iso).unwrap();
        let days = (1970..d.year as i64).map(|y| if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 366 } else { 365 }).sum::<i64>()
            + (1..d.month).map(|m| match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                _ if (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0 => 29,
                _ => 28,
            }).sum::<i64>()
            + (d.day as i64 - 1);
        days * DAY + 5 * 3_600_000
    }

    fn step(id: &str, action: Action, on: &str, level: &str) -> Transition {
        Transition { id: id.into(), action: action.code().into(), by: "u".into(), by_name: "U".into(), at: at(on), reason: "lý do".into(), level: level.into() }
    }

    fn model(id: &str, unit: &str, created: &str, steps: Vec<Transition>) -> Model {
        let mut m = Model::new(id.into(), "u", at(created));
        m.name = format!("Mô hình {id}");
        m.unit = unit.into();
        m.year = Date::parse(created).unwrap().year as u32;
        m.field = "kinh_te".into();
        m.transitions = steps;
        m
    }

    fn unit(code: &str, level: Level, parent: Option<&str>, cluster: Option<&str>) -> Unit {
        Unit { code: code.into(), name: format!("Đơn vị {code}"), kind: UnitKind::Commune, level, parent: parent.map(Into::into), cluster: cluster.map(Into::into) }
    }

    /// A district D with communes X1, X2, X3 (X1 and X2 in cluster C).
    pub(super) fn tree() -> UnitTree {
        UnitTree::from_units(
            vec![
                unit("D", Level::District, None, None),
                unit("X1", Level::Grassroots, Some("D"), Some("C")),
                unit("X2", Level::Grassroots, Some("D"), Some("C")),
                unit("X3", Level::Grassroots, Some("D"), None),
            ],
            vec![crate::domain::Cluster { code: "C".into(), name: "Cụm 1".into(), head: None, deputy: None }],
        )
    }

    #[test]
    fn vietnam_dates_turn_at_midnight_in_ha_noi_not_in_utc() {
        // 2025-06-30 17:30 UTC is 00:30 on 1 July in Hà Nội.
        let utc_1730 = at("2025-06-30") - 5 * 3_600_000 + 17 * 3_600_000 + 30 * 60_000;
        assert_eq!(Date::in_vietnam(utc_1730), Date::parse("2025-07-01").unwrap());
        assert_eq!(Date::in_vietnam(utc_1730 - 3_600_000), Date::parse("2025-06-30").unwrap());
        assert_eq!(Date::in_vietnam(0), Date::parse("1970-01-01").unwrap());
        assert_eq!(Date::in_vietnam(at("2024-02-29")), Date::parse("2024-02-29").unwrap());
        assert_eq!(Date::in_vietnam(-DAY), Date::parse("1969-12-31").unwrap());
    }

    #[test]
    fn the_state_on_a_past_day_is_replayed_from_the_dated_log() {
        let m = model("a", "X1", "2025-01-10", vec![
            step("1", Action::Start, "2025-02-01", ""),
            step("2", Action::Propose, "2025-05-20", ""),
            step("3", Action::Recognise, "2025-07-15", ""),
        ]);
        let f = ModelFacts::of(&m);
        assert_eq!(f.state_on(Date::parse("2025-01-09").unwrap()), None, "not yet registered");
        assert_eq!(f.state_on(Date::parse("2025-01-10").unwrap()), Some(Status::Registered));
        assert_eq!(f.state_on(Date::parse("2025-06-30").unwrap()), Some(Status::Proposed), "as of 30/6: still proposed");
        assert_eq!(f.state_on(Date::parse("2025-12-31").unwrap()), Some(Status::Recognised));
    }

    #[test]
    fn a_model_entered_late_counts_from_its_year_or_its_earliest_step() {
        let mut old = model("old", "X1", "2026-03-01", vec![step("1", Action::Start, "2016-04-02", "")]);
        old.year = 2015;
        assert_eq!(ModelFacts::of(&old).registered_on, Date::parse("2015-12-31").unwrap(), "a 2015 model is a 2015 model");
        old.year = 2016;
        assert_eq!(ModelFacts::of(&old).registered_on, Date::parse("2016-04-02").unwrap(), "its earliest step");
    }

    pub(super) fn registry() -> Vec<ModelFacts> {
        let mut exemplary = model("e", "X2", "2024-03-01", vec![
            step("1", Action::Start, "2024-03-02", ""),
            step("2", Action::Propose, "2024-09-01", ""),
            step("3", Action::Recognise, "2025-02-01", ""),
            step("4", Action::MarkExemplary, "2025-05-01", "huyen"),
        ]);
        exemplary.owner_kind = OwnerKind::Individual;
        exemplary.commendations = vec![
            Commendation { id: "k1".into(), form: "giay_khen".into(), issuer: "UBND huyện".into(), level: "huyen".into(), decision_number: "12/QĐ".into(), decision_date: "2025-06-10".into(), recipients: String::new(), by: "r".into(), by_name: "R".into(), at: at("2025-06-11") },
            Commendation { id: "k2".into(), form: "bang_khen".into(), issuer: "UBND tỉnh".into(), level: "tinh".into(), decision_number: "99/QĐ".into(), decision_date: "2025-09-01".into(), recipients: String::new(), by: "r".into(), by_name: "R".into(), at: at("2025-09-02") },
        ];
        exemplary.replications = vec![
            Replication { id: "r1".into(), unit: "X1".into(), unit_name: "Đơn vị X1".into(), by: "c".into(), by_name: "C".into(), at: at("2025-04-01") },
            Replication { id: "r2".into(), unit: "X3".into(), unit_name: "Đơn vị X3".into(), by: "c".into(), by_name: "C".into(), at: at("2025-04-05") },
            Replication { id: "r3".into(), unit: "X3".into(), unit_name: "Đơn vị X3".into(), by: "c".into(), by_name: "C".into(), at: at("2025-08-05") },
        ];
        let mut district_own = model("d", "D", "2025-02-01", vec![]);
        district_own.field = "van_hoa_xa_hoi".into();
        vec![
            ModelFacts::of(&model("a", "X1", "2025-01-10", vec![step("1", Action::Start, "2025-02-01", ""), step("2", Action::Propose, "2025-05-20", ""), step("3", Action::Recognise, "2025-07-15", "")])),
            ModelFacts::of(&model("b", "X1", "2025-08-01", vec![])),
            ModelFacts::of(&model("s", "X1", "2023-05-01", vec![step("1", Action::Start, "2023-06-01", ""), step("2", Action::Stop, "2025-03-01", "")])),
            ModelFacts::of(&exemplary),
            ModelFacts::of(&district_own),
            ModelFacts::of(&model("outside", "ELSEWHERE", "2025-01-02", vec![])),
        ]
    }

    #[test]
    fn a_half_year_report_counts_each_figure_as_of_30_june() {
        let (tree, facts) = (tree(), registry());
        let r = Report::new(&tree, Scope::Unit("D".into()), Period::first_half(2025), &facts);
        let f = r.figures();
        assert_eq!(r.models().len(), 5, "the model outside the scope is not counted");
        assert_eq!(f.registered, 2, "a (10/1) and d (1/2); b came in August");
        assert_eq!(f.total, 4, "s and e from earlier years, a and d");
        assert_eq!(f.status(Status::Proposed), 1, "a was still proposed on 30/6");
        assert_eq!(f.status(Status::Recognised), 0);
        assert_eq!(f.status(Status::Exemplary), 1);
        assert_eq!(f.status(Status::Stopped), 1);
        assert_eq!(f.status(Status::Registered), 1, "d");
        assert_eq!(f.recognised_in_period, 1, "e, recognised in February");
        assert_eq!(f.exemplary_by_level.iter().find(|(l, _)| *l == Level::District).unwrap().1, 1);
        assert_eq!(f.commendations(), 1, "the giấy khen of 10/6; the bằng khen is September's");
        assert_eq!(f.commended_models, 1);
        assert_eq!((f.replicated_models, f.replication_points), (1, 2), "X1 and X3 in April; X3 again in August is not new");

        let year = Report::new(&tree, Scope::Unit("D".into()), Period::year(2025), &facts).figures();
        assert_eq!((year.registered, year.total), (3, 5));
        assert_eq!(year.status(Status::Recognised), 1, "a, recognised on 15/7");
        assert_eq!(year.commendations_by_form.iter().filter(|(_, n)| *n > 0).count(), 2);
        assert_eq!(year.replication_points, 2, "distinct units: X1, X3");
    }

    #[test]
    fn coverage_counts_units_that_registered_within_the_period() {
        let (tree, facts) = (tree(), registry());
        let r = Report::new(&tree, Scope::Unit("D".into()), Period::first_half(2025), &facts);
        let c = r.coverage(Level::Grassroots);
        assert_eq!((c.registering, c.units), (1, 3), "only X1 registered (a) in the first half");
        assert_eq!(c.missing.iter().map(|(code, _)| code.as_str()).collect::<Vec<_>>(), vec!["X2", "X3"]);
        let district = r.coverage(Level::District);
        assert_eq!((district.registering, district.units), (1, 1), "a commune's model counts for its district");
    }

    #[test]
    fn the_pivot_adds_up_by_rows_columns_and_in_total() {
        let (tree, facts) = (tree(), registry());
        let r = Report::new(&tree, Scope::Unit("D".into()), Period::year(2025), &facts);
        let p = r.pivot(Dimension::Unit, Dimension::Status);
        let row = |code: &str| p.row_keys.iter().position(|(k, _)| k == code).unwrap();
        let col = |s: Status| p.column_keys.iter().position(|(k, _)| k == s.code()).unwrap();
        assert_eq!(p.row_keys[0].0, "D", "the unit's own models first");
        assert_eq!(p.cells[row("X1")][col(Status::Recognised)], 1);
        assert_eq!(p.cells[row("X1")][col(Status::Registered)], 1, "b");
        assert_eq!(p.cells[row("X1")][col(Status::Stopped)], 1);
        assert_eq!(p.row_totals[row("X1")], 3);
        assert_eq!(p.row_totals[row("X3")], 0, "every unit of the scope is listed");
        assert_eq!(p.total, 5);
        assert_eq!(p.column_totals.iter().sum::<usize>(), p.total);
        let models = r.cell_models(Dimension::Unit, "X1", Dimension::Status, Status::Stopped.code());
        assert_eq!(models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["s"]);
        let by_year = r.pivot(Dimension::Year, Dimension::OwnerKind);
        assert_eq!(by_year.row_keys.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), vec!["2023", "2024", "2025"]);
    }

    #[test]
    fn a_cluster_report_compares_its_members() {
        let (tree, facts) = (tree(), registry());
        let r = Report::new(&tree, Scope::Cluster("C".into()), Period::year(2025), &facts);
        assert_eq!(r.breakdown(Dimension::Unit).iter().map(|((k, _), f)| (k.as_str(), f.total)).collect::<Vec<_>>(), vec![("X1", 3), ("X2", 1)]);
        assert_eq!(r.models().len(), 4, "X3 and the district's own model are not in the cluster");
    }

    #[test]
    fn the_annex_lists_exemplary_models_commendations_and_replications() {
        let (tree, facts) = (tree(), registry());
        let r = Report::new(&tree, Scope::Unit("D".into()), Period::year(2025), &facts);
        assert_eq!(r.exemplary().iter().map(|(m, l)| (m.id.as_str(), *l)).collect::<Vec<_>>(), vec![("e", Level::District)]);
        assert_eq!(r.commendations().iter().map(|(_, c)| c.decision_number.as_str()).collect::<Vec<_>>(), vec!["12/QĐ", "99/QĐ"]);
        assert_eq!(r.replicated()[0].1.len(), 3, "every point recorded within the year");
    }

    #[test]
    fn periods_say_what_they_are_and_refuse_to_run_backwards() {
        assert_eq!(Period::first_half(2025).label(), "6 tháng đầu năm 2025");
        assert_eq!(Period::years(2009, 2019).unwrap().label(), "giai đoạn 2009–2019");
        assert!(Period::years(2019, 2009).unwrap_err().contains("2019–2009"));
        let (a, b) = (Date::parse("2025-03-01").unwrap(), Date::parse("2025-05-31").unwrap());
        assert_eq!(Period::range(a, b).unwrap().label(), "từ 01/03/2025 đến 31/05/2025");
        assert!(Period::range(b, a).is_err());
        let as_of = Period::as_of(b);
        assert_eq!(as_of.label(), "tính đến ngày 31/05/2025");
        assert!(as_of.contains(Date::parse("2009-01-01").unwrap()) && !as_of.contains(Date::parse("2025-06-01").unwrap()));
    }
}
