//! The Redis connection behind `CACHES.URL = redis://…`, one for the limits' counter store
//! (`store`, shared by the throttles and the brute-force counters): made on first use (a Redis
//! that is down at startup does not stop the server), then kept and re-established by redis'
//! ConnectionManager, and bounded so that a request never waits long on the cache.
//!
//! A breaker keeps an outage cheap: after a call fails or runs past [`TIMEOUT`], calls are not
//! tried for [`RETRY_AFTER`] (the callers count in their process meanwhile), then one call probes
//! Redis again; the first success closes the breaker. The outage and the recovery are each logged
//! once, not per request.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::IntoConnectionInfo;

/// How long one cache operation may wait for Redis (connecting and answering, in all).
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// How long calls skip Redis after it failed, before one call tries it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The Redis client `[CACHES]` names, for every user of the cache (throttles, brute-force
/// counters, `/readyz`, `check --deploy`); `None` when the cache is in the process (`locmem://`).
/// A `rediss://` server's certificate is checked against the system's CA store (`SSL_CERT_FILE`
/// / `SSL_CERT_DIR` name another) unless `TLS_VERIFY = false` (or redis-rs' own `#insecure`
/// fragment): Heroku Redis serves a self-signed certificate and documents turning the check off.
pub fn client(caches: &settings::Caches) -> Option<redis::RedisResult<redis::Client>> {
    let url = caches.url.as_str();
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return None;
    }
    let open = || {
        let mut info = url.into_connection_info()?;
        if let redis::ConnectionAddr::TcpTls { insecure, .. } = &mut info.addr {
            *insecure |= !caches.tls_verify;
        }
        redis::Client::open(info)
    };
    Some(open())
}

pub struct RedisCache {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    /// What the counters are for, in the log lines.
    purpose: &'static str,
    /// What happens while Redis is unavailable, in the outage's log line.
    meanwhile: &'static str,
    /// While open: until when calls skip Redis.
    open_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("RedisCache")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    pub fn new(client: redis::Client, purpose: &'static str) -> Self {
        RedisCache {
            client,
            connection: tokio::sync::OnceCell::new(),
            purpose,
            meanwhile: "counting in this process",
            open_until: Mutex::new(None),
        }
    }

    /// The one `/readyz` pings: a breaker of its own, so that a probe finds an outage even when
    /// no request has gone to Redis yet, and probes skip Redis while it is open as requests do.
    pub fn for_readiness(client: redis::Client) -> Self {
        RedisCache {
            meanwhile: "/readyz answers 503",
            ..RedisCache::new(client, "readiness")
        }
    }

    /// Whether Redis answers a PING within [`TIMEOUT`]; `false` at once while the breaker is open.
    pub async fn reachable(&self) -> bool {
        self.call(|mut conn| async move { redis::cmd("PING").query_async::<()>(&mut conn).await })
            .await
            .is_some()
    }

    /// A handle on the shared connection (cheap to clone), connecting on first use.
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
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

    /// Runs `op` on the connection, within [`TIMEOUT`] in all. `None` when Redis is unavailable
    /// (the breaker is open, or the call failed or ran out of time): the caller counts in its
    /// process instead.
    pub async fn call<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.may_try(Instant::now()) {
            return None;
        }
        let attempt = tokio::time::timeout(TIMEOUT, async {
            let conn = self.connection().await?;
            op(conn).await
        })
        .await;
        match attempt {
            Ok(Ok(value)) => {
                self.succeeded();
                Some(value)
            }
            Ok(Err(e)) => {
                self.failed(Instant::now(), &e.to_string());
                None
            }
            Err(_) => {
                self.failed(Instant::now(), "no answer within 0.5 s");
                None
            }
        }
    }

    /// Closed, or open past its time (this call then is the probe: the others keep skipping).
    fn may_try(&self, now: Instant) -> bool {
        let mut open = self.state();
        match *open {
            None => true,
            Some(until) if now >= until => {
                *open = Some(now + RETRY_AFTER);
                true
            }
            Some(_) => false,
        }
    }

    fn failed(&self, now: Instant, why: &str) {
        let mut open = self.state();
        if open.is_none() {
            log::warn!(
                "{} cache (Redis) unavailable: {why}; {}, trying Redis again every {}s",
                self.purpose,
                self.meanwhile,
                RETRY_AFTER.as_secs()
            );
        }
        *open = Some(now + RETRY_AFTER);
    }

    fn succeeded(&self) {
        if self.state().take().is_some() {
            log::info!("{} cache (Redis) reachable again", self.purpose);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // A poisoned lock only means another request panicked mid-update; the data is usable.
        self.open_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> RedisCache {
        let client = redis::Client::open("redis://127.0.0.1:1/0").expect("url");
        RedisCache::new(client, "test")
    }

    #[test]
    fn a_failure_opens_the_breaker_and_one_probe_follows_its_time() {
        let cache = cache();
        let t0 = Instant::now();
        assert!(cache.may_try(t0));
        cache.failed(t0, "refused");
        assert!(!cache.may_try(t0 + Duration::from_secs(1)));
        // Past RETRY_AFTER, one probe; the others keep skipping while it runs.
        let later = t0 + RETRY_AFTER;
        assert!(cache.may_try(later));
        assert!(!cache.may_try(later));
        // The probe succeeded: every call tries Redis again.
        cache.succeeded();
        assert!(cache.may_try(later));
        assert!(cache.may_try(later));
    }

    #[tokio::test]
    async fn a_refused_redis_opens_the_breaker_and_later_calls_skip_it() {
        let cache = cache();
        let first: Option<()> = cache.call(|_| async { Ok(()) }).await;
        assert!(first.is_none());
        // The breaker is open: no connection attempt at all.
        let skipped: Option<()> = cache.call(|_| async { Ok(()) }).await;
        assert!(skipped.is_none());
        assert!(!cache.may_try(Instant::now()));
    }
}
