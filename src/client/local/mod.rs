//! What this device keeps: the replica of every document (IndexedDB), photos, settings and the
//! signed-in account. No network and no views here: `net` moves what is kept here, and pages and
//! components show it.

pub mod account;
pub mod backup;
pub mod engine;
pub mod first_screen;
pub mod photos;
pub mod replica;
pub mod settings;
pub mod storage;
