//! simplejwt for actix-web: the token backend, token kinds, blacklist, authentication and
//! permission classes, and the token views.

pub mod api;
pub mod authentication;
pub mod backend;
pub mod blacklist;
pub mod challenge;
pub mod lookup;
pub mod permissions;
pub mod service;
pub mod state;
pub mod tokens;
pub mod views;

pub use api::ApiError;
pub use state::AuthState;
pub use views::configure;
