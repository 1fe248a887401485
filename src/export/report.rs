//! A report's tables and lists (the report page's figures, breakdowns, pivot, coverage and
//! annex) as tables, one sheet each, in the order the page shows them.

use std::collections::BTreeSet;

use super::{Cell, Table};
use crate::domain::report::{Dimension, Figures, ModelEntry, ReportSheet};
use crate::domain::{CommendationForm, Date, Level, Status};

/// Sheet names of [`report_tables`] (fixed, so a reader or a test can find each).
pub const FIGURES: &str = "Số liệu";
pub const PIVOT: &str = "Bảng tổng hợp";
pub const COVERAGE: &str = "Độ bao phủ";
pub const NOT_REGISTERING: &str = "Chưa đăng ký";
pub const EXEMPLARY: &str = "Điển hình";
pub const COMMENDATIONS: &str = "Khen thưởng";
pub const REPLICATED: &str = "Nhân rộng";
pub const CONTEST_PRIZES: &str = "Giải hội thi";

/// The sheet of a breakdown by `dimension` ("Theo đơn vị", "Theo lĩnh vực" …).
pub fn breakdown_sheet(dimension: Dimension) -> String {
    format!("Theo {}", dimension.label().to_lowercase())
}

/// "Tổng cộng": the row that adds up a breakdown or a pivot table.
pub const TOTAL: &str = "Tổng cộng";

/// The figures of a report, labelled as a review states them, in the order of the page: the
/// same list is the rows of the figures sheet and the columns of every breakdown.
pub fn figure_rows(f: &Figures, as_of: Date) -> Vec<(String, usize)> {
    let mut out = vec![
        ("Đăng ký trong kỳ".to_string(), f.registered),
        (format!("Tổng số tính đến ngày {}", as_of.vi()), f.total),
    ];
    for s in Status::ALL {
        out.push((format!("{}: {}", Dimension::Status.label(), s.label()), f.status(s)));
    }
    out.push(("Công nhận trong kỳ".to_string(), f.recognised_in_period));
    for level in Level::ALL {
        let n = f.exemplary_by_level.iter().find(|(l, _)| *l == level).map_or(0, |(_, n)| *n);
        out.push((format!("Điển hình – {}", level.label()), n));
    }
    out.push(("Điển hình – tổng số".to_string(), f.exemplary()));
    for form in CommendationForm::ALL {
        let n = f.commendations_by_form.iter().find(|(k, _)| *k == form).map_or(0, |(_, n)| *n);
        out.push((format!("Khen thưởng – {}", form.label()), n));
    }
    out.push(("Khen thưởng – tổng số".to_string(), f.commendations()));
    out.push(("Mô hình được khen thưởng".to_string(), f.commended_models));
    out.push(("Mô hình được nhân rộng".to_string(), f.replicated_models));
    out.push(("Điểm nhân rộng".to_string(), f.replication_points));
    out
}

/// Every table of the report: the figures; one breakdown per dimension the sheet carries (rows:
/// its values and a total, columns: the figures); the pivot with its totals; coverage (the
/// summary, then the units that did not register); the annex lists — exemplary models,
/// commendations (who, form, issuer, decision number and date), replicated models with their
/// points. Lists that are empty today still get their sheet (with headers), so a workbook always
/// has the same sheets.
pub fn report_tables(sheet: &ReportSheet) -> Vec<Table> {
    let period = &sheet.request.period;
    let of = |what: &str| format!("{what} – {}, {}", sheet.scope_name, period.label());
    let mut out = Vec::new();

    let mut figures = Table::new(FIGURES, of("Số liệu mô hình"), &["Chỉ tiêu", "Số lượng"]);
    for (label, n) in figure_rows(&sheet.figures, period.to) {
        figures.push(vec![Cell::from(label), Cell::from(n)]);
    }
    out.push(figures);

    for b in &sheet.breakdowns {
        let labels = figure_rows(&sheet.figures, period.to);
        let mut headers: Vec<&str> = vec![b.dimension.label()];
        headers.extend(labels.iter().map(|(l, _)| l.as_str()));
        let mut table = Table::new(breakdown_sheet(b.dimension), of(&format!("Số liệu theo {}", b.dimension.label().to_lowercase())), &headers);
        for row in &b.rows {
            table.push(figure_cells(Cell::from(row.label.as_str()), &row.figures, period.to));
        }
        table.push(figure_cells(Cell::from(TOTAL), &sheet.figures, period.to));
        out.push(table);
    }

    let p = &sheet.pivot;
    let corner = format!("{} \\ {}", p.rows.label(), p.columns.label());
    let mut headers: Vec<&str> = vec![corner.as_str()];
    headers.extend(p.column_keys.iter().map(|(_, l)| l.as_str()));
    headers.push(TOTAL);
    let mut pivot = Table::new(PIVOT, of(&format!("Số mô hình theo {} và {} tính đến ngày {}", p.rows.label().to_lowercase(), p.columns.label().to_lowercase(), period.to.vi())), &headers);
    for (r, (_, label)) in p.row_keys.iter().enumerate() {
        let mut row = vec![Cell::from(label.as_str())];
        row.extend(p.cells[r].iter().map(|n| Cell::from(*n)));
        row.push(Cell::from(p.row_totals[r]));
        pivot.push(row);
    }
    let mut totals = vec![Cell::from(TOTAL)];
    totals.extend(p.column_totals.iter().map(|n| Cell::from(*n)));
    totals.push(Cell::from(p.total));
    pivot.push(totals);
    out.push(pivot);

    let c = &sheet.coverage;
    let level = c.level.label().to_lowercase();
    let mut coverage = Table::new(COVERAGE, of(&format!("Đơn vị {level} đăng ký mô hình trong kỳ")), &["Chỉ tiêu", "Số lượng"]);
    coverage.push(vec![Cell::from(format!("Số đơn vị {level}")), Cell::from(c.units)]);
    coverage.push(vec![Cell::from("Đơn vị có đăng ký mô hình trong kỳ"), Cell::from(c.registering)]);
    coverage.push(vec![Cell::from("Đơn vị chưa đăng ký mô hình trong kỳ"), Cell::from(c.missing.len())]);
    coverage.push(vec![
        Cell::from("Tỷ lệ đơn vị có đăng ký (%)"),
        if c.units == 0 { Cell::Empty } else { Cell::Decimal((c.registering as f64 * 10_000.0 / c.units as f64).round() / 100.0) },
    ]);
    out.push(coverage);
    let mut missing = Table::new(NOT_REGISTERING, of(&format!("Đơn vị {level} chưa đăng ký mô hình trong kỳ")), &["STT", "Mã đơn vị", "Tên đơn vị"]);
    for (i, (code, name)) in c.missing.iter().enumerate() {
        missing.push(vec![Cell::from(i + 1), Cell::from(code.as_str()), Cell::from(name.as_str())]);
    }
    out.push(missing);

    let mut exemplary = Table::new(
        EXEMPLARY,
        of(&format!("Mô hình điển hình tính đến ngày {}", period.to.vi())),
        &["STT", "Tên mô hình", "Đơn vị", "Loại chủ thể", "Chủ thể thực hiện", "Lĩnh vực", "Năm đăng ký", "Cấp đăng ký", "Cấp điển hình"],
    );
    for (i, e) in sheet.exemplary.iter().enumerate() {
        let m = &e.model;
        exemplary.push(vec![
            Cell::from(i + 1),
            Cell::from(m.name.as_str()),
            Cell::from(m.unit_name.as_str()),
            Cell::from(m.owner_kind.label()),
            Cell::from(m.owner_name.as_str()),
            Cell::from(m.field.as_str()),
            year(m),
            Cell::from(m.level.label()),
            Cell::from(e.level.label()),
        ]);
    }
    out.push(exemplary);

    let mut commendations = Table::new(
        COMMENDATIONS,
        of("Khen thưởng trong kỳ"),
        &["STT", "Tên mô hình", "Đơn vị", "Chủ thể được khen", "Hình thức", "Cơ quan khen thưởng", "Số quyết định", "Ngày quyết định"],
    );
    for (i, k) in sheet.commendations.iter().enumerate() {
        let m = &k.model;
        // The decision's date as recorded: a date when it is one, the text otherwise (an old
        // record may say "12/2015"); the figures date such a decision by when it was recorded.
        let decided = match Date::parse(&k.decision_date) {
            Some(day) => Cell::Date(day),
            None if k.decision_date.trim().is_empty() => Cell::Empty,
            None => Cell::from(k.decision_date.as_str()),
        };
        commendations.push(vec![
            Cell::from(i + 1),
            Cell::from(m.name.as_str()),
            Cell::from(m.unit_name.as_str()),
            Cell::from(if m.owner_name.is_empty() { m.name.as_str() } else { m.owner_name.as_str() }),
            Cell::from(k.form.label()),
            Cell::from(k.issuer.as_str()),
            Cell::from(k.decision_number.as_str()),
            decided,
        ]);
    }
    out.push(commendations);

    let mut replicated = Table::new(
        REPLICATED,
        of("Mô hình được nhân rộng trong kỳ"),
        &["STT", "Tên mô hình", "Đơn vị", "Lĩnh vực", "Số điểm nhân rộng", "Nơi nhân rộng", "Ngày ghi nhận đầu tiên"],
    );
    for (i, r) in sheet.replicated.iter().enumerate() {
        let m = &r.model;
        // Points are distinct places, as the figures count them; each named once, in the order
        // they were recorded.
        let mut seen = BTreeSet::new();
        let places: Vec<&str> = r.points.iter().map(|(name, _)| name.as_str()).filter(|name| seen.insert(*name)).collect();
        replicated.push(vec![
            Cell::from(i + 1),
            Cell::from(m.name.as_str()),
            Cell::from(m.unit_name.as_str()),
            Cell::from(m.field.as_str()),
            Cell::from(places.len()),
            Cell::from(places.join("; ")),
            Cell::from(r.points.iter().map(|(_, on)| *on).min()),
        ]);
    }
    out.push(replicated);

    let mut prizes = Table::new(
        CONTEST_PRIZES,
        of("Giải thưởng hội thi trong kỳ"),
        &["STT", "Hội thi", "Cấp", "Đơn vị tổ chức", "Ngày công bố", "Giải", "Đội", "Đơn vị"],
    );
    for (i, p) in sheet.contest_prizes.iter().enumerate() {
        prizes.push(vec![
            Cell::from(i + 1),
            Cell::from(p.contest_name.as_str()),
            Cell::from(p.level.label()),
            Cell::from(p.organiser.as_str()),
            Cell::from(p.published),
            Cell::from(p.prize.label()),
            Cell::from(p.team.as_str()),
            Cell::from(p.unit_name.as_str()),
        ]);
    }
    out.push(prizes);
    out
}

fn figure_cells(first: Cell, f: &Figures, as_of: Date) -> Vec<Cell> {
    let mut row = vec![first];
    row.extend(figure_rows(f, as_of).into_iter().map(|(_, n)| Cell::from(n)));
    row
}

fn year(m: &ModelEntry) -> Cell {
    if m.year > 0 { Cell::from(m.year) } else { Cell::Empty }
}
