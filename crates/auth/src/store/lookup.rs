//! Finding the user a token names, and the rule for whether that user may authenticate: written
//! once for authentication and for refresh.

use serde_json::Value;

use settings::{SimpleJwt, UserIdField};
use users::tx::UserLock;
use users::{DbConnection, User};

/// The user id claim could not name a user: absent, or of a type/shape no user id has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrecognizable;

/// What a token's user id claim names, in the terms of USER_ID_FIELD.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserKey {
    Id(i32),
    Username(String),
}

impl UserKey {
    /// The key a claim value names; `None` when no user of USER_ID_FIELD can have it (a
    /// non-numeric id, a username that is not a string).
    pub fn from_claim(settings: &SimpleJwt, claim: &Value) -> Option<UserKey> {
        match settings.user_id_field {
            UserIdField::Id => id_from_claim(claim).map(UserKey::Id),
            UserIdField::Username => match claim {
                Value::String(name) => Some(UserKey::Username(name.clone())),
                _ => None,
            },
        }
    }
}

/// Looks up the user named by a user id claim value (`"1"` or `1` for USER_ID_FIELD = id).
/// `Ok(None)` when no such user exists; a value that cannot be an id of that field finds nobody.
pub fn user_for_claim(
    conn: &mut DbConnection,
    settings: &SimpleJwt,
    claim: &Value,
) -> diesel::QueryResult<Option<User>> {
    match UserKey::from_claim(settings, claim) {
        Some(key) => user_by_key(conn, &key),
        None => Ok(None),
    }
}

/// The user a key names, if any.
pub fn user_by_key(conn: &mut DbConnection, key: &UserKey) -> diesel::QueryResult<Option<User>> {
    match key {
        UserKey::Id(id) => users::queries::by_id(conn, *id),
        UserKey::Username(name) => users::queries::by_username(conn, name),
    }
}

/// `user_for_claim` inside a write transaction, holding the user's row under `lock` (see
/// `users::tx`): what a rotation or a slide decides from the row stays true until it commits.
pub fn user_for_claim_locked(
    conn: &mut DbConnection,
    settings: &SimpleJwt,
    claim: &Value,
    lock: UserLock,
) -> diesel::QueryResult<Option<User>> {
    match UserKey::from_claim(settings, claim) {
        Some(UserKey::Id(id)) => users::tx::user_by_id(conn, id, lock),
        Some(UserKey::Username(name)) => users::tx::user_by_username(conn, &name, lock),
        None => Ok(None),
    }
}

/// `"1"` and `1` both name user 1 (simplejwt 5.5.1 writes strings, older versions integers).
pub fn id_from_claim(claim: &Value) -> Option<i32> {
    match claim {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        _ => None,
    }
}

/// simplejwt's default USER_AUTHENTICATION_RULE: active, unless CHECK_USER_IS_ACTIVE is off.
pub fn may_authenticate(settings: &SimpleJwt, user: &User) -> bool {
    user.is_active || !settings.check_user_is_active
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(pairs: &[(&str, &str)]) -> SimpleJwt {
        let mut env = vec![(
            "SECRET_KEY".to_owned(),
            "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z".to_owned(),
        )];
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        settings::Settings::from_sources(None, &env)
            .expect("settings")
            .simple_jwt
    }

    #[test]
    fn user_id_claims_as_string_or_number() {
        assert_eq!(id_from_claim(&json!("1")), Some(1));
        assert_eq!(id_from_claim(&json!(1)), Some(1));
        for bad in [
            json!("abc"),
            json!(1.5),
            json!(true),
            json!(null),
            json!([1]),
            json!(1u64 << 40),
            json!(""),
        ] {
            assert_eq!(id_from_claim(&bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_follow_user_id_field() {
        let by_id = jwt(&[]);
        assert_eq!(
            UserKey::from_claim(&by_id, &json!("12")),
            Some(UserKey::Id(12))
        );
        assert_eq!(
            UserKey::from_claim(&by_id, &json!(12)),
            Some(UserKey::Id(12))
        );
        assert_eq!(UserKey::from_claim(&by_id, &json!("ann")), None);
        let jwt = jwt(&[("SIMPLE_JWT__USER_ID_FIELD", "username")]);
        assert_eq!(
            UserKey::from_claim(&jwt, &json!("ann")),
            Some(UserKey::Username("ann".into()))
        );
        assert_eq!(UserKey::from_claim(&jwt, &json!(12)), None);
    }
}
