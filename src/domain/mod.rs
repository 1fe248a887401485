//! The domain core: records of the movement, validation with Vietnamese messages, and search.
//!
//! Invariant: nothing here does IO or reads a clock; callers pass times in.

mod access;
mod account;
mod dates;
mod model;
mod search;
mod unit;
mod validate;

pub use access::{Access, Grant};
pub use account::{MIN_PASSWORD_CHARS, Role, check_password, check_username};
pub use dates::{Date, format_amount_vi, format_count_vi, format_date_vi};
pub use model::*;
pub use search::{ModelFilter, fold, matches_query};
pub use unit::{Cluster, ImportSummary, RowError, Unit, UnitKind, UnitTree};
pub use validate::{FieldErrors, ModelDraft, IndicatorDraft, limits};
