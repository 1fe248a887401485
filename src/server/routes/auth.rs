//! `/api/session` (sign in, sign out, who am I) and `/api/invitations/*` (open and accept an
//! invitation). Who is calling is `crate::server::session`; the limits, `login_limiter`.
//!
//! Invariants:
//! - a wrong username and a wrong password get the same answer after the same work (an argon2
//!   verification either way), and failures slow down guessing per account and per client
//!   address without letting anyone deny sign-in to others (`LoginLimiter`);
//! - an invitation token travels only in request bodies, never in a URL (proxies and traces log
//!   URLs).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};

use crate::server::AppState;
use crate::server::login_limiter::{AddressKey, MAX_USERNAME_CHARS, client_address};
use crate::server::session::{Caller, Token, new_token};
use crate::server::password::{hash_password, verify_password};
use crate::server::error::ApiError;
use crate::server::store::{Invitation, Session, User};
use crate::api::{Accept, InvitationToken, InvitationView, Profile, SignIn, SignedIn};
use crate::domain::{Access, CriteriaSet, OwnerKind, UnitTree, check_password};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/session", post(sign_in).delete(sign_out).get(me))
        // The token is in the body, never the path: URLs end up in proxies' access logs and in
        // traces. Both are POST so no cache or prefetch ever replays them.
        .route("/api/invitations/open", post(invitation))
        .route("/api/invitations/accept", post(accept_invitation))
}

/// The criteria for every owner kind: those configured, the defaults for the others.
pub async fn criteria(store: &dyn crate::server::store::Store) -> Result<Vec<CriteriaSet>, ApiError> {
    let configured = store.criteria().await?;
    Ok(OwnerKind::ALL
        .into_iter()
        .map(|k| CriteriaSet { owner_kind: k.code().to_string(), criteria: crate::domain::criteria_for(&configured, k) })
        .collect())
}

pub fn profile(user: &User, access: &Access, tree: &UnitTree, criteria: Vec<CriteriaSet>) -> Profile {
    let mut codes: std::collections::BTreeSet<&str> = access.readable().collect();
    for g in &user.grants {
        codes.extend(tree.up_from(&g.unit).map(|u| u.code.as_str()));
    }
    let units: Vec<crate::domain::Unit> = codes.into_iter().filter_map(|c| tree.get(c).cloned()).collect();
    // The clusters those units belong to, so reports can name and compare them.
    let clusters = tree.clusters().filter(|c| units.iter().any(|u| u.cluster.as_deref() == Some(c.code.as_str()))).cloned().collect();
    Profile {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        grants: user.grants.clone(),
        writable: access.writable().map(str::to_string).collect(),
        reviews: access.reviewable().map(str::to_string).collect(),
        manages: access.manages_anything(),
        units,
        clusters,
        readable: access.readable().map(str::to_string).collect(),
        criteria,
    }
}

/// The client's address ([`client_address`]); the peer comes from the connection info `bind`
/// gives every request.
struct ClientAddress(IpAddr);

impl FromRequestParts<Arc<AppState>> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<ClientAddress, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddress(client_address(peer, &parts.headers, &app.trusted_proxies)))
    }
}

/// A hash to verify against when the username does not exist, so both cases cost the same.
fn decoy_hash() -> &'static str {
    // Made on first use, on the hashing pool's thread (never on an async worker).
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").expect("hashing works"))
}

async fn sign_in(
    State(app): State<Arc<AppState>>,
    ClientAddress(ip): ClientAddress,
    Json(body): Json<SignIn>,
) -> Result<Json<SignedIn>, ApiError> {
    let username = body.username.trim();
    if username.chars().count() > MAX_USERNAME_CHARS {
        // No such account can exist; refused before it becomes a limiter key or a log line.
        return Err(ApiError::BadRequest(format!("Tên đăng nhập cần từ 3 đến {MAX_USERNAME_CHARS} ký tự.")));
    }
    let username = username.to_lowercase();
    let address = AddressKey::from(ip);
    // From here the attempt counts as a failure until the password is verified right; a request
    // dropped mid-way (its client hung up) stays counted, so hanging up buys no free guesses.
    let reservation = app.logins.reserve(&username, address, Instant::now()).map_err(|refusal| {
        tracing::warn!(%username, %address, ?refusal, "sign-in refused by the limits");
        ApiError::from(refusal)
    })?;
    // An unknown user, or one invited who has not chosen a password yet, costs the same
    // verification as a real one.
    let user = match app.store.user(&username).await {
        Ok(user) => user.filter(|u| !u.password_hash.is_empty()),
        Err(e) => {
            app.logins.abandoned(reservation);
            return Err(e.into());
        }
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password = body.password;
    let verified = app
        .hashing
        .run(move || verify_password(&password, stored.as_deref().unwrap_or_else(|| decoy_hash())))
        .await;
    let ok = match verified {
        Ok(ok) => ok,
        Err(busy) => {
            app.logins.abandoned(reservation);
            return Err(busy);
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        tracing::warn!(%username, %address, "failed sign-in");
        return Err(ApiError::Unauthorized("Sai tên đăng nhập hoặc mật khẩu.".into()));
    };
    app.logins.succeeded(reservation);
    if user.disabled {
        return Err(ApiError::Forbidden("Tài khoản đã bị khóa. Hãy liên hệ quản trị viên.".into()));
    }
    start_session(&app, user).await.map(Json)
}

async fn start_session(app: &AppState, user: User) -> Result<SignedIn, ApiError> {
    let (token, stored) = new_token();
    let now = crate::server::now_ms();
    let expires_at = now + app.session_ttl_ms;
    let session = Session { username: user.username.clone(), verifier_hash: stored.verifier_hash, created_at: now, expires_at };
    app.store.create_session(&stored.id, &session).await?;
    let tree = app.units.current(app.store.as_ref()).await?;
    let access = Access::new(&user.grants, &tree);
    tracing::info!(username = %user.username, "signed in");
    let criteria = criteria(app.store.as_ref()).await?;
    Ok(SignedIn { token, expires_at, profile: profile(&user, &access, &tree, criteria) })
}

async fn sign_out(State(app): State<Arc<AppState>>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    app.store.delete_session(&caller.session_id).await?;
    app.sessions.forget_all();
    Ok(Json(serde_json::json!({ "ok": true })))
}

async fn me(State(app): State<Arc<AppState>>, caller: Caller) -> Result<Json<Profile>, ApiError> {
    let criteria = criteria(app.store.as_ref()).await?;
    Ok(Json(profile(&caller.user, &caller.access, &caller.tree, criteria)))
}

async fn invitation(State(app): State<Arc<AppState>>, Json(body): Json<InvitationToken>) -> Result<Json<InvitationView>, ApiError> {
    let (_, inv) = live_invitation(&app, &body.token).await?;
    let user = app.store.user(&inv.username).await?.ok_or_else(gone)?;
    Ok(Json(InvitationView { username: user.username, display_name: user.display_name }))
}

/// Sets the password chosen on the invited device and signs that device in.
async fn accept_invitation(State(app): State<Arc<AppState>>, Json(body): Json<Accept>) -> Result<Json<SignedIn>, ApiError> {
    check_password(&body.password).map_err(ApiError::BadRequest)?;
    let invited = live_invitation(&app, &body.token).await?;
    let password = body.password;
    let hash = app.hashing.run(move || hash_password(&password)).await?.map_err(ApiError::Internal)?;
    let username = app.store.accept_invitation(&invited.0, &hash, crate::server::now_ms()).await?.ok_or_else(gone)?;
    // A new password ends the sessions the old one opened.
    app.store.delete_sessions(&username).await?;
    app.sessions.forget_all();
    let user = app.store.user(&username).await?.ok_or_else(gone)?;
    if user.disabled {
        return Err(ApiError::Forbidden("Tài khoản đã bị khóa. Hãy liên hệ quản trị viên.".into()));
    }
    start_session(&app, user).await.map(Json)
}

fn gone() -> ApiError {
    ApiError::NotFound("Lời mời không còn hiệu lực (đã dùng hoặc hết hạn). Hãy xin quản trị viên gửi lời mời mới.".into())
}

/// The invitation a link's token opens (with its id), if it is valid and not expired.
async fn live_invitation(app: &AppState, token: &str) -> Result<(String, Invitation), ApiError> {
    let token = Token::parse(token).ok_or_else(gone)?;
    let inv = app.store.invitation(&token.id).await?.ok_or_else(gone)?;
    if !token.matches(&inv.verifier_hash) || inv.expires_at <= crate::server::now_ms() {
        return Err(gone());
    }
    Ok((token.id, inv))
}
