//! Startup: settings → state (pool, hasher, token backend) → an actix-web server on given sockets.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, Logger};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

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

/// Serves the app on already-bound listeners (tests bind port 0 and read the port back).
pub fn serve(
    listeners: Vec<TcpListener>,
    state: web::Data<AuthState>,
    workers: usize,
) -> Result<Server, StartupError> {
    let limit = BodyLimit(state.settings.server.max_body_size);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(limit)
            .wrap(
                ErrorHandlers::new()
                    .handler(StatusCode::UNAUTHORIZED, auth::challenge::add_challenge),
            )
            // Django's SecurityMiddleware and XFrameOptionsMiddleware defaults.
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin")),
            )
            // The request line, never headers: an Authorization header must not reach a log.
            .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
            .configure(auth::configure)
            .configure(crate::health::configure)
            .default_service(web::to(not_found))
    })
    .workers(workers.max(1));
    for listener in listeners {
        server = server.listen(listener)?;
    }
    Ok(server.run())
}
