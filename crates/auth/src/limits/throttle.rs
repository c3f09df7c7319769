//! DRF's rate throttles (AnonRateThrottle, UserRateThrottle, ScopedRateThrottle): which request
//! counts against which key, DRF's sliding-log algorithm, and the wait a throttled client is told.
//! Counters live in the limits' [`Store`] (`CACHES.URL`): here, only the policy and its script.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::HttpRequest;

use settings::{Rate, Settings, ThrottleClass};

use crate::api::request::client_address;
use crate::api::ApiError;
use crate::limits::store::{now, Local, Store};

/// DRF's `throttle_scope` of the token obtain views (pair and sliding), for ScopedRateThrottle.
pub const LOGIN_SCOPE: &str = "login";

/// `request.user` as the throttles see it: its `pk`, asked only when a throttle counts by user.
pub trait RequestUser {
    fn pk(&self) -> String;
}

/// The configured throttles and their counters, built once at startup.
#[derive(Debug)]
pub struct Throttles {
    classes: Vec<ThrottleClass>,
    rates: HashMap<String, Rate>,
    key_prefix: String,
    store: Store,
    /// DRF's sliding log in one script.
    script: redis::Script,
    /// The counters in this process: all of them with `locmem://`, else while Redis is away
    /// (each instance then limits on its own, which still holds a client back, instead of not
    /// at all).
    local: LocalStore,
}

impl Throttles {
    /// The throttles of `settings`, counting in `store`.
    pub fn new(settings: &Settings, store: Store) -> Self {
        let rf = &settings.rest_framework;
        Throttles {
            classes: rf.default_throttle_classes.clone(),
            rates: rf
                .default_throttle_rates
                .iter()
                .filter_map(|(scope, rate)| rate.map(|r| (scope.clone(), r)))
                .collect(),
            key_prefix: settings.caches.key_prefix.clone(),
            store,
            script: redis::Script::new(SLIDING_LOG),
            local: LocalStore::default(),
        }
    }

    /// DRF's `check_throttles` for a request by `user` (`None` when anonymous): every class
    /// counts the request (those that allow it record it);
    /// if any refuses, 429 with the longest of their waits.
    pub async fn check(
        &self,
        req: &HttpRequest,
        user: Option<&dyn RequestUser>,
        view_scope: Option<&'static str>,
    ) -> Result<(), ApiError> {
        let mut refused = Vec::new();
        for class in &self.classes {
            let Some((key, rate)) = self.key(*class, req, user, view_scope) else {
                continue;
            };
            if let Decision::Refused { wait } = self.hit(&key, now(), rate).await {
                refused.push(wait);
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        let wait = refused.into_iter().flatten().reduce(f64::max);
        Err(ApiError::Throttled {
            wait: wait.map(|w| w.ceil() as u64),
        })
    }

    /// `get_cache_key` of each class with its rate; `None` when it does not apply.
    fn key(
        &self,
        class: ThrottleClass,
        req: &HttpRequest,
        user: Option<&dyn RequestUser>,
        view_scope: Option<&'static str>,
    ) -> Option<(String, Rate)> {
        let scope = match class {
            ThrottleClass::AnonRateThrottle if user.is_some() => return None,
            ThrottleClass::ScopedRateThrottle => view_scope?,
            other => settings::throttle_scope(other),
        };
        // A scope whose rate is None is not throttled.
        let rate = *self.rates.get(scope)?;
        let ident = match user {
            Some(user) if class != ThrottleClass::AnonRateThrottle => user.pk(),
            _ => client_address(req),
        };
        Some((format!("{}throttle_{scope}_{ident}", self.key_prefix), rate))
    }
}

/// The outcome of counting one request against one key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Allowed,
    /// `wait`: DRF's recommended seconds before the next request (`None` when it cannot say).
    Refused {
        wait: Option<f64>,
    },
}

/// DRF's sliding log in a Redis sorted set (score = request time), updated atomically by one
/// script so that concurrent requests on several instances cannot both take the last slot.
const SLIDING_LOG: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, n, oldest[2] or ''}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return {1, n + 1, ''}
"#;

impl Throttles {
    /// Counts one request, in the shared store or, with `locmem://` and while Redis is
    /// unavailable, in this process.
    async fn hit(&self, key: &str, now: f64, rate: Rate) -> Decision {
        let shared = self
            .store
            .shared(|conn| self.try_hit(conn, key, now, rate))
            .await;
        shared.unwrap_or_else(|| self.local.hit(key, now, rate))
    }

    async fn try_hit(
        &self,
        mut conn: redis::aio::ConnectionManager,
        key: &str,
        now: f64,
        rate: Rate,
    ) -> redis::RedisResult<Decision> {
        let duration = rate.period.as_secs_f64();
        // A unique member per request: two requests in the same microsecond are two requests.
        let member = format!("{now:.6}-{}", uuid::Uuid::new_v4().simple());
        let (allowed, count, oldest): (i64, i64, String) = self
            .script
            .key(key)
            .arg(now)
            .arg(duration)
            .arg(rate.num_requests)
            .arg(member)
            .invoke_async(&mut conn)
            .await?;
        if allowed == 1 {
            return Ok(Decision::Allowed);
        }
        let limit = usize::try_from(rate.num_requests).unwrap_or(usize::MAX);
        let len = usize::try_from(count).unwrap_or(usize::MAX);
        Ok(Decision::Refused {
            wait: wait_for(len, oldest.parse().ok(), now, duration, limit),
        })
    }
}

/// Per key, the times of the requests still inside the window, newest first (DRF's history list).
#[derive(Debug, Default)]
pub struct LocalStore {
    histories: Local<Vec<f64>>,
}

impl LocalStore {
    /// DRF's `SimpleRateThrottle.allow_request` and `wait`.
    pub fn hit(&self, key: &str, now: f64, rate: Rate) -> Decision {
        let duration = rate.period.as_secs_f64();
        let oldest_period = Duration::from_secs(86_400).as_secs_f64();
        let mut histories = self
            .histories
            .swept(|_, h| h.first().is_some_and(|t| *t > now - oldest_period));
        let history = histories.entry(key.to_owned()).or_default();
        while history.last().is_some_and(|t| *t <= now - duration) {
            history.pop();
        }
        let limit = usize::try_from(rate.num_requests).unwrap_or(usize::MAX);
        if history.len() >= limit {
            return Decision::Refused {
                wait: wait_for(history.len(), history.last().copied(), now, duration, limit),
            };
        }
        history.insert(0, now);
        Decision::Allowed
    }
}

/// DRF's `wait`: the time until the oldest request leaves the window, spread over the requests
/// that will then be available (`len` requests in the window, the oldest at `oldest`).
fn wait_for(len: usize, oldest: Option<f64>, now: f64, duration: f64, limit: usize) -> Option<f64> {
    let remaining = match oldest {
        Some(oldest) => duration - (now - oldest),
        None => duration,
    };
    let available = limit as f64 - len as f64 + 1.0;
    (available > 0.0).then(|| remaining / available)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(n: u32, secs: u64) -> Rate {
        Rate {
            num_requests: n,
            period: Duration::from_secs(secs),
        }
    }

    #[test]
    fn drf_sliding_log() {
        let store = LocalStore::default();
        let r = rate(2, 60);
        assert_eq!(store.hit("k", 100.0, r), Decision::Allowed);
        assert_eq!(store.hit("k", 110.0, r), Decision::Allowed);
        // Full: the oldest (100) leaves at 160; one slot then: 160 - 130 = 30 s.
        assert_eq!(
            store.hit("k", 130.0, r),
            Decision::Refused { wait: Some(30.0) }
        );
        // Other keys count separately.
        assert_eq!(store.hit("other", 130.0, r), Decision::Allowed);
        // At exactly 160 the first request is out of the window.
        assert_eq!(store.hit("k", 160.0, r), Decision::Allowed);
        assert!(matches!(store.hit("k", 161.0, r), Decision::Refused { .. }));
    }

    #[test]
    fn zero_requests_means_always_refused() {
        let store = LocalStore::default();
        assert_eq!(
            store.hit("k", 1.0, rate(0, 60)),
            Decision::Refused { wait: Some(60.0) }
        );
    }
}
