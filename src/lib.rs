//! danvan — the "Dân vận khéo" model registry.
//!
//! One package, two binaries: the browser client (`danvan`, wasm, built by Trunk) and the thin sync
//! server (`danvan-server`, native). This library holds what both compile:
//!
//! - [`domain`]: the records of the movement, their validation and search. No IO.
//! - [`doc`]: how a [`domain::Model`] lives in an automerge document (schema v1). No IO.
//! - [`sync`]: the sync envelope and the per-document sync steps on both sides. No IO.
//! - [`api`]: the JSON bodies of sign-in and administration, shared by both sides. No IO.
//! - [`chart`]: the geometry of the report page's SVG charts. No IO.
//! - [`export`]: report tables and the model list as XLSX and CSV bytes. No IO.
//! - [`i18n`]: the interface's languages (Vietnamese first, an English catalogue) and their
//!   conventions for dates and numbers. No IO.
//! - [`import`]: model lists from spreadsheets (CSV, XLSX, XLS, ODS) as models, and the rule the
//!   server applies to imported documents. No IO.
//!
//! and, per target, the client (`client`, wasm only) and the server (`server`, native only).

pub mod api;
pub mod backup_file;
pub mod chart;
pub mod doc;
pub mod domain;
pub mod export;
pub mod i18n;
pub mod import;
pub mod sync;

#[cfg(target_arch = "wasm32")]
pub mod client;

#[cfg(not(target_arch = "wasm32"))]
pub mod server;
