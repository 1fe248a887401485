//! The contest pages (`/hoi-thi`, `/hoi-thi/<id>`, issue 16), in the on-demand module: a
//! contest is organised once a year, and its screens, rules and result tables must not weigh on
//! a cadre's first load. The app hands over the contests on the device as JSON
//! (`input::ContestInput`) and writes what these pages ask through the document engine
//! (`ContestCalls::write`), which applies the same `ContestChange` to the contest as stored and
//! checks it with the server's rule. Everything here works offline: a judge scores at a commune
//! hall without a network and the sheet syncs when a connection appears.
//!
//! Every change is first applied here to a copy of the contest shown (`Contest::apply`), so a
//! bad cell or a refused step is named at once, next to its field, without waiting for storage.

use std::collections::BTreeMap;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::input::ContestInput;
use crate::client::engine::api::{self, ContestApplied, SaveError};
use crate::api::JudgeCandidate;
use crate::client::format::date_time;
use crate::client::net::http;
use crate::domain::contest::{
    Contest, ContestChange, check_contest, Judge, PartInput, Prize, PrizeKind, PrizeQuotas, Problems, RoundResults, ScoreInput, Stage, format_points,
    score_control,
};
use crate::domain::{Access, Level, UnitTree};
use crate::i18n::{self, Lang, t, tf, tr, vi};
use super::print;

/// What the app gives the pages: `write(id | null, json) -> Promise<contest json>` (rejected with
/// the JSON of `SaveError`) and `navigate(path)`.
pub struct ContestCalls {
    pub write: js_sys::Function,
    pub navigate: js_sys::Function,
}

/// What every part of the pages reaches.
#[derive(Clone, Copy)]
struct Ctx {
    input: RwSignal<ContestInput>,
    calls: StoredValue<SendWrapper<ContestCalls>>,
    contests: Memo<BTreeMap<String, Result<Contest, String>>>,
    /// People the organiser may pick as judges (`GET /api/people/judges`), fetched once when a
    /// round form first shows with a live session; empty offline — usernames are typed then.
    judge_candidates: RwSignal<Option<Vec<JudgeCandidate>>>,
}

impl Ctx {
    /// Asks the server once for the people the organiser may pick as judges; a failure (offline,
    /// session ended) leaves the list empty and the usernames typed.
    fn load_judge_candidates(&self) {
        if self.judge_candidates.with_untracked(Option::is_some) {
            return;
        }
        self.judge_candidates.set(Some(Vec::new()));
        let Some(token) = self.input.with_untracked(|i| i.token.clone()) else { return };
        let candidates = self.judge_candidates;
        leptos::task::spawn_local(async move {
            if let Ok(people) = http::call::<Vec<JudgeCandidate>>(reqwest::Method::GET, "/api/people/judges", Some(&token), http::Body::None).await {
                candidates.set(Some(people));
            }
        });
    }

    /// The full name of the candidate with this username, if the list has them.
    fn candidate_name(&self, username: &str) -> Option<String> {
        self.judge_candidates.with_untracked(|c| c.as_ref()?.iter().find(|p| p.username == username).map(|p| p.display_name.clone()))
    }

    fn tree(&self) -> UnitTree {
        self.input.with_untracked(|i| UnitTree::from_units(i.user.units.clone(), i.user.clusters.clone()))
    }

    fn access(&self) -> Access {
        Access::new(&self.input.with_untracked(|i| i.user.grants.clone()), &self.tree())
    }

    fn username(&self) -> String {
        self.input.with_untracked(|i| i.user.username.clone())
    }

    /// The level a unit works at: a contest it organises is of that level, unless said otherwise.
    fn unit_level(&self, code: &str) -> Option<Level> {
        self.input.with_untracked(|i| i.user.units.iter().find(|u| u.code == code).map(|u| u.level))
    }

    fn unit_name(&self, code: &str) -> String {
        self.input.with_untracked(|i| i.user.units.iter().find(|u| u.code == code).map_or_else(|| code.to_string(), |u| u.name.clone()))
    }

    fn navigate(&self, path: &str) {
        self.calls.with_value(|c| {
            let _ = c.navigate.call1(&JsValue::NULL, &JsValue::from_str(path));
        });
    }

    fn is_organiser(&self, contest: &Contest) -> bool {
        let access = self.access();
        access.can_review(&contest.unit) || access.can_manage(&contest.unit)
    }

    /// Hands the engine a new contest (its JSON) or, for a change, the `apply` function it calls
    /// with the contest as stored; the stored contest comes back.
    async fn write(&self, id: Option<String>, arg: JsValue) -> Result<Contest, SaveError> {
        let promise = self.calls.with_value(|c| {
            let id = id.as_deref().map_or(JsValue::NULL, JsValue::from_str);
            c.write.call2(&JsValue::NULL, &id, &arg)
        });
        let promise: js_sys::Promise = promise.and_then(|p| p.dyn_into().map_err(JsValue::from)).map_err(|e| SaveError::Engine(describe(&e)))?;
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(v) => serde_json::from_str(&v.as_string().unwrap_or_default()).map_err(|e| SaveError::Document(e.to_string())),
            Err(e) => Err(e.as_string().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_else(|| SaveError::Engine(describe(&e)))),
        }
    }

    /// Creates `contest` once the server's rule accepts it from this user.
    async fn create(&self, contest: Contest) -> Result<Contest, SaveError> {
        check_contest(None, &contest, &self.username(), &self.access(), &self.tree()).map_err(SaveError::Refused)?;
        self.write(None, JsValue::from_str(&api::to_json(&contest))).await
    }

    /// Stores `change`: the engine calls back, inside its storage transaction, with the contest
    /// as stored at that moment; the change is applied to it here (`Contest::apply`) and checked
    /// with the server's rule (`check_contest`), so a refusal comes with the server's sentence,
    /// offline, and nothing is stored.
    async fn change(&self, id: &str, change: ContestChange) -> Result<(), Problems> {
        let (user, tree, access) = (self.username(), self.tree(), self.access());
        let now = js_sys::Date::now() as i64;
        let message = change.message().to_string();
        let apply = Closure::<dyn Fn(String) -> String>::new(move |before: String| {
            let answer = (|| -> Result<Option<ContestApplied>, SaveError> {
                let before: Contest = api::from_json(&before).map_err(SaveError::Engine)?;
                let mut after = before.clone();
                let changed = after
                    .apply(change.clone(), &user, &tree, now, || uuid::Uuid::new_v4().to_string())
                    .map_err(|problems| SaveError::Invalid(crate::domain::FieldErrors(problems)))?;
                if !changed {
                    return Ok(None);
                }
                check_contest(Some(&before), &after, &user, &access, &tree).map_err(SaveError::Refused)?;
                Ok(Some(ContestApplied { contest: api::to_json(&after), message: message.clone(), now }))
            })();
            api::to_json(&answer)
        });
        let result = self.write(Some(id.to_string()), apply.as_ref().clone()).await;
        // The engine has called it (or failed) by now.
        drop(apply);
        result.map(|_| ()).map_err(problems_of)
    }

    /// A button's change: asked to confirm first when `confirm` says what it does, the button
    /// busy meanwhile, the problems (or none) shown after.
    fn run(&self, id: String, change: ContestChange, confirm: Option<&str>, busy: RwSignal<bool>, problems: RwSignal<Problems>) {
        self.run_then(id, change, confirm, busy, problems, || {});
    }

    /// The same, with `stored` called once the change is stored (a form that stays on the
    /// screen clears what it has just recorded).
    fn run_then(&self, id: String, change: ContestChange, confirm: Option<&str>, busy: RwSignal<bool>, problems: RwSignal<Problems>, stored: impl FnOnce() + 'static) {
        if let Some(text) = confirm
            && !web_sys::window().and_then(|w| w.confirm_with_message(text).ok()).unwrap_or(false)
        {
            return;
        }
        let ctx = *self;
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = ctx.change(&id, change).await;
            busy.set(false);
            if result.is_ok() {
                stored();
            }
            problems.set(result.err().unwrap_or_default());
        });
    }
}

fn problems_of(e: SaveError) -> Problems {
    match e {
        SaveError::Invalid(errors) => errors.0,
        other => vec![(String::new(), other.to_string())],
    }
}

/// Points as the interface writes decimals ("8,5" / "8.5"; the sheet reads either).
fn points_text(hundredths: u32) -> String {
    let text = format_points(hundredths);
    if i18n::lang() == Lang::En { text.replace(',', ".") } else { text }
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// The problem of one control, or of the change as a whole ("").
fn problem(problems: RwSignal<Problems>, control: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || problems.with(|ps| ps.iter().find(|(c, _)| c == control).map(|(_, m)| tr(m)))
}

/// Every problem not tied to a control shown on the form.
#[component]
fn Problems(problems: RwSignal<Problems>, #[prop(optional)] shown: &'static [&'static str]) -> impl IntoView {
    view! {
        <Show when=move || problems.with(|ps| ps.iter().any(|(c, _)| !shown.contains(&c.as_str())))>
            <div class="error" role="alert">
                <ul class="plain">
                    {move || problems.with(|ps| ps.iter().filter(|(c, _)| !shown.contains(&c.as_str())).map(|(_, m)| view! { <li>{tr(m)}</li> }).collect_view())}
                </ul>
            </div>
        </Show>
    }
}

pub fn view(input: RwSignal<ContestInput>, calls: ContestCalls) -> impl IntoView {
    let contests = Memo::new(move |_| {
        input.with(|i| {
            i.contests
                .iter()
                .map(|(id, json)| (id.clone(), json.as_ref().map_err(Clone::clone).and_then(|j| serde_json::from_str::<Contest>(j).map_err(|e| e.to_string()))))
                .collect::<BTreeMap<_, _>>()
        })
    });
    let ctx = Ctx { input, calls: StoredValue::new(SendWrapper::new(calls)), contests, judge_candidates: RwSignal::new(None) };
    provide_context(ctx);
    let open = Memo::new(move |_| input.with(|i| i.open.clone()));
    move || match open.get() {
        None => view! { <ContestList/> }.into_any(),
        Some(id) => view! { <ContestView id/> }.into_any(),
    }
}

fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

fn status_label(c: &Contest) -> &'static str {
    if c.is_published() {
        t("Đã công bố kết quả")
    } else if c.final_round().is_some_and(|f| f.is_closed()) {
        t("Đã khóa chung khảo, chờ công bố")
    } else if !c.sheets.is_empty() {
        t("Đang chấm thi")
    } else {
        t("Đang chuẩn bị")
    }
}

// ───────────────────────────── the list ─────────────────────────────

#[component]
fn ContestList() -> impl IntoView {
    let ctx = ctx();
    let organises: Vec<(String, String)> = {
        let access = ctx.access();
        let mut units: Vec<(String, String)> = ctx.input.with_untracked(|i| {
            i.user.units.iter().filter(|u| access.can_review(&u.code) || access.can_manage(&u.code)).map(|u| (u.code.clone(), u.name.clone())).collect()
        });
        // The highest units first: a contest is usually organised where the grant is.
        let granted: Vec<String> = ctx.input.with_untracked(|i| i.user.grants.iter().map(|g| g.unit.clone()).collect());
        units.sort_by_key(|(code, _)| !granted.contains(code));
        units
    };
    let may_create = !organises.is_empty();
    let rows = move || {
        let username = ctx.username();
        ctx.contests.with(|cs| {
            if cs.is_empty() {
                return view! {
                    <p class="empty">{t("Chưa có hội thi nào trên thiết bị này. Hội thi bạn được phân công chấm, hoặc đơn vị bạn dự thi, sẽ hiện ở đây sau khi đồng bộ.")}</p>
                }
                .into_any();
            }
            let mut list: Vec<(&String, &Result<Contest, String>)> = cs.iter().collect();
            // Newest year first, then by name; unreadable ones last.
            list.sort_by(|a, b| match (a.1, b.1) {
                (Ok(x), Ok(y)) => y.year.cmp(&x.year).then_with(|| x.name.cmp(&y.name)),
                (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                _ => a.0.cmp(b.0),
            });
            view! {
                <ul class="contest-list plain">
                    {list.into_iter().map(|(id, c)| match c {
                        Ok(c) => {
                            let judging = c.judges_open_round(&username);
                            view! {
                                <li class="card contest-card">
                                    <a href=format!("/hoi-thi/{id}") class="contest-name">{c.name.clone()}</a>
                                    <p class="meta">{format!("{} · {} · {}", c.year, t(c.level.label()), ctx.unit_name(&c.unit))}</p>
                                    <p class="meta">
                                        <span class="badge">{status_label(c)}</span>
                                        {judging.then(|| view! { " " <span class="badge judge-badge">{t("Bạn là giám khảo")}</span> })}
                                    </p>
                                </li>
                            }.into_any()
                        }
                        Err(e) => view! { <li class="card warning">{tf("Một hội thi trên thiết bị không đọc được: {}", &[&tr(e)])}</li> }.into_any(),
                    }).collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="page contest-page">
            <h1>{t("Hội thi Dân vận khéo")}</h1>
            {rows}
            {may_create.then(|| view! { <NewContestForm units=organises/> })}
        </section>
    }
}

#[component]
fn NewContestForm(units: Vec<(String, String)>) -> impl IntoView {
    let ctx = ctx();
    let year = js_sys::Date::new_0().get_full_year();
    // The name is the contest's record (printed on its results): Vietnamese.
    let name = RwSignal::new(format!("{} {year}", vi("Hội thi “Dân vận khéo” năm")));
    let year = RwSignal::new(year.to_string());
    let unit = RwSignal::new(units.first().map(|(c, _)| c.clone()).unwrap_or_default());
    let level = RwSignal::new(ctx.unit_level(&unit.get_untracked()).unwrap_or(Level::District).code().to_string());
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(y) = year.get_untracked().trim().parse::<u32>() else {
            return problems.set(vec![("contest-year".into(), t("Năm tổ chức phải là một số, ví dụ 2026.").into())]);
        };
        let level = Level::ALL.into_iter().find(|l| l.code() == level.get_untracked()).unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        let contest = Contest::new(id.clone(), &name.get_untracked(), level, y, &unit.get_untracked(), &ctx.username(), js_sys::Date::now() as i64);
        if contest.name.is_empty() {
            return problems.set(vec![("contest-name".into(), t("Hãy nhập tên hội thi.").into())]);
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = ctx.create(contest).await;
            busy.set(false);
            match result {
                Ok(_) => ctx.navigate(&format!("/hoi-thi/{id}")),
                Err(e) => problems.set(problems_of(e)),
            }
        });
    };
    view! {
        <form class="card contest-form" on:submit=create>
            <h2>{t("Tạo hội thi mới")}</h2>
            <IdentityFields name year level problems/>
            <div class="field">
                <label for="contest-unit">{t("Đơn vị tổ chức")}</label>
                <select id="contest-unit" on:change=move |ev| {
                    let code = event_target_value(&ev);
                    if let Some(l) = ctx.unit_level(&code) {
                        level.set(l.code().to_string());
                    }
                    unit.set(code);
                }>
                    {units.into_iter().map(|(c, n)| view! { <option value=c.clone()>{n}</option> }).collect_view()}
                </select>
                <p class="hint">{t("Các vòng sơ khảo lấy theo cụm thi đua của các đơn vị trực thuộc.")}</p>
            </div>
            <Problems problems shown=&["contest-name", "contest-year"]/>
            <button class="button primary" id="create-contest" disabled=move || busy.get()>{t("Tạo hội thi")}</button>
        </form>
    }
}

/// A contest's name, year and level: the same fields when it is created and in its rules.
#[component]
fn IdentityFields(name: RwSignal<String>, year: RwSignal<String>, level: RwSignal<String>, problems: RwSignal<Problems>) -> impl IntoView {
    view! {
        <div class="field">
            <label for="contest-name">{t("Tên hội thi")}</label>
            <input id="contest-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
            <p class="field-error">{problem(problems, "contest-name")}</p>
        </div>
        <div class="row">
            <div class="field">
                <label for="contest-year">{t("Năm")}</label>
                <input id="contest-year" inputmode="numeric" prop:value=year on:input=move |ev| year.set(event_target_value(&ev))/>
                <p class="field-error">{problem(problems, "contest-year")}</p>
            </div>
            <div class="field">
                <label for="contest-level">{t("Cấp tổ chức")}</label>
                <select id="contest-level" on:change=move |ev| level.set(event_target_value(&ev))>
                    {Level::ALL.into_iter().map(|l| view! { <option value=l.code() selected=move || level.get() == l.code()>{t(l.label())}</option> }).collect_view()}
                </select>
            </div>
        </div>
    }
}

// ───────────────────────────── one contest ─────────────────────────────

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Results,
    Scoring,
    Teams,
    Setup,
    Print,
}

impl Tab {
    fn label(self) -> &'static str {
        match self {
            Tab::Results => t("Kết quả"),
            Tab::Scoring => t("Chấm điểm"),
            Tab::Teams => t("Đội thi"),
            Tab::Setup => t("Thiết lập"),
            Tab::Print => t("In, xuất tệp"),
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::Results => "tab-results",
            Tab::Scoring => "tab-scoring",
            Tab::Teams => "tab-teams",
            Tab::Setup => "tab-setup",
            Tab::Print => "tab-print",
        }
    }
}

#[component]
fn ContestView(id: String) -> impl IntoView {
    let ctx = ctx();
    let contest = {
        let id = id.clone();
        Memo::new(move |_| ctx.contests.with(|cs| cs.get(&id).cloned()))
    };
    // The tab the user chose; until then the one that suits them, decided once the contest is
    // on the device (after a reload it arrives a moment after the page): a judge their sheet,
    // an organiser still setting up the set-up, anyone else the results.
    let chosen = RwSignal::new(None::<Tab>);
    let first = StoredValue::new(None::<Tab>);
    let tab = Memo::new(move |_| {
        if let Some(t) = chosen.get().or_else(|| first.get_value()) {
            return t;
        }
        let username = ctx.username();
        let suited = contest.with(|c| match c {
            Some(Ok(c)) if c.judges_open_round(&username) => Some(Tab::Scoring),
            Some(Ok(c)) if ctx.is_organiser(c) && c.sheets.is_empty() && !c.is_published() => Some(Tab::Setup),
            Some(_) => Some(Tab::Results),
            None => None,
        });
        first.set_value(suited);
        suited.unwrap_or(Tab::Results)
    });
    let dirty = {
        let id = id.clone();
        move || ctx.input.with(|i| i.dirty.contains(&id))
    };
    let id = StoredValue::new(id);
    // What decides the page's frame: the contest's tabs and forms are built once per shape, and
    // what a sync or a save changes (rankings, counts, the header) updates inside them — a judge
    // typing, or a form just saved, is never rebuilt under the user's fingers.
    let shape = Memo::new(move |_| match contest.get() {
        None => Shape::Missing,
        Some(Err(e)) => Shape::Unreadable(e),
        Some(Ok(c)) => Shape::Ready { organiser: ctx.is_organiser(&c), judge: c.rounds.iter().any(|r| r.is_assigned(&ctx.username())) },
    });
    let header = move || current(contest).map(|c| {
        (c.name.clone(), format!("{} · {} · {}", c.year, t(c.level.label()), tf("Ban tổ chức: {}", &[&ctx.unit_name(&c.unit)])), status_label(&c),
         c.is_published().then(|| tf("Kết quả đã công bố lúc {} — chỉ xem, không ai sửa được nữa.", &[&date_time(c.published_at)])))
    });
    move || match shape.get() {
        Shape::Missing => view! {
            <section class="page contest-page">
                <p><a href="/hoi-thi">"← "{t("Các hội thi")}</a></p>
                <h1>{t("Không tìm thấy hội thi")}</h1>
                <p>{t("Hội thi này không có trên thiết bị (chưa đồng bộ về, hoặc bạn không được xem).")}</p>
            </section>
        }
        .into_any(),
        Shape::Unreadable(e) => view! {
            <section class="page contest-page"><h1>{t("Hội thi không đọc được")}</h1><p class="warning">{tr(&e)}</p></section>
        }
        .into_any(),
        Shape::Ready { organiser, judge } => {
            let tabs: Vec<Tab> = [Tab::Results, Tab::Scoring, Tab::Teams, Tab::Setup, Tab::Print]
                .into_iter()
                .filter(|t| match t {
                    Tab::Scoring => judge,
                    Tab::Setup => organiser,
                    _ => true,
                })
                .collect();
            let id = id.get_value();
            view! {
                <section class="page contest-page">
                    <p class="no-print"><a href="/hoi-thi">"← "{t("Các hội thi")}</a></p>
                    <h1>{move || header().map(|h| h.0)}</h1>
                    <p class="meta">{move || header().map(|h| h.1)} " · " <span class="badge">{move || header().map(|h| h.2)}</span></p>
                    {move || header().and_then(|h| h.3).map(|p| view! { <p class="note published">{p}</p> })}
                    <Show when=dirty.clone()>
                        <p class="note unsynced no-print">{t("Có thay đổi đã lưu trên thiết bị, chưa đồng bộ lên máy chủ: sẽ tự gửi khi có mạng.")}</p>
                    </Show>
                    <nav class="tabs no-print" role="tablist">
                        {tabs.into_iter().map(|t| view! {
                            <button role="tab" id=t.id() class="tab" aria-selected=move || (tab.get() == t).to_string()
                                on:click=move |_| chosen.set(Some(t))>{t.label()}</button>
                        }).collect_view()}
                    </nav>
                    {
                        let id = id.clone();
                        move || {
                            let id = id.clone();
                            match tab.get() {
                                Tab::Results => view! { <ResultsTab id contest organiser/> }.into_any(),
                                Tab::Scoring => view! { <ScoringTab id contest/> }.into_any(),
                                Tab::Teams => view! { <TeamsTab id contest organiser/> }.into_any(),
                                Tab::Setup => view! { <SetupTab id contest/> }.into_any(),
                                Tab::Print => view! { <PrintTab contest/> }.into_any(),
                            }
                        }
                    }
                </section>
            }
            .into_any()
        }
    }
}

#[derive(Clone, PartialEq)]
enum Shape {
    Missing,
    Unreadable(String),
    Ready { organiser: bool, judge: bool },
}

type ContestMemo = Memo<Option<Result<Contest, String>>>;

fn current(contest: ContestMemo) -> Option<Contest> {
    contest.get().and_then(Result::ok)
}

// ───────────────────────────── results ─────────────────────────────

/// `f` of the contest shown, when it reads (tracked).
fn with_current<T>(contest: ContestMemo, f: impl FnOnce(&Contest) -> Option<T>) -> Option<T> {
    contest.with(|c| c.as_ref().and_then(|c| c.as_ref().ok()).and_then(f))
}

/// The same, untracked (an event handler reading the contest as it is when the button is
/// pressed).
fn with_current_untracked<T>(contest: ContestMemo, f: impl FnOnce(&Contest) -> Option<T>) -> Option<T> {
    contest.with_untracked(|c| c.as_ref().and_then(|c| c.as_ref().ok()).and_then(f))
}

#[component]
fn ResultsTab(id: String, contest: ContestMemo, organiser: bool) -> impl IntoView {
    let id = StoredValue::new(id);
    // Built once per shape, as the set-up tab and the judge's sheet: the rounds are listed again
    // only when a round is added, and each round's view updates its ranking inside, so a sync
    // landing never rebuilds the excusal or tie-break form the organiser is filling in.
    let rounds = Memo::new(move |_| with_current(contest, |c| Some(c.rounds.iter().map(|r| r.id.clone()).collect::<Vec<_>>())).unwrap_or_default());
    // The prizes' form is made of the final's ranking (fixed once it closes), the prizes awarded
    // and whether they are published: built again when one of those changes, not per sync.
    let prizes = Memo::new(move |_| with_current(contest, |c| c.final_round().is_some_and(|f| f.is_closed()).then(|| (c.prizes.clone(), c.is_published()))));
    view! {
        {move || rounds.get().into_iter().map(|round| view! { <RoundResultsView id=id.get_value() contest round organiser/> }).collect_view()}
        {move || prizes.get().map(|_| view! { <PrizesView id=id.get_value() contest organiser/> })}
    }
}

/// A round's ranking as it stands with the sheets on this device; for the organiser, what holds
/// it open and the steps to close it.
#[component]
fn RoundResultsView(id: String, contest: ContestMemo, round: String, organiser: bool) -> impl IntoView {
    let ctx = ctx();
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let id = StoredValue::new(id);
    let round_id = StoredValue::new(round);
    let run = move |change: ContestChange, confirm_text: Option<String>| ctx.run(id.get_value(), change, confirm_text.as_deref(), busy, problems);
    let results = Memo::new(move |_| with_current(contest, |c| c.results(&round_id.get_value())));
    // What a sync changes — the heading, the state, the ranking, the scores still missing — is
    // redrawn here, beside the organiser's forms below, which are not.
    let live = move || {
        let c = current(contest)?;
        let r = c.round(&round_id.get_value())?.clone();
        let results = results.get()?;
        let teams = c.teams_in(&r).len();
        let where_when: Vec<String> = [(!r.date.is_empty()).then(|| i18n::date(&r.date)), (!r.venue.is_empty()).then(|| r.venue.clone())]
            .into_iter()
            .flatten()
            .collect();
        let state = if r.is_closed() {
            tf("Đã khóa lúc {} ({})", &[&date_time(r.closed_at), &r.closed_by])
        } else {
            tf("{} đội · {} giám khảo · đang mở", &[&teams, &r.judges.len()])
        };
        let table = results_table(&c, &r.id, &results);
        let missing = missing_summary(&c, &r.id, &results);
        let waiting = (r.stage == Stage::Final && teams == 0 && c.preliminaries().any(|p| !p.is_closed()))
            .then(|| view! { <p class="note">{t("Chung khảo gồm các đội vào chung khảo của từng cụm: có sau khi khóa các vòng sơ khảo.")}</p> });
        Some(view! {
            <h2>{tr(&r.name)}</h2>
            <p class="meta">{where_when.join(" · ")} {(!where_when.is_empty()).then_some(" · ")} {state}</p>
            {(teams > 0 || waiting.is_none()).then(|| table)}
            {waiting}
            {missing}
        })
    };
    // The organiser's steps come (the round's first team) and go (the round closes, the contest
    // is published) with this; a sheet or a registration syncing in leaves them standing.
    let actionable = Memo::new(move |_| {
        organiser && with_current(contest, |c| c.round(&round_id.get_value()).map(|r| !r.is_closed() && !c.is_published() && !c.teams_in(r).is_empty())).unwrap_or(false)
    });
    // The tie-break form is made of the groups of tied teams: rebuilt when they change (a score
    // separated two teams, or the order was saved), kept while they stay the same.
    let ties = Memo::new(move |_| results.with(|r| r.as_ref().map(|r| r.ranking.ties.clone()).unwrap_or_default()));
    let actions = move || {
        actionable.get().then(|| {
            let final_round = with_current_untracked(contest, |c| c.round(&round_id.get_value()).map(|r| r.stage == Stage::Final)).unwrap_or(false);
            let close_label = if final_round { t("Khóa vòng chung khảo") } else { t("Khóa vòng và chốt đội vào chung khảo") };
            let close = move |_| {
                let rid = round_id.get_value();
                // The confirmation names the qualifiers as they stand when the button is pressed.
                let confirm = with_current_untracked(contest, |c| {
                    let r = c.round(&rid)?;
                    Some(match c.closing(&rid) {
                        Ok(q) if r.stage == Stage::Preliminary => tf(
                            "Khóa vòng “{}”? Các đội vào chung khảo: {}. Sau khi khóa, không ai sửa được phiếu chấm của vòng này.",
                            &[&tr(&r.name), &q.iter().map(|team| c.team(team).map_or(team.clone(), |team| team.name.clone())).collect::<Vec<_>>().join(", ")],
                        ),
                        _ => tf("Khóa vòng “{}”? Sau khi khóa, không ai sửa được phiếu chấm của vòng này.", &[&tr(&r.name)]),
                    })
                });
                run(ContestChange::Close { round: rid }, confirm);
            };
            let why_not = move || {
                with_current(contest, |c| c.closing(&round_id.get_value()).err()).map(|ps| view! {
                    <div class="note">
                        <p>{t("Chưa khóa được vòng này:")}</p>
                        <ul>{ps.into_iter().map(|p| view! { <li>{tr(&p)}</li> }).collect_view()}</ul>
                    </div>
                })
            };
            view! {
                {move || {
                    let ties = ties.get();
                    (!ties.is_empty()).then(|| view! { <TieBreakForm contest round=round_id.get_value() ties run busy/> })
                }}
                <ExcuseForm id=id.get_value() contest round=round_id.get_value() busy problems/>
                {why_not}
                <button class="button primary close-round" disabled=move || busy.get() on:click=close>{close_label}</button>
                <Problems problems/>
            }
        })
    };
    view! {
        <section class="item round-results" id=format!("round-{}", round_id.get_value())>
            {live}
            {actions}
        </section>
    }
}

/// The ranking table of a round: rank, team, each part, total, and what the rank means.
fn results_table(c: &Contest, round: &str, results: &RoundResults) -> impl IntoView {
    let r = c.round(round).cloned();
    if results.ranking.places.is_empty() {
        return view! { <p class="empty">{t("Vòng này chưa có đội thi.")}</p> }.into_any();
    }
    let prize_of = |team: &str| c.prizes.iter().find(|p| p.team == team).map(|p| t(p.kind.label()));
    let rows = results.ranking.places.iter().map(|place| {
        let team = c.team(&place.team);
        let result = results.teams.iter().find(|t| t.team == place.team);
        let parts = c.parts.iter().map(|p| {
            let cell = result.and_then(|t| t.parts.iter().find(|s| s.part == p.id)).and_then(|s| s.points).map_or_else(|| "—".to_string(), points_text);
            view! { <td class="num part" data-label=p.label.clone()>{cell}</td> }
        }).collect_view();
        let mut notes = Vec::new();
        if place.tied {
            notes.push(t("đồng hạng, chờ ban tổ chức xếp thứ tự").to_string());
        }
        if result.is_some_and(|team| !team.complete) {
            notes.push(t("chưa đủ điểm").to_string());
        }
        if let Some(r) = &r
            && r.qualifiers.contains(&place.team)
        {
            notes.push(t("Vào chung khảo").to_string());
        }
        if r.as_ref().is_some_and(|r| r.stage == Stage::Final)
            && let Some(prize) = prize_of(&place.team)
        {
            notes.push(prize.to_string());
        }
        view! {
            <tr class:tied=place.tied data-team=place.team.clone()>
                <td class="num rank">{place.rank}</td>
                <td>
                    <strong class="team-name">{team.map_or(place.team.clone(), |t| t.name.clone())}</strong>
                    // The unit, unless the team's name already says it ("Đội Xã Phú Đình").
                    {team.map(|t| (t.name.clone(), unit_label(&t.unit), t.unit.clone())).filter(|(name, unit, code)| unit != code && !name.contains(unit.as_str()))
                        .map(|(_, unit, _)| view! { <br/><span class="unit">{unit}</span> })}
                </td>
                {parts}
                <td class="num total">{points_text(place.total)}</td>
                <td class="notes">{notes.join("; ")}</td>
            </tr>
        }
    }).collect_view();
    view! {
        <div class="table-scroll">
            <table class="report-table contest-results">
                <thead>
                    <tr>
                        <th>{t("Hạng")}</th><th>{t("Đội")}</th>
                        {c.parts.iter().map(|p| view! { <th class="num">{tf("{} (tối đa {})", &[&p.label, &points_text(p.max)])}</th> }).collect_view()}
                        <th class="num">{t("Tổng")}</th><th>{t("Ghi chú")}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A unit as the contest's pages name it (the team's unit is a code; the profile knows names).
pub(crate) fn unit_label(code: &str) -> String {
    use_context::<Ctx>().map_or_else(|| code.to_string(), |ctx| ctx.unit_name(code))
}

/// Which judges still owe scores, and how many.
fn missing_summary(c: &Contest, round: &str, results: &RoundResults) -> impl IntoView {
    if results.missing.is_empty() {
        return ().into_any();
    }
    let Some(r) = c.round(round) else { return ().into_any() };
    let mut by_judge: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &results.missing {
        by_judge.entry(m.judge.as_str()).or_default().push(m.team.as_str());
    }
    let lines = r
        .judges
        .iter()
        .filter_map(|j| {
            let teams = by_judge.get(j.username.as_str())?;
            let mut names: Vec<String> = teams.iter().map(|t| c.team(t).map_or(t.to_string(), |t| t.name.clone())).collect();
            names.dedup();
            let sheet = if c.sheet(round, &j.username).is_none() { format!(" {}", t("(chưa nhận được phiếu)")) } else { String::new() };
            Some(view! { <li>{format!("{}{sheet}: {}", j.name, tf("còn thiếu {} điểm — {}", &[&teams.len(), &names.join(", ")]))}</li> })
        })
        .collect_view();
    view! {
        <details class="missing" open=true>
            <summary>{tf("Còn thiếu {} điểm", &[&results.missing.len()])}</summary>
            <ul>{lines}</ul>
        </details>
    }
    .into_any()
}

/// The organiser orders teams with equal totals (the contest's tie-break: a re-vote, the judges'
/// chair, a question — recorded here as the order decided).
#[component]
fn TieBreakForm(
    contest: ContestMemo,
    round: String,
    ties: Vec<Vec<String>>,
    run: impl Fn(ContestChange, Option<String>) + Copy + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let Some(c) = current(contest) else { return ().into_any() };
    let groups = ties.into_iter().enumerate().map(|(g, group)| {
        let order = RwSignal::new(group.clone());
        let names: BTreeMap<String, String> = group.iter().map(|t| (t.clone(), c.team(t).map_or(t.clone(), |t| t.name.clone()))).collect();
        let names = StoredValue::new(names);
        let round = StoredValue::new(round.clone());
        let save = move |_| {
            let chosen = order.get_untracked();
            // The orders already recorded (other groups), as stored when the button is pressed:
            // a sync may have brought one since the form was built.
            let existing = with_current_untracked(contest, |c| c.round(&round.get_value()).map(|r| r.tie_break.clone())).unwrap_or_default();
            let mut all: Vec<String> = existing.into_iter().filter(|t| !chosen.contains(t)).collect();
            all.extend(chosen);
            run(ContestChange::TieBreak { round: round.get_value(), order: all }, None);
        };
        view! {
            <fieldset class="tie-break" id=format!("tie-{}-{g}", round.get_value())>
                <legend>{t("Các đội bằng điểm — xếp thứ tự theo quyết định của ban giám khảo")}</legend>
                <ol>
                    {move || order.get().into_iter().enumerate().map(|(i, team)| {
                        let name = names.with_value(|n| n.get(&team).cloned().unwrap_or_default());
                        view! {
                            <li data-team=team.clone()>
                                {name.clone()} " "
                                <button type="button" class="button small" disabled=i == 0 aria-label=tf("Đưa {} lên trên", &[&name])
                                    on:click=move |_| order.update(|o| o.swap(i, i - 1))>"↑ "{t("Lên")}</button>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <button type="button" class="button" disabled=move || busy.get() on:click=save>{t("Lưu thứ tự")}</button>
            </fieldset>
        }
    }).collect_view();
    view! { {groups} }.into_any()
}

/// A judge who does not score a team (left, related to the team) or any team of the round.
/// Built once with the round's view: the judges, teams and excusals listed follow syncs, and
/// what the organiser has chosen and typed stays until it is recorded.
#[component]
fn ExcuseForm(id: String, contest: ContestMemo, round: String, busy: RwSignal<bool>, problems: RwSignal<Problems>) -> impl IntoView {
    let ctx = ctx();
    let id = StoredValue::new(id);
    let rid = StoredValue::new(round);
    let judges = Memo::new(move |_| {
        with_current(contest, |c| Some(c.round(&rid.get_value())?.judges.iter().map(|j| (j.username.clone(), j.name.clone())).collect::<Vec<_>>())).unwrap_or_default()
    });
    let teams = Memo::new(move |_| {
        with_current(contest, |c| Some(c.teams_in(c.round(&rid.get_value())?).iter().map(|t| (t.id.clone(), t.name.clone())).collect::<Vec<_>>())).unwrap_or_default()
    });
    let judge = RwSignal::new(judges.with_untracked(|js| js.first().map(|j| j.0.clone()).unwrap_or_default()));
    let team = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    // The first judge, when none was chosen yet (the form may open before the round has judges).
    Effect::new(move |_| {
        if judge.with_untracked(String::is_empty)
            && let Some(first) = judges.with(|js| js.first().map(|j| j.0.clone()))
        {
            judge.set(first);
        }
    });
    let listed = move || {
        with_current(contest, |c| {
            let r = c.round(&rid.get_value())?;
            let name_of = |u: &str| r.judges.iter().find(|j| j.username == u).map_or(u.to_string(), |j| j.name.clone());
            let team_name = |team: &str| if team.is_empty() { t("mọi đội").to_string() } else { c.team(team).map_or(team.to_string(), |team| team.name.clone()) };
            Some(
                r.excused
                    .iter()
                    .map(|e| {
                        let (judge, team) = (e.judge.clone(), e.team.clone());
                        let undo = move |_| {
                            let change = ContestChange::Excuse { round: rid.get_value(), judge: judge.clone(), team: team.clone(), reason: String::new(), excused: false };
                            ctx.run(id.get_value(), change, None, busy, problems);
                        };
                        view! {
                            <li>
                                {tf("{} không chấm {} — {}", &[&name_of(&e.judge), &team_name(&e.team), &e.reason])} " "
                                <button type="button" class="button small" disabled=move || busy.get() on:click=undo>{t("Bỏ ghi nhận")}</button>
                            </li>
                        }
                    })
                    .collect_view(),
            )
        })
    };
    let record = move |_| {
        let change = ContestChange::Excuse { round: rid.get_value(), judge: judge.get_untracked(), team: team.get_untracked(), reason: reason.get_untracked(), excused: true };
        // Once recorded it is listed above; the reason is cleared so it is not recorded twice.
        ctx.run_then(id.get_value(), change, None, busy, problems, move || reason.set(String::new()));
    };
    let round = rid.get_value();
    view! {
        <Show when=move || judges.with(|js| !js.is_empty())>
            <details class="excuse">
                <summary>{t("Giám khảo không chấm một đội (vắng, có liên quan đến đội)")}</summary>
                <ul>{listed}</ul>
                <div class="row">
                    <div class="field">
                        <label for=format!("excuse-judge-{round}")>{t("Giám khảo")}</label>
                        <select id=format!("excuse-judge-{round}") on:change=move |ev| judge.set(event_target_value(&ev))>
                            {move || judges.get().into_iter().map(|(u, n)| {
                                let selected = u.clone();
                                view! { <option value=u selected=move || judge.with(|j| *j == selected)>{n}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for=format!("excuse-team-{round}")>{t("Đội")}</label>
                        <select id=format!("excuse-team-{round}") on:change=move |ev| team.set(event_target_value(&ev))>
                            <option value="" selected=move || team.with(String::is_empty)>{t("Mọi đội của vòng")}</option>
                            {move || teams.get().into_iter().map(|(id, n)| {
                                let selected = id.clone();
                                view! { <option value=id selected=move || team.with(|t| *t == selected)>{n}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                </div>
                <div class="field">
                    <label for=format!("excuse-reason-{round}")>{t("Lý do")}</label>
                    <input id=format!("excuse-reason-{round}") prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                </div>
                <button type="button" class="button" disabled=move || busy.get() on:click=record>{t("Ghi nhận")}</button>
            </details>
        </Show>
    }
}

/// Prizes of the final (within the quotas, following its ranking) and publication.
#[component]
fn PrizesView(id: String, contest: ContestMemo, organiser: bool) -> impl IntoView {
    let ctx = ctx();
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let id = StoredValue::new(id);
    let Some(c) = current(contest) else { return ().into_any() };
    let Some(ranking) = c.final_ranking() else { return ().into_any() };
    let editable = organiser && !c.is_published();
    // What each team of the final receives, as chosen: the awarded prizes, or the suggestion.
    let start: Vec<Prize> = if c.prizes.is_empty() { c.suggest_prizes().unwrap_or_default() } else { c.prizes.clone() };
    let chosen: Vec<(String, String, RwSignal<String>)> = ranking
        .places
        .iter()
        .map(|p| {
            let kind = start.iter().find(|x| x.team == p.team).map(|x| prize_code(x.kind)).unwrap_or("");
            (p.team.clone(), c.team(&p.team).map_or(p.team.clone(), |t| t.name.clone()), RwSignal::new(kind.to_string()))
        })
        .collect();
    let suggestion_problem = c.prizes.is_empty().then(|| c.suggest_prizes().err()).flatten();
    let chosen = StoredValue::new(chosen);
    let run = move |change: ContestChange, confirm_text: Option<&'static str>| ctx.run(id.get_value(), change, confirm_text, busy, problems);
    let award = move |_| {
        let prizes: Vec<Prize> = chosen.with_value(|cs| {
            cs.iter().filter_map(|(team, _, kind)| prize_kind(&kind.get_untracked()).map(|kind| Prize { team: team.clone(), kind })).collect()
        });
        run(ContestChange::Award { prizes }, None);
    };
    let rows = chosen.with_value(|cs| {
        cs.iter()
            .map(|(team, name, kind)| {
                let kind = *kind;
                let rank = ranking.rank_of(team).unwrap_or(0);
                let select = if editable {
                    view! {
                        <select aria-label=tf("Giải của đội {}", &[&name]) data-team=team.clone() on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="" selected=move || kind.with(String::is_empty)>{t("Không có giải")}</option>
                            {PrizeKind::ALL.into_iter().map(|k| view! { <option value=prize_code(k) selected=move || kind.get() == prize_code(k)>{t(k.label())}</option> }).collect_view()}
                        </select>
                    }
                    .into_any()
                } else {
                    view! { <span>{move || prize_kind(&kind.get()).map_or("—", |k| t(k.label()))}</span> }.into_any()
                };
                view! { <tr><td class="num">{rank}</td><td>{name.clone()}</td><td>{select}</td></tr> }
            })
            .collect_view()
    });
    let awarded = !c.prizes.is_empty();
    view! {
        <section class="item prizes" id="prizes">
            <h2>{t("Giải thưởng")}</h2>
            <p class="meta">{tf(
                "Cơ cấu giải: {} giải Nhất, {} giải Nhì, {} giải Ba, {} giải Khuyến khích.",
                &[&c.quotas.first, &c.quotas.second, &c.quotas.third, &c.quotas.consolation],
            )}</p>
            {suggestion_problem.map(|p| view! { <p class="note">{tr(&p)}</p> })}
            {(editable && !awarded).then(|| view! { <p class="hint">{t("Đề xuất theo thứ hạng chung khảo; ban tổ chức điều chỉnh nếu cần rồi bấm “Trao giải”.")}</p> })}
            <table class="report-table">
                <thead><tr><th>{t("Hạng")}</th><th>{t("Đội")}</th><th>{t("Giải")}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {editable.then(|| view! {
                <div class="actions">
                    <button type="button" id="award-prizes" class="button" disabled=move || busy.get() on:click=award>{t("Trao giải")}</button>
                    {awarded.then(|| view! {
                        <button type="button" id="publish-results" class="button primary" disabled=move || busy.get()
                            on:click=move |_| run(ContestChange::Publish, Some(t("Công bố kết quả? Sau khi công bố, không ai sửa được hội thi này nữa.")))>{t("Công bố kết quả")}</button>
                    })}
                </div>
            })}
            <Problems problems/>
        </section>
    }
    .into_any()
}

fn prize_code(kind: PrizeKind) -> &'static str {
    match kind {
        PrizeKind::First => "nhat",
        PrizeKind::Second => "nhi",
        PrizeKind::Third => "ba",
        PrizeKind::Consolation => "khuyen-khich",
    }
}

fn prize_kind(code: &str) -> Option<PrizeKind> {
    PrizeKind::ALL.into_iter().find(|k| prize_code(*k) == code)
}

// ───────────────────────────── the judge's sheet ─────────────────────────────

#[component]
fn ScoringTab(id: String, contest: ContestMemo) -> impl IntoView {
    let ctx = ctx();
    let username = ctx.username();
    // The sheet is rebuilt only when what it holds changes shape (teams, parts, rounds closing):
    // a sync landing while the judge types redraws nothing under their fingers.
    let shape = Memo::new(move |_| {
        current(contest).map(|c| {
            let rounds: Vec<(String, bool, Vec<String>)> = c
                .rounds
                .iter()
                .filter(|r| r.is_assigned(&username))
                .map(|r| (r.id.clone(), r.is_closed() || c.is_published(), c.teams_in(r).iter().map(|t| t.id.clone()).collect()))
                .collect();
            (rounds, c.parts.iter().map(|p| (p.id.clone(), p.max)).collect::<Vec<_>>())
        })
    });
    let id = StoredValue::new(id);
    move || {
        let Some((rounds, _)) = shape.get() else { return ().into_any() };
        if rounds.is_empty() {
            return view! { <p class="empty">{t("Bạn không chấm vòng nào của hội thi này.")}</p> }.into_any();
        }
        view! {
            <p class="hint no-print">{t("Điểm được lưu ngay trên máy này khi bạn rời ô, không cần mạng; phiếu tự gửi về ban tổ chức khi có sóng. Điểm dùng dấu phẩy, ví dụ 8,5.")}</p>
            {rounds.into_iter().map(|(round, closed, _)| view! { <JudgeSheet id=id.get_value() contest round closed/> }).collect_view()}
        }
        .into_any()
    }
}

#[component]
fn JudgeSheet(id: String, contest: ContestMemo, round: String, closed: bool) -> impl IntoView {
    let ctx = ctx();
    let username = ctx.username();
    let Some(c) = current(contest).or_else(|| contest.get_untracked().and_then(Result::ok)) else { return ().into_any() };
    let Some(r) = c.round(&round).cloned() else { return ().into_any() };
    let sheet = c.sheet(&round, &username).cloned();
    let stored = move |team: &str, part: &str| sheet.as_ref().and_then(|s| s.row(team, part)).cloned();
    let id = StoredValue::new(id);
    let round_id = StoredValue::new(round.clone());
    let parts = c.parts.clone();
    // A unit the judge's profile does not know is left out (its code says nothing to a reader).
    let teams: Vec<(String, String, String)> = c
        .teams_in(&r)
        .iter()
        .map(|t| {
            let unit = ctx.unit_name(&t.unit);
            (t.id.clone(), t.name.clone(), if unit == t.unit { String::new() } else { unit })
        })
        .collect();
    let cards = teams
        .into_iter()
        .map(|(team, team_name, unit)| {
            let unit_line = (!team_name.contains(unit.as_str()) && !unit.is_empty()).then(|| view! { <span class="unit">{format!(" — {unit}")}</span> });
            // (part, points typed, comment typed) for this team.
            let cells: Vec<(String, RwSignal<String>, RwSignal<String>)> = parts
                .iter()
                .map(|p| {
                    let row = stored(&team, &p.id);
                    (p.id.clone(), RwSignal::new(row.as_ref().map(|r| points_text(r.points)).unwrap_or_default()), RwSignal::new(row.map(|r| r.comment).unwrap_or_default()))
                })
                .collect();
            let problems = RwSignal::new(Problems::new());
            let state = RwSignal::new(String::new());
            let cells = StoredValue::new(cells);
            let team_id = StoredValue::new(team.clone());
            let save = move || {
                let inputs: Vec<ScoreInput> = cells.with_value(|cs| {
                    cs.iter()
                        .map(|(part, points, comment)| ScoreInput { team: team_id.get_value(), part: part.clone(), points: points.get_untracked(), comment: comment.get_untracked() })
                        .collect()
                });
                state.set(t("Đang lưu…").into());
                leptos::task::spawn_local(async move {
                    match ctx.change(&id.get_value(), ContestChange::Score { round: round_id.get_value(), inputs }).await {
                        Ok(()) => {
                            problems.set(Vec::new());
                            state.set(t("Đã lưu trên thiết bị").into());
                        }
                        Err(ps) => {
                            problems.set(ps);
                            state.set(String::new());
                        }
                    }
                });
            };
            let rows = parts
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    // Problems are keyed by the cell's control; the element's id adds the round
                    // (a team plays a preliminary and the final, both on this page).
                    let control = score_control(&team, &p.id);
                    let dom_id = format!("{}--{control}", round_id.get_value());
                    let (points, comment) = cells.with_value(|cs| (cs[i].1, cs[i].2));
                    let error = {
                        let control = control.clone();
                        move || problems.with(|ps| ps.iter().find(|(c, _)| *c == control).map(|(_, m)| tr(m)))
                    };
                    view! {
                        <div class="score-cell">
                            <label for=dom_id.clone()>{tf("{} (tối đa {})", &[&p.label, &points_text(p.max)])}</label>
                            <input id=dom_id.clone() class="points" inputmode="decimal" autocomplete="off" disabled=closed
                                prop:value=points on:input=move |ev| points.set(event_target_value(&ev)) on:change=move |_| save()
                                aria-invalid={let error = error.clone(); move || error().is_some().to_string()}/>
                            <input id=format!("{dom_id}-comment") class="comment" placeholder=t("Nhận xét (không bắt buộc)") disabled=closed
                                aria-label=tf("Nhận xét phần {} của đội {}", &[&p.label, &team_name])
                                prop:value=comment on:input=move |ev| comment.set(event_target_value(&ev)) on:change=move |_| save()/>
                            <p class="field-error" role="alert">{error}</p>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="card team-sheet" data-team=team.clone()>
                    <legend><strong>{team_name.clone()}</strong>{unit_line}</legend>
                    {rows}
                    <p class="saved-state" aria-live="polite">{move || state.get()}</p>
                    {move || problems.with(|ps| {
                        let whole: Vec<String> = ps.iter().filter(|(c, _)| !c.starts_with("score-") || c == "score-sheet").map(|(_, m)| tr(m)).collect();
                        (!whole.is_empty()).then(|| view! { <p class="error" role="alert">{whole.join(" ")}</p> })
                    })}
                </fieldset>
            }
        })
        .collect_view();
    // Progress from the stored sheet (reactive: counts what is saved, here or on the judge's other device).
    let progress = move || {
        let c = current(contest)?;
        let r = c.round(&round_id.get_value())?;
        let total = c.teams_in(r).len() * c.parts.len();
        let given = c.sheet(&r.id, &ctx.username()).map_or(0, |s| s.rows.len());
        Some(tf("Đã chấm {}/{} ô", &[&given, &total]))
    };
    view! {
        <section class="item judge-sheet" id=format!("sheet-{round}")>
            <h2>{tf("Phiếu chấm — {}", &[&tr(&r.name)])}</h2>
            <p class="meta">{progress} {closed.then(|| format!(" · {}", t("Vòng đã khóa: phiếu chỉ xem.")))}</p>
            {cards}
        </section>
    }
    .into_any()
}

// ───────────────────────────── teams ─────────────────────────────

#[component]
fn TeamsTab(id: String, contest: ContestMemo, organiser: bool) -> impl IntoView {
    let ctx = ctx();
    let id = StoredValue::new(id);
    let listing = move || {
        let c = current(contest)?;
        Some(
            c.rounds
                .iter()
                .filter(|r| r.stage == Stage::Preliminary || c.preliminaries().next().is_none())
                .map(|r| {
                    let teams = c.teams_in(r);
                    let units_without: Vec<String> = r.units.iter().filter(|u| !c.teams.iter().any(|t| &t.unit == *u)).map(|u| ctx.unit_name(u)).collect();
                    view! {
                        <section class="item">
                            <h2>{tr(&r.name)}</h2>
                            {if teams.is_empty() { view! { <p class="empty">{t("Chưa có đội nào đăng ký.")}</p> }.into_any() } else {
                                view! {
                                    <ul class="plain team-list">
                                        {teams.iter().map(|t| view! {
                                            <li>
                                                <strong>{t.name.clone()}</strong> {format!(" — {}", ctx.unit_name(&t.unit))}
                                                {(!t.members.is_empty()).then(|| view! { <br/><span class="meta">{tf("Thành viên: {}", &[&t.members.join(", ")])}</span> })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            {(!units_without.is_empty() && !r.is_closed()).then(|| view! {
                                <p class="meta">{tf("Chưa đăng ký: {}", &[&units_without.join(", ")])}</p>
                            })}
                        </section>
                    }
                })
                .collect_view(),
        )
    };
    // Units the user may register a team for: the organiser any unit of an open first round; a
    // cadre their own units there.
    let registrable = Memo::new(move |_| -> Vec<(String, String)> {
        let Some(c) = current(contest) else { return Vec::new() };
        if c.is_published() {
            return Vec::new();
        }
        let access = ctx.access();
        let tree = ctx.tree();
        let candidates: Vec<String> = if c.preliminaries().next().is_some() {
            c.preliminaries().filter(|r| !r.is_closed()).flat_map(|r| r.units.clone()).collect()
        } else if c.final_round().is_some_and(|f| !f.is_closed()) {
            tree.subtree(&c.unit).into_iter().filter(|u| u.code != c.unit).map(|u| u.code.clone()).collect()
        } else {
            Vec::new()
        };
        candidates
            .into_iter()
            .filter(|u| !c.teams.iter().any(|t| &t.unit == u))
            .filter(|u| organiser || access.can_write(u))
            .map(|u| (u.clone(), ctx.unit_name(&u)))
            .collect()
    });
    view! {
        {listing}
        {move || {
            let units = registrable.get();
            (!units.is_empty()).then(|| view! { <RegisterTeamForm id=id.get_value() units/> })
        }}
    }
}

#[component]
fn RegisterTeamForm(id: String, units: Vec<(String, String)>) -> impl IntoView {
    let ctx = ctx();
    let unit = RwSignal::new(units[0].0.clone());
    // The team's name is the contest's record (printed on its results): Vietnamese.
    let name = RwSignal::new(format!("{} {}", vi("Đội"), units[0].1));
    let members = RwSignal::new(String::new());
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let id = StoredValue::new(id);
    let names: BTreeMap<String, String> = units.iter().cloned().collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let change = ContestChange::RegisterTeam { unit: unit.get_untracked(), name: name.get_untracked(), members: members.get_untracked() };
        leptos::task::spawn_local(async move {
            let result = ctx.change(&id.get_value(), change).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    problems.set(Vec::new());
                    members.set(String::new());
                }
                Err(ps) => problems.set(ps),
            }
        });
    };
    view! {
        <form class="card contest-form" on:submit=submit>
            <h2>{t("Đăng ký đội thi")}</h2>
            <div class="field">
                <label for="team-unit">{t("Đơn vị")}</label>
                <select id="team-unit" on:change=move |ev| {
                    let code = event_target_value(&ev);
                    if let Some(n) = names.get(&code) { name.set(format!("{} {n}", vi("Đội"))); }
                    unit.set(code);
                }>
                    {units.into_iter().map(|(c, n)| view! { <option value=c>{n}</option> }).collect_view()}
                </select>
                <p class="field-error">{problem(problems, "team-unit")}</p>
            </div>
            <div class="field">
                <label for="team-name">{t("Tên đội")}</label>
                <input id="team-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                <p class="field-error">{problem(problems, "team-name")}</p>
            </div>
            <div class="field">
                <label for="team-members">{t("Thành viên (mỗi người một dòng)")}</label>
                <textarea id="team-members" rows="4" prop:value=members on:input=move |ev| members.set(event_target_value(&ev))></textarea>
            </div>
            <Problems problems shown=&["team-unit", "team-name"]/>
            <button class="button primary" id="register-team" disabled=move || busy.get()>{t("Đăng ký đội")}</button>
        </form>
    }
}

// ───────────────────────────── setup ─────────────────────────────

#[component]
fn SetupTab(id: String, contest: ContestMemo) -> impl IntoView {
    let Some(c) = contest.get_untracked().and_then(Result::ok) else { return ().into_any() };
    if c.is_published() {
        return view! { <p class="note">{t("Kết quả đã công bố; thể lệ và vòng thi chỉ xem.")}</p> }.into_any();
    }
    let id2 = id.clone();
    // Re-listed when a round is added (the preliminaries) or closed, not when a sync changes
    // another part of the contest (what was typed into a round's form stays).
    let rounds = Memo::new(move |_| current(contest).map(|c| c.rounds.iter().map(|r| (r.id.clone(), r.is_closed())).collect::<Vec<_>>()).unwrap_or_default());
    let rounds_view = move || rounds.get().into_iter().map(|(round, _)| view! { <RoundForm id=id2.clone() contest round/> }).collect_view();
    let ctx = ctx();
    ctx.load_judge_candidates();
    let candidates = ctx.judge_candidates;
    view! {
        <RulesForm id=id.clone() contest=c/>
        <section class="item">
            <h2>{t("Vòng thi")}</h2>
            <AddPreliminaries id=id.clone()/>
            {rounds_view}
            // The judges' username fields offer these (one list for every round's form).
            <datalist id="judge-candidates">
                {move || candidates.get().unwrap_or_default().into_iter().map(|p| view! {
                    <option value=p.username.clone()>{format!("{} — {}", p.display_name, p.unit_name)}</option>
                }).collect_view()}
            </datalist>
        </section>
    }
    .into_any()
}

#[component]
fn AddPreliminaries(id: String) -> impl IntoView {
    let ctx = ctx();
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let id = StoredValue::new(id);
    view! {
        <p class="hint">{t("Mỗi cụm thi đua trong phạm vi đơn vị tổ chức có một vòng sơ khảo; các đội nhất, nhì (theo thể lệ) của mỗi cụm vào chung khảo.")}</p>
        <button type="button" id="add-preliminaries" class="button" disabled=move || busy.get() on:click=move |_| ctx.run(id.get_value(), ContestChange::AddPreliminaries, None, busy, problems)>{t("Lập vòng sơ khảo theo cụm")}</button>
        <Problems problems/>
    }
}

#[component]
fn RulesForm(id: String, contest: Contest) -> impl IntoView {
    let ctx = ctx();
    let c = contest;
    let name = RwSignal::new(c.name.clone());
    let year = RwSignal::new(c.year.to_string());
    let level = RwSignal::new(c.level.code().to_string());
    let parts: RwSignal<Vec<(String, RwSignal<String>, RwSignal<String>)>> =
        RwSignal::new(c.parts.iter().map(|p| (p.id.clone(), RwSignal::new(p.label.clone()), RwSignal::new(points_text(p.max)))).collect());
    let drop_extremes = RwSignal::new(c.drop_extremes);
    let qualifiers = RwSignal::new(c.qualifiers_per_cluster.to_string());
    let quota = |n: u32| RwSignal::new(n.to_string());
    let (first, second, third, consolation) = (quota(c.quotas.first), quota(c.quotas.second), quota(c.quotas.third), quota(c.quotas.consolation));
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let id = StoredValue::new(id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().ok();
        let mut bad = Problems::new();
        for (control, s) in [("contest-qualifiers", qualifiers), ("quota-first", first), ("quota-second", second), ("quota-third", third), ("quota-consolation", consolation)] {
            if number(s).is_none() {
                bad.push((control.to_string(), t("Hãy nhập một số nguyên, ví dụ 2.").into()));
            }
        }
        if number(year).is_none() {
            bad.push(("contest-year".into(), t("Năm tổ chức phải là một số, ví dụ 2026.").into()));
        }
        if !bad.is_empty() {
            return problems.set(bad);
        }
        let change = ContestChange::Rules {
            name: name.get_untracked(),
            level: Level::ALL.into_iter().find(|l| l.code() == level.get_untracked()).unwrap_or_default(),
            year: number(year).unwrap_or(0),
            parts: parts.get_untracked().iter().map(|(id, label, max)| PartInput { id: id.clone(), label: label.get_untracked(), max: max.get_untracked() }).collect(),
            drop_extremes: drop_extremes.get_untracked(),
            qualifiers_per_cluster: number(qualifiers).unwrap_or(0),
            quotas: PrizeQuotas { first: number(first).unwrap_or(0), second: number(second).unwrap_or(0), third: number(third).unwrap_or(0), consolation: number(consolation).unwrap_or(0) },
        };
        busy.set(true);
        saved.set(false);
        leptos::task::spawn_local(async move {
            let result = ctx.change(&id.get_value(), change).await;
            busy.set(false);
            saved.set(result.is_ok());
            problems.set(result.err().unwrap_or_default());
        });
    };
    let number_field = move |control: &'static str, label: &'static str, value: RwSignal<String>| view! {
        <div class="field">
            <label for=control>{t(label)}</label>
            <input id=control inputmode="numeric" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
            <p class="field-error">{problem(problems, control)}</p>
        </div>
    };
    view! {
        <form class="item contest-form" on:submit=submit>
            <h2>{t("Thể lệ")}</h2>
            <IdentityFields name year level problems/>
            <fieldset>
                <legend>{t("Phần thi và điểm tối đa")}</legend>
                {move || parts.get().into_iter().enumerate().map(|(i, (_, label, max))| {
                    let (label_id, max_id) = (format!("part-{i}"), format!("part-max-{i}"));
                    let (le, me) = (label_id.clone(), max_id.clone());
                    view! {
                        <div class="row part-row">
                            <div class="field">
                                <label for=label_id.clone()>{tf("Phần {}", &[&(i + 1)])}</label>
                                <input id=label_id prop:value=label on:input=move |ev| label.set(event_target_value(&ev))/>
                                <p class="field-error">{move || problems.with(|ps| ps.iter().find(|(c, _)| *c == le).map(|(_, m)| tr(m)))}</p>
                            </div>
                            <div class="field narrow">
                                <label for=max_id.clone()>{t("Điểm tối đa")}</label>
                                <input id=max_id inputmode="decimal" prop:value=max on:input=move |ev| max.set(event_target_value(&ev))/>
                                <p class="field-error">{move || problems.with(|ps| ps.iter().find(|(c, _)| *c == me).map(|(_, m)| tr(m)))}</p>
                            </div>
                            <button type="button" class="button small" aria-label=tf("Bỏ phần {}", &[&(i + 1)])
                                on:click=move |_| parts.update(|ps| { ps.remove(i); })>{t("Bỏ")}</button>
                        </div>
                    }
                }).collect_view()}
                <button type="button" class="button small" on:click=move |_| parts.update(|ps| ps.push((String::new(), RwSignal::new(String::new()), RwSignal::new("10".into()))))>{t("Thêm phần thi")}</button>
            </fieldset>
            <label class="choice">
                <input type="checkbox" id="drop-extremes" prop:checked=drop_extremes on:change=move |ev| drop_extremes.set(event_target_checked(&ev))/>
                {t("Bỏ điểm cao nhất và thấp nhất của giám khảo (khi có từ 3 giám khảo)")}
            </label>
            {number_field("contest-qualifiers", "Số đội mỗi cụm vào chung khảo", qualifiers)}
            <fieldset>
                <legend>{t("Cơ cấu giải")}</legend>
                <div class="row four">
                    {number_field("quota-first", "Giải Nhất", first)}
                    {number_field("quota-second", "Giải Nhì", second)}
                    {number_field("quota-third", "Giải Ba", third)}
                    {number_field("quota-consolation", "Khuyến khích", consolation)}
                </div>
            </fieldset>
            <Problems problems shown=&["contest-name", "contest-year", "contest-qualifiers", "quota-first", "quota-second", "quota-third", "quota-consolation"]/>
            <button class="button primary" id="save-rules" disabled=move || busy.get()>{t("Lưu thể lệ")}</button>
            <Show when=move || saved.get()><span class="saved" role="status">" "{t("Đã lưu trên thiết bị")}</span></Show>
        </form>
    }
}

#[component]
fn RoundForm(id: String, contest: ContestMemo, round: String) -> impl IntoView {
    let ctx = ctx();
    let Some(c) = contest.get_untracked().and_then(Result::ok) else { return ().into_any() };
    let Some(r) = c.round(&round).cloned() else { return ().into_any() };
    let units: Vec<String> = r.units.iter().map(|u| ctx.unit_name(u)).collect();
    if r.is_closed() {
        return view! {
            <section class="card round-form">
                <h3>{tr(&r.name)}</h3>
                <p class="meta">{tf("Đã khóa. Giám khảo: {}", &[&r.judges.iter().map(|j| j.name.clone()).collect::<Vec<_>>().join(", ")])}</p>
            </section>
        }
        .into_any();
    }
    let date = RwSignal::new(r.date.clone());
    let venue = RwSignal::new(r.venue.clone());
    let judges: RwSignal<Vec<(RwSignal<String>, RwSignal<String>)>> =
        RwSignal::new(r.judges.iter().map(|j| (RwSignal::new(j.username.clone()), RwSignal::new(j.name.clone()))).collect());
    let problems = RwSignal::new(Problems::new());
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let id = StoredValue::new(id);
    let rid = StoredValue::new(r.id.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let change = ContestChange::Round {
            round: rid.get_value(),
            date: date.get_untracked(),
            venue: venue.get_untracked(),
            judges: judges.get_untracked().iter().map(|(u, n)| Judge { username: u.get_untracked(), name: n.get_untracked() }).collect(),
        };
        busy.set(true);
        saved.set(false);
        leptos::task::spawn_local(async move {
            let result = ctx.change(&id.get_value(), change).await;
            busy.set(false);
            saved.set(result.is_ok());
            problems.set(result.err().unwrap_or_default());
        });
    };
    let prefix = r.id.clone();
    let (p1, p2) = (prefix.clone(), prefix.clone());
    view! {
        <form class="card round-form" id=format!("round-form-{}", r.id) on:submit=submit>
            <h3>{tr(&r.name)}</h3>
            {(!units.is_empty()).then(|| view! { <p class="meta">{tf("Đơn vị: {}", &[&units.join(", ")])}</p> })}
            <div class="row">
                <div class="field">
                    <label for=format!("{prefix}-date")>{t("Ngày thi")}</label>
                    <input type="date" id=format!("{prefix}-date") prop:value=date on:input=move |ev| date.set(event_target_value(&ev))/>
                    <p class="field-error">{problem(problems, "round-date")}</p>
                </div>
                <div class="field">
                    <label for=format!("{prefix}-venue")>{t("Địa điểm")}</label>
                    <input id=format!("{prefix}-venue") prop:value=venue on:input=move |ev| venue.set(event_target_value(&ev))/>
                </div>
            </div>
            <fieldset>
                <legend>{t("Giám khảo (tên đăng nhập và họ tên in trên kết quả)")}</legend>
                <p class="hint">{t("Gõ hoặc chọn tên đăng nhập trong danh sách người của các đơn vị bạn bình xét, quản trị (danh sách có khi có mạng); họ tên được điền theo tài khoản.")}</p>
                {move || judges.get().into_iter().enumerate().map(|(i, (username, name))| {
                    let c2 = format!("judge-{i}");
                    view! {
                        <div class="row judge-row">
                            <div class="field">
                                <label for=format!("{p1}-judge-{i}")>{tf("Tên đăng nhập {}", &[&(i + 1)])}</label>
                                <input id=format!("{p1}-judge-{i}") autocapitalize="none" autocomplete="off" list="judge-candidates" prop:value=username
                                    on:input=move |ev| {
                                        let typed = event_target_value(&ev);
                                        // A name picked from the list brings its full name, unless one was written.
                                        if let Some(full) = ctx.candidate_name(typed.trim()) {
                                            if name.with_untracked(|n| n.trim().is_empty()) {
                                                name.set(full);
                                            }
                                        }
                                        username.set(typed);
                                    }/>
                                <p class="field-error">{move || problems.with(|ps| ps.iter().find(|(c, _)| *c == c2).map(|(_, m)| tr(m)))}</p>
                            </div>
                            <div class="field">
                                <label for=format!("{p2}-judge-name-{i}")>{t("Họ tên")}</label>
                                <input id=format!("{p2}-judge-name-{i}") prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                            </div>
                            <button type="button" class="button small" aria-label=tf("Bỏ giám khảo {}", &[&(i + 1)])
                                on:click=move |_| judges.update(|js| { js.remove(i); })>{t("Bỏ")}</button>
                        </div>
                    }
                }).collect_view()}
                <button type="button" class="button small add-judge" on:click=move |_| judges.update(|js| js.push((RwSignal::new(String::new()), RwSignal::new(String::new()))))>{t("Thêm giám khảo")}</button>
            </fieldset>
            <Problems problems shown=&["round-date"]/>
            <button class="button primary save-round" disabled=move || busy.get()>{t("Lưu vòng thi")}</button>
            <Show when=move || saved.get()><span class="saved" role="status">" "{t("Đã lưu trên thiết bị")}</span></Show>
        </form>
    }
    .into_any()
}

// ───────────────────────────── print and files ─────────────────────────────

/// The contest's tables (`export::contest_tables`) with units by name: what is printed and what
/// the files hold, the same rows.
fn tables_of(c: &Contest, with_judges: bool) -> Vec<crate::export::Table> {
    let ctx = ctx();
    let mut tables = crate::export::contest_tables(c);
    if !with_judges {
        // The export's sheets of the judges' scores (named in Vietnamese, as the files are).
        tables.retain(|table| !table.sheet.ends_with(vi("(giám khảo)")));
    }
    crate::export::name_units(&mut tables, |code| ctx.unit_name(code));
    tables
}

/// Results on A4 (the organiser's unit heading the page, every round, the prize list, the
/// signature block), and the same tables as XLSX or CSV.
#[component]
fn PrintTab(contest: ContestMemo) -> impl IntoView {
    let ctx = ctx();
    let with_judges = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let chosen_csv = RwSignal::new(0usize);
    let file_name = move |c: &Contest, ext: &str| {
        let slug: String = crate::domain::fold(&c.name).chars().map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' }).collect();
        let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
        format!("ket-qua-{slug}.{ext}")
    };
    let xlsx = move |_| {
        let Some(c) = current(contest) else { return };
        let result = crate::export::xlsx(&tables_of(&c, true))
            .map_err(|e| tr(&e.to_string()))
            .and_then(|bytes| super::files::download(&file_name(&c, "xlsx"), &bytes, super::files::XLSX));
        problem.set(result.err());
    };
    let csv = move |_| {
        let Some(c) = current(contest) else { return };
        let tables = tables_of(&c, true);
        let Some(table) = tables.get(chosen_csv.get_untracked()) else { return };
        let name = file_name(&c, "csv").replace(".csv", &format!("-{}.csv", chosen_csv.get_untracked() + 1));
        problem.set(super::files::download(&name, &crate::export::csv(table), super::files::CSV).err());
    };
    let document = move || {
        let c = current(contest)?;
        Some(print::contest_document(&ctx.unit_name(&c.unit), &c.name, c.is_published(), tables_of(&c, with_judges.get())))
    };
    let csv_choices = move || {
        current(contest).map(|c| tables_of(&c, true).into_iter().enumerate().map(|(i, table)| view! { <option value=i.to_string()>{tr(&table.sheet)}</option> }).collect_view())
    };
    view! {
        <section class="item no-print print-controls">
            <label class="choice">
                <input type="checkbox" id="print-judges" prop:checked=with_judges on:change=move |ev| with_judges.set(event_target_checked(&ev))/>
                {t("In kèm bảng điểm của từng giám khảo")}
            </label>
            <div class="actions">
                <button type="button" class="button primary" id="print-results" on:click=move |_| {
                    if let Some(w) = web_sys::window() { let _ = w.print(); }
                }>{t("In kết quả (A4)")}</button>
                <button type="button" class="button" id="export-xlsx" on:click=xlsx>{t("Tải tệp Excel (mọi bảng)")}</button>
            </div>
            <div class="field inline">
                <label for="csv-table">{t("Tệp CSV của bảng")}</label>
                <select id="csv-table" on:change=move |ev| chosen_csv.set(event_target_value(&ev).parse().unwrap_or(0))>{csv_choices}</select>
                <button type="button" class="button" id="export-csv" on:click=csv>{t("Tải CSV")}</button>
            </div>
            <Show when=move || problem.with(Option::is_some)><p class="error" role="alert">{move || problem.get()}</p></Show>
        </section>
        {document}
    }
}
