//! The HTTP API, one router per feature; `crate::server::router` merges them. Routes take what
//! they need from `AppState` and answer through `error::ApiError`; the rules about who may do
//! what live in `crate::domain`, not here.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod import;
pub mod people;
pub mod photos;
pub mod reports;
pub mod sync;
