//! The one counter store of the limits (`CACHES.URL`), shared by the throttles and the
//! brute-force counters: Redis (`redis://`, `rediss://`) through one connection, bounded and
//! behind one breaker ([`RedisCache`]), so that every instance shares the counts; or, with
//! `locmem://` and while Redis is unavailable, the counters of this process ([`Local`]). Each user
//! of the store keeps only its policy and its Lua script.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

use crate::limits::redis_cache::{self, RedisCache};

/// Where the counters live, built once at startup from `CACHES.URL` and handed to each policy.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// `None`: every count is in this process (`CACHES.URL = "locmem://"`).
    redis: Option<Arc<RedisCache>>,
}

impl Store {
    /// The store `[CACHES]` names (settings have already refused any other scheme): the one
    /// place the counters' Redis client is opened (`redis_cache::client`).
    pub fn for_caches(caches: &settings::Caches) -> Store {
        match redis_cache::client(caches) {
            Some(Ok(client)) => {
                return Store {
                    redis: Some(Arc::new(RedisCache::new(
                        client,
                        "throttle and brute-force",
                    ))),
                }
            }
            // The URL passed the settings' scheme check but not the client's parser: say so
            // once at startup and count per process rather than not at all.
            Some(Err(e)) => {
                log::error!("CACHES.URL is not a usable Redis URL ({e}); counting in-process")
            }
            None => {}
        }
        Store::default()
    }

    /// Runs `op` on the shared counters: `None` when they are in this process, or Redis is
    /// unavailable (the breaker is open, or the call failed or ran past the bound): the caller
    /// then counts in its [`Local`] counters instead (never failing closed: a cache outage must
    /// not turn into a full one, nor open the gates).
    pub async fn shared<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match &self.redis {
            Some(cache) => cache.call(op).await,
            None => None,
        }
    }
}

/// The one clock of the limits: seconds since the epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Sweep the local counters once they hold this many keys, so idle clients and one-off usernames
/// do not accumulate forever.
pub const SWEEP_AT: usize = 10_000;

/// Counters of this process, one `E` per key (a throttle's history, a brute-force counter).
#[derive(Debug)]
pub struct Local<E> {
    entries: Mutex<HashMap<String, E>>,
}

impl<E> Default for Local<E> {
    fn default() -> Self {
        Local {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<E> Local<E> {
    /// The counters, locked.
    pub fn entries(&self) -> MutexGuard<'_, HashMap<String, E>> {
        // A poisoned lock only means another request panicked mid-update; the data is usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The counters, locked, after forgetting those `keep` lets go once there are [`SWEEP_AT`].
    pub fn swept(
        &self,
        keep: impl FnMut(&String, &mut E) -> bool,
    ) -> MutexGuard<'_, HashMap<String, E>> {
        let mut entries = self.entries();
        if entries.len() >= SWEEP_AT {
            entries.retain(keep);
        }
        entries
    }
}
