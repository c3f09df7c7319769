//! The actix-web app: its assembly from settings (`startup`), and the routes the server adds
//! beside the auth crate's: the API root, health checks, the OpenAPI document and its docs page,
//! and the observe layer that wraps them all.

pub mod docs;
pub mod health;
pub mod observe;
pub mod openapi;
pub mod root;
pub mod startup;
