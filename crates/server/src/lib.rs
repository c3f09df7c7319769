//! The application: builds shared state once from settings, composes every area's routes, and
//! serves them. The `server` and `manage` binaries and the tests all start the app through here.

pub mod app;
pub mod manage;
pub mod middleware;
pub mod prefork;

pub use app::startup::{build_state, serve, serve_with, ServeOptions, StartupError};
