//! The user: a read model as stored, and an insert model for new users.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::auth_user;

/// A row of `auth_user`. Times are UTC. Insertable and AsChangeset (every column but the id) let
/// `loaddata` write a Django row exactly as given.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Insertable, AsChangeset,
)]
#[diesel(table_name = auth_user)]
pub struct User {
    pub id: i32,
    pub password: String,
    pub last_login: Option<NaiveDateTime>,
    pub is_superuser: bool,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: NaiveDateTime,
}

/// What creating a user needs; the password is already hashed.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = auth_user)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: NaiveDateTime,
}

/// The flags `manage` toggles on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Active,
    Staff,
    Superuser,
}
