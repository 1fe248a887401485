//! The thin server: stores documents and syncs them with clients; serves the built client.
//!
//! Invariants: the server never interprets model content (it syncs automerge documents it does not
//! need to understand); every request is idempotent; bad input is a 4xx with a reason, never a panic.

pub mod app;
pub mod backup;
pub mod cli;
pub mod error;
pub mod import;
pub mod limits;
pub mod login_limiter;
pub mod password;
pub mod photos;
pub mod routes;
pub mod session;
pub mod store;
pub mod tls;

pub use app::{AppState, Config, TlsConfig, bind, now_ms, open_store, router};
pub use cli::{Cli, Command, main};
