//! JWTAuthentication's user lookups, kept for `[CACHES] USER_TTL` (a second by default) in each
//! worker process: a client that sends a burst of requests costs one database trip, not one per
//! request. An entry is only ever what the database said at most USER_TTL ago, and the checks
//! (active, CHECK_REVOKE_TOKEN) still run on it on every request. Changes made through this
//! process (a password change, a login that upgrades the stored hash) forget the user at once;
//! changes made elsewhere (`manage`, another worker) take effect within USER_TTL.

use std::sync::Arc;
use std::time::Duration;

use users::User;

use crate::lookup::UserKey;

/// Users kept per process at most: a few MB, whatever the number of users.
const CAPACITY: u64 = 10_000;

/// The users recently loaded by this process; disabled (every lookup goes to the database) with
/// a zero USER_TTL.
pub struct UserCache {
    users: Option<moka::sync::Cache<UserKey, Arc<User>>>,
}

impl UserCache {
    pub fn new(ttl: Duration) -> Self {
        let users = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        UserCache { users }
    }

    pub fn get(&self, key: &UserKey) -> Option<Arc<User>> {
        self.users.as_ref()?.get(key)
    }

    /// Keeps a user the database just returned. Users not found are not kept: an id is never
    /// reused, and a username created a moment later must log in at once.
    pub fn insert(&self, key: UserKey, user: Arc<User>) {
        if let Some(users) = &self.users {
            users.insert(key, user);
        }
    }

    /// Forgets a user this process has just changed, under every key that can name them.
    pub fn forget(&self, id: i32, username: &str) {
        if let Some(users) = &self.users {
            users.invalidate(&UserKey::Id(id));
            users.invalidate(&UserKey::Username(username.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i32, name: &str) -> Arc<User> {
        let epoch = chrono::DateTime::UNIX_EPOCH.naive_utc();
        Arc::new(User {
            id,
            password: String::new(),
            last_login: None,
            is_superuser: false,
            username: name.to_owned(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            is_staff: false,
            is_active: true,
            date_joined: epoch,
        })
    }

    #[test]
    fn keeps_found_users_until_forgotten() {
        let cache = UserCache::new(Duration::from_secs(60));
        let key = UserKey::Id(7);
        assert!(cache.get(&key).is_none());
        cache.insert(key.clone(), user(7, "ann"));
        assert_eq!(cache.get(&key).map(|u| u.id), Some(7));
        cache.insert(UserKey::Username("ann".into()), user(7, "ann"));
        cache.forget(7, "ann");
        assert!(cache.get(&key).is_none());
        assert!(cache.get(&UserKey::Username("ann".into())).is_none());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = UserCache::new(Duration::ZERO);
        cache.insert(UserKey::Id(1), user(1, "a"));
        assert!(cache.get(&UserKey::Id(1)).is_none());
    }

    #[test]
    fn entries_expire() {
        // moka checks expiry on read against its clock: a 1 ns TTL has passed by the next call.
        let cache = UserCache::new(Duration::from_nanos(1));
        cache.insert(UserKey::Id(1), user(1, "a"));
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_micros(10) {
            std::hint::spin_loop();
        }
        assert!(cache.get(&UserKey::Id(1)).is_none());
    }
}
