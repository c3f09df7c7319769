//! simplejwt for actix-web, in rooms that run one way (each uses only the rooms below it):
//!
//! - [`views`]: the token views and `/api/me/`, their OpenAPI document, the cookie transport and
//!   what the views do apart from HTTP (login, refresh, verify, blacklist, password change);
//! - [`authn`]: DRF's authentication classes (JWT, stateless, cookie, Basic), the credentials
//!   check, permission classes, CSRF and the `WWW-Authenticate` challenge;
//! - [`state`]: what all of them share, built once at startup ([`AuthState`]);
//! - [`limits`]: DRF's throttles and the brute-force lockout, over one counter store;
//! - [`api`]: DRF's request parsing, error shapes and field rules;
//! - [`tokens`]: the token backend (sign/verify), token kinds and claims, the revoke claim and the
//!   JWKS client;
//! - [`store`]: the database side: outstanding and blacklisted tokens, families, sessions, the
//!   user lookup and its cache;
//! - [`metrics`]: the Prometheus series.

pub mod api;
pub mod authn;
pub mod limits;
pub mod metrics;
pub mod state;
pub mod store;
pub mod tokens;
pub mod views;

pub use api::ApiError;
pub use state::AuthState;
pub use views::configure;
