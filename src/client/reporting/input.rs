//! What the app hands the report module when the page opens, and again whenever the replica
//! changes: the facts of the models on this device (not the documents — the module holds no
//! automerge), who the user is and what they read. It crosses between the two wasm instances as
//! postcard bytes.

use serde::{Deserialize, Serialize};

use crate::api::Profile;
use crate::domain::report::ModelFacts;
use crate::domain::{Cluster, Grant, Unit};
use crate::i18n::Lang;

/// Who the user is and the units their profile knows, as the import and contest pages receive
/// them: they check what the user asks with the server's own rules (`Access` over the tree of
/// these units), so both take the same fields of the profile, copied in one place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub units: Vec<Unit>,
    pub clusters: Vec<Cluster>,
}

impl User {
    pub fn of(profile: &Profile) -> User {
        User {
            username: profile.username.clone(),
            display_name: profile.display_name.clone(),
            grants: profile.grants.clone(),
            units: profile.units.clone(),
            clusters: profile.clusters.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReportInput {
    /// Facts of the models the user deals with (their units' and those they read).
    pub facts: Vec<ModelFacts>,
    /// The units the user deals with and their clusters (the profile's), as a tree.
    pub units: Vec<Unit>,
    pub clusters: Vec<Cluster>,
    /// Units whose models the user reads: the scopes they may choose.
    pub readable: Vec<String>,
    /// The session token, when the session is live (server reports and completeness need it).
    pub token: Option<String>,
    /// When this device last finished a sync (ms), and how many documents hold changes the
    /// server has not acknowledged.
    pub synced_at_ms: Option<i64>,
    pub pending: usize,
    /// Whether the browser believes it is online (a server report is offered only then).
    pub online: bool,
    pub username: String,
    pub display_name: String,
    /// The contests this device holds, as their JSON: the prizes of published ones join the
    /// report (`domain::report::contest_prizes`).
    pub contests: Vec<String>,
    /// The interface's language, and (when the module mounts) the English catalogue's text: the
    /// module has its own memory and installs them itself (`i18n::catalogue_source`).
    pub lang: Lang,
    pub catalogue: Option<String>,
}

impl ReportInput {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<ReportInput, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("Dữ liệu chuyển cho trang báo cáo không đọc được ({e}). Hãy tải lại trang."))
    }
}

/// What the app hands the import page (`/nhap-tu-tep`) when it opens: who imports, with which
/// grants over which units (the plan checks every row with them), the fields the units added,
/// the models already on the device, and the session for the server's import.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportInput {
    pub user: User,
    /// Whether the account may create models anywhere (writes, reviews or administers a unit).
    pub may_import: bool,
    pub custom_fields: Vec<String>,
    /// Ids of the documents on this device.
    pub on_device: Vec<String>,
    /// The session token, when the session is live.
    pub token: Option<String>,
    pub online: bool,
    /// The interface's language, and (when the module mounts) the English catalogue's text: the
    /// module has its own memory and installs them itself (`i18n::catalogue_source`).
    pub lang: Lang,
    pub catalogue: Option<String>,
}

impl ImportInput {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<ImportInput, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("Dữ liệu chuyển cho trang nhập tệp không đọc được ({e}). Hãy tải lại trang."))
    }
}

/// What the app hands the contest pages (`/hoi-thi`, issue 16): who the user is and what units
/// their profile knows (to know who organises, judges or registers), the contests on the device
/// as the engine read them (JSON, parsed here: the app's module carries no contest code), which
/// hold changes not yet synced, and which contest the address opens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContestInput {
    pub user: User,
    /// Units the user registers models in (a cadre registers their own unit's team).
    pub writable: Vec<String>,
    /// (id, the contest's JSON or why its document cannot be read).
    pub contests: Vec<(String, Result<String, String>)>,
    /// Contests holding changes the server has not acknowledged.
    pub dirty: Vec<String>,
    /// The contest the address names (`/hoi-thi/<id>`); none: the list.
    pub open: Option<String>,
    /// The session token while the session is live: the judge picker's list comes from the server.
    pub token: Option<String>,
    pub synced_at_ms: Option<i64>,
    /// The interface's language, and (when the module mounts) the English catalogue's text: the
    /// module has its own memory and installs them itself (`i18n::catalogue_source`).
    pub lang: Lang,
    pub catalogue: Option<String>,
}

impl ContestInput {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<ContestInput, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("Dữ liệu chuyển cho trang hội thi không đọc được ({e}). Hãy tải lại trang."))
    }
}

/// What the app hands the administration page (`/quan-tri`) when it opens: who is signed in and
/// the session the page's server calls carry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AdminInput {
    pub username: String,
    /// The session token while the session is live.
    pub token: Option<String>,
    /// The interface's language, and the English catalogue's text (see [`ReportInput`]).
    pub lang: Lang,
    pub catalogue: Option<String>,
}

impl AdminInput {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<AdminInput, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("Dữ liệu chuyển cho trang quản trị không đọc được ({e}). Hãy tải lại trang."))
    }
}

/// The app's language for the module: its code always, the catalogue's text only when the module
/// mounts (it is installed once; the updates leave it out).
pub fn language(mounting: bool) -> (Lang, Option<String>) {
    (crate::i18n::lang(), mounting.then(crate::i18n::catalogue_source).flatten().map(str::to_string))
}
