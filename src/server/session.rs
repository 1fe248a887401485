//! Who is calling: bearer tokens (sessions and invitations), `Caller` (the signed-in user every
//! protected route takes, with what they may do), and the caches that keep that cheap.
//!
//! Invariants:
//! - a token is `id.secret`: the id (16 random bytes) finds the row, the secret (32 random bytes)
//!   proves possession; only the secret's SHA-256 is stored, so a copy of the database signs
//!   nobody in, and it is compared in constant time, so response times reveal nothing about it;
//! - a revoked session, a disabled account or a changed grant takes effect at the next request
//!   when this process made the change, and within `SESSION_TTL` (5 s) when it was made elsewhere
//!   (the command line, another server process): sessions are cached that long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::{Access, UnitTree};
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::server::store::{Session, User};

/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long the unit tree read from the store is reused before it is read again (another server
/// process may have changed it; this process's own changes take effect at once).
const TREE_TTL: Duration = Duration::from_secs(10);

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
}
