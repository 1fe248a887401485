//! On a model's page: values two people set at the same time (with a choice of which to keep), and
//! the history of every saved change — both read from the automerge document itself.

use leptos::prelude::*;

use crate::client::{date_time, use_app};
use wasm_bindgen::JsValue;

use crate::client::engine::api;
use crate::client::local::engine;
use crate::doc::{Conflict, PieceKind, Revision};
use crate::domain::Model;
use crate::i18n::{self, t, tf, tr};

/// Long texts in the history are cut to this many characters.
const SHOWN_CHARS: usize = 240;

fn cut(text: &str) -> String {
    if text.chars().count() <= SHOWN_CHARS {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(SHOWN_CHARS).collect::<String>())
    }
}

/// A value as `doc::history` gives it, in the interface's language: what it makes of a coded item
/// (the label of a field, level or owner kind; a list's "3 mục") is a Vietnamese text of the
/// catalogue, and it writes dates dd/mm/yyyy. Anything else is what people typed, shown as typed.
fn shown(key: &str, value: String) -> String {
    let number = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match key {
        "field" | "level" | "owner_kind" => tr(&value),
        "start_date" | "end_date" | "evaluation_date" => match crate::domain::Date::parse_vi(&value) {
            Some(d) => i18n::day_month_year(d.year.into(), d.month.into(), d.day.into()),
            None => value,
        },
        // doc::history's own words, matched, not shown.
        _ if value.strip_suffix(i18n::vi(" mục")).is_some_and(number) => tr(&value),
        _ => value,
    }
}

/// Reads the model's document (again whenever the model changes) and shows its conflicts and
/// history.
#[component]
pub fn Revisions(model: Model) -> impl IntoView {
    let app = use_app();
    let conflicts = RwSignal::new(Vec::<Conflict>::new());
    let revisions = RwSignal::new(Vec::<Revision>::new());
    let older = RwSignal::new(0usize);
    let error = RwSignal::new(None::<String>);
    let id = model.id.clone();
    {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            // Decoding the document's history took ~17 ms of the engine at 4× CPU on every visit
            // to a model's page, before the page (and a save's "Đã lưu") was painted.
            crate::client::after_paint().await;
            let read = engine::request("revisions", &[JsValue::from_str(&id)], |e| e).await.and_then(engine::answer::<api::Revisions>);
            match read {
                Ok(r) => {
                    conflicts.set(r.conflicts);
                    older.set(r.history.older);
                    revisions.set(r.history.revisions);
                }
                Err(e) => error.set(Some(tf("Không đọc được lịch sử của mô hình: {}", &[&tr(&e)]))),
            }
        });
    }
    let account = app.account;
    let unit_name = move |code: &str| account.with_untracked(|a| a.as_ref().map_or(code.to_string(), |a| a.profile.unit_name(code).to_string()));
    let cadre = app.account.with_untracked(|a| a.as_ref().is_some_and(|a| a.profile.roles_for(&model.unit).cadre));
    let author = app.account.with_untracked(|a| a.as_ref().map(|a| a.profile.display_name.clone())).unwrap_or_default();
    // A Callback is Copy, so every value's button can hold it.
    let keep = Callback::new(move |(c, choice): (Conflict, usize)| {
        let (replica, id, author) = (app.replica.clone(), id.clone(), author.clone());
        leptos::task::spawn_local(async move {
            if let Err(e) = replica.resolve_conflict(&id, &c.place, choice, &author).await {
                error.set(Some(tr(&e.to_string())));
            }
        });
    });
    view! {
        <Show when=move || conflicts.with(|c| !c.is_empty())>
            <section class="item conflicts" role="alert">
                <h2>{t("Giá trị bị sửa đồng thời")}</h2>
                <p class="hint">{t("Hai người đã sửa cùng một mục khi không có mạng. Cả hai giá trị đều được giữ; giá trị đầu tiên đang được hiển thị.")}
                    {if cadre { t(" Hãy chọn giá trị đúng.") } else { t(" Cán bộ của đơn vị sẽ chọn giá trị đúng.") }}</p>
                {move || conflicts.get().into_iter().map(|c| {
                    let values = c.values.clone();
                    view! {
                        <div class="conflict">
                            <h3>{tr(&c.label)}</h3>
                            <ul>
                                {values.into_iter().enumerate().map(|(i, v)| {
                                    let c = c.clone();
                                    view! {
                                        <li>
                                            <span class="value">{v}</span>
                                            {cadre.then(|| view! {
                                                <button class="button small" on:click=move |_| keep.run((c.clone(), i))>{t("Giữ giá trị này")}</button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </div>
                    }
                }).collect_view()}
            </section>
        </Show>
        <details class="item revisions">
            <summary><h2>{move || tf("Lịch sử sửa đổi ({})", &[&(revisions.with(Vec::len) + older.get())])}</h2></summary>
            <ol id="revisions">
                {move || revisions.get().into_iter().rev().map(|r| view! {
                    <li>
                        <span class="when">{date_time(r.at)}</span> " · " <strong>{r.author.clone()}</strong>
                        // What the change was, as the engine wrote it (Vietnamese, kept in the document).
                        {(!r.message.is_empty()).then(|| format!(" — {}", tr(&r.message)))}
                        <ul>
                            {r.changes.into_iter().map(|mut c| {
                                if c.key == "unit" {
                                    // Units are stored by code; show their names.
                                    c.to = c.to.map(|code| unit_name(&code));
                                    c.from = c.from.map(|code| unit_name(&code));
                                }
                                let key = c.key.clone();
                                c.from = c.from.map(|v| shown(&key, v));
                                c.to = c.to.map(|v| shown(&key, v));
                                view! {
                                <li>
                                    <span class="item-label">{tr(&c.label)}</span> ": "
                                    {match (c.from, c.to) {
                                        // A narrative: what went and came inside it, in place.
                                        _ if !c.pieces.is_empty() => view! {
                                            <span class="text-diff">{c.pieces.into_iter().map(|p| match p.kind {
                                                PieceKind::Same => view! { <span>{p.text}</span> }.into_any(),
                                                PieceKind::Removed => view! { <del>{p.text}</del> }.into_any(),
                                                PieceKind::Added => view! { <ins>{p.text}</ins> }.into_any(),
                                            }).collect_view()}</span>
                                        }.into_any(),
                                        (None, Some(to)) => view! { <span class="to">{cut(&to)}</span> }.into_any(),
                                        (Some(from), Some(to)) => view! { <del>{cut(&from)}</del> " → " <ins>{cut(&to)}</ins> }.into_any(),
                                        (Some(from), None) => view! { <del>{cut(&from)}</del> {t(" (đã xóa)")} }.into_any(),
                                        (None, None) => view! { <span>{t("đã sửa")}</span> }.into_any(),
                                    }}
                                </li>
                                }
                            }).collect_view()}
                        </ul>
                    </li>
                }).collect_view()}
            </ol>
            <Show when=move || { older.get() > 0 }>
                <p class="hint">{move || tf("Chỉ hiện {} thay đổi gần nhất; {} thay đổi cũ hơn không hiện ở đây.", &[&revisions.with(Vec::len), &older.get()])}</p>
            </Show>
        </details>
        <Show when=move || error.with(Option::is_some)>
            <p class="error" role="alert">{move || error.get()}</p>
        </Show>
    }
}
