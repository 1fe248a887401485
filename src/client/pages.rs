//! The screens. Thin: they read the replica's signals and call the replica to change documents.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::replica::SaveError;
use super::sync::{Arriving, SyncStatus};
use super::{date_time, settings, use_app};
use crate::domain::{
    FieldErrors, IndicatorDraft, Level, Model, ModelDraft, ModelFilter, OwnerKind, ReplicatedFrom, Replication, Status,
    draft_from, field_label, format_amount_vi, format_count_vi, format_date_vi, in_library, replication_points, source_of,
};

// ───────────────────────────── list ─────────────────────────────

/// Cards shown at first and added by each "Xem thêm".
const LIST_PAGE: usize = 100;

#[component]
pub fn ListPage() -> impl IntoView {
    view! { <ModelBrowser library=false/> }
}

/// `/thu-vien`: recognised, exemplary and commended models of other units, to learn from and
/// replicate.
#[component]
pub fn LibraryPage() -> impl IntoView {
    view! { <ModelBrowser library=true/> }
}

/// Search and filters over the models on this device: the user's own (their units' and those
/// they review), or the library.
#[component]
fn ModelBrowser(library: bool) -> impl IntoView {
    let app = use_app();
    let models = app.replica.models;
    let account = app.account;
    // Runs `f` over the models this list shows (the user's own, or the library), read in place:
    // a province's thousands of models are not copied at every change of the replica.
    let with_shown = move |f: &mut dyn FnMut(&mut dyn Iterator<Item = &Model>)| {
        account.with(|a| {
            let profile = a.as_ref().map(|a| &a.profile);
            models.with(|ms| {
                f(&mut ms.values().filter(|m| match profile {
                    None => !library,
                    Some(p) if library => in_library(m.status) && !p.writable.contains(&m.unit),
                    Some(p) => p.deals_with(&m.unit),
                }))
            })
        })
    };
    let settings = app.settings;
    let query = RwSignal::new(String::new());
    let field = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let year = RwSignal::new(String::new());

    // A province holds thousands of models: show them a page at a time (cards are cloned and
    // rendered only for what is shown).
    let shown_limit = RwSignal::new(LIST_PAGE);
    let unit_names = Memo::new(move |_| {
        let mut names: std::collections::HashMap<String, String> = account.with(|a| {
            a.as_ref().map(|a| a.profile.units.iter().map(|u| (u.code.clone(), u.name.clone())).collect()).unwrap_or_default()
        });
        // Far units' names come with their models.
        with_shown(&mut |ms| {
            for m in ms.filter(|m| !m.unit_name.is_empty()) {
                names.entry(m.unit.clone()).or_insert_with(|| m.unit_name.clone());
            }
        });
        names
    });
    let matches = Memo::new(move |_| {
        let filter = ModelFilter {
            unit_names: unit_names.get(),
            query: query.get(),
            field: Some(field.get()).filter(|f| !f.is_empty()),
            status: Status::from_code(&status.get()),
            owner_kind: OwnerKind::from_code(&owner.get()),
            year: year.get().parse().ok(),
        };
        let limit = shown_limit.get();
        let mut found = (0, Vec::new());
        with_shown(&mut |ms| {
            let all = filter.apply(ms);
            found = (all.len(), all.into_iter().take(limit).cloned().collect::<Vec<Model>>());
        });
        found
    });
    let filtered = Memo::new(move |_| matches.with(|m| m.1.clone()));
    let matching = move || matches.with(|m| m.0);
    let decoding = app.replica.decoding;
    let years = Memo::new(move |_| {
        let mut ys: Vec<u32> = Vec::new();
        with_shown(&mut |ms| ys.extend(ms.map(|m| m.year)));
        ys.sort_unstable_by(|a, b| b.cmp(a));
        ys.dedup();
        ys
    });
    let total = Memo::new(move |_| {
        let mut n = 0;
        with_shown(&mut |ms| n = ms.count());
        n
    });
    let total = move || total.get();
    let unreadable = app.replica.unreadable;
    let rejected = app.sync.rejected;
    // A first sync (a new phone) fills the list page by page: say that models are arriving, and
    // how many, rather than "none yet" (which invites registering them again).
    let (arriving, sync_status) = (app.sync.arriving, app.sync.status);
    let arriving = move || {
        if library {
            return None;
        }
        arriving.get().or_else(|| {
            // Just signed in, the first session not started yet: nothing is stored, and
            // everything the unit has is about to come.
            let signed_in = account.with(|a| a.as_ref().is_some_and(|a| a.ended.is_none()));
            let waiting = !matches!(sync_status.get(), SyncStatus::Synced { .. } | SyncStatus::Error { .. } | SyncStatus::Offline);
            (signed_in && waiting && settings::load_cursor().position == 0).then_some(Arriving { received: 0, expected: None })
        })
    };

    let statuses: Vec<Status> = Status::ALL.into_iter().filter(|s| !library || in_library(*s)).collect();
    view! {
        <section class=if library { "page list-page library-page" } else { "page list-page" }>
            <div class="page-head">
                {if library {
                    view! { <h1>"Thư viện mô hình"</h1> }.into_any()
                } else {
                    view! {
                        <h1>"Mô hình “Dân vận khéo”"</h1>
                        <A href="/mo-hinh/moi" attr:class="button primary">"Thêm mô hình"</A>
                    }.into_any()
                }}
            </div>
            {library.then(|| view! {
                <p class="note">"Mô hình đã được công nhận, điển hình, khen thưởng của các đơn vị khác — xem để học hỏi và bấm “Nhân rộng mô hình này” để áp dụng ở đơn vị mình."</p>
            })}
            <div class="filters">
                <div class="field search">
                    <label for="search">"Tìm kiếm"</label>
                    <input id="search" type="search" autocomplete="off"
                        placeholder="Tên, đơn vị, chủ thể… (gõ không dấu cũng được)"
                        prop:value=query on:input=move |ev| query.set(event_target_value(&ev))/>
                </div>
                <FilterSelect id="filter-field" label="Lĩnh vực" value=field
                    options=Signal::derive(move || settings.with(|s| s.fields()))/>
                <FilterSelect id="filter-status" label="Trạng thái" value=status
                    options=Signal::derive(move || statuses.iter().map(|s| (s.code().to_string(), s.label().to_string())).collect())/>
                <FilterSelect id="filter-owner-kind" label="Loại chủ thể" value=owner
                    options=Signal::derive(|| OwnerKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())).collect())/>
                <FilterSelect id="filter-year" label="Năm" value=year
                    options=Signal::derive(move || years.get().into_iter().map(|y| (y.to_string(), y.to_string())).collect())/>
            </div>
            <p class="count" aria-live="polite">
                {move || {
                    let found = matching();
                    if found == total() { format!("{} mô hình", format_count_vi(found)) } else { format!("{} / {} mô hình", format_count_vi(found), format_count_vi(total())) }
                }}
                {move || (decoding.get() > 0).then(|| format!(" — đang mở thêm {} mô hình vừa tải về…", format_count_vi(decoding.get())))}
            </p>
            <Show when=move || { total() > 0 && arriving().is_some() }>
                <p class="note" id="arriving" aria-live="polite">{move || arriving().map(arriving_text)}</p>
            </Show>
            <Show when=move || unreadable.with(|u| !u.is_empty())>
                <p class="warning" role="alert">
                    {move || format!("{} mô hình trên thiết bị không đọc được (xem Cài đặt).", unreadable.with(|u| u.len()))}
                </p>
            </Show>
            <Show when=move || rejected.with(|r| !r.is_empty())>
                <p class="warning" role="alert" id="refused-note">
                    {move || format!("Máy chủ chưa nhận {} mô hình; nội dung vẫn được giữ trên thiết bị (xem Cài đặt).", rejected.with(|r| r.len()))}
                </p>
            </Show>
            <Show
                when=move || filtered.with(|f| !f.is_empty())
                fallback=move || view! {
                    <div class="empty">
                        {move || if total() == 0 && library {
                            "Thư viện chưa có mô hình nào của đơn vị khác trên thiết bị này. Mô hình được công nhận ở nơi khác sẽ về khi đồng bộ.".to_string()
                        } else if let (0, Some(a)) = (total(), arriving()) {
                            format!("{} Mô hình hiện ở đây ngay khi về tới thiết bị.", arriving_text(a))
                        } else if total() == 0 {
                            "Chưa có mô hình nào trên thiết bị này. Bấm “Thêm mô hình” để đăng ký — không cần mạng.".to_string()
                        } else {
                            "Không có mô hình nào khớp với tìm kiếm và bộ lọc.".to_string()
                        }}
                    </div>
                }
            >
                <div class="cards">
                    <For each=move || filtered.get() key=|m| (m.id.clone(), m.updated_at) let:model>
                        <ModelCard model/>
                    </For>
                </div>
                <Show when=move || { matching() > filtered.with(|f| f.len()) }>
                    <button type="button" class="button more" on:click=move |_| shown_limit.update(|n| *n += LIST_PAGE)>
                        {move || format!("Xem thêm (đang hiện {} / {})", format_count_vi(filtered.with(|f| f.len())), format_count_vi(matching()))}
                    </button>
                </Show>
            </Show>
        </section>
    }
}

/// "Đang nhận mô hình của đơn vị: 240 / 1.500…" (the count once the server's first answer says it).
fn arriving_text(a: Arriving) -> String {
    match a.expected {
        Some(expected) => format!("Đang nhận mô hình của đơn vị: {} / {}…", format_count_vi(a.received), format_count_vi(expected)),
        None => "Đang nhận mô hình của đơn vị…".to_string(),
    }
}

/// A list filter: "Tất cả" (empty value) or one of `options` (code, label).
#[component]
fn FilterSelect(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">"Tất cả"</option>
                {move || options.get().into_iter().map(|(code, text)| {
                    let selected = value.with_untracked(|v| *v == code);
                    view! { <option value=code selected=selected>{text}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn ModelCard(model: Model) -> impl IntoView {
    let href = format!("/mo-hinh/{}", model.id);
    let owner_unit = model_unit_name(&model);
    let rejected = use_app().sync.rejected;
    let id = model.id.clone();
    let refused = move || rejected.with(|r| r.contains_key(&id));
    view! {
        <article class="model-card">
            <Show when=refused.clone()>
                <p class="badge refused" title="Máy chủ chưa nhận thay đổi; nội dung vẫn được giữ trên thiết bị">"Máy chủ chưa nhận"</p>
            </Show>
            <h2><A href=href>{model.name.clone()}</A></h2>
            <p class="meta">
                <span class="badge status">{model.status.label()}</span>
                <span>{field_label(&model.field).to_string()}</span>
                <span>{model.owner_kind.label()}</span>
                <span>{model.year}</span>
            </p>
            <p class="owner">{model.owner_name.clone()} " · " {owner_unit}</p>
            {(!model.replications.is_empty()).then(|| view! {
                <p class="replicated">{format!("Nhân rộng tại {} điểm", replication_points(&model.replications))}</p>
            })}
            <p class="updated">"Cập nhật " {date_time(model.updated_at)} " — " {model.updated_by.clone()}</p>
        </article>
    }
}

// ───────────────────────────── detail ─────────────────────────────

#[component]
pub fn DetailPage() -> impl IntoView {
    let app = use_app();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let models = app.replica.models;
    let model = Memo::new(move |_| models.with(|ms| ms.get(&id()).cloned()));
    let saved = move || query.with(|q| q.get("saved").is_some());
    // Redrawn only when this model or its refusal changes, not at every sync round.
    let rejected = app.sync.rejected;
    let refusal = Memo::new(move |_| rejected.with(|r| r.get(&id()).cloned()));
    let unreadable = app.replica.unreadable;

    view! {
        <section class="page detail-page">
            {move || match model.get() {
                None => {
                    let reason = unreadable.with(|u| u.get(&id()).cloned());
                    view! {
                        <h1>"Không tìm thấy mô hình"</h1>
                        <p>{reason.unwrap_or_else(|| "Mô hình này không có trên thiết bị. Nếu vừa được tạo ở máy khác, hãy chờ đồng bộ.".into())}</p>
                        <A href="/">"← Về danh sách"</A>
                    }.into_any()
                }
                Some(m) => view! { <ModelDetail model=m saved=saved() rejected=refusal.get()/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ModelDetail(model: Model, saved: bool, rejected: Option<String>) -> impl IntoView {
    let edit = format!("/mo-hinh/{}/sua", model.id);
    // Content is the unit's cadres' to change; reviewers act through the lifecycle steps.
    let may_edit = use_app().account.with_untracked(|a| a.as_ref().is_some_and(|a| a.profile.roles_for(&model.unit).cadre));
    let dates = {
        let mut parts = vec![format!("Bắt đầu {}", format_date_vi(&model.start_date))];
        if !model.end_date.is_empty() {
            parts.push(format!("kết thúc dự kiến {}", format_date_vi(&model.end_date)));
        }
        if !model.evaluation_date.is_empty() {
            parts.push(format!("đánh giá {}", format_date_vi(&model.evaluation_date)));
        }
        parts.join(" · ")
    };
    let section = |title: &'static str, body: String| {
        view! { <section class="item"><h2>{title}</h2><p class="prose">{body}</p></section> }
    };
    view! {
        <div class="page-head">
            <A href="/" attr:class="back">"← Danh sách"</A>
            {may_edit.then(|| view! { <A href=edit attr:class="button">"Sửa"</A> })}
        </div>
        {saved.then(|| view! { <p id="save-status" class="saved" role="status">"Đã lưu trên thiết bị này"</p> })}
        {rejected.map(|r| view! { <p class="warning" role="alert">"Máy chủ chưa nhận thay đổi của mô hình này: " {r} " Nội dung vẫn được giữ trên thiết bị."</p> })}
        <h1>{model.name.clone()}</h1>
        <p class="meta">
            <span class="badge status">{model.status.label()}</span>
            <span>{field_label(&model.field).to_string()}</span>
            <span>{model.level.label()}</span>
            <span>"Năm " {model.year}</span>
        </p>
        <super::lifecycle::LifecycleActions model=model.clone()/>
        <super::evaluation::EvaluationPanel model=model.clone()/>
        <super::library::ReplicatedFrom model=model.clone()/>
        <dl class="facts">
            <dt>"Chủ thể"</dt><dd>{model.owner_kind.label()} ": " {model.owner_name.clone()}</dd>
            <dt>"Đơn vị đăng ký"</dt><dd>{model_unit_name(&model)}</dd>
            <dt>"Thời gian"</dt><dd>{dates}</dd>
        </dl>
        {section("Thực trạng, lý do", model.situation.as_str().to_string())}
        {section("Mục tiêu, tiêu chí", model.goals.as_str().to_string())}
        {section("Nội dung, cách thức thực hiện", model.content.as_str().to_string())}
        {section("Địa bàn, đối tượng vận động", model.area.as_str().to_string())}
        {section("Lực lượng chủ trì, phối hợp", model.forces.as_str().to_string())}
        {section("Nguồn lực", model.resources.as_str().to_string())}
        <section class="item">
            <h2>"Sản phẩm kiểm chứng được"</h2>
            <table class="indicators">
                <thead><tr><th>"Chỉ tiêu"</th><th>"Mục tiêu"</th><th>"Đạt được"</th><th>"Tỷ lệ"</th></tr></thead>
                <tbody>
                    {model.indicators.iter().map(|i| {
                        let pct = if i.target > 0.0 { format!("{}%", format_amount_vi((100.0 * i.achieved / i.target).round())) } else { "—".into() };
                        view! {
                            <tr>
                                <td>{i.name.clone()}</td>
                                <td>{format!("{} {}", format_amount_vi(i.target), i.unit)}</td>
                                <td>{format!("{} {}", format_amount_vi(i.achieved), i.unit)}</td>
                                <td>{pct}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {section("Khả năng duy trì, nhân rộng", model.sustainability.as_str().to_string())}
        <super::library::ReplicationPoints model=model.clone()/>
        <super::journal::Journal model=model.clone()/>
        <super::lifecycle::LifecycleHistory model=model.clone()/>
        <super::evaluation::Evaluations model=model.clone()/>
        <super::lifecycle::Commendations model=model.clone()/>
        <super::revisions::Revisions model=model.clone()/>
        <p class="bookkeeping">
            "Tạo lúc " {date_time(model.created_at)} " bởi " {model.created_by.clone()}
            " · Sửa lần cuối " {date_time(model.updated_at)} " bởi " {model.updated_by.clone()}
        </p>
    }
}

// ───────────────────────────── form ─────────────────────────────

/// The owning unit's name: as recorded with the model, else as the profile knows it.
pub fn model_unit_name(model: &Model) -> String {
    if model.unit_name.is_empty() { unit_name(&model.unit) } else { model.unit_name.clone() }
}

/// A unit's name as the signed-in user's profile knows it (its code otherwise).
fn unit_name(code: &str) -> String {
    use_app().account.with_untracked(|a| a.as_ref().map_or(code, |a| a.profile.unit_name(code)).to_string())
}

/// The units the signed-in user registers models in, as (code, name).
fn writable_units() -> Vec<(String, String)> {
    use_app().account.with_untracked(|a| {
        a.as_ref()
            .map(|a| a.profile.writable.iter().map(|c| (c.clone(), a.profile.unit_name(c).to_string())).collect())
            .unwrap_or_default()
    })
}

/// The signed-in user's username and name.
pub fn signed_in() -> (String, String) {
    use_app()
        .account
        .with_untracked(|a| a.as_ref().map(|a| (a.profile.username.clone(), a.profile.display_name.clone())))
        .unwrap_or_default()
}

/// The name recorded as author of a change.
fn author() -> String {
    use_app().account.with_untracked(|a| a.as_ref().map(|a| a.profile.display_name.clone())).unwrap_or_else(|| "Cán bộ".into())
}

#[component]
pub fn NewModelPage() -> impl IntoView {
    let year = js_sys::Date::new_0().get_full_year();
    let units = writable_units();
    let first_unit = units.first().map_or("", |u| u.0.as_str()).to_string();
    // "Nhân rộng mô hình này" opens this form prefilled from a library model.
    let source_id = use_query_map().with_untracked(|q| q.get("nhan-rong"));
    let source = source_id.and_then(|id| use_app().replica.models.with_untracked(|ms| ms.get(&id).cloned()));
    let replicating = source.as_ref().map(|s| source_of(s, &model_unit_name(s)));
    let initial = match &source {
        Some(s) => ModelDraft { unit: first_unit.clone(), ..draft_from(s, year) },
        None => ModelDraft::blank(year, &first_unit),
    };
    view! {
        <section class="page form-page">
            <h1>{if source.is_some() { "Nhân rộng mô hình" } else { "Đăng ký mô hình mới" }}</h1>
            {replicating.as_ref().map(|r| view! {
                <p class="note" id="replicating">
                    "Nhân rộng từ mô hình “" {r.name.clone()} "” của " {r.unit_name.clone()}
                    ". Nội dung, cách làm và chỉ tiêu đã được điền sẵn; hãy ghi thực trạng, chủ thể và thời gian của đơn vị mình."
                </p>
            })}
            {if units.is_empty() {
                view! {
                    <p class="warning" role="alert">
                        "Tài khoản của bạn chỉ có quyền xem và bình xét, không đăng ký mô hình. Hãy nhờ quản trị viên cấp vai trò cán bộ của đơn vị nếu cần."
                    </p>
                }.into_any()
            } else {
                view! { <ModelForm model_id=None initial replicating/> }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn EditModelPage() -> impl IntoView {
    let app = use_app();
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    // A snapshot: sync may change the model while the form is open; the save merges field by field.
    let model = app.replica.models.with_untracked(|ms| ms.get(&id).cloned());
    view! {
        <section class="page form-page">
            {match model {
                Some(m) => view! {
                    <h1>"Sửa mô hình"</h1>
                    <ModelForm model_id=Some(id.clone()) initial=ModelDraft::from_model(&m) replicating=None/>
                }.into_any(),
                None => view! { <h1>"Không tìm thấy mô hình"</h1><A href="/">"← Về danh sách"</A> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ModelForm(model_id: Option<String>, initial: ModelDraft, replicating: Option<ReplicatedFrom>) -> impl IntoView {
    let app = use_app();
    let key = model_id.clone().unwrap_or_else(|| match &replicating {
        Some(r) => format!("new-from-{}", r.id),
        None => "new".into(),
    });
    let unit_fixed = model_id.is_some();
    let restored = settings::load_model_draft(&key, &initial);
    let had_restored = restored.is_some();
    // What `apply_changes` compares the typed form with: the values the form first opened with
    // (kept with the draft across reloads), not whatever the model holds when it reopens.
    let base = RwSignal::new(restored.as_ref().map_or_else(|| initial.clone(), |d| d.base.clone()));
    let draft = RwSignal::new(restored.map_or_else(|| initial.clone(), |d| d.typed));
    let errors = RwSignal::new(FieldErrors::default());
    let saving = RwSignal::new(false);
    let save_error = RwSignal::new(None::<String>);
    let restored_note = RwSignal::new(had_restored);

    // Whatever is typed survives a reload, a crash or a closed tab until it is saved.
    {
        let key = key.clone();
        Effect::new(move |_| {
            let d = settings::ModelFormDraft { base: base.get(), typed: draft.get() };
            if d.is_typed() {
                settings::save_draft(&key, &d);
            } else {
                settings::clear_draft(&key);
            }
        });
    }
    let navigate = use_navigate();
    let replica = app.replica.clone();
    let settings_signal = app.settings;
    let submit_key = key.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let s = settings_signal.get_untracked();
        let fields = s.field_codes();
        let d = draft.get_untracked();
        let found = d.validate(&fields);
        save_error.set(None);
        if !found.is_empty() {
            errors.set(found);
            focus_first_invalid();
            return;
        }
        errors.set(FieldErrors::default());
        saving.set(true);
        let author = author();
        let base = base.get_untracked();
        let (replica, navigate, model_id, key, replicating) =
            (replica.clone(), navigate.clone(), model_id.clone(), submit_key.clone(), replicating.clone());
        // Read before the task: it has no reactive owner to find the app's context in.
        let unit_name = unit_name(&d.unit);
        let (by, _) = signed_in();
        leptos::task::spawn_local(async move {
            let result = match &model_id {
                None => match replica.create(&d, &fields, &author, &unit_name, replicating.clone()).await {
                    // The source learns of its new replication point (synced to its unit).
                    Ok(id) => match replicating {
                        Some(source) => {
                            let point = Replication {
                                id: id.clone(),
                                unit: d.unit.clone(),
                                unit_name,
                                by,
                                by_name: author.clone(),
                                at: js_sys::Date::now() as i64,
                            };
                            replica.record_replication(&source.id, point).await.map(|_| id)
                        }
                        None => Ok(id),
                    },
                    Err(e) => Err(e),
                },
                Some(id) => replica.edit(id, &base, &d, &fields, &author).await.map(|_| id.clone()),
            };
            saving.set(false);
            match result {
                Ok(id) => {
                    settings::clear_draft(&key);
                    navigate(&format!("/mo-hinh/{id}?saved=1"), Default::default());
                }
                Err(SaveError::Invalid(e)) => {
                    errors.set(e);
                    focus_first_invalid();
                }
                Err(e) => save_error.set(Some(e.to_string())),
            }
        });
    };
    let discard_key = key.clone();
    let discard = move |_| {
        settings::clear_draft(&discard_key);
        base.set(initial.clone());
        draft.set(initial.clone());
        restored_note.set(false);
    };
    let s = app.settings;

    view! {
        <form class="model-form" novalidate on:submit=on_submit>
            <Show when=move || restored_note.get()>
                <p class="note" role="status">
                    "Đã khôi phục nội dung đang nhập dở lần trước. "
                    <button type="button" class="link" on:click=discard.clone()>"Bỏ bản nháp"</button>
                </p>
            </Show>
            <Show when=move || errors.with(|e| !e.is_empty())>
                <div id="form-errors" class="form-errors" role="alert">
                    <p>{move || format!("Chưa lưu: có {} mục cần sửa. Nội dung đã nhập vẫn được giữ nguyên.", errors.with(|e| e.len()))}</p>
                    <ul>
                        {move || errors.get().0.into_iter().map(|(k, m)| view! { <li><a href=format!("#{k}")>{m}</a></li> }).collect_view()}
                    </ul>
                </div>
            </Show>

            <fieldset>
                <legend>"Thông tin đăng ký"</legend>
                <TextField id="name" label="Tên mô hình" draft errors get=|d| d.name.clone() set=|d, v| d.name = v required=true
                    hint="Ví dụ: “Khéo vận động làm đường giao thông nông thôn”"/>
                <div class="row">
                    <SelectField id="owner_kind" label="Loại chủ thể" draft errors get=|d| d.owner_kind.clone() set=|d, v| d.owner_kind = v
                        options=Signal::derive(|| OwnerKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())).collect())/>
                    <TextField id="owner_name" label="Tên chủ thể thực hiện" draft errors get=|d| d.owner_name.clone() set=|d, v| d.owner_name = v required=true
                        hint="Tập thể, hoặc họ tên và chức vụ của cá nhân"/>
                </div>
                <div class="row">
                    <SelectField id="field" label="Lĩnh vực" draft errors get=|d| d.field.clone() set=|d, v| d.field = v
                        options=Signal::derive(move || s.with(|s| s.fields()))/>
                    {if unit_fixed {
                        // Ownership is fixed at registration: the server refuses any change to it.
                        view! {
                            <div class="field">
                                <label for="unit">"Đơn vị đăng ký"</label>
                                <input id="unit" readonly prop:value=unit_name(&draft.get_untracked().unit)/>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <SelectField id="unit" label="Đơn vị đăng ký" draft errors get=|d| d.unit.clone() set=|d, v| d.unit = v
                                options=Signal::derive(writable_units)/>
                        }.into_any()
                    }}
                </div>
                <div class="row">
                    <SelectField id="level" label="Cấp đăng ký" draft errors get=|d| d.level.clone() set=|d, v| d.level = v
                        options=Signal::derive(|| Level::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())).collect())/>
                    <TextField id="year" label="Năm đăng ký" kind="number" draft errors get=|d| d.year.clone() set=|d, v| d.year = v required=true/>
                </div>
            </fieldset>

            <fieldset>
                <legend>"Nội dung mô hình"</legend>
                <TextField id="situation" label="Thực trạng, lý do" multiline=true draft errors get=|d| d.situation.clone() set=|d, v| d.situation = v required=true/>
                <TextField id="goals" label="Mục tiêu, tiêu chí" multiline=true draft errors get=|d| d.goals.clone() set=|d, v| d.goals = v required=true/>
                <TextField id="content" label="Nội dung, cách thức thực hiện" multiline=true draft errors get=|d| d.content.clone() set=|d, v| d.content = v required=true
                    hint="Khéo chọn việc, khéo tuyên truyền, khéo tổ chức thực hiện"/>
                <TextField id="area" label="Địa bàn, đối tượng vận động" multiline=true draft errors get=|d| d.area.clone() set=|d, v| d.area = v required=true/>
                <TextField id="forces" label="Lực lượng chủ trì, phối hợp" multiline=true draft errors get=|d| d.forces.clone() set=|d, v| d.forces = v required=true/>
                <TextField id="resources" label="Nguồn lực" multiline=true draft errors get=|d| d.resources.clone() set=|d, v| d.resources = v required=true
                    hint="Kinh phí, ngày công, đóng góp xã hội hóa"/>
            </fieldset>

            <fieldset>
                <legend>"Thời gian"</legend>
                <div class="row three">
                    <TextField id="start_date" label="Ngày bắt đầu" kind="date" draft errors get=|d| d.start_date.clone() set=|d, v| d.start_date = v required=true/>
                    <TextField id="end_date" label="Ngày kết thúc dự kiến" kind="date" draft errors get=|d| d.end_date.clone() set=|d, v| d.end_date = v/>
                    <TextField id="evaluation_date" label="Ngày đánh giá" kind="date" draft errors get=|d| d.evaluation_date.clone() set=|d, v| d.evaluation_date = v/>
                </div>
            </fieldset>

            <fieldset>
                <legend>"Sản phẩm kiểm chứng được"</legend>
                <IndicatorsEditor draft errors/>
            </fieldset>

            <fieldset>
                <legend>"Duy trì, nhân rộng"</legend>
                <TextField id="sustainability" label="Khả năng duy trì, nhân rộng" multiline=true draft errors get=|d| d.sustainability.clone() set=|d, v| d.sustainability = v required=true/>
            </fieldset>

            <Show when=move || save_error.with(|e| e.is_some())>
                <p class="save-error" role="alert">{move || save_error.get()}</p>
            </Show>
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || saving.get()>
                    {move || if saving.get() { "Đang lưu…" } else { "Lưu mô hình" }}
                </button>
            </div>
        </form>
    }
}

fn focus_first_invalid() {
    request_animation_frame(|| {
        let el = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("[aria-invalid=\"true\"]").ok().flatten());
        if let Some(el) = el.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()) {
            let _ = el.focus();
        }
    });
}

fn error_of(errors: RwSignal<FieldErrors>, id: &str) -> Option<String> {
    errors.with(|e| e.get(id).map(str::to_string))
}

#[component]
fn FieldMessage(#[prop(into)] id: String, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let error_id = format!("{id}-error");
    move || error_of(errors, &id).map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })
}

#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    draft: RwSignal<ModelDraft>,
    errors: RwSignal<FieldErrors>,
    get: fn(&ModelDraft) -> String,
    set: fn(&mut ModelDraft, String),
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = false)] multiline: bool,
    #[prop(default = false)] required: bool,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let invalid = move || errors.with(|e| e.get(id).is_some());
    let value = move || draft.with(get);
    let on_input = move |ev: leptos::ev::Event| draft.update(|d| set(d, event_target_value(&ev)));
    let described = format!("{id}-error");
    let control = if multiline {
        view! {
            <textarea id=id name=id rows="4" prop:value=value on:input=on_input
                aria-invalid=move || invalid().to_string() aria-describedby=described></textarea>
        }
        .into_any()
    } else {
        let inputmode = if kind == "number" { "numeric" } else { "text" };
        view! {
            <input id=id name=id type=kind inputmode=inputmode prop:value=value on:input=on_input
                aria-invalid=move || invalid().to_string() aria-describedby=described/>
        }
        .into_any()
    };
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id>{label}{required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            {(!hint.is_empty()).then(|| view! { <small class="hint">{hint}</small> })}
            {control}
            <FieldMessage id=id errors/>
        </div>
    }
}

#[component]
fn SelectField(
    id: &'static str,
    label: &'static str,
    draft: RwSignal<ModelDraft>,
    errors: RwSignal<FieldErrors>,
    get: fn(&ModelDraft) -> String,
    set: fn(&mut ModelDraft, String),
    options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let invalid = move || errors.with(|e| e.get(id).is_some());
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id>{label}</label>
            <select id=id name=id aria-invalid=move || invalid().to_string()
                on:change=move |ev| draft.update(|d| set(d, event_target_value(&ev)))>
                {move || {
                    let current = draft.with(get);
                    let mut opts = options.get();
                    if !current.is_empty() && !opts.iter().any(|(c, _)| *c == current) {
                        // A value from another device's configuration: keep it selectable.
                        opts.push((current.clone(), current.clone()));
                    }
                    opts.into_iter().map(|(code, text)| {
                        let selected = code == current;
                        view! { <option value=code selected=selected>{text}</option> }
                    }).collect_view()
                }}
            </select>
            <FieldMessage id=id errors/>
        </div>
    }
}

#[component]
fn IndicatorsEditor(draft: RwSignal<ModelDraft>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let rows = move || draft.with(|d| d.indicators.iter().enumerate().map(|(i, r)| (i, r.id.clone())).collect::<Vec<_>>());
    let add = move |_| {
        draft.update(|d| d.indicators.push(IndicatorDraft { id: uuid::Uuid::new_v4().to_string(), ..Default::default() }))
    };
    view! {
        <p class="hint">"Những kết quả đo được: số hộ chuyển đổi, số km đường, kinh phí vận động, số người được giúp…"</p>
        <FieldMessage id="indicators" errors/>
        <div class="indicator-rows">
            <For each=rows key=|row| row.clone() let:row>
                <IndicatorRow index=row.0 draft errors/>
            </For>
        </div>
        <button type="button" class="button" on:click=add>"Thêm chỉ tiêu"</button>
    }
}

#[component]
fn IndicatorRow(index: usize, draft: RwSignal<ModelDraft>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let cell = move |part: &'static str, label: &'static str, kind: &'static str| {
        let id = format!("indicator-{index}-{part}");
        let value = move || {
            draft.with(|d| {
                d.indicators.get(index).map(|r| match part {
                    "name" => r.name.clone(),
                    "unit" => r.unit.clone(),
                    "target" => r.target.clone(),
                    _ => r.achieved.clone(),
                })
            })
        };
        let on_input = move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            draft.update(|d| {
                if let Some(r) = d.indicators.get_mut(index) {
                    match part {
                        "name" => r.name = v,
                        "unit" => r.unit = v,
                        "target" => r.target = v,
                        _ => r.achieved = v,
                    }
                }
            })
        };
        let key = id.clone();
        let invalid = Signal::derive(move || errors.with(|e| e.get(&key).is_some()));
        let inputmode = if kind == "number" { "decimal" } else { "text" };
        view! {
            <div class=format!("field {part}") class:invalid=invalid>
                <label for=id.clone()>{label}</label>
                <input id=id.clone() type="text" inputmode=inputmode prop:value=value on:input=on_input
                    aria-invalid=move || invalid.get().to_string() aria-describedby=format!("{id}-error")/>
                <FieldMessage id=id.clone() errors/>
            </div>
        }
    };
    let remove = move |_| {
        draft.update(|d| {
            if index < d.indicators.len() {
                d.indicators.remove(index);
            }
        })
    };
    view! {
        <div class="indicator-row">
            {cell("name", "Tên chỉ tiêu", "text")}
            {cell("unit", "Đơn vị tính", "text")}
            {cell("target", "Mục tiêu", "number")}
            {cell("achieved", "Đạt được", "number")}
            <button type="button" class="button subtle remove" on:click=remove
                aria-label=format!("Xóa chỉ tiêu thứ {}", index + 1)>"Xóa"</button>
        </div>
    }
}

// ───────────────────────────── settings ─────────────────────────────

#[component]
pub fn SettingsPage() -> impl IntoView {
    let app = use_app();
    let current = app.settings.get_untracked();
    let custom = RwSignal::new(current.custom_fields.join("\n"));
    let message = RwSignal::new(None::<String>);
    let settings = app.settings;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let s = settings::Settings {
            custom_fields: custom
                .get_untracked()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        };
        match s.save() {
            Ok(()) => {
                settings.set(s);
                message.set(Some("Đã lưu cài đặt.".into()));
            }
            Err(e) => message.set(Some(format!("Không lưu được cài đặt: {e}"))),
        }
    };
    let pwa = app.pwa;
    leptos::task::spawn_local(async move { super::pwa::refresh_storage(pwa).await });
    let storage = move || {
        let info = pwa.storage.get();
        let mb = |b: f64| format!("{:.1} MB", b / 1_048_576.0);
        let usage = match (info.usage, info.quota) {
            (Some(u), Some(q)) => format!("Đang dùng {} trên {} cho phép.", mb(u), mb(q)),
            _ if !pwa.support.storage_manager => {
                "Trang không mở bằng địa chỉ https nên trình duyệt không cho biết dung lượng và không hứa giữ dữ liệu khi máy thiếu chỗ.".into()
            }
            _ => "Trình duyệt không cho biết dung lượng.".into(),
        };
        let persisted = match info.persisted {
            Some(true) => "Dữ liệu được lưu bền vững: trình duyệt sẽ không tự xóa khi thiếu chỗ.",
            Some(false) => "Trình duyệt chưa cho lưu bền vững: khi máy thiếu chỗ, dữ liệu chưa đồng bộ có thể bị xóa. Hãy cài ứng dụng (Thêm vào màn hình chính) và đồng bộ thường xuyên.",
            None => "",
        };
        view! { <p id="storage-usage">{usage}</p><p>{persisted}</p> }
    };
    let sync = app.sync;
    let status = move || super::describe(&sync.status.get(), app.replica.pending.get());
    let unreadable = app.replica.unreadable;
    let all_models = app.replica.models;

    view! {
        <section class="page settings-page">
            <h1>"Cài đặt"</h1>
            <super::sign_in::AccountSection/>
            <form class="model-form" on:submit=save>
                <fieldset>
                    <legend>"Lĩnh vực"</legend>
                    <p class="hint">"Bốn lĩnh vực chuẩn luôn có: Kinh tế; Văn hóa – xã hội; Quốc phòng – an ninh; Xây dựng hệ thống chính trị. Thêm chủ đề riêng của địa phương, mỗi dòng một chủ đề."</p>
                    <div class="field">
                        <label for="custom_fields">"Lĩnh vực bổ sung"</label>
                        <textarea id="custom_fields" rows="4" placeholder="Cải cách hành chính\nXây dựng nông thôn mới"
                            prop:value=custom on:input=move |ev| custom.set(event_target_value(&ev))></textarea>
                    </div>
                </fieldset>
                <div class="actions">
                    <button type="submit" class="button primary">"Lưu cài đặt"</button>
                    <span role="status">{move || message.get()}</span>
                </div>
            </form>
            <section class="item">
                <h2>"Đồng bộ"</h2>
                <p>{status}</p>
                <button class="button" on:click=move |_| sync.sync_now()>"Đồng bộ ngay"</button>
                // Every refused model with a link, also those of units the lists do not show
                // (a model of a commune the user has left).
                <Show when=move || sync.rejected.with(|r| !r.is_empty())>
                    <p class="warning">"Máy chủ chưa nhận các mô hình sau (vẫn được giữ trên thiết bị, sẽ gửi lại ở mỗi lần đồng bộ):"</p>
                    <ul id="refused-models">{move || {
                        let models = all_models.get();
                        sync.rejected.get().into_iter().map(|(id, reason)| {
                            let name = models.get(&id).map_or_else(|| id.clone(), |m| m.name.clone());
                            view! { <li><A href=format!("/mo-hinh/{id}")>{name}</A> ": " {reason}</li> }
                        }).collect_view()
                    }}</ul>
                </Show>
            </section>
            <section class="item">
                <h2>"Lưu trữ trên thiết bị"</h2>
                {storage}
                <Show when=move || unreadable.with(|u| !u.is_empty())>
                    <p class="warning">"Không đọc được các tài liệu sau (vẫn được giữ nguyên, không bị xóa):"</p>
                    <ul>{move || unreadable.get().into_iter().map(|(id, reason)| view! { <li><code>{id}</code> ": " {reason}</li> }).collect_view()}</ul>
                </Show>
            </section>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Không có trang này"</h1>
            <A href="/">"← Về danh sách mô hình"</A>
        </section>
    }
}
