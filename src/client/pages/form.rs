//! Registering and editing a model: the form, with a draft that survives a closed tab.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::client::local::replica::SaveError;
use crate::client::app::{author, model_unit_name, signed_in, unit_name, writable_units};
use crate::client::components::fields::{FieldMessage, SelectField, TextField};
use crate::client::{local::settings, use_app};
use crate::i18n::{t, tf, tr};
use crate::domain::{
    FieldErrors, IndicatorDraft, Level, ModelDraft, OwnerKind, ReplicatedFrom, Replication,
    draft_from, source_of,
};

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
            <h1>{if source.is_some() { t("Nhân rộng mô hình") } else { t("Đăng ký mô hình mới") }}</h1>
            {replicating.as_ref().map(|r| view! {
                <p class="note" id="replicating">
                    {tf(
                        "Nhân rộng từ mô hình “{}” của {}. Nội dung, cách làm và chỉ tiêu đã được điền sẵn; hãy ghi thực trạng, chủ thể và thời gian của đơn vị mình.",
                        &[&r.name, &r.unit_name],
                    )}
                </p>
            })}
            {if units.is_empty() {
                view! {
                    <p class="warning" role="alert">
                        {t("Tài khoản của bạn chỉ có quyền xem và bình xét, không đăng ký mô hình. Hãy nhờ quản trị viên cấp vai trò cán bộ của đơn vị nếu cần.")}
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
                    <h1>{t("Sửa mô hình")}</h1>
                    <ModelForm model_id=Some(id.clone()) initial=ModelDraft::from_model(&m) replicating=None/>
                }.into_any(),
                None => view! { <h1>{t("Không tìm thấy mô hình")}</h1><A href="/">{t("← Về danh sách")}</A> }.into_any(),
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
    let just_saved = app.just_saved;
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
                    just_saved.set(Some(id.clone()));
                    navigate(&format!("/mo-hinh/{id}"), Default::default());
                }
                Err(SaveError::Invalid(e)) => {
                    errors.set(e);
                    focus_first_invalid();
                }
                Err(e) => save_error.set(Some(tr(&e.to_string()))),
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
    // What is typed lives in the draft, not in the fields, so a save pressed before the rest is
    // drawn checks and saves every field.
    let rest = crate::client::first_screen_then_rest();

    view! {
        <form class="model-form" novalidate on:submit=on_submit>
            <Show when=move || restored_note.get()>
                <p class="note" role="status">
                    {t("Đã khôi phục nội dung đang nhập dở lần trước.")} " "
                    <button type="button" class="link" on:click=discard.clone()>{t("Bỏ bản nháp")}</button>
                </p>
            </Show>
            <Show when=move || errors.with(|e| !e.is_empty())>
                <div id="form-errors" class="form-errors" role="alert">
                    <p>{move || tf("Chưa lưu: có {} mục cần sửa. Nội dung đã nhập vẫn được giữ nguyên.", &[&errors.with(|e| e.len())])}</p>
                    <ul>
                        {move || errors.get().0.into_iter().map(|(k, m)| view! { <li><a href=format!("#{k}")>{tr(&m)}</a></li> }).collect_view()}
                    </ul>
                </div>
            </Show>

            <fieldset>
                <legend>{t("Thông tin đăng ký")}</legend>
                <TextField id="name" label=t("Tên mô hình") draft errors get=|d| d.name.clone() set=|d, v| d.name = v required=true
                    hint=t("Ví dụ: “Khéo vận động làm đường giao thông nông thôn”")/>
                <div class="row">
                    <SelectField id="owner_kind" label=t("Loại chủ thể") draft errors get=|d| d.owner_kind.clone() set=|d, v| d.owner_kind = v
                        options=Signal::derive(|| OwnerKind::ALL.iter().map(|k| (k.code().to_string(), t(k.label()).to_string())).collect())/>
                    <TextField id="owner_name" label=t("Tên chủ thể thực hiện") draft errors get=|d| d.owner_name.clone() set=|d, v| d.owner_name = v required=true
                        hint=t("Tập thể, hoặc họ tên và chức vụ của cá nhân")/>
                </div>
                <div class="row">
                    <SelectField id="field" label=t("Lĩnh vực") draft errors get=|d| d.field.clone() set=|d, v| d.field = v
                        options=Signal::derive(move || s.with(|s| s.fields()).into_iter().map(|(code, label)| (code, tr(&label))).collect())/>
                    {if unit_fixed {
                        // Ownership is fixed at registration: the server refuses any change to it.
                        view! {
                            <div class="field">
                                <label for="unit">{t("Đơn vị đăng ký")}</label>
                                <input id="unit" readonly prop:value=unit_name(&draft.get_untracked().unit)/>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <SelectField id="unit" label=t("Đơn vị đăng ký") draft errors get=|d| d.unit.clone() set=|d, v| d.unit = v
                                options=Signal::derive(writable_units)/>
                        }.into_any()
                    }}
                </div>
                <div class="row">
                    <SelectField id="level" label=t("Cấp đăng ký") draft errors get=|d| d.level.clone() set=|d, v| d.level = v
                        options=Signal::derive(|| Level::ALL.iter().map(|k| (k.code().to_string(), t(k.label()).to_string())).collect())/>
                    <TextField id="year" label=t("Năm đăng ký") kind="number" draft errors get=|d| d.year.clone() set=|d, v| d.year = v required=true/>
                </div>
            </fieldset>

            // The rest of the form once the first screen is painted (`client::first_screen_then_rest`).
            <Show when=move || rest.get()>
            <fieldset>
                <legend>{t("Nội dung mô hình")}</legend>
                <TextField id="situation" label=t("Thực trạng, lý do") multiline=true draft errors get=|d| d.situation.clone() set=|d, v| d.situation = v required=true/>
                <TextField id="goals" label=t("Mục tiêu, tiêu chí") multiline=true draft errors get=|d| d.goals.clone() set=|d, v| d.goals = v required=true/>
                <TextField id="content" label=t("Nội dung, cách thức thực hiện") multiline=true draft errors get=|d| d.content.clone() set=|d, v| d.content = v required=true
                    hint=t("Khéo chọn việc, khéo tuyên truyền, khéo tổ chức thực hiện")/>
                <TextField id="area" label=t("Địa bàn, đối tượng vận động") multiline=true draft errors get=|d| d.area.clone() set=|d, v| d.area = v required=true/>
                <TextField id="forces" label=t("Lực lượng chủ trì, phối hợp") multiline=true draft errors get=|d| d.forces.clone() set=|d, v| d.forces = v required=true/>
                <TextField id="resources" label=t("Nguồn lực") multiline=true draft errors get=|d| d.resources.clone() set=|d, v| d.resources = v required=true
                    hint=t("Kinh phí, ngày công, đóng góp xã hội hóa")/>
            </fieldset>

            <fieldset>
                <legend>{t("Thời gian")}</legend>
                <div class="row three">
                    <TextField id="start_date" label=t("Ngày bắt đầu") kind="date" draft errors get=|d| d.start_date.clone() set=|d, v| d.start_date = v required=true/>
                    <TextField id="end_date" label=t("Ngày kết thúc dự kiến") kind="date" draft errors get=|d| d.end_date.clone() set=|d, v| d.end_date = v/>
                    <TextField id="evaluation_date" label=t("Ngày đánh giá") kind="date" draft errors get=|d| d.evaluation_date.clone() set=|d, v| d.evaluation_date = v/>
                </div>
            </fieldset>

            <fieldset>
                <legend>{t("Sản phẩm kiểm chứng được")}</legend>
                <IndicatorsEditor draft errors/>
            </fieldset>

            <fieldset>
                <legend>{t("Duy trì, nhân rộng")}</legend>
                <TextField id="sustainability" label=t("Khả năng duy trì, nhân rộng") multiline=true draft errors get=|d| d.sustainability.clone() set=|d, v| d.sustainability = v required=true/>
            </fieldset>
            </Show>

            <Show when=move || save_error.with(|e| e.is_some())>
                <p class="save-error" role="alert">{move || save_error.get()}</p>
            </Show>
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || saving.get()>
                    {move || if saving.get() { t("Đang lưu…") } else { t("Lưu mô hình") }}
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

#[component]
fn IndicatorsEditor(draft: RwSignal<ModelDraft>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let rows = move || draft.with(|d| d.indicators.iter().enumerate().map(|(i, r)| (i, r.id.clone())).collect::<Vec<_>>());
    let add = move |_| {
        draft.update(|d| d.indicators.push(IndicatorDraft { id: uuid::Uuid::new_v4().to_string(), ..Default::default() }))
    };
    view! {
        <p class="hint">{t("Những kết quả đo được: số hộ chuyển đổi, số km đường, kinh phí vận động, số người được giúp…")}</p>
        <FieldMessage id="indicators" errors/>
        <div class="indicator-rows">
            <For each=rows key=|row| row.clone() let:row>
                <IndicatorRow index=row.0 draft errors/>
            </For>
        </div>
        <button type="button" class="button" on:click=add>{t("Thêm chỉ tiêu")}</button>
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
            {cell("name", t("Tên chỉ tiêu"), "text")}
            {cell("unit", t("Đơn vị tính"), "text")}
            {cell("target", t("Mục tiêu"), "number")}
            {cell("achieved", t("Đạt được"), "number")}
            <button type="button" class="button subtle remove" on:click=remove
                aria-label=tf("Xóa chỉ tiêu thứ {}", &[&(index + 1)])>{t("Xóa")}</button>
        </div>
    }
}
