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
//!   verification either way), and failures slow down guessing per account and per client
//!   address without letting anyone deny sign-in to others (`LoginLimiter`);
//! - an invitation token travels only in request bodies, never in a URL (proxies and traces log
//!   URLs).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::server::AppState;
use crate::server::password::{hash_password, verify_password};
use crate::server::error::ApiError;
use crate::server::store::{Invitation, Session, User};
use crate::api::{Accept, InvitationToken, InvitationView, Profile, SignIn, SignedIn};
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
        // The token is in the body, never the path: URLs end up in proxies' access logs and in
        // traces. Both are POST so no cache or prefetch ever replays them.
        .route("/api/invitations/open", post(invitation))
        .route("/api/invitations/accept", post(accept_invitation))
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
        if session.expires_at <= crate::server::now_ms() {
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
    pub async fn current(&self, store: &dyn crate::server::store::Store) -> Result<Arc<UnitTree>, ApiError> {
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

/// Failed sign-ins an account may have before each further attempt must wait.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait failures impose on an account: after the [`FREE_FAILURES`]th failure the next
/// attempt waits 1 s, then 2, 4, 8 … up to this. An attacker can hold an account back no longer.
pub const MAX_ACCOUNT_DELAY: Duration = Duration::from_secs(300);
/// An account's failures are forgotten this long after the last one.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(3600);
/// Per client address: this many failures at once (a commune office where everyone mistypes),
/// then one more every [`ADDRESS_REFILL`]. Never more than that in wait: seconds, not minutes.
pub const ADDRESS_BURST: u32 = 30;
pub const ADDRESS_REFILL: Duration = Duration::from_secs(2);
/// Addresses an account signed in from, remembered per account (its "familiar" networks).
const FAMILIAR_ADDRESSES: usize = 8;
/// Accounts and addresses tracked; the least recently seen are forgotten first, so a spray of
/// usernames cannot grow memory (about 100 bytes each).
const TRACKED: usize = 100_000;
/// The longest username that can exist (`check_username`); a longer one is refused before it is
/// used as a key or written to the log.
pub const MAX_USERNAME_CHARS: usize = 32;

/// How long an account waits after `failures` failed sign-ins before the next attempt.
pub fn account_delay(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doubling = (failures - FREE_FAILURES).min(20);
    Duration::from_secs(1u64 << doubling).min(MAX_ACCOUNT_DELAY)
}

/// The part of a client address that identifies a subscriber: an IPv4 address, or the /64 of an
/// IPv6 one (each home or phone gets a whole /64, and could rotate through it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AddressKey(IpAddr);

impl From<IpAddr> for AddressKey {
    fn from(ip: IpAddr) -> AddressKey {
        match ip.to_canonical() {
            IpAddr::V6(v6) => AddressKey(IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into())),
            v4 => AddressKey(v4),
        }
    }
}

impl std::fmt::Display for AddressKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V6(_) => write!(f, "{}/64", self.0),
            v4 => write!(f, "{v4}"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Backoff {
    failures: u32,
    last: Instant,
}

impl Backoff {
    fn failures(&self, now: Instant) -> u32 {
        if now.saturating_duration_since(self.last) >= FAILURE_MEMORY { 0 } else { self.failures }
    }

    fn wait(&self, now: Instant) -> Option<Duration> {
        let next = self.last + account_delay(self.failures(now));
        (next > now).then(|| next - now)
    }
}

/// A token bucket of failures per address.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() / ADDRESS_REFILL.as_secs_f64();
        self.tokens = (self.tokens + earned).min(f64::from(ADDRESS_BURST));
        self.at = now;
    }
}

/// Why a sign-in is not evaluated now, and for how long.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The account's own backoff (any address, or its familiar ones, see [`LoginLimiter`]).
    Account(Duration),
    /// The client address's budget of failures is spent for the moment.
    Address(Duration),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        let (wait, whose) = match refusal {
            Refusal::Account(w) => (w, "Đăng nhập sai nhiều lần với tài khoản này"),
            Refusal::Address(w) => (w, "Có nhiều lần đăng nhập sai từ mạng này"),
        };
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let when = if seconds < 120 { format!("{seconds} giây") } else { format!("{} phút", seconds.div_ceil(60)) };
        ApiError::TooManyRequests(format!("{whose}. Hãy thử lại sau {when}."), seconds)
    }
}

/// One attempt counted as a failure before its password is verified; [`LoginLimiter::succeeded`]
/// or [`LoginLimiter::abandoned`] take it back.
pub struct Reservation {
    account: (String, bool),
    address: AddressKey,
    before: Option<Backoff>,
}

struct Limits {
    /// Per (username, whether the attempt comes from one of its familiar addresses).
    accounts: lru::LruCache<(String, bool), Backoff>,
    addresses: lru::LruCache<AddressKey, Bucket>,
    familiar: lru::LruCache<String, Vec<AddressKey>>,
}

/// Failed sign-ins, so that guessing is slow and nobody can deny sign-in to others:
/// - per account, exponential backoff ([`account_delay`], capped at [`MAX_ACCOUNT_DELAY`]): the
///   right password works once the wait is over, never a lock. Attempts from an address the
///   account signed in from before (familiar) and from elsewhere count apart, so an attacker who
///   floods an account from their own network does not delay its owner on the owner's usual one;
/// - per client address, a budget that only slows ([`ADDRESS_BURST`], then one per
///   [`ADDRESS_REFILL`]): a spray over many accounts from one address waits seconds per guess,
///   and a colleague behind the same NAT waits as long, never minutes;
/// - check and record are one critical section: the attempt is counted before the (slow) argon2
///   verification and given back on success, so concurrent attempts cannot all slip in.
///
/// In memory, per process: with several server processes over one database an attacker gets at
/// most that many times the rate (ARCHITECTURE.md, security rules).
pub struct LoginLimiter {
    limits: Mutex<Limits>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let size = std::num::NonZeroUsize::new(TRACKED).expect("non-zero");
        LoginLimiter {
            limits: Mutex::new(Limits {
                accounts: lru::LruCache::new(size),
                addresses: lru::LruCache::new(size),
                familiar: lru::LruCache::new(size),
            }),
        }
    }
}

impl LoginLimiter {
    fn limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        // Nothing in the critical sections panics; a poisoned lock still holds consistent counts.
        self.limits.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts an attempt of `username` from `address` as a failure, unless the account or the
    /// address must wait first.
    pub fn reserve(&self, username: &str, address: AddressKey, now: Instant) -> Result<Reservation, Refusal> {
        let mut limits = self.limits();
        let familiar = limits.familiar.peek(username).is_some_and(|known| known.contains(&address));
        let account = (username.to_string(), familiar);
        let before = limits.accounts.peek(&account).copied();
        if let Some(wait) = before.and_then(|b| b.wait(now)) {
            return Err(Refusal::Account(wait));
        }
        let bucket = limits.addresses.get_or_insert_mut(address, || Bucket { tokens: f64::from(ADDRESS_BURST), at: now });
        bucket.refill(now);
        if bucket.tokens < 1.0 {
            return Err(Refusal::Address(ADDRESS_REFILL.mul_f64(1.0 - bucket.tokens)));
        }
        bucket.tokens -= 1.0;
        let failures = before.map_or(0, |b| b.failures(now)) + 1;
        limits.accounts.put(account.clone(), Backoff { failures, last: now });
        Ok(Reservation { account, address, before })
    }

    /// The right password: the account's failures (of this kind of address) are forgotten, the
    /// address gets its attempt back, and it becomes one of the account's familiar addresses.
    pub fn succeeded(&self, reservation: Reservation) {
        let mut limits = self.limits();
        limits.accounts.pop(&reservation.account);
        Self::give_back(&mut limits, reservation.address);
        let (username, _) = reservation.account;
        let known = limits.familiar.get_or_insert_mut(username, Vec::new);
        if !known.contains(&reservation.address) {
            if known.len() == FAMILIAR_ADDRESSES {
                known.remove(0);
            }
            known.push(reservation.address);
        }
    }

    /// The password was not verified after all (the server was busy): as if never tried.
    pub fn abandoned(&self, reservation: Reservation) {
        let mut limits = self.limits();
        match reservation.before {
            Some(before) => limits.accounts.put(reservation.account, before),
            None => limits.accounts.pop(&reservation.account),
        };
        Self::give_back(&mut limits, reservation.address);
    }

    fn give_back(limits: &mut Limits, address: AddressKey) {
        if let Some(bucket) = limits.addresses.get_mut(&address) {
            bucket.tokens = (bucket.tokens + 1.0).min(f64::from(ADDRESS_BURST));
        }
    }
}

/// The client's address: the connection's peer, unless the peer is one of the configured
/// trusted proxies, in which case `X-Forwarded-For` is read from the right (each proxy appends
/// the address it received from) and the first hop that is not a trusted proxy is the client.
/// Whatever is left of that is the client's own claim, and not believed.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
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

    fn ip(s: &str) -> AddressKey {
        AddressKey::from(s.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn an_account_waits_longer_after_each_failure_but_never_longer_than_the_cap() {
        let limiter = LoginLimiter::default();
        let t0 = Instant::now();
        let from = ip("203.0.113.5");
        for i in 0..FREE_FAILURES {
            assert!(limiter.reserve("a", from, t0).is_ok(), "free attempt {i}");
        }
        assert_eq!(limiter.reserve("a", from, t0).err(), Some(Refusal::Account(Duration::from_secs(1))));
        // Each failure after the wait doubles the next one…
        let mut at = t0;
        for k in 0..12 {
            at += account_delay(FREE_FAILURES + k);
            let r = limiter.reserve("a", from, at + ADDRESS_REFILL * 20);
            assert!(r.is_ok(), "after the wait, attempt {k} is evaluated");
            at += ADDRESS_REFILL * 20; // the address budget refills meanwhile
        }
        // … up to the cap, however many failures there were.
        assert_eq!(limiter.reserve("a", from, at).err(), Some(Refusal::Account(MAX_ACCOUNT_DELAY)));
        assert_eq!(account_delay(10_000), MAX_ACCOUNT_DELAY);
        // The right password after the wait: evaluated, and it forgets the failures.
        let r = limiter.reserve("a", from, at + MAX_ACCOUNT_DELAY).expect("evaluated after the cap");
        limiter.succeeded(r);
        assert!(limiter.reserve("a", from, at + MAX_ACCOUNT_DELAY).is_ok());
        // Failures age out.
        while limiter.reserve("b", from, at).is_ok() {}
        assert!(limiter.reserve("b", from, at + FAILURE_MEMORY).is_ok());
    }

    #[test]
    fn concurrent_attempts_are_counted_before_verification_and_given_back_on_success() {
        let limiter = LoginLimiter::default();
        let t0 = Instant::now();
        let from = ip("198.51.100.1");
        let reserved: Vec<_> = (0..60).filter_map(|_| limiter.reserve("a", from, t0).ok()).collect();
        assert_eq!(reserved.len(), FREE_FAILURES as usize, "only the free attempts are evaluated");
        let mut reserved = reserved.into_iter();
        limiter.abandoned(reserved.next().unwrap());
        assert!(limiter.reserve("a", from, t0).is_ok(), "an abandoned attempt is given back");
        limiter.succeeded(reserved.next().unwrap());
        for _ in 0..FREE_FAILURES {
            assert!(limiter.reserve("a", from, t0).is_ok(), "a success forgets the failures");
        }
    }

    #[test]
    fn an_address_is_slowed_for_seconds_and_a_flooded_account_does_not_delay_its_owner_elsewhere() {
        let limiter = LoginLimiter::default();
        let t0 = Instant::now();
        let office = ip("203.0.113.7");
        // A spray over many accounts from one address spends its budget…
        for i in 0..ADDRESS_BURST {
            assert!(limiter.reserve(&format!("u{i}"), office, t0).is_ok());
        }
        let Err(Refusal::Address(wait)) = limiter.reserve("colleague", office, t0) else { panic!("the budget is spent") };
        assert!(wait <= ADDRESS_REFILL, "{wait:?}");
        // … which refills at once a few seconds later for the colleague with the right password.
        limiter.succeeded(limiter.reserve("colleague", office, t0 + ADDRESS_REFILL).unwrap());
        assert!(limiter.reserve("someone", ip("203.0.113.8"), t0).is_ok(), "other addresses are unaffected");

        // The owner signed in from home before; an attacker elsewhere floods the account.
        let (home, attacker) = (ip("192.0.2.10"), ip("198.51.100.66"));
        limiter.succeeded(limiter.reserve("owner", home, t0).unwrap());
        while limiter.reserve("owner", attacker, t0).is_ok() {}
        assert!(matches!(limiter.reserve("owner", attacker, t0), Err(Refusal::Account(_))));
        assert!(limiter.reserve("owner", home, t0).is_ok(), "the owner's familiar address is not held back");
        // IPv6: one subscriber's /64 is one address.
        assert_eq!(ip("2001:db8:1:2::1"), ip("2001:db8:1:2:ffff::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
    }

    #[test]
    fn x_forwarded_for_is_believed_only_from_trusted_proxies_and_read_from_the_right() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        let headers = |xff: &[&str]| {
            let mut h = HeaderMap::new();
            for v in xff {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            h
        };
        let at = |s: &str| s.parse::<IpAddr>().unwrap();
        // From an untrusted peer the header is the client's own claim.
        assert_eq!(client_address(at("198.51.100.1"), &headers(&["203.0.113.5"]), &trusted), at("198.51.100.1"));
        // From a trusted proxy: the rightmost hop it did not add itself.
        assert_eq!(client_address(at("127.0.0.1"), &headers(&["203.0.113.5"]), &trusted), at("203.0.113.5"));
        assert_eq!(client_address(at("127.0.0.1"), &headers(&["1.2.3.4, 203.0.113.5"]), &trusted), at("203.0.113.5"));
        assert_eq!(client_address(at("127.0.0.1"), &headers(&["1.2.3.4", "203.0.113.5, 10.1.1.1"]), &trusted), at("203.0.113.5"));
        // Garbage stops the walk at the last hop a trusted proxy vouched for.
        assert_eq!(client_address(at("127.0.0.1"), &headers(&["nonsense"]), &trusted), at("127.0.0.1"));
        assert_eq!(client_address(at("127.0.0.1"), &headers(&["nonsense, 10.2.2.2"]), &trusted), at("10.2.2.2"));
        assert_eq!(client_address(at("127.0.0.1"), &headers(&[]), &trusted), at("127.0.0.1"));
        assert_eq!(client_address(at("127.0.0.1"), &headers(&["203.0.113.5"]), &[]), at("127.0.0.1"));
    }
}
