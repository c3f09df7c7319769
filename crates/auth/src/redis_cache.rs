//! The Redis connection behind `CACHES.URL = redis://…`, as the throttles and the brute-force
//! counters use it: made on first use (a Redis that is down at startup does not stop the
//! server), then kept and re-established by redis' ConnectionManager, and bounded so that a
//! request never waits long on the cache.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long one cache operation may wait for Redis (connecting or answering).
pub const TIMEOUT: Duration = Duration::from_millis(500);

pub struct RedisCache {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

impl RedisCache {
    pub fn new(client: redis::Client) -> Self {
        RedisCache {
            client,
            connection: tokio::sync::OnceCell::new(),
        }
    }

    /// A handle on the shared connection (cheap to clone), connecting on first use.
    pub async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        Ok(self
            .connection
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(1)
                    .set_connection_timeout(TIMEOUT)
                    .set_response_timeout(TIMEOUT);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?
            .clone())
    }
}
