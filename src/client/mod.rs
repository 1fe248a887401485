//! The browser client (Leptos CSR). Components stay thin: logic lives in the domain core and in
//! `local` (the replica) and `net` (sync); pages read the local replica only and never wait for
//! the network. ARCHITECTURE.md, "Code map", says what each folder may import.

pub mod app;
pub mod components;
/// The document engine (automerge), compiled into its own wasm module: only `engine::api` may be
/// used from the rest of the client.
pub mod engine;
pub mod format;
pub mod local;
pub mod net;
pub mod pages;
/// The report page, compiled into its own wasm module: only `reporting::input` may be used from
/// the rest of the client.
pub mod reporting;

pub use app::{AppContext, DATABASE, start, use_app};
pub use format::{date_time, hh_mm};
