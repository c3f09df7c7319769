//! Startup: settings → state (pool, hasher, token backend) → an actix-web server on given sockets.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_http::body::{BoxBody, MessageBody};
use actix_http::error::DispatchError;
use actix_http::{HttpMessage as _, HttpService, KeepAlive, Protocol, Request, Response};
use actix_rt::net::{TcpStream, UnixStream};
use actix_server::{GracefulShutdownSignal, Server};
use actix_service::{
    fn_service, map_config, IntoServiceFactory as _, Service, ServiceFactory,
    ServiceFactoryExt as _,
};
use actix_web::dev::{AppConfig, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpResponse};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::middleware::access_log::AccessLog;
use crate::prefork::listener::Listener;

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
    Key(#[from] auth::tokens::backend::KeyError),
    #[error("password hasher: {0}")]
    Hasher(#[from] users::password::PasswordError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Listen(#[from] crate::prefork::listener::ListenError),
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
    /// binary's worker processes handle signals themselves (see `crate::prefork::worker`).
    pub handle_signals: bool,
    /// Each request thread's event loop is watched by the worker's heartbeat (`crate::prefork::heartbeat`).
    pub heartbeat: Option<Arc<crate::prefork::heartbeat::Heartbeat>>,
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
///
/// Built as actix-web's `HttpServer::listen`/`listen_uds` build it (actix-server running
/// actix-http's service, with the same defaults), plus the one step `HttpServer` does not let us
/// replace: the answer to `Expect: 100-continue` ([`ExpectBody`]). Two of the calls it copies
/// are hidden from actix's docs (`AppConfig::__priv_test_new`, the builder's
/// `graceful_shutdown_signal`): check this function against `HttpServer::listen` when actix-web
/// is upgraded (Cargo.lock pins 4.18 / actix-http 3.20 / actix-server 2.10).
pub fn serve_with(
    listeners: Vec<Listener>,
    state: web::Data<AuthState>,
    options: ServeOptions,
) -> Result<Server, StartupError> {
    let server_settings = &state.settings.server;
    let limit = BodyLimit(server_settings.max_body_size);
    let head_limits = crate::middleware::request_limits::RequestLimits::new(server_settings);
    let timeout = server_settings.timeout;
    let keep_alive = keep_alive_setting(server_settings.keep_alive);
    let graceful = server_settings.graceful_timeout;
    let trusted: Arc<[settings::TrustedProxy]> = server_settings.trusted_proxies.clone().into();
    let access_log = Arc::new(options.access_log);
    let pool_size = state.settings.databases.pool_size;
    let heartbeat = options.heartbeat;
    let app = move || {
        // Called on each request thread's loop (twice per listener: the app and the expect
        // step each build one; a second watch of the same loop is harmless).
        if let Some(heartbeat) = &heartbeat {
            heartbeat.watch_this_loop();
        }
        // Per worker thread: the middleware closure holds a cheap `Rc`.
        let stack = Rc::new(crate::middleware::stack::Stack {
            limits: head_limits,
            trusted: trusted.iter().copied().collect(),
            access_log: Arc::clone(&access_log),
            timeout,
            state: state.clone(),
            routes: crate::middleware::metrics::RouteCache::default(),
        });
        App::new()
            .app_data(state.clone())
            .app_data(limit)
            // Every middleware in one layer (`crate::middleware::stack`): gunicorn's limits, the
            // proxy, the request id, metrics, the access line, the timeout, the common headers.
            .wrap(from_fn(move |req, next| {
                crate::middleware::stack::middleware(Rc::clone(&stack), req, next)
            }))
            .configure(auth::configure)
            .configure(crate::app::health::configure)
            .configure(crate::app::observe::configure)
            .default_service(web::to(not_found))
    };
    let mut builder = Server::build()
        .workers(options.threads.max(1))
        .worker_max_blocking_threads(blocking_threads(pool_size))
        // actix counts whole seconds; round up so a short graceful timeout is not zero.
        .shutdown_timeout(graceful.as_secs() + u64::from(graceful.subsec_nanos() > 0));
    if !options.handle_signals {
        builder = builder.disable_signals();
    }
    let shutdown = builder.graceful_shutdown_signal();
    let http = Http {
        keep_alive,
        shutdown,
        body_limit: limit.0,
    };
    for listener in listeners {
        let app = app.clone();
        let http = http.clone();
        builder = match listener {
            Listener::Tcp(l) => {
                let addr = l.local_addr()?;
                builder.listen(format!("actix-web-service-{addr}"), l, move || {
                    let config = AppConfig::__priv_test_new(false, addr.to_string(), addr);
                    fn_service(|io: TcpStream| async move {
                        let peer = io.peer_addr().ok();
                        Ok::<_, DispatchError>((io, Protocol::Http1, peer))
                    })
                    .and_then(http.service(&app, config, Some(addr)))
                })?
            }
            Listener::Unix(l) => {
                let name = format!("actix-web-service-{:?}", l.local_addr()?);
                builder.listen_uds(name, l, move || {
                    // What `HttpServer::listen_uds` gives the app for a unix socket.
                    let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
                    let config = AppConfig::__priv_test_new(false, addr.to_string(), addr);
                    fn_service(|io: UnixStream| async move {
                        Ok::<_, DispatchError>((io, Protocol::Http1, None))
                    })
                    .and_then(http.service(&app, config, None))
                })?
            }
        };
    }
    Ok(builder.run())
}

/// What each listener's HTTP service is built with.
#[derive(Clone)]
struct Http {
    keep_alive: KeepAlive,
    shutdown: GracefulShutdownSignal,
    body_limit: usize,
}

impl Http {
    /// One worker thread's HTTP/1 service for one listener, with `HttpServer`'s settings: its
    /// client request (5 s) and disconnect (1 s) timeouts, half-closed connections allowed, idle
    /// keep-alive connections closed when a graceful stop begins.
    fn service<T, F, A, B>(
        &self,
        app: &F,
        config: AppConfig,
        local_addr: Option<SocketAddr>,
    ) -> impl ServiceFactory<
        (T, Protocol, Option<SocketAddr>),
        Config = (),
        Response = (),
        Error = DispatchError,
        InitError = (),
    >
    where
        T: AsyncRead + AsyncWrite + Unpin + 'static,
        F: Fn() -> App<A>,
        A: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        let app_service = |app: App<A>| {
            let config = config.clone();
            map_config(
                app.into_factory()
                    .map_err(|err: actix_web::Error| Response::from(err.error_response())),
                move |()| config.clone(),
            )
        };
        let shutdown = self.shutdown.clone();
        let mut builder = HttpService::build()
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .keep_alive(self.keep_alive)
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1_allow_half_closed(true)
            // Counts the open connections, for a graceful stop (`crate::prefork::drain::until_closed`).
            .on_connect_ext(|_, extensions| {
                extensions.insert(crate::prefork::drain::Open::counted());
            });
        if let Some(addr) = local_addr {
            builder = builder.local_addr(addr);
        }
        builder
            .expect(ExpectBody {
                app: app_service(app()),
                limit: self.body_limit,
            })
            .finish(app_service(app()))
    }
}

/// A future on one thread's loop.
type Local<T> = Pin<Box<dyn Future<Output = T>>>;

/// The `Expect: 100-continue` step (actix-http runs it on the request head, before it sends
/// `100 Continue`): a request whose Content-Length is over `MAX_BODY_SIZE` goes straight to the
/// app, whose body parser refuses it from that header alone, and the answer (the same 413, logged
/// and with the usual headers) replaces `100 Continue`, so the client never sends the body.
/// Any other request continues as before.
struct ExpectBody<S> {
    app: S,
    limit: usize,
}

impl<S, B> ServiceFactory<Request> for ExpectBody<S>
where
    S: ServiceFactory<
        Request,
        Config = (),
        Response = ServiceResponse<B>,
        Error = Response<BoxBody>,
    >,
    S::Service: 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = Request;
    type Error = Response<BoxBody>;
    type Config = ();
    type Service = ExpectBodyService<S::Service>;
    type InitError = S::InitError;
    type Future = Local<Result<Self::Service, S::InitError>>;

    fn new_service(&self, (): ()) -> Self::Future {
        let app = self.app.new_service(());
        let limit = self.limit;
        Box::pin(async move {
            Ok(ExpectBodyService {
                app: Rc::new(app.await?),
                limit,
            })
        })
    }
}

struct ExpectBodyService<S> {
    app: Rc<S>,
    limit: usize,
}

impl<S, B> Service<Request> for ExpectBodyService<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = Response<BoxBody>> + 'static,
    B: MessageBody + 'static,
{
    type Response = Request;
    type Error = Response<BoxBody>;
    type Future = Local<Result<Request, Response<BoxBody>>>;

    actix_service::forward_ready!(app);

    fn call(&self, req: Request) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let limit = u64::try_from(self.limit).unwrap_or(u64::MAX);
        if declared.is_none_or(|n| n <= limit) {
            return Box::pin(std::future::ready(Ok(req)));
        }
        let app = Rc::clone(&self.app);
        Box::pin(async move {
            Err(match app.call(req).await {
                Ok(res) => Response::from(res).map_into_boxed_body(),
                Err(res) => res,
            })
        })
    }
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
fn keep_alive_setting(idle: Duration) -> KeepAlive {
    if idle.is_zero() {
        KeepAlive::Disabled
    } else {
        KeepAlive::Timeout(idle)
    }
}
