//! What the token views and authentication share, built once at startup: settings, the token
//! backend, the database pool, the password hasher, the throttle and brute-force counters, the
//! metrics and the user cache.

use std::sync::{Arc, OnceLock};

use actix_web::web;
use settings::{Settings, SimpleJwt};
use users::validators::PasswordValidators;
use users::{DbConnection, PasswordHasher, Pool};

use crate::api::ApiError;
use crate::limits::throttle::Throttles;
use crate::tokens::backend::{KeyError, TokenBackend};
use crate::tokens::{Token, TokenError, TokenKind, Tokens};

pub struct AuthState {
    pub settings: Arc<Settings>,
    pub backend: TokenBackend,
    pub pool: Pool,
    pub hasher: PasswordHasher,
    /// DEFAULT_THROTTLE_CLASSES with their counters.
    pub throttles: Throttles,
    /// `[BRUTE_FORCE]`: failed password checks per username and client address.
    pub brute_force: crate::limits::brute_force::BruteForce,
    /// Prometheus series: auth events recorded by `service`, HTTP series by the server.
    pub metrics: crate::metrics::Metrics,
    /// Users JWTAuthentication loaded in the last `[CACHES] USER_TTL`.
    pub users: crate::store::user_cache::UserCache,
    /// AUTH_PASSWORD_VALIDATORS, built on first use (see `password_validators`).
    validators: OnceLock<PasswordValidators>,
    /// Password hashes computed at once by this process (see `hash`).
    hashing: Arc<tokio::sync::Semaphore>,
}

impl AuthState {
    pub fn new(
        settings: Arc<Settings>,
        pool: Pool,
        hasher: PasswordHasher,
    ) -> Result<Self, KeyError> {
        let backend = TokenBackend::from_settings(&settings.simple_jwt)?;
        // One counter store (one Redis connection, one breaker) for both.
        let counters = crate::limits::store::Store::for_caches(&settings.caches);
        let throttles = Throttles::new(&settings, counters.clone());
        let brute_force = crate::limits::brute_force::BruteForce::new(&settings, counters);
        let settings_workers = settings.server.workers;
        let settings_user_ttl = settings.caches.user_ttl;
        Ok(AuthState {
            throttles,
            brute_force,
            settings,
            backend,
            pool,
            hasher,
            metrics: crate::metrics::Metrics::new(),
            users: crate::store::user_cache::UserCache::new(settings_user_ttl),
            validators: OnceLock::new(),
            hashing: Arc::new(tokio::sync::Semaphore::new(hashing_permits(
                settings_workers,
            ))),
        })
    }

    /// AUTH_PASSWORD_VALIDATORS, built on first use (the common-password list is decompressed
    /// then: CPU work, so call this on the blocking pool) and kept for the life of the state.
    pub fn password_validators(&self) -> Result<&PasswordValidators, ApiError> {
        if let Some(built) = self.validators.get() {
            return Ok(built);
        }
        let built = PasswordValidators::from_settings(&self.settings.auth_password_validators)
            .map_err(ApiError::internal)?;
        Ok(self.validators.get_or_init(|| built))
    }

    pub fn jwt(&self) -> &SimpleJwt {
        &self.settings.simple_jwt
    }

    pub fn tokens(&self) -> Tokens<'_> {
        Tokens {
            settings: &self.settings.simple_jwt,
            backend: &self.backend,
        }
    }

    /// `Tokens::decode`, after (with JWK_URL) fetching the issuer's key for the token's `kid` if
    /// it is not cached: the one async step, so that the verification itself stays synchronous.
    pub async fn decode(&self, raw: &str, kind: TokenKind, now: i64) -> Result<Token, TokenError> {
        self.backend.prepare(raw).await;
        self.tokens().decode(raw, kind, now)
    }

    /// Runs `f` with a pooled connection on the blocking pool (diesel never runs on the async
    /// workers). An unreachable database is a 503 after the pool's connection timeout; a
    /// PostgreSQL connection that stops answering, a 503 after `[DATABASES] QUERY_TIMEOUT`
    /// (+ a second), when the watchdog breaks it off (`users::deadline`).
    pub async fn with_conn<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = users::db::get(&pool)?;
            let bounded = conn.in_use();
            let result = conn.run(f);
            drop(bounded);
            if let Err(ApiError::Unavailable(_)) = result {
                // The database dropped this connection: the pool must not hand it out again.
                conn.mark_broken();
            }
            result
        })
        .await?
    }

    /// Checks a password on the blocking pool (bcrypt takes ~0.25 s of CPU by design).
    pub async fn check_password(
        &self,
        raw: String,
        encoded: Option<String>,
    ) -> Result<bool, ApiError> {
        self.hash(move |hasher| hasher.check_password(&raw, encoded.as_deref()))
            .await
    }

    /// Runs password hashing work on the blocking pool, at most `hashing_permits` at a time in
    /// this process. Unbounded, a login storm puts a bcrypt on every blocking thread and every
    /// core, and the cheap requests (verify, /api/me/) queue behind them; bounded, logins queue
    /// for a permit instead and the rest keep their latency (bench/run's login storm).
    pub async fn hash<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&PasswordHasher) -> T + Send + 'static,
        T: Send + 'static,
    {
        let hasher = self.hasher.clone();
        limited(&self.hashing, move || f(&hasher)).await
    }
}

/// Runs `work` on the blocking pool once `permits` grants a permit, which the work itself holds
/// until it ends. A request dropped while waiting (SERVER.TIMEOUT answers 503 and drops the
/// handler) cannot stop a hash under way: were the permit the waiting future's, it would be freed
/// while the hash still ran, the next request would start another, and the bound would be gone.
async fn limited<T, F>(permits: &Arc<tokio::sync::Semaphore>, work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    Ok(web::block(move || {
        let _held = permit;
        work()
    })
    .await?)
}

/// Hashes at once per process: the cores divided among the worker processes (WORKERS, default
/// one per core), at least one.
fn hashing_permits(workers: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = workers.unwrap_or(cores).max(1);
    (cores / workers).max(1)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use futures_util::future::{select, Either};
    use tokio::sync::{oneshot, Semaphore};

    use super::*;

    /// Bounds each wait, so that a regression fails instead of hanging; nothing sleeps.
    const WAIT: Duration = Duration::from_secs(30);

    #[actix_rt::test]
    async fn the_permit_is_held_by_the_work_until_it_ends_not_by_the_request() {
        let permits = Arc::new(Semaphore::new(1));
        let (started_tx, started_rx) = oneshot::channel::<()>();
        let (finish_tx, finish_rx) = mpsc::channel::<()>();
        let (ended_tx, ended_rx) = oneshot::channel::<()>();
        let request = Box::pin(limited(&permits, move || {
            let _ = started_tx.send(());
            // The "hash": runs until the test lets it end.
            let _ = finish_rx.recv_timeout(WAIT);
            ended_tx
        }));
        // The request waits until the work has started, then is dropped, as SERVER.TIMEOUT
        // drops a handler: the blocking work goes on.
        match select(request, started_rx).await {
            Either::Right((started, request)) => {
                started.expect("the work started");
                drop(request);
            }
            Either::Left(_) => panic!("the work cannot end before the test lets it"),
        }
        assert_eq!(
            permits.available_permits(),
            0,
            "the running work holds the permit"
        );
        assert!(
            permits.try_acquire().is_err(),
            "no second hash may start while the first runs"
        );
        finish_tx.send(()).expect("the work is waiting");
        // It ends: the permit comes back (the sender returned by the work is dropped by then).
        let ended = tokio::time::timeout(WAIT, ended_rx)
            .await
            .expect("the work ended");
        assert!(
            ended.is_err(),
            "the work's result was dropped with the request"
        );
        let permit = tokio::time::timeout(WAIT, permits.acquire())
            .await
            .expect("the permit is released when the work ends");
        drop(permit.expect("semaphore open"));
        assert_eq!(permits.available_permits(), 1);
    }

    #[actix_rt::test]
    async fn work_waits_for_a_permit() {
        let permits = Arc::new(Semaphore::new(1));
        let held = Arc::clone(&permits).acquire_owned().await.expect("open");
        let (ran_tx, ran_rx) = mpsc::channel::<()>();
        let mut waiting = Box::pin(limited(&permits, move || ran_tx.send(()).is_ok()));
        // Polled once: no permit, so nothing runs.
        assert!(futures_util::FutureExt::now_or_never(&mut waiting).is_none());
        assert!(ran_rx.try_recv().is_err());
        drop(held);
        assert!(waiting.await.expect("ran"));
        assert_eq!(permits.available_permits(), 1);
    }
}
