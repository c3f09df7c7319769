//! The application: builds shared state once from settings, composes every area's routes, and
//! serves them. The `server` and `manage` binaries and the tests all start the app through here.

pub mod access_log;
pub mod docs;
pub mod drain;
pub mod error_log;
pub mod headers;
pub mod health;
pub mod heartbeat;
pub mod limits;
pub mod listener;
pub mod manage;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod process;
pub mod proxy;
pub mod request_id;
pub mod root;
pub mod server_cli;
pub mod startup;
pub mod timeout;
pub mod worker;

pub use startup::{build_state, serve, StartupError};
pub use startup::{serve_with, ServeOptions};
