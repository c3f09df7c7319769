//! What holds a client back: DRF's rate throttles and the brute-force lockout of password checks.

pub mod brute_force;
pub mod redis_cache;
pub mod throttle;
