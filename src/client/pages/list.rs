//! The model list and the library: search, filters and cards, read from the replica.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::engine::api;
use crate::client::local::{first_screen, settings};
use crate::client::net::sync::{Arriving, SyncStatus};
use crate::client::{date_time, use_app};
use crate::domain::{
    Model, ModelFilter, OwnerKind, Status, field_label, in_library, replication_points,
};
use crate::i18n::{self, t, tf, tr};

/// Cards shown at first and added by each "Xem thêm".
const LIST_PAGE: usize = 100;
/// Cards rendered first when the list opens: more than a laptop's screen holds (and what the
/// static shell paints from `first_screen` before the app runs). The rest of the
/// first page follows once they are painted, so the first cards never wait for a hundred of them
/// (at 4× CPU a hundred cards were a third of a warm start's longest task, issue 15).
const FIRST_SCREEN: usize = first_screen::CARDS;
/// How long one task of preparing the search texts may run before it yields to the page.
const PREPARE_SLICE_MS: f64 = 8.0;
/// How long typing in the search box must pause before the rest of the first page of matches
/// is drawn (see `on_search`).
const TYPING_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

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
            let profile = a.as_ref().map(|a| (&a.profile, a.profile.dealt_with()));
            models.with(|ms| {
                f(&mut ms.values().filter(|m| match &profile {
                    None => !library,
                    Some((p, _)) if library => in_library(m.status) && !p.writable.contains(&m.unit),
                    Some((_, dealt_with)) => dealt_with(&m.unit),
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
    let filters_open = RwSignal::new(false);
    let active_filters = move || [field, status, owner, year].iter().filter(|f| f.with(|v| !v.is_empty())).count();
    let searching = move || query.with(|q| !q.trim().is_empty());

    // A province holds thousands of models: show them a page at a time (cards are cloned and
    // rendered only for what is shown).
    let shown_limit = RwSignal::new(FIRST_SCREEN);
    let whole_page = move || _ = shown_limit.try_update(|n| *n = (*n).max(LIST_PAGE));
    request_animation_frame(move || set_timeout(whole_page, std::time::Duration::ZERO));
    // While someone types, each keystroke redraws only the first screen of cards; the rest of the
    // page follows once the typing pauses. At 4× CPU a hundred cards made again, and laid out,
    // were most of a keystroke's ~100 ms (issue 15); a phone's screen holds three of them.
    let typed = StoredValue::new(0u32);
    let on_search = move |ev: leptos::ev::Event| {
        query.set(event_target_value(&ev));
        shown_limit.set(FIRST_SCREEN);
        typed.update_value(|n| *n = n.wrapping_add(1));
        let this = typed.get_value();
        set_timeout(
            move || {
                if typed.try_get_value() == Some(this) {
                    whole_page();
                }
            },
            TYPING_PAUSE,
        );
    };
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
    let current_filter = move || ModelFilter {
        unit_names: unit_names.get(),
        query: query.get(),
        field: Some(field.get()).filter(|f| !f.is_empty()),
        status: Status::from_code(&status.get()),
        owner_kind: OwnerKind::from_code(&owner.get()),
        year: year.get().parse().ok(),
    };
    // The models' search texts, folded once per version of each model and kept by the replica
    // for the session: a keystroke scans prepared text (ModelFilter::apply_indexed).
    let index = app.replica.search.clone();
    // What the cards show, not the models: a keystroke copies a few short strings per card, not
    // every narrative of a hundred models (three times, as it did through `filtered` and `For`).
    let matches = Memo::new(move |_| {
        let filter = current_filter();
        let limit = shown_limit.get();
        let mut found = (0, Vec::new());
        with_shown(&mut |ms| {
            let all = filter.apply_indexed(ms, &mut index.borrow_mut());
            found = (all.len(), all.into_iter().take(limit).map(|m| Card::of(m, &filter.unit_names)).collect::<Vec<Card>>());
        });
        found
    });
    // The texts are folded in short slices between frames once the list shows (and when
    // the search box is focused, for models arrived since): the first keystroke then scans
    // prepared text instead of folding every model at once.
    let preparing = StoredValue::new(false);
    let prepare = {
        let index = app.replica.search.clone();
        move || {
            if preparing.try_get_value() != Some(false) {
                return;
            }
            preparing.set_value(true);
            let index = index.clone();
            leptos::task::spawn_local(async move {
                loop {
                    gloo_timers::future::TimeoutFuture::new(0).await;
                    // The list was left meanwhile: its names are gone, stop.
                    let Some(names) = unit_names.try_get_untracked() else { return };
                    // ~8 ms per task: slices of 100 models took up to ~80 ms at 4× CPU, long tasks
                    // that made most of the list's Lighthouse blocking time (issue 15).
                    let started = js_sys::Date::now();
                    let mut done = false;
                    with_shown(&mut |ms| done = index.borrow_mut().prepare(ms, &names, || js_sys::Date::now() - started < PREPARE_SLICE_MS));
                    if done {
                        break;
                    }
                }
                let _ = preparing.try_set_value(false);
            });
        }
    };
    Effect::new({
        let prepare = prepare.clone();
        move |_| prepare()
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

    let export_status = RwSignal::new(None::<String>);
    let export = move |kind: &'static str| {
        let filter = untrack(current_filter);
        let mut models = wasm_bindgen::JsValue::UNDEFINED;
        with_shown(&mut |ms| models = api::to_js(&filter.apply(ms)));
        export_status.set(Some(t("Đang tạo tệp…").into()));
        leptos::task::spawn_local(async move {
            export_status.set(crate::client::pages::reports::export_models(models, kind).await.err().map(|e| tr(&e)));
        });
    };
    // The list as it opens, kept for the static shell to paint at the next start before the
    // app runs (local::first_screen): drawn with no search and no filter, cards shown.
    if !library {
        Effect::new(move |_| {
            let plain = matches.with(|m| !m.1.is_empty()) && !searching() && active_filters() == 0;
            if let Some(owner) = account.with(|a| a.as_ref().map(|a| a.profile.username.clone())).filter(|_| plain) {
                keep_first_screen_soon(owner);
            }
        });
    }
    let statuses: Vec<Status> = Status::ALL.into_iter().filter(|s| !library || in_library(*s)).collect();
    view! {
        <section class=if library { "page list-page library-page" } else { "page list-page" }>
            {(!library).then(|| view! { <crate::client::components::banners::StorageWarningBanner/> })}
            <div class="page-head">
                {if library {
                    view! { <h1>{t("Thư viện mô hình")}</h1> }.into_any()
                } else {
                    view! {
                        <h1>{t("Mô hình “Dân vận khéo”")}</h1>
                        <A href="/mo-hinh/moi" attr:class="button primary">{t("Thêm mô hình")}</A>
                        <A href="/nhap-tu-tep" attr:class="button secondary" attr:id="import-link">{t("Nhập từ tệp")}</A>
                    }.into_any()
                }}
            </div>
            {library.then(|| view! {
                <p class="note">{t("Mô hình đã được công nhận, điển hình, khen thưởng của các đơn vị khác — xem để học hỏi và bấm “Nhân rộng mô hình này” để áp dụng ở đơn vị mình.")}</p>
            })}
            // On a phone the four filters fold behind "Bộ lọc (n)" so the first cards show; from
            // 720 px they are always shown and the button is hidden (style/main.css).
            <div class="filters" class:open=move || filters_open.get()>
                <div class="search-row">
                    <div class="field search">
                        <label for="search">{t("Tìm kiếm")}</label>
                        <input id="search" type="search" autocomplete="off"
                            placeholder=t("Tên, nội dung, đơn vị… (gõ không dấu cũng được)")
                            prop:value=query on:input=on_search
                            on:focus=move |_| prepare()/>
                    </div>
                    <button type="button" id="filter-toggle" class="button filter-toggle" aria-controls="filter-panel"
                        aria-expanded=move || filters_open.get().to_string()
                        on:click=move |_| filters_open.update(|open| *open = !*open)>
                        {move || match active_filters() {
                            0 => t("Bộ lọc").to_string(),
                            n => tf("Bộ lọc ({})", &[&n]),
                        }}
                    </button>
                </div>
                <div class="filter-panel" id="filter-panel">
                    <FilterSelect id="filter-field" label=t("Lĩnh vực") value=field
                        options=Signal::derive(move || settings.with(|s| s.fields()).into_iter().map(|(code, label)| (code, tr(&label))).collect())/>
                    <FilterSelect id="filter-status" label=t("Trạng thái") value=status
                        options=Signal::derive(move || statuses.iter().map(|s| (s.code().to_string(), t(s.label()).to_string())).collect())/>
                    <FilterSelect id="filter-owner-kind" label=t("Loại chủ thể") value=owner
                        options=Signal::derive(|| OwnerKind::ALL.iter().map(|k| (k.code().to_string(), t(k.label()).to_string())).collect())/>
                    <FilterSelect id="filter-year" label=t("Năm") value=year
                        options=Signal::derive(move || years.get().into_iter().map(|y| (y.to_string(), y.to_string())).collect())/>
                </div>
            </div>
            <div class="list-bar">
                <p class="count" aria-live="polite">
                    {move || {
                        let found = matching();
                        if found == total() { tf("{} mô hình", &[&i18n::count(found)]) } else { tf("{} / {} mô hình", &[&i18n::count(found), &i18n::count(total())]) }
                    }}
                    {move || (decoding.get() > 0).then(|| format!(" — {}", tf("đang mở thêm {} mô hình vừa tải về…", &[&i18n::count(decoding.get())])))}
                    // The order, said: while searching, best match first (ModelFilter::apply).
                    <span class="order">{move || if searching() { t("phù hợp nhất trước") } else { t("mới cập nhật trước") }}</span>
                </p>
                // The list as filtered, as a file: written by the report module (loaded on demand),
                // so the spreadsheet writer never weighs on the app's first load.
                <Show when=move || { matching() > 0 }>
                    <div class="list-export">
                        <button type="button" id="export-xlsx" class="button secondary" on:click=move |_| export("xlsx")>{t("Xuất XLSX")}</button>
                        <button type="button" id="export-csv" class="button secondary" on:click=move |_| export("csv")>{t("Xuất CSV")}</button>
                        {move || export_status.get().map(|s| view! { <span class="muted" role="status">{s}</span> })}
                    </div>
                </Show>
            </div>
            <Show when=move || { total() > 0 && arriving().is_some() }>
                <p class="note" id="arriving" aria-live="polite">{move || arriving().map(arriving_text)}</p>
            </Show>
            <Show when=move || unreadable.with(|u| !u.is_empty())>
                <p class="warning" role="alert">
                    {move || tf("{} mô hình trên thiết bị không đọc được (xem Cài đặt).", &[&i18n::count(unreadable.with(|u| u.len()))])}
                </p>
            </Show>
            <Show when=move || rejected.with(|r| !r.is_empty())>
                <p class="warning" role="alert" id="refused-note">
                    {move || tf("Máy chủ chưa nhận {} mô hình; nội dung vẫn được giữ trên thiết bị (xem Cài đặt).", &[&i18n::count(rejected.with(|r| r.len()))])}
                </p>
            </Show>
            <Show
                when=move || filtered.with(|f| !f.is_empty())
                fallback=move || view! {
                    <div class="empty">
                        {move || if total() == 0 && decoding.get() > 0 && arriving().is_none() {
                            // The documents are there, their models not read yet (a cache of an
                            // older version, after an update): not "no models", which would
                            // frighten a cadre whose list showed a moment ago.
                            tf("Đang mở {} mô hình trên thiết bị này…", &[&i18n::count(decoding.get())])
                        } else if total() == 0 && library {
                            t("Thư viện chưa có mô hình nào của đơn vị khác trên thiết bị này. Mô hình được công nhận ở nơi khác sẽ về khi đồng bộ.").to_string()
                        } else if let (0, Some(a)) = (total(), arriving()) {
                            tf("{} Mô hình hiện ở đây ngay khi về tới thiết bị.", &[&arriving_text(a)])
                        } else if total() == 0 {
                            t("Chưa có mô hình nào trên thiết bị này. Bấm “Thêm mô hình” để đăng ký — không cần mạng.").to_string()
                        } else {
                            t("Không có mô hình nào khớp với tìm kiếm và bộ lọc.").to_string()
                        }}
                    </div>
                }
            >
                <div class="cards">
                    <For each=move || filtered.get() key=|c| (c.id.clone(), c.updated_at) let:card>
                        <ModelCard card/>
                    </For>
                </div>
                <Show when=move || { matching() > filtered.with(|f| f.len()) }>
                    <button type="button" class="button more" on:click=move |_| shown_limit.update(|n| *n += LIST_PAGE)>
                        {move || tf("Xem thêm (đang hiện {} / {})", &[&i18n::count(filtered.with(|f| f.len())), &i18n::count(matching())])}
                    </button>
                </Show>
            </Show>
        </section>
    }
}

thread_local! {
    static FIRST_SCREEN_DUE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps the list as drawn now for the static shell (`local::first_screen`), once the browser is
/// idle: several changes of the list in a row are kept once, as the page is at that moment.
fn keep_first_screen_soon(owner: String) {
    if FIRST_SCREEN_DUE.with(|due| due.replace(true)) {
        return;
    }
    crate::client::when_idle(move || {
        FIRST_SCREEN_DUE.with(|due| due.set(false));
        keep_first_screen(&owner);
    });
}

/// The list page copied from the DOM with its first `first_screen::CARDS` cards, and the menu.
/// Only the cards kept are copied (not the page's hundred, then most of them dropped): this runs
/// after every change of the list, a first sync's every batch among them.
fn keep_first_screen(owner: &str) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    // Still on the list (not the library, not a page opened meanwhile).
    let Ok(Some(page)) = document.query_selector("#app main > section.list-page:not(.library-page)") else { return };
    let element = |node: Result<web_sys::Node, wasm_bindgen::JsValue>| node.ok().and_then(|n| n.dyn_into::<web_sys::Element>().ok());
    let Some(copy) = element(page.clone_node_with_deep(false)) else { return };
    let mut part = page.first_element_child();
    while let Some(original) = part {
        let copied = if original.matches(".cards").unwrap_or(false) {
            let cards = element(original.clone_node_with_deep(false));
            let mut card = original.first_element_child();
            for _ in 0..first_screen::CARDS {
                let Some(c) = card else { break };
                if let (Some(cards), Some(kept)) = (&cards, element(c.clone_node_with_deep(true))) {
                    let _ = cards.append_child(&kept);
                }
                card = c.next_element_sibling();
            }
            cards
        } else {
            element(original.clone_node_with_deep(true))
        };
        if let Some(copied) = copied {
            let _ = copy.append_child(&copied);
        }
        part = original.next_element_sibling();
    }
    // "Xem thêm" and what only this moment shows (a file being written) are not the next start's.
    if let Ok(passing) = copy.query_selector_all("button.more, .list-export [role=status]") {
        for i in 0..passing.length() {
            if let Some(e) = passing.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                e.remove();
            }
        }
    }
    let nav = document.query_selector("#app header nav").ok().flatten().map(|n| n.inner_html()).unwrap_or_default();
    first_screen::keep(owner, i18n::lang().code(), &nav, &copy.outer_html());
}

/// "Đang nhận mô hình của đơn vị: 240 / 1.500…" (the count once the server's first answer says it).
fn arriving_text(a: Arriving) -> String {
    match a.expected {
        Some(expected) => tf("Đang nhận mô hình của đơn vị: {} / {}…", &[&i18n::count(a.received), &i18n::count(expected)]),
        None => t("Đang nhận mô hình của đơn vị…").to_string(),
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
                <option value="">{t("Tất cả")}</option>
                {move || options.get().into_iter().map(|(code, text)| {
                    let selected = value.with_untracked(|v| *v == code);
                    view! { <option value=code selected=selected>{text}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// What a model's card shows.
#[derive(Clone, PartialEq)]
struct Card {
    id: String,
    name: String,
    status: Status,
    field: String,
    owner_kind: OwnerKind,
    year: u32,
    owner_name: String,
    /// The registering unit's name (`app::model_unit_name`, from the names the list knows).
    unit: String,
    replication_points: usize,
    updated_at: i64,
    updated_by: String,
}

impl Card {
    fn of(m: &Model, unit_names: &std::collections::HashMap<String, String>) -> Card {
        let unit = if m.unit_name.is_empty() { unit_names.get(&m.unit).unwrap_or(&m.unit).clone() } else { m.unit_name.clone() };
        Card {
            id: m.id.clone(),
            name: m.name.clone(),
            status: m.status,
            field: m.field.clone(),
            owner_kind: m.owner_kind,
            year: m.year,
            owner_name: m.owner_name.clone(),
            unit,
            replication_points: replication_points(&m.replications),
            updated_at: m.updated_at,
            updated_by: m.updated_by.clone(),
        }
    }
}

#[component]
fn ModelCard(card: Card) -> impl IntoView {
    let href = format!("/mo-hinh/{}", card.id);
    let rejected = use_app().sync.rejected;
    let id = card.id.clone();
    let refused = move || rejected.with(|r| r.contains_key(&id));
    view! {
        <article class="model-card">
            <Show when=refused.clone()>
                <p class="badge refused" title=t("Máy chủ chưa nhận thay đổi; nội dung vẫn được giữ trên thiết bị")>{t("Máy chủ chưa nhận")}</p>
            </Show>
            <h2><A href=href>{card.name}</A></h2>
            <p class="meta">
                <span class="badge status">{t(card.status.label())}</span>
                <span>{tr(field_label(&card.field))}</span>
                <span>{t(card.owner_kind.label())}</span>
                <span>{card.year}</span>
            </p>
            <p class="owner">{card.owner_name} " · " {card.unit}</p>
            {(card.replication_points > 0).then(|| view! {
                <p class="replicated">{tf("Nhân rộng tại {} điểm", &[&card.replication_points])}</p>
            })}
            <p class="updated">{tf("Cập nhật {} — {}", &[&date_time(card.updated_at), &card.updated_by])}</p>
        </article>
    }
}
