//! JWTAuthentication's user lookups, kept for `[CACHES] USER_TTL` (a second by default) in each
//! worker process: a client that sends a burst of requests costs one database trip, not one per
//! request. An entry is only ever what the database said at most USER_TTL ago, and the checks
//! (active, CHECK_REVOKE_TOKEN) still run on it on every request. Changes made through this
//! process (a password change, a login that upgrades the stored hash) forget the user at once;
//! changes made elsewhere (`manage`, another worker) take effect within USER_TTL.
//!
//! A lookup that read the row before a change but stores it after the change's `forget` would
//! put the old row back for another USER_TTL (and with it the old password hash that
//! CHECK_REVOKE_TOKEN compares). So each user has a generation that `forget` bumps: a lookup
//! takes a `Ticket` (the generation) before it reads, and `insert` drops a row whose ticket is
//! older than the current generation.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use users::User;

use crate::store::lookup::UserKey;

/// Users kept per process at most: a few MB, whatever the number of users.
const CAPACITY: u64 = 10_000;
/// Generation counters: each key's is one of these, chosen by the key's hash. Fixed, so that a
/// generation is never evicted while a lookup still holds a ticket for it; two users sharing a
/// counter only cost each other a cache entry now and then. 8 KiB.
const GENERATIONS: usize = 1024;

/// The users recently loaded by this process; disabled (every lookup goes to the database) with
/// a zero USER_TTL.
pub struct UserCache {
    users: Option<moka::sync::Cache<UserKey, Arc<User>>>,
    generations: Box<[AtomicU64]>,
    /// Picks a key's generation counter (seeded per process).
    spread: RandomState,
}

/// Taken before a lookup reads the database: the key and its generation at that moment.
#[derive(Debug)]
#[must_use = "a ticket is for `insert`"]
pub struct Ticket {
    key: UserKey,
    generation: u64,
}

impl UserCache {
    pub fn new(ttl: Duration) -> Self {
        let users = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        UserCache {
            users,
            generations: (0..GENERATIONS).map(|_| AtomicU64::new(0)).collect(),
            spread: RandomState::new(),
        }
    }

    pub fn get(&self, key: &UserKey) -> Option<Arc<User>> {
        self.users.as_ref()?.get(key)
    }

    fn generation(&self, key: &UserKey) -> &AtomicU64 {
        // The modulo keeps the index below GENERATIONS, so it fits a usize.
        let index = (self.spread.hash_one(key) % GENERATIONS as u64) as usize;
        &self.generations[index]
    }

    /// Take this before reading `key`'s user from the database, and give it to `insert`.
    pub fn ticket(&self, key: UserKey) -> Ticket {
        let generation = self.generation(&key).load(Ordering::SeqCst);
        Ticket { key, generation }
    }

    /// Keeps a user the database just returned, unless the user was forgotten since the ticket
    /// was taken (the row may predate that change). Users not found are not kept: an id is
    /// never reused, and a username created a moment later must log in at once.
    pub fn insert(&self, ticket: Ticket, user: Arc<User>) {
        let Some(users) = &self.users else {
            return;
        };
        let generation = self.generation(&ticket.key);
        if generation.load(Ordering::SeqCst) != ticket.generation {
            return;
        }
        users.insert(ticket.key.clone(), user);
        // A `forget` between the check and the insert bumped the generation before its
        // invalidate, which then either came after the insert (and removed it) or before it:
        // that case is seen here, and the row is removed again.
        if generation.load(Ordering::SeqCst) != ticket.generation {
            users.invalidate(&ticket.key);
        }
    }

    /// Forgets a user this process has just changed, under every key that can name them. Call
    /// it after the change is committed: lookups that start later read the new row, and those
    /// already under way hold tickets this makes stale.
    pub fn forget(&self, id: i32, username: &str) {
        let Some(users) = &self.users else {
            return;
        };
        for key in [UserKey::Id(id), UserKey::Username(username.to_owned())] {
            // Bumped first: see `insert`.
            self.generation(&key).fetch_add(1, Ordering::SeqCst);
            users.invalidate(&key);
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
        cache.insert(cache.ticket(key.clone()), user(7, "ann"));
        assert_eq!(cache.get(&key).map(|u| u.id), Some(7));
        cache.insert(
            cache.ticket(UserKey::Username("ann".into())),
            user(7, "ann"),
        );
        assert!(cache.get(&UserKey::Username("ann".into())).is_some());
        cache.forget(7, "ann");
        assert!(cache.get(&key).is_none());
        assert!(cache.get(&UserKey::Username("ann".into())).is_none());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = UserCache::new(Duration::ZERO);
        cache.insert(cache.ticket(UserKey::Id(1)), user(1, "a"));
        assert!(cache.get(&UserKey::Id(1)).is_none());
    }

    /// The race, step by step: a lookup reads ann's row, her password changes and the change
    /// forgets her, then the lookup stores the row it read before the change.
    #[test]
    fn a_row_read_before_a_forget_is_not_kept_after_it() {
        let cache = UserCache::new(Duration::from_secs(60));
        for key in [UserKey::Id(7), UserKey::Username("ann".into())] {
            let ticket = cache.ticket(key.clone());
            let before_the_change = user(7, "ann");
            cache.forget(7, "ann");
            cache.insert(ticket, before_the_change);
            assert!(
                cache.get(&key).is_none(),
                "{key:?}: the stale row came back"
            );
            // The next lookup starts after the change: it reads the new row and keeps it.
            let ticket = cache.ticket(key.clone());
            cache.insert(ticket, user(7, "ann"));
            assert!(cache.get(&key).is_some(), "{key:?}");
        }
    }

    #[test]
    fn a_forget_of_someone_else_does_not_drop_a_lookup() {
        let cache = UserCache::new(Duration::from_secs(60));
        // Counters are shared by hash: find a user whose keys share none with ann's.
        let ann = [UserKey::Id(7), UserKey::Username("ann".into())];
        let shares = |id: i32, name: &str| {
            [UserKey::Id(id), UserKey::Username(name.into())]
                .iter()
                .any(|k| {
                    ann.iter()
                        .any(|a| std::ptr::eq(cache.generation(a), cache.generation(k)))
                })
        };
        let other = (8..).find(|&id| !shares(id, &format!("user{id}"))).unwrap();
        let ticket = cache.ticket(UserKey::Id(7));
        cache.forget(other, &format!("user{other}"));
        cache.insert(ticket, user(7, "ann"));
        assert!(cache.get(&UserKey::Id(7)).is_some());
    }

    #[test]
    fn entries_expire() {
        // moka checks expiry on read against its clock: a 1 ns TTL has passed by the next call.
        let cache = UserCache::new(Duration::from_nanos(1));
        cache.insert(cache.ticket(UserKey::Id(1)), user(1, "a"));
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_micros(10) {
            std::hint::spin_loop();
        }
        assert!(cache.get(&UserKey::Id(1)).is_none());
    }
}
