//! A contest's results (hội thi "Dân vận khéo", issue 16) as tables: each round's results in
//! ranking order, each round's scores judge by judge (for transparency: who gave what), and the
//! list of prize winners the certificates are written from. The same tables are a printed A4 page
//! (the client's view iterates the rows), an XLSX workbook ([`super::xlsx`], one sheet each) and
//! CSV files ([`super::csv`]).
//!
//! Everything comes from [`Contest::results`] and the sheets, as the organiser's screen computes
//! it: points are the domain's hundredths written as decimals (85,33 is `Cell::Decimal(85.33)`,
//! so Excel can add them up), ranks and ties as the domain ranks them, never recomputed here.

use std::collections::{HashMap, HashSet};

use super::{Cell, SHEET_NAME_MAX, Table, sheet_name};
use crate::domain::Date;
use crate::domain::contest::{Contest, Part, PrizeKind, Round, SCALE, Stage, format_points, round_order};

/// Sheet name of [`prize_table`].
pub const PRIZES: &str = "Đội đạt giải";
/// What a results row says of a team with another team's equal total (not ordered by the
/// organiser): both share the rank.
pub const TIED: &str = "Đồng hạng";
/// What a closed preliminary's results say of its qualifiers.
pub const QUALIFIED: &str = "Vào chung khảo";
/// What a results row of an open round says of a team whose scores are not all in yet.
pub const INCOMPLETE: &str = "Còn thiếu điểm";
/// A judge's score not given yet, in [`round_sheets_table`].
pub const MISSING: &str = "thiếu";
/// A judge excused from scoring a team, in [`round_sheets_table`].
pub const EXCUSED: &str = "miễn chấm";
/// What the sheet name of a round's judges' detail adds to the round's name.
const SHEETS_SUFFIX: &str = " (giám khảo)";

/// Writes units by name in every "Đơn vị" column of `tables` (the tables carry the team's unit
/// code; the device's profile, or the server's tree, knows the names).
pub fn name_units(tables: &mut [Table], name: impl Fn(&str) -> String) {
    for table in tables {
        let Some(column) = table.headers.iter().position(|h| h == "Đơn vị") else { continue };
        for row in &mut table.rows {
            if let Some(Cell::Text(code)) = row.get_mut(column)
                && !code.is_empty()
            {
                *code = name(code);
            }
        }
    }
}

/// Hundredths of a point as a number Excel adds up (8533 → 85.33; exact to the hundredth, as
/// the nearest double is what Excel shows).
fn points(hundredths: u32) -> Cell {
    Cell::Decimal(f64::from(hundredths) / f64::from(SCALE))
}

/// "Tiểu phẩm (tối đa 40)".
fn part_header(part: &Part) -> String {
    format!("{} (tối đa {})", part.label, format_points(part.max))
}

/// The contest's name with its year, unless the name already says it.
fn contest_name(contest: &Contest) -> String {
    let year = contest.year.to_string();
    if contest.name.contains(&year) { contest.name.clone() } else { format!("{} {year}", contest.name) }
}

/// "vòng sơ khảo — Cụm 3", "vòng chung khảo": the stage, then what the round's name adds to it
/// (a preliminary is named "Sơ khảo <cluster>" when set up; the organiser may rename it).
fn round_heading(round: &Round) -> String {
    let (stage, generic) = match round.stage {
        Stage::Preliminary => ("vòng sơ khảo", "sơ khảo"),
        Stage::Final => ("vòng chung khảo", "chung khảo"),
    };
    let name = round.name.trim();
    let prefix: String = name.chars().take(generic.chars().count()).collect();
    let rest = if prefix.to_lowercase() == generic { &name[prefix.len()..] } else { name };
    let rest = rest.trim_start_matches([' ', '-', '–', '—', ':', ',']).trim();
    if rest.is_empty() { stage.to_string() } else { format!("{stage} — {rest}") }
}

/// "(ngày 15/03/2026, tại Hội trường UBND xã)", or nothing when neither is set.
fn when_and_where(round: &Round) -> String {
    let mut bits = Vec::new();
    if let Some(day) = Date::parse(&round.date) {
        bits.push(format!("ngày {}", day.vi()));
    }
    if !round.venue.trim().is_empty() {
        bits.push(format!("tại {}", round.venue.trim()));
    }
    if bits.is_empty() { String::new() } else { format!(" ({})", bits.join(", ")) }
}

/// A sheet name made of `base` cut so that `suffix` fits within [`SHEET_NAME_MAX`].
fn fit(base: &str, suffix: &str) -> String {
    let room = SHEET_NAME_MAX.saturating_sub(suffix.encode_utf16().count());
    let mut out = String::new();
    let mut units = 0;
    for c in sheet_name(base).chars() {
        units += c.len_utf16();
        if units > room {
            break;
        }
        out.push(c);
    }
    format!("{}{suffix}", out.trim_end())
}

/// One row per team of the round, best first: Hạng (tied teams share the rank), Đội, Đơn vị (the
/// unit's code: a team carries its unit's code and its own name, usually the unit's), the team's
/// score of each part (the judges' mean, as ranked; empty while no judge has scored it), Tổng
/// điểm, and Ghi chú: "Đồng hạng" for a tie the organiser has not ordered, "Vào chung khảo" for a
/// closed preliminary's qualifiers, the prize awarded in the final, "Còn thiếu điểm" while a
/// team's scores are not all in. The title says "tạm tính" while the round is open. `None` for
/// a round the contest does not have.
pub fn round_table(contest: &Contest, round_id: &str) -> Option<Table> {
    let round = contest.round(round_id)?;
    let results = contest.results(round_id)?;
    let part_headers: Vec<String> = contest.parts.iter().map(part_header).collect();
    let mut headers: Vec<&str> = vec!["Hạng", "Đội", "Đơn vị"];
    headers.extend(part_headers.iter().map(String::as_str));
    headers.extend(["Tổng điểm", "Ghi chú"]);
    let provisional = if round.is_closed() { "" } else { " tạm tính" };
    let title = format!("Kết quả{provisional} {} — {}{}", round_heading(round), contest_name(contest), when_and_where(round));
    let mut table = Table::new(fit(&round.name, ""), title, &headers);
    let prizes: HashMap<&str, PrizeKind> =
        if round.stage == Stage::Final { contest.prizes.iter().map(|p| (p.team.as_str(), p.kind)).collect() } else { HashMap::new() };
    for place in &results.ranking.places {
        let Some(result) = results.teams.iter().find(|t| t.team == place.team) else { continue };
        let team = contest.team(&place.team);
        let mut notes = Vec::new();
        if place.tied {
            notes.push(TIED);
        }
        if round.stage == Stage::Preliminary && round.is_closed() && round.qualifiers.contains(&place.team) {
            notes.push(QUALIFIED);
        }
        if let Some(kind) = prizes.get(place.team.as_str()) {
            notes.push(kind.label());
        }
        if !result.complete {
            notes.push(INCOMPLETE);
        }
        let mut row = vec![
            Cell::from(place.rank),
            Cell::from(team.map_or(place.team.as_str(), |t| t.name.as_str())),
            Cell::from(team.map_or("", |t| t.unit.as_str())),
        ];
        row.extend(result.parts.iter().map(|p| p.points.map_or(Cell::Empty, points)));
        row.push(points(place.total));
        row.push(Cell::from(notes.join("; ")));
        table.push(row);
    }
    Some(table)
}

/// [`round_table`] of the final (`None` without one).
pub fn final_table(contest: &Contest) -> Option<Table> {
    round_table(contest, &contest.final_round()?.id)
}

/// The prize winners, as the certificates (giấy chứng nhận, giấy khen) are written from: STT,
/// Giải, Đội, Đơn vị, Thành viên (joined by ", "), Điểm chung khảo; the best prize first (Nhất,
/// Nhì, Ba, Khuyến khích), within a prize in the final's ranking order. The title says "chưa công
/// bố" until the results are published. Without prizes, the headers alone.
pub fn prize_table(contest: &Contest) -> Table {
    let published = if contest.is_published() { "" } else { " (chưa công bố)" };
    let mut table = Table::new(
        PRIZES,
        format!("Danh sách đội đạt giải — {}{published}", contest_name(contest)),
        &["STT", "Giải", "Đội", "Đơn vị", "Thành viên", "Điểm chung khảo"],
    );
    let places = contest.final_ranking().map(|r| r.places).unwrap_or_default();
    let position = |team: &str| places.iter().position(|p| p.team == team).unwrap_or(usize::MAX);
    let mut prizes: Vec<_> = contest.prizes.iter().collect();
    prizes.sort_by(|a, b| (a.kind, position(&a.team), &a.team).cmp(&(b.kind, position(&b.team), &b.team)));
    for (i, prize) in prizes.iter().enumerate() {
        let team = contest.team(&prize.team);
        let total = places.iter().find(|p| p.team == prize.team).map_or(Cell::Empty, |p| points(p.total));
        table.push(vec![
            Cell::from(i + 1),
            Cell::from(prize.kind.label()),
            Cell::from(team.map_or(prize.team.as_str(), |t| t.name.as_str())),
            Cell::from(team.map_or("", |t| t.unit.as_str())),
            Cell::from(team.map_or(String::new(), |t| t.members.join(", "))),
            total,
        ]);
    }
    table
}

/// Every judge's scores in a round, for transparency: one row per team (in ranking order) ×
/// judge (in the round's order): Đội, Đơn vị, Giám khảo (their name as printed), the judge's
/// points for each part — "thiếu" when not given yet, "miễn chấm" when the organiser excused the
/// judge from that team —, Cộng (the judge's own sum, when every part is scored) and Nhận xét
/// (the judge's comments, each after its part's label, and why a judge was excused). These are
/// the points as given; a part's score is their mean, without the highest and lowest when the
/// contest says so. `None` for a round the contest does not have.
pub fn round_sheets_table(contest: &Contest, round_id: &str) -> Option<Table> {
    let round = contest.round(round_id)?;
    let results = contest.results(round_id)?;
    let part_headers: Vec<String> = contest.parts.iter().map(part_header).collect();
    let mut headers: Vec<&str> = vec!["Đội", "Đơn vị", "Giám khảo"];
    headers.extend(part_headers.iter().map(String::as_str));
    headers.extend(["Cộng", "Nhận xét"]);
    let provisional = if round.is_closed() { "" } else { " (vòng chưa khóa)" };
    let title = format!("Điểm của từng giám khảo {} — {}{provisional}", round_heading(round), contest_name(contest));
    let mut table = Table::new(fit(&round.name, SHEETS_SUFFIX), title, &headers);
    for place in &results.ranking.places {
        let team = contest.team(&place.team);
        let (name, unit) = team.map_or((place.team.as_str(), ""), |t| (t.name.as_str(), t.unit.as_str()));
        for judge in &round.judges {
            let judge_name = if judge.name.trim().is_empty() { judge.username.as_str() } else { judge.name.as_str() };
            let mut row = vec![Cell::from(name), Cell::from(unit), Cell::from(judge_name)];
            let mut comments = Vec::new();
            if round.is_excused(&judge.username, &place.team) {
                row.extend(contest.parts.iter().map(|_| Cell::from(EXCUSED)));
                row.push(Cell::Empty);
                let reason = round
                    .excused
                    .iter()
                    .find(|e| e.judge == judge.username && (e.team.is_empty() || e.team == place.team))
                    .map_or("", |e| e.reason.trim());
                comments.push(if reason.is_empty() { "Miễn chấm".to_string() } else { format!("Miễn chấm: {reason}") });
            } else {
                let sheet = contest.sheet(round_id, &judge.username);
                let mut sum = Some(0);
                for part in &contest.parts {
                    match sheet.and_then(|s| s.row(&place.team, &part.id)) {
                        Some(r) => {
                            row.push(points(r.points));
                            sum = sum.map(|s| s + r.points);
                            if !r.comment.trim().is_empty() {
                                comments.push(format!("{}: {}", part.label, r.comment.trim()));
                            }
                        }
                        None => {
                            row.push(Cell::from(MISSING));
                            sum = None;
                        }
                    }
                }
                row.push(sum.map_or(Cell::Empty, points));
            }
            row.push(Cell::from(comments.join("; ")));
            table.push(row);
        }
    }
    Some(table)
}

/// The whole contest, one table per sheet: each round in order (the preliminaries, then the
/// final), its results ([`round_table`]) followed by its judges' scores ([`round_sheets_table`]),
/// and the prize winners ([`prize_table`]) once prizes are awarded. Sheet names are unique in the
/// workbook (Excel ignores case) and within [`SHEET_NAME_MAX`]: a round whose name, cut to fit,
/// is taken already gets " (2)", " (3)" … on both its sheets.
pub fn contest_tables(contest: &Contest) -> Vec<Table> {
    let mut rounds: Vec<&Round> = contest.rounds.iter().collect();
    rounds.sort_by(|a, b| round_order(a, b));
    // Excel keeps "History" for itself.
    let mut seen: HashSet<String> = HashSet::from(["history".to_string()]);
    let mut tables = Vec::new();
    for round in rounds {
        let (Some(mut results), Some(mut sheets)) = (round_table(contest, &round.id), round_sheets_table(contest, &round.id)) else { continue };
        for n in 1.. {
            let tag = if n == 1 { String::new() } else { format!(" ({n})") };
            let (a, b) = (fit(&round.name, &tag), fit(&round.name, &format!("{tag}{SHEETS_SUFFIX}")));
            let (a_key, b_key) = (a.to_lowercase(), b.to_lowercase());
            if a_key != b_key && !seen.contains(&a_key) && !seen.contains(&b_key) {
                seen.extend([a_key, b_key]);
                (results.sheet, sheets.sheet) = (a, b);
                break;
            }
        }
        tables.extend([results, sheets]);
    }
    if !contest.prizes.is_empty() {
        let mut prizes = prize_table(contest);
        for n in 2.. {
            if !seen.contains(&prizes.sheet.to_lowercase()) {
                break;
            }
            prizes.sheet = fit(PRIZES, &format!(" ({n})"));
        }
        tables.push(prizes);
    }
    tables
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
