//! `/quan-tri`: the administration of the units and users of the signed-in administrator's
//! subtree. Unlike the registry this needs the network (it changes who may do what on the server);
//! the server checks every action again.
//!
//! In the on-demand module (issue 15: ~32 KB brotli the first load no longer carries; an
//! administrator opens it rarely), mounted by `pages::admin` with an [`AdminInput`]. Its link to
//! the import page is a plain `<a>`: the app's router catches every same-origin link click in the
//! document, this module's included.

use std::collections::BTreeMap;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::client::net::http::{self, Body, Failure};
use crate::client::reporting::input::AdminInput;
use crate::api::{ClusterForm, CriteriaForm, CriteriaView, Disabled, Imported, InvitationLink, NewUser, Origin, UnitsView, UserForm, UserView};
use crate::domain::{Cluster, Grant, Role, Unit, check_username};
use crate::i18n::{self, t, tf, tr};

thread_local! {
    /// The session token the app handed over when the page mounted (callable from async tasks,
    /// which have no reactive owner). None: the session has ended; every call then gets the
    /// server's "sign in again" answer.
    static TOKEN: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    static ME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn token() -> Option<String> {
    TOKEN.with(|t| t.borrow().clone())
}

#[component]
pub fn AdminPage(input: AdminInput) -> impl IntoView {
    TOKEN.with(|t| *t.borrow_mut() = input.token);
    ME.with(|m| *m.borrow_mut() = input.username);
    let units = RwSignal::new(None::<Result<UnitsView, Failure>>);
    let users = RwSignal::new(None::<Result<Vec<UserView>, Failure>>);
    // Outlives the users list, which is read again after every change.
    let invitation = RwSignal::new(None::<InvitationLink>);
    let token = token().unwrap_or_default();
    let reload = {
        let token = token.clone();
        move || {
            let token = token.clone();
            leptos::task::spawn_local(async move {
                let u = http::call::<UnitsView>(reqwest::Method::GET, "/api/admin/units", Some(&token), Body::None).await;
                units.set(Some(u));
                let p = http::call::<Vec<UserView>>(reqwest::Method::GET, "/api/admin/users", Some(&token), Body::None).await;
                users.set(Some(p));
            });
        }
    };
    reload();
    let reload_users = reload.clone();
    let names = Memo::new(move |_| {
        units.with(|u| match u {
            Some(Ok(v)) => v.units.iter().map(|u| (u.code.clone(), u.name.clone())).collect::<BTreeMap<_, _>>(),
            _ => BTreeMap::new(),
        })
    });
    view! {
        <section class="page admin-page">
            <h1>{t("Quản trị")}</h1>
            <p class="hint">{t("Quản lý đơn vị và người dùng trong phạm vi bạn quản trị. Các thao tác ở đây cần có mạng.")}</p>
            <p><a href="/nhap-tu-tep">{t("Nhập danh sách mô hình từ tệp (CSV, XLSX)")}</a></p>
            {move || match units.get() {
                None => view! { <p class="loading">{t("Đang tải…")}</p> }.into_any(),
                Some(Err(f)) => view! { <p class="error" role="alert">{tr(&f.message)}</p> }.into_any(),
                Some(Ok(view_)) => view! { <UnitsSection units=view_ on_change=reload.clone()/> }.into_any(),
            }}
            {move || match users.get() {
                Some(Ok(list)) => view! { <UsersSection users=list names=names invitation on_change=reload_users.clone()/> }.into_any(),
                Some(Err(f)) if units.with(|u| matches!(u, Some(Ok(_)))) => view! { <p class="error" role="alert">{tr(&f.message)}</p> }.into_any(),
                _ => ().into_any(),
            }}
            <CriteriaSection/>
        </section>
    }
}

/// Units as an indented tree: each unit's children under it, roots first.
fn tree_rows(units: &[Unit]) -> Vec<(usize, Unit)> {
    let codes: std::collections::HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&Unit>> = BTreeMap::new();
    for u in units {
        // A unit whose parent is outside the administered part is shown as a root.
        let parent = u.parent.as_deref().filter(|p| codes.contains(p));
        children.entry(parent).or_default().push(u);
    }
    let mut rows = Vec::new();
    let mut stack: Vec<(usize, &Unit)> = children.get(&None).into_iter().flatten().rev().map(|u| (0, *u)).collect();
    while let Some((depth, u)) = stack.pop() {
        rows.push((depth, u.clone()));
        if let Some(kids) = children.get(&Some(u.code.as_str())) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    rows
}

#[component]
fn UnitsSection(units: UnitsView, on_change: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let rows = tree_rows(&units.units);
    let count = rows.len();
    let outcome = RwSignal::new(None::<Result<String, Failure>>);
    let busy = RwSignal::new(false);
    let on_file = {
        let on_change = on_change.clone();
        move |ev: leptos::ev::Event| {
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            busy.set(true);
            let on_change = on_change.clone();
            leptos::task::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string());
                let result = match text {
                    None => Err(Failure { status: 0, message: t("Không đọc được tệp đã chọn.").into(), problems: Vec::new() }),
                    Some(text) => {
                        let token = token().unwrap_or_default();
                        http::call::<Imported>(reqwest::Method::POST, "/api/admin/units", Some(&token), Body::Text(&text)).await.map(|i| {
                            tf(
                                "Đã nhập: {} đơn vị mới, {} cập nhật, {} không đổi. Cây có {} đơn vị.",
                                &[&i.summary.added, &i.summary.updated, &i.summary.unchanged, &i18n::count(i.total)],
                            )
                        })
                    }
                };
                busy.set(false);
                let saved = result.is_ok();
                outcome.set(Some(result));
                if saved {
                    on_change();
                }
            });
        }
    };
    let members = |cluster: &Cluster, units: &[Unit]| -> Vec<(String, String)> {
        units.iter().filter(|u| u.cluster.as_deref() == Some(cluster.code.as_str())).map(|u| (u.code.clone(), u.name.clone())).collect()
    };
    let clusters: Vec<_> = units.clusters.iter().map(|c| (c.clone(), members(c, &units.units))).collect();
    view! {
        <section class="item">
            <h2>{tf("Đơn vị ({})", &[&i18n::count(count)])}</h2>
            <ul class="unit-tree">
                {rows.into_iter().map(|(depth, u)| view! {
                    <li class=format!("depth-{}", depth.min(6))>
                        <strong>{u.name.clone()}</strong> " "
                        <code>{u.code.clone()}</code>
                        <span class="meta">{format!(" · {} · {}", t(u.kind.label()), t(u.level.label()))}
                            {u.cluster.clone().map(|c| format!(" · {}", tf("cụm {}", &[&c])))}</span>
                    </li>
                }).collect_view()}
            </ul>
            <div class="field">
                <label for="units-file">{t("Nhập đơn vị từ tệp CSV")}</label>
                <input id="units-file" type="file" accept=".csv,text/csv" disabled=move || busy.get() on:change=on_file/>
                <p class="hint">{t("Các cột: mã, tên, loại, cấp, mã cấp trên, cụm (dòng đầu là tên cột). Đơn vị có sẵn được cập nhật theo mã; nếu có dòng sai thì không lưu gì.")}</p>
            </div>
            {move || outcome.get().map(|o| match o {
                Ok(text) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
                Err(f) => view! {
                    <div class="form-errors" role="alert">
                        <p>{tr(&f.message)}</p>
                        <ul id="import-problems">{f.problems.into_iter().map(|p| view! { <li>{tr(&p)}</li> }).collect_view()}</ul>
                    </div>
                }.into_any(),
            })}
        </section>
        <Show when={let empty = clusters.is_empty(); move || !empty}>
            <section class="item">
                <h2>{t("Cụm thi đua")}</h2>
                {clusters.clone().into_iter().map(|(c, members)| view! { <ClusterEditor cluster=c members/> }).collect_view()}
            </section>
        </Show>
    }
}

#[component]
fn ClusterEditor(cluster: Cluster, members: Vec<(String, String)>) -> impl IntoView {
    let name = RwSignal::new(cluster.name.clone());
    let head = RwSignal::new(cluster.head.clone().unwrap_or_default());
    let deputy = RwSignal::new(cluster.deputy.clone().unwrap_or_default());
    let message = RwSignal::new(None::<Result<String, String>>);
    let code = cluster.code.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ClusterForm {
            name: name.get_untracked(),
            head: Some(head.get_untracked()).filter(|h| !h.is_empty()),
            deputy: Some(deputy.get_untracked()).filter(|d| !d.is_empty()),
        };
        let code = code.clone();
        leptos::task::spawn_local(async move {
            let token = token().unwrap_or_default();
            let path = format!("/api/admin/clusters/{code}");
            let result = http::call::<Cluster>(reqwest::Method::PUT, &path, Some(&token), http::json(&form)).await;
            message.set(Some(result.map(|_| t("Đã lưu cụm.").to_string()).map_err(|f| tr(&f.message))));
        });
    };
    let id = |what: &str| format!("cluster-{}-{what}", cluster.code);
    let options = move |list: &[(String, String)]| {
        std::iter::once(view! { <option value="">{t("— chưa chọn —")}</option> }.into_any())
            .chain(list.iter().map(|(c, n)| view! { <option value=c.clone()>{n.clone()}</option> }.into_any()))
            .collect_view()
    };
    view! {
        <form class="cluster" on:submit=save>
            <h3>{tf("Cụm {}", &[&cluster.code])}</h3>
            <div class="row three">
                <div class="field">
                    <label for=id("name")>{t("Tên cụm")}</label>
                    <input id=id("name") prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for=id("head")>{t("Trưởng cụm")}</label>
                    <select id=id("head") prop:value=head on:change=move |ev| head.set(event_target_value(&ev))>{options(&members)}</select>
                </div>
                <div class="field">
                    <label for=id("deputy")>{t("Phó cụm")}</label>
                    <select id=id("deputy") prop:value=deputy on:change=move |ev| deputy.set(event_target_value(&ev))>{options(&members)}</select>
                </div>
            </div>
            <div class="actions">
                <button type="submit" class="button">{t("Lưu cụm")}</button>
                {move || message.get().map(|m| match m {
                    Ok(m) => view! { <span class="ok" role="status">{m}</span> }.into_any(),
                    Err(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
                })}
            </div>
        </form>
    }
}

#[component]
fn UsersSection(
    users: Vec<UserView>,
    names: Memo<BTreeMap<String, String>>,
    invitation: RwSignal<Option<InvitationLink>>,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<UserView>);
    let unit_name = move |code: &str| names.with(|n| n.get(code).cloned().unwrap_or_else(|| code.to_string()));
    let me = ME.with(|m| m.borrow().clone());
    let rows = users
        .into_iter()
        .map(|u| {
            let roles = u.grants.iter().map(|g| format!("{} — {}", t(g.role.label()), unit_name(&g.unit))).collect::<Vec<_>>().join("; ");
            let state = if u.disabled {
                t("Đã khóa")
            } else if u.has_password {
                t("Đang dùng")
            } else {
                t("Chờ nhận lời mời")
            };
            let username = u.username.clone();
            let toggle = {
                let (username, on_change) = (username.clone(), on_change.clone());
                let disabled = !u.disabled;
                move |_| {
                    let (username, on_change) = (username.clone(), on_change.clone());
                    leptos::task::spawn_local(async move {
                        let token = token().unwrap_or_default();
                        let path = format!("/api/admin/users/{username}/disabled");
                        match http::call::<UserView>(reqwest::Method::PUT, &path, Some(&token), http::json(&Disabled { disabled })).await {
                            Ok(_) => on_change(),
                            Err(f) => error.set(Some(tr(&f.message))),
                        }
                    });
                }
            };
            let reinvite = {
                let username = username.clone();
                move |_| {
                    let username = username.clone();
                    leptos::task::spawn_local(async move {
                        let token = token().unwrap_or_default();
                        let path = format!("/api/admin/users/{username}/invitation");
                        match http::call::<InvitationLink>(reqwest::Method::POST, &path, Some(&token), http::json(&Origin { origin: http::origin() })).await {
                            Ok(link) => invitation.set(Some(link)),
                            Err(f) => error.set(Some(tr(&f.message))),
                        }
                    });
                }
            };
            let is_me = u.username == me;
            let edit = {
                let u = u.clone();
                move |_| editing.set(Some(u.clone()))
            };
            view! {
                <tr>
                    <td data-label=t("Họ tên")>{u.display_name.clone()}</td>
                    <td data-label=t("Tên đăng nhập")><code>{u.username.clone()}</code></td>
                    <td data-label=t("Vai trò")>{roles}</td>
                    <td data-label=t("Trạng thái")>{state}</td>
                    <td class="actions">
                        <button class="button small" on:click=edit>{t("Sửa vai trò")}</button>
                        <button class="button small" on:click=reinvite>{t("Gửi lời mời mới")}</button>
                        {(!is_me).then(|| view! {
                            <button class="button small" on:click=toggle>{if u.disabled { t("Mở khóa") } else { t("Khóa") }}</button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="item">
            <h2>{t("Người dùng")}</h2>
            <div class="table-scroll">
                <table class="users">
                    <thead><tr><th>{t("Họ tên")}</th><th>{t("Tên đăng nhập")}</th><th>{t("Vai trò")}</th><th>{t("Trạng thái")}</th><th>{t("Thao tác")}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            {
                let on_change = on_change.clone();
                move || editing.get().map(|user| view! { <GrantsEditor user names editing on_change=on_change.clone()/> })
            }
            <NewUserForm names invitation on_change/>
            {move || invitation.get().map(|link| view! { <InvitationCard link/> })}
        </section>
    }
}

#[component]
fn NewUserForm(
    names: Memo<BTreeMap<String, String>>,
    invitation: RwSignal<Option<InvitationLink>>,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member.code().to_string());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let u = username.get_untracked().trim().to_lowercase();
        let problem = check_username(&u)
            .err()
            .map(|e| tr(&e))
            .or_else(|| display_name.get_untracked().trim().is_empty().then(|| t("Hãy nhập họ tên người dùng.").to_string()))
            .or_else(|| unit.get_untracked().is_empty().then(|| t("Hãy chọn đơn vị.").to_string()));
        if let Some(p) = problem {
            error.set(Some(p));
            return;
        }
        let form = NewUser {
            username: u,
            display_name: display_name.get_untracked().trim().to_string(),
            unit: unit.get_untracked(),
            role: Role::from_code(&role.get_untracked()).unwrap_or(Role::Member),
            origin: http::origin(),
        };
        error.set(None);
        let on_change = on_change.clone();
        leptos::task::spawn_local(async move {
            let token = token().unwrap_or_default();
            match http::call::<InvitationLink>(reqwest::Method::POST, "/api/admin/users", Some(&token), http::json(&form)).await {
                Ok(link) => {
                    username.set(String::new());
                    display_name.set(String::new());
                    invitation.set(Some(link));
                    on_change();
                }
                Err(f) => error.set(Some(tr(&f.message))),
            }
        });
    };
    view! {
        <form class="model-form new-user" novalidate on:submit=submit>
            <h3>{t("Thêm người dùng")}</h3>
            <div class="row">
                <div class="field">
                    <label for="new-username">{t("Tên đăng nhập")}</label>
                    <input id="new-username" autocapitalize="none" spellcheck="false" placeholder=t("ví dụ: nguyenvana")
                        prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="new-display-name">{t("Họ tên")}</label>
                    <input id="new-display-name" prop:value=display_name on:input=move |ev| display_name.set(event_target_value(&ev))/>
                </div>
            </div>
            <div class="row">
                <div class="field">
                    <label for="new-unit">{t("Đơn vị")}</label>
                    <select id="new-unit" prop:value=unit on:change=move |ev| unit.set(event_target_value(&ev))>
                        <option value="">{t("— chọn đơn vị —")}</option>
                        {move || names.get().into_iter().map(|(c, n)| view! { <option value=c.clone()>{n}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="new-role">{t("Vai trò")}</label>
                    <select id="new-role" prop:value=role on:change=move |ev| role.set(event_target_value(&ev))>
                        {Role::ALL.iter().map(|r| view! { <option value=r.code()>{t(r.label())}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <div class="actions">
                <button type="submit" class="button primary">{t("Tạo tài khoản và lời mời")}</button>
            </div>
        </form>
    }
}

/// A user's name and roles (one role per unit), changed together.
#[component]
fn GrantsEditor(
    user: UserView,
    names: Memo<BTreeMap<String, String>>,
    editing: RwSignal<Option<UserView>>,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let display_name = RwSignal::new(user.display_name.clone());
    let grants = RwSignal::new(user.grants.iter().map(|g| (g.unit.clone(), g.role.code().to_string())).collect::<Vec<_>>());
    let error = RwSignal::new(None::<String>);
    let username = user.username.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let list = grants.get_untracked();
        if list.is_empty() || list.iter().any(|(unit, _)| unit.is_empty()) {
            error.set(Some(t("Mỗi vai trò cần chọn một đơn vị; cần ít nhất một vai trò.").into()));
            return;
        }
        let mut units: Vec<&String> = list.iter().map(|(u, _)| u).collect();
        units.sort();
        units.dedup();
        if units.len() != list.len() {
            error.set(Some(t("Mỗi đơn vị chỉ chọn một vai trò.").into()));
            return;
        }
        let form = UserForm {
            display_name: display_name.get_untracked(),
            grants: list.iter().map(|(unit, role)| Grant { unit: unit.clone(), role: Role::from_code(role).unwrap_or(Role::Member) }).collect(),
        };
        let (username, on_change) = (username.clone(), on_change.clone());
        leptos::task::spawn_local(async move {
            let token = token().unwrap_or_default();
            let path = format!("/api/admin/users/{username}");
            match http::call::<UserView>(reqwest::Method::PUT, &path, Some(&token), http::json(&form)).await {
                Ok(_) => {
                    editing.set(None);
                    on_change();
                }
                Err(f) => error.set(Some(tr(&f.message))),
            }
        });
    };
    view! {
        <form class="model-form grants" novalidate on:submit=save>
            <h3>{tf("Vai trò của {}", &[&user.username])}</h3>
            <div class="field">
                <label for="edit-display-name">{t("Họ tên")}</label>
                <input id="edit-display-name" prop:value=display_name on:input=move |ev| display_name.set(event_target_value(&ev))/>
            </div>
            {move || (0..grants.with(Vec::len)).map(|i| {
                let (unit, role) = grants.with(|g| g[i].clone());
                view! {
                    <div class="row three">
                        <div class="field">
                            <label for=format!("grant-{i}-unit")>{t("Đơn vị")}</label>
                            <select id=format!("grant-{i}-unit") prop:value=unit
                                on:change=move |ev| grants.update(|g| g[i].0 = event_target_value(&ev))>
                                <option value="">{t("— chọn đơn vị —")}</option>
                                {names.get().into_iter().map(|(c, n)| view! { <option value=c.clone()>{n}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for=format!("grant-{i}-role")>{t("Vai trò")}</label>
                            <select id=format!("grant-{i}-role") prop:value=role
                                on:change=move |ev| grants.update(|g| g[i].1 = event_target_value(&ev))>
                                {Role::ALL.iter().map(|r| view! { <option value=r.code()>{t(r.label())}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <button type="button" class="button small" on:click=move |_| grants.update(|g| { g.remove(i); })>{t("Bỏ vai trò này")}</button>
                        </div>
                    </div>
                }
            }).collect_view()}
            <button type="button" class="button small" on:click=move |_| grants.update(|g| g.push((String::new(), Role::Member.code().to_string())))>{t("Thêm vai trò")}</button>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <div class="actions">
                <button type="submit" class="button primary">{t("Lưu vai trò")}</button>
                <button type="button" class="button" on:click=move |_| editing.set(None)>{t("Hủy")}</button>
            </div>
        </form>
    }
}

/// The link to open on the new device, and the same as a QR code to scan from this screen.
#[component]
fn InvitationCard(link: InvitationLink) -> impl IntoView {
    let expires = crate::client::date_time(link.expires_at);
    view! {
        <div class="invitation" role="status">
            <h3>{tf("Lời mời cho {}", &[&link.username])}</h3>
            <p>{tf("Mở liên kết này trên điện thoại của người dùng, hoặc quét mã QR bằng camera. Liên kết chỉ dùng được một lần, hết hạn lúc {}.", &[&expires])}</p>
            <img class="qr" src=link.qr.clone() alt=tf("Mã QR của lời mời cho {}", &[&link.username]) width="240" height="240"/>
            <div class="field">
                <label for="invitation-url">{t("Liên kết mời")}</label>
                <input id="invitation-url" readonly prop:value=link.url.clone() on:focus=|ev| {
                    if let Some(i) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { i.select(); }
                }/>
            </div>
        </div>
    }
}

/// The evaluation criteria per owner kind, one per line ("tên tiêu chí | điểm tối đa"). Changed
/// by the province's administrators; evaluations already open keep the criteria they started with.
#[component]
fn CriteriaSection() -> impl IntoView {
    let sets = RwSignal::new(None::<Result<Vec<CriteriaView>, Failure>>);
    leptos::task::spawn_local(async move {
        let token = token().unwrap_or_default();
        sets.set(Some(http::call::<Vec<CriteriaView>>(reqwest::Method::GET, "/api/admin/criteria", Some(&token), Body::None).await));
    });
    view! {
        <section class="item criteria-admin">
            <h2>{t("Bộ tiêu chí bình xét")}</h2>
            <p class="hint">{t("Mỗi dòng một tiêu chí: “tên tiêu chí | điểm tối đa” (bỏ trống điểm: 10). Phiếu bình xét đang chấm giữ bộ tiêu chí lúc mở phiếu.")}</p>
            {move || match sets.get() {
                None => view! { <p class="loading">{t("Đang tải…")}</p> }.into_any(),
                Some(Err(f)) => view! { <p class="error" role="alert">{tr(&f.message)}</p> }.into_any(),
                Some(Ok(list)) => list.into_iter().map(|set| view! { <CriteriaEditor set/> }).collect_view().into_any(),
            }}
        </section>
    }
}

#[component]
fn CriteriaEditor(set: CriteriaView) -> impl IntoView {
    let text = RwSignal::new(set.text.clone());
    let is_default = RwSignal::new(set.default);
    let outcome = RwSignal::new(None::<Result<String, Failure>>);
    let id = format!("criteria-{}", set.owner_kind);
    let kind = set.owner_kind.clone();
    let save = move |_| {
        let (kind, body) = (kind.clone(), CriteriaForm { text: text.get_untracked() });
        leptos::task::spawn_local(async move {
            let token = token().unwrap_or_default();
            let path = format!("/api/admin/criteria/{kind}");
            match http::call::<Vec<CriteriaView>>(reqwest::Method::PUT, &path, Some(&token), http::json(&body)).await {
                Ok(list) => {
                    // The list as the server keeps it (trimmed, maxima written out).
                    if let Some(saved) = list.into_iter().find(|v| v.owner_kind == kind) {
                        text.set(saved.text);
                        is_default.set(saved.default);
                    }
                    outcome.set(Some(Ok(t("Đã lưu. Thiết bị của người bình xét nhận bộ tiêu chí mới trong vòng một giờ khi có mạng (hoặc khi đăng nhập lại).").into())));
                }
                Err(f) => outcome.set(Some(Err(f))),
            }
        });
    };
    view! {
        <div class="field">
            <label for=id.clone()>{tr(&set.label)} {move || is_default.get().then(|| format!(" ({})", t("mặc định")))}</label>
            <textarea id=id rows="6" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button class="button" on:click=save>{t("Lưu bộ tiêu chí")}</button>
            {move || outcome.get().map(|o| match o {
                Ok(m) => view! { <p class="saved" role="status">{m}</p> }.into_any(),
                Err(f) => view! {
                    <div class="error" role="alert"><p>{tr(&f.message)}</p><ul>{f.problems.into_iter().map(|p| view! { <li>{tr(&p)}</li> }).collect_view()}</ul></div>
                }.into_any(),
            })}
        </div>
    }
}
