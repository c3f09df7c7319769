//! The database side of simplejwt and its token_blacklist app: outstanding and blacklisted
//! tokens, token families (reuse detection), ending a user's sessions, and the user lookup with
//! its cache.

pub mod blacklist;
pub mod lookup;
pub mod reuse;
pub mod sessions;
pub mod user_cache;
