//! Brute-force defence for every password check (`[BRUTE_FORCE]`): failed attempts counted per
//! username and per client address in the cache of `CACHES.URL`, and locks that grow with the
//! failures, after Keycloak's brute-force detection. A locked username or address is refused
//! before anything is looked up or hashed, so the refusal is the same whether the user exists.
//!
//! Attempts under way are tracked too: once a counter has failures, no more attempts may run at
//! once than the failures still allowed, so a burst of concurrent guesses cannot slip past the
//! limit while the first ones are being hashed. A counter without failures does not limit
//! concurrency: many simultaneous logins of one account (all succeeding) are not an attack.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::api::ApiError;
use crate::limits::store::{now, Local, Store};

/// The `[BRUTE_FORCE]` settings the counters need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub failure_factor: u32,
    /// 0: no per-address counter.
    pub address_failure_factor: u32,
    pub wait_increment: Duration,
    pub max_wait: Duration,
    pub failure_reset_time: Duration,
}

impl Policy {
    /// Keycloak's lock after the `failures`th failure of a counter whose factor is `factor`:
    /// WAIT_INCREMENT × ⌊failures / factor⌋, at most MAX_WAIT; none below the factor. So every
    /// failure past the factor locks again, and the lock grows by one increment every `factor`
    /// failures.
    pub fn wait_after(&self, failures: u64, factor: u32) -> Duration {
        if factor == 0 {
            return Duration::ZERO;
        }
        let steps = u32::try_from(failures / u64::from(factor)).unwrap_or(u32::MAX);
        self.wait_increment
            .checked_mul(steps)
            .map_or(self.max_wait, |wait| wait.min(self.max_wait))
    }
}

/// How many attempts of a counter with `failures` failures may be under way at once: the failures
/// left before the factor, and at least one (the attempt that a lock's end lets through). So at
/// most FAILURE_FACTOR password checks for one username are ever in flight or failed before the
/// lock, however many arrive at once: a burst of guesses cannot outrun the count while the first
/// ones are being hashed.
fn concurrent_allowance(failures: u64, factor: u32) -> u64 {
    u64::from(factor).saturating_sub(failures).max(1)
}

/// An attempt still counts as under way this long after it started (a request dropped by
/// SERVER.TIMEOUT never says how it ended).
const PENDING_FOR: Duration = Duration::from_secs(60);

/// The counters and their policy, built once at startup.
#[derive(Debug)]
pub struct BruteForce {
    /// `None` when `BRUTE_FORCE.ENABLED` is false.
    policy: Option<Policy>,
    key_prefix: String,
    store: Store,
    begin: redis::Script,
    finish: redis::Script,
    /// The counters in this process: all of them with `locmem://`, else while Redis is away
    /// (every instance then locks on its own counts, which still stops a guesser, instead of
    /// none).
    local: LocalStore,
}

/// One counter: its key in the store and how many failures lock it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Counter {
    key: String,
    factor: u32,
}

/// What starting an attempt found.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Begun {
    /// Locked (or too many attempts under way) for this long more: refuse without checking.
    Locked(Duration),
    Started,
    /// Started in this process (`locmem://`, or Redis is unavailable): it must finish here too.
    StartedLocally,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Failed,
    Succeeded,
    Abandoned,
}

/// Per counter (username, address), the failures and the lock a failure started.
type Locks = [Option<(u64, Duration)>; 2];

impl BruteForce {
    /// The `[BRUTE_FORCE]` policy of `settings`, counting in `store`.
    pub fn new(settings: &settings::Settings, store: Store) -> Self {
        let bf = &settings.brute_force;
        BruteForce {
            policy: bf.enabled.then_some(Policy {
                failure_factor: bf.failure_factor,
                address_failure_factor: bf.address_failure_factor,
                wait_increment: bf.wait_increment,
                max_wait: bf.max_wait,
                failure_reset_time: bf.failure_reset_time,
            }),
            key_prefix: settings.caches.key_prefix.clone(),
            store,
            begin: redis::Script::new(BEGIN),
            finish: redis::Script::new(FINISH),
            local: LocalStore::default(),
        }
    }

    /// Starts a password check for `username` (exactly as it will be looked up) from `client`
    /// (`api::request::client_address`): 429 while either is locked, else the attempt, under way.
    pub async fn begin<'a>(
        &'a self,
        metrics: &crate::metrics::Metrics,
        username: &str,
        client: &str,
    ) -> Result<Attempt<'a>, ApiError> {
        let Some(policy) = self.policy else {
            return Ok(Attempt::untracked(self));
        };
        let counters = self.counters(&policy, username, client);
        let id = uuid::Uuid::new_v4().simple().to_string();
        match self.start(&counters, &id, now()).await {
            Begun::Locked(wait) => {
                metrics.lockout_refused();
                Err(ApiError::LockedOut {
                    wait: whole_seconds(wait),
                })
            }
            begun @ (Begun::Started | Begun::StartedLocally) => Ok(Attempt {
                guard: self,
                policy,
                counters,
                id,
                username: username.to_owned(),
                client: client.to_owned(),
                locally: begun == Begun::StartedLocally,
            }),
        }
    }

    /// The username's counter and, unless turned off or unknown, the client address's.
    fn counters(&self, policy: &Policy, username: &str, client: &str) -> Vec<Counter> {
        // Hashed: the key's length is bounded whatever was typed, and no username (or password
        // typed into the username field) is stored in the cache in clear.
        let digest = hex::encode(Sha256::digest(username.as_bytes()));
        let mut counters = vec![Counter {
            key: format!("{}brute_force_user_{digest}", self.key_prefix),
            factor: policy.failure_factor,
        }];
        if let (Some(address), true) = (address_key(client), policy.address_failure_factor > 0) {
            counters.push(Counter {
                key: format!("{}brute_force_addr_{address}", self.key_prefix),
                factor: policy.address_failure_factor,
            });
        }
        counters
    }
}

/// The part of a client address that one client controls: an IPv4 address, or an IPv6 /64 (one
/// subscriber usually gets a whole /64, so counting single IPv6 addresses would count nothing).
/// `None` when the address is unknown (a unix-socket peer without a trusted proxy's header).
fn address_key(client: &str) -> Option<String> {
    match client.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_string()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(v4.to_string()),
            None => {
                let s = v6.segments();
                Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
            }
        },
    }
}

/// How a username appears in the logs: never as typed (people type their password into the
/// username field), but as `sha256:` and the first 8 hex digits of its SHA-256, the start of its
/// counter's key in the cache. An operator checks a name with `printf %s NAME | sha256sum`;
/// 32 bits tell the few names in a log apart while saying little about a password.
fn username_for_log(username: &str) -> String {
    let digest = hex::encode(Sha256::digest(username.as_bytes()));
    format!("sha256:{}", &digest[..8])
}

/// Retry-After's whole seconds, rounded up: a client that waits that long is let in.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// A password check under way; say how it ended.
#[must_use = "an attempt must be finished: succeeded, failed or abandoned"]
pub struct Attempt<'a> {
    guard: &'a BruteForce,
    policy: Policy,
    /// Empty when brute-force protection is off.
    counters: Vec<Counter>,
    id: String,
    username: String,
    client: String,
    /// Begun in this process's counters (`locmem://`, or Redis was away): finished there.
    locally: bool,
}

impl<'a> Attempt<'a> {
    fn untracked(guard: &'a BruteForce) -> Self {
        Attempt {
            guard,
            policy: Policy {
                failure_factor: 0,
                address_failure_factor: 0,
                wait_increment: Duration::ZERO,
                max_wait: Duration::ZERO,
                failure_reset_time: Duration::ZERO,
            },
            counters: Vec::new(),
            id: String::new(),
            username: String::new(),
            client: String::new(),
            locally: false,
        }
    }

    async fn finish(&self, outcome: Outcome) -> Locks {
        if self.counters.is_empty() {
            return [None, None];
        }
        self.guard
            .end(
                &self.counters,
                &self.id,
                outcome,
                &self.policy,
                now(),
                self.locally,
            )
            .await
    }

    /// Wrong password, unknown or inactive user: one failure more; a lock it starts is logged
    /// as a security event.
    pub async fn failed(self, metrics: &crate::metrics::Metrics) {
        let locks = self.finish(Outcome::Failed).await;
        // The username's counter is the first, the address's (if any) the second.
        for (i, lock) in locks.iter().enumerate() {
            let Some((failures, wait)) = *lock else {
                continue;
            };
            if i == 0 {
                metrics.lockout_started("username");
                log::warn!(
                    "brute force: username {} locked for {}s after {failures} failed password checks (last from {})",
                    username_for_log(&self.username),
                    whole_seconds(wait),
                    self.client,
                );
            } else {
                metrics.lockout_started("address");
                log::warn!(
                    "brute force: client address {} locked for {}s after {failures} failed password checks",
                    self.client,
                    whole_seconds(wait),
                );
            }
        }
    }

    /// The right password: the username's failures and lock are cleared (Keycloak's
    /// `successfulLogin`); the address keeps its failures (one account of one's own must not
    /// wipe the count of guesses at others).
    pub async fn succeeded(self) {
        self.finish(Outcome::Succeeded).await;
    }

    /// Neither success nor failure (the database was unreachable): nothing is counted.
    pub async fn abandoned(self) {
        self.finish(Outcome::Abandoned).await;
    }
}

/// One counter in this process.
#[derive(Debug, Clone, Default, PartialEq)]
struct Entry {
    failures: u64,
    /// When the failures are forgotten (FAILURE_RESET_TIME after the last one).
    expires: f64,
    locked_until: f64,
    /// Attempts under way: id and start.
    pending: Vec<(String, f64)>,
}

impl Entry {
    fn is_idle(&self, now: f64) -> bool {
        self.expires <= now && self.locked_until <= now && self.pending.is_empty()
    }
}

/// The counters of this process (`CACHES.URL = "locmem://"`, or while Redis is away). Times are
/// seconds since the epoch, passed in, so the tests choose the clock.
#[derive(Debug, Default)]
struct LocalStore {
    entries: Local<Entry>,
}

impl LocalStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.entries()
    }

    fn begin(&self, counters: &[Counter], id: &str, now: f64) -> Begun {
        let mut entries = self.entries.swept(|_, e| !e.is_idle(now));
        let stale = now - PENDING_FOR.as_secs_f64();
        let mut wait = 0.0_f64;
        for counter in counters {
            let Some(entry) = entries.get_mut(&counter.key) else {
                continue;
            };
            if entry.expires <= now {
                entry.failures = 0;
            }
            entry.pending.retain(|(_, started)| *started > stale);
            wait = wait.max(entry.locked_until - now);
            let under_way = entry.pending.len() as u64;
            if under_way >= concurrent_allowance(entry.failures, counter.factor) {
                wait = wait.max(1.0);
            }
        }
        if wait > 0.0 {
            return Begun::Locked(Duration::from_secs_f64(wait));
        }
        for counter in counters {
            let entry = entries.entry(counter.key.clone()).or_default();
            entry.pending.push((id.to_owned(), now));
        }
        Begun::Started
    }

    fn finish(
        &self,
        counters: &[Counter],
        id: &str,
        outcome: Outcome,
        policy: &Policy,
        now: f64,
    ) -> Locks {
        let mut entries = self.entries();
        let mut locks = [None, None];
        for (i, (counter, lock)) in counters.iter().zip(locks.iter_mut()).enumerate() {
            let entry = entries.entry(counter.key.clone()).or_default();
            entry.pending.retain(|(pending, _)| pending != id);
            match outcome {
                Outcome::Failed => {
                    if entry.expires <= now {
                        entry.failures = 0;
                    }
                    entry.failures += 1;
                    entry.expires = now + policy.failure_reset_time.as_secs_f64();
                    let wait = policy.wait_after(entry.failures, counter.factor);
                    if !wait.is_zero() {
                        entry.locked_until = now + wait.as_secs_f64();
                        *lock = Some((entry.failures, wait));
                    }
                }
                // The username's counter is the first.
                Outcome::Succeeded if i == 0 => {
                    entry.failures = 0;
                    entry.locked_until = 0.0;
                }
                Outcome::Succeeded | Outcome::Abandoned => {}
            }
        }
        locks
    }
}

/// Starting an attempt, atomically on every instance. KEYS: per counter its failures, pending and
/// lock keys; ARGV: now (s), PENDING_FOR (s), the attempt's id, then each counter's factor.
/// Refuses while a lock lives or while as many attempts as the counter has failures left (at
/// least one) are under way; else records the attempt as under way (a sorted set by start
/// time, so that attempts never finished drop out). Returns {0, wait ms} or {1}.
const BEGIN: &str = r#"
local now, pending_for = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for i = 1, #KEYS, 3 do
  wait = math.max(wait, redis.call('PTTL', KEYS[i + 2]))
  local factor = tonumber(ARGV[3 + (i + 2) / 3])
  local failures = tonumber(redis.call('GET', KEYS[i]) or '0')
  redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', now - pending_for)
  if redis.call('ZCARD', KEYS[i + 1]) >= math.max(1, factor - failures) then
    wait = math.max(wait, 1000)
  end
end
if wait > 0 then return {0, wait} end
for i = 1, #KEYS, 3 do
  redis.call('ZADD', KEYS[i + 1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[i + 1], math.ceil(pending_for * 1000))
end
return {1}
"#;

/// Finishing an attempt. KEYS as for BEGIN; ARGV: the attempt's id, its outcome ("failed",
/// "succeeded", "abandoned"), FAILURE_RESET_TIME, WAIT_INCREMENT and MAX_WAIT (ms), then each
/// counter's factor. A failure counts (the count expiring FAILURE_RESET_TIME after it) and sets
/// the lock it earns; a success clears the first counter (the username's). Returns, per counter,
/// the failures and the lock set (ms, 0 for none).
const FINISH: &str = r#"
local reset, inc, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
for i = 1, #KEYS, 3 do
  redis.call('ZREM', KEYS[i + 1], ARGV[1])
  local factor = tonumber(ARGV[5 + (i + 2) / 3])
  local n, lock = 0, 0
  if ARGV[2] == 'failed' then
    n = redis.call('INCR', KEYS[i])
    redis.call('PEXPIRE', KEYS[i], reset)
    if factor > 0 then lock = math.min(max, inc * math.floor(n / factor)) end
    if lock > 0 then
      redis.call('SET', KEYS[i + 2], '1', 'PX', string.format('%d', lock))
    end
  elseif ARGV[2] == 'succeeded' and i == 1 then
    redis.call('DEL', KEYS[i], KEYS[i + 2])
  end
  table.insert(out, n)
  table.insert(out, lock)
end
return out
"#;

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn keys(invocation: &mut redis::ScriptInvocation<'_>, counters: &[Counter]) {
    for counter in counters {
        invocation
            .key(&counter.key)
            .key(format!("{}_pending", counter.key))
            .key(format!("{}_lock", counter.key));
    }
}

impl BruteForce {
    /// Starts an attempt in the shared store or, with `locmem://` and while Redis is
    /// unavailable, in this process.
    async fn start(&self, counters: &[Counter], id: &str, now: f64) -> Begun {
        let shared = self
            .store
            .shared(|conn| self.try_begin(conn, counters, id, now))
            .await;
        match shared {
            Some(begun) => begun,
            None => match self.local.begin(counters, id, now) {
                Begun::Started => Begun::StartedLocally,
                other => other,
            },
        }
    }

    async fn try_begin(
        &self,
        mut conn: redis::aio::ConnectionManager,
        counters: &[Counter],
        id: &str,
        now: f64,
    ) -> redis::RedisResult<Begun> {
        let mut invocation = self.begin.prepare_invoke();
        keys(&mut invocation, counters);
        invocation
            .arg(format!("{now:.6}"))
            .arg(PENDING_FOR.as_secs())
            .arg(id);
        for counter in counters {
            invocation.arg(counter.factor);
        }
        let reply: Vec<i64> = invocation.invoke_async(&mut conn).await?;
        Ok(match reply.as_slice() {
            [0, wait, ..] => {
                Begun::Locked(Duration::from_millis(u64::try_from(*wait).unwrap_or(0)))
            }
            _ => Begun::Started,
        })
    }

    /// Finishes an attempt where it began. One begun in Redis that cannot be finished there
    /// (Redis went away meanwhile) is recorded in this process: its failure still counts here.
    async fn end(
        &self,
        counters: &[Counter],
        id: &str,
        outcome: Outcome,
        policy: &Policy,
        now: f64,
        locally: bool,
    ) -> Locks {
        if !locally {
            let shared = self
                .store
                .shared(|conn| self.try_finish(conn, counters, id, outcome, policy))
                .await;
            if let Some(locks) = shared {
                return locks;
            }
        }
        self.local.finish(counters, id, outcome, policy, now)
    }

    async fn try_finish(
        &self,
        mut conn: redis::aio::ConnectionManager,
        counters: &[Counter],
        id: &str,
        outcome: Outcome,
        policy: &Policy,
    ) -> redis::RedisResult<Locks> {
        let mut invocation = self.finish.prepare_invoke();
        keys(&mut invocation, counters);
        let outcome = match outcome {
            Outcome::Failed => "failed",
            Outcome::Succeeded => "succeeded",
            Outcome::Abandoned => "abandoned",
        };
        invocation
            .arg(id)
            .arg(outcome)
            .arg(millis(policy.failure_reset_time))
            .arg(millis(policy.wait_increment))
            .arg(millis(policy.max_wait));
        for counter in counters {
            invocation.arg(counter.factor);
        }
        let reply: Vec<i64> = invocation.invoke_async(&mut conn).await?;
        Ok(parse_locks(&reply))
    }
}

/// FINISH's reply: per counter (failures, lock ms).
fn parse_locks(reply: &[i64]) -> Locks {
    let mut locks = [None, None];
    for (slot, pair) in locks.iter_mut().zip(reply.chunks(2)) {
        if let [count, lock] = pair {
            if *lock > 0 {
                *slot = Some((
                    u64::try_from(*count).unwrap_or(0),
                    Duration::from_millis(u64::try_from(*lock).unwrap_or(0)),
                ));
            }
        }
    }
    locks
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn policy() -> Policy {
        Policy {
            failure_factor: 3,
            address_failure_factor: 4,
            wait_increment: MIN,
            max_wait: 15 * MIN,
            failure_reset_time: Duration::from_secs(12 * 3600),
        }
    }

    fn counters(with_address: bool) -> Vec<Counter> {
        let mut c = vec![Counter {
            key: "brute_force_user_x".into(),
            factor: 3,
        }];
        if with_address {
            c.push(Counter {
                key: "brute_force_addr_1.2.3.4".into(),
                factor: 4,
            });
        }
        c
    }

    /// One whole attempt at `now`: refused with its wait, or its outcome's locks.
    fn attempt(
        store: &LocalStore,
        c: &[Counter],
        now: f64,
        outcome: Outcome,
    ) -> Result<Locks, u64> {
        let id = format!("{now}");
        match store.begin(c, &id, now) {
            Begun::Locked(wait) => Err(whole_seconds(wait)),
            Begun::Started | Begun::StartedLocally => {
                Ok(store.finish(c, &id, outcome, &policy(), now))
            }
        }
    }

    #[test]
    fn keycloak_wait_grows_by_one_increment_every_factor_failures() {
        let p = policy();
        let waits: Vec<u64> = (0..=10).map(|n| p.wait_after(n, 3).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 60, 60, 60, 120, 120, 120, 180, 180]);
        // Capped at MAX_WAIT, without overflow for absurd counts.
        assert_eq!(p.wait_after(1_000, 3), 15 * MIN);
        assert_eq!(p.wait_after(u64::MAX, 1), 15 * MIN);
        // A factor of 0 is a counter that is off.
        assert_eq!(p.wait_after(100, 0), Duration::ZERO);
    }

    #[test]
    fn usernames_are_logged_as_a_short_hash_of_the_counter_key() {
        let typed = "Tr0ub4dor&3 typed in the wrong box";
        let shown = username_for_log(typed);
        assert_eq!(shown.len(), "sha256:".len() + 8);
        assert!(!shown.contains("Tr0ub"), "{shown}");
        let guard = BruteForce::new(
            &settings::Settings::from_sources(
                None,
                &[(
                    "SECRET_KEY".to_owned(),
                    "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z".to_owned(),
                )],
            )
            .expect("settings"),
            Store::default(),
        );
        let key = &guard.counters(&policy(), typed, "")[0].key;
        let prefix = format!("brute_force_user_{}", &shown["sha256:".len()..]);
        assert!(key.contains(&prefix), "{key} does not start with {prefix}");
        // `printf %s alice | sha256sum` starts 2bd806c9.
        assert_eq!(username_for_log("alice"), "sha256:2bd806c9");
    }

    #[test]
    fn attempts_allowed_at_once() {
        assert_eq!(concurrent_allowance(0, 5), 5);
        assert_eq!(concurrent_allowance(1, 5), 4);
        assert_eq!(concurrent_allowance(4, 5), 1);
        assert_eq!(concurrent_allowance(9, 5), 1);
    }

    #[test]
    fn locks_after_the_factor_and_grows_as_failures_go_on() {
        let store = LocalStore::default();
        let c = counters(false);
        let fail = |now| attempt(&store, &c, now, Outcome::Failed);
        assert_eq!(fail(100.0), Ok([None, None]));
        assert_eq!(fail(101.0), Ok([None, None]));
        assert_eq!(fail(102.0), Ok([Some((3, MIN)), None]));
        assert_eq!(fail(132.0), Err(30));
        // Refusals do not count: after the minute, the fourth failure locks again for one
        // increment, and the sixth for two.
        assert_eq!(fail(162.0), Ok([Some((4, MIN)), None]));
        assert_eq!(fail(222.0), Ok([Some((5, MIN)), None]));
        assert_eq!(fail(282.0), Ok([Some((6, 2 * MIN)), None]));
        assert_eq!(fail(401.0), Err(1));
        assert_eq!(fail(402.0), Ok([Some((7, 2 * MIN)), None]));
    }

    #[test]
    fn counts_start_again_after_the_reset_time() {
        let store = LocalStore::default();
        let c = counters(false);
        let fail = |now| attempt(&store, &c, now, Outcome::Failed);
        let _ = fail(0.0);
        let _ = fail(1.0);
        // Twelve hours after the last failure the two are forgotten.
        let later = 1.0 + 12.0 * 3600.0;
        assert_eq!(fail(later), Ok([None, None]));
        assert_eq!(fail(later + 1.0), Ok([None, None]));
        assert!(matches!(fail(later + 2.0), Ok([Some((3, _)), None])));
    }

    #[test]
    fn success_clears_the_username_but_not_the_address() {
        let store = LocalStore::default();
        let c = counters(true);
        for t in 0..2 {
            let _ = attempt(&store, &c, f64::from(t), Outcome::Failed);
        }
        assert_eq!(
            attempt(&store, &c, 2.0, Outcome::Succeeded),
            Ok([None, None])
        );
        let entries = store.entries();
        assert_eq!(entries[&c[0].key].failures, 0);
        assert_eq!(entries[&c[1].key].failures, 2);
        assert!(entries.values().all(|e| e.pending.is_empty()));
    }

    #[test]
    fn abandoned_attempts_count_nothing() {
        let store = LocalStore::default();
        let c = counters(true);
        for t in 0..5 {
            assert_eq!(
                attempt(&store, &c, f64::from(t), Outcome::Abandoned),
                Ok([None, None])
            );
        }
        assert!(store.entries().values().all(|e| e.failures == 0));
    }

    #[test]
    fn only_the_failures_left_may_run_at_once() {
        let store = LocalStore::default();
        let c = counters(false);
        // Without failures, the factor (three) at once: in flight counts as failed would.
        for i in 0..3 {
            assert_eq!(store.begin(&c, &format!("a{i}"), 0.0), Begun::Started);
        }
        assert_eq!(
            store.begin(&c, "a3", 0.0),
            Begun::Locked(Duration::from_secs(1))
        );
        for i in 0..3 {
            store.finish(&c, &format!("a{i}"), Outcome::Succeeded, &policy(), 1.0);
        }
        let _ = attempt(&store, &c, 2.0, Outcome::Failed);
        // One failure of three: two more at once, and the third waits.
        assert_eq!(store.begin(&c, "b1", 3.0), Begun::Started);
        assert_eq!(store.begin(&c, "b2", 3.0), Begun::Started);
        assert_eq!(
            store.begin(&c, "b3", 3.0),
            Begun::Locked(Duration::from_secs(1))
        );
        // An attempt that never finishes stops counting after PENDING_FOR.
        store.finish(&c, "b1", Outcome::Abandoned, &policy(), 4.0);
        let _ = attempt(&store, &c, 5.0, Outcome::Failed);
        assert_eq!(
            store.begin(&c, "b4", 6.0),
            Begun::Locked(Duration::from_secs(1))
        );
        assert_eq!(store.begin(&c, "b4", 64.0), Begun::Started);
    }

    #[test]
    fn addresses_count_per_client() {
        assert_eq!(address_key("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(
            address_key("::ffff:203.0.113.7").as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1"),
            address_key("2001:db8:1:2:bbbb::2")
        );
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_ne!(
            address_key("2001:db8:1:2::1"),
            address_key("2001:db8:1:3::1")
        );
        assert_eq!(address_key(""), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(Duration::from_millis(59_001)), 60);
        assert_eq!(whole_seconds(Duration::from_secs(60)), 60);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn redis_replies() {
        assert_eq!(parse_locks(&[2, 0, 50, 60_000]), [None, Some((50, MIN))]);
        assert_eq!(parse_locks(&[1, 0]), [None, None]);
    }
}
