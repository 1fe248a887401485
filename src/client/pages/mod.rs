//! The screens, one file each. Thin: they read the replica's signals (`local`) and call the
//! replica to change documents; parts they share are in `components`.

pub mod admin;
pub mod backup;
pub mod contests;
pub mod detail;
pub mod form;
pub mod import;
pub mod list;
pub mod not_found;
pub mod reports;
pub mod settings;
pub mod sign_in;

pub use contests::ContestsPage;
pub use detail::DetailPage;
pub use form::{EditModelPage, NewModelPage};
pub use import::ImportPage;
pub use list::{LibraryPage, ListPage};
pub use not_found::NotFound;
pub use reports::ReportsPage;
pub use settings::SettingsPage;
