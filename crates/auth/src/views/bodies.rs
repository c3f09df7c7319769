//! The JSON bodies of the token views that hand out tokens, as simplejwt writes them and, with
//! dj-rest-auth's cookies on, as dj-rest-auth does: the same body whether cookies are on or off,
//! less the refresh token an HttpOnly cookie carries, plus the `*_expiration` fields when
//! JWT_AUTH_RETURN_EXPIRATION asks for them.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::state::AuthState;
use crate::views::cookies;
use crate::views::service::{Pair, Refreshed};

/// TokenObtainPairView's body; with an HttpOnly refresh cookie `"refresh": ""`, as dj-rest-auth's
/// LoginView.
pub fn pair(state: &AuthState, pair: &Pair) -> Value {
    let mut body = Map::new();
    body.insert("refresh".into(), json!(pair.refresh));
    body.insert("access".into(), json!(pair.access));
    if cookies::hides_refresh(&state.settings.rest_auth) {
        body.insert("refresh".into(), json!(""));
    }
    insert_expirations(state, &mut body, true);
    Value::Object(body)
}

/// TokenRefreshView's body: the new access token, and the rotated refresh token unless an
/// HttpOnly cookie carries it.
pub fn refreshed(state: &AuthState, refreshed: &Refreshed) -> Value {
    let mut body = Map::new();
    body.insert("access".into(), json!(refreshed.access));
    if let Some(rotated) = &refreshed.refresh {
        if !cookies::hides_refresh(&state.settings.rest_auth) {
            body.insert("refresh".into(), json!(rotated));
        }
    }
    insert_expirations(state, &mut body, refreshed.refresh.is_some());
    Value::Object(body)
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
