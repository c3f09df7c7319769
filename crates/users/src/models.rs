//! The user: a read model as stored, an insert model for new users, and a change set for the
//! fields an admin edits.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::auth_user;

/// A row of `auth_user`. Times are UTC. Insertable and AsChangeset (every column but the id) let
/// `loaddata` write a Django row exactly as given.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Queryable,
    QueryableByName,
    Selectable,
    Identifiable,
    Insertable,
    AsChangeset,
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

/// The fields Django's admin edits on a user (password aside); `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = auth_user)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
}

impl UserChanges {
    /// Only the fields whose value differs from `user`'s: what an update would really change.
    pub fn against(self, user: &User) -> UserChanges {
        fn differs<T: PartialEq>(new: Option<T>, old: &T) -> Option<T> {
            new.filter(|v| v != old)
        }
        UserChanges {
            username: differs(self.username, &user.username),
            email: differs(self.email, &user.email),
            first_name: differs(self.first_name, &user.first_name),
            last_name: differs(self.last_name, &user.last_name),
            is_active: differs(self.is_active, &user.is_active),
            is_staff: differs(self.is_staff, &user.is_staff),
            is_superuser: differs(self.is_superuser, &user.is_superuser),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == UserChanges::default()
    }

    /// The names of the columns set, in the order Django's admin shows them.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("username", self.username.is_some()),
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("email", self.email.is_some()),
            ("is_active", self.is_active.is_some()),
            ("is_staff", self.is_staff.is_some()),
            ("is_superuser", self.is_superuser.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Whether the change alters who the user is or what they may do (name, flags): tokens
    /// issued before it must stop working.
    pub fn ends_sessions(&self) -> bool {
        self.username.is_some()
            || self.is_active.is_some()
            || self.is_staff.is_some()
            || self.is_superuser.is_some()
    }
}

/// The flags `manage` toggles on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Active,
    Staff,
    Superuser,
}
