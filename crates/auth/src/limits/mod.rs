//! What holds a client back: DRF's rate throttles and the brute-force lockout of password checks,
//! each a policy and a Lua script over the one counter store (`store`: in this process, or in
//! Redis through `redis_cache`'s one bounded connection and breaker).

pub mod brute_force;
pub mod redis_cache;
pub mod store;
pub mod throttle;
