//! dj-rest-auth's JWT cookie transport (`REST_AUTH.JWT_AUTH_*`): the `Set-Cookie` headers that
//! carry the tokens and the CSRF cookie, the expired ones that clear them, reading a cookie back
//! from a request, and what the obtain, refresh and logout views answer with cookies on.
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
use actix_web::http::header::COOKIE;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Map, Value};
use settings::{RestAuth, SimpleJwt};

use crate::api::{ApiError, RequestData};
use crate::authn::csrf;
use crate::state::AuthState;
use crate::views::service::{self, Pair, Refreshed};

/// Django's `CSRF_COOKIE_NAME`: scripts read it and send it back as `X-CSRFToken`.
pub const CSRF_COOKIE: &str = "csrftoken";
/// Django's `CSRF_COOKIE_AGE`: a year, in seconds.
const CSRF_COOKIE_AGE: Duration = Duration::from_secs(31_449_600);
/// Django's CSRF secrets: 32 ASCII letters and digits.
pub const CSRF_SECRET_LENGTH: usize = 32;
/// The `Expires` of Django's `delete_cookie` (`Thu, 01 Jan 1970 00:00:00 GMT`), with `Max-Age=0`.
const EPOCH: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

/// The value of cookie `name` in the request, if present and not empty (an empty value counts as
/// absent). With several cookies of one name (a sibling subdomain can plant one), the first
/// non-empty one wins: browsers send the one with the most specific path first.
///
/// Each `;`-separated pair is parsed by [`Cookie::parse`], which trims it and strips one pair of
/// surrounding double quotes from the value, as Django's `parse_cookie`. What it refuses (a pair
/// without `=`, an empty name) is skipped, as is a `Cookie` header that is not UTF-8: a malformed
/// header is never an error. Values are not percent-decoded, as Django's are not.
///
/// Not [`HttpRequest::cookie`]: that one returns the first cookie of the name even when it is
/// empty, percent-decodes (dropping a pair whose decoded value is not UTF-8), gives up on every
/// header when one is not UTF-8, and caches its parse in the request's extensions with
/// `extensions_mut()`, which panics while a caller holds `req.connection_info()` (as
/// `csrf::enforce` does around this call).
pub fn read(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|header| std::str::from_utf8(header.as_bytes()).ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| Cookie::parse(pair).ok())
        .filter(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
        .find(|value| !value.is_empty())
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
    insert_expirations(state, &mut body, true);
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
    insert_expirations(state, &mut body, refreshed.refresh.is_some());
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

/// dj-rest-auth's JWT_AUTH_RETURN_EXPIRATION: `access_expiration` in `body`, and
/// `refresh_expiration` when the response hands out a refresh token.
fn insert_expirations(state: &AuthState, body: &mut Map<String, Value>, with_refresh: bool) {
    if !state.settings.rest_auth.jwt_auth_return_expiration {
        return;
    }
    let jwt = state.jwt();
    let mut insert = |field: &str, lifetime| {
        body.insert(field.into(), expiration(lifetime));
    };
    insert("access_expiration", jwt.access_token_lifetime);
    if with_refresh {
        insert("refresh_expiration", jwt.refresh_token_lifetime);
    }
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
    use actix_web::test::TestRequest;

    fn settings(pairs: &[(&str, &str)]) -> settings::Settings {
        let mut env = vec![(
            "SECRET_KEY".to_owned(),
            "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z".to_owned(),
        )];
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        settings::Settings::from_sources(None, &env).unwrap()
    }

    fn request(headers: &[&[u8]]) -> HttpRequest {
        let mut req = TestRequest::default();
        for header in headers {
            let value = actix_web::http::header::HeaderValue::from_bytes(header).unwrap();
            req = req.append_header((COOKIE, value));
        }
        req.to_http_request()
    }

    #[test]
    fn reads_the_first_non_empty_cookie_of_a_name() {
        let req = request(&[b"a=1; access=tok.en.x ; b=\"q\"; c=\"\""]);
        assert_eq!(read(&req, "access").as_deref(), Some("tok.en.x"));
        assert_eq!(
            read(&req, "b").as_deref(),
            Some("q"),
            "one pair of quotes goes"
        );
        assert_eq!(read(&req, "c"), None, "empty inside its quotes");
        assert_eq!(read(&req, "acc"), None);
        let req = request(&[b"access=; access2=x"]);
        assert_eq!(read(&req, "access"), None, "empty means absent");
        assert_eq!(read(&req, "access2").as_deref(), Some("x"));
        // Several cookies of one name: the first non-empty one, also across headers (HTTP/2
        // clients may send one `Cookie` header per cookie).
        let req = request(&[b"r=specific; r=planted"]);
        assert_eq!(read(&req, "r").as_deref(), Some("specific"));
        let req = request(&[b"r=; r=second"]);
        assert_eq!(read(&req, "r").as_deref(), Some("second"));
        let req = request(&[b"r=", b"r=second", b"r=third"]);
        assert_eq!(read(&req, "r").as_deref(), Some("second"));
        // actix's own lookup stops at the first of the name, empty or not.
        assert_eq!(
            req.cookie("r").map(|c| c.value().to_owned()).as_deref(),
            Some("")
        );
    }

    #[test]
    fn malformed_cookies_are_skipped_not_errors() {
        // Pairs the cookie crate refuses (no `=`, an empty name, nothing) are skipped; the rest
        // is read, including a value that is not valid percent-encoding (read raw, as Django).
        let req = request(&[b"junk; =x; ;; access=tok; b=%zz%FF; c=a=b"]);
        assert_eq!(read(&req, "access").as_deref(), Some("tok"));
        assert_eq!(read(&req, "b").as_deref(), Some("%zz%FF"));
        assert_eq!(read(&req, "c").as_deref(), Some("a=b"));
        assert_eq!(read(&req, "junk"), None);
        assert_eq!(read(&req, ""), None);
        // actix's lookup percent-decodes, and drops what does not decode to UTF-8.
        assert!(req.cookie("b").is_none());
        assert_eq!(req.cookie("access").unwrap().value(), "tok");

        // A header that is not UTF-8 is skipped; the others still count. actix's lookup gives
        // up on every header then.
        let req = request(&[b"a=\xff\xfe; access=lost", b"refresh=kept"]);
        assert_eq!(read(&req, "access"), None);
        assert_eq!(read(&req, "refresh").as_deref(), Some("kept"));
        assert!(req.cookie("refresh").is_none());
        // UTF-8 beyond ASCII is fine.
        let req = request(&["note=café; access=tok".as_bytes()]);
        assert_eq!(read(&req, "note").as_deref(), Some("café"));
        assert_eq!(read(&request(&[]), "access"), None);
    }

    #[test]
    fn reads_while_the_connection_info_is_borrowed() {
        // `csrf::enforce` holds `req.connection_info()` (a borrow of the request's extensions)
        // while it reads the CSRF cookie; `HttpRequest::cookies()` would panic here, as it
        // caches its parse with `extensions_mut()`.
        let req = request(&[b"csrftoken=abc"]);
        let info = req.connection_info();
        assert_eq!(read(&req, CSRF_COOKIE).as_deref(), Some("abc"));
        drop(info);
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

    #[test]
    fn csrf_secrets_are_random_alphanumerics() {
        let (a, b) = (new_csrf_secret(), new_csrf_secret());
        assert_eq!(a.len(), CSRF_SECRET_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
