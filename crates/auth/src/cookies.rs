//! dj-rest-auth's JWT cookie transport (`REST_AUTH.JWT_AUTH_*`): the `Set-Cookie` headers that
//! carry the tokens and the CSRF cookie, the expired ones that clear them, reading a cookie back
//! from a request, and what the obtain, refresh and logout views answer with cookies on.
//!
//! Written by hand rather than with actix's `cookies` feature: the values are JWTs and CSRF
//! tokens (base64url and alphanumerics, never quoted), and the attributes are a fixed few.

use std::time::Duration;

use actix_web::http::header::{HeaderValue, COOKIE, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Map, Value};
use settings::{RestAuth, SimpleJwt};

use crate::api::{ApiError, RequestData};
use crate::csrf;
use crate::service::{self, Pair, Refreshed};
use crate::state::AuthState;

/// Django's `CSRF_COOKIE_NAME`: scripts read it and send it back as `X-CSRFToken`.
pub const CSRF_COOKIE: &str = "csrftoken";
/// Django's `CSRF_COOKIE_AGE`: a year, in seconds.
const CSRF_COOKIE_AGE: Duration = Duration::from_secs(31_449_600);
/// Django's CSRF secrets: 32 ASCII letters and digits.
pub const CSRF_SECRET_LENGTH: usize = 32;
/// What Django's `delete_cookie` writes.
const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

/// The value of cookie `name` in the request, if present and not empty. With several cookies of
/// one name (a sibling subdomain can plant one), the first wins: browsers send the one with the
/// most specific path first.
pub fn read(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// A new CSRF secret, as Django's `_get_new_csrf_string`.
pub fn new_csrf_secret() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), CSRF_SECRET_LENGTH)
}

/// TokenObtainPairView with dj-rest-auth's cookies: the access and refresh cookies, a new CSRF
/// secret (Django rotates it at login), and with an HttpOnly refresh cookie `"refresh": ""` in
/// the body, as dj-rest-auth's LoginView: a script must not be able to read it.
pub fn pair_response(state: &AuthState, pair: Pair) -> Result<HttpResponse, ApiError> {
    let ra = &state.settings.rest_auth;
    let mut jar = Jar::new(ra, state.jwt());
    jar.access(&pair.access).refresh(&pair.refresh);
    if ra.uses_cookies() && ra.jwt_auth_cookie_use_csrf {
        jar.csrf(&new_csrf_secret());
    }
    let mut body = Map::new();
    body.insert("refresh".into(), json!(pair.refresh));
    body.insert("access".into(), json!(pair.access));
    if ra.jwt_auth_refresh_cookie.is_some() && ra.jwt_auth_httponly {
        body.insert("refresh".into(), json!(""));
    }
    if ra.jwt_auth_return_expiration {
        let jwt = state.jwt();
        body.insert(
            "access_expiration".into(),
            expiration(jwt.access_token_lifetime),
        );
        body.insert(
            "refresh_expiration".into(),
            expiration(jwt.refresh_token_lifetime),
        );
    }
    let mut res = HttpResponse::Ok().json(Value::Object(body));
    jar.apply(&mut res)?;
    Ok(res)
}

/// dj-rest-auth's CookieTokenRefreshSerializer: with a refresh cookie configured and no
/// `refresh` in the body (or an empty one), the cookie's token, which (with
/// JWT_AUTH_COOKIE_USE_CSRF) must come with a passing CSRF check. `None`: read the body.
pub fn refresh_from_cookie(
    req: &HttpRequest,
    state: &AuthState,
    data: &RequestData,
) -> Result<Option<String>, ApiError> {
    let ra = &state.settings.rest_auth;
    let Some(name) = ra.jwt_auth_refresh_cookie.as_deref() else {
        return Ok(None);
    };
    let in_body = match &data.0 {
        Value::Object(fields) => fields
            .get("refresh")
            .is_some_and(|v| v.as_str() != Some("")),
        _ => true,
    };
    if in_body {
        return Ok(None);
    }
    let raw = read(req, name).ok_or_else(|| ApiError::AuthenticationFailedCode {
        detail: "No valid refresh token found.".into(),
        code: "token_not_valid",
    })?;
    if ra.jwt_auth_cookie_use_csrf {
        csrf::enforce(req, &state.settings.csrf_trusted_origins)?;
    }
    Ok(Some(raw))
}

/// TokenRefreshView with dj-rest-auth's cookies: the new access token (and the rotated refresh
/// token) in their cookies; an HttpOnly refresh cookie keeps the rotated token out of the body.
/// A CSRF cookie is set if the browser has none.
pub fn refreshed_response(
    req: &HttpRequest,
    state: &AuthState,
    refreshed: Refreshed,
) -> Result<HttpResponse, ApiError> {
    let ra = &state.settings.rest_auth;
    let mut jar = Jar::new(ra, state.jwt());
    jar.access(&refreshed.access);
    let mut body = Map::new();
    body.insert("access".into(), json!(refreshed.access));
    if let Some(rotated) = &refreshed.refresh {
        jar.refresh(rotated);
        if !(ra.jwt_auth_refresh_cookie.is_some() && ra.jwt_auth_httponly) {
            body.insert("refresh".into(), json!(rotated));
        }
    }
    if ra.uses_cookies() && ra.jwt_auth_cookie_use_csrf && read(req, CSRF_COOKIE).is_none() {
        jar.csrf(&new_csrf_secret());
    }
    if ra.jwt_auth_return_expiration {
        let jwt = state.jwt();
        body.insert(
            "access_expiration".into(),
            expiration(jwt.access_token_lifetime),
        );
        if refreshed.refresh.is_some() {
            body.insert(
                "refresh_expiration".into(),
                expiration(jwt.refresh_token_lifetime),
            );
        }
    }
    let mut res = HttpResponse::Ok().json(Value::Object(body));
    jar.apply(&mut res)?;
    Ok(res)
}

/// dj-rest-auth's LogoutView: blacklists the refresh token of the refresh cookie (which, with
/// JWT_AUTH_COOKIE_USE_CSRF, needs a passing CSRF check) or else of the body's `refresh`, and
/// clears both token cookies, also when the token is refused (the browser is logged out either
/// way). No token at all is dj-rest-auth's 401 "Refresh token was not included in request data."
pub async fn logout(
    req: &HttpRequest,
    state: &AuthState,
    data: &RequestData,
) -> Result<HttpResponse, ApiError> {
    let ra = &state.settings.rest_auth;
    let cookie = ra
        .jwt_auth_refresh_cookie
        .as_deref()
        .and_then(|name| read(req, name));
    if cookie.is_some() && ra.jwt_auth_cookie_use_csrf {
        csrf::enforce(req, &state.settings.csrf_trusted_origins)?;
    }
    let from_body = || {
        data.0
            .get("refresh")
            .and_then(Value::as_str)
            .filter(|raw| !raw.trim().is_empty())
            .map(str::to_owned)
    };
    let outcome = match cookie.or_else(from_body) {
        Some(raw) => service::blacklist_token(state, raw).await,
        None => Err(ApiError::AuthenticationFailedCode {
            detail: "Refresh token was not included in request data.".into(),
            code: "token_not_valid",
        }),
    };
    let mut res = match outcome {
        Ok(()) => HttpResponse::Ok().json(json!({ "detail": "Successfully logged out." })),
        // The server's own failures are not the client's logout: no cookie is cleared.
        Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => return Err(e),
        Err(refused) => refused.error_response(),
    };
    cleared(state, &mut res)?;
    Ok(res)
}

/// Expires both token cookies on `res` (nothing when no cookie is configured).
pub fn cleared(state: &AuthState, res: &mut HttpResponse) -> Result<(), ApiError> {
    Jar::new(&state.settings.rest_auth, state.jwt())
        .clear()
        .apply(res)
}

/// dj-rest-auth's `*_expiration`: now plus the lifetime, as DRF writes a datetime.
fn expiration(lifetime: Duration) -> Value {
    later(lifetime).map_or(Value::Null, |at| {
        json!(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
    })
}

/// Now plus `after`, if chrono can represent it (lifetimes are settings: never panic on them).
fn later(after: Duration) -> Option<chrono::DateTime<chrono::Utc>> {
    let delta = chrono::TimeDelta::from_std(after).ok()?;
    chrono::Utc::now().checked_add_signed(delta)
}

/// The cookies one response sets or clears, per the `[REST_AUTH]` settings.
pub struct Jar<'a> {
    rest_auth: &'a RestAuth,
    jwt: &'a SimpleJwt,
    values: Vec<String>,
}

impl<'a> Jar<'a> {
    pub fn new(rest_auth: &'a RestAuth, jwt: &'a SimpleJwt) -> Self {
        Jar {
            rest_auth,
            jwt,
            values: Vec::new(),
        }
    }

    /// dj-rest-auth's `set_jwt_access_cookie`: the access token for its lifetime, on every path.
    pub fn access(&mut self, token: &str) -> &mut Self {
        if let Some(name) = &self.rest_auth.jwt_auth_cookie {
            let line = self.line(name, token, "/", Some(self.jwt.access_token_lifetime), true);
            self.values.push(line);
        }
        self
    }

    /// dj-rest-auth's `set_jwt_refresh_cookie`: the refresh token for its lifetime, sent only to
    /// `JWT_AUTH_REFRESH_COOKIE_PATH`.
    pub fn refresh(&mut self, token: &str) -> &mut Self {
        if let Some(name) = &self.rest_auth.jwt_auth_refresh_cookie {
            let path = &self.rest_auth.jwt_auth_refresh_cookie_path;
            let line = self.line(
                name,
                token,
                path,
                Some(self.jwt.refresh_token_lifetime),
                true,
            );
            self.values.push(line);
        }
        self
    }

    /// Django's CSRF cookie: readable by scripts (they must copy it into `X-CSRFToken`).
    pub fn csrf(&mut self, secret: &str) -> &mut Self {
        let line = self.line(CSRF_COOKIE, secret, "/", Some(CSRF_COOKIE_AGE), false);
        self.values.push(line);
        self
    }

    /// dj-rest-auth's `unset_jwt_cookies`: both token cookies expired, with the path and domain
    /// they were set with (a browser keeps a cookie whose path or domain does not match).
    pub fn clear(&mut self) -> &mut Self {
        let ra = self.rest_auth;
        if let Some(name) = &ra.jwt_auth_cookie {
            let line = self.line(name, "", "/", None, true);
            self.values.push(line);
        }
        if let Some(name) = &ra.jwt_auth_refresh_cookie {
            let line = self.line(name, "", &ra.jwt_auth_refresh_cookie_path, None, true);
            self.values.push(line);
        }
        self
    }

    /// Appends the collected `Set-Cookie` headers to `res`.
    pub fn apply(&self, res: &mut HttpResponse) -> Result<(), ApiError> {
        for line in &self.values {
            let value = HeaderValue::from_str(line).map_err(ApiError::internal)?;
            res.headers_mut().append(SET_COOKIE, value);
        }
        Ok(())
    }

    /// The `Set-Cookie` values collected so far.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// One `Set-Cookie` value; `max_age` `None` expires the cookie now (Django's `delete_cookie`).
    fn line(
        &self,
        name: &str,
        value: &str,
        path: &str,
        max_age: Option<Duration>,
        token: bool,
    ) -> String {
        let ra = self.rest_auth;
        let mut line = format!("{name}={value}; Path={path}");
        match max_age {
            Some(age) => {
                line.push_str(&format!("; Max-Age={}", age.as_secs()));
                // For clients older than Max-Age; a lifetime past chrono's range goes without.
                if let Some(expires) = later(age) {
                    let date = expires.format("%a, %d %b %Y %H:%M:%S GMT");
                    line.push_str(&format!("; Expires={date}"));
                }
            }
            None => line.push_str(&format!("; Max-Age=0; Expires={EPOCH}")),
        }
        if let Some(domain) = &ra.jwt_auth_cookie_domain {
            line.push_str(&format!("; Domain={domain}"));
        }
        if ra.jwt_auth_secure {
            line.push_str("; Secure");
        }
        // The CSRF cookie is never HttpOnly: the page's script must read it.
        if token && ra.jwt_auth_httponly {
            line.push_str("; HttpOnly");
        }
        line.push_str(&format!("; SameSite={}", ra.jwt_auth_samesite));
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn settings(pairs: &[(&str, &str)]) -> settings::Settings {
        let mut env = vec![(
            "SECRET_KEY".to_owned(),
            "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z".to_owned(),
        )];
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        settings::Settings::from_sources(None, &env).unwrap()
    }

    #[test]
    fn reads_the_first_non_empty_cookie_of_a_name() {
        let req = TestRequest::default()
            .insert_header((COOKIE, "a=1; access=tok.en.x ; b=\"q\""))
            .to_http_request();
        assert_eq!(read(&req, "access").as_deref(), Some("tok.en.x"));
        assert_eq!(read(&req, "b").as_deref(), Some("q"));
        assert_eq!(read(&req, "acc"), None);
        let req = TestRequest::default()
            .insert_header((COOKIE, "access=; access2=x"))
            .to_http_request();
        assert_eq!(read(&req, "access"), None);
        let req = TestRequest::default()
            .insert_header((COOKIE, "r=specific; r=planted"))
            .to_http_request();
        assert_eq!(read(&req, "r").as_deref(), Some("specific"));
    }

    #[test]
    fn attributes_follow_the_settings() {
        let s = settings(&[
            ("REST_AUTH__JWT_AUTH_COOKIE", "access"),
            ("REST_AUTH__JWT_AUTH_REFRESH_COOKIE", "refresh"),
            ("REST_AUTH__JWT_AUTH_COOKIE_DOMAIN", ".example.com"),
            ("REST_AUTH__JWT_AUTH_SAMESITE", "Strict"),
        ]);
        let mut jar = Jar::new(&s.rest_auth, &s.simple_jwt);
        jar.access("A").refresh("R").csrf("C").clear();
        let v = jar.values();
        assert_eq!(v.len(), 5);
        assert!(
            v[0].starts_with("access=A; Path=/; Max-Age=300; Expires="),
            "{}",
            v[0]
        );
        assert!(v[0].ends_with(" GMT; Domain=.example.com; Secure; HttpOnly; SameSite=Strict"));
        assert!(v[1].starts_with("refresh=R; Path=/api/token/; Max-Age=86400;"));
        assert!(v[2].starts_with("csrftoken=C; Path=/; Max-Age=31449600;"));
        assert!(!v[2].contains("HttpOnly"), "scripts read the CSRF cookie");
        assert_eq!(v[3], "access=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=.example.com; Secure; HttpOnly; SameSite=Strict");
        assert!(v[4].starts_with("refresh=; Path=/api/token/; Max-Age=0;"));

        let off = settings(&[]);
        let mut jar = Jar::new(&off.rest_auth, &off.simple_jwt);
        jar.access("A").refresh("R").clear();
        assert!(jar.values().is_empty(), "no cookie is named by default");
    }

    #[test]
    fn csrf_secrets_are_random_alphanumerics() {
        let (a, b) = (new_csrf_secret(), new_csrf_secret());
        assert_eq!(a.len(), CSRF_SECRET_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
