//! One connection type over SQLite and PostgreSQL, chosen by the URL's scheme ([`crate::db`]
//! opens and pools them).

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

/// A connection to whichever backend `DATABASES.URL` names. Queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection: for the queries diesel builds for
/// one backend at a time and not for [`DbConnection`] (`ON CONFLICT`, row locks). The body is
/// written once and compiled for each backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Sqlite($c) => $body,
            $crate::connection::DbConnection::Pg($c) => $body,
        }
    };
}
