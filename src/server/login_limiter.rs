//! Sign-in limits: failures slow down guessing per account and per client address without letting
//! anyone deny sign-in to others (ARCHITECTURE.md, "Sign-in limits"); and which address a request
//! comes from, behind trusted proxies or not.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use crate::server::error::ApiError;

/// Failed sign-ins allowed per username, and per client address, within [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES_PER_USER: usize = 5;
pub const LOGIN_FAILURES_PER_ADDRESS: usize = 30;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
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

#[cfg(test)]
mod tests {
    use super::*;

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
