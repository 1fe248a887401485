//! The domain core: records of the movement, validation with Vietnamese messages, and search.
//!
//! Invariant: nothing here does IO or reads a clock; callers pass times in.

mod access;
pub mod append_only;
mod account;
mod commendation;
pub mod contest;
mod dates;
mod evaluation;
mod journal;
mod lifecycle;
mod model;
mod replication;
pub mod report;
mod search;
mod unit;
mod validate;

pub use access::{Access, Grant};
pub use commendation::{Commendation, CommendationDraft, CommendationForm, check_commendations};
pub use account::{MIN_PASSWORD_CHARS, Role, check_password, check_username};
pub use lifecycle::{Action, Actor, REVIEWER_KEYS, Roles, Step, StepContext, Transition, available, check as check_transition, check_log, replay, step_time};
pub use evaluation::{CriteriaSet, Criterion, Evaluation, EvaluationStep, Score, ScoreChange, check_evaluations, evaluate, criteria_for, criteria_text, default_criteria, draft_of, parse_criteria};
pub use journal::{IndicatorUpdate, JournalDraft, JournalEntry, Location, PhotoRef, add_entry, check_journal, newest_first};
pub use replication::{READER_KEYS, ReplicatedFrom, Replication, check_replications, draft_from, in_library, replication_points, source_of};
pub use dates::{Date, format_amount_vi, format_bytes_vi, format_count_vi, format_date_vi};
pub use model::*;
pub use search::{ModelFilter, Rank, SearchIndex, SearchText, fold, matches_query};
pub use unit::{Cluster, ImportSummary, RowError, Unit, UnitKind, UnitTree};
pub(crate) use unit::parse_level;
pub(crate) use validate::parse_amount;
pub use validate::{FieldErrors, ModelDraft, IndicatorDraft, limits};
