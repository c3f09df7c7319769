//! What the token views and authentication share, built once at startup: settings, the token
//! backend, the database pool and the password hasher.

use std::sync::Arc;

use actix_web::web;
use settings::{Settings, SimpleJwt};
use users::{DbConnection, PasswordHasher, Pool};

use crate::api::ApiError;
use crate::backend::{KeyError, TokenBackend};
use crate::tokens::Tokens;

pub struct AuthState {
    pub settings: Arc<Settings>,
    pub backend: TokenBackend,
    pub pool: Pool,
    pub hasher: PasswordHasher,
}

impl AuthState {
    pub fn new(
        settings: Arc<Settings>,
        pool: Pool,
        hasher: PasswordHasher,
    ) -> Result<Self, KeyError> {
        let backend = TokenBackend::from_settings(&settings.simple_jwt)?;
        Ok(AuthState {
            settings,
            backend,
            pool,
            hasher,
        })
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

    /// The `WWW-Authenticate` value of every 401: the first header type, realm "api" (simplejwt's).
    pub fn challenge(&self) -> String {
        let kind = self
            .jwt()
            .auth_header_types
            .first()
            .map(String::as_str)
            .unwrap_or("Bearer");
        format!("{kind} realm=\"api\"")
    }

    /// Runs `f` with a pooled connection on the blocking pool (diesel never runs on the async
    /// workers). An unreachable database is a 503 after the pool's connection timeout.
    pub async fn with_conn<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = users::db::get(&pool)?;
            f(&mut conn)
        })
        .await?
    }

    /// Checks a password on the blocking pool (bcrypt takes ~0.25 s of CPU by design).
    pub async fn check_password(
        &self,
        raw: String,
        encoded: Option<String>,
    ) -> Result<bool, ApiError> {
        let hasher = self.hasher.clone();
        Ok(web::block(move || hasher.check_password(&raw, encoded.as_deref())).await?)
    }
}
