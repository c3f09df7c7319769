//! Startup: settings → state (pool, hasher, token backend) → an actix-web server on given sockets.

use std::net::TcpListener;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use crate::access_log::AccessLog;
use crate::listener::Listener;

use auth::api::data::BodyLimit;
use auth::{ApiError, AuthState};
use settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Database(#[from] users::DbError),
    #[error(transparent)]
    Key(#[from] auth::backend::KeyError),
    #[error("password hasher: {0}")]
    Hasher(#[from] users::password::PasswordError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Listen(#[from] crate::listener::ListenError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Everything built once and shared by every worker: pool, hasher (with its dummy hash), backend.
pub fn build_state(settings: Arc<Settings>) -> Result<web::Data<AuthState>, StartupError> {
    let pool = users::db::build_pool(&settings.databases)?;
    let hasher = users::PasswordHasher::new(settings.passwords.bcrypt_rounds)?;
    Ok(web::Data::new(AuthState::new(settings, pool, hasher)?))
}

/// Unknown paths (including a missing trailing slash) answer DRF's JSON 404, never HTML.
async fn not_found(_: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// How [`serve_with`] runs the app, beyond what the settings say.
#[derive(Debug)]
pub struct ServeOptions {
    /// Request-handling threads (actix workers) in this process.
    pub threads: usize,
    pub access_log: AccessLog,
    /// Let actix handle SIGTERM (graceful), SIGINT and SIGQUIT (fast) itself. The `server`
    /// binary's worker processes handle signals themselves (see `crate::worker`).
    pub handle_signals: bool,
    /// Each request thread's event loop is watched by the worker's heartbeat (`crate::heartbeat`).
    pub heartbeat: Option<Arc<crate::heartbeat::Heartbeat>>,
}

/// Serves the app on already-bound listeners (tests bind port 0 and read the port back), with
/// `workers` threads, actix's own signal handling, and the access log through the `log` crate.
pub fn serve(
    listeners: Vec<TcpListener>,
    state: web::Data<AuthState>,
    workers: usize,
) -> Result<Server, StartupError> {
    let options = ServeOptions {
        threads: workers,
        access_log: AccessLog::Log,
        handle_signals: true,
        heartbeat: None,
    };
    serve_with(
        listeners.into_iter().map(Listener::Tcp).collect(),
        state,
        options,
    )
}

/// Serves the app on TCP or unix listeners, with timeouts, keep-alive, trusted proxies and body
/// limit from `state.settings.server`.
pub fn serve_with(
    listeners: Vec<Listener>,
    state: web::Data<AuthState>,
    options: ServeOptions,
) -> Result<Server, StartupError> {
    let server_settings = &state.settings.server;
    let limit = BodyLimit(server_settings.max_body_size);
    let head_limits = crate::limits::RequestLimits::new(server_settings);
    let timeout = server_settings.timeout;
    let keep_alive = server_settings.keep_alive;
    let graceful = server_settings.graceful_timeout;
    let trusted: Arc<[settings::TrustedProxy]> = server_settings.trusted_proxies.clone().into();
    let access_log = Arc::new(options.access_log);
    let pool_size = state.settings.databases.pool_size;
    let heartbeat = options.heartbeat;
    let mut server = HttpServer::new(move || {
        // Called on each request thread's loop (once per listener: a second watch of the same
        // loop is harmless).
        if let Some(heartbeat) = &heartbeat {
            heartbeat.watch_this_loop();
        }
        // Per worker thread: the middleware closures hold cheap `Rc`s.
        let trusted: Rc<[settings::TrustedProxy]> = trusted.iter().copied().collect();
        let access_log = Arc::clone(&access_log);
        let routes = Rc::new(crate::metrics::RouteCache::default());
        App::new()
            .app_data(state.clone())
            .app_data(limit)
            // Innermost: the access line below records its 503.
            .wrap(from_fn(move |req, next| {
                crate::timeout::middleware(timeout, req, next)
            }))
            // gunicorn's LIMIT_REQUEST_*: measured outermost, answered here (logged, with the
            // common headers), before routing and before the body is read.
            .wrap(from_fn(crate::limits::refuse))
            // The request line, never headers: an Authorization header must not reach a log.
            .wrap(from_fn(move |req, next| {
                crate::access_log::middleware(Arc::clone(&access_log), req, next)
            }))
            // Outside the access log, so its line can carry the request id; times every answer
            // and adds the headers every answer carries (`crate::headers`).
            .wrap(from_fn(move |req, next| {
                crate::observe::middleware(Rc::clone(&routes), req, next)
            }))
            // The client address is known before anything logs it.
            .wrap(from_fn(move |req, next| {
                crate::proxy::middleware(Rc::clone(&trusted), req, next)
            }))
            // Outermost: the request head as the client sent it, before `proxy` rewrites it.
            .wrap(from_fn(move |req, next| {
                crate::limits::measure(head_limits, req, next)
            }))
            .configure(auth::configure)
            .configure(crate::health::configure)
            .configure(crate::observe::configure)
            .default_service(web::to(not_found))
    })
    .workers(options.threads.max(1))
    .worker_max_blocking_threads(blocking_threads(pool_size))
    .keep_alive(keep_alive_setting(keep_alive))
    // actix counts whole seconds; round up so a short graceful timeout is not zero.
    .shutdown_timeout(graceful.as_secs() + u64::from(graceful.subsec_nanos() > 0));
    if !options.handle_signals {
        server = server.disable_signals();
    }
    for listener in listeners {
        server = match listener {
            Listener::Tcp(l) => server.listen(l)?,
            Listener::Unix(l) => server.listen_uds(l)?,
        };
    }
    Ok(server.run())
}

/// Blocking-pool threads per request thread: enough for every pooled database connection plus a
/// password hash per core (`AuthState::hash` allows no more at once). actix's default, 512 ÷
/// cores, lets a burst of requests start hundreds of threads that would only wait for a pooled
/// connection (a refresh run left 36 threads per worker process; 19 with this bound). Work
/// beyond the bound waits in the pool's queue instead, under the request TIMEOUT.
fn blocking_threads(pool_size: u32) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    usize::try_from(pool_size)
        .unwrap_or(usize::MAX)
        .saturating_add(cores)
}

/// `KEEP_ALIVE = 0` closes each connection after its response, as gunicorn's `--keep-alive 0`.
fn keep_alive_setting(idle: Duration) -> actix_web::http::KeepAlive {
    if idle.is_zero() {
        actix_web::http::KeepAlive::Disabled
    } else {
        actix_web::http::KeepAlive::Timeout(idle)
    }
}
