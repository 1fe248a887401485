//! Sign-in, sessions and invitations; `Caller`, the signed-in user every protected route takes.
//!
//! Invariants:
//! - a token is `id.secret`: the id (16 random bytes) finds the row, the secret (32 random bytes)
//!   proves possession; only the secret's SHA-256 is stored, so a copy of the database signs
//!   nobody in, and it is compared in constant time, so response times reveal nothing about it;
//! - a revoked session, a disabled account or a changed grant takes effect at the next request
//!   when this process made the change, and within `SESSION_TTL` (5 s) when it was made elsewhere
//!   (the command line, another server process): sessions are cached that long;
//! - a wrong username and a wrong password get the same answer after the same work (an argon2
//!   verification either way), and failures are limited per username and per client address.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::accounts::{hash_password, verify_password};
use super::error::ApiError;
use super::store::{Invitation, Session, User};
use crate::api::{Accept, InvitationView, Profile, SignIn, SignedIn};
use crate::domain::{Access, CriteriaSet, OwnerKind, UnitTree, check_password};

/// Failed sign-ins allowed per username, and per client address, within [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES_PER_USER: usize = 5;
pub const LOGIN_FAILURES_PER_ADDRESS: usize = 30;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long the unit tree read from the store is reused before it is read again (another server
/// process may have changed it; this process's own changes take effect at once).
const TREE_TTL: Duration = Duration::from_secs(10);

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/session", post(sign_in).delete(sign_out).get(me))
        .route("/api/invitations/{token}", get(invitation).post(accept_invitation))
}

/// A bearer token (sessions and invitations): where to find it, and the hash of its secret.
pub struct Token {
    pub id: String,
    pub verifier_hash: String,
}

/// A new random token as the client gets it, and what the server stores of it.
pub fn new_token() -> (String, Token) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (mut id, mut secret) = ([0u8; 16], [0u8; 32]);
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    let token = format!("{}.{}", b64.encode(id), b64.encode(secret));
    let parsed = Token::parse(&token).expect("a token just made parses");
    (token, parsed)
}

impl Token {
    pub fn parse(token: &str) -> Option<Token> {
        let (id, secret) = token.split_once('.')?;
        let valid = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (valid(id, 22) && valid(secret, 43)).then(|| Token { id: id.to_string(), verifier_hash: verifier_hash(secret) })
    }

    /// Whether `stored` (the hash kept with the row found by id) matches, in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        bool::from(self.verifier_hash.as_bytes().ct_eq(stored.as_bytes()))
    }
}

fn verifier_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The signed-in user of a request, with what they may do.
pub struct Caller {
    pub user: User,
    pub access: Access,
    pub tree: Arc<UnitTree>,
    /// The id of the request's session (to sign out).
    pub session_id: String,
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<Caller, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized("Chưa đăng nhập. Hãy đăng nhập để đồng bộ.".into())
        })?;
        let expired = || ApiError::Unauthorized("Phiên đăng nhập đã hết hạn hoặc bị thu hồi. Hãy đăng nhập lại.".into());
        let token = Token::parse(token).ok_or_else(expired)?;
        let (session, user) = match app.sessions.get(&token.id) {
            Some(found) => found,
            None => {
                let found = app.store.session_user(&token.id).await?.ok_or_else(expired)?;
                app.sessions.put(&token.id, found.clone());
                found
            }
        };
        if !token.matches(&session.verifier_hash) {
            return Err(expired());
        }
        if session.expires_at <= super::now_ms() {
            app.store.delete_session(&token.id).await?;
            app.sessions.forget_all();
            return Err(expired());
        }
        if user.disabled {
            return Err(ApiError::Unauthorized("Tài khoản đã bị khóa. Hãy liên hệ quản trị viên.".into()));
        }
        let tree = app.units.current(app.store.as_ref()).await?;
        let access = Access::new(&user.grants, &tree);
        Ok(Caller { user, access, tree, session_id: token.id })
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty() && token.len() <= 128).then_some(token)
}

/// Sessions with their users as read in the last [`SESSION_TTL`], so a phone syncing every few
/// seconds does not cost a database read each time (measured with `DANVAN_BENCH=load cargo bench
/// --bench sync`: 1,000 clients' p99 83.7 ms reading on every request, 42.8 ms with this cache). This process forgets
/// entries at once when it ends a session or changes a user; a change made elsewhere (the command
/// line, another server process) takes effect within [`SESSION_TTL`].
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (Instant, Session, User)>>,
}

pub const SESSION_TTL: Duration = Duration::from_secs(5);

impl SessionCache {
    fn get(&self, id: &str) -> Option<(Session, User)> {
        let entries = self.entries.lock().ok()?;
        let (at, s, u) = entries.get(id)?;
        (at.elapsed() < SESSION_TTL).then(|| (s.clone(), u.clone()))
    }

    fn put(&self, id: &str, (session, user): (Session, User)) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (at, _, _)| at.elapsed() < SESSION_TTL);
            }
            entries.insert(id.to_string(), (Instant::now(), session, user));
        }
    }

    /// After any change to sessions or users made by this process.
    pub fn forget_all(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The unit tree, read from the store at most every [`TREE_TTL`]. When it is due, the one request
/// that notices reads it again while the others go on with the previous tree (no request waits
/// for another's read: under load, a shared wait here stalled hundreds of syncs every 10 s).
#[derive(Default)]
pub struct UnitCache {
    tree: std::sync::RwLock<Option<(Instant, Arc<UnitTree>)>>,
    refreshing: std::sync::atomic::AtomicBool,
}

impl UnitCache {
    pub async fn current(&self, store: &dyn super::store::Store) -> Result<Arc<UnitTree>, ApiError> {
        use std::sync::atomic::Ordering;
        let cached = self.tree.read().ok().and_then(|t| t.clone());
        if let Some((at, tree)) = &cached
            && (at.elapsed() < TREE_TTL || self.refreshing.swap(true, Ordering::AcqRel))
        {
            return Ok(tree.clone());
        }
        let result = store.unit_tree().await;
        self.refreshing.store(false, Ordering::Release);
        let tree = Arc::new(result?);
        if let Ok(mut slot) = self.tree.write() {
            *slot = Some((Instant::now(), tree.clone()));
        }
        Ok(tree)
    }

    /// After this process changed the tree.
    pub async fn forget(&self) {
        if let Ok(mut slot) = self.tree.write() {
            *slot = None;
        }
    }
}

/// Recent failed sign-ins, per username and per client address (this process only: with several
/// server processes the limits apply per process).
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// How long until `key` may try again, if it is over `limit`.
    fn wait(&self, key: &str, limit: usize, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().ok()?;
        let recent = failures.get_mut(key)?;
        while recent.front().is_some_and(|t| now.duration_since(*t) >= LOGIN_WINDOW) {
            recent.pop_front();
        }
        (recent.len() >= limit).then(|| LOGIN_WINDOW - now.duration_since(recent[recent.len() - limit]))
    }

    fn fail(&self, key: String, now: Instant) {
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() > 100_000 {
            // Bounded memory under a spray of usernames: drop what has aged out.
            failures.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < LOGIN_WINDOW));
        }
        failures.entry(key).or_default().push_back(now);
    }

    fn clear(&self, key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }
}

/// The criteria for every owner kind: those configured, the defaults for the others.
pub async fn criteria(store: &dyn super::store::Store) -> Result<Vec<CriteriaSet>, ApiError> {
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
    Profile {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        grants: user.grants.clone(),
        writable: access.writable().map(str::to_string).collect(),
        reviews: access.reviewable().map(str::to_string).collect(),
        manages: access.manages_anything(),
        units: codes.into_iter().filter_map(|c| tree.get(c).cloned()).collect(),
        readable: access.readable().map(str::to_string).collect(),
        criteria,
    }
}

/// The peer's address when the server was started with connection info (always, by `bind`).
struct ClientAddress(IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddress, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddress(ip))
    }
}

/// A hash to verify against when the username does not exist, so both cases cost the same.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").expect("hashing works"))
}

async fn sign_in(
    State(app): State<Arc<AppState>>,
    ClientAddress(ip): ClientAddress,
    Json(body): Json<SignIn>,
) -> Result<Json<SignedIn>, ApiError> {
    let username = body.username.trim().to_lowercase();
    let now = Instant::now();
    let address = format!("ip:{ip}");
    let user_key = format!("user:{username}");
    let limited = app
        .logins
        .wait(&user_key, LOGIN_FAILURES_PER_USER, now)
        .into_iter()
        .chain(app.logins.wait(&address, LOGIN_FAILURES_PER_ADDRESS, now))
        .max();
    if let Some(wait) = limited {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return Err(ApiError::TooManyRequests(
            format!("Đăng nhập sai quá nhiều lần. Hãy thử lại sau {minutes} phút."),
            wait.as_secs().max(1),
        ));
    }
    // An unknown user, or one invited who has not chosen a password yet, costs the same
    // verification as a real one.
    let user = app.store.user(&username).await?.filter(|u| !u.password_hash.is_empty());
    let stored = user.as_ref().map_or_else(|| decoy_hash().to_string(), |u| u.password_hash.clone());
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| ok) else {
        app.logins.fail(user_key, now);
        app.logins.fail(address, now);
        tracing::warn!(%username, "failed sign-in");
        return Err(ApiError::Unauthorized("Sai tên đăng nhập hoặc mật khẩu.".into()));
    };
    if user.disabled {
        return Err(ApiError::Forbidden("Tài khoản đã bị khóa. Hãy liên hệ quản trị viên.".into()));
    }
    app.logins.clear(&user_key);
    start_session(&app, user).await.map(Json)
}

async fn start_session(app: &AppState, user: User) -> Result<SignedIn, ApiError> {
    let (token, stored) = new_token();
    let now = super::now_ms();
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

async fn invitation(State(app): State<Arc<AppState>>, Path(token): Path<String>) -> Result<Json<InvitationView>, ApiError> {
    let (_, inv) = live_invitation(&app, &token).await?;
    let user = app.store.user(&inv.username).await?.ok_or_else(gone)?;
    Ok(Json(InvitationView { username: user.username, display_name: user.display_name }))
}

/// Sets the password chosen on the invited device and signs that device in.
async fn accept_invitation(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
    Json(body): Json<Accept>,
) -> Result<Json<SignedIn>, ApiError> {
    check_password(&body.password).map_err(ApiError::BadRequest)?;
    let invited = live_invitation(&app, &token).await?;
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let username = app.store.accept_invitation(&invited.0, &hash, super::now_ms()).await?.ok_or_else(gone)?;
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
    if !token.matches(&inv.verifier_hash) || inv.expires_at <= super::now_ms() {
        return Err(gone());
    }
    Ok((token.id, inv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_the_hash_of_their_secret_is_kept() {
        let (a, sa) = new_token();
        let (b, sb) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 22 + 1 + 43, "16 + 32 bytes, base64 without padding");
        assert!(a.starts_with(&sa.id) && sa.id != sb.id);
        let secret = a.split_once('.').unwrap().1;
        assert!(!sa.verifier_hash.contains(secret));
        assert!(Token::parse(&a).unwrap().matches(&sa.verifier_hash));
        assert!(!Token::parse(&b).unwrap().matches(&sa.verifier_hash));
        // Same id, another secret: found, but does not match.
        let forged = format!("{}.{}", sa.id, b.split_once('.').unwrap().1);
        assert!(!Token::parse(&forged).unwrap().matches(&sa.verifier_hash));
        for bad in ["", "abc", "a.b", &a.replace('.', ""), &format!("{a}x")] {
            assert!(Token::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_limiter_counts_failures_within_the_window() {
        let limiter = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..LOGIN_FAILURES_PER_USER {
            assert!(limiter.wait("user:a", LOGIN_FAILURES_PER_USER, t0).is_none(), "attempt {i}");
            limiter.fail("user:a".into(), t0);
        }
        let wait = limiter.wait("user:a", LOGIN_FAILURES_PER_USER, t0 + Duration::from_secs(60)).unwrap();
        assert_eq!(wait, LOGIN_WINDOW - Duration::from_secs(60));
        assert!(limiter.wait("user:b", LOGIN_FAILURES_PER_USER, t0).is_none(), "other users are not affected");
        assert!(limiter.wait("user:a", LOGIN_FAILURES_PER_USER, t0 + LOGIN_WINDOW).is_none(), "failures age out");
        limiter.fail("user:a".into(), t0);
        limiter.clear("user:a");
        assert!(limiter.wait("user:a", LOGIN_FAILURES_PER_USER, t0).is_none());
    }
}
