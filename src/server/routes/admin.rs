//! Administration of a subtree: its units and clusters, its users and their invitations.
//!
//! Invariant: an administrator acts only inside the subtrees they administer (`Access::can_manage`):
//! units they add or move must end up below one of their own administrator grants, and the users
//! they touch must hold grants only there. Roots of the tree are made with the command line.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;

use crate::server::AppState;
use crate::server::session::{Caller, INVITATION_TTL_MS, new_token};
use crate::server::error::ApiError;
use crate::server::store::{Invitation, StoreError, User};
use crate::api::{ClusterForm, CriteriaForm, CriteriaView, Disabled, Imported, InvitationLink, NewUser, Origin, UnitsView, UserForm, UserView};
use crate::domain::{
    Cluster, CriteriaSet, Grant, OwnerKind, Role, Unit, UnitTree, check_username, criteria_for, criteria_text, parse_criteria,
};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/admin/units", get(units).post(import_units))
        .route("/api/admin/clusters/{code}", put(save_cluster))
        .route("/api/admin/users", get(users).post(create_user))
        .route("/api/admin/users/{username}", put(update_user))
        .route("/api/admin/users/{username}/invitation", post(reinvite))
        .route("/api/admin/users/{username}/disabled", put(set_disabled))
        .route("/api/admin/criteria", get(criteria))
        .route("/api/admin/criteria/{owner_kind}", put(save_criteria))
}

/// The criteria apply to the whole organisation, so only an administrator of a root unit (the
/// province, made with the command line) changes them; every administrator sees them.
fn manages_a_root(caller: &Caller) -> bool {
    caller.user.grants.iter().any(|g| g.role == Role::Admin && caller.tree.get(&g.unit).is_some_and(|u| u.parent.is_none()))
}

async fn criteria_views(app: &AppState) -> Result<Vec<CriteriaView>, ApiError> {
    let configured = app.store.criteria().await?;
    Ok(OwnerKind::ALL
        .into_iter()
        .map(|k| CriteriaView {
            owner_kind: k.code().to_string(),
            label: k.label().to_string(),
            text: criteria_text(&criteria_for(&configured, k)),
            default: !configured.iter().any(|s| s.owner_kind == k.code()),
        })
        .collect())
}

async fn criteria(State(app): State<Arc<AppState>>, caller: Caller) -> Result<Json<Vec<CriteriaView>>, ApiError> {
    require_admin(&caller)?;
    criteria_views(&app).await.map(Json)
}

/// `PUT /api/admin/criteria/{owner_kind}`: evaluations started afterwards use the new list;
/// those in progress keep the criteria they started with.
async fn save_criteria(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(kind): Path<String>,
    Json(form): Json<CriteriaForm>,
) -> Result<Json<Vec<CriteriaView>>, ApiError> {
    require_admin(&caller)?;
    if !manages_a_root(&caller) {
        return Err(ApiError::Forbidden("Chỉ quản trị viên cấp tỉnh mới sửa bộ tiêu chí bình xét.".into()));
    }
    let kind = OwnerKind::from_code(&kind).ok_or_else(|| ApiError::BadRequest(format!("Loại chủ thể “{kind}” không có.")))?;
    let previous = criteria_for(&app.store.criteria().await?, kind);
    let list = parse_criteria(&form.text, &previous)
        .map_err(|problems| ApiError::Invalid(format!("Chưa lưu bộ tiêu chí: {} lỗi.", problems.len()), problems))?;
    let set = CriteriaSet { owner_kind: kind.code().to_string(), criteria: list };
    app.store.save_criteria(&set, &caller.user.username, crate::server::now_ms()).await?;
    tracing::info!(by = %caller.user.username, owner_kind = kind.code(), "criteria changed");
    criteria_views(&app).await.map(Json)
}

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.access.manages_anything() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Chỉ quản trị viên mới dùng được chức năng này.".into()))
    }
}

async fn units(caller: Caller) -> Result<Json<UnitsView>, ApiError> {
    require_admin(&caller)?;
    let units: Vec<Unit> = caller.tree.units().filter(|u| caller.access.can_manage(&u.code)).cloned().collect();
    let clusters = caller
        .tree
        .clusters()
        .filter(|c| units.iter().any(|u| u.cluster.as_deref() == Some(c.code.as_str())))
        .cloned()
        .collect();
    Ok(Json(UnitsView { units, clusters }))
}

/// Units that `next` adds or changes and that would fall outside what the caller administers.
fn outside_own_subtrees(caller: &Caller, current: &UnitTree, next: &UnitTree) -> Vec<String> {
    let roots: Vec<&str> = caller.user.grants.iter().filter(|g| g.role == Role::Admin).map(|g| g.unit.as_str()).collect();
    next.units()
        .filter(|u| current.get(&u.code) != Some(u))
        .filter(|u| {
            let below_own = roots.iter().any(|r| *r != u.code && next.is_within(&u.code, r));
            // An administrator's own unit may be renamed, not moved (that would widen their reach).
            let own_kept_in_place =
                roots.contains(&u.code.as_str()) && current.get(&u.code).is_some_and(|old| old.parent == u.parent);
            !(below_own || own_kept_in_place)
        })
        .map(|u| format!("Đơn vị {} ({}) nằm ngoài phạm vi bạn quản trị.", u.code, u.name))
        .collect()
}

/// `POST /api/admin/units` with a CSV file as the body: the same all-or-nothing import as the
/// `import-units` command, limited to the caller's subtrees.
async fn import_units(State(app): State<Arc<AppState>>, caller: Caller, body: axum::body::Bytes) -> Result<Json<Imported>, ApiError> {
    require_admin(&caller)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::BadRequest("Tệp không phải UTF-8; trong Excel hãy lưu dạng “CSV UTF-8”.".into()))?;
    // The freshest tree, not the cached one: the import merges into it. If another import
    // saved meanwhile, the file is merged again into what it saved (and checked again).
    for _ in 0..TREE_ATTEMPTS {
        let current = app.store.unit_tree().await?;
        let (next, summary) = current.import_csv(&text).map_err(|errors| {
            ApiError::Invalid(format!("Không nhập được: {} lỗi, chưa lưu gì.", errors.len()), errors.iter().map(|e| e.to_string()).collect())
        })?;
        let outside = outside_own_subtrees(&caller, &current, &next);
        if !outside.is_empty() {
            return Err(ApiError::Invalid(format!("Không nhập được: {} đơn vị ngoài phạm vi, chưa lưu gì.", outside.len()), outside));
        }
        match app.store.save_units(&current, &next).await {
            Ok(()) => {
                app.units.forget().await;
                return Ok(Json(Imported { summary, total: next.len() }));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(tree_busy())
}

/// How often a change of the unit tree is computed again when another one was saved first.
const TREE_ATTEMPTS: usize = 5;

fn tree_busy() -> ApiError {
    ApiError::NotYet("Cây đơn vị đang được người khác cập nhật cùng lúc; chưa lưu gì, hãy thử lại.".into())
}

/// Names a cluster and its head and deputy units (each a member of the cluster).
async fn save_cluster(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
    Json(form): Json<ClusterForm>,
) -> Result<Json<Cluster>, ApiError> {
    require_admin(&caller)?;
    let tree = app.store.unit_tree().await?;
    if !tree.clusters().any(|c| c.code == code) {
        return Err(ApiError::NotFound(format!("Không có cụm thi đua “{code}”.")));
    }
    let members: Vec<&Unit> = tree.units().filter(|u| u.cluster.as_deref() == Some(code.as_str())).collect();
    if members.iter().any(|u| !caller.access.can_manage(&u.code)) {
        return Err(ApiError::Forbidden("Cụm này có đơn vị ngoài phạm vi bạn quản trị; hãy nhờ cấp trên cập nhật.".into()));
    }
    let name = form.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::BadRequest("Hãy nhập tên cụm thi đua.".into()));
    }
    let pick = |which: &str, code: Option<String>| -> Result<Option<String>, ApiError> {
        match code.filter(|c| !c.trim().is_empty()) {
            None => Ok(None),
            Some(c) if members.iter().any(|u| u.code == c) => Ok(Some(c)),
            Some(c) => Err(ApiError::BadRequest(format!("Đơn vị {which} “{c}” không thuộc cụm này."))),
        }
    };
    let head = pick("trưởng cụm", form.head)?;
    let deputy = pick("phó cụm", form.deputy)?;
    if head.is_some() && head == deputy {
        return Err(ApiError::BadRequest("Trưởng cụm và phó cụm phải là hai đơn vị khác nhau.".into()));
    }
    let cluster = Cluster { code, name, head, deputy };
    let mut clusters: Vec<Cluster> = tree.clusters().filter(|c| c.code != cluster.code).cloned().collect();
    clusters.push(cluster.clone());
    match app.store.save_units(&tree, &UnitTree::from_units(tree.units().cloned().collect(), clusters)).await {
        Err(StoreError::Conflict) => return Err(tree_busy()),
        other => other?,
    }
    app.units.forget().await;
    Ok(Json(cluster))
}

/// A user as the administration page lists them (never the password hash).
fn user_view(u: &User) -> UserView {
    UserView {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        disabled: u.disabled,
        has_password: !u.password_hash.is_empty(),
        grants: u.grants.clone(),
    }
}

async fn users(State(app): State<Arc<AppState>>, caller: Caller) -> Result<Json<Vec<UserView>>, ApiError> {
    require_admin(&caller)?;
    let all = app.store.users().await?;
    Ok(Json(all.iter().filter(|u| u.grants.iter().any(|g| caller.access.can_manage(&g.unit))).map(user_view).collect()))
}

fn no_such_user(username: &str) -> ApiError {
    ApiError::NotFound(format!("Không có tài khoản “{username}”."))
}

/// A user the caller may change: every grant of theirs is inside the caller's subtrees (so a
/// commune's administrator cannot lock out the province's reviewer).
async fn managed_user(app: &AppState, caller: &Caller, username: &str) -> Result<User, ApiError> {
    let user = app.store.user(username).await?.ok_or_else(|| no_such_user(username))?;
    if user.grants.is_empty() || user.grants.iter().any(|g| !caller.access.can_manage(&g.unit)) {
        return Err(ApiError::Forbidden(format!("Tài khoản “{username}” có vai trò ngoài phạm vi bạn quản trị.")));
    }
    Ok(user)
}

fn check_grants(caller: &Caller, grants: &[Grant]) -> Result<(), ApiError> {
    if grants.is_empty() {
        return Err(ApiError::BadRequest("Hãy chọn ít nhất một đơn vị và vai trò.".into()));
    }
    for g in grants {
        if caller.tree.get(&g.unit).is_none() {
            return Err(ApiError::BadRequest(format!("Không có đơn vị “{}”.", g.unit)));
        }
        if !caller.access.can_manage(&g.unit) {
            return Err(ApiError::Forbidden(format!("Đơn vị {} nằm ngoài phạm vi bạn quản trị.", g.unit)));
        }
    }
    Ok(())
}

async fn create_user(State(app): State<Arc<AppState>>, caller: Caller, Json(form): Json<NewUser>) -> Result<Json<InvitationLink>, ApiError> {
    require_admin(&caller)?;
    let username = form.username.trim().to_string();
    check_username(&username).map_err(ApiError::BadRequest)?;
    let display_name = form.display_name.trim().to_string();
    if display_name.is_empty() {
        return Err(ApiError::BadRequest("Hãy nhập họ tên người dùng.".into()));
    }
    let grants = vec![Grant { unit: form.unit.trim().to_string(), role: form.role }];
    check_grants(&caller, &grants)?;
    // No password until the invited person chooses one on their phone.
    let user = User { username: username.clone(), display_name, password_hash: String::new(), disabled: false, grants };
    match app.store.create_user(&user, crate::server::now_ms()).await {
        Err(StoreError::Conflict) => return Err(ApiError::BadRequest(format!("Tên đăng nhập “{username}” đã có."))),
        other => other?,
    }
    tracing::info!(by = %caller.user.username, %username, "user created");
    invite(&app, &username, &form.origin).await.map(Json)
}

async fn update_user(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(username): Path<String>,
    Json(form): Json<UserForm>,
) -> Result<Json<UserView>, ApiError> {
    require_admin(&caller)?;
    managed_user(&app, &caller, &username).await?;
    check_grants(&caller, &form.grants)?;
    let display_name = form.display_name.trim();
    if display_name.is_empty() {
        return Err(ApiError::BadRequest("Hãy nhập họ tên người dùng.".into()));
    }
    app.store.update_user(&username, display_name, &form.grants).await?;
    app.sessions.forget_all();
    let user = app.store.user(&username).await?.ok_or_else(|| no_such_user(&username))?;
    Ok(Json(user_view(&user)))
}

/// A new invitation for an existing user (a new phone, a forgotten password); earlier links stop
/// working. Sessions stay until the new password is chosen.
async fn reinvite(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<Origin>,
) -> Result<Json<InvitationLink>, ApiError> {
    require_admin(&caller)?;
    managed_user(&app, &caller, &username).await?;
    invite(&app, &username, &body.origin).await.map(Json)
}

async fn set_disabled(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<Disabled>,
) -> Result<Json<UserView>, ApiError> {
    require_admin(&caller)?;
    if username == caller.user.username {
        return Err(ApiError::BadRequest("Không thể tự khóa tài khoản của mình.".into()));
    }
    managed_user(&app, &caller, &username).await?;
    app.store.set_user_disabled(&username, body.disabled).await?;
    app.sessions.forget_all();
    if body.disabled {
        let ended = app.store.delete_sessions(&username).await?;
        tracing::info!(by = %caller.user.username, %username, ended, "user disabled");
    }
    let user = app.store.user(&username).await?.ok_or_else(|| no_such_user(&username))?;
    Ok(Json(user_view(&user)))
}

async fn invite(app: &AppState, username: &str, origin: &str) -> Result<InvitationLink, ApiError> {
    let origin = origin.trim_end_matches('/');
    let valid_origin = (origin.starts_with("https://") || origin.starts_with("http://"))
        && origin.len() < 200
        && !origin.contains(['#', '?', ' ', '"', '<', '>']);
    if !valid_origin {
        return Err(ApiError::BadRequest("Địa chỉ máy chủ không hợp lệ.".into()));
    }
    let (token, stored) = new_token();
    let now = crate::server::now_ms();
    let invitation = Invitation { username: username.to_string(), verifier_hash: stored.verifier_hash, expires_at: now + INVITATION_TTL_MS };
    app.store.save_invitation(&stored.id, &invitation, now).await?;
    // The token travels in the fragment: browsers never send it to a server or write it to logs.
    let url = format!("{origin}/moi#{token}");
    Ok(InvitationLink { username: username.to_string(), qr: qr_data_url(&url)?, url, expires_at: invitation.expires_at })
}

pub fn qr_data_url(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build();
    Ok(format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg)))
}
