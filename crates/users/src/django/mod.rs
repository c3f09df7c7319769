//! Django's `dumpdata auth.user` JSON: reading it (`fixture`), loading it into the database
//! (`import`), and writing it back (`dump`), with Django's datetime format (`datetime`).

pub mod datetime;
pub mod dump;
pub mod fixture;
pub mod import;

use chrono::NaiveDateTime;

use crate::models::User;

/// Every column of a user but the id: what a fixture record sets, and what decides whether a
/// record changes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields {
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

impl UserFields {
    pub fn of(user: &User) -> Self {
        UserFields {
            password: user.password.clone(),
            last_login: user.last_login,
            is_superuser: user.is_superuser,
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            is_staff: user.is_staff,
            is_active: user.is_active,
            date_joined: user.date_joined,
        }
    }

    pub fn with_id(self, id: i32) -> User {
        User {
            id,
            password: self.password,
            last_login: self.last_login,
            is_superuser: self.is_superuser,
            username: self.username,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            is_staff: self.is_staff,
            is_active: self.is_active,
            date_joined: self.date_joined,
        }
    }
}
