//! A model's lifecycle on its page: the steps this user may take now (with a reason where the
//! rules ask for one), and the history of steps; and `/binh-xet`, the reviewer's queue.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::{date_time, use_app};
use crate::domain::{Action, CommendationDraft, CommendationForm, Level, Model, Status, available, replay};
use crate::i18n::{self, t, tf, tr};

/// The buttons of the steps allowed now, and the confirmation (with the reason) of the chosen one.
#[component]
pub fn LifecycleActions(model: Model) -> impl IntoView {
    let app = use_app();
    let Some(account) = app.account.get_untracked() else { return ().into_any() };
    let roles = account.profile.roles_for(&model.unit);
    // A proposed model is recognised, not recognised or returned through the evaluation sheet.
    let actions: Vec<Action> = available(model.status, roles)
        .into_iter()
        .filter(|a| !(model.status == Status::Proposed && matches!(a, Action::Recognise | Action::Reject | Action::Return)))
        .collect();
    if actions.is_empty() {
        return ().into_any();
    }
    let chosen = RwSignal::new(None::<Action>);
    let reason = RwSignal::new(String::new());
    // Marking exemplary asks for a level; the model's own registration level comes first.
    let level = RwSignal::new(model.level.code().to_string());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let id = model.id.clone();
    let confirm = move |_| {
        let Some(action) = chosen.get_untracked() else { return };
        let (replica, id, account) = (app.replica.clone(), id.clone(), account.clone());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let p = &account.profile;
            let result = replica
                .record_step(&id, action, &reason.get_untracked(), &level.get_untracked(), &p.username, &p.display_name, roles)
                .await;
            busy.set(false);
            match result {
                Ok(()) => {
                    chosen.set(None);
                    reason.set(String::new());
                    error.set(None);
                }
                // A SaveError displays as the sentence to show.
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="item lifecycle-actions">
            <h2>{t("Bước tiếp theo")}</h2>
            <div class="buttons">
                {actions.into_iter().map(|a| view! {
                    <button class=if a == Action::Stop { "button" } else { "button primary" }
                        on:click=move |_| { chosen.set(Some(a)); error.set(None); }>{t(a.label())}</button>
                }).collect_view()}
            </div>
            {move || chosen.get().map(|a| view! {
                <div class="confirm" role="dialog" aria-labelledby="step-question">
                    <p id="step-question"><strong>{tf("Xác nhận “{}”?", &[&t(a.label())])}</strong></p>
                    {a.needs_level().then(|| view! {
                        <div class="field">
                            <label for="step-level">{t("Điển hình cấp")}</label>
                            <select id="step-level" prop:value=level on:change=move |ev| level.set(event_target_value(&ev))>
                                {Level::ALL.iter().map(|l| view! { <option value=l.code()>{t(l.label())}</option> }).collect_view()}
                            </select>
                        </div>
                    })}
                    <div class="field">
                        <label for="step-reason">{if a.needs_reason() { t("Lý do (bắt buộc)") } else { t("Ghi chú (không bắt buộc)") }}</label>
                        <textarea id="step-reason" rows="3" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    </div>
                    <button id="confirm-step" class="button primary" disabled=move || busy.get() on:click=confirm.clone()>{t(a.label())}</button>
                    <button class="button" on:click=move |_| chosen.set(None)>{t("Hủy")}</button>
                </div>
            })}
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get().map(|e| tr(&e))}</p>
            </Show>
        </section>
    }
    .into_any()
}

/// Every recorded step, oldest first; a step that did not apply (two people acted at once,
/// offline) says so instead of disappearing.
#[component]
pub fn LifecycleHistory(model: Model) -> impl IntoView {
    let (_, steps) = replay(&model.transitions);
    let rows: Vec<_> = steps
        .iter()
        .map(|s| {
            let label = s.action.map_or_else(|| tf("bước “{}”", &[&s.transition.action]), |a| t(a.label()).to_string());
            let at_level = Level::from_code(&s.transition.level).map(|l| format!(" ({})", t(l.label()).to_lowercase())).unwrap_or_default();
            let outcome = match s.to {
                Some(to) => format!("→ {}{at_level}", t(to.label())),
                None => t("(không áp dụng: trạng thái lúc đó không cho phép bước này)").to_string(),
            };
            let t = s.transition;
            view! {
                <li class=if s.to.is_some() { "applied" } else { "skipped" }>
                    <span class="when">{date_time(t.at)}</span> " · " <strong>{t.by_name.clone()}</strong> ": " {label} " " {outcome}
                    {(!t.reason.is_empty()).then(|| view! { <blockquote>{t.reason.clone()}</blockquote> })}
                </li>
            }
        })
        .collect();
    view! {
        <section class="item lifecycle-history">
            <h2>{t("Quá trình")}</h2>
            <ol id="history">
                <li class="applied"><span class="when">{date_time(model.created_at)}</span> " · " <strong>{model.created_by.clone()}</strong> {t(": Đăng ký mô hình")}</li>
                {rows}
            </ol>
        </section>
    }
}

/// When the model was last proposed (what the queue is ordered by).
fn proposed_at(model: &Model) -> i64 {
    replay(&model.transitions)
        .1
        .iter()
        .filter(|s| s.action == Some(Action::Propose) && s.to.is_some())
        .map(|s| s.transition.at)
        .max()
        .unwrap_or(model.updated_at)
}

/// `/binh-xet`: models proposed for recognition in the units this user reviews, oldest first,
/// with how many each unit has waiting.
#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let app = use_app();
    let account = app.account;
    let models = app.replica.models;
    let queue = Memo::new(move |_| {
        let reviews: Vec<String> = account.with(|a| a.as_ref().map(|a| a.profile.reviews.clone()).unwrap_or_default());
        let mut waiting: Vec<(i64, Model)> = models.with(|ms| {
            ms.values()
                .filter(|m| m.status == Status::Proposed && reviews.contains(&m.unit))
                .map(|m| (proposed_at(m), m.clone()))
                .collect()
        });
        waiting.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        waiting
    });
    let unit_name = move |code: &str| account.with(|a| a.as_ref().map_or(code.to_string(), |a| a.profile.unit_name(code).to_string()));
    let counts = move || {
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for (_, m) in queue.get() {
            *per.entry(unit_name(&m.unit)).or_default() += 1;
        }
        per
    };
    view! {
        <section class="page review-page">
            <h1>{t("Bình xét")}</h1>
            <p><A href="/nhap-tu-tep">{t("Nhập danh sách mô hình (đã công nhận, khen thưởng…) từ tệp")}</A></p>
            <p class="count">{move || tf("{} mô hình đang chờ công nhận", &[&i18n::count(queue.with(Vec::len))])}</p>
            <Show when=move || queue.with(|q| !q.is_empty()) fallback=|| view! {
                <div class="empty">{t("Không có mô hình nào đang đề nghị công nhận trong phạm vi bạn bình xét.")}</div>
            }>
                <table class="indicators per-unit">
                    <thead><tr><th>{t("Đơn vị")}</th><th>{t("Đang chờ")}</th></tr></thead>
                    <tbody>{move || counts().into_iter().map(|(u, n)| view! { <tr><td>{u}</td><td>{n}</td></tr> }).collect_view()}</tbody>
                </table>
                <ol class="queue">
                    {move || queue.get().into_iter().map(|(at, m)| view! {
                        <li>
                            <A href=format!("/mo-hinh/{}", m.id)>{m.name.clone()}</A>
                            <span class="meta">{tf(" · {} · đề nghị lúc {}", &[&unit_name(&m.unit), &date_time(at)])}</span>
                        </li>
                    }).collect_view()}
                </ol>
            </Show>
        </section>
    }
}

/// The commendations recorded on a model, and for its reviewers, once it is recognised, the form
/// to record one (form, issuer and level, decision number and date, people named).
#[component]
pub fn Commendations(model: Model) -> impl IntoView {
    let app = use_app();
    let account = app.account.get_untracked();
    let roles = account.as_ref().map(|a| a.profile.roles_for(&model.unit)).unwrap_or_default();
    let may_record = roles.reviewer && matches!(model.status, Status::Recognised | Status::Exemplary | Status::Commended);
    if model.commendations.is_empty() && !may_record {
        return ().into_any();
    }
    let draft = RwSignal::new(CommendationDraft { form: CommendationForm::Certificate.code().into(), level: Level::Province.code().into(), ..Default::default() });
    let errors = RwSignal::new(Vec::<(&'static str, String)>::new());
    let saved = RwSignal::new(false);
    let id = model.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let d = draft.get_untracked();
        let found = d.validate();
        saved.set(false);
        if !found.is_empty() {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        let (replica, id, account) = (app.replica.clone(), id.clone(), account.clone());
        leptos::task::spawn_local(async move {
            let Some(a) = account else { return };
            match replica.record_commendation(&id, &d, &a.profile.username, &a.profile.display_name, roles).await {
                Ok(()) => saved.set(true),
                Err(e) => errors.set(vec![("commendation-form", e.to_string())]),
            }
        });
    };
    let error_of = move |key: &'static str| move || errors.with(|e| e.iter().find(|(k, _)| *k == key).map(|(_, m)| m.clone()));
    let input = move |key: &'static str, label: &'static str, kind: &'static str, get: fn(&CommendationDraft) -> String, set: fn(&mut CommendationDraft, String)| {
        view! {
            <div class="field">
                <label for=key>{t(label)}</label>
                <input id=key type=kind prop:value=move || draft.with(get) on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev)))/>
                {move || error_of(key)().map(|m| view! { <p class="field-error">{tr(&m)}</p> })}
            </div>
        }
    };
    let records = model.commendations.clone();
    view! {
        <section class="item commendations">
            <h2>{t("Khen thưởng")}</h2>
            <ul id="commendations">
                {records.into_iter().map(|c| {
                    let level = Level::from_code(&c.level).map_or(c.level.clone(), |l| t(l.label()).to_string());
                    view! {
                        <li>
                            <strong>{tr(c.form_label())}</strong> " — " {c.issuer.clone()} " (" {level} {t("), quyết định số ")}
                            {c.decision_number.clone()} {t(" ngày ")} {i18n::date(&c.decision_date)}
                            {(!c.recipients.is_empty()).then(|| tf(" — tặng: {}", &[&c.recipients]))}
                            <span class="when">{tf(" · ghi nhận bởi {} lúc {}", &[&c.by_name, &date_time(c.at)])}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {may_record.then(|| view! {
                <form class="model-form commendation-form" novalidate on:submit=submit>
                    <h3>{t("Ghi nhận khen thưởng")}</h3>
                    <div class="row">
                        <div class="field">
                            <label for="commendation-form">{t("Hình thức")}</label>
                            <select id="commendation-form" prop:value=move || draft.with(|d| d.form.clone())
                                on:change=move |ev| draft.update(|d| d.form = event_target_value(&ev))>
                                {CommendationForm::ALL.iter().map(|f| view! { <option value=f.code()>{t(f.label())}</option> }).collect_view()}
                            </select>
                            {move || error_of("commendation-form")().map(|m| view! { <p class="field-error">{tr(&m)}</p> })}
                        </div>
                        <div class="field">
                            <label for="commendation-level">{t("Cấp khen thưởng")}</label>
                            <select id="commendation-level" prop:value=move || draft.with(|d| d.level.clone())
                                on:change=move |ev| draft.update(|d| d.level = event_target_value(&ev))>
                                {Level::ALL.iter().map(|l| view! { <option value=l.code()>{t(l.label())}</option> }).collect_view()}
                            </select>
                        </div>
                    </div>
                    {input("commendation-issuer", "Cơ quan, người ký quyết định", "text", |d| d.issuer.clone(), |d, v| d.issuer = v)}
                    <div class="row">
                        {input("commendation-number", "Số quyết định", "text", |d| d.decision_number.clone(), |d, v| d.decision_number = v)}
                        {input("commendation-date", "Ngày quyết định", "date", |d| d.decision_date.clone(), |d, v| d.decision_date = v)}
                    </div>
                    {input("commendation-recipients", "Người được khen (để trống nếu khen chủ thể mô hình)", "text", |d| d.recipients.clone(), |d, v| d.recipients = v)}
                    <div class="actions">
                        <button type="submit" class="button primary">{t("Ghi nhận")}</button>
                        <Show when=move || saved.get()><span class="ok" role="status">{t("Đã ghi nhận trên thiết bị này.")}</span></Show>
                    </div>
                </form>
            })}
        </section>
    }
    .into_any()
}
