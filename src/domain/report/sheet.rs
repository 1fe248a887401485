//! A report as it crosses boundaries: what a user asks for ([`ReportRequest`]) and everything the
//! report page shows, prints and exports ([`ReportSheet`]), owned and serialisable.
//!
//! The device and the server both answer a request with [`ReportRequest::run`] over the facts they
//! hold, so a sheet from the server and a sheet from the device are comparable field by field
//! (the agreement test does exactly that).

use serde::{Deserialize, Serialize};

use super::{Coverage, DatedCommendation, Dimension, Figures, ModelFacts, Period, Pivot, Report, Scope};
use crate::domain::{CommendationForm, Level, OwnerKind, Status, UnitTree, field_label};

/// At most this many models of a clicked pivot cell travel in a sheet; `cell_count` says how many
/// there are in all.
pub const CELL_MODELS_SHOWN: usize = 500;

/// What a user chose on the report page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    pub scope: Scope,
    pub period: Period,
    /// The pivot table's rows and columns.
    pub rows: Dimension,
    pub columns: Dimension,
    /// The level whose units coverage counts ("68/68 đơn vị cơ sở").
    pub coverage_level: Level,
    /// A pivot cell (row key, column key) whose models to list.
    pub cell: Option<(String, String)>,
}

impl ReportRequest {
    /// The usual first view: the scope's units by state, communes' coverage.
    pub fn new(scope: Scope, period: Period) -> ReportRequest {
        ReportRequest {
            scope,
            period,
            rows: Dimension::Unit,
            columns: Dimension::Status,
            coverage_level: Level::Grassroots,
            cell: None,
        }
    }

    /// Computes the sheet over `facts` (the caller passes only what the user reads).
    pub fn run<'f>(&self, tree: &'f UnitTree, facts: impl IntoIterator<Item = &'f ModelFacts>) -> ReportSheet {
        let report = Report::new(tree, self.scope.clone(), self.period, facts);
        let scope_name = match &self.scope {
            Scope::Unit(code) => tree.get(code).map_or_else(|| code.clone(), |u| u.name.clone()),
            Scope::Cluster(code) => tree.clusters().find(|c| &c.code == code).map_or_else(|| code.clone(), |c| c.name.clone()),
        };
        let breakdowns = BREAKDOWNS
            .iter()
            .map(|d| Breakdown {
                dimension: *d,
                rows: report
                    .breakdown(*d)
                    .into_iter()
                    .map(|((key, label), figures)| BreakdownRow { key, label, figures })
                    .collect(),
            })
            .collect();
        let (cell_models, cell_count) = match &self.cell {
            Some((row, column)) => {
                let models = report.cell_models(self.rows, row, self.columns, column);
                let count = models.len();
                let to = self.period.to;
                (models.into_iter().take(CELL_MODELS_SHOWN).map(|f| ModelEntry::of(f, to)).collect(), count)
            }
            None => (Vec::new(), 0),
        };
        ReportSheet {
            scope_name,
            figures: report.figures(),
            breakdowns,
            pivot: report.pivot(self.rows, self.columns),
            coverage: report.coverage(self.coverage_level),
            exemplary: report
                .exemplary()
                .into_iter()
                .map(|(f, level)| ExemplaryEntry { model: ModelEntry::of(f, self.period.to), level })
                .collect(),
            commendations: report.commendations().into_iter().map(|(f, c)| CommendationEntry::of(f, c, self.period.to)).collect(),
            replicated: report
                .replicated()
                .into_iter()
                .map(|(f, points)| ReplicatedEntry {
                    model: ModelEntry::of(f, self.period.to),
                    // One line per unit (as the figures count points), at its first date.
                    points: {
                        let mut seen = std::collections::BTreeSet::new();
                        let mut points = points;
                        points.sort_by_key(|p| p.on);
                        points.into_iter().filter(|p| seen.insert(p.unit.as_str())).map(|p| (p.unit_name.clone(), p.on)).collect()
                    },
                })
                .collect(),
            cell_models,
            cell_count,
            contest_prizes: Vec::new(),
            models: report.models().len(),
            request: self.clone(),
        }
    }
}

/// The dimensions every sheet is broken down by (the state is the pivot's business).
pub const BREAKDOWNS: [Dimension; 5] = [Dimension::Unit, Dimension::OwnerKind, Dimension::Field, Dimension::Level, Dimension::Year];

/// The figures of each value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub dimension: Dimension,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub key: String,
    pub label: String,
    pub figures: Figures,
}

/// One model as a report's lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub id: String,
    pub name: String,
    pub unit_name: String,
    pub owner_kind: OwnerKind,
    pub owner_name: String,
    /// The field's label.
    pub field: String,
    pub level: Level,
    pub year: u32,
    /// As of the period's end.
    pub status: Option<Status>,
}

impl ModelEntry {
    fn of(f: &ModelFacts, on: crate::domain::Date) -> ModelEntry {
        ModelEntry {
            id: f.id.clone(),
            name: f.name.clone(),
            unit_name: f.unit_name.clone(),
            owner_kind: f.owner_kind,
            owner_name: f.owner_name.clone(),
            field: field_label(&f.field).to_string(),
            level: f.level,
            year: f.year,
            status: f.state_on(on),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemplaryEntry {
    pub model: ModelEntry,
    /// The highest level at which it was marked exemplary by the period's end.
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommendationEntry {
    pub model: ModelEntry,
    pub on: crate::domain::Date,
    pub form: CommendationForm,
    pub issuer: String,
    pub decision_number: String,
    pub decision_date: String,
}

impl CommendationEntry {
    fn of(f: &ModelFacts, c: &DatedCommendation, to: crate::domain::Date) -> CommendationEntry {
        CommendationEntry {
            model: ModelEntry::of(f, to),
            on: c.on,
            form: CommendationForm::from_code(&c.form).unwrap_or(CommendationForm::Other),
            issuer: c.issuer.clone(),
            decision_number: c.decision_number.clone(),
            decision_date: c.decision_date.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicatedEntry {
    pub model: ModelEntry,
    /// (unit name, first day recorded), within the period: one per unit, as the figures count.
    pub points: Vec<(String, crate::domain::Date)>,
}

/// Everything the report page shows for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSheet {
    pub request: ReportRequest,
    pub scope_name: String,
    /// How many models of the scope the figures were computed from (any date).
    pub models: usize,
    pub figures: Figures,
    /// By each of [`BREAKDOWNS`], in that order.
    pub breakdowns: Vec<Breakdown>,
    pub pivot: Pivot,
    pub coverage: Coverage,
    pub exemplary: Vec<ExemplaryEntry>,
    pub commendations: Vec<CommendationEntry>,
    pub replicated: Vec<ReplicatedEntry>,
    /// The first [`CELL_MODELS_SHOWN`] models of the requested cell, by name.
    pub cell_models: Vec<ModelEntry>,
    pub cell_count: usize,
    /// Prizes of published contests won by the scope's teams in the period: filled on the device
    /// from the contests it holds (`contests::contest_prizes`), also for a sheet the server
    /// computed — the server's facts are about models only.
    #[serde(default)]
    pub contest_prizes: Vec<super::ContestPrizeEntry>,
}

impl ReportSheet {
    pub fn breakdown(&self, dimension: Dimension) -> Option<&Breakdown> {
        self.breakdowns.iter().find(|b| b.dimension == dimension)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{registry, tree};
    use super::*;

    #[test]
    fn a_sheet_carries_the_reports_figures_breakdowns_and_lists() {
        let (tree, facts) = (tree(), registry());
        let request = ReportRequest::new(Scope::Unit("D".into()), Period::year(2025));
        let sheet = request.run(&tree, &facts);
        let report = Report::new(&tree, Scope::Unit("D".into()), Period::year(2025), &facts);
        assert_eq!(sheet.figures, report.figures());
        assert_eq!(sheet.breakdowns.len(), BREAKDOWNS.len());
        // Every breakdown adds up to the whole, whatever the dimension.
        for b in &sheet.breakdowns {
            let total: usize = b.rows.iter().map(|r| r.figures.total).sum();
            let registered: usize = b.rows.iter().map(|r| r.figures.registered).sum();
            assert_eq!((total, registered), (sheet.figures.total, sheet.figures.registered), "{:?}", b.dimension);
        }
        assert_eq!(sheet.breakdown(Dimension::Unit).unwrap().rows, report.breakdown(Dimension::Unit).into_iter().map(|((key, label), figures)| BreakdownRow { key, label, figures }).collect::<Vec<_>>());
        assert_eq!(sheet.exemplary.len(), report.exemplary().len());
        assert_eq!(sheet.commendations.len(), report.commendations().len());
        assert!(sheet.cell_models.is_empty());
        // A sheet survives the wire unchanged (the server sends it as JSON).
        let back: ReportSheet = serde_json::from_str(&serde_json::to_string(&sheet).unwrap()).unwrap();
        assert_eq!(back, sheet);
    }

    #[test]
    fn a_clicked_cell_lists_its_models_with_their_state_then() {
        let (tree, facts) = (tree(), registry());
        let mut request = ReportRequest::new(Scope::Unit("D".into()), Period::year(2025));
        let pivot = request.run(&tree, &facts).pivot;
        let (r, c) = (0..pivot.row_keys.len())
            .flat_map(|r| (0..pivot.column_keys.len()).map(move |c| (r, c)))
            .find(|(r, c)| pivot.cells[*r][*c] > 0)
            .expect("a non-empty cell");
        request.cell = Some((pivot.row_keys[r].0.clone(), pivot.column_keys[c].0.clone()));
        let sheet = request.run(&tree, &facts);
        assert_eq!(sheet.cell_count, pivot.cells[r][c]);
        assert_eq!(sheet.cell_models.len(), pivot.cells[r][c]);
        let state = Status::from_code(&pivot.column_keys[c].0);
        assert!(sheet.cell_models.iter().all(|m| m.status == state));
    }

    #[test]
    fn every_cell_of_every_pivot_lists_as_many_models_as_it_counts() {
        // The pivot counts by positions and a clicked cell finds its models by key: for every
        // pair of dimensions and every cell, the two agree, and rows and columns add up.
        let (tree, facts) = (tree(), registry());
        let all = [Dimension::Unit, Dimension::Field, Dimension::OwnerKind, Dimension::Level, Dimension::Year, Dimension::Status];
        for rows in all {
            for columns in all {
                let mut request = ReportRequest { rows, columns, ..ReportRequest::new(Scope::Unit("D".into()), Period::year(2025)) };
                let pivot = request.run(&tree, &facts).pivot;
                assert_eq!(pivot.total, 5, "{rows:?} × {columns:?}: every registered model once");
                for (r, (row, _)) in pivot.row_keys.iter().enumerate() {
                    for (c, (column, _)) in pivot.column_keys.iter().enumerate() {
                        request.cell = Some((row.clone(), column.clone()));
                        assert_eq!(request.run(&tree, &facts).cell_count, pivot.cells[r][c], "{rows:?}={row} × {columns:?}={column}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_replication_annex_lists_each_unit_once_as_the_figures_count_it() {
        let (tree, facts) = (tree(), registry());
        let sheet = ReportRequest::new(Scope::Unit("D".into()), Period::year(2025)).run(&tree, &facts);
        let points: Vec<(&str, String)> = sheet.replicated[0].points.iter().map(|(name, on)| (name.as_str(), on.to_string())).collect();
        // X3 was recorded in April and again in August: one point, at its first date.
        assert_eq!(points, vec![("Đơn vị X1", "2025-04-01".to_string()), ("Đơn vị X3", "2025-04-05".to_string())]);
        assert_eq!(sheet.figures.replication_points, points.len());
    }
}
