//! The report page: the choices, then the sheet (from this device's facts, or from the server).
//! Thin: every figure comes from `ReportRequest::run` (domain), every sentence from `draft_text`.

use leptos::prelude::*;

use super::charts::{BarChartView, LineChartView};
use super::files;
use super::input::ReportInput;
use super::print::{PrintDocument, PrintSettings};
use crate::client::net::http;
use crate::domain::contest::Contest;
use crate::domain::report::{BREAKDOWNS, Dimension, Period, PeriodKind, ReportRequest, ReportSheet, Scope, contest_prizes, draft_text, readable_tree};
use crate::domain::{Date, Level, UnitTree};
use crate::i18n::{self, t, tf, tr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Device,
    Server,
}

fn n(v: usize) -> String {
    i18n::count(v)
}

/// A day of the period as the interface writes dates.
fn shown(d: Date) -> String {
    i18n::date(&d.to_string())
}

fn today() -> Date {
    Date::in_vietnam(js_sys::Date::now() as i64)
}

/// The scopes a user may choose: every unit they read, in tree order (indented by depth), then
/// the clusters of those units.
fn scopes(tree: &UnitTree, readable: &[String]) -> Vec<(String, String)> {
    fn walk(tree: &UnitTree, code: &str, depth: usize, readable: &[String], out: &mut Vec<(String, String)>) {
        let Some(unit) = tree.get(code) else { return };
        if readable.iter().any(|r| r == code) {
            out.push((format!("u:{code}"), format!("{}{}", "\u{2003}".repeat(depth), unit.name)));
        }
        let mut children: Vec<_> = tree.children(code).collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for child in children {
            walk(tree, &child.code, depth + 1, readable, out);
        }
    }
    let mut out = Vec::new();
    let mut roots: Vec<_> = tree.roots().collect();
    roots.sort_by(|a, b| a.name.cmp(&b.name));
    for root in roots {
        walk(tree, &root.code, 0, readable, &mut out);
    }
    let mut clusters: Vec<_> = tree.clusters().collect();
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    for c in clusters {
        out.push((format!("c:{}", c.code), tf("Cụm thi đua: {}", &[&c.name])));
    }
    out
}

fn parse_scope(value: &str) -> Option<Scope> {
    match value.split_once(':')? {
        ("u", code) => Some(Scope::Unit(code.to_string())),
        ("c", code) => Some(Scope::Cluster(code.to_string())),
        _ => None,
    }
}

fn year_of(text: &str) -> Result<u16, String> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|y| (1945..=2200).contains(y))
        .ok_or_else(|| tf("Năm “{}” không hợp lệ: hãy nhập năm có 4 chữ số, ví dụ 2026.", &[&text.trim()]))
}

fn date_of(text: &str, what: &'static str) -> Result<Date, String> {
    Date::parse(text.trim()).ok_or_else(|| tf("Hãy chọn {}.", &[&t(what)]))
}

fn dimension_code(d: Dimension) -> &'static str {
    match d {
        Dimension::Unit => "unit",
        Dimension::Field => "field",
        Dimension::OwnerKind => "owner",
        Dimension::Level => "level",
        Dimension::Year => "year",
        Dimension::Status => "status",
    }
}

/// A breakdown's heading: "Theo " and the dimension's label in lower case, whole (a text to
/// translate).
fn by_dimension(d: Dimension) -> &'static str {
    match d {
        Dimension::Unit => "Theo đơn vị",
        Dimension::Field => "Theo lĩnh vực",
        Dimension::OwnerKind => "Theo loại chủ thể",
        Dimension::Level => "Theo cấp",
        Dimension::Year => "Theo năm",
        Dimension::Status => "Theo tình trạng",
    }
}

fn dimension_of(code: &str) -> Dimension {
    Dimension::ALL.into_iter().find(|d| dimension_code(*d) == code).unwrap_or(Dimension::Unit)
}

#[component]
pub fn ReportPage(input: RwSignal<ReportInput>) -> impl IntoView {
    let tree = Memo::new(move |_| input.with(|i| readable_tree(i.units.clone(), i.clusters.clone(), &i.readable)));
    let scope_options = Memo::new(move |_| input.with(|i| tree.with(|t| scopes(t, &i.readable))));
    let scope = RwSignal::new(scope_options.with_untracked(|o| o.first().map(|(v, _)| v.clone()).unwrap_or_default()));
    let now = today();
    let kind = RwSignal::new(if now.month <= 7 { "half" } else { "year" }.to_string());
    let year = RwSignal::new(now.year.to_string());
    let first_year = RwSignal::new("2009".to_string());
    let last_year = RwSignal::new(now.year.to_string());
    let from = RwSignal::new(format!("{}-01-01", now.year));
    let to = RwSignal::new(now.to_string());
    let coverage_level = RwSignal::new(Level::Grassroots.code().to_string());
    let rows = RwSignal::new(Dimension::Unit);
    let columns = RwSignal::new(Dimension::Status);
    let cell = RwSignal::new(None::<(String, String)>);
    let source = RwSignal::new(Source::Device);
    let print_settings = RwSignal::new(PrintSettings::load());

    let request = Memo::new(move |_| -> Result<ReportRequest, String> {
        let scope = parse_scope(&scope.get()).ok_or(t("Hãy chọn đơn vị hoặc cụm thi đua."))?;
        let period = match kind.get().as_str() {
            "half" => Period::first_half(year_of(&year.get())?),
            "year" => Period::year(year_of(&year.get())?),
            "years" => Period::years(year_of(&first_year.get())?, year_of(&last_year.get())?).map_err(|e| tr(&e))?,
            "asof" => Period::as_of(date_of(&to.get(), "ngày tính đến")?),
            _ => Period::range(date_of(&from.get(), "ngày bắt đầu")?, date_of(&to.get(), "ngày kết thúc")?).map_err(|e| tr(&e))?,
        };
        let mut request = ReportRequest::new(scope, period);
        request.rows = rows.get();
        request.columns = columns.get();
        request.coverage_level = Level::from_code(&coverage_level.get()).unwrap_or(Level::Grassroots);
        request.cell = cell.get();
        Ok(request)
    });
    // Another choice of rows, columns or scope makes a chosen cell meaningless.
    Effect::new(move |_| {
        let _ = (rows.get(), columns.get(), scope.get());
        cell.set(None);
    });

    let device_sheet = Memo::new(move |_| {
        if source.get() != Source::Device {
            return None;
        }
        Some(request.get().map(|r| input.with(|i| tree.with(|t| r.run(t, &i.facts)))))
    });
    let server_sheet = LocalResource::new(move || {
        let (wanted, request, token) = (source.get() == Source::Server, request.get(), input.with(|i| i.token.clone()));
        async move {
            if !wanted {
                return None;
            }
            let request = match request {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let Some(token) = token else {
                return Some(Err(t("Phiên đăng nhập đã hết: hãy đăng nhập lại để lấy số liệu từ máy chủ.").to_string()));
            };
            let answer = http::call::<ReportSheet>(reqwest::Method::POST, "/api/reports", Some(&token), http::json(&request)).await;
            // With when it was answered, for the page's "lấy lúc …".
            Some(answer.map(|s| (s, js_sys::Date::now() as i64)).map_err(|f| tr(&f.message)))
        }
    });
    // Contests are few and small; the device holds every one the user may read (organised in
    // their units, or with their teams), so their prizes join a server's sheet too.
    let contests = Memo::new(move |_| input.with(|i| i.contests.iter().filter_map(|json| serde_json::from_str::<Contest>(json).ok()).collect::<Vec<_>>()));
    let sheet = Memo::new(move |_| {
        let sheet = match source.get() {
            Source::Device => device_sheet.get(),
            Source::Server => server_sheet.get().flatten().map(|answer| answer.map(|(s, _)| s)),
        };
        sheet.map(|s| {
            s.map(|mut s| {
                s.contest_prizes = contests.with(|c| tree.with(|t| contest_prizes(t, &s.request.scope, &s.request.period, c)));
                s
            })
        })
    });

    let provenance = move || match source.get() {
        Source::Device => input.with(|i| {
            let synced = i.synced_at_ms.map_or(t("chưa đồng bộ lần nào").to_string(), |ms| tf("đồng bộ lúc {}", &[&crate::client::date_time(ms)]));
            let pending = if i.pending > 0 { format!("; {}", tf("{} mô hình có thay đổi chưa gửi lên máy chủ", &[&n(i.pending)])) } else { String::new() };
            tf("Số liệu trên thiết bị này, {}{}. Thiết bị chỉ có mô hình của các đơn vị bạn được xem.", &[&synced, &pending])
        }),
        Source::Server => match server_sheet.get() {
            Some(Some(Ok((_, at)))) => tf("Số liệu từ máy chủ, lấy lúc {}.", &[&crate::client::date_time(at)]),
            _ => t("Đang lấy số liệu từ máy chủ…").to_string(),
        },
    };
    let online = move || input.with(|i| i.online && i.token.is_some());

    view! {
        <section class="page report">
            <div class="report-screen">
                <h1>{t("Báo cáo")}</h1>
                <div class="report-controls">
                    <label class="field"><span>{t("Đơn vị hoặc cụm")}</span>
                        <select id="report-scope" on:change=move |ev| scope.set(event_target_value(&ev)) prop:value=move || scope.get()>
                            {move || scope_options.get().into_iter().map(|(v, label)| {
                                let selected = scope.get_untracked() == v;
                                view! { <option value=v selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field"><span>{t("Kỳ báo cáo")}</span>
                        <select id="report-kind" on:change=move |ev| kind.set(event_target_value(&ev)) prop:value=move || kind.get()>
                            <option value="half">{t("Sơ kết 6 tháng đầu năm")}</option>
                            <option value="year">{t("Tổng kết năm")}</option>
                            <option value="years">{t("Giai đoạn (nhiều năm)")}</option>
                            <option value="range">{t("Khoảng ngày")}</option>
                            <option value="asof">{t("Tính đến ngày")}</option>
                        </select>
                    </label>
                    <Show when=move || matches!(kind.get().as_str(), "half" | "year")>
                        <label class="field"><span>{t("Năm")}</span>
                            <input id="report-year" type="number" inputmode="numeric" min="1945" max="2200" prop:value=move || year.get() on:input=move |ev| year.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                    <Show when=move || kind.get() == "years">
                        <label class="field"><span>{t("Từ năm")}</span>
                            <input id="report-first-year" type="number" inputmode="numeric" prop:value=move || first_year.get() on:input=move |ev| first_year.set(event_target_value(&ev))/>
                        </label>
                        <label class="field"><span>{t("Đến năm")}</span>
                            <input id="report-last-year" type="number" inputmode="numeric" prop:value=move || last_year.get() on:input=move |ev| last_year.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                    <Show when=move || kind.get() == "range">
                        <label class="field"><span>{t("Từ ngày")}</span>
                            <input id="report-from" type="date" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                    <Show when=move || matches!(kind.get().as_str(), "range" | "asof")>
                        <label class="field"><span>{move || if kind.get() == "asof" { t("Tính đến ngày") } else { t("Đến ngày") }}</span>
                            <input id="report-to" type="date" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                    <fieldset class="report-source">
                        <legend>{t("Nguồn số liệu")}</legend>
                        <label><input type="radio" name="report-source" prop:checked=move || source.get() == Source::Device on:change=move |_| source.set(Source::Device)/>" "{t("Trên thiết bị")}</label>
                        <label title=move || if online() { "" } else { t("Cần có mạng và phiên đăng nhập còn hiệu lực") }>
                            <input id="report-source-server" type="radio" name="report-source" prop:disabled=move || !online() prop:checked=move || source.get() == Source::Server on:change=move |_| source.set(Source::Server)/>
                            " "{t("Máy chủ (cả tỉnh, thành phố)")}
                        </label>
                    </fieldset>
                </div>
                <p class="provenance note">{provenance}</p>
                {move || match sheet.get() {
                    None => view! { <p class="loading">{t("Đang tính…")}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="warning" role="alert">{e}</p> }.into_any(),
                    Some(Ok(s)) => view! { <SheetView sheet=s rows columns cell coverage_level input print_settings/> }.into_any(),
                }}
            </div>
            {move || sheet.get().and_then(Result::ok).map(|s| view! { <PrintDocument sheet=s settings=print_settings/> })}
        </section>
    }
}

#[component]
fn SheetView(
    sheet: ReportSheet,
    rows: RwSignal<Dimension>,
    columns: RwSignal<Dimension>,
    cell: RwSignal<Option<(String, String)>>,
    coverage_level: RwSignal<String>,
    input: RwSignal<ReportInput>,
    print_settings: RwSignal<PrintSettings>,
) -> impl IntoView {
    let f = sheet.figures.clone();
    let period = sheet.request.period;
    let title = format!("{} — {}", capitalise(&tr(&period.label())), sheet.scope_name);
    let draft = draft_text(&sheet).join("\n\n");
    let copied = RwSignal::new(None::<&'static str>);
    let draft_for_copy = draft.clone();
    // The clipboard exists only on a secure origin; on a plain-http LAN address the text is
    // selected instead, for the phone's own "Sao chép".
    let copy = move |_| {
        let Some(w) = web_sys::window() else { return };
        let navigator = w.navigator();
        let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).is_ok_and(|c| !c.is_undefined() && !c.is_null());
        if has_clipboard {
            let _ = navigator.clipboard().write_text(&draft_for_copy);
            copied.set(Some(t("Đã sao chép")));
        } else if let Some(area) = w.document().and_then(|d| d.get_element_by_id("report-draft")) {
            use wasm_bindgen::JsCast;
            if let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() {
                area.select();
                copied.set(Some(t("Đã chọn đoạn văn: bấm giữ rồi chọn “Sao chép”")));
            }
        }
    };
    let by = |d: Dimension| sheet.breakdown(d).map(|b| b.rows.clone()).unwrap_or_default();
    let field_bars: Vec<(String, usize)> = by(Dimension::Field).into_iter().map(|r| (tr(&r.label), r.figures.total)).collect();
    let unit_bars: Vec<(String, usize)> = by(Dimension::Unit).into_iter().map(|r| (r.label, r.figures.total)).collect();
    // A model's year is its registration year: each year's total is what that year registered
    // (still in the registry at the period's end).
    let year_line: Vec<(String, usize)> = by(Dimension::Year).into_iter().map(|r| (r.label, r.figures.total)).collect();
    // States no model is in would be a column of empty bars.
    let status_bars: Vec<(String, usize)> = f.by_status.iter().filter(|(_, v)| *v > 0).map(|(s, v)| (t(s.label()).to_string(), *v)).collect();
    let coverage = sheet.coverage.clone();
    let registered_label = match period.kind {
        PeriodKind::AsOf => t("Đã đăng ký (đến ngày này)").to_string(),
        _ => tf("Đăng ký trong {}", &[&tr(&period.label())]),
    };
    let as_of = shown(period.to);
    let table_names: Vec<String> = files::tables(&sheet).into_iter().map(|table| table_title(&table.title)).collect();
    let stored = StoredValue::new(sheet.clone());
    let (export_error, csv_table) = (RwSignal::new(None::<String>), RwSignal::new(0usize));

    view! {
        <h2 class="report-title">{title}</h2>
        <p class="muted">{tf("Tính từ {} mô hình của phạm vi này.", &[&n(sheet.models)])}</p>
        <dl class="figures" id="report-figures">
            <div class="figure big"><dt>{registered_label}</dt><dd data-figure="registered">{n(f.registered)}</dd></div>
            <div class="figure big"><dt>{tf("Tổng số mô hình tính đến {}", &[&as_of])}</dt><dd data-figure="total">{n(f.total)}</dd></div>
            <div class="figure big"><dt>{t("Được công nhận trong kỳ")}</dt><dd data-figure="recognised_in_period">{n(f.recognised_in_period)}</dd></div>
            <div class="figure big"><dt>{t("Điển hình (tính đến cuối kỳ)")}</dt><dd data-figure="exemplary">{n(f.exemplary())}</dd></div>
            <div class="figure big"><dt>{t("Lượt khen thưởng trong kỳ")}</dt><dd data-figure="commendations">{n(f.commendations())}</dd></div>
            <div class="figure big"><dt>{t("Mô hình được nhân rộng trong kỳ")}</dt><dd data-figure="replicated">{tf("{} ({} điểm)", &[&n(f.replicated_models), &n(f.replication_points)])}</dd></div>
        </dl>
        <details class="more-figures">
            <summary>{t("Chi tiết theo tình trạng, cấp và hình thức khen thưởng")}</summary>
            <table class="report-table">
                <tbody>
                    {f.by_status.iter().map(|(s, v)| view! { <tr><th scope="row">{tf("{} (tính đến {})", &[&t(s.label()), &as_of])}</th><td class="num" data-status=s.code()>{n(*v)}</td></tr> }).collect_view()}
                    {f.exemplary_by_level.iter().map(|(l, v)| view! { <tr><th scope="row">{tf("Điển hình {}", &[&t(l.label()).to_lowercase()])}</th><td class="num">{n(*v)}</td></tr> }).collect_view()}
                    {f.commendations_by_form.iter().map(|(k, v)| view! { <tr><th scope="row">{t(k.label())}</th><td class="num">{n(*v)}</td></tr> }).collect_view()}
                    <tr><th scope="row">{t("Mô hình được khen thưởng trong kỳ")}</th><td class="num">{n(f.commended_models)}</td></tr>
                </tbody>
            </table>
        </details>

        <h3>{t("Độ phủ")}</h3>
        <div class="coverage">
            <label class="field inline"><span>{t("Đơn vị cấp")}</span>
                <select id="report-coverage-level" on:change=move |ev| coverage_level.set(event_target_value(&ev)) prop:value=move || coverage_level.get()>
                    {Level::ALL.iter().map(|l| view! { <option value=l.code() selected=coverage_level.get_untracked() == l.code()>{t(l.label())}</option> }).collect_view()}
                </select>
            </label>
            <p class="coverage-figure" id="report-coverage"><strong>{format!("{}/{}", n(coverage.registering), n(coverage.units))}</strong>
                " "{tf("đơn vị {} có đăng ký mô hình trong kỳ", &[&t(coverage.level.label()).to_lowercase()])}</p>
            {(!coverage.missing.is_empty()).then(|| view! {
                <details><summary>{tf("{} đơn vị chưa đăng ký", &[&n(coverage.missing.len())])}</summary>
                    <ul class="plain">{coverage.missing.iter().map(|(_, name)| view! { <li>{name.clone()}</li> }).collect_view()}</ul>
                </details>
            })}
        </div>

        <Completeness scope=sheet.request.scope.clone() input/>

        <h3>{t("Biểu đồ")}</h3>
        <div class="charts">
            <figure><figcaption>{t("Mô hình theo lĩnh vực")}</figcaption><BarChartView items=field_bars/></figure>
            <figure><figcaption>{tf("Mô hình theo tình trạng (tính đến {})", &[&as_of])}</figcaption><BarChartView items=status_bars/></figure>
            <figure><figcaption>{t("Mô hình đăng ký theo năm")}</figcaption><LineChartView points=year_line/></figure>
            <figure><figcaption>{t("Mô hình theo đơn vị")}</figcaption><BarChartView items=unit_bars/></figure>
        </div>

        <h3>{t("Bảng tổng hợp")}</h3>
        <PivotView sheet=sheet.clone() rows columns cell/>

        <h3>{t("Theo từng nhóm")}</h3>
        {BREAKDOWNS.into_iter().map(|d| {
            let rows = by(d);
            view! {
                <details class="breakdown">
                    <summary>{t(by_dimension(d))}</summary>
                    <div class="table-scroll"><table class="report-table">
                        <thead><tr><th scope="col">{t(d.label())}</th><th scope="col">{t("Đăng ký trong kỳ")}</th><th scope="col">{t("Tổng số")}</th><th scope="col">{t("Được công nhận")}</th><th scope="col">{t("Điển hình")}</th><th scope="col">{t("Khen thưởng")}</th><th scope="col">{t("Nhân rộng")}</th></tr></thead>
                        <tbody>{rows.into_iter().map(|r| {
                            let g = &r.figures;
                            view! { <tr><th scope="row">{tr(&r.label)}</th><td class="num">{n(g.registered)}</td><td class="num">{n(g.total)}</td><td class="num">{n(g.recognised())}</td><td class="num">{n(g.exemplary())}</td><td class="num">{n(g.commendations())}</td><td class="num">{n(g.replicated_models)}</td></tr> }
                        }).collect_view()}</tbody>
                    </table></div>
                </details>
            }
        }).collect_view()}

        <h3>{t("Phụ lục")}</h3>
        <details class="annex" id="annex-exemplary">
            <summary>{tf("Mô hình điển hình ({})", &[&n(sheet.exemplary.len())])}</summary>
            <ol>{sheet.exemplary.iter().map(|e| view! { <li><a href=format!("/mo-hinh/{}", e.model.id)>{e.model.name.clone()}</a>{format!(" — {}; {}", e.model.unit_name, t(e.level.label()))}</li> }).collect_view()}</ol>
        </details>
        <details class="annex" id="annex-commendations">
            <summary>{tf("Khen thưởng trong kỳ ({})", &[&n(sheet.commendations.len())])}</summary>
            <div class="table-scroll"><table class="report-table">
                <thead><tr><th scope="col">{t("Mô hình")}</th><th scope="col">{t("Hình thức")}</th><th scope="col">{t("Cơ quan khen")}</th><th scope="col">{t("Số quyết định")}</th><th scope="col">{t("Ngày")}</th></tr></thead>
                <tbody>{sheet.commendations.iter().map(|c| view! {
                    <tr><td>{c.model.name.clone()}<br/><span class="muted">{c.model.unit_name.clone()}</span></td><td>{t(c.form.label())}</td><td>{c.issuer.clone()}</td><td>{c.decision_number.clone()}</td><td>{shown(c.on)}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        </details>
        <details class="annex" id="annex-replicated">
            <summary>{tf("Mô hình được nhân rộng trong kỳ ({})", &[&n(sheet.replicated.len())])}</summary>
            <ol>{sheet.replicated.iter().map(|r| view! {
                <li><a href=format!("/mo-hinh/{}", r.model.id)>{r.model.name.clone()}</a>{format!(" — {}; {}", r.model.unit_name, tf("nhân rộng tại: {}", &[&r.points.iter().map(|(u, d)| format!("{u} ({})", shown(*d))).collect::<Vec<_>>().join(", ")]))}</li>
            }).collect_view()}</ol>
        </details>

        <details class="annex" id="annex-contests">
            <summary>{tf("Giải thưởng hội thi trong kỳ ({})", &[&n(sheet.contest_prizes.len())])}</summary>
            <p class="muted">{t("Giải của các đội thuộc phạm vi này ở các hội thi đã công bố kết quả trong kỳ, theo các hội thi có trên thiết bị.")}</p>
            <div class="table-scroll"><table class="report-table">
                <thead><tr><th scope="col">{t("Hội thi")}</th><th scope="col">{t("Giải")}</th><th scope="col">{t("Đội")}</th><th scope="col">{t("Ngày công bố")}</th></tr></thead>
                <tbody>{sheet.contest_prizes.iter().map(|p| view! {
                    <tr>
                        <td><a href=format!("/hoi-thi/{}", p.contest)>{p.contest_name.clone()}</a><br/><span class="muted">{format!("{} · {}", t(p.level.label()), p.organiser)}</span></td>
                        <td>{t(p.prize.label())}</td>
                        <td>{p.team.clone()}<br/><span class="muted">{p.unit_name.clone()}</span></td>
                        <td>{shown(p.published)}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table></div>
        </details>

        <h3>{t("Dự thảo nội dung báo cáo")}</h3>
        <textarea id="report-draft" class="draft" readonly rows="8">{draft}</textarea>
        <button type="button" class="button secondary" on:click=copy>{move || copied.get().unwrap_or(t("Sao chép"))}</button>

        <h3>{t("In và xuất tệp")}</h3>
        <PrintSettingsForm settings=print_settings scope_name=sheet.scope_name.clone() user=input.with_untracked(|i| i.display_name.clone())/>
        <div class="report-actions">
            <button type="button" id="report-print" class="button" on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>{t("In báo cáo (A4)")}</button>
            <button type="button" id="report-xlsx" class="button secondary" on:click=move |_| export_error.set(stored.with_value(files::download_report_xlsx).err())>{t("Tải XLSX (mọi bảng)")}</button>
        </div>
        <div class="report-actions">
            <label class="field inline"><span>{t("Bảng")}</span>
                <select id="report-csv-table" on:change=move |ev| csv_table.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {table_names.into_iter().enumerate().map(|(i, name)| view! { <option value=i.to_string()>{name}</option> }).collect_view()}
                </select>
            </label>
            <button type="button" id="report-csv" class="button secondary" on:click=move |_| export_error.set(stored.with_value(|s| files::download_report_csv(s, csv_table.get_untracked())).err())>{t("Tải CSV")}</button>
        </div>
        <p class="muted">{t("Tệp CSV mã hóa UTF-8 (có BOM) để Excel hiện đúng tiếng Việt; tệp XLSX có mỗi bảng một trang tính.")}</p>
        {move || export_error.get().map(|e| view! { <p class="warning" role="alert">{tr(&e)}</p> })}
    }
}

#[component]
fn PivotView(sheet: ReportSheet, rows: RwSignal<Dimension>, columns: RwSignal<Dimension>, cell: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let p = sheet.pivot.clone();
    let chosen = sheet.request.cell.clone();
    let dimension_select = move |id: &'static str, signal: RwSignal<Dimension>| {
        view! {
            <select id=id on:change=move |ev| signal.set(dimension_of(&event_target_value(&ev))) prop:value=move || dimension_code(signal.get())>
                {Dimension::ALL.iter().map(|d| view! { <option value=dimension_code(*d) selected=signal.get_untracked() == *d>{t(d.label())}</option> }).collect_view()}
            </select>
        }
    };
    let cell_label = chosen.as_ref().map(|(r, c)| {
        let find = |keys: &[(String, String)], k: &str| keys.iter().find(|(key, _)| key == k).map_or(k.to_string(), |(_, l)| tr(l));
        format!("{} × {}", find(&p.row_keys, r), find(&p.column_keys, c))
    });
    view! {
        <div class="pivot-choice">
            <label class="field inline"><span>{t("Hàng")}</span>{dimension_select("pivot-rows", rows)}</label>
            <label class="field inline"><span>{t("Cột")}</span>{dimension_select("pivot-columns", columns)}</label>
        </div>
        <p class="muted">{t("Số mô hình tính đến cuối kỳ. Bấm vào một ô để xem các mô hình trong ô đó.")}</p>
        <div class="table-scroll"><table class="report-table pivot" id="report-pivot">
            <thead><tr><th scope="col">{format!("{} \\ {}", t(p.rows.label()), t(p.columns.label()))}</th>
                {p.column_keys.iter().map(|(_, l)| view! { <th scope="col">{tr(l)}</th> }).collect_view()}
                <th scope="col">{t("Cộng")}</th></tr></thead>
            <tbody>
                {p.row_keys.iter().enumerate().map(|(r, (rk, rl))| view! {
                    <tr><th scope="row">{tr(rl)}</th>
                        {p.column_keys.iter().enumerate().map(|(c, (ck, _))| {
                            let v = p.cells[r][c];
                            let key = (rk.clone(), ck.clone());
                            let is_chosen = chosen.as_ref() == Some(&key);
                            view! { <td class="num">{if v == 0 { view! { <span class="zero">"0"</span> }.into_any() } else {
                                view! { <button type="button" class="cell" class:chosen=is_chosen on:click=move |_| cell.set(Some(key.clone()))>{n(v)}</button> }.into_any()
                            }}</td> }
                        }).collect_view()}
                        <td class="num total">{n(p.row_totals[r])}</td>
                    </tr>
                }).collect_view()}
                <tr class="totals"><th scope="row">{t("Cộng")}</th>
                    {p.column_totals.iter().map(|v| view! { <td class="num total">{n(*v)}</td> }).collect_view()}
                    <td class="num total" data-figure="pivot-total">{n(p.total)}</td></tr>
            </tbody>
        </table></div>
        {cell_label.map(|label| view! {
            <div class="cell-models" id="cell-models">
                <h4>{tf("{}: {} mô hình", &[&label, &n(sheet.cell_count)])}</h4>
                <ul class="plain">{sheet.cell_models.iter().map(|m| view! {
                    <li><a href=format!("/mo-hinh/{}", m.id)>{m.name.clone()}</a><span class="muted">{format!(" — {}, {}, {}", m.unit_name, tr(&m.field), m.year)}</span></li>
                }).collect_view()}</ul>
                {(sheet.cell_count > sheet.cell_models.len()).then(|| view! { <p class="muted">{tf("Hiện {} mô hình đầu tiên theo tên.", &[&n(sheet.cell_models.len())])}</p> })}
                <button type="button" class="button secondary" on:click=move |_| cell.set(None)>{t("Đóng danh sách")}</button>
            </div>
        })}
    }
}

/// What the printed report says of its issuer and signer (the document itself stays Vietnamese:
/// `print`).
#[component]
fn PrintSettingsForm(settings: RwSignal<PrintSettings>, scope_name: String, user: String) -> impl IntoView {
    // Sensible first values from the scope and the user, kept once changed.
    settings.update(|s| {
        if s.superior.is_empty() {
            s.superior = scope_name.to_uppercase();
        }
        if s.signer_name.is_empty() {
            s.signer_name = user.clone();
        }
    });
    let text = move |id: &'static str, label: &'static str, get: fn(&PrintSettings) -> String, set: fn(&mut PrintSettings, String)| {
        view! {
            <label class="field"><span>{t(label)}</span>
                <input id=id type="text" prop:value=move || settings.with(get)
                       on:change=move |ev| settings.update(|s| { set(s, event_target_value(&ev)); s.save(); })/>
            </label>
        }
    };
    view! {
        <details class="print-settings">
            <summary>{t("Thông tin văn bản in (thể thức, cơ quan, số, người ký)")}</summary>
            <fieldset class="print-layout">
                <legend>{t("Thể thức")}</legend>
                <label><input type="radio" name="print-layout" prop:checked=move || settings.with(|s| s.layout == "dang")
                    on:change=move |_| settings.update(|s| { s.layout = "dang".into(); s.save(); })/>" "{t("Văn bản của Đảng (HD 36-HD/VPTW)")}</label>
                <label><input id="print-layout-state" type="radio" name="print-layout" prop:checked=move || settings.with(|s| s.layout == "nha_nuoc")
                    on:change=move |_| settings.update(|s| { s.layout = "nha_nuoc".into(); s.save(); })/>" "{t("Văn bản hành chính nhà nước (NĐ 30/2020/NĐ-CP)")}</label>
            </fieldset>
            {text("print-superior", "Cơ quan cấp trên", |s| s.superior.clone(), |s, v| s.superior = v)}
            {text("print-issuer", "Cơ quan ban hành", |s| s.issuer.clone(), |s, v| s.issuer = v)}
            {text("print-number", "Số, ký hiệu", |s| s.number.clone(), |s, v| s.number = v)}
            {text("print-place", "Địa danh", |s| s.place.clone(), |s, v| s.place = v)}
            {text("print-signer-role", "Quyền hạn ký (T/M, K/T…)", |s| s.signer_role.clone(), |s, v| s.signer_role = v)}
            {text("print-signer-title", "Chức vụ người ký", |s| s.signer_title.clone(), |s, v| s.signer_title = v)}
            {text("print-signer-name", "Họ tên người ký", |s| s.signer_name.clone(), |s, v| s.signer_name = v)}
            <label class="field"><span>{t("Nơi nhận (mỗi dòng một nơi)")}</span>
                <textarea id="print-recipients" rows="3" prop:value=move || settings.with(|s| s.recipients.clone())
                          on:change=move |ev| settings.update(|s| { s.recipients = event_target_value(&ev); s.save(); })></textarea>
            </label>
        </details>
    }
}

const COMPLETENESS_KEY: &str = "danvan.report.completeness";

/// Whose figures may be missing: units whose devices have not synced for N days. Only the server
/// knows; online the page asks it, offline it shows the last answer kept on this device, with
/// its time.
#[component]
fn Completeness(scope: Scope, input: RwSignal<ReportInput>) -> impl IntoView {
    use gloo_storage::{LocalStorage, Storage};
    let days = RwSignal::new(7u32);
    let query = match &scope {
        Scope::Unit(code) => format!("unit={}", js_sys::encode_uri_component(code)),
        Scope::Cluster(code) => format!("cluster={}", js_sys::encode_uri_component(code)),
    };
    let key = format!("{COMPLETENESS_KEY}.{query}");
    let answer = LocalResource::new(move || {
        let (token, online, query, key) = (input.with(|i| i.token.clone()), input.with(|i| i.online), query.clone(), key.clone());
        async move {
            let kept = || LocalStorage::get::<crate::api::Completeness>(&key).ok().map(|c| (c, true));
            let (Some(token), true) = (token, online) else { return kept() };
            match http::call::<crate::api::Completeness>(reqwest::Method::GET, &format!("/api/reports/completeness?{query}"), Some(&token), http::Body::None).await {
                Ok(c) => {
                    let _ = LocalStorage::set(&key, &c);
                    Some((c, false))
                }
                Err(_) => kept(),
            }
        }
    });
    view! {
        <h3>{t("Mức độ đầy đủ của số liệu")}</h3>
        <div class="completeness" id="report-completeness">
            {move || match answer.get().flatten() {
                None => view! { <p class="muted">{t("Cần có mạng (một lần) để biết thiết bị của đơn vị nào chưa đồng bộ; khi đó danh sách được giữ lại để xem khi không có mạng.")}</p> }.into_any(),
                Some((c, kept)) => {
                    let limit = c.now_ms - i64::from(days.get()) * 86_400_000;
                    let late: Vec<_> = c.units.iter().filter(|u| u.last_sync_ms.is_none_or(|t| t < limit)).cloned().collect();
                    let total = c.units.len();
                    view! {
                        <label class="field inline"><span>{t("Chưa đồng bộ trong")}</span>
                            <input id="completeness-days" type="number" min="1" max="365" inputmode="numeric" class="days"
                                   prop:value=move || days.get().to_string()
                                   on:input=move |ev| { if let Ok(d) = event_target_value(&ev).parse::<u32>() { days.set(d.clamp(1, 365)) } }/>
                            <span>{t("ngày")}</span>
                        </label>
                        <p>{if late.is_empty() {
                            tf("Cả {} đơn vị đều đã đồng bộ trong {} ngày qua: số liệu đầy đủ.", &[&n(total), &days.get_untracked()])
                        } else {
                            tf("{}/{} đơn vị có thiết bị chưa đồng bộ trong {} ngày qua — số liệu của các đơn vị này có thể còn thiếu:", &[&n(late.len()), &n(total), &days.get_untracked()])
                        }}</p>
                        {(!late.is_empty()).then(|| view! {
                            <ul class="plain">{late.into_iter().map(|u| view! {
                                <li>{u.name.clone()}<span class="muted">{match u.last_sync_ms {
                                    Some(at) => format!(" — {}", tf("lần cuối {}", &[&crate::client::date_time(at)])),
                                    None => format!(" — {}", t("chưa đồng bộ lần nào")),
                                }}</span></li>
                            }).collect_view()}</ul>
                        })}
                        {kept.then(|| view! { <p class="muted">{tf("Theo máy chủ lúc {} (đang không có mạng).", &[&crate::client::date_time(c.now_ms)])}</p> })}
                    }.into_any()
                }
            }}
        </div>
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// A table's title as `export::report` writes it ("{what} – {scope}, {period}") in the interface's
/// language: what it counts and the period translated, the unit's name as it is. (The files keep
/// the Vietnamese title: they are the administrative document.)
fn table_title(title: &str) -> String {
    let parts = title.split_once(" – ").and_then(|(what, rest)| rest.rsplit_once(", ").map(|(scope, period)| (what, scope, period)));
    match parts {
        Some((what, scope, period)) => format!("{} – {scope}, {}", tr(what), tr(period)),
        None => tr(title),
    }
}
