//! The JSON API's request and response bodies, shared by the server (which answers with them) and
//! the browser client (which sends and reads them), so both sides agree by construction. No IO.
//!
//! Sync itself is not JSON: its envelope is in `crate::sync`.

use serde::{Deserialize, Serialize};

use crate::domain::{Cluster, Grant, ImportSummary, Role, Unit};

/// Every error answer: `{"error": "…", "retryable": bool}` (plus `problems` for a refused import).
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub retryable: bool,
    #[serde(default)]
    pub problems: Vec<String>,
}

/// `POST /api/session`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

/// What the client keeps about the signed-in user (also the answer to `GET /api/session`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// Units the user may register models in.
    pub writable: Vec<String>,
    /// Units whose models the user reviews (recognises, returns, commends…).
    #[serde(default)]
    pub reviews: Vec<String>,
    /// Whether the user administers any unit (shows the administration page).
    pub manages: bool,
    /// The units the user deals with (their grants' units and ancestors, and every unit they
    /// read), to show names instead of codes.
    pub units: Vec<Unit>,
    /// The emulation clusters of those units (reports compare a cluster's members). Empty in
    /// profiles stored before it existed.
    #[serde(default)]
    pub clusters: Vec<crate::domain::Cluster>,
    /// Units whose models the user reads through their grants (the library adds recognised
    /// models of every unit). Empty in profiles stored before it existed.
    #[serde(default)]
    pub readable: Vec<String>,
    /// The evaluation criteria for each owner kind (configured, or the defaults).
    #[serde(default)]
    pub criteria: Vec<crate::domain::CriteriaSet>,
}

impl Profile {
    /// The criteria a new evaluation of a model of `kind` starts with.
    pub fn criteria_for(&self, kind: crate::domain::OwnerKind) -> Vec<crate::domain::Criterion> {
        crate::domain::criteria_for(&self.criteria, kind)
    }

    /// What this user is for a model of `unit`, for the lifecycle rules.
    pub fn roles_for(&self, unit: &str) -> crate::domain::Roles {
        crate::domain::Roles { cadre: self.writable.iter().any(|u| u == unit), reviewer: self.reviews.iter().any(|u| u == unit) }
    }

    /// Whether models of a unit are the user's to deal with (their lists), rather than models
    /// they see only because they are in the library. Asked of every model of a list or a
    /// report, and a province's reviewer reads hundreds of units: the units are put in a set
    /// once, and the returned test looks each model's up there.
    pub fn dealt_with(&self) -> impl Fn(&str) -> bool + '_ {
        let units: std::collections::BTreeSet<&str> = if self.readable.is_empty() {
            self.writable.iter().chain(&self.reviews).map(String::as_str).collect()
        } else {
            self.readable.iter().map(String::as_str).collect()
        };
        move |unit| units.contains(unit)
    }

    pub fn unit_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.units.iter().find(|u| u.code == code).map_or(code, |u| u.name.as_str())
    }
}

/// The answer to signing in or accepting an invitation.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: i64,
    pub profile: Profile,
}

/// `POST /api/invitations/open`: the token of an invitation link (from the link's fragment; it
/// travels in the body so that it never appears in a URL, hence in no access log or trace).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct InvitationToken {
    pub token: String,
}

/// The answer to `POST /api/invitations/open`: who the link is for.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct InvitationView {
    pub username: String,
    pub display_name: String,
}

/// `POST /api/invitations/accept`: the link's token and the password chosen on the invited device.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Accept {
    pub token: String,
    pub password: String,
}

/// `GET /api/admin/units`: the administered units and their clusters.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct UnitsView {
    pub units: Vec<Unit>,
    pub clusters: Vec<Cluster>,
}

/// `POST /api/admin/units` (a CSV file as the body) when it was saved.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Imported {
    pub summary: ImportSummary,
    pub total: usize,
}

/// The criteria of one owner kind as the administration page shows them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CriteriaView {
    pub owner_kind: String,
    pub label: String,
    /// One criterion per line, "label | maximum".
    pub text: String,
    /// Whether these are the defaults (nothing configured yet).
    pub default: bool,
}

/// `PUT /api/admin/criteria/{owner_kind}`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct CriteriaForm {
    pub text: String,
}

/// `PUT /api/admin/clusters/{code}`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ClusterForm {
    pub name: String,
    pub head: Option<String>,
    pub deputy: Option<String>,
}

/// A user as the administration page lists them (never the password hash).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    /// False until the user has chosen a password through an invitation.
    pub has_password: bool,
    pub grants: Vec<Grant>,
}

/// `POST /api/admin/users`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub unit: String,
    pub role: Role,
    /// The address the app is served at, as the administrator's browser sees it (the link and
    /// its QR code point there).
    pub origin: String,
}

/// `PUT /api/admin/users/{username}`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct UserForm {
    pub display_name: String,
    pub grants: Vec<Grant>,
}

/// `POST /api/admin/users/{username}/invitation`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Origin {
    pub origin: String,
}

/// `PUT /api/admin/users/{username}/disabled`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Disabled {
    pub disabled: bool,
}

/// An invitation: the link to open on the new device, and the same as a QR code.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct InvitationLink {
    pub username: String,
    pub url: String,
    pub expires_at: i64,
    /// An SVG image in a `data:` URL.
    pub qr: String,
}

/// `PUT /api/photos/{doc}/{photo}` and `GET …/status`: how much of a photo the server holds.
/// A refused chunk (409, its offset is not where the upload stands) carries these fields beside
/// `error` and `retryable`, so the client resumes from `received`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhotoStatus {
    /// Bytes stored so far (the offset the next chunk must start at).
    pub received: u64,
    /// All bytes arrived and their SHA-256 is the photo's id.
    pub complete: bool,
}

/// `GET /api/reports/completeness?unit=CODE` (or `cluster=CODE`): when devices of each unit of
/// the scope that the caller reads last synced, so a report says whose figures may be missing.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// The server's clock when it answered (compare `last_sync_ms` with this, not the device's).
    pub now_ms: i64,
    pub units: Vec<UnitSync>,
}

/// One unit's last sync: by a device signed in with an account holding a grant in that unit
/// (`None`: never since the server kept it). Recorded at most every 10 minutes per server process.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct UnitSync {
    pub code: String,
    pub name: String,
    pub level: crate::domain::Level,
    pub last_sync_ms: Option<i64>,
}

/// `POST /api/import/models?…`: the options of an import sent to the server (the file itself is
/// the body), as query parameters.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ImportRequest {
    /// The file's name as chosen (it goes into each model's history, "Nhập từ tệp …").
    pub file: String,
    /// Import the good rows even though others are wrong.
    #[serde(default)]
    pub good_rows_only: bool,
    /// Read and check only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// What every column holds, by position, as JSON: `["ten_mo_hinh","don_vi","bo_qua",…]`
    /// (`""` for a column not chosen). Absent: the server guesses from the headers.
    #[serde(default)]
    pub columns: Option<String>,
    /// The fields the units added to the standard ones, as JSON: `["Chuyển đổi số",…]`.
    #[serde(default)]
    pub custom_fields: Option<String>,
}

/// What the server did with an uploaded file.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ImportResult {
    /// Rows that held data.
    pub rows: usize,
    pub created: usize,
    /// Good rows whose model the server already held (an earlier import of the same list).
    pub already: usize,
    /// Rows with at least one error.
    pub bad_rows: usize,
    /// The first errors, each "Dòng N: …" (all of them are counted in `bad_rows`).
    pub errors: Vec<String>,
    pub unknown_units: Vec<String>,
    /// Whether anything was written.
    pub written: bool,
}

/// Someone an organiser may pick as a contest's judge (`GET /api/people/judges`): only what is
/// printed on the results and the unit that tells namesakes apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeCandidate {
    pub username: String,
    pub display_name: String,
    pub unit: String,
    pub unit_name: String,
}
