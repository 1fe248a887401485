//! Evaluation on a model's page: the reviewer's score sheet for a proposed model (each
//! criterion scored with a comment, saved on the device, the result submitted once all are
//! scored),
//! and every evaluation made, with its scores and the log of scores given.

use leptos::prelude::*;

use crate::client::{date_time, local::settings, use_app};
use crate::domain::{Action, Evaluation, EvaluationStep, Model, Status, draft_of};
use crate::i18n::{t, tf, tr};

/// The score sheet of the signed-in reviewer, on a model proposed for recognition.
#[component]
pub fn EvaluationPanel(model: Model) -> impl IntoView {
    let app = use_app();
    let Some(account) = app.account.get_untracked() else { return ().into_any() };
    let roles = account.profile.roles_for(&model.unit);
    if !roles.reviewer || model.status != Status::Proposed {
        return ().into_any();
    }
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run = {
        let (replica, id, account) = (app.replica.clone(), model.id.clone(), account.clone());
        move |step: EvaluationStep, done: Option<Box<dyn FnOnce()>>| {
            let (replica, id, account) = (replica.clone(), id.clone(), account.clone());
            busy.set(true);
            leptos::task::spawn_local(async move {
                let p = &account.profile;
                let result = replica.evaluate(&id, step, &p.username, &p.display_name, roles).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        error.set(None);
                        if let Some(done) = done {
                            done();
                        }
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let sheet = draft_of(&model.evaluations, &account.profile.username).cloned();
    let body = match sheet {
        None => {
            let criteria = account.profile.criteria_for(model.owner_kind);
            let count = criteria.len();
            let run = run.clone();
            view! {
                <p>{tf("Chấm điểm mô hình theo {} tiêu chí dành cho chủ thể “{}”. Điểm được lưu ngay trên thiết bị, không cần mạng.", &[&count, &t(model.owner_kind.label()).to_lowercase()])}</p>
                <button id="start-evaluation" class="button primary" disabled=move || busy.get()
                    on:click=move |_| run(EvaluationStep::Start(criteria.clone()), None)>{t("Bắt đầu chấm điểm")}</button>
            }
            .into_any()
        }
        Some(sheet) => view! { <ScoreSheet sheet run busy/> }.into_any(),
    };
    view! {
        <section class="item evaluation-panel">
            <h2>{t("Bình xét theo tiêu chí")}</h2>
            {body}
            <Show when=move || error.with(Option::is_some)>
                // A SaveError's sentence, in Vietnamese.
                <p class="error" role="alert">{move || error.get().map(|e| tr(&e))}</p>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn ScoreSheet(
    sheet: Evaluation,
    run: impl Fn(EvaluationStep, Option<Box<dyn FnOnce()>>) + Clone + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let (got, max) = sheet.total();
    let missing = sheet.unscored().count();
    let result = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    // The sheet as typed (criterion, score, comment): saved together, so the page is redrawn
    // once, not under the reviewer's fingers after every field.
    // Typed but not saved yet: kept on the device, so a redraw (a sync landing) loses nothing.
    let key = format!("scores-{}", sheet.id);
    let kept: Vec<(String, String, String)> = settings::load_draft(&key).unwrap_or_default();
    let typed: Vec<(String, RwSignal<String>, RwSignal<String>)> = sheet
        .scores
        .iter()
        .map(|s| {
            let (score, comment) = kept
                .iter()
                .find(|(c, _, _)| *c == s.criterion)
                .map(|(_, v, m)| (v.clone(), m.clone()))
                .unwrap_or_else(|| (s.score.map(|v| v.to_string()).unwrap_or_default(), s.comment.clone()));
            (s.criterion.clone(), RwSignal::new(score), RwSignal::new(comment))
        })
        .collect();
    {
        let (key, typed) = (key.clone(), typed.clone());
        let stored: Vec<(String, String, String)> = sheet
            .scores
            .iter()
            .map(|s| (s.criterion.clone(), s.score.map(|v| v.to_string()).unwrap_or_default(), s.comment.clone()))
            .collect();
        Effect::new(move |_| {
            let now: Vec<(String, String, String)> = typed.iter().map(|(c, s, m)| (c.clone(), s.get(), m.get())).collect();
            // Only what differs from the saved sheet is a draft (scores saved on another device
            // then show as they are).
            if now == stored { settings::clear_draft(&key) } else { settings::save_draft(&key, &now) }
        });
    }
    let rows = sheet
        .scores
        .iter()
        .zip(&typed)
        .map(|(s, (_, score, comment))| {
            let (score, comment) = (*score, *comment);
            view! {
                <tr class=if s.score.is_some() { "scored" } else { "unscored" }>
                    <td>{tr(&s.label)}</td>
                    <td class="score">
                        <input id=format!("score-{}", s.criterion) type="number" min="0" max=s.max.to_string() inputmode="numeric"
                            aria-label=tf("Điểm: {}", &[&tr(&s.label)])
                            prop:value=score on:input=move |ev| score.set(event_target_value(&ev))/>
                        {format!(" / {}", s.max)}
                    </td>
                    <td>
                        <input id=format!("comment-{}", s.criterion) type="text" aria-label=tf("Nhận xét: {}", &[&tr(&s.label)])
                            placeholder=t("Nhận xét") prop:value=comment on:input=move |ev| comment.set(event_target_value(&ev))/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let as_typed = move || typed.iter().map(|(c, s, m)| (c.clone(), s.get_untracked(), m.get_untracked())).collect::<Vec<_>>();
    let save = {
        let (run, as_typed, key) = (run.clone(), as_typed.clone(), key.clone());
        move |_| {
            let key = key.clone();
            run(EvaluationStep::Score(as_typed()), Some(Box::new(move || settings::clear_draft(&key))))
        }
    };
    let submit = move |_| {
        let Some(action) = Action::from_code(&result.get_untracked()) else { return };
        let key = key.clone();
        run(
            EvaluationStep::Submit { scores: as_typed(), result: action, reason: reason.get_untracked() },
            Some(Box::new(move || {
                settings::clear_draft(&key);
                reason.set(String::new());
            })),
        )
    };
    view! {
        <table class="score-sheet">
            <thead><tr><th>{t("Tiêu chí")}</th><th>{t("Điểm")}</th><th>{t("Nhận xét")}</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <p id="score-total" aria-live="polite">
            {tf("Đã lưu: {}/{} điểm", &[&got, &max])}
            {(missing > 0).then(|| tf(" — còn {} tiêu chí chưa chấm", &[&missing]))}
        </p>
        <button id="save-scores" class="button" disabled=move || busy.get() on:click=save>{t("Lưu điểm")}</button>
        <fieldset class="evaluation-result">
            <legend>{t("Kết quả")}</legend>
            {[Action::Recognise, Action::Reject, Action::Return].into_iter().map(|a| view! {
                <label class="choice">
                    <input type="radio" name="evaluation-result" value=a.code() id=format!("result-{}", a.code())
                        on:change=move |_| result.set(a.code().to_string())/>
                    {t(a.label())}
                </label>
            }).collect_view()}
            <div class="field">
                <label for="evaluation-reason">{t("Lý do, nhận xét chung (bắt buộc khi không công nhận hoặc trả lại)")}</label>
                <textarea id="evaluation-reason" rows="3" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
            </div>
            <button id="submit-evaluation" class="button primary"
                disabled=move || busy.get() || result.with(String::is_empty) on:click=submit>{t("Lưu điểm và gửi kết quả")}</button>
        </fieldset>
    }
}

/// Every evaluation of the model (submitted ones, and sheets being filled), with the log of
/// every score given.
#[component]
pub fn Evaluations(model: Model) -> impl IntoView {
    if model.evaluations.is_empty() {
        return ().into_any();
    }
    let mut list: Vec<&Evaluation> = model.evaluations.iter().collect();
    list.sort_by_key(|e| std::cmp::Reverse(e.started_at));
    view! {
        <section class="item evaluations">
            <h2>{t("Các lần bình xét")}</h2>
            {list.into_iter().map(|e| {
                let (got, max) = e.total();
                let head = match e.result_action() {
                    Some(a) if e.is_submitted() => tf("{} — {} ({}): {}, {}/{} điểm", &[&date_time(e.submitted_at), &e.by_name, &t("đã gửi"), &t(a.label()), &got, &max]),
                    _ => tf("{} — {}: đang chấm, {}/{} điểm", &[&date_time(e.started_at), &e.by_name, &got, &max]),
                };
                view! {
                    <details class="evaluation" open=e.is_submitted()>
                        <summary>{head}</summary>
                        {(!e.reason.is_empty()).then(|| view! { <blockquote>{e.reason.clone()}</blockquote> })}
                        <ul class="scores">
                            {e.scores.iter().map(|s| view! {
                                <li>
                                    {tr(&s.label)} ": "
                                    <strong>{s.score.map_or_else(|| t("chưa chấm").to_string(), |v| format!("{v}/{}", s.max))}</strong>
                                    {(!s.comment.is_empty()).then(|| format!(" — {}", s.comment))}
                                </li>
                            }).collect_view()}
                        </ul>
                        <details class="score-log">
                            <summary>{tf("Lịch sử chấm điểm ({} lần)", &[&e.changes.len()])}</summary>
                            <ol>
                                {e.changes.iter().map(|c| view! {
                                    <li>
                                        {date_time(c.at)} " · " {tr(&c.label)} ": "
                                        {c.from.map_or_else(|| t("chưa chấm").to_string(), |v| v.to_string())} " → " <strong>{c.to}</strong>
                                        {(!c.comment.is_empty()).then(|| format!(" ({})", c.comment))}
                                    </li>
                                }).collect_view()}
                            </ol>
                        </details>
                    </details>
                }
            }).collect_view()}
        </section>
    }
    .into_any()
}
