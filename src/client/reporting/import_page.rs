//! The import page (`/nhap-tu-tep`), rendered by the on-demand module: bring a unit's old model
//! list in from a spreadsheet, on the device (offline too). The file is read here (calamine and
//! the CSV decoders are in this module only); what each column holds, the preview and the row
//! errors come from `crate::import` with the user's own grants (the rule the server will apply,
//! `check_import`). The good rows are handed back to the app in batches (`write`, JSON of
//! `Vec<Model>`), which makes them documents of its replica (`Replica::import`) that sync as usual:
//! this module holds no replica and no automerge. Thin: the page only shows the plan and asks.
//!
//! Online, the same file can go to the server instead (`POST /api/import/models`, the path of
//! `danvan-server import-models`): for a list of thousands of rows the server writes in seconds
//! what a phone would write in minutes, and the models come back to the device through sync (the
//! page asks the app for a round, `sync_now`). The mapping chosen here travels with the file, so
//! the server reads it as the preview showed; the server checks every row again with the same
//! rules.

use std::collections::HashSet;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, JsValue};

use super::input::ImportInput;
use crate::api::ImportResult;
use crate::client::net::http::{self, Body};
use crate::domain::{Access, Model, UnitTree};
use crate::i18n::{count, t, tf, tr};
use crate::import::{Column, Importer, Mapping, Plan, Sheet, Target, plan, spreadsheet_column};

/// Models written per IndexedDB transaction (the progress moves between them).
const BATCH: usize = 100;
/// Good rows shown in the preview.
const PREVIEW_ROWS: usize = 10;

#[derive(Clone, PartialEq)]
enum Progress {
    Idle,
    Reading,
    Importing { done: usize, total: usize },
    Done { created: usize, already: usize },
    /// The file is with the server (sent, and being read and written there).
    Sending,
    SentDone(ImportResult),
    Failed(String),
}

/// Files the server reads (`read_upload`): the others are imported on the device only.
fn server_reads(file_name: &str) -> bool {
    let lower = file_name.to_lowercase();
    [".xlsx", ".xlsm", ".csv", ".txt", ".tsv"].iter().any(|e| lower.ends_with(e))
}

/// The query of `POST /api/import/models` (`api::ImportRequest`).
fn import_query(file_name: &str, mapping: &Mapping, good_rows_only: bool, custom_fields: &[String]) -> String {
    let codes: Vec<&str> = mapping.0.iter().map(|t| t.code()).collect();
    let encode = |s: &str| String::from(js_sys::encode_uri_component(s));
    let columns = serde_json::to_string(&codes).unwrap_or_default();
    let fields = serde_json::to_string(custom_fields).unwrap_or_default();
    format!(
        "/api/import/models?file={}&good_rows_only={good_rows_only}&columns={}&custom_fields={}",
        encode(file_name),
        encode(&columns),
        encode(&fields)
    )
}

/// The app's side: `write` takes a batch of models (`api::to_bytes`) and returns a promise of how many were
/// new on the device; `sync_now` asks for a sync round.
#[derive(Clone)]
pub struct AppCalls {
    pub write: js_sys::Function,
    pub sync_now: js_sys::Function,
}

/// Hands one batch to the app's replica; how many were new there, or the reason it stopped.
async fn write(calls: &AppCalls, models: &[Model]) -> Result<usize, String> {
    let promise: js_sys::Promise = calls.write.call1(&JsValue::NULL, &crate::client::engine::api::to_js(&models)).map_err(|e| describe(&e))?.dyn_into().map_err(|e| describe(&e))?;
    let created = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| describe(&e))?;
    Ok(created.as_f64().unwrap_or(0.0) as usize)
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// " (3 đã có từ trước, giữ nguyên)" after a count of new models; nothing when there are none.
fn kept_as_they_were(already: usize) -> String {
    if already > 0 { format!(" {}", tf("({} đã có từ trước, giữ nguyên)", &[&count(already)])) } else { String::new() }
}

fn browser_online() -> bool {
    web_sys::window().is_some_and(|w| w.navigator().on_line())
}

#[component]
pub fn ImportPage(input: ImportInput, calls: AppCalls) -> impl IntoView {
    let input = StoredValue::new(input);
    let calls = StoredValue::new(SendWrapper::new(calls));
    let may_import = move || input.with_value(|i| i.may_import);
    // Models already on the device (imported before, or synced from the server's import), and
    // those this page has written since.
    let on_device = RwSignal::new(input.with_value(|i| i.on_device.iter().cloned().collect::<HashSet<String>>()));
    // The browser's word, kept current (the server's import is offered only online).
    let online = RwSignal::new(input.with_value(|i| i.online) && browser_online());
    let _online = leptos::prelude::window_event_listener(leptos::ev::online, move |_| online.set(true));
    let _offline = leptos::prelude::window_event_listener(leptos::ev::offline, move |_| online.set(false));

    // The sheet is large and never edited: kept out of the reactive graph, with a counter to
    // say it changed.
    let sheet = StoredValue::new(SendWrapper::new(None::<Sheet>));
    // The file as chosen, for the server's import (it reads the file itself).
    let file_bytes = StoredValue::new(SendWrapper::new(None::<Vec<u8>>));
    let file_name = RwSignal::new(String::new());
    let loaded = RwSignal::new(0u32);
    let mapping = RwSignal::new(Mapping(Vec::new()));
    let good_rows_only = RwSignal::new(false);
    let progress = RwSignal::new(Progress::Idle);
    let read_error = RwSignal::new(None::<String>);

    let headers = move || {
        loaded.track();
        sheet.with_value(|s| s.as_ref().as_ref().map(|s| s.headers.clone()).unwrap_or_default())
    };
    let problems = Memo::new(move |_| mapping.with(|m| m.problems(&headers())));

    // The plan for the file as mapped now, against the user's grants (recomputed only when the
    // file or the mapping changes).
    // Never compared: a new plan is a change (plans hold thousands of models).
    let planned = Memo::new_with_compare(move |_| -> Option<SendWrapper<Plan>> {
        loaded.track();
        if !problems.with(Vec::is_empty) {
            return None;
        }
        let now = js_sys::Date::now() as i64;
        input.with_value(|i| {
            let tree = UnitTree::from_units(i.user.units.clone(), i.user.clusters.clone());
            let access = Access::new(&i.user.grants, &tree);
            let name = file_name.get_untracked();
            let who = Importer {
                username: &i.user.username,
                display_name: &i.user.display_name,
                access: &access,
                tree: &tree,
                custom_fields: &i.custom_fields,
                file_name: &name,
                now_ms: now,
            };
            let out = sheet.with_value(|s| s.as_ref().as_ref().map(|s| mapping.with(|m| plan(s, m, &who))));
            out.map(SendWrapper::new)
        })
    }, |_, _| true);
    // Good rows already on this device.
    let already = Memo::new(move |_| planned.with(|p| p.as_ref().map_or(0, |p| on_device.with(|ids| p.models.iter().filter(|m| ids.contains(&m.model.id)).count()))));

    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        read_error.set(None);
        progress.set(Progress::Reading);
        let name = file.name();
        leptos::task::spawn_local(async move {
            let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                Err(_) => {
                    read_error.set(Some(t("Trình duyệt không đọc được tệp đã chọn. Hãy chọn lại tệp.").into()));
                    progress.set(Progress::Idle);
                    return;
                }
            };
            // Let the page draw "Đang đọc tệp…" before the reading takes the thread.
            gloo_timers::future::TimeoutFuture::new(0).await;
            match crate::import::read::read_file(&name, &bytes).map_err(|e| e.to_string()) {
                Ok(s) => {
                    mapping.set(Mapping::guess(&s.headers));
                    sheet.set_value(SendWrapper::new(Some(s)));
                    file_bytes.set_value(SendWrapper::new(Some(bytes)));
                    file_name.set(name);
                    good_rows_only.set(false);
                    loaded.update(|n| *n += 1);
                }
                Err(e) => {
                    sheet.set_value(SendWrapper::new(None));
                    file_bytes.set_value(SendWrapper::new(None));
                    loaded.update(|n| *n += 1);
                    read_error.set(Some(e));
                }
            }
            progress.set(Progress::Idle);
        });
    };

    let start_import = move |_| {
        let Some(models_to_write) = planned.with_untracked(|p| p.as_ref().map(|p| p.models.iter().map(|m| m.model.clone()).collect::<Vec<_>>())) else { return };
        let calls = calls.get_value().take();
        let total = models_to_write.len();
        progress.set(Progress::Importing { done: 0, total });
        leptos::task::spawn_local(async move {
            let mut created = 0;
            for (n, batch) in models_to_write.chunks(BATCH).enumerate() {
                match write(&calls, batch).await {
                    Ok(c) => {
                        created += c;
                        on_device.update(|ids| ids.extend(batch.iter().map(|m| m.id.clone())));
                    }
                    Err(e) => {
                        progress.set(Progress::Failed(tf(
                            "Đã nhập {} mô hình thì dừng vì: {}. Các mô hình đã nhập vẫn được giữ; chọn lại tệp và nhập lại sẽ tiếp tục từ chỗ dừng, không tạo trùng.",
                            &[&count(created), &tr(&e)],
                        )));
                        return;
                    }
                }
                progress.set(Progress::Importing { done: (n * BATCH + batch.len()).min(total), total });
                // Let the page draw the progress between batches.
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            progress.set(Progress::Done { created, already: total - created });
        });
    };

    let send_to_server = move |_| {
        let Some(bytes) = file_bytes.with_value(|b| Option::clone(b)) else { return };
        let (token, custom) = input.with_value(|i| (i.token.clone(), i.custom_fields.clone()));
        let path = mapping.with_untracked(|m| import_query(&file_name.get_untracked(), m, good_rows_only.get_untracked(), &custom));
        let sync_now = calls.with_value(|c| c.sync_now.clone());
        progress.set(Progress::Sending);
        leptos::task::spawn_local(async move {
            match http::call::<ImportResult>(reqwest::Method::POST, &path, token.as_deref(), Body::File(bytes)).await {
                Ok(result) => {
                    if result.written {
                        // Bring the new models to this device now rather than at the next round.
                        let _ = sync_now.call0(&JsValue::NULL);
                    }
                    progress.set(Progress::SentDone(result));
                }
                Err(e) => {
                    let mut message = tr(&e.message);
                    for p in e.problems {
                        message.push(' ');
                        message.push_str(&tr(&p));
                    }
                    progress.set(Progress::Failed(tf("Máy chủ chưa nhập tệp: {} Những gì đã có trên thiết bị không thay đổi.", &[&message])));
                }
            }
        });
    };

    let template = move |kind: &'static str| {
        move |_| {
            leptos::task::spawn_local(async move {
                if let Err(e) = super::files::download_import_template(kind) {
                    read_error.set(Some(e));
                }
            });
        }
    };

    let mapping_rows = move || {
        headers()
            .into_iter()
            .enumerate()
            .map(|(i, header)| {
                let current = mapping.with(|m| m.0.get(i).copied().unwrap_or(Target::Unknown));
                let id = format!("column-{i}");
                let value = current.code();
                let on_change = move |ev: leptos::ev::Event| {
                    let v = event_target_value(&ev);
                    let target = Target::from_code(&v).unwrap_or(Target::Unknown);
                    mapping.update(|m| m.set(i, target));
                };
                let unknown = current == Target::Unknown;
                view! {
                    <tr class:unknown=unknown>
                        <td>{spreadsheet_column(i)}</td>
                        <td><label for=id.clone()>{if header.is_empty() { t("(không có tiêu đề)").to_string() } else { header }}</label></td>
                        <td>
                            <select id=id on:change=on_change>
                                <option value="" selected=value.is_empty()>{t("— Chọn nội dung của cột —")}</option>
                                <option value=Target::Ignore.code() selected=value == Target::Ignore.code()>{t("Bỏ qua cột này")}</option>
                                {Column::ALL.into_iter().map(|c| view! {
                                    <option value=c.code() selected=value == c.code()>{t(c.label())}</option>
                                }).collect_view()}
                            </select>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };

    let summary = move || {
        planned.with(|p| {
            p.as_ref().map(|p| {
                let bad = p.bad_rows();
                let good = p.models.len();
                let already = already.get();
                let already = if already > 0 { format!(" {}", tf("(trong đó {} đã có trên thiết bị, sẽ giữ nguyên)", &[&count(already)])) } else { String::new() };
                tf("{} dòng có dữ liệu: {} dòng đúng{}, {} dòng lỗi.", &[&count(p.rows), &count(good), &already, &count(bad)])
            })
        })
    };
    let preview = move || {
        planned.with(|p| {
            p.as_ref().map(|p| {
                p.models
                    .iter()
                    .take(PREVIEW_ROWS)
                    .map(|row| {
                        let m = &row.model;
                        let recognised = m.transitions.iter().find(|t| t.action == "cong_nhan").and_then(|t| crate::domain::Level::from_code(&t.level));
                        let commended = m.commendations.first().map(|c| format!("{} {}", tr(c.form_label()), c.decision_number));
                        view! {
                            <tr>
                                <td>{row.line}</td>
                                <td>{m.name.clone()}</td>
                                <td>{m.unit_name.clone()}</td>
                                <td>{tr(crate::domain::field_label(&m.field))}</td>
                                <td>{m.year}</td>
                                <td>{t(m.status.label())}</td>
                                <td>{recognised.map(|l| t(l.label())).unwrap_or("")}</td>
                                <td>{commended.unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()
            })
        })
    };
    let errors = move || {
        planned.with(|p| {
            p.as_ref().map(|p| p.errors.iter().map(|e| view! { <li><strong>{tf("Dòng {}", &[&e.row])}</strong>": "{tr(&e.message)}</li> }).collect_view())
        })
    };
    let has_errors = move || planned.with(|p| p.as_ref().is_some_and(|p| !p.errors.is_empty()));
    let unknown_units = move || planned.with(|p| p.as_ref().map(|p| p.unknown_units.join("; ")).unwrap_or_default());
    let to_write = move || planned.with(|p| p.as_ref().map_or(0, |p| p.models.len())).saturating_sub(already.get());
    let can_import = move || {
        planned.with(|p| p.as_ref().is_some_and(|p| !p.models.is_empty()))
            && to_write() > 0
            && (!has_errors() || good_rows_only.get())
            && !matches!(progress.get(), Progress::Importing { .. } | Progress::Reading | Progress::Sending)
    };
    let busy = move || matches!(progress.get(), Progress::Importing { .. } | Progress::Reading | Progress::Sending);
    // The server's import: online, signed in, a file it reads; the same all-or-nothing rule.
    let signed_in = move || input.with_value(|i| i.token.is_some());
    let may_send = move || online.get() && signed_in() && server_reads(&file_name.get()) && file_bytes.with_value(|b| b.is_some());
    let can_send = move || {
        planned.with(|p| p.as_ref().is_some_and(|p| !p.models.is_empty())) && (!has_errors() || good_rows_only.get()) && !busy()
    };

    view! {
        <section class="page import-page">
            <h1>{t("Nhập mô hình từ tệp")}</h1>
            <Show when=may_import fallback=|| view! {
                <p class="warning" role="alert">{t("Tài khoản của bạn không có quyền nhập mô hình cho đơn vị nào.")}</p>
            }>
                <p class="hint">
                    {t("Chọn tệp Excel (.xlsx, .xls), LibreOffice (.ods) hoặc CSV (UTF-8) có một dòng tiêu đề và mỗi dòng một mô hình.")} " "
                    {t("Các cột theo thứ tự bất kỳ; tiêu đề tiếng Việt hoặc tiếng Anh. Việc nhập làm trên thiết bị, không cần mạng; mô hình được gửi lên máy chủ ở lần đồng bộ sau. Nhập lại cùng một tệp không tạo mô hình trùng.")}
                </p>
                <p class="import-actions">
                    <button type="button" class="button secondary" on:click=template("xlsx")>{t("Tải tệp mẫu (XLSX)")}</button>
                    <button type="button" class="button secondary" on:click=template("csv")>{t("Tải tệp mẫu (CSV)")}</button>
                </p>
                <div class="field">
                    <label for="import-file">{t("Tệp danh sách mô hình")}</label>
                    <input id="import-file" type="file" accept=".xlsx,.xlsm,.xls,.ods,.csv,.txt" disabled=busy on:change=on_file/>
                </div>
                <Show when=move || matches!(progress.get(), Progress::Reading)>
                    <p class="loading" role="status">{t("Đang đọc tệp…")}</p>
                </Show>
                {move || read_error.get().map(|e| view! { <p class="error" role="alert" id="import-read-error">{tr(&e)}</p> })}

                <Show when=move || { loaded.get() > 0 && !headers().is_empty() }>
                    <section class="item" aria-labelledby="import-columns-title">
                        <h2 id="import-columns-title">{move || tf("Các cột của tệp “{}”", &[&file_name.get()])}</h2>
                        <div class="table-wrap">
                            <table class="import-columns">
                                <thead><tr><th scope="col">{t("Cột")}</th><th scope="col">{t("Tiêu đề trong tệp")}</th><th scope="col">{t("Nội dung")}</th></tr></thead>
                                <tbody>{mapping_rows}</tbody>
                            </table>
                        </div>
                        <Show when=move || !problems.with(Vec::is_empty)>
                            <div class="form-errors" role="alert" id="import-column-problems">
                                <ul>{move || problems.get().into_iter().map(|p| view! { <li>{tr(&p)}</li> }).collect_view()}</ul>
                            </div>
                        </Show>
                    </section>
                </Show>

                <Show when=move || planned.with(Option::is_some)>
                    <section class="item" aria-labelledby="import-preview-title">
                        <h2 id="import-preview-title">{t("Xem trước")}</h2>
                        <p id="import-summary" role="status">{summary}</p>
                        <div class="table-wrap">
                            <table class="import-preview">
                                <caption>{t("Các dòng đúng đầu tiên, như sẽ được lưu")}</caption>
                                <thead><tr>
                                    <th scope="col">{t("Dòng")}</th><th scope="col">{t("Tên mô hình")}</th><th scope="col">{t("Đơn vị")}</th>
                                    <th scope="col">{t("Lĩnh vực")}</th><th scope="col">{t("Năm")}</th><th scope="col">{t("Tình trạng")}</th>
                                    <th scope="col">{t("Cấp công nhận")}</th><th scope="col">{t("Khen thưởng")}</th>
                                </tr></thead>
                                <tbody>{preview}</tbody>
                            </table>
                        </div>
                        <Show when=has_errors>
                            <div class="form-errors" role="alert">
                                <p>{t("Các dòng lỗi (sửa trong tệp rồi chọn lại tệp):")}</p>
                                <ul id="import-errors">{errors}</ul>
                                <Show when=move || !unknown_units().is_empty()>
                                    <p id="import-unknown-units">{move || tf("Đơn vị không tìm thấy hoặc ngoài quyền của bạn: {}.", &[&unknown_units()])}</p>
                                </Show>
                            </div>
                            <label class="import-choice" for="import-good-only">
                                <input id="import-good-only" type="checkbox"
                                    prop:checked=move || good_rows_only.get()
                                    on:change=move |ev| good_rows_only.set(event_target_checked(&ev))/>
                                {t("Chỉ nhập các dòng đúng, bỏ qua các dòng lỗi")}
                            </label>
                        </Show>
                        <p class="import-actions">
                            <button type="button" class="button primary" id="import-start" disabled=move || !can_import() on:click=start_import>
                                {move || tf("Nhập {} mô hình", &[&count(to_write())])}
                            </button>
                            <Show when=may_send>
                                <button type="button" class="button secondary" id="import-send" disabled=move || !can_send() on:click=send_to_server>
                                    {t("Nhập qua máy chủ")}
                                </button>
                            </Show>
                        </p>
                        <Show when=may_send>
                            <p class="hint" id="import-send-hint">
                                {t("Tệp lớn (hàng nghìn dòng): “Nhập qua máy chủ” gửi tệp lên để máy chủ nhập trong vài giây đến một phút, rồi các mô hình về thiết bị qua đồng bộ. Cần mạng trong lúc gửi.")}
                            </p>
                        </Show>
                    </section>
                </Show>

                {move || match progress.get() {
                    Progress::Importing { done, total } => view! {
                        <div role="status" id="import-progress">
                            <progress max=total.to_string() value=done.to_string()></progress>
                            <p>{tf("Đang nhập {} / {} mô hình…", &[&count(done), &count(total)])}</p>
                        </div>
                    }.into_any(),
                    Progress::Done { created, already } => view! {
                        <div class="ok" role="status" id="import-done">
                            <p>{tf(
                                "Đã nhập {} mô hình mới{}. Chúng đã lưu trên thiết bị này và sẽ được gửi lên máy chủ ở lần đồng bộ sau.",
                                &[&count(created), &kept_as_they_were(already)],
                            )}</p>
                            <p><a href="/">{t("Xem danh sách mô hình")}</a></p>
                        </div>
                    }.into_any(),
                    Progress::Sending => view! {
                        <div role="status" id="import-progress">
                            <progress></progress>
                            <p>{t("Đang gửi tệp lên máy chủ và nhập… Hãy giữ trang này mở.")}</p>
                        </div>
                    }.into_any(),
                    Progress::SentDone(r) if r.written => view! {
                        <div class="ok" role="status" id="import-done">
                            <p>{tf(
                                "Máy chủ đã nhập {} mô hình mới{}{}. Chúng đang về thiết bị này qua đồng bộ.",
                                &[
                                    &count(r.created),
                                    &kept_as_they_were(r.already),
                                    &if r.bad_rows > 0 { format!("; {}", tf("bỏ qua {} dòng lỗi", &[&count(r.bad_rows)])) } else { String::new() },
                                ],
                            )}</p>
                            <p><a href="/">{t("Xem danh sách mô hình")}</a></p>
                        </div>
                    }.into_any(),
                    Progress::SentDone(r) => view! {
                        <div class="form-errors" role="alert" id="import-server-errors">
                            <p>{if r.bad_rows > 0 {
                                tf("Máy chủ chưa nhập gì: {} dòng lỗi (sửa trong tệp rồi chọn lại tệp, hoặc chọn “Chỉ nhập các dòng đúng”).", &[&count(r.bad_rows)])
                            } else {
                                t("Máy chủ không có gì mới để nhập: mọi mô hình của tệp đã có.").to_string()
                            }}</p>
                            <ul>{r.errors.into_iter().map(|e| view! { <li>{tr(&e)}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any(),
                    Progress::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    _ => ().into_any(),
                }}
            </Show>
        </section>
    }
}
