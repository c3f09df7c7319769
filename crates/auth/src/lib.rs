//! simplejwt for actix-web: the token backend, token kinds, blacklist, authentication and
//! permission classes, and the token views.

pub mod api;
pub mod authentication;
pub mod backend;
pub mod basic;
pub mod blacklist;
pub mod brute_force;
pub mod challenge;
pub mod cookies;
pub mod credentials;
pub mod csrf;
pub mod jwk_client;
pub mod lookup;
pub mod metrics;
pub mod openapi;
pub mod password_change;
pub mod permissions;
pub mod redis_cache;
pub mod reuse;
pub mod revoke;
pub mod service;
pub mod sessions;
pub mod state;
pub mod throttle;
pub mod tokens;
pub mod user_cache;
pub mod views;

pub use api::ApiError;
pub use state::AuthState;
pub use views::configure;
