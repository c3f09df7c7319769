//! dj-rest-auth's JWT cookie transport (`REST_AUTH.JWT_AUTH_*`): the `Set-Cookie` headers that
//! carry the tokens and the CSRF cookie, the expired ones that clear them, which cookies the
//! obtain and refresh views set, and dj-rest-auth's logout.
//!
//! Cookies are parsed and formatted by the `cookie` crate (actix-web's `cookies` feature,
//! re-exported as `actix_web::cookie`): [`Cookie::parse`] reads each pair of a request's `Cookie`
//! headers, and [`Jar`] builds each `Set-Cookie` with a
//! [`CookieBuilder`](actix_web::cookie::CookieBuilder) and adds it with
//! [`HttpResponse::add_cookie`]. The crate writes the attributes in its own order (`HttpOnly;
//! SameSite; Secure; Path; Domain; Max-Age; Expires`; Django sorts them by name); browsers read
//! them in any order.

use std::time::Duration;

use actix_web::cookie::time::{self, OffsetDateTime};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::Value;
use settings::{RestAuth, SimpleJwt};

use crate::api::request::cookie as read;
use crate::api::{ApiError, RequestData};
use crate::authn::challenge;
use crate::authn::csrf::{self, new_csrf_secret, CSRF_COOKIE};
use crate::state::AuthState;
use crate::views::schema::ErrorDetail;
use crate::views::service::{self, Pair, Refreshed};

/// Django's `CSRF_COOKIE_AGE`: a year, in seconds.
const CSRF_COOKIE_AGE: Duration = Duration::from_secs(31_449_600);
/// The `Expires` of Django's `delete_cookie` (`Thu, 01 Jan 1970 00:00:00 GMT`), with `Max-Age=0`.
const EPOCH: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

/// dj-rest-auth's LoginView cookies of TokenObtainPairView: the access and refresh cookies and a
/// new CSRF secret (Django rotates it at login).
pub fn pair_cookies<'a>(state: &'a AuthState, pair: &Pair) -> Jar<'a> {
    let ra = &state.settings.rest_auth;
    let mut jar = Jar::new(ra, state.jwt());
    jar.access(&pair.access).refresh(&pair.refresh);
    if ra.uses_cookies() && ra.jwt_auth_cookie_use_csrf {
        jar.csrf(&new_csrf_secret());
    }
    jar
}

/// With an HttpOnly refresh cookie the body must not carry the refresh token (dj-rest-auth's
/// LoginView and refresh view): a script must not be able to read it.
pub fn hides_refresh(ra: &RestAuth) -> bool {
    ra.jwt_auth_refresh_cookie.is_some() && ra.jwt_auth_httponly
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
/// token) in their cookies. A CSRF cookie is set if the browser has none.
pub fn refreshed_cookies<'a>(
    req: &HttpRequest,
    state: &'a AuthState,
    refreshed: &Refreshed,
) -> Jar<'a> {
    let ra = &state.settings.rest_auth;
    let mut jar = Jar::new(ra, state.jwt());
    jar.access(&refreshed.access);
    if let Some(rotated) = &refreshed.refresh {
        jar.refresh(rotated);
    }
    if ra.uses_cookies() && ra.jwt_auth_cookie_use_csrf && read(req, CSRF_COOKIE).is_none() {
        jar.csrf(&new_csrf_secret());
    }
    jar
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
        Ok(()) => HttpResponse::Ok().json(ErrorDetail::detail("Successfully logged out.")),
        // The server's own failures are not the client's logout: no cookie is cleared.
        Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => return Err(e),
        Err(refused) => challenge::token_view(state, refused).error_response(),
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

/// The cookies one response sets or clears, per the `[REST_AUTH]` settings.
pub struct Jar<'a> {
    rest_auth: &'a RestAuth,
    jwt: &'a SimpleJwt,
    cookies: Vec<Cookie<'static>>,
}

impl<'a> Jar<'a> {
    pub fn new(rest_auth: &'a RestAuth, jwt: &'a SimpleJwt) -> Self {
        Jar {
            rest_auth,
            jwt,
            cookies: Vec::new(),
        }
    }

    /// dj-rest-auth's `set_jwt_access_cookie`: the access token for its lifetime, on every path.
    pub fn access(&mut self, token: &str) -> &mut Self {
        if let Some(name) = &self.rest_auth.jwt_auth_cookie {
            let lifetime = self.jwt.access_token_lifetime;
            self.add(name, token, "/", Some(lifetime), true);
        }
        self
    }

    /// dj-rest-auth's `set_jwt_refresh_cookie`: the refresh token for its lifetime, sent only to
    /// `JWT_AUTH_REFRESH_COOKIE_PATH`.
    pub fn refresh(&mut self, token: &str) -> &mut Self {
        let ra = self.rest_auth;
        if let Some(name) = &ra.jwt_auth_refresh_cookie {
            let lifetime = self.jwt.refresh_token_lifetime;
            self.add(
                name,
                token,
                &ra.jwt_auth_refresh_cookie_path,
                Some(lifetime),
                true,
            );
        }
        self
    }

    /// Django's CSRF cookie: readable by scripts (they must copy it into `X-CSRFToken`).
    pub fn csrf(&mut self, secret: &str) -> &mut Self {
        self.add(CSRF_COOKIE, secret, "/", Some(CSRF_COOKIE_AGE), false);
        self
    }

    /// dj-rest-auth's `unset_jwt_cookies`: both token cookies expired, with the path and domain
    /// they were set with (a browser keeps a cookie whose path or domain does not match).
    pub fn clear(&mut self) -> &mut Self {
        let ra = self.rest_auth;
        if let Some(name) = &ra.jwt_auth_cookie {
            self.add(name, "", "/", None, true);
        }
        if let Some(name) = &ra.jwt_auth_refresh_cookie {
            self.add(name, "", &ra.jwt_auth_refresh_cookie_path, None, true);
        }
        self
    }

    /// Adds the collected cookies to `res`, one `Set-Cookie` header each.
    pub fn apply(&self, res: &mut HttpResponse) -> Result<(), ApiError> {
        for cookie in &self.cookies {
            res.add_cookie(cookie).map_err(ApiError::internal)?;
        }
        Ok(())
    }

    /// The cookies collected so far.
    pub fn cookies(&self) -> &[Cookie<'static>] {
        &self.cookies
    }

    /// The `Set-Cookie` values collected so far.
    pub fn values(&self) -> Vec<String> {
        self.cookies.iter().map(Cookie::to_string).collect()
    }

    /// Collects one cookie; `max_age` `None` expires it now, as Django's `delete_cookie`
    /// (`Max-Age=0` and an `Expires` at the epoch).
    fn add(&mut self, name: &str, value: &str, path: &str, max_age: Option<Duration>, token: bool) {
        let ra = self.rest_auth;
        let (max_age, expires) = match max_age {
            Some(age) => {
                // Lifetimes are settings: saturate rather than panic on the longest ones. The
                // crate caps `Expires` at the end of 9999 (RFC 6265's latest date).
                let seconds = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
                let age = time::Duration::seconds(seconds);
                (age, OffsetDateTime::now_utc().saturating_add(age))
            }
            None => (time::Duration::ZERO, EPOCH),
        };
        let mut cookie = Cookie::build(name.to_owned(), value.to_owned())
            .path(path.to_owned())
            .max_age(max_age)
            .expires(expires)
            // Always set, so that `SameSite=None` does not bring the crate's implicit `Secure`.
            .secure(ra.jwt_auth_secure)
            // The CSRF cookie is never HttpOnly: the page's script must read it.
            .http_only(token && ra.jwt_auth_httponly)
            .same_site(same_site(ra.jwt_auth_samesite));
        if let Some(domain) = &ra.jwt_auth_cookie_domain {
            cookie = cookie.domain(domain.clone());
        }
        self.cookies.push(cookie.finish());
    }
}

/// `JWT_AUTH_SAMESITE` as the cookie crate's attribute.
fn same_site(setting: settings::SameSite) -> SameSite {
    match setting {
        settings::SameSite::Lax => SameSite::Lax,
        settings::SameSite::Strict => SameSite::Strict,
        settings::SameSite::None => SameSite::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> settings::Settings {
        let mut env = vec![(
            "SECRET_KEY".to_owned(),
            "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z".to_owned(),
        )];
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        settings::Settings::from_sources(None, &env).unwrap()
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
        let c = jar.cookies();
        assert_eq!(c.len(), 5);
        let expected = [
            ("access", "A", "/", 300, true),
            ("refresh", "R", "/api/token/", 86_400, true),
            // Scripts read the CSRF cookie.
            ("csrftoken", "C", "/", 31_449_600, false),
            ("access", "", "/", 0, true),
            ("refresh", "", "/api/token/", 0, true),
        ];
        let now = OffsetDateTime::now_utc();
        for (cookie, (name, value, path, max_age, http_only)) in c.iter().zip(expected) {
            assert_eq!(
                (cookie.name(), cookie.value(), cookie.path()),
                (name, value, Some(path))
            );
            assert_eq!(cookie.max_age(), Some(time::Duration::seconds(max_age)));
            assert_eq!(cookie.domain(), Some(".example.com"));
            assert_eq!(cookie.secure(), Some(true));
            assert_eq!(cookie.http_only(), Some(http_only));
            assert_eq!(cookie.same_site(), Some(SameSite::Strict));
            let expires = cookie.expires_datetime().expect("Expires");
            if max_age == 0 {
                assert_eq!(expires, EPOCH);
            } else {
                let off = expires - now - time::Duration::seconds(max_age);
                assert!(off.abs() <= time::Duration::seconds(5), "{cookie}");
            }
        }
        // As written: the crate's attribute order, Django's values.
        let v = jar.values();
        assert_eq!(v[3], "access=; HttpOnly; SameSite=Strict; Secure; Path=/; Domain=.example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert!(
            v[0].starts_with("access=A; HttpOnly; SameSite=Strict; Secure; Path=/; Domain=.example.com; Max-Age=300; Expires="),
            "{}",
            v[0]
        );
        assert!(v[0].ends_with(" GMT"), "{}", v[0]);
        assert!(!v[2].contains("HttpOnly"), "{}", v[2]);

        let off = settings(&[]);
        let mut jar = Jar::new(&off.rest_auth, &off.simple_jwt);
        jar.access("A").refresh("R").clear();
        assert!(jar.values().is_empty(), "no cookie is named by default");
    }

    #[test]
    fn same_site_none_without_secure_stays_without_secure() {
        // As Django writes it (`manage check --deploy` warns about it); the cookie crate would
        // add `Secure` to `SameSite=None` if `secure` were left unset.
        let s = settings(&[
            ("REST_AUTH__JWT_AUTH_COOKIE", "access"),
            ("REST_AUTH__JWT_AUTH_SECURE", "false"),
            ("REST_AUTH__JWT_AUTH_HTTPONLY", "false"),
            ("REST_AUTH__JWT_AUTH_SAMESITE", "None"),
        ]);
        let mut jar = Jar::new(&s.rest_auth, &s.simple_jwt);
        jar.access("A").clear();
        for line in jar.values() {
            assert!(line.contains("; SameSite=None"), "{line}");
            assert!(!line.contains("Secure"), "{line}");
            assert!(!line.contains("HttpOnly"), "{line}");
            assert!(!line.contains("Domain"), "{line}");
        }
        let lax = settings(&[("REST_AUTH__JWT_AUTH_COOKIE", "access")]);
        let mut jar = Jar::new(&lax.rest_auth, &lax.simple_jwt);
        jar.access("A");
        assert_eq!(jar.cookies()[0].same_site(), Some(SameSite::Lax));
    }

    #[test]
    fn the_longest_lifetimes_saturate() {
        let mut s = settings(&[("REST_AUTH__JWT_AUTH_COOKIE", "access")]);
        s.simple_jwt.access_token_lifetime = Duration::MAX;
        let mut jar = Jar::new(&s.rest_auth, &s.simple_jwt);
        jar.access("A");
        let line = &jar.values()[0];
        assert!(line.contains("; Max-Age=9223372036854775807;"), "{line}");
        assert!(
            line.ends_with("; Expires=Fri, 31 Dec 9999 23:59:59 GMT"),
            "{line}"
        );
    }
}
