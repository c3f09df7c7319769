//! Users and their database: connections (SQLite or PostgreSQL), migrations, models, queries, passwords.

pub mod batch;
pub mod connection;
pub mod counts;
pub mod db;
pub mod deadline;
pub mod django;
pub mod group;
pub mod migrations;
pub mod models;
pub mod password;
pub mod queries;
pub mod schema;
pub mod tx;
pub mod validators;
pub mod wal;
pub mod writer;

pub use db::{DbConnection, DbError, Pool};
pub use models::{NewUser, User};
pub use password::PasswordHasher;
