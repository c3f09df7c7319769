//! User queries: each takes a connection and does one thing; callers run them on the blocking pool.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::DbConnection;
use crate::models::{Flag, NewUser, User, UserChanges};
use crate::schema::auth_user::dsl;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a user with that username already exists")]
    UsernameTaken,
    #[error("user {0:?} does not exist")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] Error),
}

// Lookups by a unique key use `get_result`, not `first`: `first` adds `LIMIT ?`, and the bundled
// SQLite (STAT4) re-prepares a statement with a bound LIMIT on every call (a quarter of the
// CPU of GET /api/me/ in bench/run's profile).
pub fn by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<User>> {
    dsl::auth_user
        .filter(dsl::username.eq(username))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Option<User>> {
    dsl::auth_user
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// Fetches a user by username or fails with `NotFound` naming it (for `manage`).
pub fn require(conn: &mut DbConnection, username: &str) -> Result<User, UserError> {
    by_username(conn, username)?.ok_or_else(|| UserError::NotFound(username.to_owned()))
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
    dsl::auth_user
        .order(dsl::id.asc())
        .select(User::as_select())
        .load(conn)
}

/// Inserts a user; a concurrent or earlier user of the same name is `UsernameTaken` (the unique
/// index decides, so two racing creations give one user and one clear error).
pub fn create(conn: &mut DbConnection, new: &NewUser<'_>) -> Result<User, UserError> {
    match diesel::insert_into(dsl::auth_user)
        .values(new)
        .execute(conn)
    {
        Ok(_) => {}
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(UserError::UsernameTaken)
        }
        Err(e) => return Err(e.into()),
    }
    require(conn, new.username)
}

pub fn set_password(conn: &mut DbConnection, id: i32, encoded: &str) -> QueryResult<usize> {
    diesel::update(dsl::auth_user.find(id))
        .set(dsl::password.eq(encoded))
        .execute(conn)
}

pub fn set_last_login(conn: &mut DbConnection, id: i32, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::auth_user.find(id))
        .set(dsl::last_login.eq(Some(at)))
        .execute(conn)
}

pub fn set_flag(conn: &mut DbConnection, id: i32, flag: Flag, on: bool) -> QueryResult<usize> {
    let target = diesel::update(dsl::auth_user.find(id));
    match flag {
        Flag::Active => target.set(dsl::is_active.eq(on)).execute(conn),
        Flag::Staff => target.set(dsl::is_staff.eq(on)).execute(conn),
        Flag::Superuser => target.set(dsl::is_superuser.eq(on)).execute(conn),
    }
}

/// Applies `changes` to user `id` (nothing to change is 0 rows, not an error); a username
/// another user holds is `UsernameTaken` (the unique index decides).
pub fn update(conn: &mut DbConnection, id: i32, changes: &UserChanges) -> Result<usize, UserError> {
    if changes.is_empty() {
        return Ok(0);
    }
    match diesel::update(dsl::auth_user.find(id))
        .set(changes)
        .execute(conn)
    {
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(UserError::UsernameTaken)
        }
        other => Ok(other?),
    }
}

pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<usize> {
    diesel::delete(dsl::auth_user.find(id)).execute(conn)
}

/// Inserts a user with every column as given, the id included (`loaddata` keeps Django's ids).
/// On PostgreSQL, follow with [`sync_id_sequence`] so that the next created user does not
/// collide with these ids.
pub fn insert_exact(conn: &mut DbConnection, user: &User) -> QueryResult<usize> {
    diesel::insert_into(dsl::auth_user)
        .values(user)
        .execute(conn)
}

/// Overwrites every column of user `user.id` with the values given.
pub fn replace(conn: &mut DbConnection, user: &User) -> QueryResult<usize> {
    diesel::update(dsl::auth_user.find(user.id))
        .set(user)
        .execute(conn)
}

/// Moves PostgreSQL's id sequence past the largest id, after ids were inserted explicitly, and
/// never back: an id once used (by a user since deleted) must not be handed out again, or that
/// user's unexpired tokens would name the new user. SQLite's AUTOINCREMENT already follows the
/// largest id ever inserted, so there is nothing to do there.
pub fn sync_id_sequence(conn: &mut DbConnection) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Pg(c) => c.batch_execute(
            "SELECT setval(seq, GREATEST(top, COALESCE(pg_sequence_last_value(seq::regclass), 0))) \
             FROM (SELECT pg_get_serial_sequence('auth_user', 'id') AS seq, \
                          (SELECT MAX(id) FROM auth_user) AS top) AS s \
             WHERE top IS NOT NULL",
        ),
    }
}
