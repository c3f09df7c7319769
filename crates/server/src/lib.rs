//! The application: builds shared state once from settings, composes every area's routes, and
//! serves them. The `server` and `manage` binaries and the tests all start the app through here.

pub mod health;
pub mod manage;
pub mod startup;

pub use startup::{build_state, serve, StartupError};
