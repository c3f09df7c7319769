//! What every request crosses, outermost first, as one layer (`stack`): gunicorn's request
//! limits, the proxy (client address and scheme), the request id, metrics and the access line,
//! the request timeout, and the security headers on the answer.

pub mod access_log;
pub mod headers;
pub mod metrics;
pub mod proxy;
pub mod request_id;
pub mod request_limits;
pub mod stack;
pub mod timeout;
