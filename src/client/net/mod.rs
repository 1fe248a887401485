//! Talking to the server: the sync loop, the HTTP calls, and the service worker that keeps the
//! app on the device. Pages never call these directly to read data: they read `local`, which
//! this keeps in step with the server.

pub mod http;
pub mod photos;
pub mod pwa;
pub mod sync;
