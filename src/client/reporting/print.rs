//! The printed report, in the administrative layout people hand in: a Party committee's (Hướng
//! dẫn 36-HD/VPTW: issuing body top left, "ĐẢNG CỘNG SẢN VIỆT NAM" top right, "Số …-BC/…") or a
//! State body's (Nghị định 30/2020/NĐ-CP: Quốc hiệu and Tiêu ngữ top right). Hidden on screen;
//! report.css gives print A4, Times New Roman 13–14 pt and the decree's margins. The browser's
//! "print to PDF" makes the file. The contest's results document (`contest_document`) is here too.
//! Printed documents stay Vietnamese whatever the interface's language: this file is in
//! `i18n::tests::VIETNAMESE_ONLY`; the screens around them (the report's print settings form, the
//! contest's print tab) are translated.

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::charts::BarChartView;
use crate::domain::contest::format_points;
use crate::domain::report::{Dimension, ReportSheet, draft_text};
use crate::domain::{Date, format_count_vi};
use crate::export::{Cell, Table};

const KEY: &str = "danvan.report.print";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrintSettings {
    /// "dang" (Party committee) or "nha_nuoc" (State body, NĐ 30).
    pub layout: String,
    /// The body above the issuer (e.g. "ĐẢNG BỘ QUẬN BA ĐÌNH", "UBND QUẬN BA ĐÌNH").
    pub superior: String,
    /// The issuer (e.g. "BAN DÂN VẬN").
    pub issuer: String,
    /// The document's number and sign, e.g. "12-BC/DV" or "12/BC-UBND".
    pub number: String,
    pub place: String,
    /// Who signs: "T/M BAN THƯỜNG VỤ" / "TRƯỞNG BAN", and their name.
    pub signer_role: String,
    pub signer_title: String,
    pub signer_name: String,
    /// "Nơi nhận", one per line.
    pub recipients: String,
}

impl Default for PrintSettings {
    fn default() -> PrintSettings {
        PrintSettings {
            layout: "dang".into(),
            superior: String::new(),
            issuer: "BAN DÂN VẬN".into(),
            number: "…-BC/DV".into(),
            place: String::new(),
            signer_role: "T/M BAN DÂN VẬN".into(),
            signer_title: "TRƯỞNG BAN".into(),
            signer_name: String::new(),
            recipients: "Ban Dân vận cấp trên (để báo cáo);\nBan Chỉ đạo phong trào thi đua “Dân vận khéo”;\nLưu VP.".into(),
        }
    }
}

impl PrintSettings {
    pub fn load() -> PrintSettings {
        LocalStorage::get(KEY).unwrap_or_default()
    }

    pub(super) fn save(&self) {
        // Only the next report's defaults depend on it.
        let _ = LocalStorage::set(KEY, self);
    }
}

fn n(v: usize) -> String {
    format_count_vi(v)
}

#[component]
pub fn PrintDocument(sheet: ReportSheet, settings: RwSignal<PrintSettings>) -> impl IntoView {
    let today = Date::in_vietnam(js_sys::Date::now() as i64);
    let period = sheet.request.period;
    let paragraphs = draft_text(&sheet);
    let f = sheet.figures.clone();
    let units = sheet.breakdown(Dimension::Unit).map(|b| b.rows.clone()).unwrap_or_default();
    let field_bars: Vec<(String, usize)> =
        sheet.breakdown(Dimension::Field).map(|b| b.rows.iter().map(|r| (r.label.clone(), r.figures.total)).collect()).unwrap_or_default();
    let as_of = period.to.vi();
    let sheet_for_annex = sheet.clone();
    view! {
        <article class="print-doc" aria-hidden="true">
            {move || settings.with(|s| {
                let state = s.layout == "nha_nuoc";
                let date_line = format!("{}, ngày {:02} tháng {:02} năm {}", if s.place.is_empty() { "……" } else { s.place.as_str() }, today.day, today.month, today.year);
                let number = if state { format!("Số: {}", s.number) } else { format!("Số {}", s.number) };
                view! {
                    <table class="doc-head">
                        <tr>
                            <td class="doc-issuer">
                                <div>{s.superior.to_uppercase()}</div>
                                <div class="strong">{s.issuer.to_uppercase()}</div>
                                {(!state).then(|| view! { <div>"*"</div> })}
                                <div>{number}</div>
                            </td>
                            <td class="doc-nation">
                                {if state {
                                    view! { <div class="strong national">"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"</div><div class="strong underline">"Độc lập - Tự do - Hạnh phúc"</div> }.into_any()
                                } else {
                                    view! { <div class="strong underline">"ĐẢNG CỘNG SẢN VIỆT NAM"</div> }.into_any()
                                }}
                                <div class="italic date-line">{date_line}</div>
                            </td>
                        </tr>
                    </table>
                }
            })}
            <h1 class="doc-title">"BÁO CÁO"</h1>
            <p class="doc-subtitle">{format!("Kết quả thực hiện phong trào thi đua “Dân vận khéo” {} — {}", period.label(), sheet.scope_name)}</p>
            <h2>"I. KẾT QUẢ"</h2>
            {paragraphs.into_iter().map(|p| view! { <p class="doc-paragraph">{p}</p> }).collect_view()}
            <h3>{format!("1. Số liệu tổng hợp (tính đến ngày {as_of})")}</h3>
            <table class="doc-table">
                <tbody>
                    <tr><td>"Mô hình đăng ký trong kỳ"</td><td class="num">{n(f.registered)}</td></tr>
                    <tr><td>"Tổng số mô hình"</td><td class="num">{n(f.total)}</td></tr>
                    {f.by_status.iter().filter(|(_, v)| *v > 0).map(|(s, v)| view! { <tr><td>{format!("— {}", s.label())}</td><td class="num">{n(*v)}</td></tr> }).collect_view()}
                    <tr><td>"Được công nhận trong kỳ"</td><td class="num">{n(f.recognised_in_period)}</td></tr>
                    <tr><td>"Mô hình điển hình"</td><td class="num">{n(f.exemplary())}</td></tr>
                    <tr><td>"Lượt khen thưởng trong kỳ"</td><td class="num">{n(f.commendations())}</td></tr>
                    <tr><td>"Mô hình được nhân rộng / điểm nhân rộng"</td><td class="num">{format!("{} / {}", n(f.replicated_models), n(f.replication_points))}</td></tr>
                </tbody>
            </table>
            <h3>"2. Theo đơn vị"</h3>
            <table class="doc-table">
                <thead><tr><th>"Đơn vị"</th><th>"Đăng ký trong kỳ"</th><th>"Tổng số"</th><th>"Được công nhận"</th><th>"Điển hình"</th></tr></thead>
                <tbody>{units.into_iter().map(|r| {
                    let g = &r.figures;
                    view! { <tr><td>{r.label}</td><td class="num">{n(g.registered)}</td><td class="num">{n(g.total)}</td><td class="num">{n(g.recognised())}</td><td class="num">{n(g.exemplary())}</td></tr> }
                }).collect_view()}</tbody>
            </table>
            <h3>"3. Theo lĩnh vực"</h3>
            <div class="doc-chart"><BarChartView items=field_bars document=true/></div>
            <h2>"II. PHỤ LỤC"</h2>
            <h3>"Mô hình điển hình"</h3>
            <table class="doc-table">
                <thead><tr><th>"TT"</th><th>"Tên mô hình"</th><th>"Đơn vị"</th><th>"Cấp"</th></tr></thead>
                <tbody>{sheet_for_annex.exemplary.iter().enumerate().map(|(i, e)| view! { <tr><td class="num">{i + 1}</td><td>{e.model.name.clone()}</td><td>{e.model.unit_name.clone()}</td><td>{e.level.label()}</td></tr> }).collect_view()}</tbody>
            </table>
            <h3>"Khen thưởng"</h3>
            <table class="doc-table">
                <thead><tr><th>"TT"</th><th>"Mô hình"</th><th>"Hình thức"</th><th>"Cơ quan khen"</th><th>"Số, ngày quyết định"</th></tr></thead>
                <tbody>{sheet_for_annex.commendations.iter().enumerate().map(|(i, c)| view! {
                    <tr><td class="num">{i + 1}</td><td>{c.model.name.clone()}</td><td>{c.form.label()}</td><td>{c.issuer.clone()}</td><td>{format!("{}, {}", c.decision_number, c.on.vi())}</td></tr>
                }).collect_view()}</tbody>
            </table>
            <h3>"Mô hình được nhân rộng"</h3>
            <table class="doc-table">
                <thead><tr><th>"TT"</th><th>"Mô hình"</th><th>"Nơi nhân rộng"</th></tr></thead>
                <tbody>{sheet_for_annex.replicated.iter().enumerate().map(|(i, r)| view! {
                    <tr><td class="num">{i + 1}</td><td>{r.model.name.clone()}</td><td>{r.points.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>().join(", ")}</td></tr>
                }).collect_view()}</tbody>
            </table>
            {(!sheet_for_annex.contest_prizes.is_empty()).then(|| view! {
                <h3>"Giải thưởng hội thi"</h3>
                <table class="doc-table">
                    <thead><tr><th>"TT"</th><th>"Hội thi"</th><th>"Giải"</th><th>"Đội, đơn vị"</th></tr></thead>
                    <tbody>{sheet_for_annex.contest_prizes.iter().enumerate().map(|(i, p)| view! {
                        <tr><td class="num">{i + 1}</td><td>{format!("{} ({}, {})", p.contest_name, p.organiser, p.published.vi())}</td><td>{p.prize.label()}</td><td>{format!("{} – {}", p.team, p.unit_name)}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            {move || settings.with(|s| view! {
                <table class="doc-foot">
                    <tr>
                        <td class="doc-recipients">
                            <div class="strong italic">"Nơi nhận:"</div>
                            {s.recipients.lines().filter(|l| !l.trim().is_empty()).map(|l| view! { <div>{format!("- {}", l.trim())}</div> }).collect_view()}
                        </td>
                        <td class="doc-signature">
                            <div class="strong">{s.signer_role.to_uppercase()}</div>
                            <div class="strong">{s.signer_title.to_uppercase()}</div>
                            <div class="signature-space"></div>
                            <div class="strong">{s.signer_name.clone()}</div>
                        </td>
                    </tr>
                </table>
            })}
        </article>
    }
}

/// The contest's results on A4 (the organiser's unit heading the page, every round, the prize
/// list, the signature block): shown under the contest's print tab and printed.
pub fn contest_document(organiser: &str, name: &str, published: bool, tables: Vec<Table>) -> impl IntoView + use<> {
    let organiser = organiser.to_uppercase();
    let name = name.to_uppercase();
    let place_date = {
        let d = Date::in_vietnam(js_sys::Date::now() as i64);
        format!("ngày {:02} tháng {:02} năm {}", d.day, d.month, d.year)
    };
    view! {
        <div class="contest-print print-doc-screen">
            <table class="doc-head">
                <tbody><tr>
                    <td class="doc-issuer"><div>{organiser}</div><div class="strong">"BAN TỔ CHỨC HỘI THI"</div></td>
                    <td class="doc-nation"><div class="date-line italic">{place_date}</div></td>
                </tr></tbody>
            </table>
            <p class="doc-title">"KẾT QUẢ"</p>
            <p class="doc-subtitle">{name}</p>
            {(!published).then(|| view! { <p class="italic">"(Kết quả tạm tính, chưa công bố)"</p> })}
            {tables.into_iter().map(|t| view! {
                <h3>{t.title.clone()}</h3>
                <table class="doc-table">
                    <thead><tr>{t.headers.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {t.rows.iter().map(|row| view! {
                            <tr>{row.iter().map(|cell| {
                                let (text, num) = cell_text(cell);
                                view! { <td class:num=num>{text}</td> }
                            }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }).collect_view()}
            <table class="doc-foot">
                <tbody><tr>
                    <td class="doc-recipients"></td>
                    <td class="doc-signature"><div class="strong">"TM. BAN TỔ CHỨC"</div><div class="strong">"TRƯỞNG BAN"</div><div class="signature-space"></div></td>
                </tr></tbody>
            </table>
        </div>
    }
}

fn cell_text(cell: &Cell) -> (String, bool) {
    match cell {
        Cell::Text(t) => (t.clone(), false),
        Cell::Whole(n) => (n.to_string(), true),
        Cell::Decimal(d) => (format_points((d * 100.0).round() as u32), true),
        Cell::Date(d) => (d.vi(), false),
        Cell::Empty => (String::new(), false),
    }
}

