//! Who is signed in on this device: the session token and profile, kept in localStorage so the
//! app opens offline with the same user. Signing in needs the network once; after that the user
//! works offline for as long as needed, and an ended session only pauses sync.
//!
//! Invariant: the local replica belongs to the account stored here. Another user signs in only
//! after this one signs out, and signing out removes the replica only once it holds nothing
//! unsynced (or after a warning naming what would be lost).

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use crate::api::{Profile, SignedIn};

pub const ACCOUNT_KEY: &str = "danvan.account";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub token: String,
    pub expires_at: i64,
    pub profile: Profile,
    /// The server refused the token (expired, revoked, account locked): sync waits for a new
    /// sign-in by the same user; local work goes on.
    #[serde(default)]
    pub ended: Option<String>,
}

impl Account {
    pub fn from_signed_in(s: SignedIn) -> Account {
        Account { token: s.token, expires_at: s.expires_at, profile: s.profile, ended: None }
    }

    pub fn load() -> Option<Account> {
        LocalStorage::get(ACCOUNT_KEY).ok()
    }

    pub fn save(&self) -> Result<(), String> {
        LocalStorage::set(ACCOUNT_KEY, self).map_err(|e| e.to_string())
    }

    pub fn forget() {
        LocalStorage::delete(ACCOUNT_KEY);
    }

    /// Who may sign in on this device now: anyone if nobody is, else only the same user (the
    /// replica holds their work).
    pub fn may_sign_in(current: Option<&Account>, username: &str) -> Result<(), String> {
        match current {
            Some(a) if a.profile.username != username.trim().to_lowercase() => Err(format!(
                "Thiết bị đang giữ dữ liệu của tài khoản “{}”. Hãy đăng nhập bằng tài khoản đó, hoặc vào Cài đặt để đăng xuất tài khoản đó trước.",
                a.profile.username
            )),
            _ => Ok(()),
        }
    }
}
