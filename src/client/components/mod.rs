//! Parts of pages, shared or large enough to stand alone: a model's lifecycle, evaluations,
//! activity log, revisions and replication. They read and change the replica through `use_app()`
//! and `local`, never `net`.

pub mod banners;
pub mod evaluation;
pub mod fields;
pub mod journal;
pub mod lifecycle;
pub mod photo;
pub mod replication;
pub mod revisions;
pub mod sync_badge;
