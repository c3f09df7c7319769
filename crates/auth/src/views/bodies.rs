//! The JSON bodies of the token views that hand out tokens, as simplejwt writes them and, with
//! dj-rest-auth's cookies on, as dj-rest-auth does: the same body whether cookies are on or off,
//! less the refresh token an HttpOnly cookie carries, plus the `*_expiration` fields when
//! JWT_AUTH_RETURN_EXPIRATION asks for them. The views serialize these types, and the OpenAPI
//! document describes them (as `Pair` and `Refreshed`).

use std::time::Duration;

use crate::state::AuthState;
use crate::views::cookies;
use crate::views::service::{Pair, Refreshed};

/// TokenObtainPairView's body: simplejwt's pair; with an HttpOnly refresh cookie `"refresh":
/// ""`, as dj-rest-auth's LoginView.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Pair)]
pub struct PairBody {
    pub refresh: String,
    pub access: String,
    /// With JWT_AUTH_RETURN_EXPIRATION: when the access token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub access_expiration: Option<Expiration>,
    /// With JWT_AUTH_RETURN_EXPIRATION: when the refresh token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub refresh_expiration: Option<Expiration>,
}

/// TokenRefreshView's body: the new access token, and the rotated refresh token (when
/// ROTATE_REFRESH_TOKENS) unless an HttpOnly cookie carries it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Refreshed)]
pub struct RefreshedBody {
    pub access: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// With JWT_AUTH_RETURN_EXPIRATION: when the access token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub access_expiration: Option<Expiration>,
    /// With JWT_AUTH_RETURN_EXPIRATION and a rotated refresh token: when it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub refresh_expiration: Option<Expiration>,
}

/// dj-rest-auth's `*_expiration`: now plus the lifetime, as DRF writes a datetime; `null` past
/// the last date chrono can represent.
pub type Expiration = Option<String>;

pub fn pair(state: &AuthState, pair: &Pair) -> PairBody {
    let hidden = cookies::hides_refresh(&state.settings.rest_auth);
    let (access_expiration, refresh_expiration) = expirations(state, true);
    PairBody {
        refresh: if hidden {
            String::new()
        } else {
            pair.refresh.clone()
        },
        access: pair.access.clone(),
        access_expiration,
        refresh_expiration,
    }
}

pub fn refreshed(state: &AuthState, refreshed: &Refreshed) -> RefreshedBody {
    let hidden = cookies::hides_refresh(&state.settings.rest_auth);
    let (access_expiration, refresh_expiration) = expirations(state, refreshed.refresh.is_some());
    RefreshedBody {
        access: refreshed.access.clone(),
        refresh: refreshed.refresh.clone().filter(|_| !hidden),
        access_expiration,
        refresh_expiration,
    }
}

/// dj-rest-auth's JWT_AUTH_RETURN_EXPIRATION: `access_expiration`, and `refresh_expiration` when
/// the response hands out a refresh token.
fn expirations(state: &AuthState, with_refresh: bool) -> (Option<Expiration>, Option<Expiration>) {
    if !state.settings.rest_auth.jwt_auth_return_expiration {
        return (None, None);
    }
    let jwt = state.jwt();
    let refresh = with_refresh.then(|| expiration(jwt.refresh_token_lifetime));
    (Some(expiration(jwt.access_token_lifetime)), refresh)
}

fn expiration(lifetime: Duration) -> Expiration {
    later(lifetime).map(|at| at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// Now plus `after`, if chrono can represent it (lifetimes are settings: never panic on them).
fn later(after: Duration) -> Option<chrono::DateTime<chrono::Utc>> {
    let delta = chrono::TimeDelta::from_std(after).ok()?;
    chrono::Utc::now().checked_add_signed(delta)
}
