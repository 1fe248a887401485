//! Parts of pages, shared or large enough to stand alone: a model's lifecycle, evaluations,
//! activity log, revisions and replication. They read and change the replica through `use_app()`
//! and `local`, never `net`.

pub mod evaluation;
pub mod journal;
pub mod lifecycle;
pub mod replication;
pub mod revisions;
