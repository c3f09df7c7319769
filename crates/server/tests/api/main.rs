//! Black-box HTTP tests: each test starts the app on a random port against its own SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

mod helpers;
#[path = "../support/tls_redis.rs"]
mod tls_redis;

mod attacks;
mod auth_classes;
mod blacklist;
mod bodies;
mod brute_force;
mod challenge;
mod claim_names;
mod cookies;
mod database;
mod jwk_url;
mod jwks;
mod keys;
mod limits;
mod logout;
mod me;
mod observe;
mod obtain;
mod parsing;
mod password_change;
mod refresh;
mod reuse;
mod revocation;
mod revoke;
mod settings_layering;
mod sliding;
mod throttling;
mod trips;
mod user_claims;
mod vectors;
mod verify;
