//! Who made a request: DRF's `request.user` and `request.auth`, as the authentication classes
//! find them.

use serde_json::Value;
use users::User;

use crate::limits::throttle::RequestUser;
use crate::tokens::Token;

/// Who made the request: a database user (JWTAuthentication) or a user made from the token's
/// claims alone (JWTStatelessUserAuthentication, no database).
#[derive(Debug, Clone)]
pub enum AuthUser {
    User(User),
    Token(TokenUser),
}

/// simplejwt's TokenUser: what the claims say, nothing looked up.
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub id: Value,
    pub token: Token,
}

impl AuthUser {
    pub fn is_staff(&self) -> bool {
        match self {
            AuthUser::User(u) => u.is_staff,
            AuthUser::Token(t) => {
                t.token.claims.get("is_staff").and_then(Value::as_bool) == Some(true)
            }
        }
    }
}

/// An authenticated request: the user, and the token that proved it (`None` for Basic).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: AuthUser,
    pub token: Option<Token>,
}

impl RequestUser for AuthUser {
    /// `request.user.pk`: the row's id, or the stateless user's id claim (a string as it is,
    /// anything else as JSON).
    fn pk(&self) -> String {
        match self {
            AuthUser::User(u) => u.id.to_string(),
            AuthUser::Token(t) => match &t.id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        }
    }
}
